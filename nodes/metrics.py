"""The figures of ``evaluate``, as plain functions of labels, predictions and probabilities.

They import nothing of Flowza's: exported scripts carry a copy of them (``flows.export``), so a script
computes a run's metrics with the very same code.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

CLASSIFICATION = ["accuracy", "f1_score", "precision", "recall", "confusion_matrix", "roc_auc"]
REGRESSION = ["rmse", "mae", "r2"]


def positive_class(classes, chosen=None):
    """The positive class of a binary target: ``chosen``, else 1, else True, else the second sorted label."""
    if chosen is not None:
        match = [c for c in classes if c == chosen or str(c) == str(chosen)]
        if not match:
            raise ValueError(f"positive_label {chosen!r} is not a class: {classes}")
        return match[0]
    for candidate in (1, True):
        if any(c is candidate or (type(c) is type(candidate) and c == candidate) for c in classes):
            return candidate
    return classes[1]


def classification_metrics(y, pred, proba, classes, wanted=None, positive_label=None) -> dict:
    """Accuracy, F1, precision, recall (binary: of the positive class; else weighted and macro), the
    confusion matrix and ROC AUC (binary; else one-vs-rest, weighted) of held-out rows."""
    wanted, values = wanted or CLASSIFICATION, {}
    binary = len(classes) == 2
    pos = positive_class(classes, positive_label) if binary else None
    if "accuracy" in wanted:
        values["accuracy"] = float(skm.accuracy_score(y, pred))
    scores = {"f1_score": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}
    for name, score in scores.items():
        if name not in wanted:
            continue
        if binary:
            values[name] = float(score(y, pred, pos_label=pos, average="binary", zero_division=0))
        else:
            values[name] = float(score(y, pred, labels=classes, average="weighted", zero_division=0))
            values[f"{name}_macro"] = float(score(y, pred, labels=classes, average="macro", zero_division=0))
    if "confusion_matrix" in wanted:
        values["confusion_matrix"] = skm.confusion_matrix(y, pred, labels=classes).tolist()
    if "roc_auc" in wanted and proba is not None and len(set(y)) == len(classes):
        if binary:
            values["roc_auc"] = float(skm.roc_auc_score(y == pos, proba[:, classes.index(pos)]))
        else:
            values["roc_auc"] = float(skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted",
                                                        labels=classes))
    return values


def regression_metrics(y, pred, wanted=None) -> dict:
    """RMSE, MAE and r2 of held-out rows."""
    wanted, values = wanted or REGRESSION, {}
    if "rmse" in wanted:
        values["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
    if "mae" in wanted:
        values["mae"] = float(skm.mean_absolute_error(y, pred))
    if "r2" in wanted:
        values["r2"] = float(skm.r2_score(y, pred))
    return values
