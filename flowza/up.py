"""``flowza up``: the embedded stack (Prefect server, MLflow server, worker, API) as child processes.

Each child binds 127.0.0.1, logs to FLOWZA_HOME/logs/<name>.log and is waited on until it is
healthy; one that dies later is restarted (flowza/supervisor.py). Ctrl-C or SIGTERM stops them
all (exit 0); a child that cannot start stops the others (exit 1). A service configured elsewhere
(PREFECT_API_URL, FLOWZA_MLFLOW_TRACKING_URI) is used, not started. In multi-user mode Prefect
and MLflow require the credentials only Flowza's own children get (flowza_core/service_credentials.py).
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from flowza_core import service_credentials
from flowza_core.errors import FlowzaError
from flowza_core.service_credentials import ServiceCredentials
from flowza_core.settings import Settings, get_settings
from flowza_core.stack_state import state_path
from flowza.supervisor import STOP_GRACE_S, Service, ServiceFailed, Supervisor

DEPLOYMENT_PATH = "flowza-workflow/run-workflow"  # deployments.runs.DEPLOYMENT_PATH, without importing Prefect
# Uvicorn otherwise waits for every open WebSocket and unfinished request before it exits on SIGTERM.
API_GRACEFUL_SHUTDOWN_S = STOP_GRACE_S // 2


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (OSError, http.client.HTTPException):
        return False


def deployment_applied_since(prefect_api: str, since: float, auth_string: str | None) -> Callable[[], bool]:
    """Ready once the worker has (re)applied the run-workflow deployment, i.e. reached its poll loop."""
    request = urllib.request.Request(f"{prefect_api}/deployments/name/{DEPLOYMENT_PATH}")
    if auth_string:  # as Prefect's clients send PREFECT_API_AUTH_STRING
        request.add_header("Authorization", "Basic " + base64.b64encode(auth_string.encode()).decode())

    def check() -> bool:
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                updated = json.load(resp)["updated"]
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            return False
        return datetime.fromisoformat(updated).timestamp() >= since - 1
    return check


def redact(uri: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", uri)


def guard_credentials(settings: Settings) -> ServiceCredentials | None:
    """Multi-user mode: the credentials Prefect and MLflow require (created once); none otherwise."""
    return service_credentials.load_or_create(settings.home_dir) if settings.auth_enabled else None


def require_mlflow_auth_app() -> None:
    if importlib.util.find_spec("flask_wtf") is None:
        raise FlowzaError("multi-user mode runs MLflow behind its basic-auth app, which needs Flask-WTF: "
                          "install it with `pip install 'mlflow[auth]'`", code="MISSING_DEPENDENCY")


def plan(settings: Settings) -> tuple[list[list[Service]], list[str]]:
    """The services to start, in stages (each waits for the one before), and notes on skipped ones."""
    home, python, notes, servers = settings.home_dir, sys.executable, [], []
    credentials = guard_credentials(settings)
    base = {**os.environ, "FLOWZA_HOME": str(home), "PYTHONUNBUFFERED": "1", "DO_NOT_TRACK": "1",
            "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(home / "prefect")),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    clients = dict(base)  # what the worker and the API get on top of base
    prefect_auth = None
    if prefect_api := os.environ.get("PREFECT_API_URL"):
        notes.append(f"prefect: using PREFECT_API_URL={prefect_api} (not started here)")
    else:
        prefect_api = f"http://127.0.0.1:{settings.prefect_port}/api"
        env = dict(base)
        if credentials:
            prefect_auth = env["PREFECT_SERVER_API_AUTH_STRING"] = clients["PREFECT_API_AUTH_STRING"] = \
                credentials.prefect_auth_string
        servers.append(Service(
            "prefect", [python, "-m", "flows.prefect_server", "prefect", "server", "start", "--host", "127.0.0.1",
                        "--port", str(settings.prefect_port)],
            env, partial(http_ok, f"{prefect_api}/health"), settings.prefect_port, "FLOWZA_PREFECT_PORT"))
    tracking = settings.tracking_uri
    if settings.mlflow_tracking_uri or tracking.startswith(("http://", "https://")):
        notes.append(f"mlflow: using tracking URI {redact(tracking)} (not started here)")
    else:
        if tracking.startswith("sqlite:///"):
            Path(tracking.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        command = [python, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(settings.mlflow_port),
                   "--workers", "1", "--backend-store-uri", tracking, "--artifacts-destination", settings.artifact_root]
        # Job execution (LLM judges, trace archival) is unused here and costs ~8 processes, ~2 GB.
        env = {**base, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        if credentials:
            require_mlflow_auth_app()
            command += ["--app-name", "basic-auth"]
            env.update(MLFLOW_AUTH_CONFIG_PATH=str(service_credentials.mlflow_auth_config(home, credentials)),
                       MLFLOW_FLASK_SERVER_SECRET_KEY=credentials.mlflow_flask_secret)
            clients.update(MLFLOW_TRACKING_USERNAME=credentials.mlflow_username,
                           MLFLOW_TRACKING_PASSWORD=credentials.mlflow_password)
        servers.append(Service("mlflow", command, env,
                               partial(http_ok, f"http://127.0.0.1:{settings.mlflow_port}/health"),
                               settings.mlflow_port, "FLOWZA_MLFLOW_PORT"))
        tracking = f"http://127.0.0.1:{settings.mlflow_port}"
    # The worker and the API must agree on Prefect, MLflow, FLOWZA_HOME and the data directory.
    clients.update(PREFECT_API_URL=prefect_api, FLOWZA_MLFLOW_TRACKING_URI=tracking,
                   FLOWZA_DATA_DIR=str(settings.data_root))
    worker = Service("worker", [python, "-m", "deployments.worker"], clients,
                     deployment_applied_since(prefect_api, time.time(), prefect_auth))
    api = Service("api", [python, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                          "--port", str(settings.api_port),
                          "--timeout-graceful-shutdown", str(API_GRACEFUL_SHUTDOWN_S),
                          # X-Forwarded-For counts only from FLOWZA_TRUSTED_PROXIES (api/rate_limit.py).
                          "--no-proxy-headers"],
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


def up(timeout: float = 120) -> int:
    """Start the stack, print its URLs and supervise it; returns the exit code."""
    settings = get_settings()
    stages, notes = plan(settings)
    check_ports([svc for stage in stages for svc in stage])
    supervisor = Supervisor(settings.home_dir / "logs", state_path(settings.home_dir))
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
        guarded = settings.auth_enabled and any(svc.name in ("prefect", "mlflow") for svc in supervisor.started)
        _print_urls(stages[-1][-1], service_credentials.credentials_path(settings.home_dir) if guarded else None)
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


def _print_urls(api: Service, credentials: Path | None) -> None:
    """The URLs, and where the credentials of a guarded Prefect and MLflow are (the API: last to start)."""
    url, tracking = f"http://127.0.0.1:{api.port}", api.env["FLOWZA_MLFLOW_TRACKING_URI"]
    print(f"\nFlowza is ready:\n  API + editor  {url}   (API docs: {url}/docs)"
          f"\n  Prefect UI    {api.env['PREFECT_API_URL'].removesuffix('/api')}"
          f"\n  MLflow UI     {tracking if tracking.startswith('http') else '(no server: ' + redact(tracking) + ')'}",
          flush=True)
    if credentials:
        print(f"  Multi-user mode: the Prefect and MLflow UIs ask for the service credentials in {credentials} "
              "(readable by you only)", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
