"""A frozen MLflow (a real ``mlflow server``, SIGSTOPped) never stalls the API: 503s within the timeout."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from flowza_core.settings import get_settings
from tests.conftest import api_server
from tests.mlflow_server import frozen, start_mlflow, stop

TIMEOUT_S = 5  # FLOWZA_MLFLOW_TIMEOUT_S for these tests
BOUND_S = 30  # generous for a loaded CI box, far below the 246 s MLflow's own retries took


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    server, url = start_mlflow(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server, url
    finally:
        stop(server)


@pytest.fixture
def api_on(flowza_env, monkeypatch, mlflow_server):
    """A real API server (uvicorn) whose registry is the MLflow server; MLflow's limit is ``TIMEOUT_S``."""
    monkeypatch.setenv("FLOWZA_MLFLOW_TRACKING_URI", mlflow_server[1])
    monkeypatch.setenv("FLOWZA_MLFLOW_TIMEOUT_S", str(TIMEOUT_S))
    get_settings.cache_clear()
    with api_server() as url:
        yield url, mlflow_server[0]


def timed(method: str, url: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = requests.request(method, url, timeout=BOUND_S * 4, **kwargs)
    return answer, time.monotonic() - started


def test_bad_version_numbers_are_refused_before_mlflow_is_asked(api_on):
    api, mlflow = api_on
    with frozen(mlflow):
        for version in ("9223372036854775808", "2147483648", "0", "-1", "1.5", "one"):
            answer, took = timed("get", f"{api}/api/models/x/versions/{version}")
            assert answer.status_code == 422 and answer.json()["code"] == "INVALID_REQUEST", (version, answer.text)
            assert took < TIMEOUT_S, (version, took)
        moved, _ = timed("put", f"{api}/api/models/x/aliases/champion", json={"version": 2**63})
        assert moved.status_code == 422
    missing, _ = timed("get", f"{api}/api/models/x/versions/9")
    assert missing.status_code == 404 and missing.json()["code"] == "MODEL_NOT_FOUND", missing.text


def test_a_frozen_mlflow_answers_503_within_the_timeout(api_on):
    api, mlflow = api_on
    with frozen(mlflow):
        for method, path, body in (("get", "/api/models/", None), ("get", "/api/models/x", None),
                                   ("get", "/api/models/x/versions/1", None),
                                   ("put", "/api/models/x/aliases/champion", {"version": 1})):
            answer, took = timed(method, f"{api}{path}", json=body)
            assert answer.status_code == 503, (path, answer.text)
            error = answer.json()
            assert error["code"] == "MLFLOW_UNAVAILABLE" and "did not answer within" in error["message"], error
            assert "flowza up" in error["message"]
            assert took < BOUND_S, (path, took)
    # Thawed, the same API answers again.
    assert requests.get(f"{api}/api/models/", timeout=BOUND_S).json() == []


def test_stuck_model_requests_leave_other_routes_responsive(api_on):
    api, mlflow = api_on
    stuck_urls = [f"{api}/api/models/x/versions/{n}" for n in range(1, 46)]
    with frozen(mlflow), ThreadPoolExecutor(max_workers=len(stuck_urls)) as pool:
        stuck = [pool.submit(timed, "get", url) for url in stuck_urls]
        time.sleep(1)  # the 45 are waiting on MLflow now
        others = []
        for _ in range(5):
            answer, took = timed("get", f"{api}/api/workflows/")
            others.append(took)
            assert answer.status_code == 200, answer.text
            health, _ = timed("get", f"{api}/health")
            assert health.status_code in (200, 503), health.text
        answers = [future.result() for future in stuck]
    assert max(others) < TIMEOUT_S, others  # not queued behind the model requests
    assert {a.status_code for a, _ in answers} == {503}
    assert {a.json()["code"] for a, _ in answers} == {"MLFLOW_UNAVAILABLE"}
    assert max(took for _, took in answers) < BOUND_S, sorted(took for _, took in answers)
