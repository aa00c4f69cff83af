"""The node catalog and workflow validation: derived from the node declarations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from api import access
from api.auth import CurrentUser
from api.deps import SessionDep
from flows.validation import validate_workflow
from nodes.catalog import catalog

router = APIRouter(tags=["catalog"])

GROUPS = {"data input": "data_nodes", "preprocessing": "preprocessing_nodes", "training": "training_nodes",
          "evaluation": "evaluation_nodes", "models": "model_nodes", "output": "output_nodes",
          "general": "general_nodes"}


@router.get("/api/tasks/available", summary="The node catalog, grouped by category")
def available_nodes() -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {group: [] for group in GROUPS.values()}
    for entry in catalog():
        grouped.setdefault(GROUPS.get(entry["category"], "general_nodes"), []).append(entry)
    return grouped


@router.post("/api/workflows/validate", summary="Every problem in a workflow, each with its node and field")
def validate(workflow: Any = Body(..., examples=[{"nodes": [], "connections": []}])) -> dict:
    plan, problems = validate_workflow(workflow)
    return {"valid": plan is not None, "problems": [p.to_dict() for p in problems],
            "order": plan.order if plan else []}


class ColumnsRequest(BaseModel):
    workflow: dict[str, Any] = Field(description="The workflow as drawn: it may be unfinished.")
    node_id: str = Field(min_length=1, max_length=200, description="The node whose inputs to describe.")


@router.post("/api/workflows/columns", summary="The columns a node will receive, from a sample, before running")
def input_columns(session: SessionDep, user: CurrentUser, body: ColumnsRequest) -> dict:
    """Runs the node's upstream nodes on a sample; problems upstream are listed instead of columns."""
    from flows.preview import input_columns as preview
    from flows.spec import parse_workflow

    for node in parse_workflow(body.workflow).nodes:
        if isinstance(dataset_id := node.params.get("dataset_id"), str):
            access.dataset(session, user, dataset_id)  # another user's upload does not exist for this one
    return preview(body.workflow, body.node_id)
