"""The models this API process serves: loaded once, kept warm, swapped without a failed request.

Each deployment's model is loaded with ``mlflow.sklearn.load_model("models:/name/version")`` on an
MLflow thread (``api.services.registry``: off the event loop, MLflow requests bounded by
FLOWZA_MLFLOW_TIMEOUT_S) and wrapped in a ``Batcher``. A change loads the new model first and then
swaps the reference: requests already scoring finish on the old batcher, closed ``RETIRE_AFTER_S``
later. Every FLOWZA_ALIAS_POLL_S the process re-reads its deployments (``sync``): followed aliases
that moved are loaded and swapped in, deployments created, changed or deleted through another API
process follow, and models that failed to load are tried again. At start every deployment is loaded
again. A model that cannot load leaves its deployment ``failed`` with the reason, which invocations
answer with 503 DEPLOYMENT_UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, replace

import anyio

from metadata_db import deployments as rows_db
from api.serving.batcher import Batcher
from api.services import registry as mlflow_calls
from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings
from flows import registry
from flows.tracking import configure_mlflow

log = logging.getLogger(__name__)
RETIRE_AFTER_S = 5.0  # a replaced batcher is closed this long after the swap (requests on it finish first)
START_LOAD_S = 60.0  # the API starts serving after this long even if some models are still loading


class ModelUnloadable(FlowzaError):
    """MLflow has the version, but it does not load as a scikit-learn model here."""

    code = "MODEL_UNLOADABLE"


@dataclass(frozen=True)
class Served:
    """One deployment as this process serves it; replaced whole, never changed in place."""

    deployment_id: str
    name: str
    model: str
    version: int | None  # pinned
    alias: str | None  # followed
    model_version: int | None  # served now
    batcher: Batcher | None  # None: the model did not load
    status: str
    error: str | None = None


async def resolve(model: str, version: int | None, alias: str | None) -> int:
    """The version a deployment serves; ``ModelNotFound`` naming the model, version or alias MLflow lacks."""
    if alias is not None:
        return await mlflow_calls.call(registry.version_by_alias, model, alias)
    await mlflow_calls.call(registry.describe_version, model, version)
    return version


def _load_model(model: str, version: int):
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    settings = get_settings()
    configure_mlflow(settings, timeout_s=settings.mlflow_timeout_s)
    try:
        return mlflow.sklearn.load_model(f"models:/{model}/{version}")
    except MlflowException as exc:  # the version exists (``resolve`` said so): its artifact is the problem
        raise ModelUnloadable(f"model '{model}' version {version} does not load as a scikit-learn model: "
                              f"{exc.message}") from exc


class ModelCache:
    """Deployment name -> ``Served``; one per API process."""

    def __init__(self) -> None:
        self._served: dict[str, Served] = {}
        self._changed_at: dict[str, float] = {}  # name -> when this process last installed or dropped it
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._retired: set[Batcher] = set()  # replaced, closed soon
        self._tasks: set[asyncio.Task] = set()

    def get(self, name: str) -> Served | None:
        return self._served.get(name)

    def lock(self, name: str) -> asyncio.Lock:
        """Held while a deployment's model changes: one change at a time per name."""
        return self._locks[name]

    async def prepare(self, deployment_id: str, name: str, model: str, version: int | None,
                      alias: str | None) -> Served:
        """Resolve and load the model, not yet served. ``ModelNotFound`` if MLflow lacks it; any other failure
        gives a ``failed`` result carrying the reason."""
        current = await resolve(model, version, alias)
        base = Served(deployment_id, name, model, version, alias, current, None, "failed")
        try:
            loaded = await mlflow_calls.call(_load_model, model, current, deadline=False)
        except FlowzaError as exc:
            log.warning("deployment %s: %s", name, exc.message)
            return replace(base, error=exc.message)
        except Exception as exc:  # an unpickling error, a missing library: the deployment says why
            log.warning("deployment %s: model %s version %s did not load", name, model, current, exc_info=True)
            return replace(base, error=f"model '{model}' version {current} did not load: {type(exc).__name__}: {exc}")
        return replace(base, batcher=Batcher(loaded), status="ready")

    def install(self, served: Served) -> None:
        """Serve ``served`` from now on; the batcher it replaces is closed a little later."""
        old = self._served.get(served.name)
        self._served[served.name] = served
        self._changed_at[served.name] = time.monotonic()
        if old is not None and old.batcher is not None and old.batcher is not served.batcher:
            self._retire(old.batcher)

    def drop(self, name: str) -> None:
        old = self._served.pop(name, None)
        self._changed_at[name] = time.monotonic()
        if old is not None and old.batcher is not None:
            self._retire(old.batcher)

    def discard(self, served: Served) -> None:
        """Close a prepared model that will not be served (its deployment was refused)."""
        if served.batcher is not None:
            self._retire(served.batcher, after_s=0)

    def _retire(self, batcher: Batcher, after_s: float = RETIRE_AFTER_S) -> None:
        async def retire():
            await asyncio.sleep(after_s)
            self._retired.discard(batcher)
            await batcher.close()

        self._retired.add(batcher)
        self._keep(asyncio.get_running_loop().create_task(retire(), name="flowza-retire-batcher"))

    def _keep(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sync(self) -> None:
        """Serve what the metadata database says: load new, changed and failed deployments, follow moved aliases,
        drop deleted ones."""
        read_at = time.monotonic()
        rows = await anyio.to_thread.run_sync(rows_db.deployment_rows, rows_db.metadata_engine())
        await asyncio.gather(*(self._sync_one(row, read_at) for row in rows))
        alive = {row.name for row in rows}
        for name in [n for n in self._served if n not in alive and self._changed_at.get(n, 0) < read_at]:
            log.info("deployment %s was deleted: no longer served", name)
            self.drop(name)

    async def _sync_one(self, row, read_at: float) -> None:
        async with self.lock(row.name):
            if self._changed_at.get(row.name, 0) > read_at:
                return  # created, changed or deleted by this process after the rows were read
            served = self._served.get(row.name)
            try:
                if served is not None and served.status == "ready" and served.deployment_id == row.id and \
                        (served.model, served.version, served.alias) == (row.model, row.version, row.alias):
                    if row.alias is None or await resolve(row.model, None, row.alias) == served.model_version:
                        return
                    log.info("alias %s of model %s moved: deployment %s loads the new version", row.alias,
                             row.model, row.name)
                fresh = await self.prepare(row.id, row.name, row.model, row.version, row.alias)
            except FlowzaError as exc:  # MLflow away, or the alias or version removed: keep serving what there is
                if served is None or served.deployment_id != row.id:
                    self.install(Served(row.id, row.name, row.model, row.version, row.alias, row.current_version,
                                        None, "failed", exc.message))
                    await _record(self._served[row.name])
                log.warning("deployment %s: %s", row.name, exc.message)
                return
            self.install(fresh)
            await _record(fresh)

    async def follow(self) -> None:
        """``sync`` every FLOWZA_ALIAS_POLL_S until cancelled."""
        while True:
            await asyncio.sleep(get_settings().alias_poll_s)
            try:
                await self.sync()
            except Exception:  # the database is away: the next round tries again
                log.warning("could not re-read the deployments", exc_info=True)

    async def start(self) -> None:
        """Load every deployment (at most ``START_LOAD_S``; the rest keeps loading in the background)."""
        loading = asyncio.create_task(self.sync(), name="flowza-load-deployments")
        done, _ = await asyncio.wait({loading}, timeout=START_LOAD_S)
        if done:
            loading.result()
        else:
            log.warning("deployments still loading after %.0f s: the API starts; they are served once loaded",
                        START_LOAD_S)
            self._keep(loading)

    async def close(self) -> None:
        """Finish what every batcher holds, then close them all."""
        for task in list(self._tasks):
            task.cancel()
        batchers = [s.batcher for s in self._served.values() if s.batcher is not None] + list(self._retired)
        self._served.clear()
        self._retired.clear()
        await asyncio.gather(*(b.close() for b in batchers), return_exceptions=True)


async def _record(served: Served) -> None:
    """Store this load's outcome on the deployment's row (the status and version the API shows)."""
    try:
        await anyio.to_thread.run_sync(rows_db.set_load_outcome, rows_db.metadata_engine(), served.deployment_id,
                                       served.model_version, served.status, served.error)
    except Exception:
        log.warning("could not record the state of deployment %s", served.name, exc_info=True)
