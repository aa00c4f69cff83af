"""Runs the worker takes are recorded in the metadata DB, also when the API did not submit them."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())


def wait_for_row(run_id: str, timeout: float = 90):
    from metadata_db.models import Run
    from metadata_db.session import session_factory, upgrade
    from flowza_core.settings import get_settings

    upgrade(get_settings().metadata_db_url)  # the worker may not have created the tables yet
    sessions, deadline = session_factory(get_settings().metadata_db_url), time.monotonic() + timeout
    while True:
        with sessions() as session:
            run = session.get(Run, run_id)
            if run is not None and run.status in ("completed", "failed", "cancelled"):
                return run
        assert time.monotonic() < deadline, f"run {run_id} not finished in the metadata DB after {timeout} s"
        time.sleep(0.2)


@pytest.fixture
def repo_data(flowza_env, monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATA_DIR", str(ROOT))
    get_settings.cache_clear()


@pytest.mark.usefixtures("flowza_worker", "repo_data")
def test_a_deployment_run_started_outside_flowza_becomes_a_new_workflow_owned_by_nobody():
    from prefect.deployments import arun_deployment

    from metadata_db import workflows
    from metadata_db.session import session_factory
    from deployments.metadata import run_id_of
    from deployments.runs import DEPLOYMENT_PATH
    from flowza_core.settings import get_settings

    # As `prefect deployment run flowza-workflow/run-workflow --param workflow=...` does: no run id, no workflow id.
    flow_run = asyncio.run(_run(arun_deployment, DEPLOYMENT_PATH, {"workflow": CLASSIFICATION}))
    run = wait_for_row(run_id_of(flow_run.id))
    assert run.status == "completed" and run.flow_run_id == str(flow_run.id) and run.worker_id
    assert run.record["progress"]["done"] == 5 and run.finished_at >= run.started_at
    with session_factory(get_settings().metadata_db_url)() as session:
        saved = workflows.get_workflow(session, run.workflow_id)
        assert saved.name == CLASSIFICATION["name"] and saved.owner_id is None and run.owner_id is None
        assert workflows.get_version(session, saved.id, run.workflow_version).definition == CLASSIFICATION
        assert workflows.list_workflows(session, visible_to="any-user-id") == []  # no user sees it (multi-user)

    # Naming the saved workflow does not write into it: the definition it carries becomes another new workflow.
    edited = CLASSIFICATION | {"description": "edited in the Prefect UI"}
    again = asyncio.run(_run(arun_deployment, DEPLOYMENT_PATH, {"workflow": edited, "workflow_id": saved.id}))
    second = wait_for_row(run_id_of(again.id))
    assert second.workflow_id != saved.id and second.workflow_version == 1 and second.status == "completed"
    with session_factory(get_settings().metadata_db_url)() as session:
        assert [v.version for v in workflows.list_versions(session, saved.id)] == [1]


@pytest.mark.usefixtures("flowza_worker", "repo_data")
def test_a_flow_run_naming_another_workflow_from_outside_flowza_is_refused_and_changes_nothing():
    """The probe's attack: a flow run created directly in Prefect with a victim's ``workflow_id``."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import arun_deployment

    from metadata_db import workflows
    from metadata_db.models import Run
    from metadata_db.session import session_factory, upgrade
    from deployments.runs import DEPLOYMENT_PATH
    from flowza_core.settings import get_settings

    url = get_settings().metadata_db_url
    upgrade(url)
    with session_factory(url).begin() as session:
        victim = workflows.create_workflow(session, None, CLASSIFICATION).id
    flow_run = asyncio.run(_run(arun_deployment, DEPLOYMENT_PATH, {"workflow_id": victim}))

    async def final_state():
        deadline = time.monotonic() + 90
        async with get_client() as prefect:
            while not (state := (await prefect.read_flow_run(flow_run.id)).state).is_final():
                assert time.monotonic() < deadline, f"flow run still {state.name} after 90 s"
                await asyncio.sleep(0.2)
        return state

    state = asyncio.run(final_state())
    assert state.is_failed() and "was not created by Flowza" in state.message, state
    with session_factory(url)() as session:
        assert session.query(Run).filter_by(workflow_id=victim).count() == 0
        assert [v.version for v in workflows.list_versions(session, victim)] == [1]


@pytest.mark.usefixtures("flowza_worker", "repo_data")
def test_a_failed_deployment_run_stores_why_it_failed():
    from prefect.deployments import arun_deployment

    from deployments.metadata import run_id_of
    from deployments.runs import DEPLOYMENT_PATH

    broken = {"name": "Broken", "nodes": [{"id": "load", "type": "csv_loader",
                                            "parameters": {"file_path": "no-such-file.csv"}}]}
    flow_run = asyncio.run(_run(arun_deployment, DEPLOYMENT_PATH, {"workflow": broken}))
    run = wait_for_row(run_id_of(flow_run.id))
    assert run.status == "failed" and run.record["error"] == run.error
    assert run.error["code"] == "FILE_NOT_FOUND" and run.error["node_id"] == "load"
    assert "no-such-file.csv" in run.error["message"]


def test_runs_of_flow_runs_created_together_differ_from_their_first_characters():
    from prefect._internal.uuid7 import uuid7

    from deployments.metadata import run_id_of

    flow_runs = [uuid7() for _ in range(50)]  # as the scheduler creates them: in one go
    assert len({f.hex[:8] for f in flow_runs}) <= 2  # Prefect's own ids: time-ordered, a shared prefix
    run_ids = [run_id_of(f) for f in flow_runs]
    assert len({r[:8] for r in run_ids}) == 50
    assert all(len(r) == 32 and int(r, 16) >= 0 and r == r.lower() for r in run_ids)  # the API's uuid4-hex shape
    assert run_ids == [run_id_of(str(f)) for f in flow_runs]  # stable: a flow run claimed again keeps its row


async def _run(arun_deployment, name: str, parameters: dict):
    return await arun_deployment(name, parameters=parameters, timeout=0)
