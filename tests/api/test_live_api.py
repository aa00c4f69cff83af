"""Live run updates over WebSocket, on real runs executed by the Flowza worker."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.websockets import WebSocketDisconnect

ROOT = Path(__file__).resolve().parents[2]
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())
_receiver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ws-receive")


def receive(ws, timeout: float = 60) -> dict:
    """The next event; raises WebSocketDisconnect when the server closed (TestClient has no timeout)."""
    return _receiver.submit(ws.receive_json).result(timeout=timeout)


def until_closed(ws, timeout: float = 90) -> tuple[list[dict], WebSocketDisconnect]:
    deadline, events = time.monotonic() + timeout, []
    while True:
        try:
            events.append(receive(ws, max(0.1, deadline - time.monotonic())))
        except WebSocketDisconnect as closed:
            return events, closed


def live(client) -> dict:
    """What the app's watcher registry holds right now (read on the app's event loop)."""
    async def read():
        from api.services.watch import registry

        found = registry()
        return {"runs": {k: len(w.subscribers) for k, w in found.runs.items()},
                "workflows": {k: len(w.subscribers) for k, w in found.workflows.items()},
                "record_reads": found.record_reads}

    return client.portal.call(read)


def submit(client, workflow: dict) -> dict:
    response = client.post("/api/workflows/run", json=workflow)
    assert response.status_code == 200, response.text
    return response.json()


def chain(*nodes) -> dict:
    return {"name": "chain", "nodes": [{"id": n, "type": t, "parameters": p} for n, t, p in nodes],
            "connections": [{"source": a[0], "target": b[0]} for a, b in zip(nodes, nodes[1:])]}


def sleepy(count: int, seconds: float) -> dict:
    return chain(("load", "sample_dataset", {"name": "iris"}),
                 *[(f"wait{i}", "sleep_for_test", {"seconds": seconds}) for i in range(count)])


@pytest.mark.usefixtures("flowza_worker")
def test_a_run_streams_node_states_progress_logs_then_ends_and_closes(client):
    run_id = submit(client, CLASSIFICATION)["run_id"]
    with client.websocket_connect(f"/api/ws/runs/{run_id}") as ws:
        events, closed = until_closed(ws)
    assert events[0]["type"] == "snapshot" and events[0]["run"]["run_id"] == run_id
    node_ids = {node["id"] for node in CLASSIFICATION["nodes"]}
    completed = {e["node_id"] for e in events if e["type"] == "node" and e["status"] == "completed"}
    assert completed == node_ids
    evaluate = next(e for e in events if e["type"] == "node" and e["node_id"] == "evaluate"
                    and e["status"] == "completed")
    assert evaluate["duration_s"] > 0 and evaluate["outputs"]
    percents = [e["percent"] for e in events if e["type"] == "progress"]
    assert percents == sorted(percents) and percents[-1] == 100.0
    logs = [e for e in events if e["type"] == "log"]
    assert logs and {"level", "message", "timestamp"} <= set(logs[0])
    assert {line["node_id"] for line in logs} >= node_ids, "every node's lines name it"
    assert events[-1] == {"type": "run", "run_id": run_id, "status": "completed"}
    assert closed.code == 1000
    assert [e for e in events if e["type"] == "run"] == [events[-1]]
    assert live(client)["runs"] == {}  # the watcher stopped once the run had ended
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "completed"

    # A finished run: its snapshot, its end, the close; no watcher is started for it.
    with client.websocket_connect(f"/api/ws/runs/{run_id}") as ws:
        again, closed = until_closed(ws, timeout=30)
    assert [e["type"] for e in again] == ["snapshot", "run"] and closed.code == 1000
    assert again[0]["run"]["status"] == "completed" and again[0]["run"]["progress"]["percent"] == 100.0
    assert live(client)["runs"] == {}


@pytest.mark.usefixtures("flowza_worker")
def test_two_clients_share_one_watcher_and_get_the_same_events(client):
    run_id = submit(client, sleepy(5, 1.0))["run_id"]
    with client.websocket_connect(f"/api/ws/runs/{run_id}") as first, \
            client.websocket_connect(f"/api/ws/runs/{run_id}") as second:
        assert receive(first)["type"] == receive(second)["type"] == "snapshot"
        before, t0 = live(client), time.monotonic()
        assert before["runs"] == {run_id: 2} and before["workflows"] == {}
        time.sleep(2.0)  # the run lasts 5 s: the watcher is polling all along
        after, t1 = live(client), time.monotonic()
        # One watcher polls every 0.25 s whatever the number of clients (two would read twice as often).
        assert 2 <= after["record_reads"] - before["record_reads"] <= (t1 - t0) / 0.25 + 1
        first_events, first_closed = until_closed(first)
        second_events, second_closed = until_closed(second)
    # The second client subscribed a moment after the first: it gets the same events from then on.
    assert second_events and first_events[-len(second_events):] == second_events
    assert first_closed.code == second_closed.code == 1000
    assert first_events[-1]["type"] == "run" and first_events[-1]["status"] == "completed"
    assert {e["node_id"] for e in second_events if e["type"] == "node" and e["status"] == "completed"} == {
        "load", *(f"wait{i}" for i in range(5))}
    assert live(client)["runs"] == {}


def test_unknown_run_or_workflow_closes_4404(client):
    for path in ("/api/ws/runs/no-such-run", "/api/workflows/no-such-workflow/ws"):
        with client.websocket_connect(path) as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(ws, timeout=30)
        assert closed.value.code == 4404 and "not found" in closed.value.reason
    assert live(client) == {"runs": {}, "workflows": {}, "record_reads": 0}


@pytest.mark.usefixtures("flowza_worker")
def test_a_cancelled_run_ends_with_a_cancelled_run_event(client):
    run_id = submit(client, sleepy(6, 1.0))["run_id"]
    with client.websocket_connect(f"/api/ws/runs/{run_id}") as ws:
        seen = [receive(ws)]
        while not (seen[-1]["type"] == "progress" and seen[-1]["done"] >= 2):
            seen.append(receive(ws, timeout=30))
        assert client.post(f"/api/runs/{run_id}/cancel").status_code == 202
        events, closed = until_closed(ws, timeout=30)
    assert events[-1] == {"type": "run", "run_id": run_id, "status": "cancelled"} and closed.code == 1000
    assert any(e["type"] == "node" and e["node_id"] == "wait5" and e["status"] == "cancelled" for e in events)


@pytest.mark.usefixtures("flowza_worker")
def test_the_workflow_socket_follows_its_latest_run(client):
    workflow = client.post("/api/workflows/", json=chain(("load", "sample_dataset", {"name": "iris"}),
                                                         ("clean", "drop_nulls", {}))).json()
    with client.websocket_connect(f"/api/workflows/{workflow['id']}/ws") as ws:
        runs = []
        for _ in range(2):  # a workflow never run sends nothing until its first run starts
            runs.append(client.post(f"/api/workflows/{workflow['id']}/execute").json()["run_id"])
            events = [receive(ws)]
            while events[-1]["type"] != "run":
                events.append(receive(ws))
            assert events[0]["type"] == "snapshot" and events[0]["run"]["run_id"] == runs[-1]
            assert {e["run_id"] for e in events} == {runs[-1]} and events[-1]["status"] == "completed"
        assert runs[0] != runs[1]
        assert live(client)["workflows"] == {workflow["id"]: 1}
    deadline = time.monotonic() + 5
    while (state := live(client))["runs"] or state["workflows"]:
        assert time.monotonic() < deadline, "watchers outlived their last client"
        time.sleep(0.05)


def test_multi_user_token_in_the_query_and_no_peeking(multi_user):
    from metadata_db.runs import create_run
    from metadata_db.session import session_factory
    from metadata_db.workflows import create_workflow
    from api.deps import engine_for
    from flowza_core.settings import get_settings

    owner, other = multi_user("owner@example.com"), multi_user("other@example.com")
    owner_id = owner.get("/api/auth/me").json()["user"]["id"]
    with session_factory(engine_for(get_settings().metadata_db_url))() as session:
        workflow = create_workflow(session, owner_id, chain(("load", "sample_dataset", {"name": "iris"})))
        run_id = create_run(session, workflow.id, owner_id=owner_id).id  # pending: never submitted
        session.commit()
    token = owner.headers["Authorization"].removeprefix("Bearer ")

    with owner.websocket_connect(f"/api/ws/runs/{run_id}?token={token}") as ws:
        first = receive(ws)
    assert first["type"] == "snapshot" and first["run"]["status"] == "pending"
    other_token = other.headers["Authorization"].removeprefix("Bearer ")
    for url, code in ((f"/api/ws/runs/{run_id}?token={other_token}", 4404),
                      (f"/api/workflows/{workflow.id}/ws?token={other_token}", 4404),
                      (f"/api/ws/runs/{run_id}", 4401), (f"/api/ws/runs/{run_id}?token=forged", 4401)):
        with other.websocket_connect(url, headers={"Authorization": ""}) as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                receive(ws, timeout=30)
        assert closed.value.code == code, url


def test_a_client_too_far_behind_is_dropped_with_a_close_not_waited_for():
    import asyncio

    from api.services.watch import Subscriber

    async def scenario():
        slow, fast = Subscriber(size=3), Subscriber(size=10)
        for n in range(5):
            for subscriber in (slow, fast):
                subscriber.put({"type": "progress", "done": n})
        return [await slow.get()], slow.queue.qsize(), [(await fast.get())["done"] for _ in range(5)]

    slow_events, left, fast_events = asyncio.run(scenario())
    assert slow_events[0]["type"] == "close" and slow_events[0]["code"] == 1013 and left == 0
    assert fast_events == [0, 1, 2, 3, 4]
