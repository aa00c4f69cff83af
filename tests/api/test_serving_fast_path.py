"""The invocations fast path (api/serving/fast_path.py) answers exactly what the FastAPI route answers.

Two apps on one home and metadata database, one with the fast path (as ``create_app`` builds it) and
one without it, get the same requests, good and bad; every answer must match: status, JSON body (but
the request id), and the headers a client reads. A third app without the route shows the fast path
really answers invocations itself. Runs on SQLite and PostgreSQL, over the Titanic model. And requests
scored together, their rows built into one DataFrame, get exactly the answers each gets alone.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from fastapi.testclient import TestClient

from flowza_core.settings import get_settings
from api.serving.batcher import Batcher
from api.serving.scoring import InvalidInput, answer, parse_body, parse_rows, score
from tests.api.test_deployments_api import MODEL, model_of, passengers, split_body, trained  # noqa: F401
from tests.api.test_models_api import use_registry

INVOCATIONS = "/api/deployments/{}/invocations"
HEADERS = ("content-type", "retry-after", "www-authenticate")
INPUTS = ["pclass", "sex", "age", "sibsp", "parch", "fare", "embarked", "adult_male", "alone"]  # the model's, in order


@pytest.fixture(params=["sqlite", "postgresql"])
def apps(request, flowza_env, trained, monkeypatch):  # noqa: F811
    """``apps(change)``: a TestClient of ``create_app()`` after ``change(app)``, all on one home and database."""
    from api.main import create_app

    if request.param == "postgresql":
        monkeypatch.setenv("FLOWZA_DATABASE_URL", request.getfixturevalue("postgres_database"))
    monkeypatch.setenv("FLOWZA_MAX_REQUEST_MB", "0.01")
    monkeypatch.setenv("FLOWZA_PREDICTIONS_PER_MINUTE_PER_IP", "40")
    use_registry(monkeypatch, trained["tracking_uri"])
    clients = []

    def start(change=lambda app: None) -> TestClient:
        get_settings.cache_clear()
        app = create_app()
        change(app)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


def without_fast_path(app) -> None:
    from api.serving.fast_path import FastPath

    app.user_middleware = [m for m in app.user_middleware if m.cls is not FastPath]


def without_route(app) -> None:
    app.router.routes = [r for r in app.router.routes if not getattr(r, "path", "").endswith("/invocations")]


def requests(token: str, other_token: str) -> list[tuple[str, dict]]:
    """(label, httpx request arguments): the endpoint's answers, every one of them."""
    auth = {"Authorization": f"Bearer {token}"}
    rows = passengers(70)  # rows 61 and 62 have no port of embarkation: unscorable
    url = INVOCATIONS.format("titanic")
    return [
        ("one row", {"url": url, "json": split_body(rows.iloc[:1]), "headers": auth}),
        ("records", {"url": url, "json": {"dataframe_records": json.loads(rows.iloc[:5].to_json(orient="records"))},
                     "headers": auth}),
        ("by position", {"url": url, "json": {"instances": json.loads(rows[INPUTS].iloc[:3].to_json(orient="values"))}, "headers": auth}),
        ("bad rows", {"url": url, "json": split_body(rows.iloc[55:65]), "headers": auth}),
        ("bad rows skipped", {"url": url, "json": split_body(rows.iloc[55:65], on_error="skip"), "headers": auth}),
        ("missing column", {"url": url, "json": split_body(rows.iloc[:2].drop(columns=["sex"])), "headers": auth}),
        ("no format", {"url": url, "json": {"rows": []}, "headers": auth}),
        ("not JSON", {"url": url, "content": b"{nope", "headers": auth | {"content-type": "application/json"}}),
        ("NaN", {"url": url, "content": b'{"instances": [[NaN]]}',
                 "headers": auth | {"content-type": "application/json"}}),
        ("too large", {"url": url, "content": b"[" + b"1," * 10_000 + b"1]",
                       "headers": auth | {"content-type": "application/json"}}),
        ("no token", {"url": url, "json": split_body(rows.iloc[:1])}),
        ("wrong token", {"url": url, "json": split_body(rows.iloc[:1]), "headers": {"Authorization": "Bearer x"}}),
        ("another deployment's token", {"url": url, "json": split_body(rows.iloc[:1]),
                                        "headers": {"Authorization": f"Bearer {other_token}"}}),
        ("no such deployment", {"url": INVOCATIONS.format("nobody"), "json": split_body(rows.iloc[:1]),
                                "headers": auth}),
        ("a name too long", {"url": INVOCATIONS.format("x" * 64), "json": {}, "headers": auth}),
        ("NUL in the query", {"url": url + "?x=%00", "json": split_body(rows.iloc[:1]), "headers": auth}),
        ("multipart", {"url": url, "files": {"f": ("rows.json", b"{}")}, "headers": auth}),
    ]


def seen(response) -> dict:
    """What a client reads of an answer (the request id only as present and matching)."""
    body = response.json()
    request_id = body.pop("request_id", None) if isinstance(body, dict) else None
    assert request_id == response.headers.get("x-request-id"), response.headers
    return {"status": response.status_code, "body": body, "request_id": request_id is not None,
            "headers": {h: response.headers.get(h) for h in HEADERS}}


def test_the_fast_path_answers_what_the_route_answers(apps):
    fast = apps()
    for name in ("titanic", "other"):
        assert fast.post("/api/deployments", json={"name": name, "model": MODEL, "version": 1}).status_code == 201
    token, other = (fast.post(f"/api/deployments/{n}/tokens", json={}).json()["token"] for n in ("titanic", "other"))
    routed = apps(without_fast_path)
    assert routed.app.user_middleware != fast.app.user_middleware

    answers = {side: [(label, seen(client.post(**args))) for label, args in requests(token, other)]
               for side, client in (("fast path", fast), ("route", routed))}
    assert answers["fast path"] == answers["route"]
    statuses = {label: answer["status"] for label, answer in answers["fast path"]}
    assert statuses == {"one row": 200, "records": 200, "by position": 200, "bad rows": 422, "bad rows skipped": 200,
                        "missing column": 422, "no format": 422, "not JSON": 422, "NaN": 422, "too large": 413,
                        "no token": 401, "wrong token": 401, "another deployment's token": 401,
                        "no such deployment": 404, "a name too long": 422, "NUL in the query": 400,
                        "multipart": 422}

    # Each side logged the rows of its four requests answered 200 (the skipped rows are not logged).
    deadline = time.monotonic() + 10
    while (logged := fast.get("/api/deployments/titanic/stats").json())["requests_total"] < 8:
        assert time.monotonic() < deadline, logged
        time.sleep(0.2)
    scored = [p for side in answers.values() for _, a in side if a["status"] == 200 for p in a["body"]["predictions"]]
    assert logged["predictions_total"] == sum(p is not None for p in scored) > 2 * (1 + 5 + 3)

    limited = [fast.post(**requests(token, other)[0][1]) for _ in range(40)][-1]  # 13 counted so far, of 40
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED" and limited.headers["retry-after"]


def test_invocations_are_answered_without_the_router(apps):
    client = apps(without_route)
    assert client.post(INVOCATIONS.format("titanic"), json={}).json()["code"] == "DEPLOYMENT_NOT_FOUND"
    assert client.post("/api/deployments", json={"name": "titanic", "model": MODEL, "version": 1}).status_code == 201
    token = client.post("/api/deployments/titanic/tokens", json={}).json()["token"]
    answer = client.post(INVOCATIONS.format("titanic"), json=split_body(passengers(2)),
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 2, answer.text
    assert not [r for r in client.app.router.routes if getattr(r, "path", "").endswith("/invocations")]


def test_requests_merged_into_one_frame_get_the_answers_they_get_alone(flowza_env, trained, monkeypatch):  # noqa: F811
    use_registry(monkeypatch, trained["tracking_uri"])
    get_settings.cache_clear()
    model = model_of(trained["tracking_uri"])
    records = json.loads(passengers(70)[INPUTS].to_json(orient="records"))
    by_position = [list(r.values()) for r in records]

    def split(rows: list[dict], **extra) -> dict:
        return {"dataframe_split": {"columns": INPUTS, "data": [list(r.values()) for r in rows]}} | extra

    bodies = [split(records[i:i + 1 + i % 3]) for i in range(0, 12, 2)]
    bodies += [split([records[0] | {"age": 22}]),  # an integer where the others send floats
               split([records[0] | {"age": None, "sex": None}, records[1] | {"pclass": None}]),
               split(records[58:64]), split(records[58:64], on_error="skip"),  # no port in rows 61, 62
               {"instances": by_position[20:23]},  # by position: the model's columns
               {"dataframe_records": [dict(reversed(r.items())) for r in records[30:32]]},  # another column order
               {"dataframe_split": {"columns": INPUTS[1:], "data": [v[1:] for v in by_position[:2]]}}]

    def alone(body: dict):
        try:
            return answer(score(model, *parse_body(body)))
        except InvalidInput as exc:
            return exc.errors

    async def all_at_once(bodies: list[dict]) -> list:
        batcher = Batcher(model)
        try:
            return await asyncio.gather(*(batcher.score(*parse_rows(b)) for b in bodies), return_exceptions=True)
        finally:
            await batcher.close()

    # All naming the same columns once conformed: one frame built from every request's values. With the
    # records in another column order: a frame each, concatenated.
    same_columns = [b for b in bodies if "dataframe_records" not in b]
    for batch in (same_columns, bodies):
        together = [r.errors if isinstance(r, InvalidInput) else answer(r) for r in asyncio.run(all_at_once(batch))]
        expected = [alone(b) for b in batch]
        assert [without_probabilities(r) for r in together] == [without_probabilities(r) for r in expected]
        # The estimator's matrix product over a larger batch may round the last bit of a probability differently.
        assert [probabilities(r) for r in together] == [pytest.approx(probabilities(r), rel=1e-12) for r in expected]
        assert [isinstance(r, list) for r in together].count(True) == 3  # the nulls, no port (fail), no column


def without_probabilities(result):
    return {k: v for k, v in result.items() if k != "probabilities"} if isinstance(result, dict) else result


def probabilities(result) -> list[float]:
    return [p for row in result.get("probabilities") or [] if row for p in row.values()] \
        if isinstance(result, dict) else []
