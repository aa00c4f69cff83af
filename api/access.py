"""What a user may do with a workflow, run or dataset: every route asks here, nowhere else.

Something a user may not see does not exist for them (404, the same answer as for a wrong id).
Something they may see but not change answers 403. In single-user mode (``user=None``) everyone
owns everything.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from api.db import datasets as dataset_rows
from api.db import runs as run_rows
from api.db import workflows as workflow_rows
from api.db.errors import NotFound
from api.db.models import Dataset, Run, User, Workflow
from api.db.sharing import role_of
from flowza.errors import FlowzaError

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


def visible_to(user: User | None) -> str | None:
    """The ``visible_to`` argument of the repository list functions."""
    return user.id if user is not None else None
