"""A workflow's saved versions: list, read, and restore one as the current version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from api import access
from api.auth import CurrentUser
from metadata_db import workflows as rows
from api.deps import SessionDep
from api.routes.workflows import to_public
from api.schemas import VersionNumber, WorkflowPublic
from api.services.workflows import save_version

router = APIRouter(prefix="/api/workflows", tags=["workflow versions"])


class VersionSummary(BaseModel):
    version: int
    created_at: datetime
    created_by: str | None
    nodes: int
    edges: int
    current: bool


class VersionPublic(BaseModel):
    version: int
    created_at: datetime
    created_by: str | None
    definition: dict[str, Any]


@router.get("/{workflow_id}/versions", summary="Saved versions, newest first")
def list_versions(session: SessionDep, user: CurrentUser, workflow_id: str) -> list[VersionSummary]:
    workflow = access.workflow(session, user, workflow_id, "view")
    out = []
    for v in rows.list_versions(session, workflow_id):
        edges = v.definition.get("connections") or v.definition.get("edges") or []
        out.append(VersionSummary(version=v.version, created_at=v.created_at, created_by=v.created_by,
                                  nodes=len(v.definition.get("nodes") or []), edges=len(edges),
                                  current=v.version == workflow.current_version))
    return out


@router.get("/{workflow_id}/versions/{version}", summary="One saved version's definition")
def get_version(session: SessionDep, user: CurrentUser, workflow_id: str,
                version: VersionNumber) -> VersionPublic:
    access.workflow(session, user, workflow_id, "view")
    found = rows.get_version(session, workflow_id, version)
    return VersionPublic(version=found.version, created_at=found.created_at, created_by=found.created_by,
                         definition=found.definition)


@router.post("/{workflow_id}/versions/{version}/restore", summary="Save an older version as the current one")
async def restore_version(session: SessionDep, user: CurrentUser, workflow_id: str,
                          version: VersionNumber) -> WorkflowPublic:
    workflow = access.workflow(session, user, workflow_id, "edit", for_update=True)
    definition = rows.get_version(session, workflow_id, version).definition
    return to_public(session, await save_version(session, user, workflow, definition))
