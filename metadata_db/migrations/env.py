"""Alembic environment for Flowza's metadata database, configured from code (see metadata_db.session)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, event, pool, text

from metadata_db.base import UTCDateTime
from metadata_db.models import Base

# Serializes concurrent upgrades (several API processes starting at once) on PostgreSQL.
PG_MIGRATION_LOCK = 0x466C6F7A61  # "Flowza"

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj, autogen_context):
    # Migrations stay free of application imports: UTCDateTime is stored as a plain timestamp.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


options = {"target_metadata": target_metadata, "compare_type": True, "render_as_batch": True,
           "render_item": render_item}


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()


def _one_sqlite_transaction(engine) -> None:
    """Run the whole upgrade in one SQLite transaction that holds the write lock from its start.

    Python's sqlite3 commits each CREATE TABLE on its own, so two processes upgrading one new file
    (the API and the worker starting together) both found no tables and the second failed with
    "table … already exists", and a failed upgrade left tables without a version stamp. With
    ``BEGIN IMMEDIATE`` the second waits for the first to commit, then reads its stamp.
    """
    @event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def run_online() -> None:
    # A plain engine: SQLite keeps foreign keys off here, as batch table rebuilds require.
    url = config.get_main_option("sqlalchemy.url")
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, poolclass=pool.NullPool, connect_args={"timeout": 60} if sqlite else {})
    if sqlite:
        _one_sqlite_transaction(engine)
    with engine.connect() as connection:
        context.configure(connection=connection, transactional_ddl=True, **options)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
