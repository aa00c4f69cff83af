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
    from api.db.models import Run
    from api.db.session import session_factory, upgrade
    from flowza.settings import get_settings

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
    from flowza.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATA_DIR", str(ROOT))
    get_settings.cache_clear()


@pytest.mark.usefixtures("flowza_worker", "repo_data")
def test_a_deployment_run_started_outside_flowza_becomes_a_run_of_a_saved_workflow():
    from prefect.deployments import arun_deployment

    from api.db import workflows
    from api.db.session import session_factory
    from deployments.runs import DEPLOYMENT_PATH
    from flowza.settings import get_settings

    # As `prefect deployment run flowza-workflow/run-workflow --param workflow=...` does: no run id, no workflow id.
    flow_run = asyncio.run(_run(arun_deployment, DEPLOYMENT_PATH, {"workflow": CLASSIFICATION}))
    run = wait_for_row(flow_run.id.hex)
    assert run.status == "completed" and run.flow_run_id == str(flow_run.id)
    assert run.record["progress"]["done"] == 5 and run.finished_at >= run.started_at
    with session_factory(get_settings().metadata_db_url)() as session:
        saved = workflows.get_workflow(session, run.workflow_id)
        assert saved.name == CLASSIFICATION["name"]
        assert workflows.get_version(session, saved.id, run.workflow_version).definition == CLASSIFICATION

    # Naming the saved workflow with an edited definition adds a version instead of a new workflow.
    edited = CLASSIFICATION | {"description": "edited in the Prefect UI"}
    again = asyncio.run(_run(arun_deployment, DEPLOYMENT_PATH, {"workflow": edited, "workflow_id": saved.id}))
    second = wait_for_row(again.id.hex)
    assert second.workflow_id == saved.id and second.workflow_version == 2 and second.status == "completed"


async def _run(arun_deployment, name: str, parameters: dict):
    return await arun_deployment(name, parameters=parameters, timeout=0)
