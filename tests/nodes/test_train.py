"""Training nodes: task inference, input checks, labels, default target, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowza_core.errors import InvalidParameter, MissingColumn
from nodes.ports import Dataset
from nodes.train import infer_task

FAST = {"train_xgboost": {"n_estimators": 15}, "train_random_forest": {"n_estimators": 15},
        "train_logreg": {}, "train_linear_regression": {}}


@pytest.fixture
def table() -> pd.DataFrame:
    """120 rows: two numeric features and targets of every kind, all driven by x1."""
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    signal = frame["x1"] + rng.normal(scale=0.5, size=n)
    frame["binary"] = (signal > 0).astype(int)
    frame["flag"] = signal > 0
    frame["label"] = np.where(signal > 0, "spam", "ham")
    frame["grade"] = np.digitize(signal, [-0.7, 0.7])  # 0, 1, 2
    frame["amount"] = 3 * frame["x1"] + rng.normal(size=n)
    return frame


TARGETS = ["binary", "flag", "label", "grade", "amount"]
SAME = object()  # the split's target is the trained target


@pytest.fixture
def train_on(run_node):
    """``train_on(frame, target, node_type, split_target=target, **params)``: split, then train.

    Returns ``(model, train, test)``; the other target columns are dropped first.
    """

    def train(frame, target, node_type, *, split_target=SAME, **params):
        split_target = target if split_target is SAME else split_target
        frame = frame.drop(columns=[c for c in TARGETS if c != target and c in frame.columns])
        parts = run_node("train_test_split", {"dataset": Dataset(frame)}, target_column=split_target,
                         random_state=1)
        model = run_node(node_type, {"train": parts["train"]}, **{**FAST.get(node_type, {}), **params})["model"]
        return model, parts["train"], parts["test"]

    return train


# --- task inference --------------------------------------------------------------------------

@pytest.mark.parametrize("values, task", [
    ([True, False, True], "classification"),
    (["cat", "dog", "cat"], "classification"),
    ([0, 1, 1, 0], "classification"),
    ([1, 2, 3, 2, 1], "classification"),
    ([0.0, 1.0, 1.0], "classification"),  # whole numbers stored as floats: still labels
    (list(range(30)), "regression"),  # many distinct whole numbers: a count, not labels
    ([0.5, 1.25, 3.0], "regression"),
    (list(np.linspace(0, 1, 50)), "regression"),
])
def test_infer_task(values, task):
    assert infer_task(pd.Series(values)) == task


@pytest.mark.parametrize("target, task", [("binary", "classification"), ("flag", "classification"),
                                          ("label", "classification"), ("grade", "classification"),
                                          ("amount", "regression")])
def test_xgboost_infers_the_task_from_the_target(table, train_on, target, task):
    model, _, _ = train_on(table, target, "train_xgboost")

    assert model.task == task
    expected = "XGBClassifier" if task == "classification" else "XGBRegressor"
    assert type(model.predictor.estimator).__name__ == expected


@pytest.mark.parametrize("node_type, estimator", [("train_xgboost", "XGBRegressor"),
                                                  ("train_random_forest", "RandomForestRegressor")])
def test_task_overrides_the_inference(table, train_on, node_type, estimator):
    model, _, test = train_on(table, "grade", node_type, task="regression")

    assert model.task == "regression"
    assert type(model.predictor.estimator).__name__ == estimator
    assert model.predictor.classes is None
    predictions = model.predictor.predict(test.raw_rows)
    assert predictions.dtype.kind == "f"


def test_regression_on_a_text_target_is_an_invalid_parameter(table, train_on):
    """Forcing task 'regression' on text labels must be a user-facing error, not numpy's ValueError."""
    with pytest.raises(InvalidParameter):
        train_on(table, "label", "train_xgboost", task="regression")


# --- what each trainer accepts -------------------------------------------------------------------

def test_logreg_refuses_a_continuous_target(table, train_on):
    with pytest.raises(InvalidParameter, match="regression") as err:
        train_on(table, "amount", "train_logreg")
    assert err.value.field == "target_column"


def test_linear_regression_refuses_a_label_target(table, train_on):
    with pytest.raises(InvalidParameter, match="numeric target") as err:
        train_on(table, "label", "train_linear_regression")
    assert err.value.field == "task"


def test_linear_regression_accepts_a_few_whole_number_values(train_on):
    rating = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "stars": [1, 2, 2, 3, 4, 5]})
    model, _, _ = train_on(rating, "stars", "train_linear_regression")
    assert model.predictor.task == "regression"


@pytest.mark.parametrize("node_type", ["train_logreg", "train_xgboost", "train_random_forest"])
def test_text_features_ask_for_one_hot_encode(table, train_on, node_type):
    frame = table.assign(colour=np.where(table["x2"] > 0, "red", "blue"))

    with pytest.raises(InvalidParameter, match="one_hot_encode") as err:
        train_on(frame, "binary", node_type)
    assert "colour" in str(err.value)


def test_missing_features_are_refused_by_logreg(table, train_on):
    frame = table.copy()
    frame.loc[frame.index[::7], "x2"] = np.nan

    with pytest.raises(InvalidParameter, match="impute") as err:
        train_on(frame, "binary", "train_logreg")
    assert "x2" in str(err.value)


def test_missing_features_are_accepted_by_xgboost(table, train_on):
    frame = table.copy()
    frame.loc[frame.index[::7], "x2"] = np.nan

    model, _, test = train_on(frame, "binary", "train_xgboost")

    rows = test.raw_rows.drop(columns="binary")
    assert rows["x2"].isna().any()
    predictions = model.predictor.predict(rows)
    assert len(predictions) == len(rows) and set(predictions) <= {0, 1}


def test_a_target_column_that_does_not_exist_is_a_missing_column(table, train_on):
    with pytest.raises(MissingColumn) as err:
        train_on(table, "binary", "train_logreg", target_column="survived")
    assert err.value.field == "target_column"


def test_no_target_anywhere_is_an_invalid_parameter(table, train_on):
    with pytest.raises(InvalidParameter, match="target") as err:
        train_on(table, "binary", "train_logreg", split_target=None)
    assert err.value.field == "target_column"


def test_a_single_class_target_is_an_invalid_parameter(table, train_on):
    with pytest.raises(InvalidParameter, match="single class") as err:
        train_on(table.assign(binary=1), "binary", "train_logreg")
    assert err.value.field == "target_column"


def test_a_target_with_gaps_is_an_invalid_parameter(table, train_on):
    frame = table.astype({"binary": float})
    frame.loc[frame.index[::10], "binary"] = np.nan

    with pytest.raises(InvalidParameter, match="missing"):
        train_on(frame, "binary", "train_logreg", split_target=None, target_column="binary")


# --- labels --------------------------------------------------------------------------------------

@pytest.mark.parametrize("node_type", ["train_xgboost", "train_logreg", "train_random_forest"])
def test_string_labels_come_back_as_the_original_labels(table, train_on, node_type):
    model, _, test = train_on(table, "label", node_type)

    predictions = model.predictor.predict(test.raw_rows.drop(columns="label"))

    assert list(model.predictor.classes_) == ["ham", "spam"]
    assert set(predictions) == {"ham", "spam"}
    # a well-separated signal: the labels are the right ones, not swapped
    assert (predictions == test.frame["label"].to_numpy()).mean() > 0.7


def test_xgboost_label_encodes_and_the_probabilities_follow_the_sorted_classes(table, train_on):
    model, _, test = train_on(table, "label", "train_xgboost")

    rows = test.raw_rows.drop(columns="label")
    proba = model.predictor.predict_proba(rows)
    predictions = model.predictor.predict(rows)

    assert model.predictor.label_encoded
    np.testing.assert_array_equal(np.asarray(model.predictor.classes)[proba.argmax(axis=1)], predictions)


def test_boolean_labels_come_back_as_booleans(table, train_on):
    model, _, test = train_on(table, "flag", "train_xgboost")

    predictions = model.predictor.predict(test.raw_rows.drop(columns="flag"))

    assert predictions.dtype == bool


# --- target default and seeds --------------------------------------------------------------------

def test_target_column_defaults_to_the_splits_target(table, train_on):
    model, train, _ = train_on(table, "grade", "train_logreg")

    assert train.target == "grade"
    assert model.predictor.target == "grade"
    assert model.predictor.feature_columns == ["x1", "x2"]
    assert list(model.predictor.classes_) == [0, 1, 2]


def test_an_explicit_target_column_wins_over_the_splits(table, train_on):
    frame = table.assign(group=np.where(table["x1"] > 0, 1, 2))

    model, _, _ = train_on(frame, "binary", "train_logreg", target_column="group")

    assert model.predictor.target == "group"
    assert "binary" in model.predictor.feature_columns
    assert "group" not in model.predictor.input_dtypes


@pytest.mark.parametrize("node_type, params", [
    ("train_xgboost", {"subsample": 0.6, "colsample_bytree": 0.6}),
    ("train_random_forest", {}),
])
def test_same_seed_same_model_other_seed_other_model(table, train_on, node_type, params):
    first, _, test = train_on(table, "amount", node_type, random_state=5, **params)
    again, *_ = train_on(table, "amount", node_type, random_state=5, **params)
    other, *_ = train_on(table, "amount", node_type, random_state=6, **params)

    rows = test.raw_rows.drop(columns="amount")
    for _ in range(10):  # a race in predict would show up in some of the calls
        np.testing.assert_array_equal(first.predictor.predict(rows), again.predictor.predict(rows))
    assert not np.array_equal(first.predictor.predict(rows), other.predictor.predict(rows))


def test_a_random_forest_regressor_predicts_the_same_rows_identically_every_time(table, train_on):
    """What evaluation saw is what serving answers, bit for bit, call after call."""
    model, _, test = train_on(table, "amount", "train_random_forest")
    rows = test.raw_rows.drop(columns="amount")

    first = model.predictor.predict(rows)

    for _ in range(20):
        np.testing.assert_array_equal(model.predictor.predict(rows), first)
