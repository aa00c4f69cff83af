"""Model deployments: who may do what, and create / change / delete with the model loaded before answering.

A deployment follows its model's access (``api.access.model``): whoever may see the model sees its
deployments, its owner or an editor creates, changes and deletes them and manages their tokens; to
anyone else a deployment of a model they cannot see does not exist (404). The model is loaded before
the row is written (no database lock held during a load), and swapped in once the row is committed.
Each deployment has a monitoring schedule in Prefect (``deployments.monitoring``); Prefect being away
is logged, never fails the request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api import access
from api.auth import user_id
from metadata_db import deployments as rows
from metadata_db.base import new_id, utcnow
from metadata_db.models import DEFAULT_THRESHOLDS, ModelDeployment, User
from api.serving.models import ModelCache, Served
from api.serving.tokens import TokenCheck
from api.services import registry as mlflow_calls
from flows import registry
from flows.registry import ModelNotFound

log = logging.getLogger(__name__)
_background: set[asyncio.Task] = set()
_latest: dict[str, asyncio.Task] = {}  # deployment name -> its last schedule change asked


async def _model_access(session: Session, user: User | None, model: str, need: access.Need) -> None:
    """404 for a model the user may not see (or MLflow lacks), 403 for one they may not change."""
    if user is None:
        return
    if need != "view" and await run_in_threadpool(access.model, session, user, model) is None:
        await mlflow_calls.call(registry.require_model, model)  # no owner: 404 if MLflow lacks it too
    await run_in_threadpool(access.model, session, user, model, need)


async def deployment(session: Session, user: User | None, name: str,
                     need: access.Need = "view") -> ModelDeployment:
    """The deployment ``name`` if the user may ``need`` it: DEPLOYMENT_NOT_FOUND if they may not see it."""
    found = await run_in_threadpool(rows.get_deployment, session, name)
    try:
        await run_in_threadpool(access.model, session, user, found.model, "view")
    except ModelNotFound:
        raise rows.DeploymentNotFound(name) from None
    if need != "view":
        await run_in_threadpool(access.model, session, user, found.model, need)
    return found


async def visible(session: Session, user: User | None) -> list[ModelDeployment]:
    """The deployments of the models the user may see."""
    found = await run_in_threadpool(rows.list_deployments, session)
    models = set(await run_in_threadpool(access.visible_models, session, user, sorted({d.model for d in found})))
    return [d for d in found if d.model in models]


async def create(session: Session, user: User | None, cache: ModelCache, *, name: str, model: str,
                 version: int | None, alias: str | None, thresholds: dict[str, Any],
                 monitoring_interval_s: int) -> ModelDeployment:
    """Load the model, then store the deployment and serve it; ``ModelNotFound`` (nothing stored) if MLflow lacks
    the model, version or alias, a ``failed`` deployment saying why if it does not load."""
    await _model_access(session, user, model, "edit")
    if await run_in_threadpool(rows.exists, session, name):  # before loading a model for nothing
        raise rows.DeploymentExists(rows.taken(name))
    async with cache.lock(name):
        served = await cache.prepare(new_id(), name, model, version, alias)
        try:
            created = await run_in_threadpool(_insert, session, served, DEFAULT_THRESHOLDS | thresholds,
                                              monitoring_interval_s, user_id(user))
        except BaseException:
            cache.discard(served)
            raise
        cache.install(served)
    log.info("deployment %s serves model %s version %s (%s)", name, model, served.model_version, served.status)
    _monitoring("apply_monitoring_deployment", name, monitoring_interval_s)
    return created


def _insert(session: Session, served: Served, thresholds: dict, interval_s: int, owner_id: str | None):
    created = rows.create_deployment(
        session, id=served.deployment_id, name=served.name, model=served.model, version=served.version,
        alias=served.alias, current_version=served.model_version, owner_id=owner_id, status=served.status,
        error=served.error, thresholds=thresholds, monitoring_interval_s=interval_s)
    session.commit()
    return created


async def change(session: Session, user: User | None, cache: ModelCache, name: str,
                 changes: dict[str, Any]) -> ModelDeployment:
    """PATCH: another model, version or alias (loaded first, then swapped), thresholds, monitoring interval."""
    found = await deployment(session, user, name, "edit")
    target = {key: changes[key] for key in ("model", "version", "alias") if key in changes}
    if "model" in target and target["model"] != found.model:
        await _model_access(session, user, target["model"], "edit")
    async with cache.lock(name):
        served = None
        if target:
            model = target.get("model", found.model)
            version, alias = found.version, found.alias
            if "version" in target or "alias" in target:
                version, alias = target.get("version"), target.get("alias")
            served = await cache.prepare(found.id, name, model, version, alias)
            found.model, found.version, found.alias = model, version, alias
            found.current_version, found.status, found.error = served.model_version, served.status, served.error
        if "thresholds" in changes:
            found.thresholds = {**found.thresholds, **changes["thresholds"]}
        if "monitoring_interval_s" in changes:
            found.monitoring_interval_s = changes["monitoring_interval_s"]
        found.updated_at = utcnow()
        try:
            await run_in_threadpool(session.commit)
        except BaseException:
            if served is not None:
                cache.discard(served)
            raise
        if served is not None:
            cache.install(served)
            log.info("deployment %s now serves model %s version %s (%s)", name, served.model,
                     served.model_version, served.status)
    if "monitoring_interval_s" in changes:
        _monitoring("apply_monitoring_deployment", name, found.monitoring_interval_s)
    return found


async def delete(session: Session, user: User | None, cache: ModelCache, tokens: TokenCheck, name: str) -> None:
    """Delete the deployment with its tokens and log; its model stops being served and its tokens at once."""
    found = await deployment(session, user, name, "edit")
    async with cache.lock(name):
        await run_in_threadpool(_delete, session, found)
        cache.drop(name)
    tokens.forget(deployment_id=found.id)
    log.info("deployment %s deleted", name)
    _monitoring("delete_monitoring_deployment", name)


def _delete(session: Session, found: ModelDeployment) -> None:
    rows.delete_deployment(session, found)
    session.commit()


# --- monitoring schedules (deployments.monitoring, helper of the Prefect side) ----------------------------
def _monitoring(action: str, name: str, *args) -> None:
    """Create, change or delete a deployment's monitoring schedule in Prefect, in the background.

    The changes of one deployment are made in the order they were asked: a delete never overtaken by an
    earlier create still under way (which would leave Prefect a schedule with no deployment behind it).
    """
    loop = asyncio.get_running_loop()
    previous = _latest.get(name)
    if previous is not None and previous.get_loop() is not loop:  # another app's (tests run several)
        previous = None

    async def call() -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            from deployments import monitoring

            await getattr(monitoring, action)(name, *args)
        except Exception as exc:
            log.warning("the monitoring schedule of deployment %s was not updated in Prefect (%s: %s); it is "
                        "updated again when the API next starts", name, type(exc).__name__, exc)

    task = loop.create_task(call(), name=f"flowza-{action}")
    _latest[name] = task
    _background.add(task)

    def done(finished: asyncio.Task) -> None:
        _background.discard(finished)
        if _latest.get(name) is finished:
            del _latest[name]

    task.add_done_callback(done)


async def apply_monitoring_schedules() -> None:
    """Give every deployment its monitoring schedule (at API start: Prefect may have lost or never had them)."""
    try:
        found = await run_in_threadpool(rows.deployment_rows, rows.metadata_engine())
    except Exception:
        log.warning("could not read the deployments to schedule their monitoring", exc_info=True)
        return
    for row in found:
        _monitoring("apply_monitoring_deployment", row.name, row.monitoring_interval_s)


async def stop_background() -> None:
    """Cancel the schedule updates still running (at API stop)."""
    loop = asyncio.get_running_loop()
    mine = [task for task in _background if task.get_loop() is loop]
    for task in mine:
        task.cancel()
    await asyncio.gather(*mine, return_exceptions=True)
