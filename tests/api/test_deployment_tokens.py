"""Deployment tokens on each metadata database: stored hashed, checked from memory (the database at most once a
second per token), revoked elsewhere within a second, last use saved in batches."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from api.auth import Unauthorized
from metadata_db import deployments as rows
from metadata_db.models import DeploymentToken, ModelDeployment
from api.serving.tokens import VERIFIED_FOR_S, TokenCheck, bearer, new_token
from flowza_core.settings import get_settings


@pytest.fixture
def deployments(db_engine, flowza_env, monkeypatch):
    """Two deployments in a fresh metadata database (each backend), a token for the first; the check's engine."""
    monkeypatch.setenv("FLOWZA_DATABASE_URL", db_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    token, digest, prefix = new_token()
    with Session(db_engine) as session:
        first, second = (ModelDeployment(name=name, model="m", version=1, status="ready") for name in ("a", "b"))
        session.add_all([first, second])
        session.flush()
        rows.add_token(session, first.id, "tests", digest, prefix, None)
        session.commit()
        ids = first.id, second.id
    return {"token": token, "digest": digest, "ids": ids, "engine": rows.metadata_engine()}


def token_queries(engine) -> list[str]:
    seen = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.append(statement) if "deployment_tokens" in statement
                 else None)
    return seen


def test_tokens_are_stored_as_their_hash(deployments, db_engine):
    token, digest = deployments["token"], deployments["digest"]
    assert token.startswith("fzd_") and len(token) > 40 and digest == hashlib.sha256(token.encode()).hexdigest()
    with db_engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash, prefix FROM deployment_tokens")).one()
    assert tuple(stored) == (digest, token[:12])
    assert new_token()[0] != token
    assert (bearer(f"Bearer {token}"), bearer(f"bearer  {token}"), bearer("Basic x"), bearer(None)) == (
        token, token, None, None)


def test_a_token_opens_its_deployment_only_and_is_read_once_a_second(deployments):
    check, (first, second) = TokenCheck(), deployments["ids"]
    queries = token_queries(deployments["engine"])

    async def scenario():
        for _ in range(50):
            await check.verify(first, "a", deployments["token"])
        with pytest.raises(Unauthorized, match="another deployment"):
            await check.verify(second, "b", deployments["token"])
        for wrong in (None, "", deployments["token"] + "x", "fzd_guess"):
            with pytest.raises(Unauthorized):
                await check.verify(first, "a", wrong)

    asyncio.run(scenario())
    lookups = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
    assert len(lookups) == 3  # the good token once, then each distinct wrong one


def test_a_token_revoked_elsewhere_stops_within_a_second(deployments, db_engine):
    check, (first, _) = TokenCheck(), deployments["ids"]

    async def scenario():
        await check.verify(first, "a", deployments["token"])
        with db_engine.begin() as connection:  # another API process revokes it
            connection.execute(text("DELETE FROM deployment_tokens"))
        revoked_at = time.monotonic()
        while True:
            try:
                await check.verify(first, "a", deployments["token"])
            except Unauthorized:
                return time.monotonic() - revoked_at
            await asyncio.sleep(0.05)

    assert asyncio.run(scenario()) <= VERIFIED_FOR_S + 0.2


def test_a_token_revoked_here_stops_at_once(deployments):
    check, (first, _) = TokenCheck(), deployments["ids"]

    async def scenario():
        await check.verify(first, "a", deployments["token"])
        with Session(deployments["engine"]) as session:
            session.delete(session.query(DeploymentToken).one())
            session.commit()
        check.forget(token_hash=deployments["digest"])
        with pytest.raises(Unauthorized):
            await check.verify(first, "a", deployments["token"])

    asyncio.run(scenario())


def test_last_use_is_saved_in_batches(deployments, db_engine):
    check, (first, _) = TokenCheck(), deployments["ids"]
    queries = token_queries(deployments["engine"])

    async def scenario():
        for _ in range(20):
            await check.verify(first, "a", deployments["token"])

    asyncio.run(scenario())
    assert not [q for q in queries if q.lstrip().upper().startswith("UPDATE")]
    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT last_used_at FROM deployment_tokens")).scalar_one() is None
    check.save_usage()
    assert len([q for q in queries if q.lstrip().upper().startswith("UPDATE")]) == 1
    with Session(db_engine) as session:
        assert session.query(DeploymentToken).one().last_used_at is not None
