"""The supervisor's state file, as `/health` reads it: shown only while `flowza up` keeps it fresh."""

from __future__ import annotations

import json
import os
import time

from flowza_core.stack_state import FRESH_FOR_S, read_fresh_state, state_path, write_state


def test_a_fresh_state_is_read_back_and_a_stale_or_broken_one_is_not(tmp_path):
    assert read_fresh_state(tmp_path) is None
    services = {"worker": {"pid": 1, "status": "restarting", "restarts": 2, "last_exit": "exit code 1",
                           "since": "2026-01-01T00:00:00+00:00"}}
    write_state(state_path(tmp_path), services)
    state = read_fresh_state(tmp_path)
    assert state["services"] == services and state["supervisor_pid"] == os.getpid()
    assert [p.name for p in state_path(tmp_path).parent.iterdir()] == ["stack.json"]  # no temporary left

    stale = {**state, "updated": time.time() - FRESH_FOR_S - 1}  # `flowza up` was killed: nobody rewrites it
    state_path(tmp_path).write_text(json.dumps(stale))
    assert read_fresh_state(tmp_path) is None
    state_path(tmp_path).write_text('{"updated": ')
    assert read_fresh_state(tmp_path) is None
