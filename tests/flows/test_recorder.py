"""The run record in the store: throttled progress snapshots that never lose the latest state."""

from __future__ import annotations

import time

from flows.recorder import RunRecorder, load_run
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
