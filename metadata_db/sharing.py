"""Who may see and change a workflow: its owner, and users it is shared with as viewer or editor."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from metadata_db.errors import InvalidValue, NotFound
from metadata_db.models import SHARE_ROLES, Share, ShareRole, User, Workflow
from metadata_db.workflows import get_workflow

Role = Literal["owner", "editor", "viewer"]


def share(session: Session, workflow_id: str, user_id: str, role: ShareRole) -> Share:
    """Share a workflow with a user, or change the role they already have."""
    if role not in SHARE_ROLES:
        raise InvalidValue(f"role must be one of {', '.join(SHARE_ROLES)}, not '{role}'", field="role")
    workflow = get_workflow(session, workflow_id)
    if session.get(User, user_id) is None:
        raise NotFound("user", user_id)
    if workflow.owner_id == user_id:
        raise InvalidValue("a workflow cannot be shared with its owner", field="user_id")
    found = session.get(Share, (workflow_id, user_id))
    if found is None:
        found = Share(workflow_id=workflow_id, user_id=user_id, role=role)
        session.add(found)
    found.role = role
    session.flush()
    return found


def unshare(session: Session, workflow_id: str, user_id: str) -> None:
    found = session.get(Share, (workflow_id, user_id))
    if found is None:
        raise NotFound("share", f"{workflow_id}/{user_id}")
    session.delete(found)
    session.flush()


def list_shares(session: Session, workflow_id: str) -> list[Share]:
    return list(session.scalars(select(Share).where(Share.workflow_id == workflow_id).order_by(Share.user_id)))


def role_of(session: Session, workflow: Workflow, user_id: str | None) -> Role | None:
    """The user's role on the workflow; ``user_id=None`` is single-user mode, where everyone owns everything."""
    if user_id is None or workflow.owner_id == user_id:
        return "owner"
    found = session.get(Share, (workflow.id, user_id))
    return found.role if found is not None else None  # type: ignore[return-value]

