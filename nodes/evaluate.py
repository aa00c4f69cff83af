"""``evaluate``: score a model on held-out rows, exactly as the model artifact scores them."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn import metrics as skm

from flowza.errors import InvalidParameter
from nodes import plots
from nodes.base import Params, node
from nodes.columns import require_columns
from nodes.names import unique_names
from nodes.ports import Dataset, Metrics, Model

MetricName = Literal["accuracy", "f1_score", "precision", "recall", "confusion_matrix", "roc_auc", "rmse", "mae", "r2"]
CLASSIFICATION = ["accuracy", "f1_score", "precision", "recall", "confusion_matrix", "roc_auc"]
REGRESSION = ["rmse", "mae", "r2"]


class EvaluateParams(Params):
    metrics: list[MetricName] | None = Field(
        None, description="Metrics to compute (default: all for the task).",
        json_schema_extra={"task_options": {"classification": CLASSIFICATION, "regression": REGRESSION}})
    positive_label: str | int | bool | None = Field(
        None, description="Binary targets: the positive class (default: 1, True, or the second sorted label).",
        json_schema_extra={"advanced": True})
    plots: bool = Field(True, description="Draw confusion matrix, ROC, feature importance / residual plots.",
                        json_schema_extra={"advanced": True})


class Evaluation(NamedTuple):
    metrics: Metrics
    predictions: Dataset


def positive_class(classes: list, chosen=None):
    if chosen is not None:
        match = [c for c in classes if c == chosen or str(c) == str(chosen)]
        if not match:
            raise InvalidParameter(f"positive_label {chosen!r} is not a class: {classes}", field="positive_label")
        return match[0]
    for candidate in (1, True):
        if any(c is candidate or (type(c) is type(candidate) and c == candidate) for c in classes):
            return candidate
    return classes[1]


def _importances(predictor) -> np.ndarray | None:
    estimator = predictor.estimator
    if hasattr(estimator, "feature_importances_"):
        return np.asarray(estimator.feature_importances_, dtype=float)
    if hasattr(estimator, "coef_"):
        return np.abs(np.atleast_2d(estimator.coef_)).mean(axis=0)
    return None


def _classification(predictor, y, pred, proba, wanted, positive_label, values, artifacts):
    classes = list(predictor.classes)
    binary = len(classes) == 2
    pos = positive_class(classes, positive_label) if binary else None
    scores = {"f1_score": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}
    if "accuracy" in wanted:
        values["accuracy"] = float(skm.accuracy_score(y, pred))
    for name, fn in scores.items():
        if name not in wanted:
            continue
        if binary:
            values[name] = float(fn(y, pred, pos_label=pos, average="binary", zero_division=0))
        else:
            values[name] = float(fn(y, pred, labels=classes, average="weighted", zero_division=0))
            values[f"{name}_macro"] = float(fn(y, pred, labels=classes, average="macro", zero_division=0))
    if "confusion_matrix" in wanted:
        matrix = skm.confusion_matrix(y, pred, labels=classes)
        values["confusion_matrix"] = matrix.tolist()
        values["labels"] = [c.item() if hasattr(c, "item") else c for c in classes]
        if artifacts is not None:
            artifacts["confusion_matrix.png"] = plots.confusion_matrix_png(matrix, classes)
    if "roc_auc" in wanted and proba is not None and len(set(y)) == len(classes):
        if binary:
            score = proba[:, classes.index(pos)]
            values["roc_auc"] = float(skm.roc_auc_score(y == pos, score))
            if artifacts is not None:
                fpr, tpr, _ = skm.roc_curve(y == pos, score)
                artifacts["roc_curve.png"] = plots.roc_curve_png(fpr, tpr, values["roc_auc"])
        else:
            values["roc_auc"] = float(skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted",
                                                        labels=classes))
    values["classification_report"] = skm.classification_report(y, pred, labels=classes, output_dict=True,
                                                                 zero_division=0)


@node(category="evaluation")
def evaluate(model: Model, test: Dataset, params: EvaluateParams) -> Evaluation:
    """Score a model on held-out rows: metrics, plots, and every row's prediction."""
    predictor = model.predictor
    target = predictor.target
    require_columns(test.frame, [target], "test")
    rows = test.raw_rows  # raw rows through the model's own steps: what a deployment would answer
    y = test.frame[target].to_numpy()
    pred, proba = predictor.predict_with_proba(rows)
    classification = predictor.task == "classification"
    wanted = params.metrics or (CLASSIFICATION if classification else REGRESSION)
    wrong = [m for m in wanted if m not in (CLASSIFICATION if classification else REGRESSION)]
    if wrong:
        raise InvalidParameter(f"metric(s) {', '.join(wrong)} do not apply to {predictor.task}", field="metrics")
    values: dict = {}
    artifacts: dict | None = {} if params.plots else None
    predictions = pd.DataFrame({target: y, "prediction": pred}, index=rows.index)
    if classification:
        if proba is not None:
            predictions["probability"] = proba.max(axis=1)
        _classification(predictor, y, pred, proba, wanted, params.positive_label, values, artifacts)
    else:
        if "rmse" in wanted:
            values["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
        if "mae" in wanted:
            values["mae"] = float(skm.mean_absolute_error(y, pred))
        if "r2" in wanted:
            values["r2"] = float(skm.r2_score(y, pred))
        if artifacts is not None:
            artifacts["residuals.png"] = plots.residuals_png(y, pred)
    importances = _importances(predictor)
    if importances is not None:
        # Keyed by the user's column names (the estimator only knows f0..fN), unique as JSON keys.
        values["feature_importance"] = dict(zip(unique_names(predictor.feature_columns), importances.tolist()))
        if artifacts is not None:
            artifacts["feature_importance.png"] = plots.feature_importance_png(
                [str(c) for c in predictor.feature_columns], importances)
    return Evaluation(Metrics(values, artifacts or {}), Dataset(predictions))
