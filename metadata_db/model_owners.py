"""Who owns a registered model name and who it is shared with (viewer or editor), as for workflows.

A name without a row was registered before models had owners (or in single-user mode).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from metadata_db.errors import InvalidValue, NotFound
from metadata_db.models import SHARE_ROLES, ModelOwner, ModelShare, Run, ShareRole, User, Workflow
from metadata_db.sharing import Role


def owner_of(session: Session, name: str) -> ModelOwner | None:
    return session.get(ModelOwner, name)


def claim(session: Session, name: str, owner_id: str) -> ModelOwner:
    """The name's owner row: ``owner_id``'s if nobody owned it yet (a concurrent claim may win instead)."""
    found = session.get(ModelOwner, name)
    if found is not None:
        return found
    try:
        with session.begin_nested():  # two runs registering one new name: the first insert wins
            session.add(ModelOwner(name=name, owner_id=owner_id))
    except IntegrityError:
        pass
    return session.get(ModelOwner, name, populate_existing=True)


def role_of(session: Session, owned: ModelOwner, user_id: str) -> Role | None:
    if owned.owner_id == user_id:
        return "owner"
    found = session.get(ModelShare, (owned.name, user_id))
    return found.role if found is not None else None  # type: ignore[return-value]


def names_visible_to(session: Session, user_id: str) -> tuple[set[str], set[str]]:
    """(names the user owns or was shared, every owned name): unowned names are readable by all."""
    mine = set(session.scalars(select(ModelOwner.name).where(ModelOwner.owner_id == user_id)))
    mine |= set(session.scalars(select(ModelShare.model_name).where(ModelShare.user_id == user_id)))
    return mine, set(session.scalars(select(ModelOwner.name)))


def share(session: Session, name: str, user_id: str, role: ShareRole) -> ModelShare:
    """Share an owned model with a user, or change the role they already have."""
    if role not in SHARE_ROLES:
        raise InvalidValue(f"role must be one of {', '.join(SHARE_ROLES)}, not '{role}'", field="role")
    owned = session.get(ModelOwner, name)
    if owned is None:
        raise NotFound("model", name)
    if session.get(User, user_id) is None:
        raise NotFound("user", user_id)
    if owned.owner_id == user_id:
        raise InvalidValue("a model cannot be shared with its owner", field="user_id")
    found = session.get(ModelShare, (name, user_id))
    if found is None:
        found = ModelShare(model_name=name, user_id=user_id, role=role)
        session.add(found)
    found.role = role
    session.flush()
    return found


def unshare(session: Session, name: str, user_id: str) -> None:
    found = session.get(ModelShare, (name, user_id))
    if found is None:
        raise NotFound("share", f"{name}/{user_id}")
    session.delete(found)
    session.flush()


def list_shares(session: Session, name: str) -> list[ModelShare]:
    return list(session.scalars(select(ModelShare).where(ModelShare.model_name == name).order_by(ModelShare.user_id)))


def run_owner(session: Session, run_id: str) -> str | None:
    """The user a run registers for: the run's owner, else its workflow's (runs from a schedule)."""
    run = session.get(Run, run_id)
    if run is None:
        return None
    if run.owner_id is not None:
        return run.owner_id
    workflow = session.get(Workflow, run.workflow_id)
    return workflow.owner_id if workflow is not None else None
