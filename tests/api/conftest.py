"""Metadata databases for API tests: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from api.db import make_engine, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database URL: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flowza.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def db_engine(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()  # before the PostgreSQL database is dropped


@pytest.fixture
def db_session(db_engine):
    with Session(db_engine) as session:
        yield session
