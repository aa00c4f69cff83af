"""Column selection shared by the table transforms."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pandas.api import types as ptypes

from flowza_core.errors import InvalidParameter, MissingColumn


def require_columns(frame: pd.DataFrame, columns: Iterable[str], field: str = "columns") -> list[str]:
    """Return ``columns`` as a list, or raise naming every missing one and what exists."""
    columns = list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        available = ", ".join(map(str, frame.columns[:30]))
        raise MissingColumn(f"column(s) not found: {', '.join(map(str, missing))}; available: {available}",
                            field=field)
    return columns


def is_numeric_feature(series: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series)


def is_categorical_feature(series: pd.Series) -> bool:
    return not ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series) \
        and not ptypes.is_datetime64_any_dtype(series)


def pick_columns(frame: pd.DataFrame, explicit: list[str] | None, protected: Iterable[str],
                 default_rule, field: str = "columns") -> list[str]:
    """Explicit columns (checked, never a protected target) or every column matching ``default_rule``."""
    protected = set(protected)
    if explicit:
        require_columns(frame, explicit, field)
        hit = [c for c in explicit if c in protected]
        if hit:
            raise InvalidParameter(f"{', '.join(hit)} is the target column; feature transforms leave it as is",
                                   field=field)
        return list(explicit)
    return [c for c in frame.columns if c not in protected and default_rule(frame[c])]
