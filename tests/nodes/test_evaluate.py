"""``evaluate``: metric names and rules, positive class, plots, and the predictions table."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pydantic import ValidationError
from sklearn import metrics as skm

from flowza_core.errors import InvalidParameter, MissingColumn
from nodes.ports import Dataset

EXTRAS = {"labels", "classification_report", "feature_importance"}  # reported beside the metrics
BINARY = {"accuracy", "f1_score", "precision", "recall", "confusion_matrix", "roc_auc"}
MULTICLASS = BINARY | {"f1_score_macro", "precision_macro", "recall_macro"}
REGRESSION = {"rmse", "mae", "r2"}


@pytest.fixture
def table() -> pd.DataFrame:
    """200 rows, two features; a noisy signal so that every metric is strictly between 0 and 1."""
    rng = np.random.default_rng(4)
    n = 200
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    signal = frame["x1"] + rng.normal(scale=0.8, size=n)
    frame["survived"] = (signal > 0.3).astype(int)
    frame["answer"] = np.where(signal > 0.3, "yes", "no")  # sorted: no, yes
    frame["flag"] = signal > 0.3
    frame["grade"] = np.digitize(signal, [-0.5, 0.5])
    frame["amount"] = 2 * frame["x1"] + rng.normal(size=n)
    return frame


TARGETS = ["survived", "answer", "flag", "grade", "amount"]
TRAINER_PARAMS = {"train_xgboost": {"n_estimators": 15}, "train_random_forest": {"n_estimators": 15}}


@pytest.fixture
def evaluated(run_node, table):
    """``evaluated(target, trainer, **evaluate_params)`` -> (Metrics, predictions frame, test Dataset)."""

    def run(target: str, trainer: str = "train_logreg", **params):
        frame = table.drop(columns=[c for c in TARGETS if c != target])
        parts = run_node("train_test_split", {"dataset": Dataset(frame)}, target_column=target, test_size=0.3,
                         random_state=2)
        model = run_node(trainer, {"train": parts["train"]}, **TRAINER_PARAMS.get(trainer, {}))["model"]
        out = run_node("evaluate", {"model": model, "test": parts["test"]}, **params)
        return out["metrics"], out["predictions"].frame, parts["test"]

    return run


def metric_names(values: dict) -> set:
    return set(values) - EXTRAS


# --- metric names ----------------------------------------------------------------------------

@pytest.mark.parametrize("target, trainer, expected", [
    ("survived", "train_logreg", BINARY),
    ("answer", "train_xgboost", BINARY),
    ("grade", "train_logreg", MULTICLASS),
    ("grade", "train_xgboost", MULTICLASS),
    ("amount", "train_linear_regression", REGRESSION),
    ("amount", "train_random_forest", REGRESSION),
])
def test_default_metrics_are_named_as_in_the_spec(evaluated, target, trainer, expected):
    metrics, _, _ = evaluated(target, trainer, plots=False)

    assert metric_names(metrics.values) == expected
    json.dumps(metrics.values)  # stored as run data: plain JSON


def test_only_the_requested_metrics_are_computed(evaluated):
    metrics, _, _ = evaluated("grade", metrics=["accuracy", "f1_score"], plots=False)

    assert metric_names(metrics.values) == {"accuracy", "f1_score", "f1_score_macro"}


def test_multiclass_figures_are_weighted_and_macro(evaluated):
    metrics, predictions, _ = evaluated("grade", plots=False)

    y, pred = predictions["grade"], predictions["prediction"]
    for name, fn in [("f1_score", skm.f1_score), ("precision", skm.precision_score), ("recall", skm.recall_score)]:
        assert metrics.values[name] == pytest.approx(fn(y, pred, average="weighted"), abs=1e-12)
        assert metrics.values[f"{name}_macro"] == pytest.approx(fn(y, pred, average="macro"), abs=1e-12)
    assert metrics.values["f1_score"] != pytest.approx(metrics.values["f1_score_macro"], abs=1e-6), \
        "the case needs classes of different sizes to tell weighted from macro"
    assert metrics.values["accuracy"] == skm.accuracy_score(y, pred)
    assert metrics.values["confusion_matrix"] == skm.confusion_matrix(y, pred, labels=[0, 1, 2]).tolist()
    assert metrics.values["labels"] == [0, 1, 2]


def test_regression_figures(evaluated):
    metrics, predictions, _ = evaluated("amount", "train_linear_regression", plots=False)

    y, pred = predictions["amount"], predictions["prediction"]
    assert metrics.values["rmse"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)), rel=1e-12)
    assert metrics.values["mae"] == pytest.approx(np.mean(np.abs(y - pred)), rel=1e-12)
    assert metrics.values["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-12)
    assert 0 < metrics.values["r2"] < 1


@pytest.mark.parametrize("target, trainer, wrong", [
    ("survived", "train_logreg", ["rmse"]),
    ("survived", "train_logreg", ["accuracy", "r2"]),
    ("amount", "train_linear_regression", ["accuracy"]),
])
def test_a_metric_of_the_other_task_is_an_invalid_parameter(evaluated, target, trainer, wrong):
    with pytest.raises(InvalidParameter, match="do not apply") as err:
        evaluated(target, trainer, metrics=wrong)
    assert err.value.field == "metrics"


def test_an_unknown_metric_does_not_validate(evaluated):
    with pytest.raises(ValidationError):
        evaluated("survived", metrics=["auc"])


def test_a_test_table_without_the_target_is_a_missing_column(run_node, table):
    frame = table[["x1", "x2", "survived"]]
    parts = run_node("train_test_split", {"dataset": Dataset(frame)}, target_column="survived")
    model = run_node("train_logreg", {"train": parts["train"]})["model"]
    unlabelled = Dataset(parts["test"].frame.drop(columns="survived"))

    with pytest.raises(MissingColumn):
        run_node("evaluate", {"model": model, "test": unlabelled})


# --- the positive class ------------------------------------------------------------------------

def binary_figures(predictions: pd.DataFrame, target: str, positive) -> dict:
    y, pred = predictions[target], predictions["prediction"]
    return {"f1_score": skm.f1_score(y, pred, pos_label=positive),
            "precision": skm.precision_score(y, pred, pos_label=positive),
            "recall": skm.recall_score(y, pred, pos_label=positive)}


def assert_positive_class(metrics, predictions, target, positive, negative):
    expected = binary_figures(predictions, target, positive)
    other = binary_figures(predictions, target, negative)
    for name, value in expected.items():
        assert metrics.values[name] == pytest.approx(value, abs=1e-12), name
    assert expected["recall"] != pytest.approx(other["recall"], abs=1e-6), "the case must tell the classes apart"


@pytest.mark.parametrize("target, positive, negative", [
    ("survived", 1, 0),
    ("flag", True, False),
    ("answer", "yes", "no"),  # the second sorted label
])
def test_the_default_positive_class(evaluated, target, positive, negative):
    metrics, predictions, _ = evaluated(target, plots=False)

    assert_positive_class(metrics, predictions, target, positive, negative)


@pytest.mark.parametrize("target, chosen, positive, negative", [
    ("survived", 0, 0, 1),
    ("survived", "0", 0, 1),  # a label typed into a form arrives as text
    ("answer", "no", "no", "yes"),
    ("flag", False, False, True),
])
def test_an_explicit_positive_label(evaluated, target, chosen, positive, negative):
    metrics, predictions, _ = evaluated(target, positive_label=chosen, plots=False)

    assert_positive_class(metrics, predictions, target, positive, negative)


def test_roc_auc_scores_the_positive_class_probability(run_node, table):
    frame = table[["x1", "x2", "answer"]]
    parts = run_node("train_test_split", {"dataset": Dataset(frame)}, target_column="answer", test_size=0.3,
                     random_state=2)
    model = run_node("train_logreg", {"train": parts["train"]})["model"]
    rows = parts["test"].raw_rows
    proba = model.predictor.predict_proba(rows)
    y = parts["test"].frame["answer"].to_numpy()

    default = run_node("evaluate", {"model": model, "test": parts["test"]}, plots=False)["metrics"]
    chosen = run_node("evaluate", {"model": model, "test": parts["test"]}, positive_label="no",
                      plots=False)["metrics"]

    assert default.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "yes", proba[:, 1]), abs=1e-12)
    assert chosen.values["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "no", proba[:, 0]), abs=1e-12)


def test_an_unknown_positive_label_is_an_invalid_parameter(evaluated):
    with pytest.raises(InvalidParameter, match="positive_label") as err:
        evaluated("answer", positive_label="maybe")
    assert err.value.field == "positive_label"


# --- plots ---------------------------------------------------------------------------------------

def assert_png(data: bytes):
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.size[0] > 100 and image.size[1] > 100


@pytest.mark.parametrize("target, trainer, expected", [
    ("survived", "train_logreg", {"confusion_matrix.png", "roc_curve.png", "feature_importance.png"}),
    ("grade", "train_xgboost", {"confusion_matrix.png", "feature_importance.png"}),
    ("amount", "train_random_forest", {"residuals.png", "feature_importance.png"}),
])
def test_plots_are_png_images(evaluated, target, trainer, expected):
    metrics, _, _ = evaluated(target, trainer)

    assert set(metrics.artifacts) == expected
    for data in metrics.artifacts.values():
        assert_png(data)


def test_plots_false_draws_nothing_but_keeps_the_figures(evaluated):
    metrics, _, _ = evaluated("survived", plots=False)

    assert metrics.artifacts == {}
    assert metric_names(metrics.values) == BINARY
    assert set(metrics.values["feature_importance"]) == {"x1", "x2"}


# --- the predictions table ----------------------------------------------------------------------

@pytest.mark.parametrize("target, trainer, columns", [
    ("survived", "train_logreg", ["survived", "prediction", "probability"]),
    ("grade", "train_xgboost", ["grade", "prediction", "probability"]),
    ("amount", "train_linear_regression", ["amount", "prediction"]),
])
def test_predictions_hold_the_target_the_prediction_and_the_probability(evaluated, target, trainer, columns):
    metrics, predictions, test = evaluated(target, trainer, plots=False)

    assert list(predictions.columns) == columns
    assert predictions.index.equals(test.frame.index)
    np.testing.assert_array_equal(predictions[target].to_numpy(), test.frame[target].to_numpy())
    if "probability" in columns:
        assert predictions["probability"].between(0, 1).all()
        assert metrics.values["accuracy"] == (predictions[target] == predictions["prediction"]).mean()


def test_predictions_keep_the_original_labels(evaluated):
    metrics, predictions, _ = evaluated("answer", "train_xgboost", plots=False)

    assert set(predictions["prediction"]) <= {"yes", "no"}
    assert metrics.values["labels"] == ["no", "yes"]
