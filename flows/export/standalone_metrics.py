"""The metrics of Flowza's ``evaluate`` node as one plain function, copied into exported scripts.

It computes what ``nodes.evaluate`` computes, with the same scikit-learn calls, so an exported script
prints the run's figures; the export tests compare both to 1e-9. Imports nothing of Flowza's.
"""

from __future__ import annotations

import numpy as np
from pandas.api import types as ptypes
from sklearn import metrics as skm


def infer_task(y):
    """classification for text, booleans or at most 20 whole-number values; else regression."""
    if ptypes.is_bool_dtype(y) or not ptypes.is_numeric_dtype(y):
        return "classification"
    if ptypes.is_float_dtype(y) and not np.all(np.mod(y.to_numpy(), 1) == 0):
        return "regression"
    return "classification" if y.nunique() <= 20 else "regression"


def positive_class(classes, chosen=None):
    """The positive class of a binary target: ``chosen``, else 1, else True, else the second sorted label."""
    if chosen is not None:
        return next(c for c in classes if c == chosen or str(c) == str(chosen))
    for candidate in (1, True):
        if any(c is candidate or (type(c) is type(candidate) and c == candidate) for c in classes):
            return candidate
    return classes[1]


def evaluate(y, pred, proba, classes=None, wanted=None, positive_label=None):
    """Figures for held-out rows: classification when ``classes`` is given, else regression."""
    values = {}
    if classes is None:
        wanted = wanted or ["rmse", "mae", "r2"]
        if "rmse" in wanted:
            values["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
        if "mae" in wanted:
            values["mae"] = float(skm.mean_absolute_error(y, pred))
        if "r2" in wanted:
            values["r2"] = float(skm.r2_score(y, pred))
        return values
    wanted = wanted or ["accuracy", "f1_score", "precision", "recall", "confusion_matrix", "roc_auc"]
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
