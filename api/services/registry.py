"""The API's MLflow calls: on threads of their own, within ``mlflow_timeout_s``, failures as 503.

MLflow's client blocks. Run on FastAPI's shared thread pool, calls stuck on a frozen MLflow would
hold every thread the other routes (and health checks) need; here they take threads of their own,
at most ``MLFLOW_THREADS`` at once, and a caller gets its 503 when the deadline passes even if its
thread is still waiting (MLflow's own request timeout, set from the same setting, ends it soon after).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import weakref
from collections.abc import Callable
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

import anyio

from flowza_core.settings import Settings, get_settings
from flows.tracking import MlflowUnavailable, no_answer, tracking_location, unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
MLFLOW_THREADS = 16  # MLflow calls in flight per API process; more wait for a thread within their deadline
PROBE_S = 3  # the health probe's limit: a server that is down or frozen answers 503 this soon
DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters[loop] = anyio.CapacityLimiter(MLFLOW_THREADS)
    return _limiters[loop]


def _advice(settings: Settings) -> str:
    return (f"start it with `flowza up` (or `mlflow server --port {settings.mlflow_port}`), or point "
            f"FLOWZA_MLFLOW_TRACKING_URI at a running one")


def _probe(settings: Settings) -> None:
    """Raise ``MlflowUnavailable`` unless the server or database the tracking URI names answers at once."""
    import requests

    uri, where = settings.tracking_uri, tracking_location(settings.tracking_uri)
    parts = urlsplit(uri)
    try:
        if parts.scheme in ("http", "https"):
            requests.get(f"{uri.rstrip('/')}/health", timeout=PROBE_S)
        elif (default_port := DATABASE_PORTS.get(parts.scheme.split("+")[0])) and parts.hostname:
            # MLflow would retry connecting to a database for ~100 s before failing.
            socket.create_connection((parts.hostname, parts.port or default_port), timeout=PROBE_S).close()
    except (requests.Timeout, TimeoutError) as exc:
        raise unavailable(settings, PROBE_S, exc) from exc
    except (OSError, requests.RequestException) as exc:
        raise MlflowUnavailable(f"MLflow is not reachable at {where}: {_advice(settings)}") from exc


def _answered(settings: Settings, fn: Callable[..., T], *args) -> T:
    import requests
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import OperationalError

    _probe(settings)
    try:
        return fn(*args)
    except (MlflowException, OperationalError, requests.RequestException) as exc:
        if no_answer(exc):
            raise unavailable(settings, settings.mlflow_timeout_s, exc) from exc
        log.warning("MLflow at %s failed: %s", tracking_location(settings.tracking_uri), exc)
        raise MlflowUnavailable(f"MLflow at {tracking_location(settings.tracking_uri)} did not answer "
                                f"({type(exc).__name__}): {_advice(settings)}") from exc


async def call(fn: Callable[..., T], *args, deadline: bool = True) -> T:
    """``fn(*args)`` on an MLflow thread; 503 ``MLFLOW_UNAVAILABLE`` if MLflow is down, fails or passes the deadline.

    ``deadline=False`` (downloads, which may rightly take long) bounds each MLflow request only.
    """
    settings = get_settings()
    with anyio.move_on_after(settings.mlflow_timeout_s if deadline else None):
        return await anyio.to_thread.run_sync(partial(_answered, settings, fn, *args), limiter=_limiter(),
                                              abandon_on_cancel=True)
    raise unavailable(settings, settings.mlflow_timeout_s, TimeoutError(f"{fn.__name__} passed the deadline"))
