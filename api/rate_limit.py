"""Limits on expensive or guessable requests: run submissions per user and IP, failed logins per account and IP.

A sliding window kept in this process: enough for the one API process `flowza up` starts. Several
API replicas would each allow the limit (a shared store such as Redis would be the next step).

The IP is the direct peer's. ``X-Forwarded-For`` is believed only from a proxy listed in
FLOWZA_TRUSTED_PROXIES: anyone can send the header, so trusting it by default would let each request
claim a new address and step around every per-IP limit.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import defaultdict, deque

from fastapi import Request

from api.auth import CurrentUser
from metadata_db.users import normalize_email
from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings

WINDOW_S = 60.0
LOGIN_WINDOW_S = 15 * 60.0
LOGIN_FAILURES_PER_ACCOUNT = 5  # then the account waits: password guessing gets 20 tries an hour


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
            wait = self._wait({key: limit for key in keys}, now)
            if not wait:
                self._add(keys, now)
            return wait

    def wait(self, limits: dict[str, int], now: float | None = None) -> float:
        """Seconds until each key has room under its limit (0: now), counting nothing."""
        with self._lock:
            return self._wait(limits, time.monotonic() if now is None else now)

    def add(self, keys: list[str], now: float | None = None) -> None:
        with self._lock:
            self._add(keys, time.monotonic() if now is None else now)

    def forget(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def _wait(self, limits: dict[str, int], now: float) -> float:
        waits = [0.0]
        for key, limit in limits.items():
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if not hits:
                del self._hits[key]  # keys seen once (scanned emails, addresses) do not pile up
            elif len(hits) >= limit:
                waits.append(hits[0] + self.window_s - now)
        return max(waits)

    def _add(self, keys: list[str], now: float) -> None:
        for key in keys:
            self._hits[key].append(now)


def install(app) -> None:
    """Give the app its own windows (one per app, so each test's app starts from zero)."""
    app.state.run_submissions = SlidingWindow()
    app.state.login_failures = SlidingWindow(LOGIN_WINDOW_S)


def client_ip(request: Request) -> str:
    """The caller's address: the direct peer, unless that is a trusted proxy; then the right-most address of
    ``X-Forwarded-For`` that is not a trusted proxy (the left part of the header is whatever the client sent)."""
    peer = request.client.host if request.client else "unknown"
    trusted = get_settings().trusted_proxies
    if not _is_any(peer, trusted):
        return peer
    chain = [part.strip() for header in request.headers.getlist("x-forwarded-for") for part in header.split(",")]
    chain = [part for part in chain if part]
    for address in reversed(chain):
        if not _is_any(address, trusted):
            return address
    return chain[0] if chain else peer  # every hop is one of ours: the first is the client


def _is_any(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def limit_run_submissions(request: Request, user: CurrentUser) -> None:
    """Dependency of every route that submits a run: counts against the caller's IP and account."""
    limit = get_settings().runs_per_minute
    keys = [f"ip:{client_ip(request)}"]
    if user is not None:
        keys.append(f"user:{user.id}")
    wait = request.app.state.run_submissions.hit(keys, limit)
    if wait:
        retry = max(1, math.ceil(wait))
        raise RateLimited(f"too many runs submitted: at most {limit} a minute (FLOWZA_RUNS_PER_MINUTE); "
                          f"try again in {retry} s", retry)


class LoginThrottle:
    """Failed logins of one attempt's account and IP; the account counts whether or not it exists, so a 429
    says nothing about which emails have accounts."""

    def __init__(self, request: Request, email: str):
        self.window: SlidingWindow = request.app.state.login_failures
        self.account, self.ip = f"account:{normalize_email(email)}", f"ip:{client_ip(request)}"

    def check(self) -> None:
        """RATE_LIMITED (429 with Retry-After) while the account or the IP has failed too often."""
        # The IP's bound is higher (FLOWZA_LOGIN_FAILURES_PER_IP): an office behind one address has many users.
        limits = {self.account: LOGIN_FAILURES_PER_ACCOUNT, self.ip: get_settings().login_failures_per_ip}
        wait = self.window.wait(limits)
        if wait:
            retry = max(1, math.ceil(wait))
            raise RateLimited(f"too many failed logins: try again in {retry} s", retry)

    def failed(self) -> None:
        self.window.add([self.account, self.ip])

    def succeeded(self) -> None:
        self.window.forget(self.account)
