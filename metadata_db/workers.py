"""Workers' liveness: each worker process keeps a row fresh; runs claimed by a worker whose row went stale
(or was removed when it stopped) have lost their executor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from metadata_db.base import utcnow
from metadata_db.models import Run, Worker


def beat(session: Session, worker_id: str, hostname: str, pid: int) -> None:
    """Record that the worker is alive now (its row is created on its first beat in this database)."""
    found = session.get(Worker, worker_id)
    if found is None:
        session.add(Worker(id=worker_id, hostname=hostname[:255], pid=pid))
    else:
        found.last_seen = utcnow()
    session.flush()


def remove(session: Session, worker_id: str) -> None:
    """The worker stopped: its runs, if any are left running, are reconciled at once."""
    session.execute(delete(Worker).where(Worker.id == worker_id))


def alive(session: Session, worker_id: str | None, seen_after: datetime) -> bool:
    """Whether the worker has reported since ``seen_after`` (a run without a worker counts as alive:
    it was claimed before workers reported, or by a worker that could not record itself)."""
    if worker_id is None:
        return True
    found = session.get(Worker, worker_id)
    return found is not None and found.last_seen >= seen_after


def orphaned_runs(session: Session, seen_after: datetime) -> list[Run]:
    """Running runs whose worker has not reported since ``seen_after``."""
    live = select(Worker.id).where(Worker.last_seen >= seen_after)
    query = (select(Run).where(Run.status == "running", Run.worker_id.is_not(None), Run.worker_id.not_in(live))
             .order_by(Run.started_at))
    return list(session.scalars(query))
