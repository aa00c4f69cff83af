"""The metadata database on SQLite and PostgreSQL: migrations, versions, soft delete, sharing, runs, datasets."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import metadata_db as db
from metadata_db import Base, Conflict, InvalidValue, NotFound, Schedule, WorkflowVersion


def definition(name: str = "Titanic", **extra) -> dict:
    nodes = [{"id": "load", "type": "sample_dataset", "parameters": {"name": "titanic"}}]
    return {"name": name, "description": "survival", "nodes": nodes, "connections": []} | extra


def make_user(session: Session, email: str) -> str:
    return db.create_user(session, email, "hash").id


# --- migrations --------------------------------------------------------------------------------------------


def schema_differences(url: str) -> list:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrations_create_the_schema_of_the_models(db_url):
    db.upgrade(db_url)
    db.upgrade(db_url)  # already at head: nothing to do
    assert schema_differences(db_url) == []
    engine = db.make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    assert current == tuple(ScriptDirectory.from_config(db.alembic_config(db_url)).get_heads())


def test_an_empty_database_differs_from_the_models(db_url):
    # The comparison above can fail: without migrations every table is reported missing.
    added = {diff[1].name for diff in schema_differences(db_url) if diff[0] == "add_table"}
    assert added == set(Base.metadata.tables)


def test_concurrent_upgrades_wait_for_each_other(db_url):
    # Separate processes, as the API and the worker starting at once (Alembic itself is not thread-safe),
    # released together once imported: on SQLite the second used to fail with "table … already exists".
    code = ("import sys, time; from metadata_db import upgrade; "
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); upgrade(sys.argv[1])")
    start = str(time.time() + 10)
    processes = [subprocess.Popen([sys.executable, "-c", code, db_url, start], stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
    outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in processes]
    failures = [stderr for stderr, returncode in outcomes if returncode != 0]
    assert failures == []
    assert schema_differences(db_url) == []


def test_foreign_keys_are_enforced(db_engine):
    with Session(db_engine) as session:
        session.add(WorkflowVersion(workflow_id="no-such-workflow", version=1, definition={}))
        with pytest.raises(IntegrityError):
            session.flush()


def test_check_constraints_are_enforced(db_session):
    workflow = db.create_workflow(db_session, None, definition())
    db_session.add(Schedule(workflow_id=workflow.id, cron="0 * * * *"))
    db_session.flush()
    db_session.add(Schedule(workflow_id=workflow.id, cron="0 * * * *", interval_seconds=60))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_timestamps_come_back_aware_in_utc(db_engine):
    factory = db.session_factory(db_engine)
    with factory.begin() as session:
        workflow_id = db.create_workflow(session, None, definition()).id
    with factory() as session:
        created = db.get_workflow(session, workflow_id).created_at
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


# --- workflows ---------------------------------------------------------------------------------------------


def test_updates_add_versions_and_never_change_old_ones(db_engine):
    factory = db.session_factory(db_engine)
    with factory.begin() as session:
        workflow_id = db.create_workflow(session, None, definition("v1")).id
    with factory.begin() as session:
        db.update_workflow(session, workflow_id, definition("v2", description="second"))
        workflow = db.update_workflow(session, workflow_id, definition("v3"))
        assert workflow.current_version == 3
    with factory() as session:
        workflow = db.get_workflow(session, workflow_id)
        assert (workflow.name, workflow.current_version) == ("v3", 3)
        assert [v.version for v in db.list_versions(session, workflow_id)] == [3, 2, 1]
        assert db.get_version(session, workflow_id, 1).definition == definition("v1")
        assert db.get_version(session, workflow_id, 2).definition["description"] == "second"
        with pytest.raises(NotFound):
            db.get_version(session, workflow_id, 4)


def test_saving_the_same_definition_adds_no_version(db_session):
    workflow = db.create_workflow(db_session, None, definition())
    db.update_workflow(db_session, workflow.id, definition())
    assert workflow.current_version == 1 and len(db.list_versions(db_session, workflow.id)) == 1


def test_the_stored_definition_is_a_copy(db_session):
    source = definition()
    workflow = db.create_workflow(db_session, None, source)
    source["nodes"].clear()
    assert db.get_version(db_session, workflow.id, 1).definition["nodes"]


def test_name_and_description_come_from_the_definition(db_session):
    workflow = db.create_workflow(db_session, None, {"nodes": []})
    assert (workflow.name, workflow.description) == ("Untitled workflow", None)
    with pytest.raises(InvalidValue) as caught:
        db.create_workflow(db_session, None, {"name": "x" * 301})
    assert caught.value.field == "name"


def test_soft_delete_hides_and_restore_brings_back(db_session):
    kept = db.create_workflow(db_session, None, definition("kept"))
    gone = db.create_workflow(db_session, None, definition("gone"))
    db.soft_delete_workflow(db_session, gone.id)
    assert [w.id for w in db.list_workflows(db_session)] == [kept.id]
    assert {w.id for w in db.list_workflows(db_session, include_deleted=True)} == {kept.id, gone.id}
    with pytest.raises(NotFound) as caught:
        db.get_workflow(db_session, gone.id)
    assert caught.value.code == "NOT_FOUND"
    with pytest.raises(NotFound):
        db.update_workflow(db_session, gone.id, definition("edit"))
    assert db.get_workflow(db_session, gone.id, include_deleted=True).deleted_at is not None
    db.restore_workflow(db_session, gone.id)
    assert {w.id for w in db.list_workflows(db_session)} == {kept.id, gone.id}
    assert db.get_workflow(db_session, gone.id).deleted_at is None


def test_users_see_their_own_and_shared_workflows(db_session):
    alice, bob = make_user(db_session, "alice@example.com"), make_user(db_session, "bob@example.com")
    mine = db.create_workflow(db_session, alice, definition("alice's"))
    shared = db.create_workflow(db_session, alice, definition("shared"))
    bobs = db.create_workflow(db_session, bob, definition("bob's"))
    assert {w.id for w in db.list_workflows(db_session, visible_to=bob)} == {bobs.id}
    db.share(db_session, shared.id, bob, "viewer")
    assert {w.id for w in db.list_workflows(db_session, visible_to=bob)} == {bobs.id, shared.id}
    assert {w.id for w in db.list_workflows(db_session, visible_to=alice)} == {mine.id, shared.id}
    assert {w.id for w in db.list_workflows(db_session)} == {mine.id, shared.id, bobs.id}  # single-user mode
    db.unshare(db_session, shared.id, bob)
    assert {w.id for w in db.list_workflows(db_session, visible_to=bob)} == {bobs.id}


def test_roles(db_session):
    owner, editor, viewer, stranger = (make_user(db_session, f"{n}@example.com")
                                       for n in ("owner", "editor", "viewer", "stranger"))
    workflow = db.create_workflow(db_session, owner, definition())
    db.share(db_session, workflow.id, editor, "viewer")
    db.share(db_session, workflow.id, editor, "editor")  # sharing again changes the role
    db.share(db_session, workflow.id, viewer, "viewer")
    roles = {user: db.role_of(db_session, workflow, user) for user in (owner, editor, viewer, stranger, None)}
    assert roles == {owner: "owner", editor: "editor", viewer: "viewer", stranger: None, None: "owner"}
    assert [s.role for s in db.list_shares(db_session, workflow.id) if s.user_id == editor] == ["editor"]


def test_sharing_refuses_bad_requests(db_session):
    owner, other = make_user(db_session, "owner@example.com"), make_user(db_session, "other@example.com")
    workflow = db.create_workflow(db_session, owner, definition())
    with pytest.raises(InvalidValue, match="role must be one of viewer, editor"):
        db.share(db_session, workflow.id, other, "admin")
    with pytest.raises(InvalidValue, match="its owner"):
        db.share(db_session, workflow.id, owner, "editor")
    with pytest.raises(NotFound, match="user 'nobody'"):
        db.share(db_session, workflow.id, "nobody", "viewer")
    with pytest.raises(NotFound):
        db.unshare(db_session, workflow.id, other)


def test_tag_filter(db_session):
    tagged = db.create_workflow(db_session, None, definition("a"), tags=["ml", " demo ", "ml"])
    db.create_workflow(db_session, None, definition("b"), tags=["etl"])
    db.create_workflow(db_session, None, definition("c"))
    assert tagged.tags == ["ml", "demo"]
    assert [w.id for w in db.list_workflows(db_session, tag="demo")] == [tagged.id]
    assert db.list_workflows(db_session, tag="dem") == []
    db.set_tags(db_session, tagged.id, ["other"])
    assert db.list_workflows(db_session, tag="demo") == []
    with pytest.raises(InvalidValue):
        db.set_tags(db_session, tagged.id, "ml")


# --- runs --------------------------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_and_filtered(db_session):
    alice, bob = make_user(db_session, "alice@example.com"), make_user(db_session, "bob@example.com")
    first = db.create_workflow(db_session, alice, definition("first"))
    second = db.create_workflow(db_session, bob, definition("second"))
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    runs = {}
    for name, workflow, hours in [("old", first, 0), ("newest", first, 2), ("middle", second, 1)]:
        runs[name] = db.create_run(db_session, workflow.id, run_id=f"run-{name}")
        runs[name].created_at = t0 + timedelta(hours=hours)  # not in insertion order
    db_session.flush()
    assert [r.id for r in db.list_runs(db_session)] == ["run-newest", "run-middle", "run-old"]
    assert [r.id for r in db.list_runs(db_session, workflow_id=first.id)] == ["run-newest", "run-old"]
    assert [r.id for r in db.list_runs(db_session, limit=1, offset=1)] == ["run-middle"]
    assert [r.id for r in db.list_runs(db_session, visible_to=bob)] == ["run-middle"]
    db.share(db_session, first.id, bob, "viewer")
    assert len(db.list_runs(db_session, visible_to=bob)) == 3
    db.update_run_status(db_session, "run-old", "running")
    assert [r.id for r in db.list_runs(db_session, status="running")] == ["run-old"]
    db.soft_delete_workflow(db_session, second.id)
    assert [r.id for r in db.list_runs(db_session)] == ["run-newest", "run-old"]


def test_run_status_stamps_times_and_finished_runs_stay_finished(db_session):
    workflow = db.create_workflow(db_session, None, definition())
    run = db.create_run(db_session, workflow.id, use_cache=False)
    assert (run.status, run.workflow_version, run.use_cache, run.started_at) == ("pending", 1, False, None)
    db.update_run_status(db_session, run.id, "running", flow_run_id="flow-1")
    started = run.started_at
    assert started is not None and run.finished_at is None and run.flow_run_id == "flow-1"
    db.update_run_status(db_session, run.id, "failed", record={"status": "failed"}, error={"code": "EMPTY_DATA"})
    assert run.started_at == started and run.finished_at >= started
    assert (run.record, run.error) == ({"status": "failed"}, {"code": "EMPTY_DATA"})
    with pytest.raises(Conflict, match="already failed"):
        db.update_run_status(db_session, run.id, "running")
    with pytest.raises(InvalidValue):
        db.update_run_status(db_session, run.id, "done")
    with pytest.raises(NotFound):
        db.get_run(db_session, "no-such-run")


def test_runs_name_a_saved_version(db_session):
    workflow = db.create_workflow(db_session, None, definition("v1"))
    db.update_workflow(db_session, workflow.id, definition("v2"))
    assert db.create_run(db_session, workflow.id).workflow_version == 2
    assert db.create_run(db_session, workflow.id, workflow_version=1).workflow_version == 1
    with pytest.raises(NotFound):
        db.create_run(db_session, workflow.id, workflow_version=7)
    with pytest.raises(NotFound):
        db.create_run(db_session, "no-such-workflow")


# --- datasets and users ------------------------------------------------------------------------------------


def test_dataset_soft_delete(db_session):
    alice = make_user(db_session, "alice@example.com")
    columns = [{"name": "Age", "dtype": "float64"}]
    kept = db.create_dataset(db_session, owner_id=alice, name="titanic", filename="titanic.csv",
                             path="datasets/titanic.csv", size_bytes=61194, rows=891, columns=columns)
    gone = db.create_dataset(db_session, owner_id=None, name="iris", filename="iris.csv", path="datasets/iris.csv",
                             size_bytes=4551, rows=150, columns=[], dataset_id="fixed-id")
    assert gone.id == "fixed-id" and db.get_dataset(db_session, kept.id).columns == columns
    db.soft_delete_dataset(db_session, gone.id)
    assert [d.id for d in db.list_datasets(db_session)] == [kept.id]
    assert len(db.list_datasets(db_session, include_deleted=True)) == 2
    assert [d.id for d in db.list_datasets(db_session, visible_to=alice)] == [kept.id]
    with pytest.raises(NotFound):
        db.get_dataset(db_session, gone.id)
    with pytest.raises(NotFound):
        db.soft_delete_dataset(db_session, gone.id)
    assert db.get_dataset(db_session, gone.id, include_deleted=True).deleted_at is not None


def test_emails_are_unique_whatever_their_case(db_session):
    user = db.create_user(db_session, " Alice@Example.com", "hash")
    assert user.email == "alice@example.com"
    assert db.get_user_by_email(db_session, "ALICE@example.com").id == user.id
    assert db.get_user_by_email(db_session, "bob@example.com") is None
    with pytest.raises(Conflict):
        db.create_user(db_session, "alice@EXAMPLE.com", "other")
    assert db_session.scalar(select(db.User.id).where(db.User.email == "alice@example.com")) == user.id


# --- settings ----------------------------------------------------------------------------------------------


def test_metadata_database_defaults_to_sqlite_under_home(flowza_env, monkeypatch):
    from flowza_core.settings import Settings

    monkeypatch.delenv("FLOWZA_DATABASE_URL", raising=False)
    url = Settings().metadata_db_url
    assert url == f"sqlite:///{flowza_env['home'].resolve() / 'flowza.db'}" and flowza_env["home"].is_dir()
    monkeypatch.setenv("FLOWZA_DATABASE_URL", "postgresql://flowza@db/flowza")
    assert Settings().metadata_db_url == "postgresql://flowza@db/flowza"


def test_postgresql_urls_use_the_shipped_driver_and_keep_escapes():
    url = "postgres://flowza:p%40ss@db:5432/flowza"
    assert db.session.resolve_url(url) == "postgresql+psycopg2://flowza:p%40ss@db:5432/flowza"
    assert db.alembic_config(url).get_main_option("sqlalchemy.url") == db.session.resolve_url(url)
    assert db.session.resolve_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
