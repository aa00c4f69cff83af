"""A workflow as a standalone Python script, a Jupyter notebook, or its JSON.

The script and the notebook hold the same code (``flows.export.cells``): plain pandas, scikit-learn and
XGBoost, no Flowza import, the data paths as a parameter at the top, and the run's metrics printed as
JSON at the end. Nodes without a plain-Python version become stubs that raise; ``Export.unsupported``
names them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from flows.export.cells import Exporter, metrics_source, step_sources
from flows.export.parts import Cell
from flows.validation import compile_plan

Format = Literal["py", "ipynb", "json"]
FORMATS: tuple[str, ...] = ("py", "ipynb", "json")
MEDIA_TYPES = {"py": "text/x-python; charset=utf-8", "ipynb": "application/x-ipynb+json",
               "json": "application/json"}
IMPORTS = {  # what a use needs: import lines
    "base": ["import json", "from pathlib import Path", "", "import numpy as np", "import pandas as pd",
             "from pandas.api import types as ptypes", "from sklearn import metrics as skm"],
    "steps": ["from sklearn.base import BaseEstimator, TransformerMixin"],
    "scalers": ["from sklearn.preprocessing import MinMaxScaler, StandardScaler"],
    "datasets": ["from sklearn import datasets"],
    "pipeline": ["from sklearn.base import clone", "from sklearn.pipeline import Pipeline"],
    "split": ["from sklearn.model_selection import train_test_split"],
    "logreg": ["from sklearn.linear_model import LogisticRegression"],
    "linear": ["from sklearn.linear_model import LinearRegression"],
    "forest": ["from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor"],
    "xgboost": ["from xgboost import XGBClassifier, XGBRegressor"],
    "joblib": ["import joblib"],
}


@dataclass(frozen=True)
class Export:
    text: str
    filename: str
    media_type: str
    unsupported: list[str]


FUTURE = "from __future__ import annotations  # the copied helpers' type hints stay unevaluated"
HELPERS = "Steps and metrics"
SHADOWED = {"json", "pathlib", "numpy", "pandas", "sklearn", "xgboost", "joblib"}  # what a script imports


def slug(name: str) -> str:
    """A file name from a workflow's name; never one that would shadow a module the script imports."""
    stem = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:80] or "workflow"
    return f"{stem}_workflow" if stem in SHADOWED else stem


def export_workflow(raw: dict, fmt: Format) -> Export:
    """Export a workflow (validated first: an invalid one raises ``WorkflowInvalid``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    plan = compile_plan(raw)
    name = plan.spec.name
    if fmt == "json":
        return Export(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", f"{slug(name)}.json",
                      MEDIA_TYPES["json"], [])
    built = Exporter(plan).run()
    header = _header(name, plan.spec.description or "", built.unsupported)
    setup = _setup(built)
    cells = [*setup, *built.cells,
             Cell("Metrics", "The figures of every evaluate node, as the Flowza run reported them.",
                  "print(json.dumps(metrics, indent=2))")]
    render = _notebook if fmt == "ipynb" else _script
    return Export(render(header, cells), f"{slug(name)}.{fmt}", MEDIA_TYPES[fmt], built.unsupported)


def _header(name: str, description: str, unsupported: list[str]) -> str:
    lines = [f"# {name}", "", *([description, ""] if description else []),
             f"Exported from Flowza on {datetime.now(UTC):%Y-%m-%d}. It reproduces the Flowza run: the same data, "
             f"steps, split, estimator parameters and metrics, with pandas, scikit-learn and XGBoost only.",
             "Change the data paths in `DATA` to run it on other files with the same columns."]
    if unsupported:
        lines += ["", f"**Not exported** (stubs that raise; write them by hand): {', '.join(unsupported)}."]
    return "\n".join(lines)


def _setup(built) -> list[Cell]:
    uses = {"base", *built.uses}
    uses |= {"split"} if any("train_test_split" in c.code for c in built.cells) else set()
    uses |= {"steps"} if built.uses_steps else set()
    uses |= {"scalers"} if "Normalize" in built.uses_steps else set()
    imports = [line for key in IMPORTS if key in uses for line in IMPORTS[key]]
    data = "\n".join(f"    {node_id!r}: {path!r},  # {note}" for node_id, (path, note) in built.data.items())
    parameters = f"DATA = {{\n{data}\n}}" if data else "DATA = {}"
    if "joblib" in uses:
        parameters += "\nMODEL_DIR = \".\"  # where fitted models are saved"
    helpers = "\n\n\n".join(filter(None, [step_sources(built.uses_steps, built.uses), metrics_source()]))
    return [Cell("Parameters", "Where the data comes from: one path per loader node.", parameters),
            Cell("Imports", "pandas, NumPy, scikit-learn and XGBoost only.", "\n".join(imports)),
            Cell(HELPERS, "Flowza's table steps as scikit-learn transformers, and the metrics of "
                 "its evaluate node.", helpers + "\n\n\nmetrics = {}")]


def _script(header: str, cells: list[Cell]) -> str:
    doc = header.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    parts = [f'"""{doc}\n"""', FUTURE]
    for cell in cells:
        parts.append(f"# %% {cell.title}\n# {cell.text}\n{cell.code}")
    return "\n\n".join(parts) + "\n"


def _notebook(header: str, cells: list[Cell]) -> str:
    import nbformat

    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.cells.append(nbformat.v4.new_markdown_cell(header))
    for cell in cells:
        book.cells.append(nbformat.v4.new_markdown_cell(f"## {cell.title}\n\n{cell.text}"))
        code = nbformat.v4.new_code_cell(f"{FUTURE}\n\n{cell.code}" if cell.title == HELPERS else cell.code)
        if cell.title == "Parameters":
            code.metadata["tags"] = ["parameters"]  # papermill's parameters cell
        book.cells.append(code)
    return nbformat.writes(book)
