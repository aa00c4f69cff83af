"""The model artifact: fitted steps plus estimator, scoring RAW rows in the loader's schema."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from flowza_core.errors import NodeError
from nodes.model import FlowzaModel, UnscorableRows
from nodes.ports import Dataset, Model

TRAINERS = {
    "train_logreg": {},
    "train_xgboost": {"n_estimators": 20},
    "train_random_forest": {"n_estimators": 20},
}


@pytest.fixture
def train_model(run_node, titanic_split):
    """``train_model(type="train_logreg", **params)`` -> (Model, test Dataset) on the titanic chain."""

    def train(node_type: str = "train_logreg", **params) -> tuple[Model, Dataset]:
        train_part, test_part = titanic_split
        return run_node(node_type, {"train": train_part}, **params)["model"], test_part

    return train


def raw_inputs(test: Dataset) -> pd.DataFrame:
    """The test rows as a client would send them: loader schema, no target."""
    return test.raw_rows.drop(columns="survived")


@pytest.mark.parametrize("trainer", list(TRAINERS))
def test_raw_rows_get_exactly_the_predictions_evaluation_saw(run_node, train_model, trainer):
    model, test = train_model(trainer, **TRAINERS[trainer])

    evaluation = run_node("evaluate", {"model": model, "test": test}, plots=False)

    seen = evaluation["predictions"].frame
    served = model.predictor.predict(raw_inputs(test))
    np.testing.assert_array_equal(served, seen["prediction"].to_numpy())
    np.testing.assert_array_equal(model.predictor.predict_proba(raw_inputs(test)).max(axis=1),
                                  seen["probability"].to_numpy())
    assert "survived" not in model.predictor.input_dtypes


def test_the_model_is_one_artifact_with_the_re_fitted_steps(train_model, titanic_split):
    model, _ = train_model()
    train, _ = titanic_split

    predictor = model.predictor
    assert isinstance(predictor, FlowzaModel)
    assert predictor.steps == train.steps  # the split's train-fitted steps, not the all-rows ones
    assert predictor.feature_columns == [c for c in train.frame.columns if c != "survived"]
    assert (predictor.target, model.task, list(predictor.classes_)) == ("survived", "classification", [0, 1])


@pytest.mark.parametrize("trainer", ["train_logreg", "train_xgboost"])
def test_a_pickled_model_predicts_the_same(train_model, trainer):
    model, test = train_model(trainer, **TRAINERS[trainer])

    restored = pickle.loads(pickle.dumps(model))

    rows = raw_inputs(test)
    np.testing.assert_array_equal(restored.predictor.predict(rows), model.predictor.predict(rows))
    np.testing.assert_array_equal(restored.predictor.predict_proba(rows), model.predictor.predict_proba(rows))


# --- rows that cannot be scored ------------------------------------------------------------------

@pytest.fixture
def three_rows(titanic_split) -> pd.DataFrame:
    """Three complete raw test rows (no gaps in any input column), labelled a, b, c."""
    _, test = titanic_split
    rows = raw_inputs(test).drop(columns="deck").dropna().head(3).copy()
    rows.index = ["a", "b", "c"]
    return rows


def test_a_missing_value_where_drop_nulls_sat_is_a_row_error_naming_the_row_and_column(train_model, three_rows):
    model, _ = train_model()
    rows = three_rows.copy()
    rows["embarked"] = rows["embarked"].astype(object)
    rows.loc["b", "embarked"] = None

    with pytest.raises(UnscorableRows) as err:
        model.predictor.predict(rows)

    assert set(err.value.errors) == {"b"}
    assert "embarked" in err.value.errors["b"]
    assert isinstance(err.value, NodeError) and isinstance(err.value, ValueError)
    assert err.value.code == "UNSCORABLE_ROWS"
    # the other rows are fine on their own
    assert len(model.predictor.predict(rows.drop(index="b"))) == 2


def test_text_in_a_numeric_column_is_a_row_error_naming_the_column(train_model, three_rows):
    model, _ = train_model()
    rows = three_rows.astype({"fare": object})
    rows.loc["c", "fare"] = "about ten pounds"

    with pytest.raises(UnscorableRows) as err:
        model.predictor.predict(rows)

    assert set(err.value.errors) == {"c"}
    assert "fare" in err.value.errors["c"] and "about ten pounds" in err.value.errors["c"]


def test_numbers_sent_as_text_are_read_as_numbers(train_model, three_rows):
    model, _ = train_model()

    as_text = three_rows.astype({"age": str, "fare": str})

    np.testing.assert_array_equal(model.predictor.predict_proba(as_text), model.predictor.predict_proba(three_rows))


def test_a_missing_input_column_is_unscorable(train_model, three_rows):
    model, _ = train_model()

    with pytest.raises(UnscorableRows) as err:
        model.predictor.predict(three_rows.drop(columns=["fare"]))

    assert "fare" in str(err.value)
    assert any("fare" in why for why in err.value.errors.values())


def test_a_gap_no_step_fills_is_a_row_error_for_logreg_but_scored_by_xgboost(train_model, three_rows):
    rows = three_rows.copy()
    rows.loc["a", "fare"] = np.nan

    logreg, _ = train_model("train_logreg")
    with pytest.raises(UnscorableRows) as err:
        logreg.predictor.predict(rows)
    assert set(err.value.errors) == {"a"} and "fare" in err.value.errors["a"]

    xgb, _ = train_model("train_xgboost", n_estimators=20)
    assert len(xgb.predictor.predict(rows)) == 3


def test_a_gap_in_an_imputed_column_gets_the_training_median(train_model, three_rows, titanic_split):
    model, _ = train_model()
    train, _ = titanic_split
    median = train.raw_rows["age"].median()  # learned from the training rows only

    gap = three_rows.assign(age=np.nan)
    filled = three_rows.assign(age=median)

    np.testing.assert_array_equal(model.predictor.predict_proba(gap), model.predictor.predict_proba(filled))


def test_an_unseen_category_scores_like_no_category(train_model, three_rows):
    model, _ = train_model()

    unseen = three_rows.astype({"embarked": object}).assign(embarked="Atlantis")
    features, errors = model.predictor.transform_rows(unseen)

    assert errors == {}
    assert not features.filter(like="embarked_").to_numpy().any()
    assert len(model.predictor.predict(unseen)) == 3


# --- what is (not) required at prediction time ----------------------------------------------------

def test_extra_columns_and_column_order_do_not_matter(train_model, three_rows):
    model, _ = train_model()
    expected = model.predictor.predict_proba(three_rows)

    noisy = three_rows.assign(survived=[1, 1, 1], alive=["yes", "no", "yes"], note="vip")
    noisy = noisy[list(reversed(noisy.columns))]

    np.testing.assert_array_equal(model.predictor.predict_proba(noisy), expected)


def test_the_target_and_the_dropped_columns_are_not_required(train_model, titanic_split):
    model, test = train_model()

    rows = test.raw_rows.drop(columns=["survived", "alive", "deck", "class", "embark_town"])

    assert set(model.predictor.input_dtypes) == set(rows.columns)
    np.testing.assert_array_equal(model.predictor.predict(rows), model.predictor.predict(raw_inputs(test)))


def test_a_column_dropped_after_a_step_that_read_it_does_not_break_scoring(run_node, chain, titanic):
    """normalize (reads Fare) -> drop_columns(Fare): evaluation and serving still work."""
    steps = [("drop_columns", {"columns": ["deck", "alive"]}), ("drop_nulls", {}),
             ("one_hot_encode", {}), ("normalize", {}), ("drop_columns", {"columns": ["fare"]})]
    prepared = chain(Dataset(titanic), steps, target="survived")
    parts = run_node("train_test_split", {"dataset": prepared}, target_column="survived")
    model = run_node("train_logreg", {"train": parts["train"]})["model"]

    evaluation = run_node("evaluate", {"model": model, "test": parts["test"]}, plots=False)

    served = model.predictor.predict(parts["test"].raw_rows.drop(columns="survived"))
    np.testing.assert_array_equal(served, evaluation["predictions"].frame["prediction"].to_numpy())


def test_register_model_passes_the_same_artifact_on_with_its_registration(run_node, train_model):
    model, _ = train_model()
    assert model.registration is None

    registered = run_node("register_model", {"model": model}, name="titanic survival", alias="staging")["model"]

    assert registered.predictor is model.predictor
    assert registered.registration == ("titanic survival", "staging")
