"""The supervisor behind `flowza up`, on real child processes: restarts with backoff, shows a child
that keeps failing as failed while retrying it, starts the backoff over after a healthy spell."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from flowza import supervisor
from flowza.supervisor import Service, Supervisor, backoff_s


def test_backoff_doubles_up_to_its_cap():
    assert [backoff_s(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def child(code: str) -> Service:
    return Service("child", [sys.executable, "-c", code], {}, lambda: True)


def watching(sup: Supervisor):
    thread = threading.Thread(target=sup.watch, daemon=True)
    thread.start()
    return thread


def state(path: Path) -> dict:
    """The child's last written state ({} before the first write)."""
    try:
        return json.loads(path.read_text())["services"]["child"]
    except FileNotFoundError:
        return {}


def wait_for(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.1)
    return found


def test_a_child_that_keeps_failing_is_retried_and_shows_as_failed(tmp_path, capsys):
    sup = Supervisor(tmp_path / "logs", tmp_path / "run" / "stack.json")
    svc = child("import sys; print('cannot start'); sys.exit(3)")
    sup.start(svc)
    thread = watching(sup)
    try:
        # Exits at once each time: restarts after 1 s and 2 s, then it has failed 3 times in a row.
        failed = wait_for(lambda: (s := state(sup.state_path)).get("status") == "failed" and s)
        assert failed["restarts"] == 2 and failed["last_exit"] == "exit code 3"
        assert 0 < failed["next_restart_in_s"] <= 4
        wait_for(lambda: state(sup.state_path).get("restarts") == 3, timeout=30)  # still retried
    finally:
        sup.stop_signal = 15
        thread.join(timeout=10)
        sup.stop_all()
    out = capsys.readouterr().out
    assert "child exited (exit code 3)" in out and "restarting in 1s (failure 1 in a row)" in out
    assert "restarting in 2s (failure 2 in a row)" in out and "restarting in 4s (failure 3 in a row)" in out
    assert "child keeps failing" in out and "cannot start" in out  # its log's last lines, once
    log = svc.log_path.read_text()
    assert log.count("cannot start") >= 4 and "restarting in 4s" in log  # every start appends to one log
    assert not sup.state_path.exists()


def test_a_child_that_stays_up_a_while_starts_its_backoff_over(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor, "HEALTHY_AFTER_S", 0.5)
    sup = Supervisor(tmp_path / "logs", tmp_path / "run" / "stack.json")
    sup.start(child("import time; time.sleep(1.0); raise SystemExit(1)"))
    thread = watching(sup)
    try:
        wait_for(lambda: state(sup.state_path).get("restarts", 0) >= 3, timeout=60)
        assert sup.started[0].failures <= 1  # each failure followed a healthy second: never a longer wait
    finally:
        sup.stop_signal = 15
        thread.join(timeout=10)
        sup.stop_all()


@pytest.mark.parametrize("signum", [15, 2])
def test_watch_returns_when_asked_to_stop_even_while_a_restart_waits(tmp_path, signum):
    sup = Supervisor(tmp_path / "logs", tmp_path / "run" / "stack.json")
    sup.start(child("raise SystemExit(1)"))
    thread = watching(sup)
    wait_for(lambda: state(sup.state_path).get("status") == "restarting")
    sup.on_signal(signum, None)
    thread.join(timeout=5)
    assert not thread.is_alive()
    sup.stop_all()
