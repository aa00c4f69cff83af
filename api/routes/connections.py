"""``/api/connections``: named database URLs, S3 credentials and API keys that nodes refer to by name.

A connection is its owner's alone (multi-user mode): another user's answers 404 like a name never saved.
Secrets go in and never come out: answers list the secret's key names (``secret_fields``), not its values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from api import access
from api.auth import CurrentUser
from metadata_db import connections as rows
from metadata_db.models import Connection
from api.deps import SessionDep
from flowza_core.connection_kinds import KINDS, InvalidConnection, secret_fields

router = APIRouter(prefix="/api/connections", tags=["connections"])

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
Name = Annotated[str, PathParam(description="The connection's name")]


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="Lowercase letters, digits, '_' and '-' (1-64), starting "
                                                        "with a letter: what node parameters name")
    kind: str = Field(description=f"One of: {', '.join(KINDS)}")
    config: dict[str, Any] = Field(default_factory=dict, description="Public settings (shown in answers)")
    secret: dict[str, Any] = Field(description="Secret values: encrypted at rest, never shown again")


class ConnectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] | None = Field(default=None, description="Replaces the settings")
    secret: dict[str, Any] | None = Field(default=None, description="Replaces the secret")


class ConnectionPublic(BaseModel):
    name: str
    kind: str
    config: dict[str, Any]
    secret_fields: list[str] = Field(description="The names of the secret's values (the values are never shown)")
    created_at: datetime
    updated_at: datetime


def _public(found: Connection) -> ConnectionPublic:
    return ConnectionPublic(name=found.name, kind=found.kind, config=found.config,
                            secret_fields=secret_fields(found.kind), created_at=found.created_at,
                            updated_at=found.updated_at)


@router.post("", status_code=201, summary="Save a named connection (its secret is encrypted, never shown again)")
def create_connection(session: SessionDep, user: CurrentUser, body: ConnectionCreate) -> ConnectionPublic:
    return _public(rows.create_connection(session, access.visible_to(user), body.name, body.kind, body.config,
                                          body.secret))


@router.get("", summary="Your connections, by name (without secrets)")
def list_connections(session: SessionDep, user: CurrentUser) -> list[ConnectionPublic]:
    return [_public(c) for c in rows.list_connections(session, access.visible_to(user))]


@router.get("/{name}", summary="One connection (without its secret)")
def get_connection(session: SessionDep, user: CurrentUser, name: Name) -> ConnectionPublic:
    return _public(rows.get_connection(session, access.visible_to(user), name))


@router.patch("/{name}", summary="Replace a connection's settings and/or its secret")
def update_connection(session: SessionDep, user: CurrentUser, name: Name, body: ConnectionUpdate) -> ConnectionPublic:
    if body.config is None and body.secret is None:
        raise InvalidConnection("nothing to change: give 'config' and/or 'secret'")
    return _public(rows.update_connection(session, access.visible_to(user), name, config=body.config,
                                          secret=body.secret))


@router.delete("/{name}", status_code=204, summary="Delete a connection (runs that name it then fail)")
def delete_connection(session: SessionDep, user: CurrentUser, name: Name) -> None:
    rows.delete_connection(session, access.visible_to(user), name)
