"""Accounts, tokens, ownership and sharing in multi-user mode; no login in single-user mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())


def test_single_user_mode_needs_no_login(client):
    me = client.get("/api/auth/me").json()
    assert me == {"auth_enabled": False, "user": None}
    assert client.post("/api/workflows/", json=CLASSIFICATION).status_code == 201
    refused = client.post("/api/auth/register", json={"email": "a@example.com", "password": "x" * 10})
    assert refused.status_code == 404 and refused.json()["code"] == "AUTH_DISABLED"


def test_register_login_me(multi_user):
    ada = multi_user("Ada@Example.com")
    me = ada.get("/api/auth/me").json()
    assert me["auth_enabled"] is True and me["user"]["email"] == "ada@example.com"
    again = ada.post("/api/auth/register", json={"email": "ada@example.com", "password": "another password"})
    assert again.status_code == 201 and again.json()["email"] == "ada@example.com"  # see test_abuse.py


def test_wrong_or_missing_credentials_are_401(multi_user):
    ada = multi_user("ada@example.com")
    wrong = ada.post("/api/auth/login", json={"email": "ada@example.com", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json()["message"] == "wrong email or password"
    form = ada.post("/api/auth/token", data={"username": "ada@example.com", "password": "correct horse battery"})
    assert form.status_code == 200 and form.json()["token_type"] == "bearer"

    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        ada.headers.pop("Authorization", None)
        ada.headers.update(headers)
        answer = ada.get("/api/workflows/")
        assert answer.status_code in (401, 403), (headers, answer.text)
        assert answer.json()["code"] in ("UNAUTHORIZED", "FORBIDDEN")


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-email", "password": "long enough"}, "body.email"),
    ({"email": "a@example.com", "password": "short"}, "body.password"),
    ({"email": "a@example.com", "password": "é" * 40}, "body.password"),  # 80 bytes: over bcrypt's 72
])
def test_bad_registrations_name_the_field(multi_user, body, field):
    ada = multi_user("ada@example.com")
    answer = ada.post("/api/auth/register", json=body)
    assert answer.status_code == 422
    assert field in [p["field"] for p in answer.json()["details"]["problems"]]


def test_expired_token_says_log_in_again(multi_user, monkeypatch):
    from flowza_core.settings import get_settings

    ada = multi_user("ada@example.com")
    monkeypatch.setenv("FLOWZA_TOKEN_MINUTES", "1")
    get_settings.cache_clear()
    import jwt

    from api.auth import ALGORITHM, secret_key

    claims = {"sub": ada.get("/api/auth/me").json()["user"]["id"], "exp": 1_000_000_000}
    ada.headers["Authorization"] = "Bearer " + jwt.encode(claims, secret_key(get_settings()), ALGORITHM)
    answer = ada.get("/api/auth/me")
    assert answer.status_code == 401 and "expired" in answer.json()["message"]


def test_users_see_only_their_own_workflows_and_runs_unless_shared(multi_user):
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    workflow = ada.post("/api/workflows/", json=CLASSIFICATION).json()
    wid = workflow["id"]

    # Bob cannot list, read, change, run, share or delete it: it does not exist for him.
    assert bob.get("/api/workflows/").json() == []
    for method, path, body in [("get", f"/api/workflows/{wid}", None), ("put", f"/api/workflows/{wid}", CLASSIFICATION),
                               ("delete", f"/api/workflows/{wid}", None),
                               ("post", f"/api/workflows/{wid}/execute", {}),
                               ("get", f"/api/workflows/{wid}/status", None),
                               ("get", f"/api/workflows/{wid}/shares/", None),
                               ("get", f"/api/tasks/datasets/?workflow_id={wid}", None)]:
        answer = bob.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["code"] == "NOT_FOUND"

    # Shared as viewer: Bob reads it but cannot change or run it.
    shared = ada.put(f"/api/workflows/{wid}/shares/", json={"email": "bob@example.com", "role": "viewer"})
    assert shared.status_code == 200 and shared.json()["role"] == "viewer"
    assert [w["id"] for w in bob.get("/api/workflows/").json()] == [wid]
    assert bob.get(f"/api/workflows/{wid}").status_code == 200
    assert bob.put(f"/api/workflows/{wid}", json=CLASSIFICATION | {"name": "mine"}).status_code == 403
    assert bob.post(f"/api/workflows/{wid}/execute", json={}).status_code == 403
    assert bob.put(f"/api/workflows/{wid}/shares/", json={"email": "bob@example.com", "role": "editor"}
                   ).status_code == 403

    # As editor he saves a new version, but still cannot delete or re-share it.
    ada.put(f"/api/workflows/{wid}/shares/", json={"email": "bob@example.com", "role": "editor"})
    saved = bob.put(f"/api/workflows/{wid}", json=CLASSIFICATION | {"name": "edited by bob"})
    assert saved.status_code == 200 and saved.json()["current_version"] == 2
    assert bob.delete(f"/api/workflows/{wid}").status_code == 403

    # Unshared: gone again.
    bob_id = bob.get("/api/auth/me").json()["user"]["id"]
    assert ada.delete(f"/api/workflows/{wid}/shares/{bob_id}").status_code == 204
    assert bob.get(f"/api/workflows/{wid}").status_code == 404


def test_sharing_refuses_unknown_users_and_roles(multi_user):
    ada = multi_user("ada@example.com")
    wid = ada.post("/api/workflows/", json=CLASSIFICATION).json()["id"]
    unknown = ada.put(f"/api/workflows/{wid}/shares/", json={"email": "nobody@example.com", "role": "viewer"})
    assert unknown.status_code == 404
    bad_role = ada.put(f"/api/workflows/{wid}/shares/", json={"email": "ada@example.com", "role": "admin"})
    assert bad_role.status_code == 422
    itself = ada.put(f"/api/workflows/{wid}/shares/", json={"email": "ada@example.com", "role": "editor"})
    assert itself.status_code == 400 and "owner" in itself.json()["message"]


@pytest.mark.usefixtures("flowza_worker")
def test_runs_are_isolated_between_users(multi_user):
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    created = ada.post("/api/workflows/run", json=CLASSIFICATION)
    assert created.status_code == 200, created.text
    run_id = created.json()["run_id"]
    assert bob.get("/api/runs/").json() == []
    for method, path in [("get", f"/api/runs/{run_id}"), ("get", f"/api/runs/{run_id}/logs"),
                         ("post", f"/api/runs/{run_id}/cancel"), ("post", f"/api/runs/{run_id}/rerun"),
                         ("get", f"/api/tasks/{run_id}:load"), ("get", f"/api/tasks/{run_id}:load/dataset")]:
        answer = bob.request(method, path)
        assert answer.status_code == 404, (method, path, answer.text)
    assert [r["run_id"] for r in ada.get("/api/runs/").json()] == [run_id]
    assert ada.get(f"/api/runs/{run_id}").status_code == 200


def test_run_submissions_are_rate_limited_with_retry_after(client, monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_RUNS_PER_MINUTE", "2")
    get_settings.cache_clear()
    invalid = {"nodes": [{"id": "x", "type": "no_such_node"}], "connections": []}
    assert [client.post("/api/workflows/run", json=invalid).status_code for _ in range(2)] == [422, 422]
    limited = client.post("/api/workflows/run", json=invalid)
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_sliding_window_frees_a_slot_after_the_window():
    from api.rate_limit import SlidingWindow

    window = SlidingWindow(window_s=10)
    assert window.hit(["ip:a", "user:1"], 2, now=0) == 0
    assert window.hit(["ip:b", "user:1"], 2, now=1) == 0
    assert window.hit(["ip:c", "user:1"], 2, now=2) == pytest.approx(8)  # the user is over, whatever the IP
    assert window.hit(["ip:c"], 2, now=2) == 0
    assert window.hit(["ip:d", "user:1"], 2, now=10.5) == 0  # the first hit has left the window
