"""The metadata side of runs surviving faults, on SQLite and PostgreSQL: the `crashed` status and its
migration, the outbox shared by several submitters, and runs whose worker went silent.

The faults themselves (a worker SIGKILLed, an API killed with runs queued) are reproduced with real
processes in tests/deployments/test_run_recovery.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import metadata_db as db
from metadata_db import runs as run_rows
from metadata_db import workers as worker_rows
from metadata_db.base import utcnow
from metadata_db.models import Worker

DEFINITION = {"name": "small", "nodes": [{"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}}],
              "connections": []}


def test_migration_0003_keeps_runs_and_allows_crashed_both_ways(db_url):
    config = db.alembic_config(db_url)
    command.upgrade(config, "0002")
    engine = db.make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO workflows (id, name, tags, current_version, created_at, updated_at) "
                "VALUES ('w', 'old', '[]', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO workflow_versions (id, workflow_id, version, definition, created_at) "
                "VALUES ('v', 'w', 1, '{}', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO runs (id, workflow_id, workflow_version, status, use_cache, created_at) "
                "VALUES ('r', 'w', 1, 'running', true, CURRENT_TIMESTAMP)"))
        command.upgrade(config, "0003")
        with engine.begin() as connection:
            row = connection.execute(text(
                "SELECT status, worker_id, submit_attempts, submit_lease_until, submit_failing_since FROM runs")).one()
            assert tuple(row) == ("running", None, 0, None, None)
            connection.execute(text("UPDATE runs SET status = 'crashed' WHERE id = 'r'"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE runs SET status = 'lost' WHERE id = 'r'"))

        command.downgrade(config, "0002")  # a crashed run reads as failed on the older schema
        with engine.begin() as connection:
            assert connection.execute(text("SELECT status FROM runs")).scalar_one() == "failed"
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE runs SET status = 'crashed' WHERE id = 'r'"))
    finally:
        engine.dispose()


def pending_runs(session: Session, count: int) -> list[str]:
    workflow = db.create_workflow(session, None, DEFINITION)
    ids = [db.create_run(session, workflow.id).id for _ in range(count)]
    session.commit()
    return ids


def test_each_run_of_the_outbox_is_taken_by_one_submitter_at_a_time(db_engine):
    with Session(db_engine) as session:
        ids = pending_runs(session, 3)
    now = utcnow()
    lease = now + timedelta(seconds=30)
    with Session(db_engine) as first, Session(db_engine) as second:
        assert run_rows.outbox(first, now, 10) == ids  # oldest first
        assert run_rows.take_for_submission(first, ids[0], now, lease)
        first.commit()
        assert not run_rows.take_for_submission(second, ids[0], now, lease)  # leased by the first
        assert run_rows.outbox(second, now, 10) == ids[1:]
        assert run_rows.take_for_submission(second, ids[1], now, lease)
        second.commit()
        # Once the lease has expired (its submitter died), another takes it again.
        later = lease + timedelta(seconds=1)
        assert run_rows.outbox(second, later, 10) == ids
        assert run_rows.take_for_submission(second, ids[0], later, later + timedelta(seconds=30))
        second.commit()
        assert db.get_run(second, ids[0]).submit_attempts == 2
        db.update_run_status(second, ids[2], "cancelled")  # cancelled and submitted runs leave the outbox
        db.update_run_status(second, ids[1], "pending", flow_run_id="flow-run")
        second.commit()
        assert run_rows.outbox(second, later, 10) == []


def test_running_runs_of_a_silent_worker_are_orphans_and_end_once(db_engine):
    with Session(db_engine) as session:
        live, dead, unstamped = pending_runs(session, 3)
        worker_rows.beat(session, "alive", "host", 1)
        worker_rows.beat(session, "gone", "host", 2)
        for run_id, worker_id in ((live, "alive"), (dead, "gone"), (unstamped, None)):
            db.update_run_status(session, run_id, "running").worker_id = worker_id
        session.commit()
    with Session(db_engine) as session:
        session.get(Worker, "gone").last_seen = utcnow() - timedelta(seconds=60)
        session.commit()
        cutoff = utcnow() - timedelta(seconds=30)
        assert [r.id for r in worker_rows.orphaned_runs(session, cutoff)] == [dead]
        assert worker_rows.alive(session, "alive", cutoff) and not worker_rows.alive(session, "gone", cutoff)
        error = {"code": "RUN_CRASHED", "message": "gone"}
        assert run_rows.crash(session, dead, record=None, error=error)
        assert not run_rows.crash(session, dead, record=None, error=error)  # a second reconciler changes nothing
        session.commit()
        session.expire_all()
        crashed = db.get_run(session, dead)
        assert crashed.status == "crashed" and crashed.error == error and crashed.finished_at is not None
        assert worker_rows.orphaned_runs(session, cutoff) == []
        with pytest.raises(db.Conflict):  # final: a late report of the dead worker cannot revive it
            db.update_run_status(session, dead, "running")
        worker_rows.remove(session, "alive")  # a worker that stops cleanly leaves its runs to the reconciler
        assert [r.id for r in worker_rows.orphaned_runs(session, cutoff)] == [live]
