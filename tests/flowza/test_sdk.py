"""The Python SDK builds the same JSON and runs it on the same engine."""

from __future__ import annotations

import json

import pytest

from flowza import Workflow


def build():
    wf = Workflow("Titanic survival")
    load = wf.add("sample_dataset", name="titanic", label="Titanic")
    clean = wf.add("preprocess", columns_to_drop=["PassengerId", "Cabin"])
    split = wf.add("train_test_split", target_column="Survived", stratify=True)
    tail = wf.add("drop_nulls")
    wf.connect(load, clean).connect(clean, split).connect(split["test"], tail)
    return wf


def test_to_json_and_back():
    wf = build()
    doc = wf.to_json()
    assert [n["id"] for n in doc["nodes"]] == ["sample_dataset", "preprocess", "train_test_split", "drop_nulls"]
    assert doc["connections"][2] == {"source": "train_test_split", "target": "drop_nulls", "sourceHandle": "test"}
    again = Workflow.from_json(json.dumps(doc))
    assert again.to_json() == doc
    assert wf.validate() == []


def test_ids_are_unique_and_mistakes_are_caught():
    wf = Workflow()
    a, b = wf.add("drop_nulls"), wf.add("drop_nulls")
    assert a.id != b.id
    with pytest.raises(ValueError, match="already used"):
        wf.add("drop_nulls", id=a.id)
    with pytest.raises(ValueError, match="another workflow"):
        wf.connect(a, Workflow().add("drop_nulls"))
    assert {p.code for p in wf.validate() if p.severity == "error"} == {"MISSING_INPUT"}


def test_run_returns_the_run_record(flowza_env, prefect_api_url):
    events = []
    result = build().run(on_event=events.append)
    assert result["status"] == "completed"
    assert result["nodes"]["drop_nulls"]["outputs"]["dataset"]["rows"] == \
        result["nodes"]["train_test_split"]["outputs"]["test"]["rows"]
    assert [e["node_id"] for e in events if e["event"] == "node_finished"][0] == "sample_dataset"
    assert events[-1] == {"run_id": result["run_id"], "event": "run_finished", "status": "completed"}
