"""Abuse: per-IP limits that a forged X-Forwarded-For cannot lift, throttled logins, accounts that do not leak."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.requests import Request

from tests.conftest import free_port

PASSWORD = "correct horse battery"
INVALID = {"nodes": [{"id": "x", "type": "no_such_node"}], "connections": []}  # refused (422) but counted


def request_from(peer: str, forwarded: list[str] = ()) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 50000)})


@pytest.fixture
def settings_env(monkeypatch):
    """``settings_env(NAME=value, …)`` sets FLOWZA_* variables and rereads the settings."""
    from flowza_core.settings import get_settings

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"FLOWZA_{name}", value)
        get_settings.cache_clear()

    yield set_env
    get_settings.cache_clear()


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(settings_env):
    from api.rate_limit import client_ip

    assert client_ip(request_from("203.0.113.9", ["1.2.3.4"])) == "203.0.113.9"
    settings_env(TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.1")
    assert client_ip(request_from("203.0.113.9", ["1.2.3.4"])) == "203.0.113.9"  # not from a proxy of ours
    assert client_ip(request_from("10.0.0.5", ["198.51.100.7"])) == "198.51.100.7"
    # The client wrote the left part; our proxies appended the right part: take the right-most not ours.
    assert client_ip(request_from("10.0.0.5", ["6.6.6.6, 198.51.100.7, 192.168.1.1"])) == "198.51.100.7"
    assert client_ip(request_from("10.0.0.5", ["6.6.6.6", "198.51.100.7"])) == "198.51.100.7"  # two header lines
    assert client_ip(request_from("10.0.0.5", ["10.0.0.7, 10.0.0.6"])) == "10.0.0.7"  # only our proxies
    assert client_ip(request_from("10.0.0.5")) == "10.0.0.5"  # no header


def test_a_bad_trusted_proxy_setting_fails_at_start(settings_env):
    from pydantic import ValidationError

    from flowza_core.settings import Settings

    settings_env(TRUSTED_PROXIES="10.0.0.1, not-an-address")
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings()


@contextmanager
def api_as_flowza_up_starts_it(settings_env, **env: str) -> Iterator[str]:
    """The API process, with the command and environment `flowza up` gives it (uvicorn on 127.0.0.1); its URL."""
    from flowza_core.settings import get_settings
    from flowza.up import plan

    port = free_port()
    settings_env(API_PORT=str(port), **env)
    stages, _ = plan(get_settings())
    api = next(service for stage in stages for service in stage if service.name == "api")
    process = subprocess.Popen(api.command, env=api.env, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the API process exited while starting"
            assert time.monotonic() < deadline, "the API did not answer within 120 s"
            try:
                if httpx.get(f"{url}/api/auth/me", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def submissions(url: str, forwarded: list[str]) -> list[int]:
    return [httpx.post(f"{url}/api/workflows/run", json=INVALID, headers={"X-Forwarded-For": address},
                       timeout=30).status_code for address in forwarded]


def test_a_forged_x_forwarded_for_does_not_lift_the_per_ip_limit(flowza_env, settings_env):
    with api_as_flowza_up_starts_it(settings_env, RUNS_PER_MINUTE="3") as url:
        statuses = submissions(url, [f"198.51.100.{i}" for i in range(10)])
    assert statuses == [422] * 3 + [429] * 7


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(flowza_env, settings_env):
    with api_as_flowza_up_starts_it(settings_env, RUNS_PER_MINUTE="2", TRUSTED_PROXIES="127.0.0.1") as url:
        first = submissions(url, ["198.51.100.1"] * 3)
        second = submissions(url, ["198.51.100.2", "6.6.6.6, 198.51.100.2", "7.7.7.7, 198.51.100.2"])
    assert first == [422, 422, 429]
    assert second == [422, 422, 429]  # what the client puts left of our proxy's entry changes nothing


def logins(client, email: str, password: str, times: int) -> list[int]:
    return [client.post("/api/auth/login", json={"email": email, "password": password}).status_code
            for _ in range(times)]


def test_failed_logins_are_throttled_per_account_known_or_not(multi_user):
    ada = multi_user("ada@example.com")
    assert logins(ada, "ada@example.com", "wrong password", 6) == [401] * 5 + [429]
    limited = ada.post("/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"  # even the right password
    assert 800 <= int(limited.headers["Retry-After"]) <= 900
    assert logins(ada, "nobody@example.com", "wrong password", 6) == [401] * 5 + [429]  # the same for no account
    assert logins(ada, "bob@example.com", "wrong password", 1) == [401]  # other accounts are not held up


def test_a_successful_login_clears_the_accounts_failures(multi_user):
    ada = multi_user("ada@example.com")
    assert logins(ada, "ada@example.com", "wrong password", 4) == [401] * 4
    assert logins(ada, "Ada@Example.com", PASSWORD, 1) == [200]
    assert logins(ada, "ada@example.com", "wrong password", 4) == [401] * 4


def test_failed_logins_are_throttled_per_ip_across_accounts(multi_user, settings_env):
    ada = multi_user("ada@example.com")
    settings_env(LOGIN_FAILURES_PER_IP="8")
    statuses = [logins(ada, f"guess{i}@example.com", "wrong password", 1)[0] for i in range(8)]
    assert statuses == [401] * 8
    assert logins(ada, "ada@example.com", PASSWORD, 1) == [429]


def test_a_login_takes_as_long_for_an_unknown_email_as_for_a_known_one(multi_user):
    ada = multi_user("ada@example.com")

    def seconds(email: str) -> float:
        start = time.perf_counter()
        assert logins(ada, email, "wrong password", 1) == [401]
        return time.perf_counter() - start

    seconds("warm-up@example.com")
    known = statistics.median(seconds("ada@example.com") for _ in range(4))
    unknown = statistics.median(seconds(f"nobody{i}@example.com") for i in range(4))
    # A bcrypt check is ~0.1-0.3 s; without one, an unknown email would answer in about a millisecond.
    assert unknown > 0.5 * known, (unknown, known)


def test_register_answers_the_same_for_a_taken_email_and_keeps_its_password(multi_user):
    ada = multi_user("ada@example.com")
    fresh = ada.post("/api/auth/register", json={"email": "new@example.com", "password": "another password"})
    taken = ada.post("/api/auth/register", json={"email": "ADA@example.com", "password": "another password"})
    assert fresh.status_code == taken.status_code == 201
    assert fresh.json() == taken.json() | {"email": "new@example.com"}
    assert set(taken.json()) == {"email", "message"} and "token" not in taken.text
    assert logins(ada, "new@example.com", "another password", 1) == [200]
    assert logins(ada, "ada@example.com", "another password", 1) == [401]  # the taken account is unchanged
    assert logins(ada, "ada@example.com", PASSWORD, 1) == [200]
