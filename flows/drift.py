"""What a monitoring run measures, from rows alone: drift per feature, accuracy or RMSE, latency and volume.

Drift compares a window of prediction inputs with the model's reference (``nodes.reference``) twice:
the population stability index (PSI) says how far the distribution moved, a test says whether the move is
more than sampling noise (numeric: two-sample Kolmogorov–Smirnov against the reference sample; categorical:
chi-square against the reference frequencies). A feature drifts when both agree and the window holds
enough rows: PSI alone flags small windows by chance, a p-value alone flags negligible moves on large ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import stats

from nodes.reference import OTHER, bin_shares, category_key

PSI_FLOOR = 1e-4  # an empty bin counts as this share: PSI stays finite, and one stray row barely moves it


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of the shares ``actual`` against ``expected`` (same bins)."""
    e, a = np.maximum(expected, PSI_FLOOR), np.maximum(actual, PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _numeric_drift(ref: dict, values: list) -> dict:
    x = np.asarray([v for v in values if _is_number(v)], dtype="float64")
    x = x[np.isfinite(x)]
    if not len(x) or not ref["sample"]:
        return {"kind": "numeric", "rows": int(len(x)), "psi": None, "statistic": None, "p_value": None}
    test = stats.ks_2samp(np.asarray(ref["sample"], dtype="float64"), x)
    return {"kind": "numeric", "rows": int(len(x)),
            "psi": psi(np.asarray(ref["proportions"]), bin_shares(x, ref["edges"])),
            "statistic": _finite(test.statistic), "p_value": _finite(test.pvalue)}


def _categorical_drift(ref: dict, values: list) -> dict:
    keys = [category_key(v) for v in values if v is not None]
    if not keys or not ref["frequencies"]:
        return {"kind": "categorical", "rows": len(keys), "psi": None, "statistic": None, "p_value": None}
    known = list(ref["frequencies"])
    categories = known if OTHER in known else [*known, OTHER]  # unseen values go to OTHER
    index = {c: i for i, c in enumerate(categories)}
    observed = np.bincount([index.get(k, index[OTHER]) for k in keys], minlength=len(categories)).astype(float)
    expected = np.maximum(np.asarray([ref["frequencies"].get(c, 0.0) for c in categories]), PSI_FLOOR)
    expected = expected / expected.sum()
    test = stats.chisquare(observed, expected * observed.sum())
    return {"kind": "categorical", "rows": len(keys), "psi": psi(expected, observed / observed.sum()),
            "statistic": _finite(test.statistic), "p_value": _finite(test.pvalue)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def feature_drift(reference: dict, inputs: Sequence[dict], thresholds: dict) -> dict[str, dict]:
    """Per reference feature: ``{kind, rows, psi, statistic, p_value, drifted}`` for the input rows given
    (each a column → value mapping, as logged with a prediction); a column missing from a row counts as null."""
    out = {}
    for name, ref in reference["features"].items():
        values = [row.get(name) for row in inputs]
        measured = _numeric_drift(ref, values) if ref["kind"] == "numeric" else _categorical_drift(ref, values)
        measured["drifted"] = bool(
            measured["rows"] >= thresholds["min_rows"] and measured["psi"] is not None
            and measured["p_value"] is not None and measured["psi"] >= thresholds["drift_psi"]
            and measured["p_value"] < thresholds["drift_p_value"])
        out[name] = measured
    return out


def _same_label(predicted, actual) -> bool:
    return category_key(predicted) == category_key(actual)


def accuracy(pairs: Iterable[tuple[object, object]]) -> float | None:
    """Share of (prediction, label) pairs that agree; None without pairs."""
    hits = [_same_label(p, a) for p, a in pairs]
    return sum(hits) / len(hits) if hits else None


def rmse(pairs: Iterable[tuple[object, object]]) -> float | None:
    """Root mean squared error of numeric (prediction, label) pairs; None without any."""
    errors = [float(p) - float(a) for p, a in pairs if _is_number(p) and _is_number(a)]
    return _finite(math.sqrt(sum(e * e for e in errors) / len(errors))) if errors else None


def latency_percentiles(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50, p95 and p99 of request latencies (ms); None without requests."""
    if not len(latencies_ms):
        return {"latency_p50": None, "latency_p95": None, "latency_p99": None}
    p50, p95, p99 = np.percentile(np.asarray(latencies_ms, dtype="float64"), [50, 95, 99])
    return {"latency_p50": float(p50), "latency_p95": float(p95), "latency_p99": float(p99)}
