"""Which columns a model cannot learn from as they are: label leaks, identifiers, free text, mostly-empty ones."""

from __future__ import annotations

import re

import pandas as pd

from flows.generate.matching import words
from flows.generate.profile import kind_of

MAX_CATEGORIES = 50  # a text column with more distinct values is free text (names, tickets): dropped, not encoded
MOSTLY_EMPTY = 0.6  # a column missing in more of the rows than this is dropped rather than imputed


def repeats_target(column: pd.Series, target: pd.Series) -> bool:
    """True when the column is the label in other words: each value stands for one class and back."""
    both = pd.DataFrame({"c": column, "t": target}).dropna()
    if both.empty or both["c"].nunique() != both["t"].nunique() or both["t"].nunique() > 20:
        return False
    return bool((both.groupby("c")["t"].nunique() == 1).all() and (both.groupby("t")["c"].nunique() == 1).all())


def is_identifier(name: str, column: pd.Series) -> bool:
    """A row number or id: unique per row, named like one, or free text unique per row."""
    values = column.dropna()
    if len(values) < 10 or values.nunique() != len(values):
        return False
    named = bool({"id", "uuid", "key", "index"} & set(words(name))) or name.lower().startswith("unnamed")
    whole = kind_of(column) == "number" and bool((values % 1 == 0).all()) if kind_of(column) == "number" else False
    return named and (whole or kind_of(column) == "text")


def unusable(frame: pd.DataFrame, target: str | None, keep: set[str]) -> dict[str, str]:
    """``{column: why}`` for the feature columns to drop before training (never the target, nor ``keep``)."""
    reasons: dict[str, str] = {}
    rows = len(frame)
    for name in frame.columns:
        column = frame[name]
        if name == target or name in keep:
            continue
        if target is not None and repeats_target(column, frame[target]):
            reasons[name] = f"it repeats the target '{target}' in other words (a label leak)"
        elif is_identifier(str(name), column):
            reasons[name] = "it identifies rows (unique per row), which predicts nothing"
        elif rows and column.isna().mean() > MOSTLY_EMPTY:
            reasons[name] = f"{column.isna().mean():.0%} of its values are missing"
        elif kind_of(column) == "text" and column.nunique() > MAX_CATEGORIES:
            reasons[name] = (f"it is free text with {column.nunique()} distinct values (more than {MAX_CATEGORIES}: "
                             f"too many to one-hot encode)")
        elif column.nunique(dropna=True) <= 1:
            reasons[name] = "it holds a single value"
    return reasons


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-._")[:60] or "model"
