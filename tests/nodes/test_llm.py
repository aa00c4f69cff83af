"""llm_call against a local OpenAI-compatible server started by the test: what it sends, text and JSON answers,
schema checks and one repair, a server that is down, slow or refusing, a missing connection, and the API key
kept out of every message."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from pydantic import ValidationError

from flowza_core.errors import NodeError
from nodes.catalog import discover
from nodes.ports import Dataset, Json, Text
from tests.conftest import free_port

API_KEY = "sk-pl4nted-LLM-k3y-5150"
SCHEMA = {"type": "object", "required": ["answer", "confidence"], "additionalProperties": False,
          "properties": {"answer": {"type": "string"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}


def completion(content: str, finish_reason: str = "stop") -> dict:
    return {"id": "chatcmpl-test", "object": "chat.completion", "model": "canned",
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


class CannedChat:
    """POST /v1/chat/completions answering the queued replies in order, each a content string or
    ``(status, body)`` or ``("sleep", seconds, content)``; every request is kept."""

    def __init__(self, *replies):
        self.replies, self.requests = list(replies), []
        chat = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                chat.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                reply = chat.replies.pop(0) if chat.replies else (500, "no canned reply left")
                status, content = (200, completion(reply)) if isinstance(reply, str) else reply[:2]
                if status == "sleep":
                    time.sleep(content)
                    status, content = 200, completion(reply[2])
                data = (json.dumps(content) if isinstance(content, dict) else content).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def connection(self, **overrides) -> dict:
        return {"kind": "openai", "base_url": self.base_url, "model": "canned-model", "api_key": API_KEY} | overrides

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ask(run_node):
    """``ask(chat, inputs, connection=…, **params)``: run llm_call with connection ``llm`` (default: ``chat``'s)."""
    def run(chat: CannedChat | None, inputs: dict | None = None, *, connection: dict | None = None, **params):
        conn = connection if connection is not None else chat.connection()
        params.setdefault("connection", "llm")
        return run_node("llm_call", inputs or {}, connections={"llm": conn}, **params)

    return run


def failure(ask, chat, inputs=None, **params) -> NodeError:
    with pytest.raises(NodeError) as raised:
        ask(chat, inputs, **params)
    assert API_KEY not in raised.value.message
    return raised.value


def test_sends_the_filled_template_model_temperature_tokens_and_key(ask):
    with CannedChat("Paris.") as chat:
        out = ask(chat, {"values": Json({"question": "Capital of France?", "passages": ["Paris is the capital."]})},
                  prompt="Answer from these passages: {{ values.passages }} Question: {{ values.question }}",
                  system="You answer in {{ values.question | length }} characters or fewer.",
                  temperature=0.7, max_tokens=64)
    assert out["text"] == Text("Paris.") and out["json"] == Json(None)
    [sent] = chat.requests
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == f"Bearer {API_KEY}"
    assert sent["body"]["model"] == "canned-model"
    assert sent["body"]["temperature"] == 0.7 and sent["body"]["max_tokens"] == 64
    assert sent["body"]["messages"] == [
        {"role": "system", "content": "You answer in 18 characters or fewer."},
        {"role": "user", "content": 'Answer from these passages: ["Paris is the capital."] Question: Capital of '
                                    'France?'}]


def test_the_node_model_overrides_the_connection_and_a_keyless_server_gets_no_header(ask):
    with CannedChat("ok") as chat:
        ask(chat, connection={"kind": "openai", "base_url": chat.base_url, "model": "m1"}, prompt="hi", model="m2")
    assert chat.requests[0]["body"]["model"] == "m2" and chat.requests[0]["auth"] is None


def test_a_dataset_is_given_to_the_template_as_capped_records():
    frame = pd.DataFrame({"city": ["Paris", "Rome", "Oslo"], "people": [2.1, None, 0.7],
                          "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])})
    with CannedChat("fine") as chat:
        defn = discover()["llm_call"]
        from nodes.base import NodeContext

        ctx = NodeContext(node_id="llm", connections={"llm": chat.connection()}.__getitem__)
        defn.run({"dataset": Dataset(frame)}, defn.params_model(connection="llm", max_rows=2,
                                                                 prompt="{{ rows | tojson }} / {{ rows[1].city }}"),
                 ctx)
    content = chat.requests[0]["body"]["messages"][0]["content"]
    records, last = content.split(" / ")
    assert last == "Rome"
    assert json.loads(records) == [{"city": "Paris", "people": 2.1, "when": "2024-01-01T00:00:00.000"},
                                   {"city": "Rome", "people": None, "when": "2024-01-02T00:00:00.000"}]
    assert ctx.warnings[0]["code"] == "ROWS_CAPPED" and ctx.warnings[0]["fix"] == {"max_rows": 3}


def test_a_json_answer_in_a_fenced_block_is_checked_against_the_schema(ask):
    with CannedChat('Here you are:\n```json\n{"answer": "Paris", "confidence": 0.9}\n```') as chat:
        out = ask(chat, prompt="Capital of France?", output="json", json_schema=SCHEMA)
    assert out["json"] == Json({"answer": "Paris", "confidence": 0.9})
    assert "```json" in out["text"].value
    system = chat.requests[0]["body"]["messages"][0]
    assert system["role"] == "system" and "Answer with JSON only" in system["content"]
    assert json.dumps(SCHEMA) in system["content"]


def test_an_answer_off_the_schema_is_sent_back_once_with_what_is_wrong(ask):
    bad = '{"answer": "Paris", "confidence": 7}'
    with CannedChat(bad, '{"answer": "Paris", "confidence": 0.7}') as chat:
        out = ask(chat, prompt="Capital?", output="json", json_schema=SCHEMA)
    assert out["json"].value == {"answer": "Paris", "confidence": 0.7}
    second = chat.requests[1]["body"]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == bad
    assert "confidence: 7 is greater than the maximum of 1" in second[3]["content"]


def test_an_answer_still_off_the_schema_is_a_node_error_naming_each_problem(ask):
    with CannedChat('{"answer": 3}', '{"answer": 3, "extra": true}') as chat:
        error = failure(ask, chat, prompt="Capital?", output="json", json_schema=SCHEMA)
    assert error.code == "LLM_BAD_ANSWER" and error.field == "json_schema"
    assert "after one repair" in error.message
    assert "answer: 3 is not of type 'string'" in error.message
    assert "'confidence' is a required property" in error.message
    assert "Additional properties are not allowed ('extra' was unexpected)" in error.message


def test_without_repair_a_non_json_answer_fails_at_once(ask):
    with CannedChat("The capital of France is Paris.") as chat:
        error = failure(ask, chat, prompt="Capital?", output="json", repair=False)
    assert len(chat.requests) == 1
    assert error.code == "LLM_BAD_ANSWER" and error.field == "output"
    assert "the answer is not JSON (Expecting value at line 1, column 1)" in error.message
    assert "The capital of France" in error.message  # the start of the answer, to see what went wrong


def test_a_json_answer_cut_at_max_tokens_says_to_raise_it(ask):
    cut = completion('{"answer": "Par', finish_reason="length")
    with CannedChat((200, cut), (200, cut)) as chat:
        error = failure(ask, chat, prompt="Capital?", output="json", max_tokens=5)
    assert error.field == "max_tokens" and "raise max_tokens" in error.message


def test_a_schema_needs_json_output_and_must_be_a_schema():
    model = discover()["llm_call"].params_model
    with pytest.raises(ValidationError, match="set output to json"):
        model(connection="llm", prompt="x", json_schema=SCHEMA)
    with pytest.raises(ValidationError, match="not a valid JSON Schema at type"):
        model(connection="llm", prompt="x", output="json", json_schema={"type": "strnig"})


def test_an_endpoint_that_is_down_is_a_clear_error(ask):
    down = f"http://127.0.0.1:{free_port()}/v1"
    error = failure(ask, None, connection={"kind": "openai", "base_url": down, "model": "m", "api_key": API_KEY},
                    prompt="hi")
    assert error.code == "LLM_UNAVAILABLE" and error.field == "connection"
    assert f"cannot reach the LLM endpoint ({down}/chat/completions)" in error.message
    assert "check connection 'llm''s base_url" in error.message


def test_a_slow_endpoint_times_out(ask):
    with CannedChat(("sleep", 1, "late")) as chat:
        error = failure(ask, chat, prompt="hi", timeout_s=0.3)
    assert error.code == "LLM_TIMEOUT" and error.field == "timeout_s"
    assert "did not answer within 0.3 s: raise timeout_s" in error.message


def test_a_refused_key_says_to_check_it_without_showing_it(ask):
    with CannedChat((401, {"error": {"message": f"Incorrect API key provided: {API_KEY}"}})) as chat:
        error = failure(ask, chat, prompt="hi")
    assert error.code == "LLM_UNAUTHORIZED"
    assert "refused the request (HTTP 401): check connection 'llm''s api_key" in error.message


def test_a_server_error_is_shown_with_its_excerpt_and_the_key_hidden(ask):
    with CannedChat((500, {"error": f"model exploded; your key {API_KEY} is fine"})) as chat:
        error = failure(ask, chat, prompt="hi")
    assert error.code == "LLM_BAD_RESPONSE"
    assert "answered HTTP 500" in error.message and "model exploded; your key *** is fine" in error.message
    assert "model 'canned-model', connection 'llm'" in error.message


def test_an_answer_that_is_not_a_chat_completion(ask):
    with CannedChat((200, {"result": "Paris"})) as chat:
        error = failure(ask, chat, prompt="hi")
    assert error.code == "LLM_BAD_RESPONSE" and "OpenAI-compatible chat completion" in error.message


def test_no_connection_says_how_to_configure_one(run_node):
    with CannedChat() as chat, pytest.raises(NodeError) as raised:
        run_node("llm_call", {}, connections={"llm": chat.connection()}, prompt="hi")
    error = raised.value
    assert error.code == "LLM_NOT_CONFIGURED" and error.field == "connection"
    assert "save an openai connection" in error.message and "POST /api/connections" in error.message
    assert chat.requests == []


def test_a_connection_without_a_model_or_of_another_kind_is_refused(ask):
    with CannedChat() as chat:
        no_model = failure(ask, chat, prompt="hi", connection={"kind": "openai", "base_url": chat.base_url})
        wrong_kind = failure(ask, chat, prompt="hi", connection={"kind": "http", "headers": {"X-Key": API_KEY}})
    assert no_model.code == "LLM_NOT_CONFIGURED" and "has no model: set config.model" in no_model.message
    assert "or the node's model" in no_model.message
    assert wrong_kind.code == "CONNECTION_KIND" and "is a http connection" in wrong_kind.message
    assert chat.requests == []


def test_a_template_naming_a_missing_field_fails_before_anything_is_sent(ask):
    with CannedChat() as chat:
        missing = failure(ask, chat, {"values": Json({"question": "q"})}, prompt="{{ values.passages }}")
        unconnected = failure(ask, chat, prompt="{{ values.question }}")
        in_system = failure(ask, chat, {"values": Json({})}, prompt="hi", system="{{ values.persona }}")
    assert missing.code == "TEMPLATE_ERROR" and missing.field == "prompt"
    assert "no field 'passages'" in missing.message and "'question'" in missing.message
    assert "connect a node's json output to the 'values' input" in unconnected.message
    assert in_system.field == "system"
    assert chat.requests == []


def test_only_temperature_zero_answers_are_reused():
    from nodes.base import NodeContext

    defn = discover()["llm_call"]
    ctx = NodeContext(node_id="llm")
    assert defn.cache_salt(defn.params_model(connection="llm", prompt="x"), ctx) is None
    warm = defn.params_model(connection="llm", prompt="x", temperature=0.5)
    assert defn.cache_salt(warm, ctx) != defn.cache_salt(warm, ctx)


# --- the endpoint guard on a multi-user server ------------------------------------------------------------------

@pytest.fixture
def server_mode(monkeypatch):
    """``server_mode(auth=…, allow_private=…)``: the settings a node reads, as a server started with them has."""
    from flowza_core.settings import get_settings

    def set_mode(auth: bool, allow_private: bool = False):
        monkeypatch.setenv("FLOWZA_AUTH_ENABLED", str(auth).lower())
        monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", str(allow_private).lower())
        get_settings.cache_clear()

    yield set_mode
    get_settings.cache_clear()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_on_a_multi_user_server_a_loopback_endpoint_is_refused_before_any_request(ask, server_mode, host):
    server_mode(auth=True)
    with CannedChat("should not be asked") as chat:
        url = chat.base_url.replace("127.0.0.1", host)
        error = failure(ask, chat, connection=chat.connection(base_url=url), prompt="hi", timeout_s=5)
    assert chat.requests == []
    assert error.code == "HTTP_TARGET_REFUSED" and error.field == "connection"
    assert f"the LLM endpoint ({url}/chat/completions) may not be reached" in error.message
    assert "loopback" in error.message and "FLOWZA_HTTP_ALLOW_PRIVATE=true" in error.message
    assert "llm_call reaches only public endpoints" in error.message and "connection 'llm'" in error.message
    assert "http_request" not in error.message


def test_on_a_multi_user_server_the_metadata_service_is_refused_without_connecting(ask, server_mode):
    server_mode(auth=True)
    started = time.monotonic()
    error = failure(ask, None, prompt="hi", timeout_s=5, connection={
        "kind": "openai", "base_url": "http://169.254.169.254/latest", "model": "m", "api_key": API_KEY})
    assert time.monotonic() - started < 2  # refused at the check, not after a connection attempt timed out
    assert error.code == "HTTP_TARGET_REFUSED"
    assert "(http://169.254.169.254/latest/chat/completions)" in error.message
    assert "link-local" in error.message and "FLOWZA_HTTP_ALLOW_PRIVATE" in error.message


def test_on_a_multi_user_server_allow_private_lets_a_local_model_server_answer(ask, server_mode):
    server_mode(auth=True, allow_private=True)
    with CannedChat("local answer") as chat:
        out = ask(chat, prompt="hi")
    assert out["text"] == Text("local answer")
    assert len(chat.requests) == 1 and chat.requests[0]["auth"] == f"Bearer {API_KEY}"


def test_in_single_user_mode_a_loopback_endpoint_answers(ask, server_mode):
    from flowza_core.settings import get_settings

    server_mode(auth=False)
    assert not get_settings().auth_enabled and not get_settings().http_allow_private
    with CannedChat("as before") as chat:
        assert ask(chat, prompt="hi")["text"] == Text("as before")
    assert len(chat.requests) == 1


def test_the_servers_own_llm_is_not_guarded_on_a_multi_user_server(server_mode, monkeypatch):
    """FLOWZA_LLM_BASE_URL is the operator's choice (the workflow generator's model), not a user's."""
    from flows.generate.llm import ask as generator_asks
    from flows.generate.llm import endpoint_of
    from flowza_core.settings import get_settings

    with CannedChat("a plan") as chat:
        monkeypatch.setenv("FLOWZA_LLM_BASE_URL", chat.base_url)
        monkeypatch.setenv("FLOWZA_LLM_MODEL", "canned-model")
        server_mode(auth=True)
        assert generator_asks(endpoint_of(get_settings()), [{"role": "user", "content": "plan"}]) == "a plan"
    assert len(chat.requests) == 1


@pytest.mark.usefixtures("prefect_api_url")
def test_through_the_engine_with_a_saved_connection(flowza_env, caplog):
    """sample_dataset -> llm_call (rows in, JSON out) -> llm_call (values in, text out), with a saved openai
    connection on this machine's loopback; run again, the temperature-0 answers are reused."""
    import logging

    import metadata_db as db
    from metadata_db import connections as connection_rows
    from flows.engine import execute
    from flowza_core.settings import get_settings

    workflow = {"name": "ask twice", "nodes": [
        {"id": "iris", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "extract", "type": "llm_call", "parameters": {
            "connection": "llm", "output": "json", "json_schema": SCHEMA, "max_rows": 3,
            "prompt": "Which species is first in {{ rows | tojson }}?"}},
        {"id": "answer", "type": "llm_call", "parameters": {
            "connection": "llm", "prompt": "Say: {{ values.answer }} ({{ values.confidence }})"}}],
        "connections": [{"source": "iris", "target": "extract", "targetHandle": "dataset"},
                        {"source": "extract", "sourceHandle": "json", "target": "answer", "targetHandle": "values"}]}
    caplog.set_level(logging.DEBUG)
    with CannedChat('{"answer": "setosa", "confidence": 1}', "It is setosa (1).") as chat:
        url = get_settings().metadata_db_url
        db.upgrade(url)
        with db.session_factory(url).begin() as session:
            connection_rows.create_connection(session, None, "llm", "openai",
                                              {"base_url": chat.base_url, "model": "canned-model"},
                                              {"api_key": API_KEY})
        record = execute(workflow)
        again = execute(workflow)
    assert record["status"] == "completed", record
    assert len(chat.requests) == 2, "the second run reuses both answers"
    assert again["status"] == "completed" and again["nodes"]["answer"]["cached"]
    first, second = (r["body"]["messages"][-1]["content"] for r in chat.requests)
    rows = json.loads(first.removeprefix("Which species is first in ").removesuffix("?"))
    assert len(rows) == 3 and rows[0] == {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5,
                                          "petal length (cm)": 1.4, "petal width (cm)": 0.2, "target": 0}
    assert second == "Say: setosa (1)"
    assert {r["auth"] for r in chat.requests} == {f"Bearer {API_KEY}"}
    assert record["nodes"]["extract"]["warnings"][0]["code"] == "ROWS_CAPPED"
    stored = "\n".join(p.read_bytes().decode("utf-8", "replace")
                       for p in (flowza_env["home"] / "store").rglob("*") if p.is_file())
    assert '"value": "It is setosa (1)."' in stored
    for where in (json.dumps(record), json.dumps(again), stored, caplog.text):
        assert API_KEY not in where
