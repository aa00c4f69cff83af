"""The Flowza API: a thin FastAPI layer over the metadata database, Prefect and MLflow."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from flows.prefect_env import configure_prefect

configure_prefect()

from api.services import prefect_limits  # noqa: E402
from flowza.settings import get_settings  # noqa: E402

prefect_limits.apply(get_settings())  # before anything reads Prefect's client settings

from fastapi import FastAPI  # noqa: E402

from api import body_limit, errors, rate_limit  # noqa: E402
from api.db.session import upgrade  # noqa: E402
from api.services.run_upkeep import run_upkeep  # noqa: E402
from api.routes import (auth, catalog, datasets, editor, health, live, models, runs, schedules,  # noqa: E402
                        sharing, tasks, versions, workflow_parts, workflows)

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(_: FastAPI):
    upgrade(get_settings().metadata_db_url)  # migrations, before the first request
    async with run_upkeep():  # accepted runs reach Prefect, dead ones end: even after a restart
        yield


def create_app() -> FastAPI:
    app = FastAPI(title="Flowza", version="0.1.0", lifespan=lifespan,
                  description="Build, run and track ML workflows: Prefect runs them, MLflow keeps the models.")
    errors.install(app)
    rate_limit.install(app)
    body_limit.install(app)
    for module in (editor, health, auth, catalog, tasks, workflows, workflow_parts, versions, sharing, schedules, runs, live,
                   datasets, models):
        app.include_router(module.router)
    return app
