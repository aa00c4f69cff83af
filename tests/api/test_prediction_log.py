"""The prediction log: rows written in batches off the request path, on SQLite and PostgreSQL; nothing answered 200
is lost on a graceful stop (SIGTERM mid-load), at most the last flush window on a crash (SIGKILL)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from metadata_db import make_engine
from metadata_db.models import ModelDeployment, Prediction
from api.serving.prediction_log import PredictionLog, new_entry
from api.serving.scoring import Scored
from flowza_core.settings import get_settings
from tests.api.test_deployments_api import MODEL, passengers, split_body, trained  # noqa: F401 - a fixture
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
FLUSH_S = 0.5
CRASH_MARGIN_S = 1.0  # the writer's own time on a loaded 2-core machine, on top of the flush window


@pytest.fixture
def deployment_id(db_engine, flowza_env, monkeypatch):
    """A deployment row in a fresh metadata database (each backend), which the log's engine writes to."""
    monkeypatch.setenv("FLOWZA_DATABASE_URL", db_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    with Session(db_engine) as session:
        row = ModelDeployment(name="logged", model=MODEL, version=1, status="ready")
        session.add(row)
        session.commit()
        return row.id


def logged(deployment_id: str, rows: pd.DataFrame, request_id: str, proba: bool = True):
    predictions = list(range(len(rows)))
    scored = Scored(predictions, [{"0": 0.25, "1": 0.75}] * len(rows) if proba else None)
    return new_entry(deployment_id, request_id, 1, rows, scored, 3.5)


def stored(engine) -> list[Prediction]:
    with Session(engine) as session:
        return list(session.scalars(select(Prediction).order_by(Prediction.request_id, Prediction.row)))


def test_rows_reach_the_database_as_plain_json(deployment_id, db_engine):
    log = PredictionLog(flush_s=FLUSH_S)
    log.start()
    try:
        rows = pd.DataFrame({"age": [22.0, np.nan, math.inf], "sex": ["male", None, "female"],
                             "pclass": np.array([3, 1, 2], dtype=np.int64), "alone": [True, False, np.bool_(True)],
                             "when": pd.to_datetime(["2026-01-01", None, "2026-01-03"])})
        log.add(logged(deployment_id, rows, "a"))
        assert log.flush(timeout=10)
    finally:
        log.close()
    found = stored(db_engine)
    assert [(p.request_id, p.row, p.output, p.model_version, p.latency_ms) for p in found] == [
        ("a", 0, 0, 1, 3.5), ("a", 1, 1, 1, 3.5), ("a", 2, 2, 1, 3.5)]
    assert found[0].input == {"age": 22.0, "sex": "male", "pclass": 3, "alone": True, "when": "2026-01-01T00:00:00"}
    assert found[1].input == {"age": None, "sex": None, "pclass": 1, "alone": False, "when": None}
    assert found[2].input["age"] is None and found[0].probability == {"0": 0.25, "1": 0.75}
    assert found[0].label is None and found[0].labelled_at is None and found[0].created_at.tzinfo is not None


def test_a_full_batch_is_written_without_waiting_for_the_window(deployment_id, db_engine):
    log = PredictionLog(flush_s=60, batch_rows=10)
    log.start()
    try:
        for i in range(4):
            log.add(logged(deployment_id, passengers(3), f"r{i}"))
        deadline = time.monotonic() + 10
        while len(stored(db_engine)) < 12:
            assert time.monotonic() < deadline, "a full batch waited for the flush window"
            time.sleep(0.05)
    finally:
        log.close()


def test_close_writes_everything_and_skipped_rows_are_not_logged(deployment_id, db_engine):
    log = PredictionLog(flush_s=60)
    log.start()
    rows = passengers(3)
    skipped = Scored([0, None, 1], None, [{"row": 1, "message": "missing value in embarked"}])
    log.add(new_entry(deployment_id, "skip", 1, rows, skipped, 1.0))
    log.add(logged(deployment_id, rows, "plain", proba=False))
    log.close()
    found = stored(db_engine)
    assert [(p.request_id, p.row) for p in found] == [("plain", 0), ("plain", 1), ("plain", 2), ("skip", 0),
                                                      ("skip", 2)]
    assert found[0].probability is None


def test_rows_of_a_deployment_deleted_meanwhile_are_dropped_alone(deployment_id, db_engine):
    with Session(db_engine) as session:
        gone = ModelDeployment(name="gone", model=MODEL, version=1, status="ready")
        session.add(gone)
        session.commit()
        gone_id = gone.id
    log = PredictionLog(flush_s=60)
    log.add(logged(deployment_id, passengers(2), "kept"))
    log.add(logged(gone_id, passengers(2), "lost"))
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM model_deployments WHERE id = :id"), {"id": gone_id})
    assert log.flush()  # not started: written on the caller's thread
    assert {p.request_id for p in stored(db_engine)} == {"kept"}


# --- a real API process, stopped and killed under load ----------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def api_process(request, trained, tmp_path):  # noqa: F811 - the imported fixture
    """``start()``: the API as ``flowza up`` starts it (uvicorn, 5 s graceful shutdown) serving deployment
    'titanic' of the module's model; returns (process, base URL, token, metadata database URL)."""
    home = tmp_path / "home"
    home.mkdir()
    url = request.getfixturevalue("postgres_database") if request.param == "postgresql" else \
        f"sqlite:///{home / 'flowza.db'}"
    env = {**os.environ, "FLOWZA_HOME": str(home), "FLOWZA_DATABASE_URL": url,
           "FLOWZA_MLFLOW_TRACKING_URI": trained["tracking_uri"], "FLOWZA_PREDICTION_LOG_FLUSH_S": str(FLUSH_S)}
    processes = []

    def start():
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1", "--port",
             str(port), "--timeout-graceful-shutdown", "5", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=(tmp_path / "api.log").open("ab"), stderr=subprocess.STDOUT)
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/deployments", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "api.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the API did not start within 60 s"
            time.sleep(0.2)
        created = httpx.post(f"{base}/api/deployments", json={"name": "titanic", "model": MODEL, "version": 1},
                             timeout=60)
        assert created.status_code == 201, created.text
        token = httpx.post(f"{base}/api/deployments/titanic/tokens", json={}).json()["token"]
        return process, base, token, url

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def load(base: str, token: str, clients: int = 6) -> tuple[list[tuple[str, float]], threading.Event, list]:
    """Clients posting one-row predictions until the server stops answering: (request id, answered at) of each 200."""
    answered, stop, threads = [], threading.Event(), []
    body = split_body(passengers(1, start=1))

    def client():
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            while not stop.is_set():
                try:
                    answer = http.post("/api/deployments/titanic/invocations", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 200:
                    answered.append((answer.json()["request_id"], time.monotonic()))

    for _ in range(clients):
        threads.append(threading.Thread(target=client, daemon=True))
        threads[-1].start()
    return answered, stop, threads


def wait_for(answered: list, count: int, then_s: float) -> None:
    """Until ``count`` predictions were answered (a busy machine answers fewer a second), then ``then_s`` more."""
    deadline = time.monotonic() + 90
    while len(answered) < count:
        assert time.monotonic() < deadline, f"only {len(answered)} predictions answered in 90 s"
        time.sleep(0.1)
    time.sleep(then_s)


def logged_request_ids(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(text("SELECT DISTINCT request_id FROM predictions")))
    finally:
        engine.dispose()


def test_a_graceful_stop_mid_load_loses_nothing_answered(api_process):
    process, base, token, url = api_process()
    answered, stop, threads = load(base, token)
    wait_for(answered, 100, then_s=1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == -signal.SIGTERM  # uvicorn re-raises the signal once it has shut down
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert len(answered) > 50, "too little load to test anything"
    missing = {request_id for request_id, _ in answered} - logged_request_ids(url)
    assert missing == set(), f"{len(missing)} of {len(answered)} answered predictions were not logged"


def test_a_crash_loses_at_most_the_last_flush_window(api_process):
    process, base, token, url = api_process()
    answered, stop, threads = load(base, token)
    wait_for(answered, 100, then_s=FLUSH_S + CRASH_MARGIN_S + 0.5)
    killed_at = time.monotonic()
    process.kill()
    process.wait(timeout=30)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    logged = logged_request_ids(url)
    old = [request_id for request_id, at in answered if at < killed_at - FLUSH_S - CRASH_MARGIN_S]
    assert len(old) > 50, "too little load to test anything"
    missing = set(old) - logged
    assert missing == set(), f"{len(missing)} of {len(old)} predictions answered before the last window were lost"
    lost = [killed_at - at for request_id, at in answered if request_id not in logged]
    print(f"SIGKILL: {len(answered)} answered, {len(lost)} lost, answered at most {max(lost, default=0):.2f} s "
          f"before the kill")
