"""Named connections, each one owner's (``owner_id=None``: single-user mode's); secrets sealed before storing.

Every function takes the owner: a name is looked up among that owner's connections only, so another
user's connection is as unknown as a name never saved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from metadata_db.errors import Conflict, NotFound
from metadata_db.models import Connection
from flowza_core.connection_kinds import check
from flowza_core.connection_secrets import seal, unseal


def create_connection(session: Session, owner_id: str | None, name: str, kind: str, config: dict[str, Any],
                      secret: dict[str, Any]) -> Connection:
    config, secret = check(kind, config, secret)
    if find_connection(session, owner_id, name) is not None:
        raise _taken(name)
    found = Connection(owner_id=owner_id, name=name, kind=kind, config=config, secret=seal(secret))
    try:
        with session.begin_nested():  # a concurrent save of the same name loses here, not in the commit
            session.add(found)
            session.flush()
    except IntegrityError:
        raise _taken(name) from None
    return found


def update_connection(session: Session, owner_id: str | None, name: str, *, config: dict[str, Any] | None = None,
                      secret: dict[str, Any] | None = None) -> Connection:
    """Replace the settings and/or the secret (each as a whole)."""
    found = get_connection(session, owner_id, name)
    config, secret = check(found.kind, config, secret)
    if config is not None:
        found.config = config
    if secret is not None:
        found.secret = seal(secret)
    session.flush()
    return found


def get_connection(session: Session, owner_id: str | None, name: str) -> Connection:
    found = find_connection(session, owner_id, name)
    if found is None:
        raise NotFound("connection", name)
    return found


def find_connection(session: Session, owner_id: str | None, name: str) -> Connection | None:
    return session.scalar(select(Connection).where(_owned_by(owner_id), Connection.name == name))


def list_connections(session: Session, owner_id: str | None) -> list[Connection]:
    """By name."""
    return list(session.scalars(select(Connection).where(_owned_by(owner_id)).order_by(Connection.name)))


def delete_connection(session: Session, owner_id: str | None, name: str) -> None:
    session.delete(get_connection(session, owner_id, name))
    session.flush()


def opened(found: Connection) -> dict[str, Any]:
    """What a node reads: ``{"kind": …, **config, **secret}`` (``SecretUnreadable`` if the key changed)."""
    return {"kind": found.kind, **found.config, **unseal(found.secret)}


def _owned_by(owner_id: str | None):
    return Connection.owner_id.is_(None) if owner_id is None else Connection.owner_id == owner_id


def _taken(name: str) -> Conflict:
    return Conflict(f"a connection named '{name}' already exists: choose another name, or change it with "
                    f"PATCH /api/connections/{name}")
