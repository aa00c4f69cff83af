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
    target: str | None = None  # set by the split: what training nodes predict by default
    # The table each step was fitted on (in memory only): lets the split reuse outputs.
    inputs: tuple[pd.DataFrame, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self):
        if self.raw is None:
            object.__setattr__(self, "raw", self.frame)

    def apply(self, step) -> "Dataset":
        """Fit ``step`` on this table, transform it, and remember the step."""
        fitted = step.fit(self.frame)
        history = (*self.inputs, self.frame) if len(self.inputs) == len(self.steps) else ()
        return Dataset(fitted.transform(self.frame), self.raw, (*self.steps, fitted), self.fitted_on, self.target,
                       history)

    @property
    def raw_rows(self) -> pd.DataFrame:
        """This table's rows as the loader read them (before any step)."""
        return self.raw if self.raw is self.frame else self.raw.loc[self.frame.index]


@dataclass(frozen=True)
class Model:
    """A trained model: every fitted transform plus the estimator (see ``nodes.model``).

    ``registration`` (name, alias) asks the engine to register it in the model registry; ``reference``
    holds the statistics of its raw training rows (see ``nodes.reference``), logged with it for monitoring.
    """

    predictor: Any
    registration: tuple[str, str | None] | None = None
    reference: dict | None = field(default=None, compare=False)

    @property
    def task(self) -> str:
        return self.predictor.task


@dataclass(frozen=True)
class Metrics:
    """Named evaluation figures (floats, or nested lists for matrices) and plots (PNG bytes)."""

    values: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Json:
    value: Any


PORT_TYPES: dict[type, str] = {Dataset: "dataset", Model: "model", Metrics: "metrics", Text: "text", Json: "json"}

# The original design's port names, still accepted in workflows (SPEC §6): the split's outputs, the training
# nodes' input and evaluate's test input. A workflow keeps the names its author wrote; only reading resolves them.
SEED_PORT_ALIASES: dict[str, str] = {"train_dataset": "train", "test_dataset": "test"}


def port_aliases(ports) -> dict[str, str]:
    """The seed aliases that apply to a node with these port names: ``{alias: canonical}``.

    An alias applies when the node has the canonical port and no port of its own named like the alias.
    """
    names = set(ports)
    return {alias: canonical for alias, canonical in SEED_PORT_ALIASES.items()
            if canonical in names and alias not in names}
