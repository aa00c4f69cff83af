"""Schedules: each scheduled workflow is a Prefect deployment holding its schedules; runs go to the worker."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())
SMALL = {"name": "small", "nodes": [{"id": "data", "type": "sample_dataset", "parameters": {"name": "iris"}},
                                    {"id": "clean", "type": "drop_nulls"}],
         "connections": [{"source": "data", "target": "clean"}]}

pytestmark = pytest.mark.usefixtures("flowza_worker")  # the worker creates the "flowza" work pool


def prefect(call):
    """Run ``call(client)`` against the test Prefect server."""
    from prefect.client.orchestration import get_client

    async def main():
        async with get_client() as client:
            return await call(client)

    return asyncio.run(main())


def read_deployment(workflow_id: str):
    from prefect.exceptions import ObjectNotFound

    async def read(client):
        try:
            return await client.read_deployment_by_name(f"flowza-workflow/workflow-{workflow_id}")
        except ObjectNotFound:
            return None

    return prefect(read)


def held(workflow_id: str) -> dict:
    """Prefect's schedules of the workflow by Flowza schedule id."""
    deployment = read_deployment(workflow_id)
    return {s.slug.removeprefix("flowza-"): s for s in deployment.schedules}


def saved(client, definition: dict) -> str:
    created = client.post("/api/workflows/", json=definition)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_schedules_live_in_the_workflows_prefect_deployment(client):
    workflow_id = saved(client, CLASSIFICATION)
    url = f"/api/workflows/{workflow_id}/schedules"
    cron = client.post(url, json={"cron": "0 6 * * 1-5", "timezone": "Europe/Paris"})
    assert cron.status_code == 201, cron.text
    cron = cron.json()
    assert (cron["cron"], cron["timezone"], cron["active"]) == ("0 6 * * 1-5", "Europe/Paris", True)

    deployment = read_deployment(workflow_id)
    assert str(deployment.id) == cron["prefect_deployment_id"] and deployment.work_pool_name == "flowza"
    # A reference, not the definition: the worker reads the current version when a run starts.
    assert deployment.parameters == {"workflow_id": workflow_id, "use_cache": True}
    schedule = held(workflow_id)[cron["id"]]
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("0 6 * * 1-5",
                                                                                   "Europe/Paris", True)

    interval = client.post(url, json={"interval_seconds": 3600}).json()
    assert interval["timezone"] == "UTC"
    assert held(workflow_id)[interval["id"]].schedule.interval.total_seconds() == 3600
    assert [s["id"] for s in client.get(url).json()] == [cron["id"], interval["id"]]

    paused = client.patch(f"{url}/{cron['id']}", json={"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    now = held(workflow_id)
    assert now[cron["id"]].active is False and now[interval["id"]].active is True
    assert now[cron["id"]].schedule.timezone == "Europe/Paris"  # kept across updates
    assert client.patch(f"{url}/{cron['id']}", json={"active": True}).json()["active"] is True
    assert held(workflow_id)[cron["id"]].active is True

    # Scheduled runs follow the current version: the deployment names the workflow, not a definition.
    edited = client.patch(f"/api/workflows/{workflow_id}/nodes/train", json={"parameters": {"C": 0.5}})
    assert edited.status_code == 200, edited.text
    assert read_deployment(workflow_id).parameters == {"workflow_id": workflow_id, "use_cache": True}

    assert client.delete(f"{url}/{cron['id']}").status_code == 204
    assert list(held(workflow_id)) == [interval["id"]]
    assert client.delete(f"{url}/{interval['id']}").status_code == 204
    assert read_deployment(workflow_id) is None and client.get(url).json() == []
    assert client.delete(f"{url}/{interval['id']}").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"cron": "61 * * * *"}, "cron"), ({"cron": "every day"}, "cron"), ({"cron": "H * * * *"}, "cron"),
    ({"interval_seconds": 0}, "interval_seconds"), ({"interval_seconds": -5}, "interval_seconds"),
    ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "timezone"),
    ({"cron": "0 6 * * *", "interval_seconds": 60}, "interval_seconds"), ({}, "cron"),
])
def test_bad_schedules_are_422_naming_the_field_and_nothing_is_saved(client, body, field):
    workflow_id = saved(client, SMALL)
    response = client.post(f"/api/workflows/{workflow_id}/schedules", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert client.get(f"/api/workflows/{workflow_id}/schedules").json() == []
    assert read_deployment(workflow_id) is None



@pytest.mark.parametrize("body", [{"interval_seconds": 1}, {"interval_seconds": 59}, {"cron": "* * * * * *"},
                                  {"cron": "*/5 * * * * 0,30"}, {"cron": "0 0 1 1 * 0,1 2030"}])
def test_schedules_more_frequent_than_the_minimum_are_422_naming_the_setting(client, body):
    workflow_id = saved(client, SMALL)
    response = client.post(f"/api/workflows/{workflow_id}/schedules", json=body)
    assert response.status_code == 422, response.text
    assert next(iter(body)) in response.json()["message"]
    assert "at most every 60 s (FLOWZA_MIN_SCHEDULE_SECONDS)" in response.json()["message"]
    assert read_deployment(workflow_id) is None


def test_the_minimum_interval_follows_the_setting(client, monkeypatch):
    from flowza_core.settings import get_settings

    workflow_id = saved(client, SMALL)
    url = f"/api/workflows/{workflow_id}/schedules"
    for body in ({"interval_seconds": 60, "active": False}, {"cron": "* * * * *", "active": False}):
        assert client.post(url, json=body).status_code == 201  # every minute is fine at the default 60 s
    monkeypatch.setenv("FLOWZA_MIN_SCHEDULE_SECONDS", "3600")
    get_settings.cache_clear()
    refused = client.post(url, json={"cron": "*/30 * * * *"})
    assert refused.status_code == 422 and "at most every 3600 s" in refused.json()["message"]
    assert client.post(url, json={"cron": "0 * * * *", "active": False}).status_code == 201
    older = client.get(url).json()[0]  # made under the old minimum: it may not be resumed under the new one
    resumed = client.patch(f"{url}/{older['id']}", json={"active": True})
    assert resumed.status_code == 400 and resumed.json()["code"] == "INVALID_PARAMETER", resumed.text
    assert "FLOWZA_MIN_SCHEDULE_SECONDS" in resumed.json()["message"]
    assert client.get(url).json()[0]["active"] is False

def test_a_draft_cannot_be_scheduled_and_unknown_ids_are_404(client):
    draft = saved(client, {"name": "draft", "nodes": [{"id": "clean", "type": "drop_nulls"}]})
    refused = client.post(f"/api/workflows/{draft}/schedules", json={"interval_seconds": 60})
    assert refused.status_code == 422 and refused.json()["code"] == "INVALID_WORKFLOW"
    assert client.get(f"/api/workflows/{draft}/schedules").json() == []
    assert client.post("/api/workflows/nope/schedules", json={"interval_seconds": 60}).status_code == 404
    assert client.patch(f"/api/workflows/{draft}/schedules/nope", json={"active": False}).status_code == 404


def test_when_prefect_refuses_the_change_is_rolled_back(client, monkeypatch):
    import deployments.schedules

    workflow_id = saved(client, SMALL)
    url = f"/api/workflows/{workflow_id}/schedules"
    kept = client.post(url, json={"interval_seconds": 600}).json()
    # A work pool Prefect does not know: the Prefect API itself refuses the deployment.
    monkeypatch.setattr(deployments.schedules, "WORK_POOL", "no-such-pool")
    refused = client.post(url, json={"cron": "0 6 * * *"})
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "PREFECT_UNAVAILABLE"
    assert [s["id"] for s in client.get(url).json()] == [kept["id"]]
    assert list(held(workflow_id)) == [kept["id"]]
    assert client.patch(f"{url}/{kept['id']}", json={"active": False}).status_code == 503
    assert client.get(url).json()[0]["active"] is True and held(workflow_id)[kept["id"]].active is True


def test_viewers_see_schedules_and_only_editors_change_them(multi_user):
    owner, viewer, stranger = (multi_user(f"{name}@example.com") for name in ("own", "view", "other"))
    workflow_id = saved(owner, SMALL)
    url = f"/api/workflows/{workflow_id}/schedules"
    schedule = owner.post(url, json={"interval_seconds": 600})
    assert schedule.status_code == 201, schedule.text
    shared = owner.put(f"/api/workflows/{workflow_id}/shares", json={"email": "view@example.com", "role": "viewer"})
    assert shared.status_code in (200, 201), shared.text

    assert [s["id"] for s in viewer.get(url).json()] == [schedule.json()["id"]]
    for response in (viewer.post(url, json={"interval_seconds": 60}),
                     viewer.patch(f"{url}/{schedule.json()['id']}", json={"active": False}),
                     viewer.delete(f"{url}/{schedule.json()['id']}")):
        assert response.status_code == 403, response.text
    assert stranger.get(url).status_code == 404
    assert list(held(workflow_id)) == [schedule.json()["id"]] and held(workflow_id)[schedule.json()["id"]].active


def flow_runs(deployment_id) -> list:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    return prefect(lambda client: client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))))


def finished(deployment_id, timeout: float = 60):
    """The deployment's only flow run, once it has ended."""
    deadline = time.monotonic() + timeout
    while not (runs := flow_runs(deployment_id)) or not runs[0].state.is_final():
        assert time.monotonic() < deadline, f"flow run not finished: {runs and runs[0].state}"
        time.sleep(0.3)
    assert len(runs) == 1
    return runs[0]


def test_a_run_of_the_scheduled_deployment_is_a_flowza_run_of_the_saved_definition(client):
    from prefect.deployments import run_deployment

    workflow_id = saved(client, SMALL)
    schedule = client.post(f"/api/workflows/{workflow_id}/schedules", json={"cron": "0 3 * * *"}).json()
    started = run_deployment(f"flowza-workflow/workflow-{workflow_id}", timeout=0)
    flow_run = finished(schedule["prefect_deployment_id"])
    assert flow_run.id == started.id and flow_run.state.is_completed(), flow_run.state
    assert flow_run.parameters == {"workflow_id": workflow_id, "use_cache": True}
    runs = client.get("/api/runs/", params={"workflow_id": workflow_id}).json()
    assert [(r["flow_run_id"], r["status"], r["workflow_version"]) for r in runs] == [
        (str(flow_run.id), "completed", 1)]
    assert runs[0]["progress"]["done"] == len(SMALL["nodes"])  # the saved definition ran


# Needs SQLAlchemy < 2.1 (pinned): with 2.1, Prefect 3.8.8's server cannot insert scheduled flow runs.
def test_prefect_schedules_runs_from_an_active_schedule_only(client, monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_MIN_SCHEDULE_SECONDS", "1")  # the next run is due at once, not in a minute
    get_settings.cache_clear()
    workflow_id = saved(client, SMALL)
    url = f"/api/workflows/{workflow_id}/schedules"
    schedule = client.post(url, json={"interval_seconds": 2, "active": False}).json()
    deployment_id = schedule["prefect_deployment_id"]
    schedule_runs_now(deployment_id)
    assert flow_runs(deployment_id) == []  # a paused schedule makes no runs

    client.patch(f"{url}/{schedule['id']}", json={"active": True})
    schedule_runs_now(deployment_id)
    flow_run = finished(deployment_id)
    assert flow_run.auto_scheduled and flow_run.state.is_completed(), flow_run.state
    assert flow_run.parameters == {"workflow_id": workflow_id, "use_cache": True}


def schedule_runs_now(deployment_id) -> None:
    """What Prefect's scheduler service does (the test server runs no services): create the next run."""
    from prefect.settings import PREFECT_API_URL

    # Plain httpx: Prefect's client would retry a server error for a minute. A 503 is Prefect's SQLite
    # database locked by other writes (Prefect issue 18934): asked again after a moment.
    for attempt in range(5):
        answer = httpx.post(f"{PREFECT_API_URL.value()}/deployments/{deployment_id}/schedule",
                            json={"max_runs": 1}, timeout=30)
        if answer.status_code != 503:
            break
        time.sleep(1 + attempt)
    answer.raise_for_status()


def test_a_schedule_cannot_read_another_users_dataset(multi_user):
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    csv = (ROOT / "examples" / "data" / "titanic.csv").read_bytes()
    dataset = ada.post("/api/upload", files={"file": ("titanic.csv", csv, "text/csv")}).json()
    workflow = {"name": "borrowed", "nodes": [dataset["loader"] | {"id": "load"},
                                              {"id": "clean", "type": "drop_nulls"}],
                "connections": [{"source": "load", "target": "clean"}]}
    workflow_id = bob.post("/api/workflows/", json=workflow).json()["id"]
    refused = bob.post(f"/api/workflows/{workflow_id}/schedules", json={"interval_seconds": 60})
    assert refused.status_code == 404 and refused.json()["code"] == "NOT_FOUND"
    assert bob.get(f"/api/workflows/{workflow_id}/schedules").json() == []
