"""A running Flowza service seen from Python: submit a workflow, follow its run (``Workflow.submit``).

    run = wf.submit("http://127.0.0.1:8000")
    run.status()            # "pending", "running", "completed", ...
    record = run.wait()     # the run as GET /api/runs/{run_id} shows it, once it has ended
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import httpx

from flowza_core.errors import FlowzaError

log = logging.getLogger(__name__)
FINISHED = frozenset({"completed", "failed", "cancelled", "crashed"})


class ServiceError(FlowzaError):
    """The service could not be reached (``status`` None) or refused the request (its code and message)."""

    code = "SERVICE_ERROR"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict | None = None):
        super().__init__(message, code=code)
        self.status = status
        self.details = details


def call(method: str, url: str, *, token: str | None = None, timeout: float = 30.0, **kwargs) -> dict | None:
    """One request to the service; its JSON answer (None for 204 No Content), or ``ServiceError`` carrying the
    service's own message."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = httpx.request(method, url, headers=headers, timeout=timeout, **kwargs)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ServiceError(f"could not reach the Flowza service at {url}: {exc or type(exc).__name__}; "
                           f"is it running (`flowza up`) and is the URL right?", code="SERVICE_UNREACHABLE") from exc
    if answer.status_code == 204:
        return None
    if answer.is_success:
        return answer.json()
    try:
        body = answer.json()
    except ValueError:  # not Flowza answering (a proxy's error page, another server on that port)
        body = {}
    if not isinstance(body, dict) or "message" not in body:
        raise ServiceError(f"{method} {url} answered {answer.status_code}: {answer.text[:300] or answer.reason_phrase}",
                           status=answer.status_code)
    message = body["message"]
    if answer.status_code == 401 and not token:
        message += " (this service needs a login: pass token=…, from POST /api/auth/login)"
    raise ServiceError(message, code=body.get("code"), status=answer.status_code, details=body.get("details"))


@dataclass(frozen=True)
class RemoteRun:
    """A run submitted to a Flowza service; it is listed in ``/api/runs/`` and shown in the editor."""

    url: str
    run_id: str
    workflow_id: str
    token: str | None = None

    def record(self) -> dict:
        """The run now: status, progress, per-node status, outputs and metrics (``GET /api/runs/{run_id}``)."""
        return call("GET", f"{self.url}/api/runs/{self.run_id}", token=self.token)

    def status(self) -> str:
        """``pending``, ``running``, ``completed``, ``failed``, ``cancelled`` or ``crashed``."""
        return self.record()["status"]

    def wait(self, timeout: float = 600, poll: float = 0.5) -> dict:
        """Poll until the run has ended; its final record. ``TimeoutError`` if it is still going after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while (record := self.record())["status"] not in FINISHED:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {self.run_id} is still {record['status']} after {timeout:g} s; "
                                   f"call wait() again to keep following it")
            time.sleep(poll)
        return record


def submit(url: str, workflow: dict, *, token: str | None = None, use_cache: bool = True) -> RemoteRun:
    """``POST {url}/api/workflows/run``: save the workflow and queue a run of it."""
    base = url.rstrip("/")
    created = call("POST", f"{base}/api/workflows/run", token=token, json=workflow,
                   params={"use_cache": str(use_cache).lower()})
    log.info("submitted workflow %s to %s: run %s", created["workflow_id"], base, created["run_id"])
    return RemoteRun(base, created["run_id"], created["workflow_id"], token)
