"""Saving a workflow's next version, and keeping what depends on the current version in step."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from metadata_db import workflows as rows
from metadata_db.models import User, Workflow
from api.services import schedules


async def save_version(session: Session, user: User | None, workflow: Workflow, definition: dict[str, Any]) -> Workflow:
    """Save ``definition`` as the next version (nothing when unchanged); schedules run the new version."""
    saved = rows.update_workflow(session, workflow.id, definition, user_id=user.id if user else None)
    await schedules.sync(session, saved)
    return saved
