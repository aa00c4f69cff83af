"""How http_request sends: redirects followed here, retries with backoff, a time and a size limit per attempt.

Every connection goes through ``nodes.http_guard``; credentials stay with the origin they were given for.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import httpx

from flowza_core.errors import DatasetTooLarge, NodeError
from nodes.base import NodeContext, hide_secrets
from nodes.http_guard import TargetRefused, guarded_transport

if TYPE_CHECKING:
    from nodes.http import HttpRequestParams

MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
BACKOFF_S = 0.5  # the first wait before a retry; it doubles with each retry
MAX_RETRY_WAIT_S = 30.0  # the longest wait, even when the server's Retry-After asks for more
CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie"}


class Secrets:
    """The values of a connection's secret headers, hidden from every message that could repeat them."""

    def __init__(self, headers: dict[str, str]):
        self.values = [v for v in headers.values() if len(v) >= 4]

    def hide(self, text: str) -> str:
        return hide_secrets(text, self.values)


def shown(url: httpx.URL) -> str:
    """A URL for messages and logs: without credentials or query string."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _read(response: httpx.Response, max_bytes: int, deadline: float, where: str) -> bytes:
    """The answer's body, refused past ``max_bytes`` (decompressed) or past the attempt's deadline."""
    too_large = f"the answer from {where} is larger than max_bytes ({max_bytes:,} bytes); raise max_bytes or " \
                f"ask the API for less (a page, a filter)"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DatasetTooLarge(too_large, field="max_bytes")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise DatasetTooLarge(too_large, field="max_bytes")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the answer took longer than timeout_s to arrive")
        chunks.append(chunk)
    return b"".join(chunks)


def _exchange(client: httpx.Client, method: str, url: httpx.URL, headers: dict, secret: dict, body: dict,
              params: HttpRequestParams, deadline: float) -> tuple[httpx.Response, bytes]:
    """One attempt: the request and the redirects it leads to, each hop through the guarded transport."""
    origin = (url.scheme, url.host, url.port)
    for _ in range(MAX_REDIRECTS + 1):
        sent = {**headers, **secret}
        with client.stream(method, url, headers=sent, **body) as response:
            if response.status_code in REDIRECTS and "location" in response.headers:
                try:
                    url = response.url.join(response.headers["location"])
                except httpx.InvalidURL as exc:
                    raise NodeError(f"{shown(response.url)} redirected to an unusable URL: {exc}",
                                    code="HTTP_BAD_RESPONSE") from None
                if url.scheme not in ("http", "https"):
                    raise TargetRefused(f"{shown(response.url)} redirected to a {url.scheme}: URL; http_request "
                                        f"follows only http and https", field="url")
                if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                    method, body = "GET", {}
                if (url.scheme, url.host, url.port) != origin:  # credentials stay with the origin they are for
                    secret = {}
                    headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
                continue
            return response, _read(response, params.max_bytes, deadline, shown(response.url))
    raise NodeError(f"{shown(url)}: more than {MAX_REDIRECTS} redirects", code="HTTP_TOO_MANY_REDIRECTS", field="url")


def send(params: HttpRequestParams, url: httpx.URL, headers: dict, secret: dict, body: dict,
         ctx: NodeContext) -> tuple[httpx.Response, bytes]:
    """The answer, after up to ``retries`` further attempts on a 429, a 5xx, a timeout or a failed connection."""
    hide = Secrets(secret).hide
    timeout = httpx.Timeout(params.timeout_s)
    with httpx.Client(transport=guarded_transport(), timeout=timeout, follow_redirects=False,
                      trust_env=False) as client:
        for attempt in range(params.retries + 1):
            last = attempt == params.retries
            started = time.monotonic()
            try:
                response, content = _exchange(client, params.method, url, headers, secret, body, params,
                                              started + params.timeout_s)
            except httpx.TimeoutException:
                if last:
                    raise NodeError(f"{params.method} {shown(url)} timed out after {params.timeout_s:g} s "
                                    f"({attempt + 1} attempt{'s' if attempt else ''}); raise timeout_s or check "
                                    f"the server", code="HTTP_TIMEOUT", field="timeout_s") from None
                wait = None
                ctx.logger.warning("%s %s timed out; trying again", params.method, shown(url))
            except httpx.LocalProtocolError as exc:  # what we would send is not HTTP (a header value, …)
                raise NodeError(f"{params.method} {shown(url)} could not be sent: {hide(str(exc))}",
                                code="INVALID_PARAMETER", field="headers") from None
            except httpx.TransportError as exc:  # refused, reset, TLS failure, a name that does not resolve
                if last:
                    raise NodeError(f"{params.method} {shown(url)} failed: {hide(str(exc)) or type(exc).__name__}",
                                    code="HTTP_CONNECT_FAILED", field="url") from None
                wait = None
                ctx.logger.warning("%s %s failed (%s); trying again", params.method, shown(url), hide(str(exc)))
            else:
                status = response.status_code
                ctx.logger.info("%s %s -> %d (%d bytes, %.2f s)", params.method, shown(response.url), status,
                                len(content), time.monotonic() - started)
                if not (status == 429 or status >= 500) or last:
                    return response, content
                wait = _retry_after(response) if status == 429 else None
            wait = min(MAX_RETRY_WAIT_S, wait if wait is not None else BACKOFF_S * 2**attempt)
            time.sleep(wait)
    raise AssertionError("unreachable")
