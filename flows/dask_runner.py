"""Node computations on a Dask cluster (a workflow's ``"runner": {"type": "dask"}``), through prefect-dask.

A node's Prefect task (``flows.engine.run_node``) stays in the run's process: it owns what the run
shares (its record, the cache, stored outputs, MLflow), none of which pickles. Only the node's function
goes to a Dask worker, as a small Prefect task of its own (``compute_node``) carrying the node's
parameters and input values; its output values and warnings come back. The worker builds the node's
context from its own ``FLOWZA_*`` settings, which must be the run's (same object store, metadata
database, data directory and guards): they are compared before the node runs.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL

from flowza_core.errors import FlowzaError
from flowza_core.settings import Settings, get_settings
from flows.connections import RunConnections
from flows.node_context import node_context
from flows.store import ObjectStore, open_store
from nodes.base import NodeContext, NodeDef, Params

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10  # long enough for a scheduler across a network, short enough to fail a run promptly

# What a node's result depends on besides its inputs: a Dask worker must read these as the run's process does.
SHARED_SETTINGS = {
    "store_url": "FLOWZA_OBJECT_STORE_URL (or FLOWZA_HOME)",
    "s3_endpoint_url": "FLOWZA_S3_ENDPOINT_URL",
    "metadata_db_url": "FLOWZA_DATABASE_URL (or FLOWZA_HOME)",
    "data_root": "FLOWZA_DATA_DIR",
    "auth_enabled": "FLOWZA_AUTH_ENABLED",
    "allow_file_paths": "FLOWZA_ALLOW_FILE_PATHS",
    "http_allow_private": "FLOWZA_HTTP_ALLOW_PRIVATE",
}


class DaskUnavailable(FlowzaError):
    """The run's Dask scheduler cannot take work (unreachable, no workers, no Prefect API for them)."""

    code = "DASK_UNAVAILABLE"


class DaskWorkerMisconfigured(FlowzaError):
    code = "DASK_WORKER_SETTINGS"


def settings_digest(settings: Settings) -> dict[str, str]:
    """A hash of each shared setting: compared on the worker without sending values (URLs may hold passwords)."""
    return {name: hashlib.sha256(repr(getattr(settings, name)).encode()).hexdigest() for name in SHARED_SETTINGS}


@dataclass(frozen=True)
class NodeCall:
    """What a Dask worker needs, besides parameters and inputs, to run one node as the run would."""

    node_type: str
    node_id: str
    run_id: str
    protected_columns: frozenset[str]
    max_dataset_mb: float
    settings_digest: dict[str, str]


@lru_cache(maxsize=4)
def _worker_store(url: str, s3_endpoint_url: str | None) -> ObjectStore:
    return open_store(url, s3_endpoint_url)


@task(name="compute", cache_policy=NO_CACHE, persist_result=False)
def compute_node(call: NodeCall, params: Params, inputs: dict) -> tuple[dict, list[dict]]:
    """Run one node's function on this Dask worker; return its output values (by port) and its warnings."""
    from nodes.catalog import discover

    settings = get_settings()
    own = settings_digest(settings)
    differing = [label for name, label in SHARED_SETTINGS.items() if own[name] != call.settings_digest[name]]
    if differing:
        raise DaskWorkerMisconfigured(f"this Dask worker's settings differ from the run's: {', '.join(differing)}; "
                                      f"start Dask workers with the same FLOWZA_* environment as Flowza's workers")
    defn = discover()[call.node_type]
    store = _worker_store(settings.store_url, settings.s3_endpoint_url)
    ctx = node_context(call.node_id, call.node_type, settings, store, connections=RunConnections(call.run_id, settings),
                       protected_columns=call.protected_columns, max_dataset_mb=call.max_dataset_mb,
                       logger=get_run_logger())
    return defn.run(inputs, params, ctx), ctx.warnings


class DaskCompute:
    """A run's link to a Dask scheduler (prefect-dask's ``DaskTaskRunner``): node computations go to its workers."""

    def __init__(self, address: str):
        from prefect_dask import DaskTaskRunner

        self.address = address
        self.runner = DaskTaskRunner(address=address, client_kwargs={"timeout": CONNECT_TIMEOUT_S})
        # Prefect sends the submitting task's context (with its parameters) to the worker: node computations
        # are submitted in the flow's context instead, as the node task's parameters hold the run's shared state.
        self.flow_context = contextvars.copy_context()

    @classmethod
    def connect(cls, address: str) -> DaskCompute:
        """Connect to the scheduler at ``address`` and see it has workers; ``DaskUnavailable`` saying what to do."""
        if not PREFECT_API_URL.value():
            # Without a server Prefect runs a temporary one inside this process, which Dask workers cannot reach.
            raise DaskUnavailable(f"the Dask runner ({address}) needs a Prefect server that its workers can reach: "
                                  f"set PREFECT_API_URL (or start `flowza up` or `prefect server start` first)")
        import dask

        # A node's inputs travel inside its task by design (docs/scaling.md, "Data movement"): Dask's warning
        # about large task graphs would repeat for every node that reads a table.
        dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"})
        compute = cls(address)
        compute.runner.__enter__()
        try:
            try:
                client = compute.runner.client
            except OSError as exc:
                raise DaskUnavailable(f"could not reach the Dask scheduler at {address} ({exc}): start it "
                                      f"(`dask scheduler`) and its workers (`dask worker {address}`), or point the "
                                      f"workflow's runner.address or FLOWZA_DASK_ADDRESS at a running one") from None
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            except TimeoutError:
                raise DaskUnavailable(f"the Dask scheduler at {address} has no workers (none joined within "
                                      f"{CONNECT_TIMEOUT_S} s): start some with `dask worker {address}`") from None
        except BaseException:
            compute.close()
            raise
        log.info("node computations of this run go to the Dask scheduler at %s", address)
        return compute

    def compute(self, defn: NodeDef, inputs: dict, params: Params, ctx: NodeContext, run_id: str) -> dict:
        """Run the node on a Dask worker; its warnings join ``ctx.warnings``; its errors are raised here."""
        call = NodeCall(defn.type, ctx.node_id, run_id, ctx.protected_columns, ctx.max_dataset_mb,
                        settings_digest(get_settings()))
        future = self.flow_context.copy().run(
            self.runner.submit, compute_node.with_options(task_run_name=f"compute {ctx.node_id}"),
            {"call": call, "params": params, "inputs": inputs})
        values, warnings = future.result()
        ctx.warnings.extend(warnings)
        return values

    def close(self) -> None:
        self.runner.__exit__(None, None, None)


def dask_setup(worker) -> None:
    """Run by ``dask worker … --preload flows.dask_runner``: the node catalog is imported as the worker starts,
    not by its first node (seconds: scikit-learn, XGBoost, matplotlib)."""
    from nodes.catalog import discover

    discover()
    log.info("Flowza's node catalog is loaded on this Dask worker")
