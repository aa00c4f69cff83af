"""Flowza's metadata database: models, migrations, sessions and the functions routes call.

Repository functions take a ``Session``, flush (so ids exist and constraints are checked) and leave
the commit to the caller: ``with session_factory(url).begin() as session: ...``.
"""

from metadata_db import monitoring  # noqa: F401  (its tables join Base.metadata)
from metadata_db.datasets import create_dataset, get_dataset, list_datasets, soft_delete_dataset
from metadata_db.errors import Conflict, InvalidValue, NotFound
from metadata_db.models import (FINISHED_STATUSES, RUN_STATUSES, SHARE_ROLES, Base, Dataset, Run, RunStatus, Schedule,
                           Share, ShareRole, User, Workflow, WorkflowVersion)
from metadata_db.runs import create_run, get_run, list_runs, update_run_status
from metadata_db.session import alembic_config, make_engine, session_factory, upgrade
from metadata_db.sharing import Role, list_shares, role_of, share, unshare
from metadata_db.users import create_user, get_user, get_user_by_email
from metadata_db.workflows import (create_workflow, get_version, get_workflow, list_versions, list_workflows,
                              restore_workflow, set_tags, soft_delete_workflow, update_workflow)

__all__ = [
    "Base", "Conflict", "Dataset", "FINISHED_STATUSES", "InvalidValue", "NotFound", "RUN_STATUSES", "Role",
    "Run", "RunStatus", "SHARE_ROLES", "Schedule", "Share", "ShareRole", "User", "Workflow", "WorkflowVersion",
    "alembic_config", "create_dataset", "create_run", "create_user", "create_workflow", "get_dataset", "get_run",
    "get_user", "get_user_by_email", "get_version", "get_workflow", "list_datasets", "list_runs", "list_shares",
    "list_versions", "list_workflows", "make_engine", "restore_workflow", "role_of", "session_factory",
    "set_tags", "share", "soft_delete_dataset", "soft_delete_workflow", "unshare", "update_run_status",
    "update_workflow", "upgrade",
]
