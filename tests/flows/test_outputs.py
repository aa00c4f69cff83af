"""Outputs survive the store: what is loaded back is what was saved, by type."""

from __future__ import annotations


import pandas as pd
import pytest

from flows.outputs import OutputStore, summarize
from flows.store import open_store
from nodes.base import NodeContext
from nodes.catalog import discover
from nodes.ports import Metrics


def run_node(node_type, inputs, **params):
    defn = discover()[node_type]
    ctx = NodeContext(node_id=node_type, protected_columns=frozenset({"survived"}))
    return defn.run(inputs, defn.params_model(**params), ctx)


def save_all(outputs: OutputStore, named: dict) -> dict:
    refs = {}
    for fingerprint, value in named.items():
        refs[fingerprint], writes = outputs.plan_save(fingerprint, value)
        for write in writes:
            write()
    return refs


@pytest.fixture
def chain():
    loaded = run_node("sample_dataset", {}, name="titanic")["dataset"]
    kept = run_node("drop_columns", {"dataset": loaded}, columns=["alive", "deck", "class", "embark_town"])["dataset"]
    encoded = run_node("one_hot_encode", {"dataset": kept}, columns=["sex", "embarked"])["dataset"]
    imputed = run_node("impute", {"dataset": encoded}, strategy="median", columns=["age"])["dataset"]
    split = run_node("train_test_split", {"dataset": imputed}, target_column="survived")
    model = run_node("train_logreg", {"train": split["train"]}, max_iter=500)["model"]
    return {"loaded": loaded, "encoded": encoded, "train": split["train"], "model": model}


def test_datasets_round_trip_with_lineage_and_share_the_raw_table(tmp_path, chain):
    refs = save_all(OutputStore(open_store(tmp_path.as_uri())), chain)
    fresh = OutputStore(open_store(tmp_path.as_uri()))  # as a later run would
    train = fresh.load(refs["train"])
    original = chain["train"]
    pd.testing.assert_frame_equal(train.frame, original.frame)
    pd.testing.assert_frame_equal(train.raw, original.raw)
    assert (train.fitted_on, train.target) == ("train", "survived")
    assert [type(s).__name__ for s in train.steps] == ["DropColumns", "OneHot", "Impute"]
    assert fresh.load(refs["encoded"]).raw is train.raw  # the loader's table is read once, shared
    assert not list(tmp_path.rglob("*.raw.arrow"))  # and stored once


def test_models_and_metrics_round_trip(tmp_path, chain):
    outputs = OutputStore(open_store(tmp_path.as_uri()))
    metrics = Metrics({"accuracy": 0.5, "confusion_matrix": [[1, 2], [3, 4]]}, {"plot.png": b"\x89PNG..."})
    refs = save_all(outputs, {"model": chain["model"], "metrics": metrics})
    seen = []
    fresh = OutputStore(open_store(tmp_path.as_uri()), on_model_loaded=lambda p, uri: seen.append(uri))
    model = fresh.load(refs["model"] | {"model_uri": "models:/m-1"})
    raw = chain["train"].raw_rows
    assert (model.predictor.predict(raw) == chain["model"].predictor.predict(raw)).all()
    assert seen == ["models:/m-1"]
    assert fresh.load(refs["metrics"]) == metrics
    assert summarize(chain["model"])["estimator"] == "LogisticRegression"


def test_unknown_types_are_refused(tmp_path):
    with pytest.raises(TypeError, match="no storage"):
        OutputStore(open_store(tmp_path.as_uri())).plan_save("fp", object())
