"""Embedded Prefect defaults, applied before Prefect is imported; and one TLS context for all of Prefect's clients."""

from __future__ import annotations

import functools
import logging
import os
import ssl
import urllib.request

from flowza_core import service_credentials
from flowza_core.settings import get_settings
from flows.prefect_server import start_temporary_servers_here

log = logging.getLogger(__name__)


def local_server_url(port: int) -> str | None:
    """The API URL of a Prefect server on this machine's port, if one answers."""
    url = f"http://127.0.0.1:{port}/api"
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=0.5) as resp:
            return url if resp.status == 200 else None
    except OSError:
        return None


def configure_prefect(quiet_console: bool = False) -> None:
    """Keep Prefect's state under FLOWZA_HOME, offline, and on a local server when one runs.

    Without ``PREFECT_API_URL`` and without a local server, Prefect starts a temporary
    server of its own for the run (SQLite under FLOWZA_HOME/prefect). A local server that a
    multi-user ``flowza up`` started requires its auth string: it is read from FLOWZA_HOME, for
    whoever may read that file (``flowza up`` passes it to its own children).
    """
    settings = get_settings()
    os.environ.setdefault("PREFECT_HOME", str(settings.home_dir / "prefect"))
    os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if quiet_console:
        # The CLI prints its own progress; node logs still reach the Prefect API.
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    if "PREFECT_API_URL" not in os.environ:
        url = local_server_url(settings.prefect_port)
        if url:
            os.environ["PREFECT_API_URL"] = url
            log.info("using the Prefect server at %s", url)
            if "PREFECT_API_AUTH_STRING" not in os.environ and (found := service_credentials.load(settings.home_dir)):
                os.environ["PREFECT_API_AUTH_STRING"] = found.prefect_auth_string
        else:  # Prefect will start a temporary server of its own
            start_temporary_servers_here()


class _SharedTLS:
    """The ``ssl`` module as Prefect's client module sees it, with ``create_default_context`` kept per
    argument set: the contexts are only read once made (Prefect's insecure-skip-verify branch sets the
    same two fields on each call)."""

    def __getattr__(self, name: str):
        return getattr(ssl, name)

    @staticmethod
    @functools.lru_cache(maxsize=8)
    def create_default_context(purpose=ssl.Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
        return ssl.create_default_context(purpose, cafile=cafile, capath=capath, cadata=cadata)


def share_tls_contexts() -> None:
    """Prefect's client builds a new TLS context, loading the CA bundle (~20 ms), for every flow run and every
    client; one per CA file serves them all (httpx shares a context between connections the same way).

    It imports Prefect's client: call it once the process's Prefect settings are in its environment
    (``configure_prefect``, the API's client limits), as Prefect reads some of them when imported."""
    import prefect.client.orchestration as orchestration

    orchestration.ssl = _SharedTLS()
