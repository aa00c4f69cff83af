"""Port types: what flows along an edge between two nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """A table, plus how it was derived from the rows a loader produced.

    ``frame`` is what users see. ``raw`` holds the same rows in the loader's schema and
    ``steps`` the transforms (fitted on ``fitted_on`` rows) that turn ``raw`` into ``frame``;
    the split re-fits them on training rows only, and a model carries them so raw rows
    can be scored.
    """

    frame: pd.DataFrame
    raw: pd.DataFrame | None = None
    steps: tuple[Any, ...] = ()
    fitted_on: Literal["all", "train"] = "all"

    def __post_init__(self):
        if self.raw is None:
            object.__setattr__(self, "raw", self.frame)

    def apply(self, step) -> "Dataset":
        """Fit ``step`` on this table, transform it, and remember the step."""
        fitted = step.fit(self.frame)
        return Dataset(fitted.transform(self.frame), self.raw, (*self.steps, fitted), self.fitted_on)


@dataclass(frozen=True)
class Metrics:
    """Named evaluation figures (floats, or nested lists for matrices)."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Json:
    value: Any


PORT_TYPES: dict[type, str] = {Dataset: "dataset", Metrics: "metrics", Text: "text", Json: "json"}
