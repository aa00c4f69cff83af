"""``/health``: really checks the database, Prefect, MLflow and the object store, and answers in seconds.

Each check has CHECK_TIMEOUT_S (a local MLflow store's first open gets longer). Network checks
are async; the blocking ones run on this module's own small thread pool with its own database
connections, never on the thread pool or connection pool that serve the routes, so requests
hanging on a slow dependency cannot starve ``/health``. A check still running from an earlier
request is awaited again rather than started twice, so a frozen dependency does not pile up
threads either. Under ``flowza up``, the ``stack`` section shows its children as the supervisor
last saw them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache, partial

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from metadata_db.session import make_engine
from flowza_core.settings import get_settings
from flowza_core.stack_state import read_fresh_state

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 3.0
FIRST_OPEN_TIMEOUT_S = 30.0  # a local MLflow store's first open in a process creates or migrates its database
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
_running: dict[str, Future] = {}
_opened: set[str] = set()  # local MLflow stores this process has opened


@lru_cache
def _own_engine(url: str) -> Engine:
    """Not the routes' engine: requests holding all of its pooled connections must not stall this check."""
    return make_engine(url, poolclass=NullPool)


def _database() -> str:
    with _own_engine(get_settings().metadata_db_url).connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


async def _prefect() -> str:
    from prefect.client.orchestration import get_client

    async with get_client() as client:  # sends PREFECT_API_AUTH_STRING when the server requires it
        failure = await client.api_healthcheck()
    if failure:
        raise RuntimeError(f"Prefect API unhealthy: {failure}")
    return "ok"


async def _mlflow_server(uri: str) -> str:
    """One cheap read from the tracking server, with the credentials MLflow's own client would send."""
    from mlflow.utils.credentials import get_default_host_creds

    creds = get_default_host_creds(uri)
    auth = httpx.BasicAuth(creds.username, creds.password) if creds.username and creds.password else None
    headers = {"Authorization": f"Bearer {creds.token}"} if creds.token else {}
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S, auth=auth, headers=headers,
                                 verify=not creds.ignore_tls_verification) as client:
        answer = await client.get(f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/search",
                                  params={"max_results": 1})
    if answer.status_code != 200:
        raise RuntimeError(f"MLflow answered {answer.status_code}: {answer.text[:200]}")
    return "ok"


def _mlflow_store(uri: str) -> str:
    from flows.tracking import configure_mlflow

    configure_mlflow(get_settings()).search_experiments(max_results=1)
    _opened.add(uri)
    return "ok"


def _object_store() -> str:
    from flows.engine import open_default_store

    store = open_default_store()
    store.put_bytes("health/probe", str(time.time()).encode())
    store.get_bytes("health/probe")
    return "ok"


def _on_pool(name: str, check: Callable[[], str]) -> Awaitable[str]:
    """``check`` on the health pool; joins the same check when an earlier request's is still running."""
    future = _running.get(name)
    if future is None or future.done():
        future = _running[name] = _pool.submit(check)
    return asyncio.shield(asyncio.wrap_future(future))  # a timeout abandons the wait, not the check


async def _probe(name: str, probe: Awaitable[str], timeout: float = CHECK_TIMEOUT_S) -> str:
    try:
        return await asyncio.wait_for(probe, timeout=timeout)
    except (TimeoutError, asyncio.TimeoutError):
        log.warning("health check %s did not answer within %.0fs", name, timeout)
        return f"error: no answer within {timeout:.0f}s"
    except Exception as exc:  # a health check reports failures, it does not raise them
        log.warning("health check %s failed: %s", name, exc)
        return f"error: {type(exc).__name__}: {exc}"[:300]


@router.get("/health", summary="Checks every dependency; 503 when one is down")
async def health():
    settings = get_settings()
    tracking = settings.tracking_uri
    server = tracking.startswith(("http://", "https://"))
    mlflow = _mlflow_server(tracking) if server else _on_pool("mlflow", partial(_mlflow_store, tracking))
    probes = {"database": _on_pool("database", _database), "prefect": _prefect(), "mlflow": mlflow,
              "object_store": _on_pool("object_store", _object_store)}
    timeouts = {"mlflow": FIRST_OPEN_TIMEOUT_S} if not (server or tracking in _opened) else {}
    results = await asyncio.gather(*(_probe(name, probe, timeouts.get(name, CHECK_TIMEOUT_S))
                                     for name, probe in probes.items()))
    checks = dict(zip(probes, results))
    ok = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ok else "degraded", "checks": checks}
    if stack := read_fresh_state(settings.home_dir):
        body["stack"] = stack["services"]
    return JSONResponse(status_code=200 if ok else 503, content=body)
