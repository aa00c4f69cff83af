"""``/``: the web editor for browsers, a short description for API clients."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["editor"])


@router.get("/", summary="What this server is")
def root() -> dict:
    return {"name": "Flowza", "docs": "/docs", "health": "/health", "catalog": "/api/tasks/available"}
