"""Shared fixtures: an isolated FLOWZA_HOME, a Prefect test server, a local S3 API server."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# Before anything imports the engine (it configures Prefect on import).
_SESSION_HOME = tempfile.mkdtemp(prefix="flowza-test-home-")
os.environ["FLOWZA_HOME"] = _SESSION_HOME
os.environ["FLOWZA_PREFECT_PORT"] = "9"  # never pick up a developer's running Prefect server
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The engine runs in this process, standing in for the worker process, which keeps Prefect's own client
# limits (60 s a request, 5 retries): the API's tighter ones (api/services/prefect_limits.py, applied when
# api.main is imported) would fail a run's state change whenever the session's SQLite Prefect server stalls
# for 30 s on a loaded 2-core machine. The API's own limits are tested on API processes of their own.
os.environ.setdefault("PREFECT_API_REQUEST_TIMEOUT", "60")
os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "5")


# Nodes only tests use (slow or failing on purpose); the shipped catalog is checked apart.
from flowza_core.errors import NodeError  # noqa: E402
from nodes.base import NodeContext, Params, node  # noqa: E402
from nodes.catalog import discover  # noqa: E402
from nodes.ports import Dataset  # noqa: E402

discover()


class SleepParams(Params):
    seconds: float = 0.5


@node(category="general")
def sleep_for_test(dataset: Dataset, params: SleepParams) -> Dataset:
    """Wait, then pass the table on (tests only)."""
    import time

    time.sleep(params.seconds)
    return dataset


class MarkerParams(Params):
    marker: str = "ready.marker"


@node(category="general")
def fail_until_marker(dataset: Dataset, params: MarkerParams, ctx: NodeContext) -> Dataset:
    """Fail until a file named ``marker`` exists in the data directory (tests only)."""
    from pathlib import Path

    if not (Path(ctx.data_dir) / params.marker).exists():
        raise NodeError(f"{params.marker} is not there yet")
    return dataset


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def api_server(thread_name: str = "flowza-test-server") -> Iterator[str]:
    """The real app (API + editor) served by uvicorn on a free 127.0.0.1 port from a thread; yields its URL.

    Settings are read from the environment as it is when this is entered.
    """
    import uvicorn

    from api.main import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=thread_name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the API server stopped while starting (see the log above)"
            assert time.monotonic() < deadline, "the API server did not start within 30 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def prefect_api_url():
    """A throwaway Prefect server for the whole session (entering it takes ~10 s)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from flows.prefect_server import start_temporary_servers_here

    start_temporary_servers_here()  # as the engine does: no 60 s freezes of Prefect's SQLite server
    with prefect_test_harness(server_startup_timeout=60):
        yield PREFECT_API_URL.value()


@pytest.fixture
def flowza_env(tmp_path, monkeypatch):
    """A fresh home (object store) and data directory for one test."""
    from flowza_core.settings import get_settings

    home, data = tmp_path / "home", tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("FLOWZA_HOME", str(home))
    monkeypatch.setenv("FLOWZA_DATA_DIR", str(data))
    monkeypatch.delenv("FLOWZA_OBJECT_STORE_URL", raising=False)
    # mlflow.set_tracking_uri() exports MLFLOW_TRACKING_URI, which would pin the last test's database.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    yield {"home": home, "data": data}
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 API server (moto in server mode) on a free localhost port."""
    from moto.server import ThreadedMotoServer

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[key] = value
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint):
    import uuid

    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"flowza-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=name)
    return client, name


POSTGRES_ADMIN_URL = os.environ.get("FLOWZA_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres")


@pytest.fixture
def postgres_database():
    """A fresh, empty PostgreSQL database (dropped afterwards). Skips only outside CI."""
    with fresh_postgres_database() as url:
        yield url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped on exit (for fixtures of any scope).
    Skips only outside CI."""
    import uuid

    import psycopg2

    try:
        admin = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {POSTGRES_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    admin.autocommit = True
    name = f"flowza_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def worker_thread(prefect_api_url):
    """Flowza's Prefect worker, serving the work pool from a thread of this process."""
    import asyncio
    import threading
    import time

    from prefect.client.orchestration import get_client

    from deployments.runs import DEPLOYMENT_PATH
    from deployments.worker import serve

    loop, holder = asyncio.new_event_loop(), {}

    def run():
        asyncio.set_event_loop(loop)
        holder["task"] = loop.create_task(serve())
        try:
            loop.run_until_complete(holder["task"])
        except BaseException:  # cancelled at the end of the session
            pass

    thread = threading.Thread(target=run, name="flowza-worker", daemon=True)
    thread.start()

    async def deployed() -> bool:
        async with get_client() as client:
            try:
                await client.read_deployment_by_name(DEPLOYMENT_PATH)
                return True
            except Exception:
                return False

    deadline = time.monotonic() + 60
    while not asyncio.run(deployed()):
        assert time.monotonic() < deadline, "the Flowza worker did not create its deployment within 60 s"
        time.sleep(0.2)
    yield
    loop.call_soon_threadsafe(holder["task"].cancel)
    thread.join(timeout=15)


@pytest.fixture
def flowza_worker(worker_thread):
    """The worker, for one test: runs the test left behind are stopped before the next test starts.

    The worker reads settings (FLOWZA_HOME, the databases) when a run starts and ends; a run
    outliving its test would write into the next test's fresh home while that test sets it up.
    """
    yield
    _stop_leftover_runs(deadline_s=60)


def _stop_leftover_runs(deadline_s: float) -> None:
    import logging
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled, Cancelling

    from deployments.worker import active_runs

    unfinished = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
        any_=[StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED])))
    with get_client(sync_client=True) as client:
        for flow_run in client.read_flow_runs(flow_run_filter=unfinished):
            state = Cancelling() if flow_run.state.is_running() else Cancelled(message="the test ended")
            client.set_flow_run_state(flow_run.id, state, force=True)
    end = time.monotonic() + deadline_s
    while active_runs() and time.monotonic() < end:
        time.sleep(0.1)
    if active_runs():
        logging.getLogger(__name__).warning("%d run(s) still running after their test ended", active_runs())
