"""Before a generated workflow is offered: it validates, and every node runs in-process on a sample of the data.

The sample is up to 200 rows drawn across the target's classes (not the file's first rows, which may hold one
class only); the loader itself still runs, on the file's first rows, so a missing file or a bad path shows up.
"""

from __future__ import annotations

import logging

import pandas as pd

from flows.preview import SAMPLE_ROWS, run_on_sample
from flows.validation import Plan, validate_workflow
from flowza_core.errors import FlowzaError
from nodes.ports import Dataset

log = logging.getLogger(__name__)


def problems_of(workflow: dict) -> tuple[Plan | None, list[str]]:
    """The validated plan, or None and every validation error as a sentence naming its node."""
    plan, problems = validate_workflow(workflow)
    return plan, [str(p) for p in problems if p.severity == "error"]


def sample_rows(frame: pd.DataFrame, target: str | None, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """At most ``rows`` rows, each class of ``target`` kept in proportion (at least two rows of each when it can)."""
    if len(frame) <= rows:
        return frame.reset_index(drop=True)
    if target is None or target not in frame.columns or frame[target].nunique() > rows // 4:
        return frame.sample(rows, random_state=0).reset_index(drop=True)
    share = rows / len(frame)
    parts = [group.sample(min(len(group), max(2, round(len(group) * share))), random_state=0)
             for _, group in frame.groupby(target, dropna=False, sort=True)]
    return pd.concat(parts).sample(frac=1, random_state=0).head(rows).reset_index(drop=True)


def dry_run(plan: Plan, frame: pd.DataFrame) -> list[dict]:
    """Run every node of ``plan`` on a sample of ``frame`` (what its loader reads); return the nodes' warnings.

    Raises the first node's ``FlowzaError`` (with its ``node_id``); evaluation draws no plots here.
    """
    values, warnings = {}, []
    targets = [t for nid in plan.order for t in _targets(plan, nid)]
    sample = sample_rows(frame, targets[0] if targets else None)
    for nid in plan.order:
        defn, params = plan.defs[nid], plan.params[nid]
        if defn.type == "evaluate":
            params = params.model_copy(update={"plots": False})
        outputs = run_on_sample(plan, nid, values, 5, warnings, params)
        if defn.category == "data input":
            read = [str(c) for c in next(iter(outputs.values())).frame.columns]
            if read != [str(c) for c in frame.columns]:
                raise FlowzaError(f"node '{nid}' reads columns {read[:10]}, not the profiled table's", node_id=nid,
                                  code="NODE_FAILED")
            outputs = {port: Dataset(sample.copy()) for port in outputs}
        values[nid] = outputs
    return warnings


def _targets(plan: Plan, node_id: str) -> list[str]:
    value = getattr(plan.params[node_id], "target_column", None)
    return [value] if isinstance(value, str) else []
