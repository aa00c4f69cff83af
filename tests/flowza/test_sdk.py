"""The Python SDK builds the same JSON and runs it on the same engine, here or on a running service."""

from __future__ import annotations

import json
from contextlib import ExitStack

import httpx
import pytest

from flowza import Workflow
from flowza.remote import ServiceError
from tests.conftest import api_server, free_port


def build():
    wf = Workflow("Titanic survival")
    load = wf.add("sample_dataset", name="titanic", label="Titanic")
    clean = wf.add("preprocess", columns_to_drop=["alive", "deck"])
    split = wf.add("train_test_split", target_column="survived", stratify=True)
    tail = wf.add("drop_nulls")
    wf.connect(load, clean).connect(clean, split).connect(split["test"], tail)
    return wf


def test_to_json_and_back():
    wf = build()
    doc = wf.to_json()
    assert [n["id"] for n in doc["nodes"]] == ["sample_dataset", "preprocess", "train_test_split", "drop_nulls"]
    assert doc["connections"][2] == {"source": "train_test_split", "target": "drop_nulls", "sourceHandle": "test"}
    again = Workflow.from_json(json.dumps(doc))
    assert again.to_json() == doc
    assert wf.validate() == []


def test_ids_are_unique_and_mistakes_are_caught():
    wf = Workflow()
    a, b = wf.add("drop_nulls"), wf.add("drop_nulls")
    assert a.id != b.id
    with pytest.raises(ValueError, match="already used"):
        wf.add("drop_nulls", id=a.id)
    with pytest.raises(ValueError, match="another workflow"):
        wf.connect(a, Workflow().add("drop_nulls"))
    assert {p.code for p in wf.validate() if p.severity == "error"} == {"MISSING_INPUT"}


def test_run_returns_the_run_record(flowza_env, prefect_api_url):
    events = []
    result = build().run(on_event=events.append)
    assert result["status"] == "completed"
    assert result["nodes"]["drop_nulls"]["outputs"]["dataset"]["rows"] == \
        result["nodes"]["train_test_split"]["outputs"]["test"]["rows"]
    assert [e["node_id"] for e in events if e["event"] == "node_finished"][0] == "sample_dataset"
    assert {"run_id": result["run_id"], "event": "run_finished", "status": "completed"}.items() <= events[-1].items()


# --- submitting to a running service -----------------------------------------------------------

@pytest.fixture
def serve(flowza_env, flowza_worker, monkeypatch):
    """``serve(**env)``: the real API on a free 127.0.0.1 port (uvicorn), runs taken by the Flowza worker.

    Returns its base URL; ``env`` sets FLOWZA_* variables first (e.g. AUTH_ENABLED="true").
    """
    from flowza_core.settings import get_settings

    with ExitStack() as servers:
        def start(**env) -> str:
            for name, value in env.items():
                monkeypatch.setenv(f"FLOWZA_{name}", value)
            get_settings.cache_clear()
            return servers.enter_context(api_server("flowza-sdk-test-server"))

        yield start


def test_submit_runs_on_the_service_and_the_run_is_listed_there(serve):
    url = serve()
    wf = build()
    run = wf.submit(url + "/")  # a trailing slash is fine
    assert run.run_id and run.workflow_id and run.url == url
    assert run.status() in ("pending", "running", "completed")
    record = run.wait(timeout=120)
    assert record["status"] == "completed", record
    assert record["nodes"]["drop_nulls"]["outputs"]["dataset"]["rows"] == \
        record["nodes"]["train_test_split"]["outputs"]["test"]["rows"]
    assert run.status() == "completed"
    assert [r["run_id"] for r in httpx.get(f"{url}/api/runs/").json()] == [run.run_id]
    saved = httpx.get(f"{url}/api/workflows/{run.workflow_id}").json()
    assert saved["definition"]["nodes"] == wf.to_json()["nodes"]  # what the editor opens


def test_submit_shows_the_services_refusal(serve):
    url = serve()
    wf = Workflow("broken")
    wf.connect(wf.add("drop_nulls"), wf.add("normalize"))  # drop_nulls has no input
    with pytest.raises(ServiceError) as err:
        wf.submit(url)
    assert (err.value.status, err.value.code) == (422, "INVALID_WORKFLOW")
    assert "[drop_nulls.dataset] input 'dataset' (dataset) is not connected" in err.value.message
    assert err.value.details["problems"][0]["node_id"] == "drop_nulls"
    assert httpx.get(f"{url}/api/workflows/").json() == []  # nothing saved


def test_submit_to_nothing_says_the_service_is_unreachable():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ServiceError) as err:
        build().submit(url)
    assert err.value.code == "SERVICE_UNREACHABLE" and err.value.status is None
    assert url in err.value.message and "flowza up" in err.value.message


def test_submit_to_a_multi_user_service_takes_a_token(serve):
    url = serve(AUTH_ENABLED="true")
    with pytest.raises(ServiceError) as err:
        build().submit(url)
    assert err.value.status == 401 and "token=" in err.value.message
    account = {"email": "ada@example.com", "password": "correct horse battery"}
    assert httpx.post(f"{url}/api/auth/register", json=account).status_code == 201
    token = httpx.post(f"{url}/api/auth/login", json=account).json()["access_token"]
    run = build().submit(url, token=token)
    assert run.wait(timeout=120)["status"] == "completed"
    mine = httpx.get(f"{url}/api/runs/", headers={"Authorization": f"Bearer {token}"}).json()
    assert [r["run_id"] for r in mine] == [run.run_id]
