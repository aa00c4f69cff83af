"""A Prefect worker that runs Flowza flow runs inside its own process.

A process worker starts a Python subprocess per run (seconds of imports) after polling
every 10 s. This worker keeps the engine imported, polls its work pool often, and runs
each claimed flow run on a thread: the first node starts well under a second after
submission. It is a regular Prefect worker: runs come from the ``run-workflow``
deployment (and the monitoring deployments, ``deployments.monitoring``), states and logs
go to the Prefect API, the UI shows the pool and worker.
It reports its own liveness in the metadata database (``deployments.liveness``): the runs
of a worker that died become ``crashed`` instead of ``running`` forever.

    python -m deployments.worker            # serves the "flowza" work pool
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import threading

import anyio
from prefect.client.schemas.objects import FlowRun
from prefect.workers.base import BaseJobConfiguration, BaseVariables, BaseWorker, BaseWorkerResult

from deployments.runs import WORK_POOL, apply_deployment

log = logging.getLogger(__name__)
MONITOR_FLOW = "flowza-monitor"  # flows.monitoring's flow: its runs are not workflow runs (no metadata claim)
_active = {"runs": 0}
_active_lock = threading.Lock()


def active_runs() -> int:
    """Flow runs this process is running now, bookkeeping included."""
    with _active_lock:
        return _active["runs"]


class FlowzaWorkerResult(BaseWorkerResult):
    """How a flow run ended on this worker (0: the engine ran it to a final state)."""


class FlowzaWorker(BaseWorker[BaseJobConfiguration, BaseVariables, FlowzaWorkerResult]):
    type = "flowza"
    job_configuration = BaseJobConfiguration
    job_configuration_variables = BaseVariables
    _description = "Runs Flowza workflow runs in the worker's own process, without a subprocess per run."
    _display_name = "Flowza in-process"

    identity: dict | None = None  # this process's entry in the workers table (see deployments.liveness)

    async def run(self, flow_run: FlowRun, configuration: BaseJobConfiguration,
                  task_status: anyio.abc.TaskStatus[int] | None = None) -> FlowzaWorkerResult:
        if task_status is not None:
            task_status.started(os.getpid())
        flow_name = configuration.labels.get("prefect.io/flow-name")  # read by Prefect to build the configuration
        status = await anyio.to_thread.run_sync(run_in_process, flow_run, self.identity, flow_name)
        return FlowzaWorkerResult(identifier=str(flow_run.id), status_code=status)

    async def _give_worker_labels_to_flow_run(self, flow_run_id) -> None:
        # The labels only name this worker in Prefect's UI. Prefect's worker crashes the flow run when
        # setting them fails, as it does under load (503 while Prefect's SQLite database is locked).
        try:
            await super()._give_worker_labels_to_flow_run(flow_run_id)
        except Exception as exc:
            log.warning("could not label flow run %s with this worker (%s); running it anyway", flow_run_id, exc)


def run_in_process(flow_run: FlowRun, identity: dict, flow_name: str | None) -> int:
    """Run a claimed flow run to its final state, on this thread: a monitoring run when ``flow_name`` is the
    monitoring flow's, otherwise a workflow run."""
    with _active_lock:
        _active["runs"] += 1
    try:
        state = _run_monitoring(flow_run) if flow_name == MONITOR_FLOW else _run_workflow(flow_run, identity)
    finally:
        with _active_lock:
            _active["runs"] -= 1
    if state is not None:
        log.info("flow run %s ended %s", flow_run.id, state.type.value)
    return 0


def _run_workflow(flow_run: FlowRun, identity: dict):
    """A workflow run, claimed in the metadata database first; its final state (None: refused)."""
    from prefect.flow_engine import run_flow

    from deployments import metadata
    from flows.engine import run_workflow, without_heartbeats

    try:
        parameters = metadata.claim(flow_run, identity)
    except metadata.RunRefused as refused:
        log.warning("flow run %s refused: %s", flow_run.id, refused.message)
        _end_refused(flow_run, refused)
        return None
    state = None
    try:
        with without_heartbeats():
            state = run_flow(run_workflow, flow_run=flow_run, parameters=parameters, return_type="state")
    finally:
        metadata.settle(parameters["run_id"], state.message if state else "the worker stopped during the run")
    return state


def _run_monitoring(flow_run: FlowRun):
    """A monitoring run (``flows.monitoring``): it keeps its own records; its final state."""
    from prefect.flow_engine import run_flow

    from flows.engine import without_heartbeats
    from flows.monitoring import monitor_deployment

    with without_heartbeats():
        return run_flow(monitor_deployment, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")


def _end_refused(flow_run: FlowRun, refused) -> None:
    """A refused flow run ends at once, with the reason as its state message."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Failed

    state = Cancelled(message=refused.message) if refused.cancelled else Failed(message=refused.message)
    try:
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(flow_run.id, state, force=True)
    except Exception:
        log.exception("could not end the refused flow run %s in Prefect", flow_run.id)


async def serve(work_pool: str = WORK_POOL, limit: int | None = None, poll_seconds: float = 0.25) -> None:
    """Make sure the deployment exists, then take runs from the pool until stopped.

    The worker reports its liveness from the start, and ends runs left behind by workers that died.
    """
    from prefect.settings import PREFECT_WORKER_QUERY_SECONDS, temporary_settings

    from deployments.liveness import Heartbeat, reconcile

    heartbeat = Heartbeat()
    await anyio.to_thread.run_sync(heartbeat.start)
    try:
        with temporary_settings(updates={PREFECT_WORKER_QUERY_SECONDS: poll_seconds}):
            async with FlowzaWorker(work_pool_name=work_pool, limit=limit, prefetch_seconds=0) as worker:
                worker.identity = heartbeat.identity
                await apply_deployment(work_pool)
                try:
                    await reconcile()
                except Exception:  # the API's reconciler tries again every few seconds
                    log.warning("could not reconcile runs of stopped workers", exc_info=True)
                from nodes.catalog import discover

                discover()  # import every node's libraries now, not during the first run
                await worker.start()
    finally:
        await anyio.to_thread.run_sync(heartbeat.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Flowza workflow runs from a Prefect work pool.")
    parser.add_argument("--pool", default=WORK_POOL)
    parser.add_argument("--limit", type=int, default=None,
                        help="concurrent runs at most (default: FLOWZA_WORKER_RUNS, twice the CPUs)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    from flowza_core.settings import get_settings

    asyncio.run(serve(args.pool, args.limit or get_settings().worker_runs))


if __name__ == "__main__":
    main()
