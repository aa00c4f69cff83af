"""Accounts: the password hash is computed by the caller (auth), never here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from metadata_db.errors import Conflict, NotFound
from metadata_db.models import User


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, email: str, password_hash: str) -> User:
    email = normalize_email(email)
    if get_user_by_email(session, email) is not None:
        raise Conflict(f"an account with email '{email}' already exists", field="email")
    user = User(email=email, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))
