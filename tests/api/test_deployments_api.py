"""/api/deployments over a real MLflow registry and each metadata database: deploy, invoke, swap, follow, log.

One Titanic training run registers titanic-survival v1 for the module; a second version is registered
from the same artifact (MLflow's own ``create_model_version``) where a test needs two.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import inspect

import metadata_db as db
from deployments.monitoring import delete_monitoring_deployment
from flowza_core.settings import get_settings
from tests.api.test_models_api import run_in_own_home, use_registry

ROOT = Path(__file__).resolve().parents[2]
TITANIC = json.loads((ROOT / "examples" / "titanic.json").read_text())
MODEL = "titanic-survival"


@pytest.fixture(scope="module")
def trained(prefect_api_url, tmp_path_factory):
    """The Titanic example run once: titanic-survival v1 (alias staging) in its own SQLite MLflow."""
    trained = run_in_own_home(TITANIC, tmp_path_factory.mktemp("deployments-home"))
    assert trained["record"]["status"] == "completed", trained["record"]
    return trained


def passengers(count: int, start: int = 0):
    """Raw Titanic rows as the loader reads them, without the label (rows with missing values included)."""
    from nodes.samples import load_sample

    return load_sample("titanic").drop(columns=["survived"]).iloc[start:start + count].reset_index(drop=True)


def split_body(frame, **extra) -> dict:
    return {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))} | extra


def model_of(tracking_uri: str, version: int = 1):
    import mlflow.sklearn

    from flows.tracking import configure_mlflow

    configure_mlflow(get_settings())
    assert get_settings().tracking_uri == tracking_uri
    return mlflow.sklearn.load_model(f"models:/{MODEL}/{version}")


def new_version(source_version: int = 1, source: str | None = None) -> int:
    """Register another version of the model (the same artifact unless ``source`` names another)."""
    from flows.tracking import configure_mlflow

    client = configure_mlflow(get_settings())
    original = client.get_model_version(MODEL, str(source_version))
    return int(client.create_model_version(MODEL, source or original.source, run_id=original.run_id).version)


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request, flowza_env, trained, monkeypatch):
    """``api()``: the single-user API on a fresh FLOWZA_HOME and each metadata database, reading the module's
    registry (called again, a new app on the same home and database: an API restart)."""
    from api.main import create_app

    if request.param == "postgresql":
        monkeypatch.setenv("FLOWZA_DATABASE_URL", request.getfixturevalue("postgres_database"))
    monkeypatch.setenv("FLOWZA_ALIAS_POLL_S", "0.5")
    use_registry(monkeypatch, trained["tracking_uri"])
    clients = []

    def start() -> TestClient:
        get_settings.cache_clear()
        client = TestClient(create_app())
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


def deploy(client, name: str = "titanic", **target) -> dict:
    created = client.post("/api/deployments", json={"name": name, "model": MODEL, **(target or {"version": 1})})
    assert created.status_code == 201, created.text
    return created.json()


def token_for(client, name: str = "titanic") -> str:
    created = client.post(f"/api/deployments/{name}/tokens", json={"name": "tests"})
    assert created.status_code == 201, created.text
    return created.json()["token"]


def invoke(client, token: str, body: dict, name: str = "titanic"):
    return client.post(f"/api/deployments/{name}/invocations", json=body, headers={"Authorization": f"Bearer {token}"})


# --- deploy and invoke -----------------------------------------------------------------------------------
def test_deploy_invoke_log_and_label(api, trained):
    client = api()
    created = deploy(client)
    assert {k: created[k] for k in ("name", "model", "version", "alias", "current_version", "status", "error",
                                    "monitoring_interval_s", "requests_total")} == {
        "name": "titanic", "model": MODEL, "version": 1, "alias": None, "current_version": 1, "status": "ready",
        "error": None, "monitoring_interval_s": 3600, "requests_total": 0}
    assert created["invocations_url"] == "http://testserver/api/deployments/titanic/invocations"
    assert created["thresholds"] == {"drift_psi": 0.2, "drift_p_value": 0.01, "accuracy_drop": 0.05,
                                     "rmse_increase": 0.2, "min_rows": 30}
    token = token_for(client)

    rows = passengers(12)
    rows = rows[rows["embarked"].notna()].reset_index(drop=True)
    expected_model = model_of(trained["tracking_uri"])
    expected = expected_model.predict(rows).tolist()
    expected_proba = expected_model.predict_proba(rows).tolist()
    answer = invoke(client, token, split_body(rows))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["predictions"] == expected and result["model_version"] == 1
    assert [p["1"] for p in result["probabilities"]] == pytest.approx([p[1] for p in expected_proba])
    assert answer.headers["x-request-id"] == result["request_id"] and "errors" not in result
    records = json.loads(rows.to_json(orient="records"))
    for body in ({"dataframe_records": records}, {"instances": records}, {"inputs": records}):
        other = invoke(client, token, body)
        assert other.status_code == 200 and other.json()["predictions"] == expected, other.text

    logged = client.get("/api/deployments/titanic/predictions", params={"limit": 1000}).json()
    assert logged["total"] == 4 * len(rows)
    mine = sorted((p for p in logged["items"] if p["request_id"] == result["request_id"]), key=lambda p: p["row"])
    assert [p["output"] for p in mine] == expected and [p["row"] for p in mine] == list(range(len(rows)))
    assert mine[0]["input"] == records[0] and mine[0]["model_version"] == 1 and mine[0]["label"] is None
    assert mine[0]["probability"]["1"] == pytest.approx(expected_proba[0][1]) and mine[0]["latency_ms"] > 0

    labelled = client.post("/api/deployments/titanic/feedback",
                           json=[{"request_id": result["request_id"], "label": 1},
                                 {"request_id": result["request_id"], "label": 0, "row": 2},
                                 {"request_id": "no-such-request", "label": 1}])
    assert labelled.status_code == 200 and labelled.json() == {"labelled": 2, "unknown": ["no-such-request"]}
    alone = client.post("/api/deployments/titanic/feedback", json={"request_id": "no-such-request", "label": 1})
    assert alone.status_code == 404 and alone.json()["code"] == "PREDICTION_NOT_FOUND"
    only = client.get("/api/deployments/titanic/predictions", params={"labelled": True}).json()
    assert only["total"] == 2 and {(p["row"], p["label"]) for p in only["items"]} == {(0, 1), (2, 0)}
    assert client.get("/api/deployments/titanic/predictions", params={"labelled": False}).json()["total"] == \
        4 * len(rows) - 2
    stats = client.get("/api/deployments/titanic/stats").json()
    assert stats == {"requests_total": 4, "predictions_total": 4 * len(rows), "last_minute": 4, "labelled_total": 2}
    listed = client.get("/api/deployments").json()
    assert [(d["name"], d["requests_total"], d["status"]) for d in listed] == [("titanic", 4, "ready")]


def test_a_label_sent_right_after_its_prediction_finds_it(api):
    client = api()
    deploy(client)
    token = token_for(client)
    for i in range(5):
        request_id = invoke(client, token, split_body(passengers(1, start=i))).json()["request_id"]
        labelled = client.post("/api/deployments/titanic/feedback", json={"request_id": request_id, "label": "yes"})
        assert labelled.status_code == 200 and labelled.json()["labelled"] == 1, labelled.text


def test_bad_rows_are_422_naming_rows_and_columns_and_skip_scores_the_others(api):
    client = api()
    deploy(client)
    token = token_for(client)
    rows = passengers(70)  # rows 61 and 62 have no port of embarkation, which training dropped
    missing_port = rows.index[rows["embarked"].isna()].tolist()
    assert missing_port
    failed = invoke(client, token, split_body(rows))
    assert failed.status_code == 422 and failed.json()["code"] == "INVALID_INPUT", failed.text
    errors = failed.json()["details"]["errors"]
    assert [e["row"] for e in errors] == missing_port and errors[0]["column"] == "embarked"

    skipped = invoke(client, token, split_body(rows, on_error="skip"))
    assert skipped.status_code == 200, skipped.text
    result = skipped.json()
    assert [e["row"] for e in result["errors"]] == missing_port
    assert all(result["predictions"][i] is None for i in missing_port)
    assert sum(p is not None for p in result["predictions"]) == len(rows) - len(missing_port)
    logged = client.get("/api/deployments/titanic/predictions", params={"limit": 1000}).json()
    assert logged["total"] == len(rows) - len(missing_port)  # only predictions are logged
    assert {p["row"] for p in logged["items"]} == set(range(len(rows))) - set(missing_port)
    # A missing age (NaN in the frame) is stored as JSON null, on PostgreSQL too.
    no_age = next(p for p in logged["items"] if p["row"] == rows.index[rows["age"].isna()][0])
    assert no_age["input"]["age"] is None

    no_column = invoke(client, token, split_body(rows.drop(columns=["sex"])))
    assert no_column.status_code == 422 and no_column.json()["details"]["errors"][0]["column"] == "sex"
    for body in ({}, {"dataframe_split": "x"}, {"instances": []}):
        answer = invoke(client, token, body)
        assert answer.status_code == 422 and answer.json()["code"] == "INVALID_INPUT", answer.text
    not_json = client.post("/api/deployments/titanic/invocations", content=b"{not json",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
    assert not_json.status_code == 422 and "not valid JSON" in not_json.json()["message"]


def test_requests_that_cannot_create_a_deployment(api):
    client = api()
    deploy(client)
    cases = [({"name": "Bad_Name", "model": MODEL, "version": 1}, 422, "lowercase letters"),
             ({"name": "-x", "model": MODEL, "version": 1}, 422, "lowercase letters"),
             ({"name": "x" * 64, "model": MODEL, "version": 1}, 422, "name"),
             ({"name": "both", "model": MODEL, "version": 1, "alias": "staging"}, 422, "exactly one"),
             ({"name": "neither", "model": MODEL}, 422, "exactly one"),
             ({"name": "often", "model": MODEL, "version": 1, "monitoring_interval_s": 5}, 422,
              "FLOWZA_MIN_SCHEDULE_SECONDS"),
             ({"name": "odd", "model": MODEL, "version": 1, "thresholds": {"drift": 1}}, 422, "drift"),
             ({"name": "nomodel", "model": "no-such-model", "version": 1}, 404, "no-such-model"),
             ({"name": "noversion", "model": MODEL, "version": 9}, 404, "version 9"),
             ({"name": "noalias", "model": MODEL, "alias": "champion"}, 404, "champion"),
             ({"name": "titanic", "model": MODEL, "version": 1}, 409, "already exists")]
    for body, status, words in cases:
        answer = client.post("/api/deployments", json=body)
        assert answer.status_code == status and words in answer.json()["message"], (body, answer.text)
    assert client.post("/api/deployments", json=cases[-1][0]).json()["code"] == "DEPLOYMENT_EXISTS"
    assert client.post("/api/deployments", json=cases[7][0]).json()["code"] == "MODEL_NOT_FOUND"
    assert [d["name"] for d in client.get("/api/deployments").json()] == ["titanic"]
    for method, url in (("get", "/api/deployments/nope"), ("delete", "/api/deployments/nope"),
                        ("post", "/api/deployments/nope/invocations"), ("get", "/api/deployments/nope/stats")):
        answer = getattr(client, method)(url)
        assert answer.status_code == 404 and answer.json()["code"] == "DEPLOYMENT_NOT_FOUND", (url, answer.text)


# --- tokens ----------------------------------------------------------------------------------------------
def test_tokens_open_only_their_deployment_and_revoke_at_once(api):
    client = api()
    deploy(client, "first")
    deploy(client, "second")
    token = token_for(client, "first")
    body = split_body(passengers(1))
    assert client.post("/api/deployments/first/invocations", json=body).status_code == 401
    for header in ("Bearer wrong", "Basic abc", f"Bearer {token}x"):
        answer = client.post("/api/deployments/first/invocations", json=body, headers={"Authorization": header})
        assert answer.status_code == 401 and answer.json()["code"] == "UNAUTHORIZED", header
    other = invoke(client, token, body, name="second")
    assert other.status_code == 401 and "another deployment" in other.json()["message"]
    assert invoke(client, token, body, name="first").status_code == 200

    [listed] = client.get("/api/deployments/first/tokens").json()
    assert listed["name"] == "tests" and token.startswith(listed["prefix"]) and "token" not in listed
    assert listed["last_used_at"] is not None  # saved when the list is read
    second = client.post("/api/deployments/first/tokens").json()
    assert second["name"] == "token 2" and second["token"] != token
    revoked = client.delete(f"/api/deployments/first/tokens/{listed['id']}")
    assert revoked.status_code == 204
    assert invoke(client, token, body, name="first").status_code == 401  # at once, though it was cached
    assert invoke(client, second["token"], body, name="first").status_code == 200
    assert client.delete(f"/api/deployments/first/tokens/{listed['id']}").status_code == 404
    assert [t["id"] for t in client.get("/api/deployments/first/tokens").json()] == [second["id"]]


# --- changes ---------------------------------------------------------------------------------------------
def test_patch_swaps_the_model_with_no_failed_request(api):
    client = api()
    deploy(client)
    token = token_for(client)
    two = new_version()
    body, answers, stop = split_body(passengers(3)), [[] for _ in range(4)], threading.Event()

    def hammer(mine: list):
        while not stop.is_set():
            answer = invoke(client, token, body)
            mine.append((answer.status_code, answer.json().get("model_version")))

    threads = [threading.Thread(target=hammer, args=(mine,)) for mine in answers]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        patched = client.patch("/api/deployments/titanic", json={"version": two, "thresholds": {"drift_psi": 0.3}})
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert patched.status_code == 200, patched.text
    assert patched.json()["current_version"] == two and patched.json()["version"] == two
    assert patched.json()["thresholds"]["drift_psi"] == 0.3 and patched.json()["thresholds"]["min_rows"] == 30
    assert {status for mine in answers for status, _ in mine} == {200}
    for mine in answers:  # each client's requests follow one another: the old version, then the new one
        versions = [version for _, version in mine]
        assert versions[0] == 1 and versions[-1] == two and versions == sorted(versions)
    assert client.patch("/api/deployments/titanic", json={"version": 99}).status_code == 404
    assert invoke(client, token, body).json()["model_version"] == two  # a refused change keeps the model


def test_a_followed_alias_that_moves_is_followed(api):
    client = api()
    assert client.put(f"/api/models/{MODEL}/aliases/champion", json={"version": 1}).status_code == 200
    try:
        created = deploy(client, alias="champion")
        assert (created["version"], created["alias"], created["current_version"]) == (None, "champion", 1)
        token = token_for(client)
        two = new_version()
        assert client.put(f"/api/models/{MODEL}/aliases/champion", json={"version": two}).status_code == 200
        deadline = time.monotonic() + 20
        while invoke(client, token, split_body(passengers(1))).json()["model_version"] != two:
            assert time.monotonic() < deadline, "the deployment did not follow its alias"
            time.sleep(0.2)
        assert client.get("/api/deployments/titanic").json()["current_version"] == two
    finally:
        client.delete(f"/api/models/{MODEL}/aliases/champion")


def test_a_deployment_survives_a_restart_and_delete_removes_everything(api):
    client = api()
    deploy(client)
    token = token_for(client)
    request_id = invoke(client, token, split_body(passengers(2))).json()["request_id"]
    client.__exit__(None, None, None)  # the API stops: its log is written

    again = api()
    shown = again.get("/api/deployments/titanic").json()
    assert shown["status"] == "ready" and shown["requests_total"] == 1
    answer = invoke(again, token, split_body(passengers(2)))
    assert answer.status_code == 200 and answer.json()["request_id"] != request_id
    assert again.delete("/api/deployments/titanic").status_code == 204
    for url in ("/api/deployments/titanic", "/api/deployments/titanic/tokens", "/api/deployments/titanic/predictions"):
        assert again.get(url).status_code == 404, url
    assert invoke(again, token, split_body(passengers(1))).status_code == 404
    engine = db.make_engine(get_settings().metadata_db_url)
    try:
        with engine.connect() as connection:
            from sqlalchemy import text

            assert connection.execute(text("SELECT count(*) FROM predictions")).scalar_one() == 0
            assert connection.execute(text("SELECT count(*) FROM deployment_tokens")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_model_that_cannot_load_answers_503_saying_why(api, tmp_path):
    client = api()
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    (broken / "README").write_text("no MLmodel here")
    version = new_version(source=broken.as_uri())
    created = deploy(client, "broken", version=version)
    assert created["status"] == "failed" and "does not load" in created["error"]
    token = token_for(client, "broken")
    answer = invoke(client, token, split_body(passengers(1)), name="broken")
    assert answer.status_code == 503 and answer.json()["code"] == "DEPLOYMENT_UNAVAILABLE", answer.text
    assert "does not load" in answer.json()["message"] and answer.headers["retry-after"]
    fixed = client.patch("/api/deployments/broken", json={"version": 1})
    assert fixed.status_code == 200 and fixed.json()["status"] == "ready" and fixed.json()["error"] is None
    assert invoke(client, token, split_body(passengers(1)), name="broken").status_code == 200


def test_predictions_are_rate_limited_per_address(api, monkeypatch):
    monkeypatch.setenv("FLOWZA_PREDICTIONS_PER_MINUTE_PER_IP", "3")
    client = api()
    deploy(client)
    token = token_for(client)
    statuses = [invoke(client, token, split_body(passengers(1))).status_code for _ in range(3)]
    limited = invoke(client, token, split_body(passengers(1)))
    assert statuses == [200, 200, 200] and limited.status_code == 429
    assert limited.json()["code"] == "RATE_LIMITED" and int(limited.headers["retry-after"]) >= 1


def monitoring_interval(name: str) -> float | None:
    """The interval of the deployment's monitoring schedule in Prefect, or None when Prefect has no such deployment."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from deployments.monitoring import monitoring_deployment_path

    with get_client(sync_client=True) as client:
        try:
            found = client.read_deployment_by_name(monitoring_deployment_path(name))
        except ObjectNotFound:
            return None
    if not found.schedules:  # between two steps of a change
        return "no schedule"
    return found.schedules[0].schedule.interval.total_seconds()


# Prefect on SQLite can hold its write lock up to its 60 s busy timeout (seen in CI under load before
# flows/prefect_server.py fixed the freeze it came from); the tests still wait longer than that.
PREFECT_STALL_S = 90


def eventually(read, expected, timeout: float = PREFECT_STALL_S):
    deadline = time.monotonic() + timeout
    while (seen := read()) != expected:
        assert time.monotonic() < deadline, f"still {seen!r}, not {expected!r}, after {timeout:g} s"
        time.sleep(0.2)


def test_each_deployment_has_its_monitoring_schedule_in_prefect(api, worker_thread):
    client = api()
    deploy(client, version=1, monitoring_interval_s=120)
    eventually(lambda: monitoring_interval("titanic"), 120)
    assert client.patch("/api/deployments/titanic", json={"monitoring_interval_s": 300}).status_code == 200
    eventually(lambda: monitoring_interval("titanic"), 300)
    client.__exit__(None, None, None)
    asyncio.run(delete_monitoring_deployment("titanic"))  # Prefect lost it
    again = api()
    eventually(lambda: monitoring_interval("titanic"), 300)  # applied again when the API starts
    assert again.delete("/api/deployments/titanic").status_code == 204
    eventually(lambda: monitoring_interval("titanic"), None)


# --- multi-user ------------------------------------------------------------------------------------------
def test_deployments_follow_their_models_access(multi_user, trained, monkeypatch):
    from sqlalchemy.orm import Session

    from metadata_db import model_owners
    from api.deps import engine_for

    alice, bob = multi_user("alice@example.com"), multi_user("bob@example.com")
    use_registry(monkeypatch, trained["tracking_uri"])
    body = {"name": "titanic", "model": MODEL, "version": 1}
    assert alice.post("/api/deployments", json=body).status_code == 403  # registered before owners: read-only
    alice_id = alice.get("/api/auth/me").json()["user"]["id"]
    with Session(engine_for(get_settings().metadata_db_url)) as session:
        model_owners.claim(session, MODEL, alice_id)
        session.commit()
    created = alice.post("/api/deployments", json=body)
    assert created.status_code == 201, created.text
    token = alice.post("/api/deployments/titanic/tokens").json()["token"]

    assert bob.get("/api/deployments").json() == []
    for method, url in (("get", "/api/deployments/titanic"), ("patch", "/api/deployments/titanic"),
                        ("get", "/api/deployments/titanic/tokens"), ("delete", "/api/deployments/titanic"),
                        ("get", "/api/deployments/titanic/predictions")):
        answer = bob.request(method, url, json={} if method == "patch" else None)
        assert answer.status_code == 404 and answer.json()["code"] == "DEPLOYMENT_NOT_FOUND", (url, answer.text)
    assert bob.post("/api/deployments", json=body | {"name": "mine"}).status_code == 404
    shared = alice.post(f"/api/models/{MODEL}/shares", json={"email": "bob@example.com", "role": "viewer"})
    assert shared.status_code == 200, shared.text
    assert [d["name"] for d in bob.get("/api/deployments").json()] == ["titanic"]
    assert bob.get("/api/deployments/titanic/stats").status_code == 200
    for method, url in (("patch", "/api/deployments/titanic"), ("post", "/api/deployments/titanic/tokens"),
                        ("delete", "/api/deployments/titanic")):
        assert bob.request(method, url, json={}).status_code == 403, url
    # Invocations need only the token, whoever sends it.
    bob.headers["Authorization"] = f"Bearer {token}"
    assert bob.post("/api/deployments/titanic/invocations", json=split_body(passengers(1))).status_code == 200
    assert alice.delete("/api/deployments/titanic").status_code == 204


# --- the migration ---------------------------------------------------------------------------------------
def test_the_migration_upgrades_and_downgrades(db_url):
    config = db.alembic_config(db_url)
    command.upgrade(config, "0004")
    command.upgrade(config, "0005")
    engine = db.make_engine(db_url)
    try:
        assert {"model_deployments", "deployment_tokens", "predictions"} <= set(inspect(engine).get_table_names())
        command.downgrade(config, "0004")
        assert not {"model_deployments", "deployment_tokens", "predictions"} & set(
            inspect(engine).get_table_names())
        command.upgrade(config, "head")
    finally:
        engine.dispose()
