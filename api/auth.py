"""Who is calling: JWT bearer tokens in multi-user mode, nobody in particular in single-user mode.

Single-user mode (``FLOWZA_AUTH_ENABLED`` off, the embedded default bound to 127.0.0.1) needs no
login: ``CurrentUser`` is ``None`` and every workflow, run and dataset is visible. Multi-user mode
needs a token from ``/api/auth/login``; routes then see only what the user owns or was shared.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pwdlib import PasswordHash
from pwdlib.hashers.bcrypt import BcryptHasher

from metadata_db.models import User
from metadata_db.users import get_user_by_email
from api.deps import SessionDep
from flowza_core.errors import FlowzaError
from flowza_core.settings import Settings, get_settings

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/auth/login (multi-user mode only).")


class Unauthorized(FlowzaError):
    code = "UNAUTHORIZED"


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash((BcryptHasher(),))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher().verify(password, password_hash)


@lru_cache
def _unknown_account_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


def authenticate(session, email: str, password: str) -> User | None:
    """The account these credentials open, or ``None``.

    An unknown email costs a password check too, so the answer's timing does not tell which emails have accounts.
    """
    stand_in = _unknown_account_hash()  # made by the first login, whichever email it names: its cost tells nothing
    user = get_user_by_email(session, email)
    if user is None:
        verify_password(password, stand_in)
        return None
    return user if verify_password(password, user.password_hash) else None


def secret_key(settings: Settings) -> str:
    """FLOWZA_SECRET_KEY, or a random key created once and kept (mode 0600) under FLOWZA_HOME."""
    return settings.secret_key or _stored_key(settings.home_dir / "secret_key")


@lru_cache
def _stored_key(path: Path) -> str:
    """Read once per process (every request checks a token), created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:  # created whole, and only once: processes starting together all read the first one's key
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def issue_token(user: User, settings: Settings | None = None) -> tuple[str, int]:
    """A signed token naming the user; returns (token, seconds it is valid)."""
    settings = settings or get_settings()
    lifetime = timedelta(minutes=settings.token_minutes)
    now = datetime.now(UTC)
    token = jwt.encode({"sub": user.id, "iat": now, "exp": now + lifetime}, secret_key(settings), ALGORITHM)
    return token, int(lifetime.total_seconds())


def user_id_from_token(token: str, settings: Settings | None = None) -> str:
    try:
        claims = jwt.decode(token, secret_key(settings or get_settings()), algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("your login has expired: log in again (POST /api/auth/login)") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("the bearer token is not valid: log in again (POST /api/auth/login)") from exc
    return str(claims["sub"])


def resolve_user(session, token: str | None) -> User | None:
    """The user a token names; ``None`` in single-user mode. Raises Unauthorized."""
    if not get_settings().auth_enabled:
        return None
    if not token:
        raise Unauthorized("log in first: send 'Authorization: Bearer <token>' from POST /api/auth/login")
    user = session.get(User, user_id_from_token(token))
    if user is None:
        raise Unauthorized("the account this token names no longer exists")
    return user


def current_user(session: SessionDep,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User | None:
    return resolve_user(session, credentials.credentials if credentials else None)


CurrentUser = Annotated[User | None, Depends(current_user)]


def user_id(user: User | None) -> str | None:
    return user.id if user is not None else None
