"""What exporting is made of: cells of code, the variables that stand for tables and fitted models, and how a
constructor call is written."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field


@dataclass
class Cell:
    title: str
    text: str  # markdown: what the node does
    code: str


@dataclass(frozen=True)
class Table:
    frame: str  # the variable holding the rows
    raw: str  # the loader's table these rows came from
    steps: str  # an expression: the fitted (name, step) pairs that made ``frame`` from ``raw``
    fitted_on: str = "all"
    target: str | None = None


@dataclass(frozen=True)
class Fitted:
    estimator: str
    table: Table  # the training table
    target_var: str  # the variable naming the target column
    classes: str  # the variable holding the classes (None for regression)
    encoded: bool  # labels fitted as their position in ``classes`` (XGBoost)
    task: str = "auto"  # classification, regression, or auto: decided when the script runs


@dataclass
class Built:
    """What exporting produced: cells, the data paths parameter, and what could not be exported."""

    cells: list[Cell] = field(default_factory=list)
    data: dict[str, tuple[str, str]] = field(default_factory=dict)  # node id -> (file path, what it is)
    unsupported: list[str] = field(default_factory=list)
    uses_steps: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)  # imports and helpers needed: "xgboost", "joblib", ...


def literal(value) -> str:
    return repr(value)


def constructor_call(name: str, values: dict, defaults: dict | None = None) -> str:
    """``Name(a=1, b='x')``, leaving out arguments equal to the class's own defaults."""
    defaults = defaults or {}
    args = [f"{k}={literal(v)}" for k, v in values.items() if k not in defaults or defaults[k] != v]
    return f"{name}({', '.join(args)})"


def wrapped(head: str, args: str, width: int = 110) -> str:
    """``head(args)``, the arguments on a line of their own when that is too long."""
    if len(head) + len(args) <= width:
        return head + args
    return f"{head}(\n    {args[1:-1]},\n)"


def defaults_of(cls) -> dict:
    return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}
