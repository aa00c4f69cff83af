"""Metadata databases for API tests: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from metadata_db import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def client(flowza_env, monkeypatch):
    """The API in single-user mode on a fresh FLOWZA_HOME (SQLite metadata), data paths relative to the repo."""
    from api.main import create_app
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATA_DIR", str(ROOT))  # the examples name files relative to the repository
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        yield client


@pytest.fixture(params=["sqlite", "postgresql"])
def multi_user(request, flowza_env, monkeypatch):
    """The API in multi-user mode, on each metadata database; ``multi_user(email)`` logs in a new account."""
    from api.main import create_app
    from flowza_core.settings import get_settings

    if request.param == "postgresql":
        monkeypatch.setenv("FLOWZA_DATABASE_URL", request.getfixturevalue("postgres_database"))
    monkeypatch.setenv("FLOWZA_DATA_DIR", str(ROOT))
    monkeypatch.setenv("FLOWZA_AUTH_ENABLED", "true")
    get_settings.cache_clear()
    app, clients = create_app(), []

    def login_as(email: str, password: str = "correct horse battery") -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        created = client.post("/api/auth/register", json={"email": email, "password": password})
        assert created.status_code == 201, created.text
        token = client.post("/api/auth/login", json={"email": email, "password": password}).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    yield login_as
    for client in clients:
        client.__exit__(None, None, None)
