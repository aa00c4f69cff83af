"""A saved workflow as a standalone Python script, a Jupyter notebook, or its JSON (a download)."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api import access
from api.auth import CurrentUser
from metadata_db import workflows as rows
from api.deps import SessionDep
from api.schemas import MAX_VERSION
from flows.export import export_workflow

router = APIRouter(prefix="/api/workflows", tags=["workflows"])
UNSUPPORTED_HEADER = "X-Flowza-Unsupported-Nodes"


@router.get("/{workflow_id}/export", summary="Download the workflow as a Python script, a notebook, or JSON",
            response_class=Response,
            description="`py` and `ipynb` hold plain pandas, scikit-learn and XGBoost code that reproduces the "
                        "run's metrics. Nodes exported as stubs that raise are listed in the "
                        f"`{UNSUPPORTED_HEADER}` header (a JSON list of node ids).",
            responses={200: {"content": {"text/x-python": {}, "application/x-ipynb+json": {},
                                         "application/json": {}}}})
def export(session: SessionDep, user: CurrentUser, workflow_id: str,
           format: Literal["py", "ipynb", "json"] = Query("py", description="py, ipynb or json"),
           version: int | None = Query(None, ge=1, le=MAX_VERSION, description="A saved version (default: current)")
           ) -> Response:
    workflow = access.workflow(session, user, workflow_id, "view")
    found = rows.get_version(session, workflow_id, version or workflow.current_version)
    exported = export_workflow(found.definition, format)
    return Response(exported.text, media_type=exported.media_type, headers={
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
        UNSUPPORTED_HEADER: json.dumps(exported.unsupported)})
