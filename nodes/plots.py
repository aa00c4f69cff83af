"""Evaluation plots as PNG bytes (matplotlib, no display)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
# Labels are users' column names and class values: a '$' in them is text, not math ("$\frac$" would not draw).
matplotlib.rcParams["text.parse_math"] = False
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def confusion_matrix_png(matrix, labels) -> bytes:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    image = ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(labels))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=labels, yticklabels=labels,
           xlabel="predicted", ylabel="actual", title="Confusion matrix")
    limit = np.max(matrix) / 2 if np.size(matrix) else 0
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > limit else "black")
    fig.colorbar(image, ax=ax)
    return _png(fig)


def roc_curve_png(fpr, tpr, auc: float) -> bytes:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot(fpr, tpr, label=f"AUC = {auc:.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    return _png(fig)


def feature_importance_png(names, values, top: int = 20) -> bytes:
    order = np.argsort(values)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(6, max(2.5, 0.3 * len(order) + 1)))
    ax.barh([str(names[i]) for i in order], [values[i] for i in order])
    ax.set(xlabel="importance", title="Feature importance")
    return _png(fig)


def residuals_png(y_true, y_pred) -> bytes:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(y_pred, np.asarray(y_true) - np.asarray(y_pred), s=8, alpha=0.5)
    ax.axhline(0, color="grey", linestyle="--")
    ax.set(xlabel="predicted", ylabel="actual - predicted", title="Residuals")
    return _png(fig)
