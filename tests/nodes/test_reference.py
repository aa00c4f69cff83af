"""Reference statistics: what a trained model records of its raw training rows."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from nodes.ports import Dataset
from nodes.reference import OTHER, SAMPLE_SIZE, bin_shares, category_key, reference_stats


def test_numeric_column_has_moments_quantile_bins_and_a_bounded_seeded_sample():
    rng = np.random.default_rng(3)
    values = pd.Series(rng.normal(10, 2, 5000))
    values[:50] = np.nan
    ref = reference_stats(pd.DataFrame({"x": values}), {"x": "number"})["features"]["x"]
    assert ref["kind"] == "numeric" and ref["count"] == 4950 and ref["nulls"] == 50
    assert abs(ref["mean"] - 10) < 0.1 and abs(ref["std"] - 2) < 0.1
    assert ref["min"] == values.min() and ref["max"] == values.max()
    assert len(ref["edges"]) == 9 and ref["edges"] == sorted(ref["edges"])
    assert len(ref["proportions"]) == 10 and all(abs(p - 0.1) < 0.002 for p in ref["proportions"])
    assert len(ref["sample"]) == SAMPLE_SIZE and set(ref["sample"]) <= set(values.dropna())
    again = reference_stats(pd.DataFrame({"x": values}), {"x": "number"})["features"]["x"]
    assert again["sample"] == ref["sample"]  # seeded: the same rows give the same reference


def test_discrete_numeric_column_gets_one_bin_per_value():
    ref = reference_stats(pd.DataFrame({"pclass": [1] * 50 + [2] * 20 + [3] * 30}), {"pclass": "number"})
    pclass = ref["features"]["pclass"]
    assert pclass["edges"] == [1.0, 2.0, 3.0]
    assert pclass["proportions"] == [0.5, 0.2, 0.3, 0.0]  # the last bin: above anything seen in training
    assert bin_shares(np.array([0.0, 1.0, 1.5, 2.0, 3.0, 9.0]), pclass["edges"]).tolist() == \
        [2 / 6, 2 / 6, 1 / 6, 1 / 6]


def test_categorical_keeps_the_top_fifty_and_sums_the_rest():
    values = [f"c{i}" for i in range(60) for _ in range(60 - i)] + [None] * 7
    ref = reference_stats(pd.DataFrame({"city": values}), {"city": "text"})["features"]["city"]
    assert ref["kind"] == "categorical" and ref["nulls"] == 7 and ref["count"] == len(values) - 7
    freq = ref["frequencies"]
    assert len(freq) == 51 and list(freq)[:3] == ["c0", "c1", "c2"] and "c50" not in freq
    assert abs(freq[OTHER] - sum(range(1, 11)) / ref["count"]) < 1e-12
    assert abs(sum(freq.values()) - 1) < 1e-12


def test_category_keys_match_between_training_cells_and_json_inputs():
    frame = pd.DataFrame({"flag": [True, False, True], "code": [1, 2, 1]})
    ref = reference_stats(frame, {"flag": "bool", "code": "text"})["features"]
    assert ref["flag"]["frequencies"] == {"True": 2 / 3, "False": 1 / 3}
    assert ref["code"]["frequencies"] == {"1": 2 / 3, "2": 1 / 3}
    assert [category_key(v) for v in (True, 1, 1.0, np.int64(1), "a")] == ["True", "1", "1", "1", "a"]


def test_reference_is_json_and_cheap_on_a_million_rows():
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.exponential(size=n), "k": rng.integers(0, 5, n),
                          "city": rng.choice(["x", "y", "z"], n), "flag": rng.random(n) < 0.2})
    kinds = {"a": "number", "b": "number", "k": "number", "city": "text", "flag": "bool"}
    start = time.perf_counter()
    ref = reference_stats(frame, kinds, task="regression", target="y")
    elapsed = time.perf_counter() - start
    assert elapsed < 3, f"{elapsed:.2f} s for 1M rows x 5 columns"
    text = json.dumps(ref, allow_nan=False)
    assert len(text) < 200_000 and ref["rows"] == n and ref["task"] == "regression"


def test_training_records_the_reference_of_the_raw_training_rows(run_node, titanic):
    frame = titanic.drop(columns=["alive", "deck"])
    cleaned = run_node("impute", {"dataset": Dataset(frame)}, strategy="median", columns=["age"])["dataset"]
    encoded = run_node("preprocess", {"dataset": cleaned}, protected=("survived",), drop_nulls=True,
                       normalize=True, encode_categorical=True)["dataset"]
    parts = run_node("train_test_split", {"dataset": encoded}, target_column="survived", random_state=1)
    model = run_node("train_logreg", {"train": parts["train"]})["model"]
    ref = model.reference
    assert set(ref["features"]) == set(model.predictor.input_dtypes) and ref["task"] == "classification"
    train_rows = parts["train"].raw_rows
    assert ref["rows"] == len(train_rows) == len(parts["train"].frame)
    age = ref["features"]["age"]  # raw ages, gaps included: the imputer's fill is not what requests send
    assert age["nulls"] == int(train_rows["age"].isna().sum()) > 0
    assert abs(age["mean"] - train_rows["age"].mean()) < 1e-9
    assert ref["features"]["sex"]["frequencies"].keys() == {"male", "female"}
