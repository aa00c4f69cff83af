"""A Prefect worker that runs Flowza flow runs inside its own process.

A process worker starts a Python subprocess per run (seconds of imports) after polling
every 10 s. This worker keeps the engine imported, polls its work pool often, and runs
each claimed flow run on a thread: the first node starts well under a second after
submission. It is a regular Prefect worker: runs come from the ``run-workflow``
deployment, states and logs go to the Prefect API, the UI shows the pool and worker.
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
        status = await anyio.to_thread.run_sync(run_in_process, flow_run, self.identity)
        return FlowzaWorkerResult(identifier=str(flow_run.id), status_code=status)

    async def _give_worker_labels_to_flow_run(self, flow_run_id) -> None:
        # The labels only name this worker in Prefect's UI. Prefect's worker crashes the flow run when
        # setting them fails, as it does under load (503 while Prefect's SQLite database is locked).
        try:
            await super()._give_worker_labels_to_flow_run(flow_run_id)
        except Exception as exc:
            log.warning("could not label flow run %s with this worker (%s); running it anyway", flow_run_id, exc)


def run_in_process(flow_run: FlowRun, identity: dict) -> int:
    """Run a claimed flow run of the workflow flow to its final state, on this thread."""
    from prefect.flow_engine import run_flow

    from deployments import metadata
    from flows.engine import run_workflow, without_heartbeats

    with _active_lock:
        _active["runs"] += 1
    try:
        try:
            parameters = metadata.claim(flow_run, identity)
        except metadata.RunRefused as refused:
            log.warning("flow run %s refused: %s", flow_run.id, refused.message)
            _end_refused(flow_run, refused)
            return 0
        state = None
        try:
            with without_heartbeats():
                state = run_flow(run_workflow, flow_run=flow_run, parameters=parameters, return_type="state")
        finally:
            metadata.settle(parameters["run_id"], state.message if state else "the worker stopped during the run")
    finally:
        with _active_lock:
            _active["runs"] -= 1
    log.info("flow run %s ended %s", flow_run.id, state.type.value)
    return 0


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
    parser.add_argument("--limit", type=int, default=None, help="concurrent runs at most")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    asyncio.run(serve(args.pool, args.limit))


if __name__ == "__main__":
    main()
