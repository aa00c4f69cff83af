"""``evaluate``: score a model on held-out rows, exactly as the model artifact scores them."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn import metrics as skm

from flowza_core.errors import InvalidParameter
from nodes import metrics, plots
from nodes.base import Params, node
from nodes.columns import require_columns
from nodes.metrics import CLASSIFICATION, REGRESSION
from nodes.names import unique_names
from nodes.ports import Dataset, Metrics, Model

MetricName = Literal["accuracy", "f1_score", "precision", "recall", "confusion_matrix", "roc_auc", "rmse", "mae", "r2"]


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
    try:
        return metrics.positive_class(classes, chosen)
    except ValueError as exc:
        raise InvalidParameter(str(exc), field="positive_label") from exc


def _importances(predictor) -> np.ndarray | None:
    estimator = predictor.estimator
    if hasattr(estimator, "feature_importances_"):
        return np.asarray(estimator.feature_importances_, dtype=float)
    if hasattr(estimator, "coef_"):
        return np.abs(np.atleast_2d(estimator.coef_)).mean(axis=0)
    return None


def _classification(predictor, y, pred, proba, wanted, positive_label, values, artifacts):
    classes = list(predictor.classes)
    pos = positive_class(classes, positive_label) if len(classes) == 2 else None
    values.update(metrics.classification_metrics(y, pred, proba, classes, wanted, pos))
    if "confusion_matrix" in values:
        values["labels"] = [c.item() if hasattr(c, "item") else c for c in classes]
        if artifacts is not None:
            artifacts["confusion_matrix.png"] = plots.confusion_matrix_png(np.asarray(values["confusion_matrix"]),
                                                                           classes)
    if "roc_auc" in values and pos is not None and artifacts is not None:
        fpr, tpr, _ = skm.roc_curve(y == pos, proba[:, classes.index(pos)])
        artifacts["roc_curve.png"] = plots.roc_curve_png(fpr, tpr, values["roc_auc"])
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
        values.update(metrics.regression_metrics(y, pred, wanted))
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
