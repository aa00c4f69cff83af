"""Editing a saved workflow piece by piece: nodes and edges.

Every change saves a new version and answers the workflow as ``GET /api/workflows/{id}`` does.
Drafts are welcome: a node may still lack inputs or required parameters (the run validates the
whole workflow), but a node type must exist, given parameters must be known and valid, and an
edge must join existing nodes through ports of the same type without closing a cycle.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from api import access
from api.auth import CurrentUser
from metadata_db import workflows as rows
from metadata_db.errors import Conflict, NotFound
from metadata_db.models import Workflow
from api.deps import SessionDep
from api.routes.workflows import to_public
from api.schemas import WorkflowPublic
from api.services.workflows import save_version
from flowza_core.errors import WorkflowInvalid
from flows.spec import EdgeSpec, NodeSpec, Position, WorkflowSpec, check_size, parse_workflow
from flows.validation import Problem, param_problems_of, resolve_ports, suggest, validate_workflow
from nodes.base import NodeDef
from nodes.catalog import discover

router = APIRouter(prefix="/api/workflows", tags=["workflow editing"])


class NodeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(..., min_length=1, max_length=200, examples=["csv_loader"])
    id: str | None = Field(None, min_length=1, max_length=200, description="Default: '<type>_<n>', unused.")
    parameters: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(None, max_length=300)
    position: Position | None = Field(None, description="Default: right of the rightmost node.")


class NodeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] | None = Field(None, description="Merged into the node's parameters; a null value "
                                                                "removes that parameter (back to its default).")
    label: str | None = Field(None, max_length=300, description="null removes the label.")
    position: Position | None = None


class EdgeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(..., min_length=1)
    target: str = Field(..., min_length=1)
    source_port: str | None = Field(None, validation_alias=AliasChoices("source_port", "sourceHandle"),
                                    description="Output of the source; may be left out when only one fits.")
    target_port: str | None = Field(None, validation_alias=AliasChoices("target_port", "targetHandle"),
                                    description="Input of the target; may be left out when only one fits.")


def _spec(session, workflow: Workflow) -> WorkflowSpec:
    """The current definition as a fresh object: editing it leaves the stored version untouched."""
    return parse_workflow(rows.get_version(session, workflow.id, workflow.current_version).definition).model_copy(
        deep=True)


async def _save(session, user, workflow: Workflow, spec: WorkflowSpec) -> WorkflowPublic:
    check_size(spec.nodes)  # a node added one at a time counts too
    return to_public(session, await save_version(session, user, workflow, spec.to_json_dict()))


def _node_def(node_id: str, node_type: str) -> NodeDef:
    registry = discover()
    if node_type not in registry:
        raise WorkflowInvalid([Problem("UNKNOWN_NODE_TYPE", f"unknown node type '{node_type}'"
                                       f"{suggest(node_type, registry)}", node_id=node_id, field="type")])
    return registry[node_type]


def _check_parameters(node_id: str, defn: NodeDef, parameters: dict) -> None:
    """Refuse unknown parameters and invalid values; missing ones and cross-field rules wait for the run."""
    missing = {name for name, f in defn.params_model.model_fields.items() if f.is_required() and name not in parameters}
    _, problems = param_problems_of(node_id, defn, parameters)
    problems = [p for p in problems if p.field is not None and p.field not in missing]
    if problems:
        raise WorkflowInvalid(problems)


def _find_node(spec: WorkflowSpec, node_id: str) -> NodeSpec:
    found = next((n for n in spec.nodes if n.id == node_id), None)
    if found is None:
        raise NotFound("node", node_id)
    return found


@router.post("/{workflow_id}/nodes", status_code=status.HTTP_201_CREATED, summary="Add a node (saves a version)")
async def add_node(session: SessionDep, user: CurrentUser, workflow_id: str, body: NodeCreate) -> WorkflowPublic:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    spec = _spec(session, workflow)
    taken = {n.id for n in spec.nodes}
    node_id = body.id or next(f"{body.type}_{n}" for n in range(1, len(taken) + 2) if f"{body.type}_{n}" not in taken)
    if node_id in taken:
        raise Conflict(f"node id '{node_id}' is already used in this workflow", field="id")
    _check_parameters(node_id, _node_def(node_id, body.type), body.parameters)
    position = body.position or Position(x=max((n.position.x for n in spec.nodes), default=-220) + 220, y=100)
    spec.nodes.append(NodeSpec(id=node_id, type=body.type, parameters=body.parameters, position=position,
                               data={"label": body.label} if body.label else {}))
    return await _save(session, user, workflow, spec)


@router.patch("/{workflow_id}/nodes/{node_id:path}", summary="Change a node's parameters, label or position")
async def update_node(session: SessionDep, user: CurrentUser, workflow_id: str, node_id: str,
                      body: NodeUpdate) -> WorkflowPublic:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    spec = _spec(session, workflow)
    node = _find_node(spec, node_id)
    if body.parameters is not None:
        merged = {k: v for k, v in {**node.params, **body.parameters}.items() if v is not None}
        _check_parameters(node_id, _node_def(node_id, node.type), merged)
        node.parameters = merged
        node.data.pop("parameters", None)  # React Flow's copy would only go stale
    if "label" in body.model_fields_set:
        node.data.pop("label", None)
        if body.label:
            node.data["label"] = body.label
    if body.position is not None:
        node.position = body.position
    return await _save(session, user, workflow, spec)


@router.delete("/{workflow_id}/nodes/{node_id:path}", summary="Remove a node and its edges")
async def delete_node(session: SessionDep, user: CurrentUser, workflow_id: str, node_id: str) -> WorkflowPublic:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    spec = _spec(session, workflow)
    spec.nodes.remove(_find_node(spec, node_id))
    spec.connections = [e for e in spec.connections if node_id not in (e.source, e.target)]
    return await _save(session, user, workflow, spec)


def _link(types: dict[str, str], edge: EdgeSpec) -> tuple[str, str, str, str]:
    """(source, source port, target, target port), ports filled in where the node types leave one choice.

    ``types``: node id -> node type, built once per request (per edge, large workflows took quadratic time).
    """
    defs = {end: discover().get(types.get(end, "")) for end in (edge.source, edge.target)}
    source_port, target_port = edge.sourceHandle, edge.targetHandle
    if (source_port is None or target_port is None) and None not in defs.values():
        resolved_source, resolved_target, _ = resolve_ports(edge, defs)
        source_port, target_port = source_port or resolved_source, target_port or resolved_target
    return edge.source, source_port or "", edge.target, target_port or ""


def stable_edge_id(types: dict[str, str], edge: EdgeSpec) -> str:
    """An edge's stored ``id`` if it has one, else ``<source>:<source port>-><target>:<target port>``."""
    source, source_port, target, target_port = _link(types, edge)
    return edge.id or f"{source}:{source_port}->{target}:{target_port}"


@router.post("/{workflow_id}/edges", status_code=status.HTTP_201_CREATED,
             summary="Connect an output to an input (saves a version)")
async def add_edge(session: SessionDep, user: CurrentUser, workflow_id: str, body: EdgeCreate) -> WorkflowPublic:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    spec = _spec(session, workflow)
    types = {n.id: n.type for n in spec.nodes}
    problems = [Problem("MISSING_NODE", f"{end} '{node}' is not a node of this workflow", field=end)
                for end, node in (("source", body.source), ("target", body.target)) if node not in types]
    if not problems and body.source == body.target:
        problems = [Problem("CYCLE", "an edge cannot connect a node to itself", node_id=body.target, field="target")]
    if problems:
        raise WorkflowInvalid(problems)
    defs = {end: _node_def(end, types[end]) for end in (body.source, body.target)}
    edge = EdgeSpec(source=body.source, target=body.target, sourceHandle=body.source_port,
                    targetHandle=body.target_port)
    edge.sourceHandle, edge.targetHandle, problems = resolve_ports(edge, defs)
    if problems:
        raise WorkflowInvalid(problems)
    edge.id = stable_edge_id(types, edge)
    link = _link(types, edge)
    if any(_link(types, e) == link for e in spec.connections):
        raise WorkflowInvalid([Problem("DUPLICATE_EDGE", f"{edge.id} already exists", node_id=edge.target,
                                       field=edge.targetHandle)])
    before = set(validate_workflow(spec)[1])
    spec.connections.append(edge)
    # A draft may have problems already; refuse only those this edge brings (a cycle, an input fed twice).
    introduced = [p for p in validate_workflow(spec)[1] if p.severity == "error" and p not in before]
    if introduced:
        raise WorkflowInvalid(introduced)
    return await _save(session, user, workflow, spec)


@router.delete("/{workflow_id}/edges/{edge_id:path}", summary="Remove an edge (id as in the edge's `id` field)")
async def delete_edge(session: SessionDep, user: CurrentUser, workflow_id: str, edge_id: str) -> WorkflowPublic:
    """``edge_id``: the edge's ``id`` field; edges saved without one are ``<source>:<port>-><target>:<port>``.

    Edges added through ``POST .../edges`` get that form as their ``id`` (URL-encode it: ``-%3E``).
    """
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    spec = _spec(session, workflow)
    types = {n.id: n.type for n in spec.nodes}
    kept = [e for e in spec.connections if stable_edge_id(types, e) != edge_id]
    if len(kept) == len(spec.connections):
        raise NotFound("edge", edge_id)
    spec.connections = kept
    return await _save(session, user, workflow, spec)
