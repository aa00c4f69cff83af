"""Prompt -> workflow through an OpenAI-compatible endpoint: a local HTTP server started here answers with canned
completions (a good workflow, a bad one that must be repaired, two bad ones that must be rejected, none at all)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flows.generate import generate_workflow
from flows.generate.refusals import GenerationRefused, LlmUnavailable, LlmWorkflowRejected
from flows.validation import validate_workflow
from tests.conftest import free_port


def titanic_workflow(model: str = "train_xgboost", target: str = "survived", encode: bool = True) -> dict:
    nodes = [{"id": "load", "type": "sample_dataset", "parameters": {"name": "titanic"}},
             {"id": "drop", "type": "drop_columns", "parameters": {"columns": ["alive", "deck"]}},
             {"id": "fill", "type": "impute", "parameters": {"strategy": "median", "columns": ["age"]}},
             {"id": "split", "type": "train_test_split", "parameters": {"target_column": target}},
             {"id": "train", "type": model, "parameters": {}},
             {"id": "evaluate", "type": "evaluate", "parameters": {}}]
    chain = ["load", "drop", "fill", "split"]
    if encode:
        nodes.insert(3, {"id": "encode", "type": "one_hot_encode", "parameters": {}})
        chain.insert(3, "encode")
    connections = [{"source": a, "target": b} for a, b in zip(chain, chain[1:])] + [
        {"source": "split", "sourceHandle": "train", "target": "train"},
        {"source": "train", "target": "evaluate", "targetHandle": "model"},
        {"source": "split", "sourceHandle": "test", "target": "evaluate", "targetHandle": "test"}]
    return {"name": "Titanic by the LLM", "nodes": nodes, "connections": connections}


def completion(content: str) -> dict:
    return {"id": "chatcmpl-test", "object": "chat.completion", "model": "canned",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}


def answer(workflow: dict, explanation: str = "Drops leaks, fills ages, encodes text, trains XGBoost.") -> str:
    return "```json\n" + json.dumps({"workflow": workflow, "explanation": explanation}) + "\n```"


class CannedLlm:
    """An OpenAI-compatible /v1/chat/completions answering the queued contents in order; it keeps each request."""

    def __init__(self, answers: list[str]):
        self.answers, self.requests = list(answers), []
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                llm.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                data = json.dumps(completion(llm.answers.pop(0))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def use_llm(flowza_env, monkeypatch):
    from flowza_core.settings import get_settings

    def configure(url: str):
        monkeypatch.setenv("FLOWZA_LLM_BASE_URL", url)
        monkeypatch.setenv("FLOWZA_LLM_API_KEY", "sk-test")
        monkeypatch.setenv("FLOWZA_LLM_MODEL", "canned-model")
        monkeypatch.setenv("FLOWZA_LLM_TIMEOUT_S", "5")
        get_settings.cache_clear()

    return configure


def test_a_valid_answer_is_grounded_and_offered(use_llm):
    with CannedLlm([answer(titanic_workflow())]) as llm:
        use_llm(llm.url)
        generated = generate_workflow("predict survived from titanic with xgboost, fill missing ages")
    assert len(llm.requests) == 1
    request = llm.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "canned-model"
    system, user = request["body"]["messages"]
    # The catalog's JSON Schemas and the dataset's column profile are in the question.
    assert '"train_xgboost"' in system["content"] and '"n_estimators"' in system["content"]
    assert '"survived"' in user["content"] and '"nulls": 177' in user["content"]
    workflow = generated.workflow
    assert validate_workflow(workflow)[0] is not None
    assert [n["type"] for n in workflow["nodes"]][:2] == ["sample_dataset", "drop_columns"]
    assert all("position" in n for n in workflow["nodes"])
    xs = {n["id"]: n["position"]["x"] for n in workflow["nodes"]}
    assert all(xs[e["source"]] < xs[e["target"]] for e in workflow["connections"])
    assert "Drops leaks" in generated.explanation and "canned-model" in generated.explanation


def test_an_invalid_answer_is_repaired_with_the_validation_errors(use_llm):
    broken = titanic_workflow(model="train_xgb")
    next(n for n in broken["nodes"] if n["id"] == "fill")["parameters"]["strategy"] = "average"
    with CannedLlm([answer(broken), answer(titanic_workflow(model="train_random_forest"))]) as llm:
        use_llm(llm.url)
        generated = generate_workflow("predict survived from titanic with a random forest")
    assert len(llm.requests) == 2
    second = llm.requests[1]["body"]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == answer(broken)  # the model sees its own draft, then what was wrong with it
    repair = second[3]["content"]
    assert "unknown node type 'train_xgb'" in repair and "did you mean 'train_xgboost'" in repair
    assert "[fill.strategy] strategy: Input should be 'mean'" in repair
    assert any(n["type"] == "train_random_forest" for n in generated.workflow["nodes"])
    assert any("repaired" in w for w in generated.warnings)


def test_a_workflow_failing_on_the_sample_is_sent_back(use_llm):
    unencoded = titanic_workflow(encode=False)  # text columns reach training: the dry run fails
    with CannedLlm([answer(unencoded), answer(titanic_workflow())]) as llm:
        use_llm(llm.url)
        generated = generate_workflow("predict survived from titanic with xgboost")
    repair = llm.requests[1]["body"]["messages"][-1]["content"]
    assert "failed on a sample" in repair and "one_hot_encode" in repair
    assert validate_workflow(generated.workflow)[0] is not None


def test_two_invalid_answers_are_rejected_listing_the_errors(use_llm):
    wrong_target = titanic_workflow(target="Survivd")
    with CannedLlm([answer(wrong_target), "Sure! Here is your pipeline: load, split, train."]) as llm:
        use_llm(llm.url)
        with pytest.raises(LlmWorkflowRejected) as rejected:
            generate_workflow("predict survived from titanic")
    assert len(llm.requests) == 2
    assert "target_column 'Survivd' is not a column of titanic; near matches: survived" in \
        llm.requests[1]["body"]["messages"][-1]["content"]
    assert rejected.value.code == "LLM_WORKFLOW_INVALID"
    assert rejected.value.to_dict()["problems"] == ["the answer is not one JSON object"]
    assert "not one JSON object" in rejected.value.message


def test_the_llm_may_decline(use_llm):
    with CannedLlm([json.dumps({"refusal": "sorting e-mails is not a machine learning workflow"})]) as llm:
        use_llm(llm.url)
        with pytest.raises(GenerationRefused) as refused:
            generate_workflow("sort my emails, using the titanic data")
    assert "sorting e-mails" in refused.value.message


def test_an_endpoint_that_is_down_is_a_clear_error(use_llm):
    use_llm(f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    with pytest.raises(LlmUnavailable) as down:
        generate_workflow("predict survived from titanic")
    assert down.value.code == "LLM_UNAVAILABLE"
    assert "cannot reach the LLM endpoint" in down.value.message and "FLOWZA_LLM_BASE_URL" in down.value.message
    assert "sk-test" not in down.value.message


def test_a_base_url_without_a_model_says_what_to_set(flowza_env, monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()
    with pytest.raises(LlmUnavailable, match="FLOWZA_LLM_MODEL is not"):
        generate_workflow("predict survived from titanic")
