"""Node runs ("tasks" in the seed's paths) and the tables they produced."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Query

from api import access
from api.auth import CurrentUser
from metadata_db import runs as run_rows
from metadata_db.errors import NotFound
from api.deps import SessionDep
from api.schemas import Offset
from api.services import runs
from flowza_core.errors import FlowzaError
from nodes.catalog import get_node

router = APIRouter(tags=["tasks"])
TEMPLATES = Path(__file__).resolve().parents[2] / "examples"


def _task(session, user, task_id: str) -> tuple[str, str, dict]:
    run_id, _, node_id = task_id.partition(":")
    try:
        run = runs.refresh(session, access.run(session, user, run_id))
    except NotFound:
        raise NotFound("task", task_id) from None
    node = (run.record or {}).get("nodes", {}).get(node_id)
    if node is None:
        raise FlowzaError(f"task '{task_id}' not found: task ids are '<run_id>:<node_id>'", code="NOT_FOUND")
    return run_id, node_id, runs.public_node(node)


def _self_contained(definition: dict) -> bool:
    """True when the workflow's data comes only from files shipped inside Flowza: ``sample_dataset``, or a
    ``text_loader`` reading its shipped documents.

    Such a workflow runs wherever Flowza runs, whatever the directory and FLOWZA_DATA_DIR; an example that
    reads a file of the repository (``passengers.json``) is one for ``flowza run`` there, not a template.
    """
    return all(node["type"] == "sample_dataset" or (node["type"] == "text_loader"
                                                    and node.get("parameters", {}).get("sample"))
               for node in definition["nodes"]
               if (defn := get_node(node["type"])) is not None and defn.category == "data input")


@router.get("/api/workflows/templates/", summary="Ready-made workflows to start from (on data shipped with Flowza)")
def templates() -> list[dict]:
    found = [json.loads(path.read_text()) | {"id": path.stem} for path in sorted(TEMPLATES.glob("*.json"))]
    return [definition for definition in found if _self_contained(definition)]


@router.get("/api/tasks/datasets/", summary="Tables produced by a workflow's latest run")
def task_datasets(session: SessionDep, user: CurrentUser, workflow_id: str) -> list[dict]:
    access.workflow(session, user, workflow_id)
    found = run_rows.list_runs(session, workflow_id=workflow_id, limit=1)
    if not found:
        return []
    run = runs.refresh(session, found[0])
    return [{"task_id": f"{run.id}:{node_id}", "node_id": node_id, "port": port,
             **{k: out.get(k) for k in ("rows", "columns", "dtypes", "null_counts", "uri")}}
            for node_id, node in ((n, runs.public_node(v)) for n, v in (run.record or {}).get("nodes", {}).items())
            for port, out in (node.get("outputs") or {}).items() if out.get("kind") == "dataset"]


@router.get("/api/tasks/{task_id}", summary="One node of a run: status, timings, outputs, error")
def get_task(session: SessionDep, user: CurrentUser, task_id: str) -> dict:
    run_id, node_id, node = _task(session, user, task_id)
    return {"task_id": task_id, "run_id": run_id, "node_id": node_id, **node}


@router.get("/api/tasks/{task_id}/dataset", summary="Rows of a table a node produced, a page at a time")
def task_dataset(session: SessionDep, user: CurrentUser, task_id: str, port: str | None = None,
                 offset: Offset = 0, limit: int = Query(50, ge=1, le=1000)) -> dict:
    from flows.engine import open_default_store

    _, node_id, node = _task(session, user, task_id)
    tables = {p: out for p, out in (node.get("outputs") or {}).items() if out.get("kind") == "dataset"}
    if not tables:
        raise FlowzaError(f"node '{node_id}' produced no table", code="NOT_FOUND")
    if port is None:
        port = next(iter(tables))
    if port not in tables:
        raise FlowzaError(f"node '{node_id}' has no table output '{port}'; it has: {', '.join(tables)}",
                          code="NOT_FOUND")
    table = open_default_store().read_table(tables[port]["key"]).slice(offset, limit)
    rows = json.loads(table.to_pandas().to_json(orient="records", date_format="iso", default_handler=str))
    return {"task_id": task_id, "port": port, "offset": offset, "total_rows": tables[port]["rows"],
            "columns": tables[port]["columns"], "rows": rows}
