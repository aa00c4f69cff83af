"""The named connections a run's nodes read (``NodeContext.connection``): its owner's, opened on demand.

A run reads its owner's connections: the user who started it (its row in the metadata database), else
its workflow's owner (a scheduled run). A run without a row (``flowza run``, ``flows.engine.execute``),
or any run in single-user mode, reads the connections that have no owner, single-user mode's.

Secrets are read from the database each time a node asks and are kept nowhere else: not in the
run context Prefect is handed, not in the run record, not in logs.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flowza_core.errors import NodeError
from flowza_core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


@lru_cache
def _sessions(url: str) -> sessionmaker[Session]:
    # Imported here: most runs open no connection, and the metadata layer costs half a second to import.
    from metadata_db.session import session_factory, upgrade

    upgrade(url)  # a run outside the service may be the first to open the database
    return session_factory(url)


class RunConnections:
    """``NodeContext.connections`` for one run: a connection's name -> ``{"kind": …, **config, **secret}``."""

    def __init__(self, run_id: str, settings: Settings):
        self.run_id, self.settings = run_id, settings
        self._owner: tuple[str | None] | None = None  # looked up once, when a node first asks
        self._lock = threading.Lock()

    def __call__(self, name: str) -> dict[str, Any]:
        from metadata_db.connections import opened
        from flowza_core.connection_secrets import SecretUnreadable

        with _sessions(self.settings.metadata_db_url).begin() as session:
            found = self._find(session, name)
            try:
                values = opened(found)
            except SecretUnreadable as exc:
                raise NodeError(f"connection '{name}': {exc.message} (PATCH /api/connections/{name})",
                                code="SECRET_KEY_CHANGED", field="connection") from None
        log.debug("run %s opened connection '%s' (%s)", self.run_id, name, found.kind)
        return values

    def fingerprint(self, name: str) -> str:
        """What a cache key needs of the connection ``name`` opens in this run: which row, changed when (never
        its secret). Another owner's connection of that name, or this one changed, makes another key."""
        with _sessions(self.settings.metadata_db_url).begin() as session:
            found = self._find(session, name)
            identity = f"{found.id}:{found.updated_at.isoformat()}"
        return "connection:" + hashlib.sha256(identity.encode()).hexdigest()[:16]

    def _find(self, session: Session, name: str):
        from metadata_db import connections as connection_rows

        owner = self._run_owner(session)
        found = connection_rows.find_connection(session, owner, name)
        if found is None:
            names = [c.name for c in connection_rows.list_connections(session, owner)]
            known = f"the connections you have are: {', '.join(names)}" if names else "you have no connections yet"
            raise NodeError(f"connection '{name}' not found: {known}. Save it first (POST /api/connections, or "
                            f"`flowza connections add {name} --kind …`)", code="CONNECTION_NOT_FOUND",
                            field="connection")
        return found

    def _run_owner(self, session: Session) -> str | None:
        from metadata_db.model_owners import run_owner

        with self._lock:
            if self._owner is None:
                self._owner = (run_owner(session, self.run_id) if self.settings.auth_enabled else None,)
            return self._owner[0]
