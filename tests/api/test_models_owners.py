"""Registered models belong to their creator (multi-user mode): two users, runs through the real API and worker."""

from __future__ import annotations

import time

import pytest

FINAL = ("completed", "failed", "cancelled", "crashed")


def registering(name: str, alias: str = "champion") -> dict:
    return {"name": f"register {name}", "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target"}},
        {"id": "train", "type": "train_logreg", "parameters": {}},
        {"id": "register", "type": "register_model", "parameters": {"name": name, "alias": alias}}],
        "connections": [{"source": "load", "target": "split"},
                        {"source": "split", "sourceHandle": "train", "target": "train"},
                        {"source": "train", "target": "register"}]}


def run(client, workflow: dict, timeout: float = 180) -> dict:
    started = client.post("/api/workflows/run", json=workflow)
    assert started.status_code == 200, started.text
    run_id, deadline = started.json()["run_id"], time.monotonic() + timeout
    while (body := client.get(f"/api/runs/{run_id}").json())["status"] not in FINAL:
        assert time.monotonic() < deadline, f"run still {body['status']} after {timeout} s"
        time.sleep(0.3)
    return body


@pytest.mark.usefixtures("flowza_worker")
def test_a_model_is_its_creators_and_shared_like_a_workflow(multi_user):
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    bob_id = bob.get("/api/auth/me").json()["user"]["id"]
    first = run(ada, registering("iris-ada"))
    assert first["status"] == "completed", first["error"]
    assert [m["name"] for m in ada.get("/api/models/").json()] == ["iris-ada"]
    assert ada.get("/api/models/iris-ada").json()["versions"][0]["lineage"]["flowza_run_id"] == first["run_id"]

    # Bob does not see it, cannot move or remove its champion, and cannot register under its name.
    assert bob.get("/api/models/").json() == []
    for method, url, body in (("get", "/api/models/iris-ada", None), ("get", "/api/models/iris-ada/versions/1", None),
                              ("get", "/api/models/iris-ada/versions/1/download", None),
                              ("get", "/api/models/iris-ada/shares", None),
                              ("put", "/api/models/iris-ada/aliases/champion", {"version": 1}),
                              ("delete", "/api/models/iris-ada/aliases/champion", None)):
        answer = bob.request(method, url, json=body)
        assert answer.status_code == 404 and answer.json()["code"] == "MODEL_NOT_FOUND", (method, url, answer.text)
    taken = run(bob, registering("iris-ada"))
    assert taken["status"] == "failed", taken
    assert taken["nodes"]["train"]["status"] == "completed", taken
    error = taken["nodes"]["register"]["error"]
    assert error["code"] == "MODEL_NAME_TAKEN" and "taken by another user" in error["message"], error
    detail = ada.get("/api/models/iris-ada").json()
    assert [v["version"] for v in detail["versions"]] == [1] and detail["aliases"] == {"champion": 1}

    # Shared as viewer: Bob sees the model (not the run behind it) and still changes nothing.
    shared = ada.post("/api/models/iris-ada/shares", json={"email": "bob@example.com", "role": "viewer"})
    assert shared.status_code == 200 and shared.json() == {"user_id": bob_id, "email": "bob@example.com",
                                                           "role": "viewer"}
    assert [m["name"] for m in bob.get("/api/models/").json()] == ["iris-ada"]
    [version] = bob.get("/api/models/iris-ada").json()["versions"]
    assert version["lineage"]["flowza_run_id"] is None and version["lineage"]["workflow_id"] is None
    assert version["links"] == {} and version["status"] == "READY"
    assert bob.get("/api/models/iris-ada/versions/1/download").status_code == 200
    moved = bob.put("/api/models/iris-ada/aliases/champion", json={"version": 1})
    assert moved.status_code == 403 and moved.json()["code"] == "FORBIDDEN"
    assert bob.post("/api/models/iris-ada/shares", json={"email": "ada@example.com", "role": "editor"}
                    ).status_code == 403
    assert run(bob, registering("iris-ada"))["nodes"]["register"]["error"]["code"] == "MODEL_NAME_TAKEN"

    # Shared as editor: Bob moves aliases and adds versions under the name.
    assert ada.post("/api/models/iris-ada/shares", json={"email": "bob@example.com", "role": "editor"}
                    ).json()["role"] == "editor"
    assert bob.put("/api/models/iris-ada/aliases/staging", json={"version": 1}).status_code == 200
    second = run(bob, registering("iris-ada", alias="challenger"))
    assert second["status"] == "completed", second["error"]
    detail = ada.get("/api/models/iris-ada").json()
    assert detail["aliases"] == {"champion": 1, "staging": 1, "challenger": 2}
    assert bob.delete("/api/models/iris-ada/aliases/staging").status_code == 204
    assert [s["role"] for s in ada.get("/api/models/iris-ada/shares").json()] == ["editor"]

    # Unshared: gone for Bob again; the model stays Ada's (Bob's version does not make it his).
    assert ada.delete(f"/api/models/iris-ada/shares/{bob_id}").status_code == 204
    assert bob.get("/api/models/").json() == []
    assert bob.get("/api/models/iris-ada").status_code == 404
    assert ada.get("/api/models/iris-ada").json()["aliases"] == {"champion": 1, "challenger": 2}


@pytest.mark.usefixtures("flowza_worker")
def test_each_user_registers_their_own_names(multi_user):
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    assert run(ada, registering("iris-a"))["status"] == "completed"
    assert run(bob, registering("iris-b"))["status"] == "completed"
    assert [m["name"] for m in ada.get("/api/models/").json()] == ["iris-a"]
    assert [m["name"] for m in bob.get("/api/models/").json()] == ["iris-b"]
    assert bob.post("/api/models/iris-a/shares", json={"email": "bob@example.com", "role": "editor"}
                    ).status_code == 404
    sharing_with_self = ada.post("/api/models/iris-a/shares", json={"email": "ada@example.com", "role": "viewer"})
    assert sharing_with_self.status_code in (400, 422), sharing_with_self.text
