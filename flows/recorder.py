"""The record of one run: per-node status, timings, outputs, errors; events as it changes."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from flows.store import ObjectStore

log = logging.getLogger(__name__)
_listeners: list[Callable[[dict], None]] = []


@contextmanager
def listening(callback: Callable[[dict], None]) -> Iterator[None]:
    """Receive run events (``node_started``, ``node_finished``, ``run_finished``) in this process."""
    _listeners.append(callback)
    try:
        yield
    finally:
        _listeners.remove(callback)


def first_failure(record: dict) -> dict | None:
    """Why a run failed: ``{code, message, node_id}`` of its first failed node in dependency order."""
    for node_id, node in record.get("nodes", {}).items():  # the record lists nodes in dependency order
        if node.get("status") == "failed":
            error = node.get("error") or {}
            return {"code": error.get("code", "NODE_FAILED"), "message": error.get("message", "the node failed"),
                    "node_id": node_id}
    return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class RunRecorder:
    """Thread-safe: node tasks report here from the task runner's threads."""

    def __init__(self, run_id: str, workflow_name: str, node_ids: list[str], labels: dict[str, str],
                 types: dict[str, str], store: ObjectStore | None = None):
        self.run_id = run_id
        self.store = store  # when given, the record is saved as it changes: readers see live progress
        self._lock = threading.Lock()
        self._t0 = time.perf_counter()
        self._saved_at = 0.0
        self._writing = threading.Lock()  # one store write at a time, so a late snapshot never hides the final one
        self._trailing: threading.Timer | None = None
        self._finished = False
        self.record = {
            "run_id": run_id, "workflow": workflow_name, "status": "running", "started_at": _now(),
            "progress": {"done": 0, "total": len(node_ids)},
            "nodes": {nid: {"type": types[nid], "label": labels[nid], "status": "pending", "cached": False}
                      for nid in node_ids},
        }

    def _save_progress(self) -> None:
        with self._writing:
            with self._lock:
                self._trailing = None
                if self._finished:
                    return
                self._saved_at = time.monotonic()
                snapshot = json.dumps(self.record, default=str).encode()
            try:
                self.store.put_bytes(f"runs/{self.run_id}.json", snapshot)
            except Exception:  # progress is best effort; the final record is saved by finish()
                log.warning("could not save the progress of run %s", self.run_id, exc_info=True)

    def _schedule_save(self, at_once: bool) -> None:
        """Snapshots at most every quarter second, the latest state always saved within one."""
        with self._lock:
            wait = 0.0 if at_once else 0.25 - (time.monotonic() - self._saved_at)
            if wait > 0:
                if self._trailing is None:
                    self._trailing = threading.Timer(wait, self._save_progress)
                    self._trailing.daemon = True
                    self._trailing.start()
                return
        self._save_progress()

    def _emit(self, event: dict) -> None:
        if self.store is not None and event["event"] != "run_finished":
            self._schedule_save(at_once=event["event"] == "run_started")
        event = {"run_id": self.run_id, **event}
        for listener in list(_listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the run
                log.exception("run event listener failed")

    def started_run(self) -> None:
        self._emit({"event": "run_started"})

    def started(self, node_id: str) -> None:
        with self._lock:
            self.record["nodes"][node_id].update(status="running", started_at=_now())
        self._emit({"event": "node_started", "node_id": node_id})

    def finished(self, node_id: str, *, status: str, duration_s: float, cached: bool = False,
                 outputs: dict | None = None, error: dict | None = None, warnings: list[dict] | None = None) -> None:
        with self._lock:
            node = self.record["nodes"][node_id]
            node.update(status=status, cached=cached, duration_s=round(duration_s, 4), finished_at=_now())
            if outputs is not None:
                node["outputs"] = outputs
                metrics = {k: v for out in outputs.values() if out.get("kind") == "metrics"
                           for k, v in out["values"].items()}
                if metrics:
                    node["metrics"] = metrics
            if error is not None:
                node["error"] = error
            if warnings:
                node["warnings"] = warnings
            self.record["progress"]["done"] += 1
            progress = dict(self.record["progress"])
        self._emit({"event": "node_finished", "node_id": node_id, "status": status, "cached": cached,
                    "duration_s": round(duration_s, 4), "error": error, "warnings": warnings or [],
                    "progress": progress})

    def store_failed(self, node_id: str, error: dict) -> bool:
        """A node ran but its outputs could not be stored: the node (and so the run) failed.

        Returns False, changing nothing, for a node that already failed (its error says why).
        """
        with self._lock:
            node = self.record["nodes"][node_id]
            if node["status"] == "failed":
                return False
            node.update(status="failed", error=error)
        self._emit({"event": "node_finished", "node_id": node_id, "status": "failed", "error": error})
        return True

    def finish(self, store: ObjectStore, *, cancelled: bool = False) -> dict:
        """Mark nodes that never ran, settle the run's status (and a failed run's ``error``) and save the record."""
        with self._lock:
            nodes = self.record["nodes"]
            for node in nodes.values():
                if node["status"] in ("pending", "running"):
                    node["status"] = "cancelled" if cancelled else "not_run"
            failed = any(n["status"] == "failed" for n in nodes.values())
            self.record.update(status="cancelled" if cancelled else "failed" if failed else "completed",
                               finished_at=_now(), duration_s=round(time.perf_counter() - self._t0, 4))
            if self.record["status"] == "failed":
                self.record["error"] = first_failure(self.record)
            metrics = {nid: n["metrics"] for nid, n in nodes.items() if "metrics" in n}
            if metrics:
                self.record["metrics"] = metrics
            record = json.loads(json.dumps(self.record, default=str))
            self._finished = True
            if self._trailing is not None:
                self._trailing.cancel()
        with self._writing:
            store.put_bytes(f"runs/{self.run_id}.json", json.dumps(record).encode())
        self._emit({"event": "run_finished", "status": record["status"], "error": record.get("error")})
        return record


def load_run(store: ObjectStore, run_id: str) -> dict:
    return json.loads(store.get_bytes(f"runs/{run_id}.json"))
