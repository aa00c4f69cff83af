"""http_request against a real HTTP server started by the test: answers, templates, retries, limits, the SSRF guard."""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from urllib.parse import parse_qs, urlsplit

import pytest

from flowza_core.errors import NodeError
from flowza_core.settings import get_settings
from nodes.base import REGISTRY, NodeContext
from nodes.catalog import discover
from nodes.http_guard import refusal
from nodes.ports import Json

discover()
SECRET = "Bearer s3cr3t-t0ken-planted"


class Api(BaseHTTPRequestHandler):
    """Routes by path; every request is recorded on the server as (method, path, headers, body)."""

    def log_message(self, *args):
        pass

    def _answer(self, status=200, body=b"", content_type="application/json", headers=()):
        body = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(url.query).items()}
        server = self.server
        server.seen.append({"method": self.command, "path": url.path, "query": query,
                            "headers": dict(self.headers), "body": body})
        hits = sum(1 for s in server.seen if s["path"] == url.path)
        route = url.path
        if route == "/json":
            self._answer(body={"items": [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}], "total": 2})
        elif route == "/echo":
            self._answer(body={"method": self.command, "query": query, "body": body,
                               "content_type": self.headers.get("Content-Type")})
        elif route == "/echo-records":
            self._answer(body=[json.loads(body)] if body else [])
        elif route == "/text":
            self._answer(body="hello, world\n".encode(), content_type="text/plain")
        elif route == "/nested":
            self._answer(body={"data": {"items": [{"id": 1, "user": {"name": "ada"}, "tags": ["x", "y"]},
                                                  {"id": "two", "user": {"name": "bob"}, "tags": []}]}, "links": [], "warnings": []})
        elif route == "/flaky":
            fails = int(query.get("fails", 2))
            self._answer(503, {"error": "busy"}) if hits <= fails else self._answer(body={"ok": True, "hits": hits})
        elif route == "/limited":
            if hits == 1:
                self._answer(429, {"error": "slow down"}, headers=[("Retry-After", "1")])
            else:
                self._answer(body={"ok": True})
        elif route == "/slow":
            time.sleep(3)
            self._answer(body={"late": True})
        elif route == "/drip":  # a byte at a time: each read is quick, the whole answer is not
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        elif route == "/big":
            self._answer(body=b"[" + b"1," * 1_000_000 + b"1]")
        elif route == "/big-chunked":  # no Content-Length: the limit holds while streaming
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"1" * 10_000)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif route == "/latin1":
            self._answer(body="café".encode("latin-1"), content_type=query.get("type", "text/plain"))
        elif route == "/not-found":
            self._answer(404, {"error": "no such thing", "you_sent": self.headers.get("Authorization")})
        elif route == "/redirect":
            self._answer(int(query.get("status", 302)), b"", headers=[("Location", query["to"])])
        elif route == "/loop":
            self._answer(302, b"", headers=[("Location", "/loop")])
        else:
            self._answer(404, {"error": f"unknown route {route}"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@contextmanager
def serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.daemon_threads = True
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server, path=""):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
def api():
    with serve() as server:
        yield server


@pytest.fixture
def other_api():
    with serve() as server:
        yield server


def allow_private(monkeypatch, allowed: bool):
    monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true" if allowed else "false")
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def private_allowed(monkeypatch):
    """The test server is on 127.0.0.1: most tests allow private addresses; guard tests turn it off again."""
    allow_private(monkeypatch, True)
    yield
    get_settings.cache_clear()


def request(values=None, connections=None, **params):
    """Run http_request as the engine does; returns its outputs by port."""
    defn = REGISTRY["http_request"]
    ctx = NodeContext(node_id="call", connections=connections)
    return defn.run({"values": Json(values)} if values is not None else {}, defn.params_model(**params), ctx)


def failure(**kwargs) -> NodeError:
    with pytest.raises(NodeError) as caught:
        request(**kwargs)
    return caught.value


# --- answers -----------------------------------------------------------------------------------------------------

def test_get_json(api):
    out = request(url=url_of(api, "/json"))
    assert out["json"].value["items"][0] == {"id": 1, "name": "ada"}
    assert json.loads(out["text"].value) == out["json"].value
    assert out["table"].frame.empty
    assert api.seen[0]["method"] == "GET"


def test_query_and_form_body(api):
    out = request(method="POST", url=url_of(api, "/echo?a=1"), query={"q": "{{ values.term }}", "n": 3},
                  form_body={"name": "{{ values.term }}", "x": "1"}, values={"term": "café & co"})
    assert out["json"].value["query"] == {"a": "1", "q": "café & co", "n": "3"}
    assert out["json"].value["content_type"] == "application/x-www-form-urlencoded"
    assert parse_qs(out["json"].value["body"]) == {"name": ["café & co"], "x": ["1"]}


def test_post_json_body_filled_from_values(api):
    values = {"user": {"id": 7, "tags": ["a", "b"]}, "items": [{"name": "first"}], "note": "{{ 7*7 }}"}
    out = request(method="POST", url=url_of(api, "/echo"), values=values,
                  headers={"X-User": "{{ values.user.id }}"},
                  json_body={"id": "{{ values.user.id }}", "tags": "{{ values.user.tags }}",
                             "label": "user {{ values.user.id }}: {{ values.items[0].name }}",
                             "note": "{{ values.note }}", "fixed": [1, None, True]})
    sent = json.loads(out["json"].value["body"])
    assert sent == {"id": 7, "tags": ["a", "b"], "label": "user 7: first", "note": "{{ 7*7 }}",
                    "fixed": [1, None, True]}  # values are data: the text in them is not a template
    assert api.seen[0]["headers"]["X-User"] == "7"
    assert out["json"].value["content_type"] == "application/json"


def test_text(api):
    out = request(url=url_of(api, "/text"), response_as="text")
    assert out["text"].value == "hello, world\n"
    assert out["json"].value is None


def test_table_from_the_only_list_and_from_a_records_path(api):
    frame = request(url=url_of(api, "/json"), response_as="table")["table"].frame
    assert list(frame["name"]) == ["ada", "bob"]

    nested = request(url=url_of(api, "/nested"), response_as="table", records_path="data.items")["table"].frame
    assert sorted(nested.columns) == ["id", "tags", "user.name"]
    assert list(nested["user.name"]) == ["ada", "bob"]
    assert list(nested["id"]) == ["1", "two"]  # mixed types become text, which every table store keeps
    assert list(nested["tags"]) == ['["x", "y"]', "[]"]

    error = failure(url=url_of(api, "/nested"), response_as="table")
    assert "name the records with records_path" in error.message and error.field == "records_path"
    error = failure(url=url_of(api, "/nested"), response_as="table", records_path="data.nope")
    assert "records_path 'data.nope'" in error.message


# --- retries, timeouts, limits -------------------------------------------------------------------------------------

def test_retries_a_503_then_succeeds(api):
    out = request(url=url_of(api, "/flaky?fails=2"), retries=2)
    assert out["json"].value == {"ok": True, "hits": 3}


def test_gives_up_after_retries_with_the_status(api):
    error = failure(url=url_of(api, "/flaky?fails=5"), retries=1)
    assert error.code == "HTTP_ERROR" and "503" in error.message and "busy" in error.message
    assert len(api.seen) == 2


def test_429_waits_for_retry_after(api):
    started = time.monotonic()
    out = request(url=url_of(api, "/limited"), retries=1)
    assert out["json"].value == {"ok": True}
    assert time.monotonic() - started >= 1.0


def test_4xx_is_not_retried_and_shows_an_excerpt(api):
    error = failure(url=url_of(api, "/not-found"), retries=3)
    assert error.code == "HTTP_ERROR" and "404" in error.message and "no such thing" in error.message
    assert len(api.seen) == 1


def test_timeout(api):
    started = time.monotonic()
    error = failure(url=url_of(api, "/slow"), timeout_s=0.5, retries=0)
    assert error.code == "HTTP_TIMEOUT" and "timed out after 0.5 s" in error.message
    assert time.monotonic() - started < 2.5


def test_a_slow_drip_is_cut_at_the_timeout(api):
    error = failure(url=url_of(api, "/drip"), timeout_s=1, retries=0, response_as="text")
    assert error.code == "HTTP_TIMEOUT"


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_too_large(api, path):
    error = failure(url=url_of(api, path), max_bytes=1_000_000)
    assert error.code == "DATASET_TOO_LARGE" and "max_bytes (1,000,000 bytes)" in error.message


def test_non_utf8_body(api):
    for response_as in ("text", "json"):
        error = failure(url=url_of(api, "/latin1"), response_as=response_as)
        assert error.code == "HTTP_BAD_RESPONSE" and "not UTF-8 text" in error.message and "0xe9" in error.message
    declared = request(url=url_of(api, "/latin1?type=text/plain;charset=latin-1"), response_as="text")
    assert declared["text"].value == "café"


def test_invalid_json(api):
    error = failure(url=url_of(api, "/text"))
    assert error.code == "HTTP_BAD_RESPONSE" and "not JSON" in error.message and "hello, world" in error.message


# --- redirects -----------------------------------------------------------------------------------------------------

def test_follows_redirects_to_another_server(api, other_api):
    out = request(url=url_of(api, f"/redirect?to={url_of(other_api, '/json')}"))
    assert out["json"].value["total"] == 2
    assert [s["path"] for s in other_api.seen] == ["/json"]


def test_303_after_post_turns_into_get(api):
    out = request(method="POST", url=url_of(api, "/redirect?status=303&to=/echo"), json_body={"a": 1})
    assert out["json"].value["method"] == "GET" and out["json"].value["body"] == ""


def test_redirect_loops_stop(api):
    error = failure(url=url_of(api, "/loop"))
    assert error.code == "HTTP_TOO_MANY_REDIRECTS"
    assert len(api.seen) == 6


def test_redirect_to_another_scheme_is_refused(api):
    error = failure(url=url_of(api, "/redirect?to=file:///etc/passwd"))
    assert error.code == "HTTP_TARGET_REFUSED" and "file" in error.message


# --- the SSRF guard -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1",
    "fec0::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "64:ff9b::7f00:1",
    "2002:7f00:1::", "2002:a9fe:a9fe::"])
def test_non_public_addresses_are_refused(address):
    assert refusal(ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2002:5db8:d822::"])
def test_public_addresses_pass(address):
    assert refusal(ip_address(address)) is None


def test_metadata_and_mapped_forms_say_why():
    assert "link-local" in refusal(ip_address("169.254.169.254"))
    assert refusal(ip_address("::ffff:127.0.0.1")) == "a loopback address, written as an IPv6 address"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "2130706433", "0x7f.1",
                                  "10.0.0.1", "169.254.169.254", "[::ffff:127.0.0.1]"])
def test_guard_refuses_non_public_targets(api, monkeypatch, host):
    allow_private(monkeypatch, False)
    port = api.server_address[1]
    error = failure(url=f"http://{host}:{port}/json", timeout_s=2, retries=0)
    assert error.code == "HTTP_TARGET_REFUSED" and "FLOWZA_HTTP_ALLOW_PRIVATE" in error.message
    assert api.seen == []


def test_redirect_to_loopback_is_refused_at_the_hop(api, other_api, monkeypatch):
    """The first server stands for a public one: the guard turns on while it answers, so only the hop meets it."""
    class TurnsGuardOn(Api):
        def _handle(self):
            allow_private(monkeypatch, False)
            self._answer(302, b"", headers=[("Location", url_of(other_api, "/json"))])

        do_GET = _handle

    api.RequestHandlerClass = TurnsGuardOn
    error = failure(url=url_of(api, "/start"), retries=0)
    assert error.code == "HTTP_TARGET_REFUSED" and "loopback" in error.message
    assert other_api.seen == []


# --- templates ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("template, says", [
    ("{{ values.__class__ }}", "no field '__class__'"),
    ("{{ ''.__class__.__mro__ }}", "refused"),
    ("{{ values.id.__class__.__base__.__subclasses__() }}", "refused"),
    ("{{ values.items() }}", "refused"),
    ("{{ cycler.__init__.__globals__ }}", "'cycler' is undefined"),
    ("{{ self.__init__ }}", "refused"),
    ("{{ values|attr('__class__') }}", "No filter named 'attr'"),
    ("{{ 'x' * 100000000 }}", "refused"),
    ("{{ values.missing }}", "no field 'missing'"),
    ("{{ values.list[5] }}", "no item [5]"),
])
def test_template_injection_is_refused_not_run(api, template, says):
    error = failure(method="POST", url=url_of(api, "/echo"), json_body={"x": f"a {template}"},
                    values={"id": 1, "list": [1]})
    assert error.code == "TEMPLATE_ERROR" and says in error.message and error.field == "json_body"
    assert api.seen == []


def test_a_template_needs_the_values_input(api):
    error = failure(url=url_of(api, "/echo?id={{ values.id }}"))
    assert error.code == "TEMPLATE_ERROR" and "connect a node's json output to the 'values' input" in error.message


def test_a_header_cannot_be_split_by_a_value(api):
    error = failure(url=url_of(api, "/echo"), headers={"X-Id": "{{ values.id }}"},
                    values={"id": "1\r\nX-Admin: yes"})
    assert error.code == "INVALID_PARAMETER" and "line break" in error.message
    assert api.seen == []


# --- connections ----------------------------------------------------------------------------------------------------

def test_connection_headers_and_base_url_and_secrets_stay_hidden(api, other_api, caplog):
    caplog.set_level(logging.DEBUG)
    connections = {"svc": {"kind": "http", "base_url": url_of(api, "/"), "headers": {"Authorization": SECRET}},
                   "db": {"kind": "postgresql", "url": "postgresql://u:p@h/d"}}

    def connection(name):
        return connections[name]

    out = request(url="json", connection="svc", connections=connection)
    assert out["json"].value["total"] == 2 and api.seen[-1]["headers"]["Authorization"] == SECRET

    error = failure(url="not-found", connection="svc", connections=connection, retries=0)
    assert error.code == "HTTP_ERROR" and "you_sent" in error.message and SECRET.split()[1] not in error.message

    # a redirect to another origin does not take the secret along
    request(url=f"redirect?to={url_of(other_api, '/json')}", connection="svc", connections=connection)
    assert "Authorization" not in other_api.seen[-1]["headers"]

    error = failure(url=url_of(other_api, "/json"), connection="svc", connections=connection)
    assert error.code == "INVALID_URL" and "base_url" in error.message
    error = failure(url="x", connection="db", connections=connection)
    assert error.code == "CONNECTION_KIND"
    assert SECRET.split()[1] not in caplog.text


# --- through the engine -------------------------------------------------------------------------------------------

def test_in_a_workflow_values_flow_from_one_request_into_the_next(api, flowza_env, prefect_api_url):
    from flows.engine import execute

    workflow = {"name": "http chain", "nodes": [
        {"id": "list", "type": "http_request", "parameters": {"url": url_of(api, "/json")}},
        {"id": "post", "type": "http_request", "parameters": {
            "method": "POST", "url": url_of(api, "/echo-records"), "response_as": "table",
            "json_body": {"first": "{{ values.items[0].name }}", "count": "{{ values.total }}"}}},
        {"id": "trim", "type": "drop_columns", "parameters": {"columns": ["count"]}},
    ], "connections": [{"source": "list", "target": "post", "sourceHandle": "json", "targetHandle": "values"},
                       {"source": "post", "target": "trim", "sourceHandle": "table"}]}

    record = execute(workflow)
    assert record["status"] == "completed", record
    assert json.loads(api.seen[-1]["body"]) == {"first": "ada", "count": 2}
    assert record["nodes"]["trim"]["outputs"]["dataset"]["columns"] == ["first"]

    again = execute(workflow)  # an API's answer is never reused from the cache
    assert again["status"] == "completed" and len(api.seen) == 4
