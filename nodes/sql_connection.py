"""Connecting the PostgreSQL nodes to a named connection's database, and its errors that never show the password."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import URL, Connection

from flowza_core.errors import InvalidParameter, NodeError
from nodes.base import CONNECTION_NAME, NodeContext, hide_secrets

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10


def connection_field() -> object:
    return Field(..., pattern=CONNECTION_NAME, title="Connection",
                 description="Name of a PostgreSQL connection (its URL is stored under Connections).",
                 json_schema_extra={"connection_kind": "postgresql"})


def database_url(ctx: NodeContext, name: str) -> URL:
    settings = ctx.connection(name)
    if settings.get("kind") != "postgresql":
        raise InvalidParameter(f"connection '{name}' is a {settings.get('kind')!r} connection; this node needs a "
                               f"'postgresql' one", field="connection")
    try:
        url = sa.engine.make_url(str(settings.get("url") or ""))
    except sa.exc.ArgumentError:  # its message repeats the whole URL, password included
        raise InvalidParameter(f"connection '{name}' holds no usable database URL: store one like "
                               f"postgresql://user:password@host:5432/database", field="connection") from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise InvalidParameter(f"connection '{name}' points at a '{url.get_backend_name()}' database "
                               f"({shown(url)}); this node reads and writes PostgreSQL only", field="connection")
    return url.set(drivername="postgresql+psycopg2")


def shown(url: URL) -> str:
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def scrubbed(text: str, url: URL) -> str:
    """A driver's message without the URL's password, should a driver ever repeat it."""
    return hide_secrets(text, [url.password])


@contextmanager
def transaction(url: URL, name: str) -> Iterator[Connection]:
    """One connection in one transaction, committed only when the block ends without an error."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool,
                              connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "flowza"})
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as exc:
            reason = scrubbed(" ".join(str(exc.orig).split()), url)
            log.warning("cannot connect to %s: %s", shown(url), reason)
            raise NodeError(f"cannot connect to the database of connection '{name}' ({shown(url)}): {reason}",
                            code="DATABASE_UNREACHABLE", field="connection") from None
        with conn, conn.begin():
            yield conn
    finally:
        engine.dispose()


def database_error(exc: sa.exc.DBAPIError, url: URL, what: str, hints: dict[str, str],
                    timeout_s: float | None = None) -> NodeError:
    """The server's own words for a failed statement (not the SQL and values SQLAlchemy adds), plus a hint."""
    orig = exc.orig
    code, diag = getattr(orig, "pgcode", None), getattr(orig, "diag", None)
    message = (diag and diag.message_primary) or str(orig).strip().splitlines()[0]
    if diag and diag.message_detail:
        message += f" ({diag.message_detail[:300].rstrip('.')})"
    message = scrubbed(message, url)
    log.info("%s failed (SQLSTATE %s): %s", what, code, message)
    if code == "57014" and timeout_s is not None:
        return NodeError(f"{what} was stopped: it ran longer than timeout_s ({timeout_s:g} s). Make it faster "
                         f"(a WHERE clause, an index) or raise timeout_s", code="QUERY_TIMEOUT", field="timeout_s")
    hint = hints.get(code or "", "")
    return NodeError(f"{what} failed: {message}{'. ' + hint if hint else ''}", code="DATABASE_ERROR")
