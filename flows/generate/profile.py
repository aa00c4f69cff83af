"""What the generator knows of a dataset: where the workflow reads it, its table, and a profile of its columns."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pandas.api import types as ptypes

PROFILE_ROWS = 20000  # rows read to profile an uploaded file: enough to see its columns' kinds and gaps


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    dtype: str
    kind: str  # "number", "bool" or "text"
    nulls: int
    distinct: int
    examples: tuple

    def to_dict(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "kind": self.kind, "nulls": self.nulls,
                "distinct": self.distinct, "examples": list(self.examples)}


@dataclass(frozen=True)
class Source:
    """A dataset to build on: the loader node reading it (``{"type", "parameters"}``), its rows, a display name.

    ``label`` is the column a shipped sample predicts (``nodes.samples.LABELS``); None for other data.
    """

    loader: dict
    frame: pd.DataFrame
    name: str
    label: str | None = None

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def profile(self) -> list[ColumnProfile]:
        return [profile_column(str(name), column) for name, column in self.frame.items()]


def kind_of(series: pd.Series) -> str:
    if ptypes.is_bool_dtype(series):
        return "bool"
    return "number" if ptypes.is_numeric_dtype(series) else "text"


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (int, float, bool)) else str(value)[:40]


def profile_column(name: str, column: pd.Series) -> ColumnProfile:
    values = column.dropna().unique()[:5]
    return ColumnProfile(name=name, dtype=str(column.dtype), kind=kind_of(column), nulls=int(column.isna().sum()),
                         distinct=int(column.nunique()), examples=tuple(_plain(v) for v in values))


def sample_source(name: str) -> Source:
    """A dataset shipped with Flowza, read by a ``sample_dataset`` node."""
    from nodes.samples import LABELS, load_sample

    return Source({"type": "sample_dataset", "parameters": {"name": name}}, load_sample(name), name, LABELS.get(name))
