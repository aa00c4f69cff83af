"""POST /api/ai/generate-workflow: a prompt on a shipped sample or an uploaded dataset becomes a checked workflow;
refusals answer 422 saying why, bad bodies 422, someone else's dataset 404, an LLM endpoint down 503."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from flows.validation import validate_workflow
from tests.conftest import free_port

URL = "/api/ai/generate-workflow"


def customers_csv() -> bytes:
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame({"Customer ID": [f"C{i:04d}" for i in range(n)], "Tenure (months)": rng.integers(1, 72, n),
                          "Plan Type": rng.choice(["basic", "plus", "pro"], n),
                          "Monthly Bill": np.round(rng.random(n) * 100, 2),
                          "Churned?": rng.choice(["Yes", "No"], n)})
    frame.loc[rng.choice(n, 20, replace=False), "Monthly Bill"] = np.nan
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def upload(client, content: bytes, filename: str = "customers.csv") -> str:
    created = client.post("/api/upload", files={"file": (filename, content, "text/csv")})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_a_prompt_on_a_shipped_sample(client):
    answer = client.post(URL, json={"prompt": "predict survived from titanic with xgboost, fill missing ages"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"workflow", "explanation", "warnings"}
    workflow = body["workflow"]
    assert validate_workflow(workflow)[0] is not None
    assert {"name", "description", "nodes", "connections"} <= set(workflow)
    for node in workflow["nodes"]:
        assert {"id", "type", "parameters", "position"} <= set(node) and set(node["position"]) == {"x", "y"}
    assert any(n["type"] == "train_xgboost" for n in workflow["nodes"])
    assert "'survived'" in body["explanation"]
    assert any("alive" in w for w in body["warnings"])
    # What the editor does next: save it and run it as offered.
    saved = client.post("/api/workflows/", json=workflow)
    assert saved.status_code in (200, 201), saved.text


def test_a_prompt_on_an_uploaded_dataset_uses_its_real_columns(client):
    dataset_id = upload(client, customers_csv())
    answer = client.post(URL, json={"prompt": "predict churnd with a random forest, fill missing monthly bill "
                                              "with the mean", "dataset_id": dataset_id})
    assert answer.status_code == 200, answer.text
    workflow = answer.json()["workflow"]
    assert workflow["nodes"][0] == {**workflow["nodes"][0], "type": "csv_loader",
                                    "parameters": {"dataset_id": dataset_id}}
    params = {n["type"]: n["parameters"] for n in workflow["nodes"]}
    assert params["train_test_split"]["target_column"] == "Churned?"
    assert params["impute"] == {"strategy": "mean", "columns": ["Monthly Bill"]}
    assert params["drop_columns"] == {"columns": ["Customer ID"]}
    assert params["one_hot_encode"] == {"columns": ["Plan Type"]}


@pytest.mark.parametrize("body, code, words", [
    ({"prompt": "predict the weather tomorrow from titanic"}, "COLUMN_NOT_FOUND", "no column 'weather tomorrow'"),
    ({"prompt": "predict surviv3d_flag from titanic"}, "COLUMN_NOT_FOUND", "near matches: 'survived'"),
    ({"prompt": "sort my emails"}, "PROMPT_NOT_UNDERSTOOD", "say what to predict"),
    ({"prompt": "   "}, "PROMPT_NOT_UNDERSTOOD", "the prompt is empty"),
    ({"prompt": "predict the price"}, "NO_DATASET", "choose an uploaded dataset"),
    ({"prompt": "regression of embarked on titanic"}, "TASK_MISMATCH", "a regression predicts numbers"),
])
def test_refusals_say_why(client, body, code, words):
    answer = client.post(URL, json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["code"] == code and words in error["message"], error
    if code == "COLUMN_NOT_FOUND":
        assert "near_matches" in error["details"]


@pytest.mark.parametrize("body", [
    {}, {"prompt": ""}, {"prompt": "x" * 2001}, {"prompt": 42}, {"prompt": ["predict"]},
    {"prompt": "predict survived from titanic", "dataset_id": 7},
    {"prompt": "predict survived from titanic", "extra": True}, [], "predict survived",
])
def test_bad_bodies_are_422(client, body):
    answer = client.post(URL, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "INVALID_REQUEST"


def test_unknown_dataset_is_404(client):
    answer = client.post(URL, json={"prompt": "predict survived", "dataset_id": "no-such-dataset"})
    assert answer.status_code == 404 and answer.json()["code"] == "NOT_FOUND"


def test_someone_elses_dataset_is_404(multi_user):
    alice, bob = multi_user("alice@example.com"), multi_user("bob@example.com")
    dataset_id = upload(alice, customers_csv())
    mine = alice.post(URL, json={"prompt": "predict churned", "dataset_id": dataset_id})
    assert mine.status_code == 200, mine.text
    theirs = bob.post(URL, json={"prompt": "predict churned", "dataset_id": dataset_id})
    assert theirs.status_code == 404 and theirs.json()["code"] == "NOT_FOUND"
    assert "Churned" not in theirs.text
    assert alice.post(URL, json={"prompt": "predict churned"}).status_code == 422  # no dataset named
    # Samples need no file path, so they work in multi-user mode too.
    assert bob.post(URL, json={"prompt": "classify iris"}).status_code == 200


def test_anonymous_is_401_in_multi_user_mode(multi_user):
    from fastapi.testclient import TestClient

    alice = multi_user("carol@example.com")
    with TestClient(alice.app) as anonymous:
        assert anonymous.post(URL, json={"prompt": "classify iris"}).status_code == 401


def test_an_llm_endpoint_that_is_down_is_503(client, monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("FLOWZA_LLM_MODEL", "any")
    get_settings.cache_clear()
    answer = client.post(URL, json={"prompt": "classify iris"})
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "LLM_UNAVAILABLE" and "FLOWZA_LLM_BASE_URL" in answer.json()["message"]


def test_with_an_llm_configured_its_checked_workflow_is_answered(client, monkeypatch):
    from flowza_core.settings import get_settings
    from tests.flows.test_generate_llm import CannedLlm, answer, titanic_workflow

    with CannedLlm([answer(titanic_workflow(target="Survivd")), answer(titanic_workflow())]) as llm:
        monkeypatch.setenv("FLOWZA_LLM_BASE_URL", llm.url)
        monkeypatch.setenv("FLOWZA_LLM_MODEL", "canned-model")
        get_settings.cache_clear()
        answered = client.post(URL, json={"prompt": "predict survived from titanic with xgboost"})
    assert answered.status_code == 200, answered.text
    assert len(llm.requests) == 2
    assert validate_workflow(answered.json()["workflow"])[0] is not None
    assert any("repaired" in w for w in answered.json()["warnings"])
