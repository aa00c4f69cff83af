"""The retrieval template through the real service: documents -> chunks -> embeddings -> vector_search -> llm_call,
run on Prefect by a worker, the answer from an OpenAI-compatible server started by the test.

The model is asked with the passages the search found (the iris description for an iris question), the answer is
the run's text output, the search's hits are a table read back over the API, and a second run with another
question reuses the FAISS index kept in the object store (and the unchanged upstream nodes' outputs).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from flowza_core.settings import get_settings
from tests.api.test_models_owners import run
from tests.nodes.test_llm import API_KEY, CannedChat

TEMPLATE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "retrieval.json").read_text())
ANSWER = "The iris dataset has 150 samples, 50 of each of its three classes."


def asking(question: str) -> dict:
    workflow = copy.deepcopy(TEMPLATE)
    next(n for n in workflow["nodes"] if n["id"] == "search")["parameters"]["query"] = question
    return workflow


def kept_indexes() -> list[Path]:
    return sorted(get_settings().home_dir.rglob("kept/vector_search/*.faiss"))


@pytest.mark.usefixtures("flowza_worker")
def test_the_retrieval_template_answers_from_the_passages_it_found_and_keeps_its_index(client, monkeypatch):
    monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    listed = {t["id"] for t in client.get("/api/workflows/templates/").json()}
    assert "retrieval" in listed  # shipped documents: a gallery template

    with CannedChat(ANSWER, "The passages say nothing about that.") as chat:
        saved = client.post("/api/connections", json={
            "name": "llm", "kind": "openai", "config": {"base_url": chat.base_url, "model": "canned-model"},
            "secret": {"api_key": API_KEY}})
        assert saved.status_code == 201, saved.text

        first = run(client, asking(TEMPLATE["nodes"][3]["parameters"]["query"]))
        assert first["status"] == "completed", first
        second = run(client, asking("Which features does the diabetes dataset measure?"))
        assert second["status"] == "completed", second

    asked = chat.requests[0]["body"]
    prompt = asked["messages"][-1]["content"]
    assert asked["model"] == "canned-model" and asked["temperature"] == 0
    assert "Question: How many flowers of each species are in the iris data?" in prompt
    assert "diabetes" in chat.requests[1]["body"]["messages"][-1]["content"].lower()

    nodes = first["nodes"]
    assert nodes["answer"]["outputs"]["text"]["value"] == ANSWER
    context = nodes["search"]["outputs"]["context"]["value"]
    assert context["index"] == {"rows": nodes["embed"]["outputs"]["dataset"]["rows"], "reused": False,
                                "model": "minilm-static-256"}
    hits = client.get(f"/api/tasks/{first['run_id']}:search/dataset", params={"port": "hits"}).json()["rows"]
    assert hits[0]["source"] == "iris.rst" and [r["rank"] for r in hits] == [1, 2, 3, 4]
    assert all(hit["text"] in prompt for hit in hits)  # the passages the search found are what the model read

    assert second["nodes"]["search"]["outputs"]["context"]["value"]["index"]["reused"] is True
    assert len(kept_indexes()) == 1
    assert all(second["nodes"][n].get("cached") for n in ("docs", "chunk", "embed")), \
        {n: second["nodes"][n].get("cached") for n in ("docs", "chunk", "embed")}


@pytest.mark.usefixtures("flowza_worker")
def test_without_an_llm_connection_the_search_runs_and_the_answer_says_how_to_add_one(client):
    workflow = asking("iris")
    answer_node = next(n for n in workflow["nodes"] if n["id"] == "answer")
    answer_node["parameters"].pop("connection")

    done = run(client, workflow)

    assert done["status"] == "failed"
    assert done["nodes"]["search"]["status"] == "completed"
    error = done["nodes"]["answer"]["error"]
    assert error["code"] == "LLM_NOT_CONFIGURED" and "POST /api/connections" in error["message"], error
