"""Live run updates: one watcher per run (and per workflow) polls once and fans events out to every client.

A ``RunWatcher`` reads the engine's run record (one object read every quarter second, the rate the
engine saves it at) and the run's new Prefect log lines, and publishes what changed to each
subscriber's bounded queue. It starts with its first subscriber and stops when the last one leaves
or once the run has ended and its final events were queued. A ``WorkflowWatcher`` follows which
run of a workflow is the latest. Watchers live in a ``Registry`` per event loop, created on first use.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone

import anyio

from metadata_db import runs as run_rows
from metadata_db.models import FINISHED_STATUSES
from api.deps import get_session
from api.schemas import RunPublic
from api.services import runs
from flows.recorder import load_run
from api.services.run_logs import RunLogs
from flows.store import StoreError

log = logging.getLogger(__name__)

RECORD_EVERY_S = 0.25  # the engine saves the record at most this often
LOGS_EVERY_S = 0.75
UNSTARTED_EVERY_S = 1.0  # no record yet: ask the DB (and Prefect) whether the run ended before it started
LATEST_EVERY_S = 1.0
QUEUE_SIZE = 1000
MAX_FAILURES = 20  # record reads failing in a row before a watcher gives up (its clients get 1011)
DRAIN_MAX_S = 8.0  # after the record is final, wait at most this long for the flow's last log lines
NODE_FIELDS = ("status", "cached", "duration_s", "error", "warnings", "outputs")
short_session = contextmanager(get_session)  # committed and closed at once: no session lives as long as a socket


def close_event(code: int, reason: str) -> dict:
    """Not sent to the client: tells its socket to close with ``code``."""
    return {"type": "close", "code": code, "reason": reason}


class Subscriber:
    """One client's queue; a client QUEUE_SIZE events behind is dropped rather than slowing the others."""

    def __init__(self, size: int = QUEUE_SIZE):
        self.queue: asyncio.Queue[dict] = asyncio.Queue(size)
        self.dropped = False

    def put(self, event: dict) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(close_event(1013, "too far behind: reconnect for a fresh snapshot"))

    async def get(self) -> dict:
        return await self.queue.get()


def snapshot(run_id: str) -> RunPublic:
    """The run as GET /api/runs/{id} shows it, the DB row brought up to date (blocking: call in a thread)."""
    with short_session() as session:
        return runs.to_public(runs.refresh(session, run_rows.get_run(session, run_id)))


def run_ended(public: RunPublic) -> dict:
    """The last event of a run: its status and, when it failed, why (the run's error or its failed node's)."""
    event = {"type": "run", "run_id": public.run_id, "status": public.status}
    error = public.error or next(({"node_id": nid, **node["error"]} for nid, node in public.nodes.items()
                                  if node.get("error")), None)
    return event | ({"error": error} if error else {})


def latest_run(workflow_id: str) -> tuple[str, str] | None:
    """(id, status) of the workflow's newest run (blocking: call in a thread)."""
    with short_session() as session:
        found = run_rows.list_runs(session, workflow_id=workflow_id, limit=1)
        return (found[0].id, found[0].status) if found else None


class Watcher:
    """Polls on one asyncio task while anyone listens and publishes to every subscriber."""

    def __init__(self, key: str, registry: Registry):
        self.key, self.registry = key, registry
        self.subscribers: set[Subscriber] = set()
        self.task: asyncio.Task | None = None

    def publish(self, event: dict) -> None:
        for subscriber in list(self.subscribers):
            subscriber.put(event)

    def joined(self, subscriber: Subscriber) -> None:
        """A subscriber arrived (after the first one, the watcher may already know things to tell it)."""

    async def watch(self) -> None:
        raise NotImplementedError

    async def main(self) -> None:
        try:
            await self.watch()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("watching %s %s failed", type(self).__name__, self.key)
            self.publish(close_event(1011, "live updates failed on the server; reconnect to try again"))
        finally:
            self.registry.forget(self)


class WorkflowWatcher(Watcher):
    """Publishes ``{"type": "latest", "run_id", "status"}`` whenever the workflow's newest run changes."""

    latest: tuple[str, str] | None = None

    def joined(self, subscriber: Subscriber) -> None:
        if self.latest:
            subscriber.put({"type": "latest", "run_id": self.latest[0], "status": self.latest[1]})

    async def watch(self) -> None:
        while True:
            try:
                found = await anyio.to_thread.run_sync(latest_run, self.key)
            except Exception:  # a busy database delays the switch to a new run; it must not end the watch
                log.warning("could not read the latest run of workflow %s", self.key, exc_info=True)
                found = self.latest
            if found and (not self.latest or found[0] != self.latest[0]):
                self.latest = found
                self.publish({"type": "latest", "run_id": found[0], "status": found[1]})
            await asyncio.sleep(LATEST_EVERY_S)


class Registry:
    """The watchers of one event loop, by run id and by workflow id."""

    def __init__(self):
        self.runs: dict[str, RunWatcher] = {}
        self.workflows: dict[str, WorkflowWatcher] = {}
        self.record_reads = 0  # by all run watchers: one poll per run, however many clients listen

    def watch_run(self, run_id: str, subscriber: Subscriber) -> RunWatcher:
        return self._join(self.runs, RunWatcher, run_id, subscriber)

    def watch_workflow(self, workflow_id: str, subscriber: Subscriber) -> WorkflowWatcher:
        return self._join(self.workflows, WorkflowWatcher, workflow_id, subscriber)

    def _join(self, table: dict, kind: type[Watcher], key: str, subscriber: Subscriber):
        watcher = table.get(key)
        if watcher is None:
            watcher = table[key] = kind(key, self)
            watcher.task = asyncio.get_running_loop().create_task(watcher.main(), name=f"watch {key}")
        watcher.subscribers.add(subscriber)
        watcher.joined(subscriber)
        return watcher

    def leave(self, watcher: Watcher, subscriber: Subscriber) -> None:
        """The subscriber is gone; a watcher nobody listens to stops."""
        watcher.subscribers.discard(subscriber)
        if not watcher.subscribers:
            self.forget(watcher)
            watcher.task.cancel()

    def forget(self, watcher: Watcher) -> None:
        table = self.runs if isinstance(watcher, RunWatcher) else self.workflows
        if table.get(watcher.key) is watcher:  # not a newer watcher of the same run
            del table[watcher.key]


_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Registry] = weakref.WeakKeyDictionary()


def registry() -> Registry:
    """The running event loop's registry (the app factory has no hook for it, so it is made on first use)."""
    loop = asyncio.get_running_loop()
    if loop not in _registries:
        _registries[loop] = Registry()
    return _registries[loop]


class RunWatcher(Watcher):
    """Publishes ``node``, ``progress`` and ``log`` events of one run as they happen, then its ``run`` event."""

    def __init__(self, key: str, registry: Registry):
        super().__init__(key, registry)
        self.started = datetime.now(timezone.utc)
        self.nodes: dict[str, dict] = {}
        self.progress: tuple[int, int] | None = None
        self.logs: RunLogs | None = None  # once the record names the Prefect flow run
        self._unstarted_check = 0.0

    async def watch(self) -> None:
        from flows.engine import open_default_store

        store = await anyio.to_thread.run_sync(open_default_store)
        try:
            status, next_logs, failures = None, 0.0, 0
            while status is None:
                try:
                    status, failures = await self._read_record(store), 0
                except Exception:  # a store or DB hiccup: try again, but not for ever
                    failures += 1
                    if failures >= MAX_FAILURES:
                        raise
                    log.warning("reading run %s failed (%d in a row)", self.key, failures, exc_info=True)
                if time.monotonic() >= next_logs:
                    next_logs = time.monotonic() + LOGS_EVERY_S
                    await self._read_logs()
                if status is None:
                    await asyncio.sleep(RECORD_EVERY_S)
            deadline = time.monotonic() + DRAIN_MAX_S
            while self.logs and not self.logs.flow_finished and time.monotonic() < deadline:
                await asyncio.sleep(LOGS_EVERY_S / 2)
                await self._read_logs()
            self.publish(await self._ending(status))
        finally:
            if self.logs is not None:
                await self.logs.close()

    async def _read_record(self, store) -> str | None:
        """Publish what changed since the last read; returns the run's final status once it has one."""
        self.registry.record_reads += 1
        try:
            record = await anyio.to_thread.run_sync(load_run, store, self.key)
        except StoreError:  # not started yet, or it ended in Prefect without ever starting
            return await self._unstarted()
        if self.logs is None and record.get("flow_run_id"):
            self.logs = RunLogs(record["flow_run_id"], self.started)
        for node_id, node in record.get("nodes", {}).items():
            view = {k: v for k, v in runs.public_node(node).items() if k in NODE_FIELDS and v is not None}
            if view != self.nodes.get(node_id, {"status": "pending", "cached": False}):
                self.publish({"type": "node", "run_id": self.key, "node_id": node_id, "duration_s": None, **view})
            self.nodes[node_id] = view
        progress = record.get("progress") or {}
        done, total = progress.get("done", 0), progress.get("total", 0)
        if (done, total) != self.progress:
            self.progress = done, total
            self.publish({"type": "progress", "run_id": self.key, "done": done, "total": total,
                          "percent": round(100 * done / total, 1) if total else 0.0})
        return record["status"] if record.get("status") in FINISHED_STATUSES else None

    async def _unstarted(self) -> str | None:
        if time.monotonic() < self._unstarted_check:
            return None
        self._unstarted_check = time.monotonic() + UNSTARTED_EVERY_S
        public = await anyio.to_thread.run_sync(snapshot, self.key)
        return public.status if public.status in FINISHED_STATUSES else None

    async def _read_logs(self) -> None:
        if self.logs is None:
            return
        try:
            lines = await self.logs.new_lines(list(self.nodes))
        except Exception:  # Prefect unreachable: no log lines for now; states still come from the record
            log.warning("reading the logs of run %s from Prefect failed", self.key, exc_info=True)
            return
        for line in lines:
            self.publish({"type": "log", "run_id": self.key, **line})

    async def _ending(self, status: str) -> dict:
        """The run event, from the DB row brought up to date (so REST readers see the end at once too)."""
        try:
            public = await anyio.to_thread.run_sync(snapshot, self.key)
        except Exception:
            log.warning("could not record the end of run %s in the database", self.key, exc_info=True)
            return {"type": "run", "run_id": self.key, "status": status}
        return run_ended(public if public.status in FINISHED_STATUSES else public.model_copy(update={"status": status}))
