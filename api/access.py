"""What a user may do with a workflow, run, dataset or registered model: every route asks here, nowhere else.

Something a user may not see does not exist for them (404, the same answer as for a wrong id).
Something they may see but not change answers 403. In single-user mode (``user=None``) everyone
owns everything.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from metadata_db import datasets as dataset_rows
from metadata_db import model_owners
from metadata_db import runs as run_rows
from metadata_db import workflows as workflow_rows
from metadata_db.errors import NotFound
from metadata_db.models import Dataset, Run, User, Workflow
from metadata_db.sharing import Role, role_of
from flowza_core.errors import FlowzaError
from flows.registry import ModelNotFound

Need = Literal["view", "edit", "own"]
_ALLOWED = {"view": {"owner", "editor", "viewer"}, "edit": {"owner", "editor"}, "own": {"owner"}}


class Forbidden(FlowzaError):
    code = "FORBIDDEN"


def workflow(session: Session, user: User | None, workflow_id: str, need: Need = "view", *,
             for_update: bool = False) -> Workflow:
    found = workflow_rows.get_workflow(session, workflow_id, for_update=for_update)
    role = role_of(session, found, user.id if user else None)
    if role is None:
        raise NotFound("workflow", workflow_id)
    if role not in _ALLOWED[need]:
        verb = "change" if need == "edit" else "share or delete"
        raise Forbidden(f"workflow '{workflow_id}' is shared with you as {role}: you cannot {verb} it; ask its "
                        f"owner for the editor role")
    return found


def run(session: Session, user: User | None, run_id: str, need: Need = "view") -> Run:
    found = run_rows.get_run(session, run_id)
    try:
        workflow(session, user, found.workflow_id, need)
    except NotFound:
        raise NotFound("run", run_id) from None
    return found


def dataset(session: Session, user: User | None, dataset_id: str) -> Dataset:
    found = dataset_rows.get_dataset(session, dataset_id)
    if user is not None and found.owner_id != user.id:
        raise NotFound("dataset", dataset_id)
    return found


def model(session: Session, user: User | None, name: str, need: Need = "view") -> Role | None:
    """The user's role on a registered model (``None``: registered before models had owners).

    Owned models are shared like workflows. Models without an owner are readable by every user and
    change only through MLflow itself: nobody here may claim another user's model by moving its aliases.
    """
    if user is None:
        return "owner"
    owned = model_owners.owner_of(session, name)
    if owned is None:
        if need != "view":
            raise Forbidden(f"model '{name}' was registered before models had owners in Flowza: it is read-only "
                            f"here (change it in MLflow itself)")
        return None
    role = model_owners.role_of(session, owned, user.id)
    if role is None:
        raise ModelNotFound(f"model '{name}' not found")
    if role not in _ALLOWED[need]:
        verb = "move its aliases" if need == "edit" else "share it"
        raise Forbidden(f"model '{name}' is shared with you as {role}: you cannot {verb}; ask its owner for the "
                        f"editor role")
    return role


def visible_models(session: Session, user: User | None, names: list[str]) -> list[str]:
    """The names (of ``names``) the user may see: owned by or shared with them, or without an owner."""
    if user is None:
        return names
    mine, owned = model_owners.names_visible_to(session, user.id)
    return [n for n in names if n in mine or n not in owned]


def visible_to(user: User | None) -> str | None:
    """The ``visible_to`` argument of the repository list functions."""
    return user.id if user is not None else None
