"""Accounts: register, log in (JWT), who am I. Only meaningful in multi-user mode.

Neither door tells which emails have accounts. Login answers the same 401 as slowly for an unknown email
as for a wrong password, and failures are throttled per account and per IP (api/rate_limit.py). Register
answers the same 201 whether the email was free or taken; there is no email confirmation to send instead,
so the body says how to go on in both cases: log in with these credentials (which fails if the email
belonged to someone else, whose password is unchanged).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import IntegrityError

from api.auth import CurrentUser, Unauthorized, authenticate, hash_password, issue_token
from metadata_db import users
from metadata_db.errors import Conflict
from api.deps import SessionDep
from api.rate_limit import LoginThrottle
from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/auth", tags=["auth"])
REGISTERED = "registered: log in with this email and password (POST /api/auth/login)"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Credentials(BaseModel):
    email: str = Field(max_length=320, pattern=EMAIL, examples=["ada@example.com"])
    password: str = Field(min_length=8, max_length=72, description="8 to 72 characters (bcrypt's limit).")

    @field_validator("password")
    @classmethod
    def _bcrypt_limit(cls, value: str) -> str:
        if len(value.encode()) > 72:
            raise ValueError("at most 72 bytes in UTF-8 (bcrypt's limit)")
        return value


class UserPublic(BaseModel):
    id: str
    email: str
    created_at: datetime


class Registered(BaseModel):
    email: str = Field(description="The email as accounts are keyed (trimmed, lower case).")
    message: str = Field(description="What to do next; the same whether the email was free or already taken.")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AuthMode(BaseModel):
    auth_enabled: bool
    user: UserPublic | None


def _multi_user_only() -> None:
    if not get_settings().auth_enabled:
        raise FlowzaError("accounts exist only in multi-user mode (FLOWZA_AUTH_ENABLED=true); in single-user "
                          "mode no login is needed", code="AUTH_DISABLED")


def _login(request: Request, session, email: str, password: str) -> Token:
    _multi_user_only()
    throttle = LoginThrottle(request, email)
    throttle.check()
    user = authenticate(session, email, password)
    if user is None:
        throttle.failed()
        raise Unauthorized("wrong email or password")
    throttle.succeeded()
    token, seconds = issue_token(user)
    return Token(access_token=token, expires_in=seconds)


@router.post("/register", status_code=status.HTTP_201_CREATED,
             summary="Create an account (the same answer whether the email was free or taken)")
def register(session: SessionDep, body: Credentials) -> Registered:
    _multi_user_only()
    password_hash = hash_password(body.password)  # first: a taken email costs the same time as a free one
    try:
        users.create_user(session, body.email, password_hash)
    except (Conflict, IntegrityError):  # IntegrityError: registered by a concurrent request
        session.rollback()
        log.info("a registration named an email that already has an account")
    return Registered(email=users.normalize_email(body.email), message=REGISTERED)


@router.post("/login", summary="Log in: a bearer token for the Authorization header")
def login(request: Request, session: SessionDep, body: Credentials) -> Token:
    return _login(request, session, body.email, body.password)


@router.post("/token", summary="Log in with a form (OAuth2 password flow, for the /docs Authorize button)")
def token(request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    return _login(request, session, form.username, form.password)


@router.get("/me", summary="The logged-in user, and whether logins are needed at all")
def me(user: CurrentUser) -> AuthMode:
    public = UserPublic(id=user.id, email=user.email, created_at=user.created_at) if user else None
    return AuthMode(auth_enabled=get_settings().auth_enabled, user=public)
