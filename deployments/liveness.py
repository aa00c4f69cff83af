"""Dead runs: workers report that they are alive, and runs whose worker went silent are ended.

Flow runs execute on threads of the worker process with Prefect's flow-run heartbeats off (see
``flows.engine.without_heartbeats``), so the worker's own liveness is the signal: each worker keeps
a row of the ``workers`` table fresh (``Heartbeat``) and stamps the runs it claims with its id. The
reconciler (``reconcile``, run by every API process every few seconds and once when a worker starts)
ends each run still ``running`` under a worker silent for ``FLOWZA_WORKER_TIMEOUT_S``:

- ``crashed`` (final; ``/rerun`` resumes from its stored nodes), its Prefect flow run forced to Crashed;
- ``cancelled`` when it was being cancelled (Prefect CANCELLING), its flow run forced to Cancelled.

It also ends queued runs whose flow run ended in Prefect before a worker took it, so that no
run waits for a reader to notice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

import anyio
from sqlalchemy import select

from metadata_db import runs as run_rows
from metadata_db import workers as worker_rows
from metadata_db.base import utcnow
from metadata_db.models import Run
from deployments.metadata import sessions
from flows.recorder import load_run
from flows.store import StoreError
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)
RECONCILE_EVERY_S = 10.0


class Heartbeat:
    """This worker process's row in the ``workers`` table, refreshed from a thread while it runs."""

    def __init__(self) -> None:
        self.identity = {"id": uuid.uuid4().hex, "hostname": socket.gethostname(), "pid": os.getpid()}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat_until_stopped, name="flowza-worker-heartbeat",
                                        daemon=True)

    def start(self) -> None:
        self._beat_logged()
        self._thread.start()

    def stop(self) -> None:
        """A clean stop: the row goes, so runs left running are reconciled at once, not after the timeout."""
        self._stopped.set()
        try:
            with sessions().begin() as session:
                worker_rows.remove(session, self.identity["id"])
        except Exception:
            log.warning("could not remove worker %s from the metadata database", self.identity["id"], exc_info=True)

    def beat(self) -> None:
        # The database the settings name now: tests give each test its own.
        with sessions().begin() as session:
            worker_rows.beat(session, self.identity["id"], self.identity["hostname"], self.identity["pid"])

    def _beat_until_stopped(self) -> None:
        while not self._stopped.wait(get_settings().worker_timeout_s / 3):
            self._beat_logged()

    def _beat_logged(self) -> None:
        try:
            self.beat()
        except Exception:  # a database hiccup: the next beat may get through before the timeout
            log.warning("worker heartbeat failed", exc_info=True)


async def reconcile() -> int:
    """End the runs whose worker is gone, and the queued runs whose flow run ended in Prefect before any
    worker took it (cancelled in Prefect's UI, crashed on its way to the worker); returns how many ended."""
    cutoff = utcnow() - timedelta(seconds=get_settings().worker_timeout_s)
    orphans = await anyio.to_thread.run_sync(_orphans, cutoff)
    for run_id, flow_run_id, worker_id in orphans:
        cancelling = await _end_in_prefect(flow_run_id)
        if await anyio.to_thread.run_sync(_end_row, run_id, worker_id, cancelling):
            log.warning("run %s %s: its worker %s stopped reporting", run_id,
                        "cancelled" if cancelling else "crashed", worker_id)
    return len(orphans) + await _end_queued_runs_ended_in_prefect()


async def _end_queued_runs_ended_in_prefect() -> int:
    """One question to Prefect for every queued run (pending, with a flow run): which ended already?"""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterId, FlowRunFilterState,
                                                FlowRunFilterStateType)
    from prefect.client.schemas.objects import StateType

    queued = await anyio.to_thread.run_sync(_queued)
    if not queued:
        return 0
    ended = FlowRunFilterStateType(any_=[StateType.CANCELLED, StateType.FAILED, StateType.CRASHED])
    async with get_client() as client:
        flow_runs = await asyncio.wait_for(client.read_flow_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=list(queued)), state=FlowRunFilterState(type=ended)), limit=len(queued)), 30)
    for flow_run in flow_runs:
        await anyio.to_thread.run_sync(_end_queued, queued[flow_run.id], flow_run.state)
    return len(flow_runs)


def _queued(limit: int = 500) -> dict[uuid.UUID, str]:
    with sessions().begin() as session:
        rows = session.execute(select(Run.id, Run.flow_run_id).where(
            Run.status == "pending", Run.flow_run_id.is_not(None)).order_by(Run.created_at).limit(limit))
        queued = {}
        for run_id, flow_run_id in rows:
            try:
                queued[uuid.UUID(flow_run_id)] = run_id
            except ValueError:  # not a Prefect flow run id: nothing to ask Prefect about
                continue
        return queued


def _end_queued(run_id: str, state) -> None:
    with sessions().begin() as session:
        run = session.get(Run, run_id, with_for_update=True)
        if run is None or run.status != "pending":
            return  # a worker took it meanwhile
        if state.is_cancelled():
            run_rows.update_run_status(session, run_id, "cancelled")
        else:
            run_rows.update_run_status(session, run_id, "failed", error={
                "code": "RUN_FAILED", "node_id": None,
                "message": state.message or f"the flow run ended {state.name} before it started"})


def _orphans(cutoff) -> list[tuple[str, str | None, str]]:
    with sessions().begin() as session:
        return [(r.id, r.flow_run_id, r.worker_id) for r in worker_rows.orphaned_runs(session, cutoff)]


async def _end_in_prefect(flow_run_id: str | None) -> bool:
    """Force the flow run to its final state: Cancelled if it was being cancelled (returns True), else Crashed."""
    if not flow_run_id:
        return False
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Crashed

    try:
        async with get_client() as client:
            state = (await asyncio.wait_for(client.read_flow_run(flow_run_id), 15)).state
            cancelling = bool(state and state.is_cancelling())
            final = (Cancelled(message="cancelled from Flowza; its worker had stopped") if cancelling else
                     Crashed(message="the Flowza worker running this flow run stopped"))
            if state is None or not state.is_final():
                await asyncio.wait_for(client.set_flow_run_state(flow_run_id, final, force=True), 15)
            return cancelling
    except Exception:  # the row still ends: a run must not stay `running` because Prefect is away too
        log.warning("could not end flow run %s in Prefect", flow_run_id, exc_info=True)
        return False


def _end_row(run_id: str, worker_id: str, cancelling: bool) -> bool:
    with sessions().begin() as session:
        run = session.get(Run, run_id)
        if run is None or run.status != "running":
            return False
        status = "cancelled" if cancelling else "crashed"
        record = ended_record(run, status)
        return run_rows.crash(session, run_id, record=record, status=status, error={
            "code": "RUN_CRASHED", "node_id": None,
            "message": f"the worker running this run stopped (worker {worker_id} silent for more than "
                       f"{get_settings().worker_timeout_s:g} s); rerun it to continue from its finished nodes"})


def ended_record(run: Run, status: str) -> dict | None:
    """The run's record as far as it got, ended with ``status``: finished nodes kept, the interrupted one
    failed, the others not run. Saved where the engine keeps it, so live watchers see the end too."""
    from flows.engine import open_default_store

    store = open_default_store()
    try:
        record = load_run(store, run.id)
    except StoreError:
        record = run.record
    if record is None:
        return None
    nodes = {}
    for node_id, node in record.get("nodes", {}).items():
        if node.get("status") == "running":
            node = {**node, "status": "failed", "error": {
                "code": "RUN_CRASHED", "message": "the worker stopped while this node ran"}}
        elif node.get("status") == "pending":
            node = {**node, "status": "not_run"}
        nodes[node_id] = node
    record = {**record, "nodes": nodes, "status": status}
    try:
        store.put_bytes(f"runs/{run.id}.json", json.dumps(record, default=str).encode())  # as the recorder saves it
    except StoreError:
        log.warning("could not store the end of run %s", run.id, exc_info=True)
    return record
