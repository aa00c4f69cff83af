"""What a node will receive, known before running: its upstream nodes run in-process on a sample.

The editor offers these columns for parameters that name a column (``column_of``), so a user picks
``target_column`` from a list. Only the nodes upstream of the one asked about run, without Prefect,
storage or tracking; loaders read at most ``SAMPLE_ROWS`` rows.
"""

from __future__ import annotations

import logging

from flows.spec import parse_workflow
from flows.uploads import default_uploads
from flows.validation import resolve_ports, validate_workflow
from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings
from nodes.base import NodeContext
from nodes.catalog import discover
from nodes.ports import Dataset, Model

log = logging.getLogger(__name__)
SAMPLE_ROWS = 200


def input_columns(raw, node_id: str, sample_rows: int = SAMPLE_ROWS) -> dict:
    """``{"node_id", "inputs": {port: {"rows", "columns": [{name, dtype}]} | {"task"}}, "problems", "warnings"}``.

    ``rows`` is the size of the sample the columns were seen in, not of the data.
    """
    spec = parse_workflow(raw)
    target = next((n for n in spec.nodes if n.id == node_id), None)
    if target is None:
        raise FlowzaError(f"node '{node_id}' is not in the workflow", code="NOT_FOUND", field="node_id")
    upstream = _ancestors(spec, node_id)
    result: dict = {"node_id": node_id, "inputs": {}, "problems": [], "warnings": []}
    if not upstream:
        return result
    definition = spec.to_json_dict()
    plan, problems = validate_workflow(definition | {
        "nodes": [n for n in definition["nodes"] if n["id"] in upstream],
        "connections": [e for e in definition["connections"] if e["source"] in upstream and e["target"] in upstream]})
    if plan is None:
        result["problems"] = [p.to_dict() for p in problems if p.severity == "error"]
        return result
    try:
        values = _run_sample(plan, sample_rows, result["warnings"])
    except FlowzaError as exc:
        result["problems"] = [exc.to_dict()]
        return result
    defn = discover().get(target.type)
    for edge in spec.connections:
        if defn is None or edge.target != node_id or edge.source not in plan.defs:
            continue
        src_port, dst_port, _ = resolve_ports(edge, {**plan.defs, node_id: defn})
        value = values.get(edge.source, {}).get(src_port)
        if dst_port and isinstance(value, Dataset):
            result["inputs"][dst_port] = {"rows": len(value.frame), "columns": [
                {"name": str(name), "dtype": str(dtype)} for name, dtype in value.frame.dtypes.items()]}
        elif dst_port and isinstance(value, Model):  # the editor offers only the metrics of the model's task
            result["inputs"][dst_port] = {"task": value.task}
    return result


def _ancestors(spec, node_id: str) -> set[str]:
    parents: dict[str, set[str]] = {}
    for edge in spec.connections:
        parents.setdefault(edge.target, set()).add(edge.source)
    seen, stack = set(), [node_id]
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    seen.discard(node_id)  # a cycle back to the node itself is validation's to report
    return seen


def run_on_sample(plan, nid: str, values: dict, sample_rows: int, warnings: list[dict], params=None) -> dict:
    """Run node ``nid`` in-process on its inputs (``values`` of the nodes before it), loaders reading at most
    ``sample_rows`` rows; its warnings are added to ``warnings``. A node's own bug is a ``NODE_FAILED``."""
    settings, defn = get_settings(), plan.defs[nid]
    ctx = NodeContext(node_id=nid, data_dir=settings.data_root, uploads=default_uploads(),
                      protected_columns=plan.protected[nid], max_dataset_mb=settings.max_dataset_mb,
                      sample_rows=sample_rows, logger=log)
    inputs = {port: values[src][src_port] for port, (src, src_port) in plan.inputs[nid].items()}
    try:
        return defn.run(inputs, params or plan.params[nid], ctx)
    except FlowzaError as exc:
        exc.node_id = exc.node_id or nid
        raise
    except Exception as exc:  # a node's own bug: say which node, keep the details in the log
        log.warning("running node %s on a sample failed", nid, exc_info=True)
        raise FlowzaError(f"node '{nid}' failed on a sample of the data: {exc}", code="NODE_FAILED",
                          node_id=nid) from exc
    finally:
        warnings += [{"node_id": nid, **w} for w in ctx.warnings]


def _run_sample(plan, sample_rows: int, warnings: list[dict]) -> dict[str, dict]:
    """Each upstream node's outputs on the sample; the warnings nodes reported are added to ``warnings``."""
    values = {}
    for nid in plan.order:
        defn = plan.defs[nid]
        outputs = run_on_sample(plan, nid, values, sample_rows, warnings)
        if defn.category == "data input":  # samples that ship whole are cut to size too
            outputs = {p: Dataset(v.frame.head(sample_rows)) if isinstance(v, Dataset) else v
                       for p, v in outputs.items()}
        values[nid] = outputs
    return values
