"""Deployment tokens: shown once, stored as their SHA-256, checked from an in-process cache.

A verified token is trusted for at most ``VERIFIED_FOR_S`` before the database is asked again, so a
token revoked through this process stops at once (it is dropped from the cache) and one revoked
through another API process stops within that second. When a token was last used is written every
``USAGE_SAVE_S``, not per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from datetime import datetime

import anyio

from api.auth import Unauthorized
from metadata_db import deployments as rows
from metadata_db.base import utcnow

log = logging.getLogger(__name__)
TOKEN_PREFIX = "fzd_"  # tells a deployment token from a login token at a glance
PREFIX_CHARS = 12  # what lists show of a token
VERIFIED_FOR_S = 1.0
USAGE_SAVE_S = 5.0


def new_token() -> tuple[str, str, str]:
    """A fresh token: (the token, its hash to store, its prefix to show)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token), token[:PREFIX_CHARS]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class TokenCheck:
    """Verifies deployment tokens; one per API process."""

    def __init__(self) -> None:
        self._verified: dict[str, tuple[str, str, float]] = {}  # hash -> (deployment id, token id, checked at)
        self._used: dict[str, datetime] = {}  # token id -> last use, not yet saved

    async def verify(self, deployment_id: str, name: str, token: str | None) -> None:
        """Return if ``token`` opens the deployment; else raise ``Unauthorized``."""
        if not token:
            raise Unauthorized(f"send a token of deployment '{name}' as 'Authorization: Bearer <token>' "
                               f"(create one with POST /api/deployments/{name}/tokens)")
        digest = hash_token(token)
        now = time.monotonic()
        known = self._verified.get(digest)
        if known is None or now - known[2] > VERIFIED_FOR_S:
            found = await anyio.to_thread.run_sync(rows.token_by_hash, rows.metadata_engine(), digest)
            if found is None or not hmac.compare_digest(found[2], digest):
                self._verified.pop(digest, None)
                raise Unauthorized(f"this token does not open deployment '{name}' (wrong or revoked): create one "
                                   f"with POST /api/deployments/{name}/tokens")
            known = (found[1], found[0], now)
            self._verified[digest] = known
        if known[0] != deployment_id:
            raise Unauthorized(f"this token belongs to another deployment: use a token of deployment '{name}'")
        self._used[known[1]] = utcnow()

    def forget(self, *, token_hash: str | None = None, deployment_id: str | None = None) -> None:
        """Stop trusting a revoked token, or every token of a deleted deployment, at once."""
        if token_hash is not None:
            self._verified.pop(token_hash, None)
        if deployment_id is not None:
            for digest in [d for d, known in self._verified.items() if known[0] == deployment_id]:
                self._verified.pop(digest, None)

    def save_usage(self) -> None:
        """Write when each token used since the last save was last used."""
        used, self._used = self._used, {}
        if used:
            rows.touch_tokens(rows.metadata_engine(), used)

    async def keep_usage(self) -> None:
        """Save token usage every ``USAGE_SAVE_S`` until cancelled."""
        while True:
            await asyncio.sleep(USAGE_SAVE_S)
            try:
                await anyio.to_thread.run_sync(self.save_usage)
            except Exception:  # the database is away: a last-used time is not worth failing for
                log.warning("could not save when deployment tokens were last used", exc_info=True)
