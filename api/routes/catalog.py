"""The node catalog and workflow validation: derived from the node declarations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

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
