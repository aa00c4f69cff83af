"""Runs ``flowza up``'s children and keeps them running until the user stops the stack.

A child that dies during start-up stops ``flowza up`` (its configuration is wrong: retrying
would only repeat the error). One that dies later is restarted after a backoff that doubles
from 1 s up to 30 s and starts over once the child has stayed up for a minute; a child that
keeps failing keeps being retried and shows as ``failed``. Each restart is reported on the
console and in the child's log, and the children's state goes to FLOWZA_HOME/run/stack.json,
which ``/health`` shows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from flowza_core.stack_state import WRITE_EVERY_S, write_state

STOP_GRACE_S = 10
BACKOFF_FIRST_S, BACKOFF_CAP_S = 1.0, 30.0
HEALTHY_AFTER_S = 60.0  # up this long since its last start: the next failure starts a new backoff
FAILING_AFTER = 3  # failures in a row after which a child shows as failed (it is still retried)


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    ready: Callable[[], bool]
    port: int | None = None
    port_setting: str = ""
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    started_at: float = 0.0  # monotonic time of the last start
    restarts: int = 0
    failures: int = 0  # in a row, without a healthy spell between them
    last_exit: str | None = None
    since: float = 0.0  # wall-clock time of the last status change
    restart_at: float | None = None  # monotonic time of the pending restart, while the child is down

    @property
    def status(self) -> str:
        if self.restart_at is None:
            return "running"
        return "failed" if self.failures >= FAILING_AFTER else "restarting"

    def state(self, now: float) -> dict:
        state = {"pid": self.process.pid if self.process else None, "status": self.status,
                 "restarts": self.restarts, "last_exit": self.last_exit,
                 "since": datetime.fromtimestamp(self.since, timezone.utc).isoformat(timespec="seconds")}
        if self.restart_at is not None:
            state["next_restart_in_s"] = round(max(0.0, self.restart_at - now), 1)
        return state

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except (OSError, AttributeError):
            return "    (no log)"
        return "\n".join(f"    {line}" for line in text.rstrip().splitlines()[-lines:]) or "    (empty log)"


class ServiceFailed(Exception):
    def __init__(self, service: Service, what: str):
        super().__init__(f"{service.name} {what}; last lines of {service.log_path}:\n{service.log_tail()}")


def backoff_s(failures: int) -> float:
    """The wait before restarting a child that has failed ``failures`` times in a row (1, 2, 4 … 30 s)."""
    return min(BACKOFF_FIRST_S * 2 ** (failures - 1), BACKOFF_CAP_S)


class Supervisor:
    def __init__(self, log_dir: Path, state_path: Path):
        self.log_dir, self.state_path, self.started, self.stop_signal = log_dir, state_path, [], None
        self.state_unwritable = False
        log_dir.mkdir(parents=True, exist_ok=True)

    def on_signal(self, signum, _frame) -> None:
        self.stop_signal = signum  # acted on by the loops; nothing is interrupted half-way

    def start(self, svc: Service) -> None:
        svc.log_path = self.log_dir / f"{svc.name}.log"
        where = f" on 127.0.0.1:{svc.port}" if svc.port else ""
        print(f"  · starting {svc.name}{where} (log: {svc.log_path})", flush=True)
        svc.log_path.write_bytes(b"")
        self._spawn(svc)
        self.started.append(svc)

    def _spawn(self, svc: Service) -> None:
        with open(svc.log_path, "ab") as log:
            # Own process group: the terminal's Ctrl-C reaches only us, and stopping reaches grandchildren.
            svc.process = subprocess.Popen(svc.command, env=svc.env, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        svc.started_at, svc.since, svc.restart_at = time.monotonic(), time.time(), None

    def wait_ready(self, services: list[Service], timeout: float) -> bool:
        """True once all are healthy; False if asked to stop. Raises ServiceFailed."""
        t0, pending = time.monotonic(), list(services)
        while pending and self.stop_signal is None:
            for svc in list(pending):
                if (code := svc.process.poll()) is not None:
                    raise ServiceFailed(svc, f"exited while starting ({exit_status(code)})")
                if svc.ready():
                    print(f"  ✓ {svc.name} ready ({time.monotonic() - t0:.1f}s)", flush=True)
                    pending.remove(svc)
            if pending and time.monotonic() - t0 > timeout:
                raise ServiceFailed(pending[0], f"did not become healthy within {timeout:.0f}s")
            self.write_state()
            time.sleep(0.25)
        return not pending

    def watch(self) -> None:
        """Keep every child running until asked to stop."""
        next_write = 0.0
        while self.stop_signal is None:
            now = time.monotonic()
            changed = False
            for svc in self.started:
                changed |= self._tend(svc, now)
            if changed or now >= next_write:
                self.write_state()
                next_write = now + WRITE_EVERY_S
            time.sleep(0.25)

    def _tend(self, svc: Service, now: float) -> bool:
        """Restart ``svc`` when it is down and its wait is over; True when its status changed."""
        if svc.restart_at is not None:
            if now < svc.restart_at:
                return False
            svc.restarts += 1
            try:
                self._spawn(svc)
            except OSError as exc:  # e.g. out of processes or file descriptors: try again later
                self._down(svc, now, f"could not start: {exc}", "could not start")
                return True
            print(f"  ↻ {svc.name} restarted (pid {svc.process.pid}, restart {svc.restarts})", flush=True)
            return True
        if (code := svc.process.poll()) is None:
            if svc.failures and now - svc.started_at >= HEALTHY_AFTER_S:
                svc.failures = 0
            return False
        signal_group(svc.process, signal.SIGKILL)  # a server's own workers would keep its port
        self._down(svc, now, exit_status(code), f"exited ({exit_status(code)}) after {now - svc.started_at:.0f}s")
        return True

    def _down(self, svc: Service, now: float, last_exit: str, what: str) -> None:
        """Schedule the restart of a child that is down, and say so on the console and in its log."""
        svc.failures += 1
        svc.last_exit, svc.since = last_exit, time.time()
        delay = backoff_s(svc.failures)
        svc.restart_at = now + delay
        what = f"{svc.name} {what}; restarting in {delay:.0f}s (failure {svc.failures} in a row)"
        print(f"  ! {what}", flush=True)
        if svc.failures == FAILING_AFTER:
            print(f"  ✗ {svc.name} keeps failing; last lines of {svc.log_path}:\n{svc.log_tail()}", flush=True)
        with open(svc.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n[flowza up {datetime.now().isoformat(timespec='seconds')}] {what}\n")

    def write_state(self) -> None:
        now = time.monotonic()
        try:
            write_state(self.state_path, {svc.name: svc.state(now) for svc in self.started})
        except OSError as exc:  # only /health reads it: a full disk must not stop the stack
            if not self.state_unwritable:
                print(f"  ! cannot write {self.state_path} (/health will not show the services): {exc}", flush=True)
            self.state_unwritable = True
        else:
            self.state_unwritable = False

    def stop_all(self) -> None:
        running = [svc for svc in reversed(self.started) if svc.process.poll() is None]
        if running:
            print(f"Stopping {', '.join(svc.name for svc in running)} …", flush=True)
        for svc in running:
            signal_group(svc.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for svc in running:
            try:
                svc.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {svc.name} did not stop within {STOP_GRACE_S}s: killing it", flush=True)
                signal_group(svc.process, signal.SIGKILL)
                svc.process.wait()
        for svc in self.started:  # leftovers of a group whose leader has exited (server worker processes)
            signal_group(svc.process, signal.SIGKILL)
        self.state_path.unlink(missing_ok=True)


def exit_status(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
