"""The run record in the store: throttled progress snapshots that never lose the latest state."""

from __future__ import annotations

import time

from flows.recorder import RunRecorder, first_failure, listening, load_run
from flows.store import LocalStore


def test_a_node_started_right_after_a_save_is_still_saved_as_running(tmp_path):
    store = LocalStore(tmp_path)
    recorder = RunRecorder("r1", "wf", ["a", "b"], {"a": "A", "b": "B"}, {"a": "t", "b": "t"}, store)
    recorder.started_run()  # saved at once
    recorder.started("a")  # within the quarter second: not saved yet, but a trailing save is armed
    assert load_run(store, "r1")["nodes"]["a"]["status"] == "pending"
    time.sleep(0.5)
    assert load_run(store, "r1")["nodes"]["a"]["status"] == "running"


def test_the_final_record_is_never_overwritten_by_a_late_snapshot(tmp_path):
    store = LocalStore(tmp_path)
    recorder = RunRecorder("r2", "wf", ["a"], {"a": "A"}, {"a": "t"}, store)
    recorder.started_run()
    recorder.started("a")
    recorder.finished("a", status="completed", duration_s=0.01)
    recorder.finish(store)
    time.sleep(0.5)  # past any trailing save
    record = load_run(store, "r2")
    assert record["status"] == "completed" and record["nodes"]["a"]["status"] == "completed"


def test_a_failed_run_names_its_first_failed_node_and_why(tmp_path):
    store, events = LocalStore(tmp_path), []
    nodes = ["load", "train", "register"]  # dependency order
    recorder = RunRecorder("r3", "wf", nodes, {n: n for n in nodes}, {n: "t" for n in nodes}, store)
    with listening(events.append):
        recorder.started_run()
        recorder.finished("register", status="failed", duration_s=0.2,
                          error={"code": "REGISTRY_ERROR", "message": "registry down", "type": "RegistryError"})
        recorder.finished("load", status="completed", duration_s=0.1)
        recorder.finished("train", status="completed", duration_s=0.1)
        assert recorder.store_failed("train", {"code": "STORE_ERROR", "message": "disk full", "type": "OSError"})
        # A node that already failed keeps the error that says why.
        assert not recorder.store_failed("register", {"code": "STORE_ERROR", "message": "x", "type": "OSError"})
        record = recorder.finish(store)
    assert record["status"] == "failed"
    assert record["error"] == {"code": "STORE_ERROR", "message": "disk full", "node_id": "train"}
    assert record["nodes"]["register"]["error"]["code"] == "REGISTRY_ERROR"
    assert load_run(store, "r3")["error"] == record["error"]
    assert events[-1] == {"run_id": "r3", "event": "run_finished", "status": "failed", "error": record["error"]}


def test_completed_and_cancelled_runs_have_no_error(tmp_path):
    store = LocalStore(tmp_path)
    for run_id, cancelled in (("ok", False), ("stopped", True)):
        recorder = RunRecorder(run_id, "wf", ["a"], {"a": "A"}, {"a": "t"}, store)
        if not cancelled:
            recorder.finished("a", status="completed", duration_s=0.01)
        record = recorder.finish(store, cancelled=cancelled)
        assert "error" not in record and first_failure(record) is None
