"""Engines, sessions and schema migrations for the metadata database.

A new migration after changing ``models.py``::

    from alembic import command
    from metadata_db.session import alembic_config
    command.revision(alembic_config(url), message="add x", autogenerate=True)
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from flowza_core.schema_lock import MIGRATING

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WAL_RETRY_PAUSES_S = (0.02, 0.05, 0.1, 0.2, 0.4)

log = logging.getLogger(__name__)


def resolve_url(url: str) -> str:
    """Pick psycopg2, the driver Flowza ships, for ``postgresql://`` (SQLAlchemy 2.1 defaults to psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; on SQLite, usable across threads and with foreign keys enforced."""
    url = resolve_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    connect_args = {"check_same_thread": False, "timeout": 30} | kwargs.pop("connect_args", {})
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # SQLite ignores foreign keys unless each connection asks for them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Write-ahead logging: readers (status polls) never wait for the writer, nor it for them.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":  # kept in the file once set
        _switch_to_wal(cursor)
    cursor.close()


def _switch_to_wal(cursor) -> None:
    """Switching takes an exclusive lock, and SQLite does not wait for it ("database is locked" at once while
    another connection reads or writes): retry briefly, else go on in the current mode (slower, not wrong)."""
    for pause in WAL_RETRY_PAUSES_S:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(pause)
    log.info("SQLite stayed busy: this connection keeps the rollback journal; the next one will switch to WAL")


def session_factory(url_or_engine: str | Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (routes turn them into schemas afterwards)."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """Alembic's configuration, built in code: there is no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", resolve_url(url).replace("%", "%%"))  # ConfigParser interpolates '%'
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``; a no-op when it is already there."""
    with MIGRATING:
        command.upgrade(alembic_config(url), revision)
