"""Sharing a workflow with other users as viewer or editor (multi-user mode)."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from api import access
from api.auth import CurrentUser
from metadata_db import sharing, users
from metadata_db.errors import NotFound
from metadata_db.models import ShareRole
from api.deps import SessionDep

router = APIRouter(prefix="/api/workflows/{workflow_id}/shares", tags=["sharing"])


class ShareRequest(BaseModel):
    email: str = Field(max_length=320, description="The account to share with.")
    role: ShareRole = Field(description="viewer: read and run history; editor: also change and run.")


class SharePublic(BaseModel):
    user_id: str
    email: str
    role: str


def _public(session, share) -> SharePublic:
    return SharePublic(user_id=share.user_id, email=users.get_user(session, share.user_id).email, role=share.role)


@router.get("/", summary="Who the workflow is shared with")
def list_shares(session: SessionDep, user: CurrentUser, workflow_id: str) -> list[SharePublic]:
    access.workflow(session, user, workflow_id, "view")
    return [_public(session, s) for s in sharing.list_shares(session, workflow_id)]


@router.put("/", summary="Share with a user, or change their role (owner only)")
def share(session: SessionDep, user: CurrentUser, workflow_id: str, body: ShareRequest) -> SharePublic:
    access.workflow(session, user, workflow_id, "own")
    target = users.get_user_by_email(session, body.email)
    if target is None:
        raise NotFound("user", body.email)
    return _public(session, sharing.share(session, workflow_id, target.id, body.role))


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Stop sharing (owner only)")
def unshare(session: SessionDep, user: CurrentUser, workflow_id: str, user_id: str) -> None:
    access.workflow(session, user, workflow_id, "own")
    sharing.unshare(session, workflow_id, user_id)
