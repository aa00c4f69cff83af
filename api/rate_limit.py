"""Per-user and per-IP limits on expensive requests (run submission): 429 with Retry-After.

A sliding window kept in this process: enough for the one API process `flowza up` starts. Several
API replicas would each allow the limit (a shared store such as Redis would be the next step).
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque

from fastapi import Request

from api.auth import CurrentUser
from flowza.errors import FlowzaError
from flowza.settings import get_settings

WINDOW_S = 60.0


class RateLimited(FlowzaError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}

    def to_dict(self) -> dict:
        return super().to_dict() | {"retry_after_s": self.retry_after}


class SlidingWindow:
    def __init__(self, window_s: float = WINDOW_S):
        self.window_s, self._hits, self._lock = window_s, defaultdict(deque), threading.Lock()

    def hit(self, keys: list[str], limit: int, now: float | None = None) -> float:
        """Count one request against every key; 0 if allowed, else seconds until one more is allowed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = []
            for key in keys:
                hits = self._hits[key]
                while hits and hits[0] <= now - self.window_s:
                    hits.popleft()
                if len(hits) >= limit:
                    waits.append(hits[0] + self.window_s - now)
            if waits:
                return max(waits)
            for key in keys:
                self._hits[key].append(now)
            return 0.0


def install(app) -> None:
    """Give the app its own window (one per app, so each test's app starts from zero)."""
    app.state.run_submissions = SlidingWindow()


def limit_run_submissions(request: Request, user: CurrentUser) -> None:
    """Dependency of every route that submits a run: counts against the caller's IP and account."""
    limit = get_settings().runs_per_minute
    keys = [f"ip:{request.client.host if request.client else 'unknown'}"]
    if user is not None:
        keys.append(f"user:{user.id}")
    wait = request.app.state.run_submissions.hit(keys, limit)
    if wait:
        retry = max(1, math.ceil(wait))
        raise RateLimited(f"too many runs submitted: at most {limit} a minute (FLOWZA_RUNS_PER_MINUTE); "
                          f"try again in {retry} s", retry)
