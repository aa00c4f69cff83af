"""Whole-workflow validation: collect every problem, then report them together."""

from __future__ import annotations

import difflib
import graphlib
from dataclasses import dataclass, field

from pydantic import ValidationError

from flowza_core.errors import WorkflowInvalid
from flows.problems import Problem
from flows.spec import WorkflowSpec, parse_workflow
from nodes.base import NodeDef, Params
from nodes.catalog import discover
from nodes.ports import port_aliases


@dataclass(frozen=True)
class Link:
    """A resolved edge: ``source.source_port`` feeds ``target.target_port``."""

    source: str
    source_port: str
    target: str
    target_port: str


@dataclass
class Plan:
    """A valid workflow, ready to run: nodes in dependency order, inputs resolved."""

    spec: WorkflowSpec
    order: list[str]
    defs: dict[str, NodeDef]
    params: dict[str, Params]
    inputs: dict[str, dict[str, tuple[str, str]]]  # node -> input port -> (source node, source port)
    protected: dict[str, frozenset[str]]
    warnings: list[Problem] = field(default_factory=list)
    _labels: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._labels = {n.id: n.label for n in self.spec.nodes}

    def label(self, node_id: str) -> str:
        return self._labels[node_id]


def suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def param_problems_of(node_id: str, defn: NodeDef, raw: dict) -> tuple[Params | None, list[Problem]]:
    try:
        return defn.params_model.model_validate(raw), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else None
            if err["type"] == "extra_forbidden":
                msg = f"unknown parameter '{name}'{suggest(name, defn.params_model.model_fields)}"
            else:
                msg = f"{name}: {err['msg']}" if name else err["msg"].removeprefix("Value error, ")
            problems.append(Problem("INVALID_PARAMETER", msg, node_id=node_id, field=name))
        return None, problems


def _canonical(handle: str | None, ports: dict[str, str]) -> str | None:
    """The port a handle names: itself, or the canonical port a seed alias (``train_dataset``…) stands for."""
    if handle is None or handle in ports:
        return handle
    return port_aliases(ports).get(handle, handle)


def resolve_ports(edge, defs) -> tuple[str | None, str | None, list[Problem]]:
    """The ports an edge links: seed aliases resolved, omitted handles filled in where exactly one port fits.

    Problems name the choices when a handle is unknown or ambiguous.
    """
    src_def, dst_def = defs[edge.source], defs[edge.target]
    problems = []
    src_port = _canonical(edge.sourceHandle, src_def.outputs)
    dst_port = _canonical(edge.targetHandle, dst_def.inputs)
    if src_port is not None and src_port not in src_def.outputs:
        problems.append(Problem("UNKNOWN_PORT", f"{edge.source} ({src_def.type}) has no output '{src_port}'; "
                                f"outputs: {', '.join(src_def.outputs) or 'none'}", node_id=edge.source))
        src_port = None
    if dst_port is not None and dst_port not in dst_def.inputs:
        problems.append(Problem("UNKNOWN_PORT", f"{edge.target} ({dst_def.type}) has no input '{dst_port}'; "
                                f"inputs: {', '.join(dst_def.inputs) or 'none'}", node_id=edge.target))
        dst_port = None
    if problems:
        return None, None, problems
    if src_port is None:
        want = dst_def.inputs[dst_port] if dst_port else None
        options = [p for p, t in src_def.outputs.items() if want is None or t == want]
        if len(options) != 1:
            problems.append(Problem("AMBIGUOUS_PORT" if options else "PORT_TYPE_MISMATCH",
                                    f"edge {edge.source} -> {edge.target}: give sourceHandle, one of: "
                                    f"{', '.join(src_def.outputs) or 'none'}", node_id=edge.target))
            return None, None, problems
        src_port = options[0]
    if dst_port is None:
        options = [p for p, t in dst_def.inputs.items() if t == src_def.outputs[src_port]]
        if len(options) != 1:
            problems.append(Problem("AMBIGUOUS_PORT" if options else "PORT_TYPE_MISMATCH",
                                    f"edge {edge.source} -> {edge.target}: give targetHandle, one of: "
                                    f"{', '.join(dst_def.inputs) or 'none'}", node_id=edge.target))
            return None, None, problems
        dst_port = options[0]
    if src_def.outputs[src_port] != dst_def.inputs[dst_port]:
        problems.append(Problem("PORT_TYPE_MISMATCH", f"{edge.source}.{src_port} is a "
                                f"{src_def.outputs[src_port]}, but {edge.target}.{dst_port} takes a "
                                f"{dst_def.inputs[dst_port]}", node_id=edge.target, field=dst_port))
    return src_port, dst_port, problems


def _target_columns(defn: NodeDef, params: Params) -> set[str]:
    """Values of parameters marked as naming the target column."""
    cols = set()
    for name, info in type(params).model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        value = getattr(params, name)
        if extra.get("role") == "target" and isinstance(value, str):
            cols.add(value)
    return cols


def validate_workflow(raw) -> tuple[Plan | None, list[Problem]]:
    """Check everything; return a ``Plan`` when there are no errors, and every problem found."""
    try:
        spec = parse_workflow(raw)
    except WorkflowInvalid as exc:
        return None, list(exc.problems)
    registry = discover()
    problems: list[Problem] = []
    if not spec.nodes:
        problems.append(Problem("EMPTY_WORKFLOW", "the workflow has no nodes; add at least one"))
    seen, defs, params = set(), {}, {}
    for node in spec.nodes:
        if node.id in seen:
            problems.append(Problem("DUPLICATE_NODE_ID", f"node id '{node.id}' is used more than once",
                                    node_id=node.id))
            continue
        seen.add(node.id)
        defn = registry.get(node.type)
        if defn is None:
            problems.append(Problem("UNKNOWN_NODE_TYPE", f"unknown node type '{node.type}'"
                                    f"{suggest(node.type, registry)}", node_id=node.id, field="type"))
            continue
        defs[node.id] = defn
        parsed, param_problems = param_problems_of(node.id, defn, node.params)
        problems += param_problems
        if parsed is not None:
            params[node.id] = parsed

    inputs: dict[str, dict[str, tuple[str, str]]] = {nid: {} for nid in defs}
    graph: dict[str, set[str]] = {nid: set() for nid in seen}
    touched: set[str] = set()
    for edge in spec.connections:
        missing = [end for end in (edge.source, edge.target) if end not in seen]
        if missing:
            problems.append(Problem("MISSING_NODE", f"edge {edge.source} -> {edge.target} refers to missing "
                                    f"node(s): {', '.join(missing)}", node_id=edge.target if edge.target in seen
                                    else edge.source if edge.source in seen else None))
            continue
        touched |= {edge.source, edge.target}
        graph[edge.target].add(edge.source)
        if edge.source not in defs or edge.target not in defs:
            continue
        src_port, dst_port, edge_problems = resolve_ports(edge, defs)
        problems += edge_problems
        if src_port and dst_port:
            if dst_port in inputs[edge.target]:
                problems.append(Problem("INPUT_CONNECTED_TWICE", f"input '{dst_port}' has more than one "
                                        f"incoming connection", node_id=edge.target, field=dst_port))
            inputs[edge.target][dst_port] = (edge.source, src_port)

    for nid, defn in defs.items():
        for port in defn.inputs:
            if port not in inputs[nid] and port not in defn.optional_inputs:
                problems.append(Problem("MISSING_INPUT", f"input '{port}' ({defn.inputs[port]}) is not connected",
                                        node_id=nid, field=port))

    order: list[str] = []
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = list(dict.fromkeys(exc.args[1]))
        problems.append(Problem("CYCLE", f"the workflow has a cycle through: {' -> '.join(exc.args[1])}",
                                node_id=cycle[0]))
    warnings = [Problem("UNCONNECTED_NODE", "this node is not connected to anything", node_id=nid,
                        severity="warning") for nid in seen if len(seen) > 1 and nid not in touched]
    if problems:
        return None, problems + warnings

    return Plan(spec=spec, order=order, defs=defs, params=params, inputs=inputs,
                protected=_protected_columns(order, inputs, defs, params), warnings=warnings), warnings


def _protected_columns(order: list[str], inputs: dict[str, dict[str, tuple[str, str]]], defs: dict[str, NodeDef],
                       params: dict[str, Params]) -> dict[str, frozenset[str]]:
    """Per node, the target columns named by the nodes downstream of it (a preprocessor must leave them be).

    One pass in reverse dependency order: a node protects what its consumers name and protect.
    """
    consumers: dict[str, set[str]] = {nid: set() for nid in order}
    for target, ports in inputs.items():
        for source, _ in ports.values():
            consumers[source].add(target)
    named = {nid: _target_columns(defs[nid], params[nid]) for nid in order}
    protected: dict[str, frozenset[str]] = {}
    for nid in reversed(order):
        targets: set[str] = set()
        for consumer in consumers[nid]:
            targets |= protected[consumer] | named[consumer]
        protected[nid] = frozenset(targets)
    return protected


def compile_plan(raw) -> Plan:
    """Validate; raise ``WorkflowInvalid`` listing every error, or return the plan."""
    plan, problems = validate_workflow(raw)
    if plan is None:
        raise WorkflowInvalid(problems)
    return plan
