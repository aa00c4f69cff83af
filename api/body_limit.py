"""Requests: bodies limited in size while they stream in, JSON held to the standard, no NUL in URLs.

An ASGI middleware, so a body is checked before any route buffers or parses it:

- A body larger than FLOWZA_MAX_REQUEST_MB is refused with 413 ``REQUEST_TOO_LARGE``, never buffered:
  when its ``Content-Length`` says so, or as soon as a chunked body passes the limit. Multipart uploads
  stream on to their route, which holds them to FLOWZA_MAX_UPLOAD_MB (``api/services/multipart_upload.py``).
- JSON that Python's parser accepts but JSON does not (``NaN``, ``Infinity``, ``1e999``, and ``\\ud800``-style
  lone surrogates, which no UTF-8 text can hold) and text holding NUL characters (which PostgreSQL cannot
  store) are refused with 422 ``INVALID_JSON`` naming the field; they would otherwise be stored as null
  or fail deep inside a route. So is JSON nested too deeply to parse.
- A URL holding a NUL character (``%00``) is refused with 400 ``INVALID_REQUEST`` (no id or name has one),
  and so is a form body (422).
"""

from __future__ import annotations

import email.message
import json
import logging
import math
import re
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from api.services.multipart_upload import FORM_SLACK
from api.services.multipart_upload import too_large as upload_too_large
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)

DRAIN_LIMIT = 64 * 2**20  # read (and drop) up to this much of a refused body, so the client reads the 413
NUL = re.compile(rb"%00|\x00")  # in a URL's query or a form body
# Escapes of a surrogate (\uD800-\uDFFF) or NUL: only through them can parsed text hold one (raw bytes must
# decode as UTF-8, and JSON forbids raw control characters in strings).
SUSPECT_ESCAPE = re.compile(rb"\\u(?:[dD][89abcdefABCDEF][0-9a-fA-F]{2}|0000)")


class _Refused(Exception):
    """A reason to answer before the route runs: a status and an error body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.body = status, error_body(code, message, {"field": field} if field else None)


class RequestGuard:
    """ASGI middleware: NUL-free URLs, and the size limit and strict JSON on every HTTP request body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not url_is_clean(scope):
            await JSONResponse(error_body("INVALID_REQUEST", "the URL holds a NUL character (%00), which no id, "
                                                             "name or parameter can contain"), status_code=400)(
                scope, receive, send)
            return
        if is_multipart(scope):
            await self.app(scope, _limited(receive, upload_limit()), send)
            return
        body = await checked_body(scope, receive, send)
        if body is not None:
            await self.app(scope, _replay(body, receive), send)


def url_is_clean(scope: Scope) -> bool:
    """No NUL character in the URL's path or query (else the guard answers 400 ``INVALID_REQUEST``)."""
    return "\x00" not in scope["path"] and not NUL.search(scope.get("query_string", b""))


def is_multipart(scope: Scope) -> bool:
    """A multipart upload: streamed on to its route (held to FLOWZA_MAX_UPLOAD_MB), not read here."""
    return _media_type(_header(scope, b"content-type")) == "multipart/form-data"


async def checked_body(scope: Scope, receive: Receive, send: Send) -> bytes | None:
    """The whole body of a request that is not multipart, held to the size limit and to strict JSON; None when
    it was refused (413 or 422, already answered)."""
    content_type = _header(scope, b"content-type")
    limit = request_limit()
    try:
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            if declared <= DRAIN_LIMIT:
                await _drain(receive)
            raise _Refused(413, "REQUEST_TOO_LARGE", too_large_message(limit))
        body = await _read(receive, limit)
        if body and _is_json(content_type):
            check_json(body)
        elif _media_type(content_type) == "application/x-www-form-urlencoded" and NUL.search(body):
            raise _Refused(422, "INVALID_REQUEST", "the form holds a NUL character (%00), which text cannot store")
    except _Refused as refused:
        await JSONResponse(refused.body, status_code=refused.status)(scope, receive, send)
        return None
    return body


def request_limit() -> int:
    return int(get_settings().max_request_mb * 2**20)


def upload_limit() -> int:
    return int(get_settings().max_upload_mb * 2**20) + FORM_SLACK


def too_large_message(limit: int) -> str:
    return (f"the request body is larger than the limit of {limit / 2**20:g} MB (FLOWZA_MAX_REQUEST_MB); "
            f"upload data files as CSV through /api/upload instead of inlining them")


class _Constant(str):
    """Stands in for NaN, Infinity or an overflowing number (1e999) while parsing, so its field can be named."""


def check_json(body: bytes) -> None:
    """Refuse a body Python's ``json`` would accept but JSON does not; leave plain syntax errors to the route."""
    constants: list[str] = []

    def constant(name: str) -> _Constant:
        constants.append(name)
        return _Constant(name)

    def number(text: str) -> float:
        value = float(text)
        return constant(text) if math.isinf(value) else value  # 1e999 parses as infinity

    encoding = json.detect_encoding(body)
    try:
        # Decoded strictly: json.loads(bytes) lets UTF-8-encoded surrogates through.
        parsed = json.loads(body.decode(encoding), parse_constant=constant, parse_float=number)
    except UnicodeDecodeError:
        raise _Refused(422, "INVALID_JSON", f"the JSON body is not valid {encoding} text") from None
    except RecursionError:
        raise _Refused(422, "INVALID_JSON", "the JSON body is nested too deeply") from None
    except ValueError:
        return  # not JSON at all: the route answers that itself, with the position of the error
    if constants:
        where, value = _find(parsed, lambda item: isinstance(item, _Constant))
        raise _Refused(422, "INVALID_JSON", f"{where}: {value} is not a finite JSON number; send a finite "
                                            f"number, or null for a missing value", field=where)
    if SUSPECT_ESCAPE.search(body):
        where, value = _find(parsed, lambda item: _text_problem(item) is not None, keys=True)
        if where:
            raise _Refused(422, "INVALID_JSON", f"{where}: {_text_problem(value)}", field=where)


def _text_problem(value: Any) -> str | None:
    """What makes a string unstorable, or None (also for anything not a string)."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "the text holds a NUL character (\\u0000), which text cannot store"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "the text holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair), which is not a character"
    return None


def _find(value: Any, bad, keys: bool = False) -> tuple[str, Any]:
    """The path (``body.nodes.0.parameters.x``) and value of the first value (or key) ``bad`` holds for."""
    stack = [(value, "body")]
    while stack:
        current, where = stack.pop()
        if bad(current):
            return where, current
        if isinstance(current, dict):
            for key, item in current.items():
                if keys and bad(key):
                    return where, key
                stack.append((item, f"{where}.{key}"))
        elif isinstance(current, list):
            stack.extend((item, f"{where}.{i}") for i, item in enumerate(current))
    return "", None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _media_type(content_type: str | None) -> str:
    if not content_type:
        return ""
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_type()


def _is_json(content_type: str | None) -> bool:
    """As FastAPI decides: no content type, ``application/json`` or ``application/*+json``."""
    media = _media_type(content_type)
    return not content_type or media == "application/json" or (
        media.startswith("application/") and media.endswith("+json"))


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value and value.strip().isdigit() else None


async def _read(receive: Receive, limit: int) -> bytes:
    """The whole body, refused as soon as it passes ``limit`` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        more = message.get("more_body", False)
        if size > limit:
            if more:
                await _drain(receive, size)
            raise _Refused(413, "REQUEST_TOO_LARGE", too_large_message(limit))
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(receive: Receive, read: int = 0) -> None:
    """Read and drop what is left of a refused body (up to DRAIN_LIMIT): a client still sending would
    otherwise see its connection reset instead of the answer."""
    while read <= DRAIN_LIMIT:
        message = await receive()
        read += len(message.get("body", b""))
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: the disconnect, when it comes
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` raising 413 ``PAYLOAD_TOO_LARGE`` past ``limit`` bytes: a backstop, as the upload route
    holds the file itself to FLOWZA_MAX_UPLOAD_MB while it streams."""
    size = 0

    async def limited() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            log.info("refused a multipart body past %d bytes", limit)
            raise upload_too_large()
        return message

    return limited


def install(app) -> None:
    app.add_middleware(RequestGuard)
