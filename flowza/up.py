"""``flowza up``: the embedded stack (Prefect server, MLflow server, worker, API) as child processes.

Each child binds 127.0.0.1, logs to FLOWZA_HOME/logs/<name>.log and is waited on until it is
healthy. Ctrl-C or SIGTERM stops them all (exit 0); a child that dies takes the others down
(exit 1). A service configured elsewhere (PREFECT_API_URL, FLOWZA_MLFLOW_TRACKING_URI) is used,
not started.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from flowza.errors import FlowzaError
from flowza.settings import Settings, get_settings

DEPLOYMENT_PATH = "flowza-workflow/run-workflow"  # deployments.runs.DEPLOYMENT_PATH, without importing Prefect
STOP_GRACE_S = 10


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

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except (OSError, AttributeError):
            return "    (no log)"
        return "\n".join(f"    {line}" for line in text.rstrip().splitlines()[-lines:]) or "    (empty log)"


class ServiceFailed(Exception):
    def __init__(self, service: Service, what: str):
        super().__init__(f"{service.name} {what}; last lines of {service.log_path}:\n{service.log_tail()}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (OSError, http.client.HTTPException):
        return False


def deployment_applied_since(prefect_api: str, since: float) -> Callable[[], bool]:
    """Ready once the worker has (re)applied the run-workflow deployment, i.e. reached its poll loop."""
    def check() -> bool:
        try:
            with urllib.request.urlopen(f"{prefect_api}/deployments/name/{DEPLOYMENT_PATH}", timeout=2) as resp:
                updated = json.load(resp)["updated"]
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            return False
        return datetime.fromisoformat(updated).timestamp() >= since - 1
    return check


def redact(uri: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", uri)


def plan(settings: Settings) -> tuple[list[list[Service]], list[str]]:
    """The services to start, in stages (each waits for the one before), and notes on skipped ones."""
    home, python, notes, servers = settings.home_dir, sys.executable, [], []
    base = {**os.environ, "FLOWZA_HOME": str(home), "PYTHONUNBUFFERED": "1", "DO_NOT_TRACK": "1",
            "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(home / "prefect")),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    if prefect_api := os.environ.get("PREFECT_API_URL"):
        notes.append(f"prefect: using PREFECT_API_URL={prefect_api} (not started here)")
    else:
        prefect_api = f"http://127.0.0.1:{settings.prefect_port}/api"
        servers.append(Service(
            "prefect", [python, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                        "--port", str(settings.prefect_port)],
            base, partial(http_ok, f"{prefect_api}/health"), settings.prefect_port, "FLOWZA_PREFECT_PORT"))
    tracking = settings.tracking_uri
    if settings.mlflow_tracking_uri or tracking.startswith(("http://", "https://")):
        notes.append(f"mlflow: using tracking URI {redact(tracking)} (not started here)")
    else:
        if tracking.startswith("sqlite:///"):
            Path(tracking.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        servers.append(Service(
            "mlflow", [python, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(settings.mlflow_port),
                       "--workers", "1", "--backend-store-uri", tracking,
                       "--artifacts-destination", settings.artifact_root],
            # Job execution (LLM judges, trace archival) is unused here and costs ~8 processes, ~2 GB.
            {**base, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            partial(http_ok, f"http://127.0.0.1:{settings.mlflow_port}/health"), settings.mlflow_port,
            "FLOWZA_MLFLOW_PORT"))
        tracking = f"http://127.0.0.1:{settings.mlflow_port}"
    # The worker and the API must agree on Prefect, MLflow, FLOWZA_HOME and the data directory.
    clients = {**base, "PREFECT_API_URL": prefect_api, "FLOWZA_MLFLOW_TRACKING_URI": tracking,
               "FLOWZA_DATA_DIR": str(settings.data_root)}
    worker = Service("worker", [python, "-m", "deployments.worker"], clients,
                     deployment_applied_since(prefect_api, time.time()))
    api = Service("api", [python, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                          "--port", str(settings.api_port)],
                  clients, partial(http_ok, f"http://127.0.0.1:{settings.api_port}/health"), settings.api_port,
                  "FLOWZA_API_PORT")
    return [stage for stage in (servers, [worker, api]) if stage], notes


def check_ports(services: list[Service]) -> None:
    """Refuse to start when a port is taken, naming every problem at once."""
    problems, seen = [], {}
    for svc in (s for s in services if s.port):
        if svc.port in seen:
            problems.append(f"{seen[svc.port].port_setting} and {svc.port_setting} are both {svc.port}")
            continue
        seen[svc.port] = svc
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: ignore TIME_WAIT
            try:
                sock.bind(("127.0.0.1", svc.port))
            except OSError:
                hint = (f" (to use a Prefect server already running there, set "
                        f"PREFECT_API_URL=http://127.0.0.1:{svc.port}/api)" if svc.name == "prefect" else "")
                problems.append(f"port {svc.port} for {svc.name} is already in use: stop what uses it or "
                                f"choose another port with {svc.port_setting}{hint}")
    if problems:
        raise FlowzaError("cannot start:" + "".join(f"\n  - {p}" for p in problems), code="PORT_IN_USE")


class Supervisor:
    def __init__(self, log_dir: Path):
        self.log_dir, self.started, self.stop_signal = log_dir, [], None
        log_dir.mkdir(parents=True, exist_ok=True)

    def on_signal(self, signum, _frame) -> None:
        self.stop_signal = signum  # acted on by the loops; nothing is interrupted half-way

    def start(self, svc: Service) -> None:
        svc.log_path = self.log_dir / f"{svc.name}.log"
        where = f" on 127.0.0.1:{svc.port}" if svc.port else ""
        print(f"  · starting {svc.name}{where} (log: {svc.log_path})", flush=True)
        with open(svc.log_path, "wb") as log:
            # Own process group: the terminal's Ctrl-C reaches only us, and stopping reaches grandchildren.
            svc.process = subprocess.Popen(svc.command, env=svc.env, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(svc)

    def wait_ready(self, services: list[Service], timeout: float) -> bool:
        """True once all are healthy; False if asked to stop. Raises ServiceFailed."""
        t0, pending = time.monotonic(), list(services)
        while pending and self.stop_signal is None:
            for svc in list(pending):
                if (code := svc.process.poll()) is not None:
                    raise ServiceFailed(svc, f"exited while starting ({_exit_status(code)})")
                if svc.ready():
                    print(f"  ✓ {svc.name} ready ({time.monotonic() - t0:.1f}s)", flush=True)
                    pending.remove(svc)
            if pending and time.monotonic() - t0 > timeout:
                raise ServiceFailed(pending[0], f"did not become healthy within {timeout:.0f}s")
            time.sleep(0.25)
        return not pending

    def watch(self) -> None:
        """Return when asked to stop; raise ServiceFailed when a child dies."""
        while self.stop_signal is None:
            for svc in self.started:
                if (code := svc.process.poll()) is not None:
                    raise ServiceFailed(svc, f"stopped unexpectedly ({_exit_status(code)})")
            time.sleep(0.5)

    def stop_all(self) -> None:
        running = [svc for svc in reversed(self.started) if svc.process.poll() is None]
        if running:
            print(f"Stopping {', '.join(svc.name for svc in running)} …", flush=True)
        for svc in running:
            _signal_group(svc.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for svc in running:
            try:
                svc.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {svc.name} did not stop within {STOP_GRACE_S}s: killing it", flush=True)
                _signal_group(svc.process, signal.SIGKILL)
                svc.process.wait()
        for svc in self.started:  # leftovers of a group whose leader has exited (server worker processes)
            _signal_group(svc.process, signal.SIGKILL)


def _exit_status(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def up(timeout: float = 120) -> int:
    """Start the stack, print its URLs and supervise it; returns the exit code."""
    settings = get_settings()
    stages, notes = plan(settings)
    check_ports([svc for stage in stages for svc in stage])
    supervisor = Supervisor(settings.home_dir / "logs")
    previous = {sig: signal.signal(sig, supervisor.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"Starting Flowza (FLOWZA_HOME={settings.home_dir})", flush=True)
    for note in notes:
        print(f"  - {note}", flush=True)
    try:
        for stage in stages:
            for svc in stage:
                supervisor.start(svc)
            if not supervisor.wait_ready(stage, timeout):
                return 0
        _print_urls(stages[-1][-1])  # the API: last to start
        supervisor.watch()
        return 0
    except ServiceFailed as exc:
        print(f"✗ {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        supervisor.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if supervisor.stop_signal is not None:
            print("Stopped.", flush=True)


def _print_urls(api: Service) -> None:
    url, tracking = f"http://127.0.0.1:{api.port}", api.env["FLOWZA_MLFLOW_TRACKING_URI"]
    print(f"\nFlowza is ready:\n  API + editor  {url}   (API docs: {url}/docs)"
          f"\n  Prefect UI    {api.env['PREFECT_API_URL'].removesuffix('/api')}"
          f"\n  MLflow UI     {tracking if tracking.startswith('http') else '(no server: ' + redact(tracking) + ')'}"
          f"\nPress Ctrl-C to stop.", flush=True)
