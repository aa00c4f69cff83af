"""http_request: call an HTTP API; its answer becomes a JSON value, text, or a table.

Requests reach only public hosts unless FLOWZA_HTTP_ALLOW_PRIVATE is set, checked where each connection is made
(``nodes.http_guard``); ``nodes.http_client`` follows redirects (each through the same check), retries, and stops
at ``max_bytes``. A connection's secret headers never leave its origin, nor appear in a message. Upstream values
fill ``{{ values.… }}`` templates (``nodes.templating``). A run never reuses a stored answer: an API's answers
change, and a POST is an action.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, Literal, NamedTuple

import httpx
import pandas as pd
from pydantic import Field, JsonValue, field_validator, model_validator

from flowza_core.errors import NodeError
from nodes.base import CONNECTION_NAME, NodeContext, Params, always_run, node
from nodes.http_client import Secrets, send, shown
from nodes.ports import Dataset, Json, Text
from nodes.templating import render_text, render_value

EXCERPT_CHARS = 300
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class HttpRequestParams(Params):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field("GET", title="Method")
    url: str = Field(..., min_length=1, max_length=8192, title="URL",
                     description="An http(s) URL, or a path under the connection's base_url; may hold templates "
                                 "such as {{ values.id }} (add |urlencode to a value placed in a path).")
    connection: str | None = Field(None, pattern=CONNECTION_NAME, title="Connection",
                                   description="Name of an http connection: its secret headers are sent, and its "
                                               "base_url prefixes a relative url.",
                                   json_schema_extra={"connection_kind": "http"})
    headers: dict[str, str] = Field(default_factory=dict, title="Headers")
    query: dict[str, JsonValue] = Field(default_factory=dict, title="Query parameters")
    json_body: JsonValue = Field(None, title="JSON body",
                                 description="Sent as JSON; a string that is one {{ … }} becomes that value.")
    form_body: dict[str, JsonValue] | None = Field(None, title="Form body", description="Sent form-encoded.")
    response_as: Literal["json", "text", "table"] = Field(
        "json", title="Response as", description="json: the parsed answer on the 'json' output; text: the answer on "
                                                 "'text'; table: a JSON list of records on 'table'.")
    records_path: str | None = Field(
        None, max_length=512, title="Records path",
        description="Where a table's records are in a JSON object, as dotted keys (data.items); default: the "
                    "object's only list.")
    timeout_s: float = Field(30, gt=0, le=600, title="Timeout (s)", description="How long one attempt may take.",
                             json_schema_extra={"advanced": True})
    retries: int = Field(2, ge=0, le=10, title="Retries",
                         description="Attempts after a 429, a 5xx, a timeout or a refused connection, waiting "
                                     "longer each time (a 429's Retry-After up to 30 s).",
                         json_schema_extra={"advanced": True})
    max_bytes: int = Field(10 * 2**20, ge=1, le=2**30, title="Largest answer (bytes)",
                           json_schema_extra={"advanced": True})

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if not HEADER_NAME.match(name):
                raise ValueError(f"'{name[:100]}' is not a header name (letters, digits and !#$%&'*+.^_`|~-)")
        return headers

    @model_validator(mode="after")
    def _one_body(self):
        if self.json_body is not None and self.form_body is not None:
            raise ValueError("give json_body or form_body, not both")
        return self


class HttpResponse(NamedTuple):
    json: Json  # the parsed answer (response_as json or table); null for text
    text: Text  # the answer as text, whatever response_as is
    table: Dataset  # the records (response_as table); an empty table otherwise



def _under(url: httpx.URL, base: httpx.URL) -> bool:
    prefix = base.path.rstrip("/")
    return ((url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
            and (url.path == prefix or url.path.startswith(prefix + "/")))


def _target(params: HttpRequestParams, url: str, ctx: NodeContext) -> tuple[httpx.URL, dict[str, str]]:
    """The URL to call and the connection's secret headers."""
    secret: dict[str, str] = {}
    base = None
    if params.connection:
        conn = ctx.connection(params.connection)
        if conn.get("kind") != "http":
            raise NodeError(f"connection '{params.connection}' is a {conn.get('kind')} connection; http_request "
                            f"needs an http connection", code="CONNECTION_KIND", field="connection")
        secret = {str(k): str(v) for k, v in (conn.get("headers") or {}).items()}
        base = conn.get("base_url")
    if base and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        url = base.rstrip("/") + "/" + url.lstrip("/")
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise NodeError(f"url '{url[:200]}' is not a usable URL: {exc}", code="INVALID_URL", field="url") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise NodeError(f"url '{url[:200]}' must start with http:// or https:// and name a host"
                        + ("" if params.connection else " (or name a connection whose base_url it continues)"),
                        code="INVALID_URL", field="url")
    if base and secret and not _under(target, httpx.URL(base)):
        raise NodeError(f"url {shown(target)} is not under connection '{params.connection}''s base_url {base}: "
                        f"its secret headers go only there", code="INVALID_URL", field="url")
    return target, secret


def _decode(response: httpx.Response, content: bytes, why: str) -> str:
    charset = response.charset_encoding or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        raise NodeError(f"the answer declares charset '{charset[:40]}', which is not a known text encoding",
                        code="HTTP_BAD_RESPONSE") from None
    try:
        return content.decode("utf-8-sig" if charset.lower().replace("_", "-") in ("utf-8", "utf8") else charset)
    except UnicodeDecodeError as exc:
        raise NodeError(f"the answer is not {charset.upper()} text (byte 0x{content[exc.start]:02x} at position "
                        f"{exc.start} does not decode), so it cannot be read as {why}; a binary answer cannot "
                        f"be used here", code="HTTP_BAD_RESPONSE") from None


def _records(data: Any, path: str | None) -> list:
    """The list of records in a JSON answer: at ``path``, or the answer itself, or an object's only list."""
    if path:
        for key in path.split("."):
            if isinstance(data, dict) and key in data:
                data = data[key]
            elif isinstance(data, list) and key.lstrip("-").isdigit() and -len(data) <= int(key) < len(data):
                data = data[int(key)]
            else:
                raise NodeError(f"records_path '{path}': the answer has no '{key}' there", code="HTTP_BAD_RESPONSE",
                                field="records_path")
    elif isinstance(data, dict):
        lists = [key for key, value in data.items() if isinstance(value, list)]
        if len(lists) != 1:
            raise NodeError(f"the answer is a JSON object with {len(lists) or 'no'} lists"
                            f"{' (' + ', '.join(lists[:10]) + ')' if lists else ''}: name the records with "
                            f"records_path", code="HTTP_BAD_RESPONSE", field="records_path")
        data = data[lists[0]]
    if not isinstance(data, list):
        raise NodeError(f"the records are a JSON {type(data).__name__}, not a list: response_as table needs a list "
                        f"of records", code="HTTP_BAD_RESPONSE", field="records_path")
    return data


def _table(records: list) -> pd.DataFrame:
    """Records as a table: nested objects become dotted columns; lists, and columns of mixed types, become text."""
    if all(isinstance(r, dict) for r in records):
        frame = pd.json_normalize(records) if records else pd.DataFrame()
    elif not any(isinstance(r, (dict, list)) for r in records):
        frame = pd.DataFrame({"value": records})
    else:
        raise NodeError("the records mix objects with other values: response_as table needs a list of JSON objects "
                        "(or of plain values)", code="HTTP_BAD_RESPONSE")
    for column in frame.columns[frame.dtypes == object]:
        kinds = {type(v) for v in frame[column] if v is not None and v == v}
        if kinds - {str} and (len(kinds) > 1 or kinds & {list, dict}):
            frame[column] = frame[column].map(lambda v: v if v is None or v != v or isinstance(v, str)
                                              else json.dumps(v) if isinstance(v, (list, dict)) else str(v))
    return frame


@node(category="general", cache_salt=always_run)
def http_request(params: HttpRequestParams, ctx: NodeContext, values: Json = None) -> HttpResponse:
    """Call an HTTP API (templates fill in upstream values) and output its answer as JSON, text or a table."""
    if ctx.sample_rows and params.method != "GET":
        raise NodeError(f"http_request does not send a {params.method} while previewing a sample: run the workflow",
                        code="PREVIEW_ONLY")
    names = {"values": values.value} if values is not None else {}
    url, secret = _target(params, render_text(params.url, names, "url"), ctx)
    url = url.copy_merge_params(render_value(params.query, names, "query")) if params.query else url
    headers = {name: render_text(value, names, f"headers[{name}]") for name, value in params.headers.items()}
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise NodeError(f"headers[{name}] holds a line break once filled in; a header value is one line",
                            code="INVALID_PARAMETER", field="headers")
    body = {}
    if params.json_body is not None:
        body["json"] = render_value(params.json_body, names, "json_body")
    elif params.form_body is not None:
        body["data"] = render_value(params.form_body, names, "form_body")
    try:
        response, content = send(params, url, headers, secret, body, ctx)
        return _answer(params, response, content, ctx, Secrets(secret).hide)
    except NodeError as exc:  # an answer may repeat what was sent, the secret headers too
        exc.message = Secrets(secret).hide(exc.message)
        exc.args = (exc.message,)
        raise


def _answer(params: HttpRequestParams, response: httpx.Response, content: bytes, ctx: NodeContext,
            hide) -> HttpResponse:
    """The outputs an answer makes; a node error when it is an HTTP error or not what ``response_as`` reads.

    Excerpts in messages are cut after ``hide`` removed secrets, so no secret is shown cut in half.
    """
    if not response.is_success:
        excerpt = hide(content.decode("utf-8", "replace"))[:EXCERPT_CHARS]
        raise NodeError(f"{params.method} {shown(response.url)} answered {response.status_code} "
                        f"{response.reason_phrase}: {excerpt.strip() or '(empty body)'}", code="HTTP_ERROR",
                        field="url")
    text = _decode(response, content, "text" if params.response_as == "text" else "JSON")
    if params.response_as == "text":
        return HttpResponse(Json(None), Text(text), Dataset(pd.DataFrame()))
    try:
        data = json.loads(text) if text.strip() else None
    except json.JSONDecodeError as exc:
        kind = response.headers.get("content-type", "no content type")
        raise NodeError(f"the answer is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}; content "
                        f"type {kind[:80]}); it starts with: {hide(text)[:120]!r}. Use response_as text to read it as "
                        f"text", code="HTTP_BAD_RESPONSE", field="response_as") from None
    if params.response_as == "json":
        return HttpResponse(Json(data), Text(text), Dataset(pd.DataFrame()))
    frame = _table(_records(data, params.records_path))
    if frame.empty:
        ctx.warn("EMPTY_RESPONSE", "the answer holds no records: the table is empty")
    return HttpResponse(Json(data), Text(text), Dataset(frame))
