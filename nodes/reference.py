"""Reference statistics of a model's training rows: what monitoring compares live traffic with.

Computed on the raw rows (the loader's schema, as predictions arrive), one entry per input column:

- numeric: count, nulls, mean, std, min, max, the 9 inner cut points of 10 quantile bins (``edges``:
  bin 0 holds x ≤ edges[0], bin i holds edges[i-1] < x ≤ edges[i], the last x > edges[-1]; repeated
  cut points of a discrete column collapse, so it has fewer bins) with each bin's share of the rows,
  and a seeded sample of at most ``SAMPLE_SIZE`` values for a two-sample KS test;
- categorical (text, bool): the shares of the ``TOP_CATEGORIES`` most frequent values (keyed by
  ``category_key``), the rest summed under ``OTHER``.

JSON-ready: it is logged as the model's ``reference_stats.json``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 10
SAMPLE_SIZE = 1000
TOP_CATEGORIES = 50
OTHER = "__other__"
QUANTILE_ROWS = 100_000  # bins of more rows than this come from a seeded sample of this size (shares ±0.002)
SEED = 0


def category_key(value) -> str:
    """The key a categorical value is counted under: the same for a training cell and a JSON prediction input
    (``1``, ``1.0`` and ``np.int64(1)`` are all ``"1"``; ``True`` is ``"True"``)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def bin_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """The share of ``values`` in each bin the cut points ``edges`` make (``len(edges) + 1`` bins)."""
    counts = np.bincount(np.searchsorted(np.asarray(edges, dtype=float), values, side="left"),
                         minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def _numeric(series: pd.Series, rng: np.random.Generator) -> dict:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    values = values[np.isfinite(values)]
    stats = {"kind": "numeric", "count": int(len(values)), "nulls": int(series.isna().sum())}
    if not len(values):
        return stats | {"mean": None, "std": None, "min": None, "max": None, "edges": [], "proportions": [],
                        "sample": []}
    some = values if len(values) <= QUANTILE_ROWS else values[rng.integers(0, len(values), QUANTILE_ROWS)]
    edges = np.unique(np.quantile(some, np.linspace(0, 1, BINS + 1)[1:-1], method="inverted_cdf")).tolist()
    sample = values if len(values) <= SAMPLE_SIZE else rng.choice(values, SAMPLE_SIZE, replace=False)
    return stats | {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
                    "max": float(values.max()), "edges": edges, "proportions": bin_shares(some, edges).tolist(),
                    "sample": [float(v) for v in sample]}


def _categorical(series: pd.Series) -> dict:
    distinct = series.value_counts(dropna=True)  # keyed once per distinct value, not per row
    counts = distinct.groupby(distinct.index.map(category_key)).sum().sort_values(ascending=False, kind="stable")
    present = int(counts.sum())
    shares = {str(k): int(n) / present for k, n in counts.iloc[:TOP_CATEGORIES].items()}
    if len(counts) > TOP_CATEGORIES:
        shares[OTHER] = int(counts.iloc[TOP_CATEGORIES:].sum()) / present
    return {"kind": "categorical", "count": present, "nulls": int(len(series) - present), "frequencies": shares}


def reference_stats(rows: pd.DataFrame, kinds: dict[str, str], *, task: str | None = None,
                    target: str | None = None) -> dict:
    """The reference of ``rows`` for the columns of ``kinds`` (column → 'number' | 'bool' | 'text')."""
    rng = np.random.default_rng(SEED)
    features = {str(column): _numeric(rows[column], rng) if kind == "number" else _categorical(rows[column])
                for column, kind in kinds.items()}
    return {"rows": int(len(rows)), "task": task, "target": target, "features": features}
