"""Connection secrets at rest: Fernet-encrypted with a key derived from Flowza's secret key.

The secret key (FLOWZA_SECRET_KEY, else FLOWZA_HOME/secret_key) also signs logins; HKDF with a label of
its own gives connections a different key, so neither use can stand in for the other. Changing the
secret key makes saved secrets unreadable: they must be saved again.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from flowza_core.errors import FlowzaError
from flowza_core.settings import Settings, get_settings

_LABEL = b"flowza connection secrets v1"


class SecretUnreadable(FlowzaError):
    code = "SECRET_KEY_CHANGED"


def seal(secret: dict[str, Any], settings: Settings | None = None) -> str:
    """``secret`` encrypted (a Fernet token: URL-safe text)."""
    return _fernet(_secret_key(settings)).encrypt(json.dumps(secret).encode()).decode()


def unseal(token: str, settings: Settings | None = None) -> dict[str, Any]:
    """The secret ``seal`` encrypted; ``SecretUnreadable`` when the secret key has changed since."""
    try:
        return json.loads(_fernet(_secret_key(settings)).decrypt(token.encode()))
    except InvalidToken:
        raise SecretUnreadable("the secret cannot be decrypted: Flowza's secret key (FLOWZA_SECRET_KEY or "
                               "FLOWZA_HOME/secret_key) has changed since it was saved, or this process reads "
                               "another one; save the connection's secret again") from None


def _secret_key(settings: Settings | None) -> str:
    from api.auth import secret_key  # the one place that reads or creates it

    return secret_key(settings or get_settings())


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))
