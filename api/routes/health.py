"""``/health``: really checks the database, Prefect, MLflow and the object store."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import engine_for
from flowza.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


def _database() -> str:
    with engine_for(get_settings().metadata_db_url).connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


async def _prefect() -> str:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        failure = await client.api_healthcheck()
    if failure:
        raise RuntimeError(f"Prefect API unhealthy: {failure}")
    return "ok"


def _mlflow() -> str:
    from flows.tracking import configure_mlflow

    configure_mlflow(get_settings()).search_experiments(max_results=1)
    return "ok"


def _object_store() -> str:
    from flows.engine import open_default_store

    store = open_default_store()
    store.put_bytes("health/probe", str(time.time()).encode())
    store.get_bytes("health/probe")
    return "ok"


@router.get("/health", summary="Checks every dependency; 503 when one is down")
async def health():
    checks = {}
    probes = {"database": asyncio.to_thread(_database), "prefect": _prefect(),
              "mlflow": asyncio.to_thread(_mlflow), "object_store": asyncio.to_thread(_object_store)}
    for name, probe in probes.items():
        try:
            checks[name] = await asyncio.wait_for(probe, timeout=10)
        except Exception as exc:  # a health check reports failures, it does not raise them
            log.warning("health check %s failed: %s", name, exc)
            checks[name] = f"error: {type(exc).__name__}: {exc}"[:300]
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(status_code=200 if ok else 503, content={"status": "ok" if ok else "degraded",
                                                                 "checks": checks})
