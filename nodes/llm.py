"""llm_call: ask an OpenAI-compatible chat model, with a prompt filled from upstream values; text or checked JSON.

The endpoint, model and API key come from a named ``openai`` connection; no redirect is followed. In single-user
mode the endpoint may be anywhere: a model server on localhost or the LAN (Ollama, vLLM) is the usual setup. On a
multi-user server it is held to http_request's public-hosts rule (``nodes.http_guard``, lifted by
FLOWZA_HTTP_ALLOW_PRIVATE), as the S3 nodes' endpoints are: a user's connection must not reach the server's
loopback, LAN or cloud metadata service, whose answers would come back in error excerpts.
Templates are ``nodes.templating``'s sandbox, reading ``values`` (the Json input) and ``rows`` (the dataset's
first records). A JSON answer is checked against the node's JSON Schema and, once, sent back to be fixed.
At temperature 0 an answer is reused while the prompt, inputs and connection are unchanged; above 0 never.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, NamedTuple

import jsonschema
from pydantic import Field, field_validator, model_validator

from flowza_core.errors import NodeError
from flowza_core.settings import get_settings
from nodes.base import CONNECTION_NAME, NodeContext, Params, always_run, node
from nodes.openai_chat import (ChatEndpoint, ChatFailed, ChatRefused, ChatTargetRefused, ChatTimeout, ChatUnreachable,
                               Completion)
from nodes.ports import Dataset, Json, Text
from nodes.templating import render_text

FENCED = re.compile(r"```[ \t]*(?:json)?[ \t]*\n?(.*?)```", re.DOTALL | re.IGNORECASE)
EXCERPT_CHARS = 300
HOW_TO_CONNECT = ("save an openai connection (POST /api/connections {\"name\": \"llm\", \"kind\": \"openai\", "
                  "\"config\": {\"base_url\": \"https://…/v1\", \"model\": \"…\"}, \"secret\": {\"api_key\": \"…\"}}, "
                  "or `flowza connections add llm --kind openai --config base_url=… --config model=… "
                  "--secret api_key=…`)")


class LlmCallParams(Params):
    connection: str | None = Field(None, pattern=CONNECTION_NAME, title="Connection",
                                   description="Name of an openai connection: the endpoint, model and API key.",
                                   json_schema_extra={"connection_kind": "openai"})
    prompt: str = Field(..., min_length=1, max_length=100_000, title="Prompt",
                        description="What to ask; {{ values.question }} reads the values input, {{ rows }} the "
                                    "dataset's records.", json_schema_extra={"multiline": True})
    system: str | None = Field(None, max_length=100_000, title="System message",
                               description="Instructions given before the prompt; a template too.",
                               json_schema_extra={"multiline": True})
    model: str | None = Field(None, min_length=1, max_length=200, title="Model",
                              description="Overrides the connection's model.")
    temperature: float = Field(0, ge=0, le=2, title="Temperature",
                               description="0: the most likely answer (reused while nothing changes); higher: more "
                                           "varied answers (asked anew each run).")
    max_tokens: int = Field(512, ge=1, le=128_000, title="Largest answer (tokens)")
    output: Literal["text", "json"] = Field("text", title="Output",
                                            description="text: the answer as it is; json: the answer parsed as JSON "
                                                        "(a ```json block is accepted) on the json output.")
    json_schema: dict[str, Any] | None = Field(None, title="JSON Schema",
                                               description="With output json: the answer must fit this JSON Schema.")
    repair: bool = Field(True, title="Ask once to fix a bad JSON answer",
                         description="Send an answer that is not JSON, or does not fit the schema, back to the model "
                                     "once with what is wrong.", json_schema_extra={"advanced": True})
    max_rows: int = Field(50, ge=1, le=10_000, title="Rows given to the template",
                          description="The dataset input's first rows, as {{ rows }}.",
                          json_schema_extra={"advanced": True})
    timeout_s: float = Field(60, gt=0, le=600, title="Timeout (s)", json_schema_extra={"advanced": True})

    @field_validator("json_schema")
    @classmethod
    def _a_json_schema(cls, schema: dict | None) -> dict | None:
        if schema is not None:
            try:
                jsonschema.validators.validator_for(schema).check_schema(schema)
            except jsonschema.SchemaError as exc:
                where = "/".join(str(p) for p in exc.absolute_path) or "the top"
                raise ValueError(f"not a valid JSON Schema at {where}: {exc.message[:200]}") from None
        return schema

    @model_validator(mode="after")
    def _schema_needs_json(self):
        if self.json_schema is not None and self.output != "json":
            raise ValueError("json_schema checks a JSON answer: set output to json, or clear json_schema")
        return self


class LlmAnswer(NamedTuple):
    text: Text  # the answer as the model wrote it
    json: Json  # the parsed answer (output json); null for text


def _reuse_at_temperature_zero(params: LlmCallParams, ctx: NodeContext) -> str | None:
    return None if params.temperature == 0 else always_run(params, ctx)


def _endpoint(params: LlmCallParams, ctx: NodeContext) -> ChatEndpoint:
    if not params.connection:
        raise NodeError(f"llm_call has no endpoint: {HOW_TO_CONNECT}, then name it in 'connection'",
                        code="LLM_NOT_CONFIGURED", field="connection")
    conn = ctx.connection(params.connection)
    if conn.get("kind") != "openai":
        raise NodeError(f"connection '{params.connection}' is a {conn.get('kind')} connection; llm_call needs an "
                        f"openai connection: {HOW_TO_CONNECT}", code="CONNECTION_KIND", field="connection")
    model = params.model or conn.get("model")
    missing = [key for key, value in (("base_url", conn.get("base_url")), ("model", model)) if not value]
    if missing:
        raise NodeError(f"connection '{params.connection}' has no {' or '.join(missing)}: set config."
                        f"{' and config.'.join(missing)} (PATCH /api/connections/{params.connection})"
                        + (" or the node's model" if missing == ["model"] else ""),
                        code="LLM_NOT_CONFIGURED", field="connection")
    return ChatEndpoint(conn["base_url"], model, conn.get("api_key"), params.timeout_s,
                        guarded=get_settings().auth_enabled)


def _ask(endpoint: ChatEndpoint, messages: list[dict], params: LlmCallParams, name: str) -> Completion:
    try:
        return endpoint.complete(messages, temperature=params.temperature, max_tokens=params.max_tokens)
    except ChatTimeout as exc:
        raise NodeError(f"{exc.message}: raise timeout_s, or check the model server", code="LLM_TIMEOUT",
                        field="timeout_s") from None
    except ChatTargetRefused as exc:
        raise NodeError(f"{exc.message}. On a multi-user server llm_call reaches only public endpoints: point "
                        f"connection '{name}''s base_url at one (PATCH /api/connections/{name})",
                        code="HTTP_TARGET_REFUSED", field="connection") from None
    except ChatUnreachable as exc:
        raise NodeError(f"{exc.message}: check connection '{name}''s base_url and that the server is up",
                        code="LLM_UNAVAILABLE", field="connection") from None
    except ChatRefused as exc:
        raise NodeError(f"{exc.message}: check connection '{name}''s api_key (PATCH /api/connections/{name})",
                        code="LLM_UNAUTHORIZED", field="connection") from None
    except ChatFailed as exc:
        raise NodeError(f"{exc.message} (model '{endpoint.model}', connection '{name}')", code="LLM_BAD_RESPONSE",
                        field="connection") from None


def _parsed(text: str, schema: dict | None) -> tuple[Any, list[str]]:
    """(value, problems): the JSON in an answer (alone or in a fenced block) and how it fails ``schema``."""
    fenced = FENCED.search(text)
    body = (fenced.group(1) if fenced else text).strip()
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        return None, [f"the answer is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"]
    if schema is None:
        return value, []
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    return value, [f"{'/'.join(map(str, e.absolute_path)) or '(the answer)'}: {e.message[:200]}" for e in errors[:10]]


def _json_instruction(schema: dict | None) -> str:
    return "Answer with JSON only" + (f", fitting this JSON Schema: {json.dumps(schema)}" if schema else "") + "."


@node(category="general", cache_salt=_reuse_at_temperature_zero)
def llm_call(params: LlmCallParams, ctx: NodeContext, values: Json = None, dataset: Dataset = None) -> LlmAnswer:
    """Ask a chat model (an OpenAI-compatible endpoint of a connection) a prompt filled from upstream values."""
    names: dict[str, Any] = {}
    if values is not None:
        names["values"] = values.value
    if dataset is not None:
        if len(dataset.frame) > params.max_rows:
            ctx.warn("ROWS_CAPPED", f"the prompt sees the first {params.max_rows} of {len(dataset.frame)} rows",
                     fix={"max_rows": min(len(dataset.frame), 10_000)})
        names["rows"] = json.loads(dataset.frame.head(params.max_rows).to_json(orient="records", date_format="iso"))
    prompt = render_text(params.prompt, names, "prompt")
    system = render_text(params.system, names, "system") if params.system else None
    endpoint = _endpoint(params, ctx)
    if params.output == "json":
        system = f"{system}\n\n{_json_instruction(params.json_schema)}" if system else \
            _json_instruction(params.json_schema)
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    answer = _ask(endpoint, messages, params, params.connection)
    cut = answer.finish_reason == "length"
    if params.output == "text":
        if cut:
            ctx.warn("ANSWER_CUT", f"the answer stopped at max_tokens ({params.max_tokens})",
                     fix={"max_tokens": min(params.max_tokens * 2, 128_000)})
        return LlmAnswer(Text(answer.text), Json(None))
    value, problems = _parsed(answer.text, params.json_schema)
    if problems and params.repair:
        ctx.logger.info("llm_call: the JSON answer was sent back to be fixed: %s", "; ".join(problems))
        messages += [{"role": "assistant", "content": answer.text},
                     {"role": "user", "content": "That answer has these problems:\n" + "\n".join(
                         f"- {p}" for p in problems) + f"\n{_json_instruction(params.json_schema)}"}]
        answer = _ask(endpoint, messages, params, params.connection)
        cut = answer.finish_reason == "length"
        value, problems = _parsed(answer.text, params.json_schema)
    if problems:
        excerpt = endpoint.hide(answer.text)[:EXCERPT_CHARS]
        raise NodeError(f"the model's answer{' (after one repair)' if params.repair else ''} is not the JSON "
                        f"asked for: {'; '.join(problems)}"
                        + (f"; it stopped at max_tokens ({params.max_tokens}): raise max_tokens" if cut else "")
                        + f". It starts: {excerpt!r}", code="LLM_BAD_ANSWER",
                        field="max_tokens" if cut else "json_schema" if params.json_schema else "output")
    return LlmAnswer(Text(answer.text), Json(value))
