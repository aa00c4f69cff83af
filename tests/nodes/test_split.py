"""train_test_split: sklearn's row choice, and upstream transforms re-fitted on training rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.model_selection import train_test_split as sk_split
from sklearn.preprocessing import StandardScaler

from flowza_core.errors import InvalidParameter
from nodes.ports import Dataset

IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@pytest.fixture
def split(run_node):
    """``split(dataset, **params)`` -> (train, test) Datasets."""

    def run(dataset: Dataset, *, protected=(), **params) -> tuple[Dataset, Dataset]:
        out = run_node("train_test_split", {"dataset": dataset}, protected=protected, **params)
        return out["train"], out["test"]

    return run


@pytest.mark.parametrize("params", [
    {},
    {"test_size": 0.35, "random_state": 7},
    {"target_column": "target", "stratify": True, "test_size": 0.3, "random_state": 3},
])
def test_split_takes_the_rows_sklearn_takes_in_the_same_order(split, iris, params):
    train, test = split(Dataset(iris), **params)

    stratify = iris["target"] if params.get("stratify") else None
    expected_train, expected_test = sk_split(iris, test_size=params.get("test_size", 0.2),
                                             random_state=params.get("random_state", 42), stratify=stratify)
    pd.testing.assert_frame_equal(train.frame, expected_train)
    pd.testing.assert_frame_equal(test.frame, expected_test)


def test_stratified_split_keeps_class_proportions(split, titanic):
    train, test = split(Dataset(titanic), target_column="survived", stratify=True, test_size=0.25)

    overall = titanic["survived"].mean()
    assert train.frame["survived"].mean() == pytest.approx(overall, abs=0.005)
    assert test.frame["survived"].mean() == pytest.approx(overall, abs=0.005)


def test_stratify_without_a_target_does_not_validate(split, iris):
    with pytest.raises(ValidationError, match="stratify needs target_column"):
        split(Dataset(iris), stratify=True)


def test_stratify_on_a_target_with_nulls_is_invalid(split, iris):
    iris.loc[3, "target"] = np.nan

    with pytest.raises(InvalidParameter, match="missing values") as err:
        split(Dataset(iris), target_column="target", stratify=True)
    assert err.value.field == "stratify"


# --- leakage: what the split re-fits ---------------------------------------------------------

def test_normalize_before_the_split_learns_from_training_rows_only(run_node, split):
    """The engine protects the split's target upstream; the scaler sees the train rows only."""
    loaded = run_node("sample_dataset", name="iris")["dataset"]
    normalized = run_node("normalize", {"dataset": loaded}, protected={"target"})["dataset"]

    train, test = split(normalized, target_column="target")

    raw_train, raw_test = sk_split(loaded.frame, test_size=0.2, random_state=42)
    scaler = StandardScaler().fit(raw_train[IRIS_FEATURES])
    np.testing.assert_allclose(train.frame[IRIS_FEATURES].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(train.frame[IRIS_FEATURES], scaler.transform(raw_train[IRIS_FEATURES]),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(test.frame[IRIS_FEATURES], scaler.transform(raw_test[IRIS_FEATURES]),
                               rtol=1e-12, atol=1e-12)
    pd.testing.assert_series_equal(train.frame["target"], raw_train["target"])
    pd.testing.assert_series_equal(test.frame["target"], raw_test["target"])
    assert (train.fitted_on, test.fitted_on) == ("train", "train")


def test_impute_before_the_split_fills_test_rows_with_the_train_statistic(run_node, split, titanic):
    imputed = run_node("impute", {"dataset": Dataset(titanic)}, protected={"survived"}, columns=["age"])["dataset"]

    train, test = split(imputed, target_column="survived")

    raw_train, raw_test = sk_split(titanic, test_size=0.2, random_state=42)
    train_mean = raw_train["age"].mean()
    assert train_mean != pytest.approx(titanic["age"].mean(), abs=1e-6), "the case needs a telling mean"
    pd.testing.assert_frame_equal(train.frame, raw_train.fillna({"age": train_mean}))
    pd.testing.assert_frame_equal(test.frame, raw_test.fillna({"age": train_mean}))


def test_stateless_chain_is_split_by_position_without_refitting(run_node, split, titanic):
    dataset = Dataset(titanic)
    for node_type, params in [("drop_nulls", {"subset": ["age"]}), ("drop_columns", {"columns": ["deck"]})]:
        dataset = run_node(node_type, {"dataset": dataset}, **params)["dataset"]

    train, test = split(dataset, test_size=0.3, random_state=5)

    train_pos, test_pos = sk_split(np.arange(len(dataset.frame)), test_size=0.3, random_state=5)
    pd.testing.assert_frame_equal(train.frame, dataset.frame.take(train_pos))
    pd.testing.assert_frame_equal(test.frame, dataset.frame.take(test_pos))
    assert train.steps == dataset.steps


@pytest.mark.parametrize("chain", [
    [("drop_nulls", {"subset": ["embarked"]}), ("filter_rows", {"column": "pclass", "operator": "!=", "value": 2})],
    [("drop_nulls", {"subset": ["embarked"]}), ("impute", {}), ("one_hot_encode", {}), ("normalize", {})],
    [("normalize", {}), ("filter_rows", {"column": "fare", "operator": "<", "value": 0.5})],
], ids=["stateless", "stateful", "filter-after-normalize"])
def test_raw_rows_stay_in_step_with_the_frame_rows(run_node, split, titanic, chain):
    dataset = Dataset(titanic)
    for node_type, params in chain:
        dataset = run_node(node_type, {"dataset": dataset}, protected={"survived"}, **params)["dataset"]

    for part in split(dataset, target_column="survived"):
        assert part.raw is dataset.raw  # the loader's table, shared, never copied
        assert part.raw_rows.index.equals(part.frame.index)
        pd.testing.assert_frame_equal(part.raw_rows, titanic.loc[part.frame.index])
        assert part.target == 'survived'
