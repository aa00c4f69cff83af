"""Columns a node will receive, computed from a sample before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowza_core.errors import FlowzaError

ROOT = Path(__file__).resolve().parents[2]
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())


@pytest.fixture
def repo_data(flowza_env, monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATA_DIR", str(ROOT))
    get_settings.cache_clear()


@pytest.mark.usefixtures("repo_data")
def test_split_sees_the_cleaned_columns_even_while_its_own_parameters_are_unfinished():
    from flows.preview import input_columns

    draft = json.loads(json.dumps(CLASSIFICATION))
    split = next(n for n in draft["nodes"] if n["id"] == "split")
    split["parameters"] = {}  # target_column not chosen yet: what the user is about to pick
    result = input_columns(draft, "split")
    assert result["problems"] == []
    columns = {c["name"]: c["dtype"] for c in result["inputs"]["dataset"]["columns"]}
    assert "survived" in columns and "age" in columns
    assert "alive" not in columns and "deck" not in columns  # dropped by the clean node upstream


@pytest.mark.usefixtures("repo_data")
def test_training_node_sees_the_train_port_of_the_split():
    from flows.preview import input_columns

    result = input_columns(CLASSIFICATION, "train")
    assert set(result["inputs"]) == {"train"} and result["inputs"]["train"]


@pytest.mark.usefixtures("repo_data")
def test_upstream_problems_are_reported_instead_of_columns():
    from flows.preview import input_columns

    broken = json.loads(json.dumps(CLASSIFICATION))
    next(n for n in broken["nodes"] if n["id"] == "load").update(type="csv_loader",
                                                                  parameters={"file_path": "no/such.csv"})
    result = input_columns(broken, "split")
    assert result["inputs"] == {} and result["problems"][0]["node_id"] == "load"
    assert "no/such.csv" in result["problems"][0]["message"]


@pytest.mark.usefixtures("repo_data")
def test_a_loader_reads_only_a_sample(tmp_path, monkeypatch):
    from flows.preview import input_columns
    from flowza_core.settings import get_settings

    (tmp_path / "big.csv").write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(10_000)))
    monkeypatch.setenv("FLOWZA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    workflow = {"nodes": [{"id": "load", "type": "csv_loader", "parameters": {"file_path": "big.csv"}},
                          {"id": "clean", "type": "drop_nulls"}],
                "connections": [{"source": "load", "target": "clean"}]}
    seen = input_columns(workflow, "clean")["inputs"]["dataset"]
    assert [c["name"] for c in seen["columns"]] == ["a", "b"] and seen["rows"] == 200  # of 10,000


def test_unknown_node_is_a_clear_error():
    from flows.preview import input_columns

    with pytest.raises(FlowzaError, match="not in the workflow"):
        input_columns(CLASSIFICATION, "nope")


def test_a_loaders_warnings_reach_the_column_preview_and_the_fix_clears_them(flowza_env):
    from flows.preview import input_columns

    (flowza_env["data"] / "adult.data").write_bytes(b"".join(
        f"{30 + i % 40}, {'?' if i % 9 == 0 else 'Private'}, {i * 7}\r".encode() for i in range(500)))
    loader = {"id": "load", "type": "csv_loader", "parameters": {"file_path": "adult.data"}}
    workflow = {"nodes": [loader, {"id": "clean", "type": "drop_nulls"}],
                "connections": [{"source": "load", "target": "clean"}]}

    result = input_columns(workflow, "clean")
    header = next(w for w in result["warnings"] if w["code"] == "HEADER_LOOKS_LIKE_DATA")
    assert header["node_id"] == "load" and header["fix"] == {"has_header": False}
    assert [c["name"] for c in result["inputs"]["dataset"]["columns"]][0] == "30"

    loader["parameters"] |= header["fix"] | {"na_values": ["?"], "skip_initial_space": True}
    fixed = input_columns(workflow, "clean")
    assert fixed["warnings"] == [] and fixed["problems"] == []
    assert [c["name"] for c in fixed["inputs"]["dataset"]["columns"]] == ["column_1", "column_2", "column_3"]


@pytest.mark.usefixtures("repo_data")
def test_a_model_input_reports_its_task_and_the_target_is_left_unscaled_as_in_a_run():
    from flows.preview import input_columns

    seen = input_columns(CLASSIFICATION, "evaluate")["inputs"]  # preprocess normalizes upstream of the split
    assert seen["model"] == {"task": "classification"}
    assert {"name": "survived", "dtype": "int64"} in seen["test"]["columns"]
