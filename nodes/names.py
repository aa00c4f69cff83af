"""Column names: users' tables may hold any, estimators accept few.

A column may be called ``<1H OCEAN``, ``a[1]`` or ``naïve``, or be the integer of a
headerless CSV. XGBoost refuses ``[``, ``]`` and ``<`` in names; scikit-learn refuses a
mix of text and integer names. So estimators know features by position only, and the
columns a step creates are kept unique as text (what Parquet, JSON and charts show).
"""

from __future__ import annotations

from collections.abc import Iterable


def estimator_names(count: int) -> list[str]:
    """The names an estimator is fitted on and predicts from: ``f0`` … ``f{count-1}``."""
    return [f"f{i}" for i in range(count)]


def unique_names(names: Iterable, taken: Iterable = ()) -> list[str]:
    """``names`` as text, each unique and none in ``taken``: a repeat gets ``_2``, ``_3``, … in order."""
    seen = {str(name) for name in taken}
    out = []
    for name in map(str, names):
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out
