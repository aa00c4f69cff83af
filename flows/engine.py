"""The compiler: one generic Prefect flow that runs a workflow, one task per node."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from contextlib import nullcontext
from concurrent.futures import Future, ThreadPoolExecutor

from flows.malloc import return_freed_memory
from flows.prefect_env import configure_prefect, share_tls_contexts

configure_prefect()
return_freed_memory()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.futures import wait  # noqa: E402
from prefect.states import Cancelled  # noqa: E402
from prefect.runtime import flow_run as current_flow_run  # noqa: E402
from prefect.context import SettingsContext  # noqa: E402
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY  # noqa: E402

share_tls_contexts()  # Prefect is imported, its settings read: one TLS context for its clients

from flowza_core.errors import FlowzaError, NodeFailed  # noqa: E402
from flowza_core.settings import get_settings  # noqa: E402
from flows.cancellation import CancelWatch  # noqa: E402
from flows.cache import cache_key, output_fingerprint, read_manifest, write_manifest  # noqa: E402
from flows.connections import RunConnections  # noqa: E402
from flows.dask_runner import DaskCompute  # noqa: E402
from flows.model_runs import ModelTracking  # noqa: E402
from flows.node_context import Places, node_context  # noqa: E402
from flows.outputs import OutputRef, OutputStore, summarize  # noqa: E402
from flows.recorder import RunRecorder, listening, load_run  # noqa: E402
from flows.store import ObjectStore, StoreError, open_store  # noqa: E402
from flows.tracking import RunTracker  # noqa: E402
from flows.validation import Plan, compile_plan  # noqa: E402
from nodes.base import NodeContext  # noqa: E402

log = logging.getLogger(__name__)


class WorkflowFailed(FlowzaError):
    """The run finished with failed nodes; ``record`` is the run's full record."""

    code = "RUN_FAILED"

    def __init__(self, record: dict):
        failed = [f"{nid}: {n['error']['message']}" for nid, n in record["nodes"].items() if n.get("error")]
        super().__init__("workflow run failed: " + "; ".join(failed))
        self.record = record


class RunCancelled(FlowzaError):
    code = "CANCELLED"


class NodeOutcome:
    """What a node task returns: a plain class, so Prefect does not walk its outputs (summaries, tables)
    when it hands them to the next task."""

    __slots__ = ("node_id", "key", "outputs", "warnings")

    def __init__(self, node_id: str, key: str, outputs: dict[str, OutputRef], warnings: list[dict] | None = None):
        self.node_id, self.key, self.outputs, self.warnings = node_id, key, outputs, warnings


class RunContext:
    """Everything node tasks share within one run (a plain class: Prefect does not walk into it)."""

    def __init__(self, plan: Plan, store: ObjectStore, recorder: RunRecorder, use_cache: bool,
                 workflow_id: str | None = None, dask: DaskCompute | None = None):
        self.plan, self.store, self.recorder, self.use_cache = plan, store, recorder, use_cache
        self.dask = dask  # where node functions run when the workflow asks for a Dask cluster
        self.settings = get_settings()
        self.places = Places.of(self.settings)
        workflow_id = workflow_id or str(plan.spec.model_extra.get("id", ""))
        self.tracker = RunTracker(self.settings, plan.spec.name, {
            "flowza.workflow_name": plan.spec.name, "flowza.workflow_id": workflow_id,
            "flowza.run_id": recorder.run_id, "prefect.flow_run_id": str(recorder.record.get("flow_run_id", ""))})
        self.outputs = OutputStore(store, on_model_loaded=self.tracker.remember_model)
        self.models = ModelTracking(plan, self.tracker, recorder.run_id)
        self.source_fingerprints: dict[str, str] = {}
        # How many inputs still have to read each output (node, port): at 0 its value is let go.
        self.readers = Counter(source for node_id in plan.order for source in plan.inputs[node_id].values())
        self._readers_lock = threading.Lock()
        self.connections = RunConnections(recorder.run_id, self.settings)  # opened only when a node asks
        # Storing outputs overlaps with the next nodes' work; the run waits for it at the end.
        # Tables are written in parallel; MLflow calls run in order on one thread; a node's
        # manifest is written once all its writes are done. A node waits only for the MLflow
        # work its status vouches for (its model logged, its version registered).
        self.writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="flowza-write")
        self.tracking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowza-mlflow")
        self.committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowza-commit")
        self.keys = ThreadPoolExecutor(max_workers=2, thread_name_prefix="flowza-key")
        if self.models.owners or self.models.targets:
            self.tracking.submit(self.tracker.start)
        self.writes: list[tuple[str, Future]] = []
        self.flow_run_id = recorder.record.get("flow_run_id")
        self._cancel = CancelWatch.register(self.flow_run_id) if self.flow_run_id else threading.Event()

    @property
    def cancelled(self) -> bool:
        """Whether someone asked Prefect to cancel this flow run (as of the last check, at most 0.5 s ago)."""
        return self._cancel.is_set()

    def persist(self, node_id: str, key: str, writes: list, tracking: list, manifest: dict,
                awaited: list = ()) -> list[Future]:
        """Store a node's outputs in the background; returns the futures of ``awaited`` MLflow work."""
        awaited_futures = [self.tracking.submit(t) for t in awaited]
        futures = [self.writer.submit(w) for w in writes] + awaited_futures
        futures += [self.tracking.submit(t) for t in tracking]
        self.writes.append((node_id, self.committer.submit(_commit, self.store, key, futures, manifest)))
        return awaited_futures

    def shutdown(self) -> None:
        if self.flow_run_id:
            CancelWatch.unregister(self.flow_run_id)
        for pool in (self.keys, self.writer, self.tracking, self.committer):
            pool.shutdown(wait=True)
        if self.dask is not None:
            self.dask.close()

    def done_reading(self, sources: dict[str, tuple[str, str]], upstream: dict[str, "NodeOutcome"]) -> None:
        """A node has finished with its inputs: outputs no other node will read leave memory."""
        for port, source in sources.items():
            with self._readers_lock:
                self.readers[source] -= 1
                unread = self.readers[source] <= 0
            if unread:
                upstream[port].outputs[source[1]].release(self.outputs)

    def release_unread(self, node_id: str, outputs: dict[str, "OutputRef"]) -> None:
        """Outputs no node of this run reads (the workflow's results) leave memory once stored."""
        for port, ref in outputs.items():
            if not self.readers[(node_id, port)]:
                ref.release(self.outputs)

    def compute(self, defn, inputs: dict, params, ctx: NodeContext) -> dict:
        """Run a node's function on its inputs: on this thread, or on a worker of the run's Dask cluster."""
        if self.dask is None:
            return defn.run(inputs, params, ctx)
        return self.dask.compute(defn, inputs, params, ctx, self.recorder.run_id)

    def node_context(self, node_id: str) -> NodeContext:
        return node_context(node_id, self.plan.defs[node_id].type, self.settings, self.store,
                            connections=self.connections, protected_columns=self.plan.protected[node_id],
                            max_dataset_mb=self.settings.max_dataset_mb, logger=get_run_logger(), places=self.places)


def _commit(store: ObjectStore, key: str, futures: list[Future], manifest: dict) -> None:
    for future in futures:
        future.result()  # a failed write fails the node: no manifest, so nothing half-stored is reused
    write_manifest(store, key, manifest)


def _cached_outcome(run: RunContext, node_id: str, key: str) -> NodeOutcome | None:
    manifest = read_manifest(run.store, key)
    if manifest is None or not all(run.outputs.exists(o["ref"]) for o in manifest["outputs"].values()):
        return None
    outputs = {port: OutputRef(o["fingerprint"], o["ref"], o["summary"]) for port, o in manifest["outputs"].items()}
    return NodeOutcome(node_id, key, outputs, manifest.get("warnings"))


def _node_key(run: RunContext, node_id: str, refs: dict[str, OutputRef], ctx: NodeContext) -> str:
    """The cache key of a node: its code, parameters, inputs' fingerprints and sources' salt."""
    defn, params = run.plan.defs[node_id], run.plan.params[node_id]
    salt = defn.cache_salt(params, ctx) if defn.cache_salt else None
    if isinstance(connection := getattr(params, "connection", None), str) and connection:
        # Outputs made with another user's connection of that name, or before it changed, are not reused.
        salt = f"{salt or ''}|{run.connections.fingerprint(connection)}"
    if salt:
        run.source_fingerprints[node_id] = salt
    return cache_key(defn, params, {p: r.fingerprint for p, r in refs.items()}, run.plan.protected[node_id], salt)


@task(name="node", task_run_name="{title}", cache_policy=NO_CACHE, persist_result=False)
def run_node(node_id: str, title: str, run: RunContext, upstream: dict[str, NodeOutcome]) -> NodeOutcome:
    """Run one node (or reuse its stored outputs) and hand its outputs downstream."""
    plan, recorder = run.plan, run.recorder
    defn, params = plan.defs[node_id], plan.params[node_id]
    if run.cancelled:
        raise RunCancelled(f"run cancelled before node '{node_id}' started")
    recorder.started(node_id)
    t0 = time.perf_counter()
    try:
        ctx = run.node_context(node_id)
        sources = plan.inputs[node_id]
        refs = {port: upstream[port].outputs[src_port] for port, (_, src_port) in sources.items()}
        pending_key = None
        if run.use_cache:
            key = _node_key(run, node_id, refs, ctx)
            if hit := _cached_outcome(run, node_id, key):
                ctx.logger.info("reusing stored outputs (inputs, parameters and code unchanged)")
                for ref in hit.outputs.values():
                    for work in run.models.reused_work(node_id, ref, lambda r: r.get(run.outputs)):
                        run.writes.append((node_id, run.tracking.submit(work)))
                recorder.finished(node_id, status="completed", cached=True, duration_s=time.perf_counter() - t0,
                                  outputs=_public(hit.outputs), warnings=hit.warnings)
                return hit
        elif defn.cache_salt or getattr(params, "connection", None):
            # Nothing is reused, so a key that reads a source (hashes a big file, looks up a connection) is
            # worked out beside the node's own work; the key names the stored outputs.
            pending_key = run.keys.submit(_node_key, run, node_id, refs, ctx)
        else:
            key = _node_key(run, node_id, refs, ctx)
        values = run.compute(defn, {port: ref.get(run.outputs) for port, ref in refs.items()}, params, ctx)
        if pending_key:
            key = pending_key.result()
        outputs, writes, awaited, tracking = {}, [], [], []
        manifest = {"node_type": defn.type, "run_id": recorder.run_id, "outputs": {}, "warnings": ctx.warnings}
        for port, value in values.items():
            fingerprint = output_fingerprint(key, port)
            ref, port_writes = run.outputs.plan_save(fingerprint, value)
            outputs[port] = OutputRef(fingerprint, ref, summarize(value), _value=value)
            manifest["outputs"][port] = {"fingerprint": fingerprint, "ref": ref, "summary": outputs[port].summary}
            writes += port_writes
            node_awaits, overlapping = run.models.work(node_id, value, ref, {p: r.fingerprint for p, r in refs.items()})
            awaited += node_awaits
            tracking += overlapping
        for future in run.persist(node_id, key, writes, tracking, manifest, awaited):
            future.result()  # a model MLflow did not store or register fails its node
    except Exception as exc:
        failure = NodeFailed(node_id, defn.type, exc)
        error = {"code": failure.code, "message": failure.cause_message, "type": type(exc).__name__}
        get_run_logger().error("%s", failure.message, exc_info=not isinstance(exc, FlowzaError))
        recorder.finished(node_id, status="failed", duration_s=time.perf_counter() - t0, error=error)
        raise failure from exc
    finally:
        run.done_reading(plan.inputs[node_id], upstream)
    recorder.finished(node_id, status="completed", duration_s=time.perf_counter() - t0, outputs=_public(outputs),
                      warnings=ctx.warnings)
    run.release_unread(node_id, outputs)
    return NodeOutcome(node_id, key, outputs, ctx.warnings)


def _public(outputs: dict[str, OutputRef]) -> dict:
    """What the run record shows of each output: its summary, where it is stored, its model links."""
    return {port: {**ref.summary, **{k: ref.ref[k] for k in ("key", "uri", "model_uri", "mlflow_run_id", "registered")
                                     if k in ref.ref}}
            for port, ref in outputs.items()}


def _flow_run_name() -> str:
    workflow = current_flow_run.parameters.get("workflow") or {}
    return str(workflow.get("name") or "workflow") if isinstance(workflow, dict) else "workflow"


def open_default_store() -> ObjectStore:
    settings = get_settings()
    return open_store(settings.store_url, settings.s3_endpoint_url)


@flow(name="flowza-workflow", flow_run_name=_flow_run_name, persist_result=False, validate_parameters=True)
def run_workflow(workflow_id: str | None = None, workflow_version: int | None = None, run_id: str | None = None,
                 use_cache: bool = True, workflow: dict | None = None) -> dict:
    """Validate a Flowza workflow and run it: one task per node, independent branches concurrently.

    Flowza's runs name a saved version (``workflow_id``, ``workflow_version``): Flowza's worker reads
    its definition from the metadata database and passes it as ``workflow``. A flow run started
    elsewhere may carry its own ``workflow`` instead (it becomes a new workflow owned by nobody).
    """
    if workflow is None:
        raise FlowzaError(f"no workflow definition to run: workflow {workflow_id} version {workflow_version} "
                          f"is read by Flowza's worker (`python -m deployments.worker`), which did not run this "
                          f"flow run", code="WORKFLOW_NOT_LOADED")
    plan = compile_plan(workflow)
    store = open_default_store()
    run_id = run_id or uuid.uuid4().hex
    recorder = RunRecorder(run_id, plan.spec.name, plan.order, {n: plan.label(n) for n in plan.order},
                           {n: plan.defs[n].type for n in plan.order}, store)
    recorder.record["flow_run_id"] = str(current_flow_run.id)
    # Before the run is recorded as started: with an unreachable scheduler it does not start.
    scheduler = plan.spec.runner.scheduler() if plan.spec.runner else None
    dask = DaskCompute.connect(scheduler) if scheduler else None
    recorder.started_run()
    run = RunContext(plan, store, recorder, use_cache, workflow_id, dask)
    try:
        futures = {}
        for node_id in plan.order:
            upstream = {port: futures[src] for port, (src, _) in plan.inputs[node_id].items()}
            label = plan.label(node_id)
            title = label if label == node_id else f"{label} ({node_id})"
            futures[node_id] = run_node.submit(node_id, title, run, upstream)
        wait(list(futures.values()))
        for node_id, write in run.writes:
            if (exc := write.exception()) and recorder.store_failed(node_id, {
                    "code": "STORE_ERROR", "type": type(exc).__name__,
                    "message": f"could not store the node's outputs: {exc}"}):
                log.error("storing outputs of %s failed", node_id, exc_info=exc)
    finally:
        run.shutdown()
    if run.tracker.mlflow_run_id:
        recorder.record["mlflow_run_id"] = run.tracker.mlflow_run_id
        recorder.record["mlflow_model_runs"] = dict(run.tracker.model_runs)
        run.tracker.tag({f"flowza.data.{n}": fp for n, fp in run.source_fingerprints.items()})
    record = recorder.finish(store, cancelled=run.cancelled)
    run.tracker.finish(record["status"], _model_statuses(record, run.models.owners))
    if record["status"] == "cancelled":
        return Cancelled(message="cancelled on request; nodes that had not started did not run")
    if record["status"] != "completed":
        raise WorkflowFailed(record)
    return record


def _model_statuses(record: dict, owners: dict[str, str]) -> dict[str, str]:
    """Each model's own outcome: completed when every node of its branch completed."""
    worst = {"completed": 0, "cancelled": 1, "failed": 2}
    statuses: dict[str, str] = {}
    for node_id, model_node in owners.items():
        status = record["nodes"][node_id]["status"]
        own = {"failed": "failed", "not_run": "failed", "cancelled": "cancelled"}.get(status, "completed")
        statuses[model_node] = max(statuses.get(model_node, "completed"), own, key=worst.__getitem__)
    return statuses


_quiet_settings: dict[int, tuple] = {}


def without_heartbeats() -> SettingsContext:
    """Settings for runs whose caller waits on them, so heartbeats (crash detection) only
    add their ~1 s join to the end of each sync flow run. Built once per base settings:
    building Prefect settings costs ~0.1 s."""
    ctx = SettingsContext.get()
    base, quiet = _quiet_settings.get(id(ctx.settings), (None, None))
    if base is not ctx.settings:
        quiet = ctx.settings.copy_with_update(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
        _quiet_settings[id(ctx.settings)] = (ctx.settings, quiet)
    return SettingsContext(profile=ctx.profile, settings=quiet)


def execute(workflow, *, use_cache: bool = True, on_event=None) -> dict:
    """Validate, then run a workflow in this process as a Prefect flow run; return its record.

    Raises ``WorkflowInvalid`` (listing every problem) before anything runs; a run whose
    nodes failed returns its record with ``status: "failed"``.
    """
    plan = compile_plan(workflow)
    run_id = uuid.uuid4().hex
    listen = listening(on_event) if on_event else nullcontext()
    with listen, without_heartbeats():
        state = run_workflow(workflow=plan.spec.to_json_dict(), use_cache=use_cache, run_id=run_id,
                             return_state=True)
    try:
        return load_run(open_default_store(), run_id)
    except StoreError:
        # The flow ended before recording anything (e.g. Prefect itself failed): surface why.
        raise FlowzaError(f"the run did not start: {state.message}", code="RUN_NOT_STARTED") from None
