"""Typed dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from metadata_db.session import make_engine, session_factory
from flowza_core.settings import get_settings


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_session() -> Iterator[Session]:
    """One session per request: committed when the route succeeds, rolled back when it raises.

    Used with ``scope="function"`` (below): the commit happens when the route returns, before the answer is
    sent, so a client that got its 201/204 sees the change at once, and a failed commit answers an error
    instead of following a success. (FastAPI's default, "request", closes it after the answer is sent.)
    """
    session = session_factory(engine_for(get_settings().metadata_db_url))()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
