"""The Flowza API: a thin FastAPI layer over the metadata database, Prefect and MLflow."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from flows.prefect_env import configure_prefect, share_tls_contexts

configure_prefect()

from api.services import prefect_limits  # noqa: E402
from flowza_core.settings import get_settings  # noqa: E402

prefect_limits.apply(get_settings())  # before anything reads Prefect's client settings
share_tls_contexts()

from fastapi import FastAPI  # noqa: E402

from api import body_limit, errors, rate_limit  # noqa: E402
from metadata_db.session import upgrade  # noqa: E402
from api.serving import fast_path  # noqa: E402
from api.serving.models import ModelCache  # noqa: E402
from api.serving.prediction_log import PredictionLog  # noqa: E402
from api.serving.tokens import TokenCheck  # noqa: E402
from api.services import deployments  # noqa: E402
from api.services.run_upkeep import run_upkeep  # noqa: E402
from api.routes import (ai, auth, catalog, datasets, deployments as deployment_routes, editor, health,  # noqa: E402
                        live, models, monitoring, runs, schedules, sharing, tasks, versions, workflow_export,
                        workflow_parts, workflows, connections)

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI):
    upgrade(get_settings().metadata_db_url)  # migrations, before the first request
    # Accepted runs reach Prefect, dead ones end, deployments serve again: even after a restart.
    async with run_upkeep(), serving(app):
        yield


@asynccontextmanager
async def serving(app: FastAPI):
    """Deployed models loaded again and followed, the prediction log written, tokens' last use saved.

    At stop uvicorn has already stopped accepting and finished the requests in flight; then the batchers
    answer what they hold, and the prediction log writes everything: nothing answered 200 is lost.
    """
    state, tasks = app.state, []
    state.prediction_log.start()
    try:
        await state.models.start()
        tasks = [asyncio.create_task(state.models.follow(), name="flowza-follow-deployments"),
                 asyncio.create_task(state.tokens.keep_usage(), name="flowza-token-usage"),
                 asyncio.create_task(deployments.apply_monitoring_schedules(), name="flowza-monitoring-schedules")]
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await deployments.stop_background()
        await state.models.close()
        await asyncio.to_thread(state.prediction_log.close)
        try:
            await asyncio.to_thread(state.tokens.save_usage)
        except Exception:
            log.warning("could not save when deployment tokens were last used", exc_info=True)


def create_app() -> FastAPI:
    app = FastAPI(title="Flowza", version="0.1.0", lifespan=lifespan,
                  description="Build, run and track ML workflows: Prefect runs them, MLflow keeps the models.")
    errors.install(app)
    rate_limit.install(app)
    body_limit.install(app)
    fast_path.install(app)  # outermost: invocations skip the router and the other middleware
    app.state.models, app.state.tokens = ModelCache(), TokenCheck()
    app.state.prediction_log, app.state.prediction_calls = PredictionLog(), rate_limit.SlidingWindow()
    for module in (editor, health, auth, catalog, tasks, workflows, workflow_parts, versions, workflow_export, sharing,
                   schedules, runs, live, datasets, models, deployment_routes, monitoring, ai, connections):
        app.include_router(module.router)
    return app
