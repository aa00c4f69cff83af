"""Runs of saved workflow versions and their status as the engine reports it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from metadata_db.base import utcnow
from metadata_db.errors import Conflict, InvalidValue, NotFound
from metadata_db.models import FINISHED_STATUSES, RUN_STATUSES, Run, RunStatus, Workflow
from metadata_db.workflows import get_version, get_workflow, visible_to_user


def create_run(session: Session, workflow_id: str, *, run_id: str | None = None,
               workflow_version: int | None = None, owner_id: str | None = None, use_cache: bool = True,
               flow_run_id: str | None = None) -> Run:
    """A pending run of a version of the workflow (default: its current version)."""
    workflow = get_workflow(session, workflow_id)
    version = get_version(session, workflow_id, workflow.current_version if workflow_version is None
                          else workflow_version).version
    run = Run(id=run_id or uuid.uuid4().hex, workflow_id=workflow_id, workflow_version=version,
              owner_id=owner_id, status="pending", use_cache=use_cache, flow_run_id=flow_run_id)
    session.add(run)
    session.flush()
    return run


def update_run_status(session: Session, run_id: str, status: RunStatus, *, record: dict[str, Any] | None = None,
                      error: dict[str, Any] | None = None, flow_run_id: str | None = None) -> Run:
    """Move a run to ``status``, stamping start and finish times; a finished run keeps its status."""
    if status not in RUN_STATUSES:
        raise InvalidValue(f"run status must be one of {', '.join(RUN_STATUSES)}, not '{status}'", field="status")
    run = get_run(session, run_id)
    if run.status in FINISHED_STATUSES and status != run.status:
        raise Conflict(f"run '{run_id}' is already {run.status}; it cannot become {status}")
    now = utcnow()
    if status == "running" and run.started_at is None:
        run.started_at = now
    if status in FINISHED_STATUSES and run.finished_at is None:
        run.finished_at = now
    run.status = status
    if record is not None:
        run.record = record
    if error is not None:
        run.error = error
    if flow_run_id is not None:
        run.flow_run_id = flow_run_id
    session.flush()
    return run


def get_run(session: Session, run_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound("run", run_id)
    return run


def list_runs(session: Session, workflow_id: str | None = None, visible_to: str | None = None, *,
              status: RunStatus | None = None, include_deleted: bool = False, limit: int = 50,
              offset: int = 0) -> list[Run]:
    """Newest first; ``visible_to`` keeps runs of workflows the user owns or has been shared."""
    query = (select(Run).join(Workflow, Run.workflow_id == Workflow.id)
             .order_by(Run.created_at.desc(), Run.id.desc()))
    if workflow_id is not None:
        query = query.where(Run.workflow_id == workflow_id)
    if visible_to is not None:
        query = query.where(visible_to_user(visible_to))
    if not include_deleted:
        query = query.where(Workflow.deleted_at.is_(None))
    if status is not None:
        query = query.where(Run.status == status)
    return list(session.scalars(query.limit(limit).offset(offset)))


def outbox(session: Session, now: datetime, limit: int) -> list[str]:
    """Ids of pending runs not yet submitted and free to take (no lease, or an expired one), oldest first."""
    query = (select(Run.id).where(Run.status == "pending", Run.flow_run_id.is_(None),
                                  or_(Run.submit_lease_until.is_(None), Run.submit_lease_until < now))
             .order_by(Run.created_at, Run.id).limit(limit))
    return list(session.scalars(query))


def take_for_submission(session: Session, run_id: str, now: datetime, lease_until: datetime) -> bool:
    """Lease a run of the outbox to this submitter; False when another took it (or it left the outbox) first.

    One conditional UPDATE: of several API processes draining the same outbox, exactly one wins each run.
    """
    taken = session.execute(
        update(Run).where(Run.id == run_id, Run.status == "pending", Run.flow_run_id.is_(None),
                          or_(Run.submit_lease_until.is_(None), Run.submit_lease_until < now))
        .values(submit_lease_until=lease_until, submit_attempts=Run.submit_attempts + 1)
        .execution_options(synchronize_session=False))
    return taken.rowcount == 1


def crash(session: Session, run_id: str, *, record: dict[str, Any] | None, error: dict[str, Any],
          status: RunStatus = "crashed") -> bool:
    """End a running run whose worker is gone (``crashed``, or ``cancelled`` if it was being cancelled).

    Conditional on the run still running, so two reconcilers (or a late settle) cannot both end it.
    """
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "submit_lease_until": None}
    if record is not None:
        values["record"] = record
    if status == "crashed":
        values["error"] = error
    ended = session.execute(update(Run).where(Run.id == run_id, Run.status == "running").values(**values)
                            .execution_options(synchronize_session=False))
    return ended.rowcount == 1
