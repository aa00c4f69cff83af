"""One request to an OpenAI-compatible ``/chat/completions`` endpoint, shared by ``llm_call`` and the workflow
generator (``flows.generate.llm``).

Failures are ``ChatFailed`` subclasses whose message says what happened without the API key or the URL's
credentials; each caller adds what its user should check (a connection, or FLOWZA_LLM_* settings).
A ``guarded`` endpoint connects only to public addresses (``nodes.http_guard``): one a user of a multi-user server
chose, unlike the server's own FLOWZA_LLM_BASE_URL, must not reach its loopback, LAN or metadata service.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from nodes.http_client import Secrets, shown
from nodes.http_guard import TargetRefused, guarded_transport

log = logging.getLogger(__name__)

EXCERPT_CHARS = 200


class ChatFailed(Exception):
    """A chat completion that did not come back."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message, self.status = message, status


class ChatTimeout(ChatFailed):
    pass


class ChatUnreachable(ChatFailed):
    pass


class ChatTargetRefused(ChatFailed):
    """A guarded endpoint whose host is not a public address."""


class ChatRefused(ChatFailed):
    """HTTP 401 or 403: the key is wrong or lacks access."""


class ChatHttpError(ChatFailed):
    pass


class ChatNotCompletion(ChatFailed):
    """A 2xx answer that is not ``{"choices": [{"message": {"content": "…"}}]}``."""


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None = None  # "length": the answer was cut at max_tokens
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatEndpoint:
    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 60
    guarded: bool = False  # connect only to public addresses (FLOWZA_HTTP_ALLOW_PRIVATE lifts it)

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def shown_url(self) -> str:
        """The URL for messages and logs: without credentials or query string."""
        try:
            return shown(httpx.URL(self.url))
        except (httpx.InvalidURL, TypeError):
            return "(an invalid URL)"

    def hide(self, text: str) -> str:
        return Secrets({"key": self.api_key or ""}).hide(text)

    def complete(self, messages: list[dict], *, temperature: float = 0, max_tokens: int | None = None
                 ) -> Completion:
        """The model's answer to ``messages``; a ``ChatFailed`` saying why not."""
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        started = time.monotonic()
        try:
            answer = self._post(body, headers)
        except TargetRefused as exc:
            raise ChatTargetRefused(f"the LLM endpoint ({self.shown_url}) may not be reached: {exc.message}") from None
        except httpx.TimeoutException:
            raise ChatTimeout(f"the LLM endpoint ({self.shown_url}) did not answer within "
                              f"{self.timeout_s:g} s") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            log.warning("LLM endpoint %s unreachable: %s", self.shown_url, self.hide(repr(exc)))
            raise ChatUnreachable(f"cannot reach the LLM endpoint ({self.shown_url}): {type(exc).__name__}") from None
        log.info("LLM endpoint %s, model %s -> %d (%.2f s)", self.shown_url, self.model, answer.status_code,
                 time.monotonic() - started)
        if answer.status_code in (401, 403):
            raise ChatRefused(f"the LLM endpoint refused the request (HTTP {answer.status_code})", answer.status_code)
        if answer.status_code >= 400:
            excerpt = self.hide(answer.text)[:EXCERPT_CHARS]
            raise ChatHttpError(f"the LLM endpoint answered HTTP {answer.status_code}: {excerpt}", answer.status_code)
        try:
            data = answer.json()
            choice = data["choices"][0]
            text, finish_reason, usage = choice["message"]["content"], choice.get("finish_reason"), data.get("usage")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            text = None
        if not isinstance(text, str):
            raise ChatNotCompletion(f"the LLM endpoint ({self.shown_url}) did not answer as an OpenAI-compatible "
                                    f"chat completion (no choices[0].message.content)")
        log.debug("LLM usage: %s", usage)
        return Completion(text, finish_reason, usage if isinstance(usage, dict) else {})

    def _post(self, body: dict, headers: dict) -> httpx.Response:
        if not self.guarded:
            return httpx.post(self.url, json=body, headers=headers, timeout=self.timeout_s)
        # no proxies from the environment: a proxy would connect for us, past the guard
        with httpx.Client(transport=guarded_transport(), timeout=self.timeout_s, follow_redirects=False,
                          trust_env=False) as client:
            return client.post(self.url, json=body, headers=headers)
