"""A failed run says why, on every read path: run detail, run list, workflow status.

The run is executed in-process by the real engine (real Prefect); the API then finds it as the
worker leaves it: a pending row and the engine's record in the object store.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

pytestmark = pytest.mark.usefixtures("prefect_api_url")

BROKEN = {"name": "Broken", "nodes": [
    {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
    {"id": "other", "type": "csv_loader", "parameters": {"file_path": "no-such-file.csv"}},
    {"id": "after", "type": "drop_nulls", "parameters": {}}],
    "connections": [{"source": "other", "target": "after"}]}


def recorded_run(client, definition: dict, *, finished: bool = False) -> tuple[str, str, dict]:
    """(workflow id, run id, record): the definition saved, run by the engine, its row created as the API does."""
    from metadata_db import runs as run_rows
    from api.deps import engine_for
    from flows.engine import execute
    from flowza_core.settings import get_settings

    workflow_id = client.post("/api/workflows/", json=definition).json()["id"]
    record = execute(definition)
    with Session(engine_for(get_settings().metadata_db_url)) as session:
        run_rows.create_run(session, workflow_id, run_id=record["run_id"])
        if finished:  # stored by an earlier version, which kept no run-level error
            run_rows.update_run_status(session, record["run_id"], record["status"],
                                       record={k: v for k, v in record.items() if k != "error"})
        session.commit()
    return workflow_id, record["run_id"], record


def test_a_failed_run_says_which_node_failed_and_why(client):
    workflow_id, run_id, record = recorded_run(client, BROKEN)
    error = record["error"]
    assert error["code"] == "FILE_NOT_FOUND" and error["node_id"] == "other"
    assert "no-such-file.csv" in error["message"] and set(error) == {"code", "message", "node_id"}

    detail = client.get(f"/api/runs/{run_id}").json()
    assert detail["status"] == "failed" and detail["error"] == error
    [listed] = client.get("/api/runs/", params={"workflow_id": workflow_id}).json()
    assert listed["run_id"] == run_id and listed["error"] == error
    status = client.get(f"/api/workflows/{workflow_id}/status").json()
    assert status["status"] == "failed" and status["error"] == error

    from metadata_db.models import Run
    from api.deps import engine_for
    from flowza_core.settings import get_settings

    with Session(engine_for(get_settings().metadata_db_url)) as session:
        assert session.get(Run, run_id).error == error  # stored, not only derived on the way out


def test_runs_recorded_without_a_run_level_error_get_it_from_their_nodes(client):
    workflow_id, run_id, record = recorded_run(client, BROKEN, finished=True)
    detail = client.get(f"/api/runs/{run_id}").json()
    assert detail["status"] == "failed" and detail["error"] == record["error"]


def test_a_completed_run_has_no_error(client):
    workflow_id, run_id, _ = recorded_run(client, {"name": "Fine", "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}}]})
    detail = client.get(f"/api/runs/{run_id}").json()
    assert detail["status"] == "completed" and detail["error"] is None


def test_run_reads_show_no_server_paths(client):
    from flowza_core.settings import get_settings

    workflow_id, run_id, record = recorded_run(client, BROKEN)
    assert record["nodes"]["load"]["outputs"]["dataset"]["uri"].startswith("file://")  # the engine's own record
    home = str(get_settings().home_dir)
    for path in (f"/api/runs/{run_id}", f"/api/tasks/{run_id}:load", f"/api/tasks/datasets/?workflow_id={workflow_id}",
                 f"/api/workflows/{workflow_id}/results"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert home not in answer.text and "file://" not in answer.text, (path, answer.text)
    assert client.get(f"/api/tasks/{run_id}:load/dataset").json()["total_rows"] == 150
