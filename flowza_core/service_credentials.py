"""The credentials that keep the multi-user stack's Prefect and MLflow servers for Flowza's own services.

In multi-user mode the API is the only door: Prefect's server requires its auth string
(``PREFECT_SERVER_API_AUTH_STRING``; clients send ``PREFECT_API_AUTH_STRING``) and MLflow runs its
basic-auth app with one admin account (clients send ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD``), so
someone who reaches their ports without these reads nothing. ``flowza up`` creates them once, in
FLOWZA_HOME/service_credentials.json (mode 0600, like the secret key), and hands them only to its
children; whoever may read that file may open the Prefect and MLflow UIs with them.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "service_credentials.json"
MLFLOW_USER = "flowza"


@dataclass(frozen=True)
class ServiceCredentials:
    prefect_auth_string: str  # "user:password", what Prefect's UI login and its clients send
    mlflow_username: str
    mlflow_password: str
    mlflow_flask_secret: str  # signs the CSRF tokens of MLflow's user pages; must not change between starts

    def client_env(self) -> dict[str, str]:
        """What every Prefect and MLflow client in Flowza's processes needs."""
        return {"PREFECT_API_AUTH_STRING": self.prefect_auth_string,
                "MLFLOW_TRACKING_USERNAME": self.mlflow_username, "MLFLOW_TRACKING_PASSWORD": self.mlflow_password}


def credentials_path(home: Path) -> Path:
    return home / FILE_NAME


def load(home: Path) -> ServiceCredentials | None:
    """The stack's credentials, if ``flowza up`` has created them (and this user may read them)."""
    try:
        return ServiceCredentials(**json.loads(credentials_path(home).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def load_or_create(home: Path) -> ServiceCredentials:
    """Read the credentials, creating them (mode 0600) on the first multi-user start."""
    if found := load(home):
        return found
    created = ServiceCredentials(prefect_auth_string=f"flowza:{secrets.token_urlsafe(24)}",
                                 mlflow_username=MLFLOW_USER, mlflow_password=secrets.token_urlsafe(24),
                                 mlflow_flask_secret=secrets.token_urlsafe(32))
    _write_private(credentials_path(home), json.dumps(asdict(created), indent=2) + "\n")
    return created


def mlflow_auth_config(home: Path, credentials: ServiceCredentials) -> Path:
    """MLflow's basic-auth configuration (MLFLOW_AUTH_CONFIG_PATH): one admin, nothing for anyone else.

    MLflow creates the admin from this file on the first start against an empty auth database,
    which lives next to the tracking database under FLOWZA_HOME.
    """
    auth_db = home / "mlflow" / "basic_auth.db"
    text = ("[mlflow]\n"
            "default_permission = NO_PERMISSIONS\n"
            f"database_uri = sqlite:///{auth_db}\n"
            f"admin_username = {credentials.mlflow_username}\n"
            f"admin_password = {credentials.mlflow_password}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    path = home / "mlflow" / "basic_auth.ini"
    _write_private(path, text)
    return path


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by this user only, atomically (no moment with looser permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)
