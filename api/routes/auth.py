"""Accounts: register, log in (JWT), who am I. Only meaningful in multi-user mode."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, field_validator

from api.auth import CurrentUser, Unauthorized, hash_password, issue_token, verify_password
from api.db import users
from api.deps import SessionDep
from flowza.errors import FlowzaError
from flowza.settings import get_settings

router = APIRouter(prefix="/api/auth", tags=["auth"])
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


def _login(session, email: str, password: str) -> Token:
    _multi_user_only()
    user = users.get_user_by_email(session, email)
    if user is None or not verify_password(password, user.password_hash):
        raise Unauthorized("wrong email or password")
    token, seconds = issue_token(user)
    return Token(access_token=token, expires_in=seconds)


@router.post("/register", status_code=status.HTTP_201_CREATED, summary="Create an account")
def register(session: SessionDep, body: Credentials) -> UserPublic:
    _multi_user_only()
    user = users.create_user(session, body.email, hash_password(body.password))
    return UserPublic(id=user.id, email=user.email, created_at=user.created_at)


@router.post("/login", summary="Log in: a bearer token for the Authorization header")
def login(session: SessionDep, body: Credentials) -> Token:
    return _login(session, body.email, body.password)


@router.post("/token", summary="Log in with a form (OAuth2 password flow, for the /docs Authorize button)")
def token(session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    return _login(session, form.username, form.password)


@router.get("/me", summary="The logged-in user, and whether logins are needed at all")
def me(user: CurrentUser) -> AuthMode:
    public = UserPublic(id=user.id, email=user.email, created_at=user.created_at) if user else None
    return AuthMode(auth_enabled=get_settings().auth_enabled, user=public)
