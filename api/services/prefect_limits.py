"""How long the API waits for Prefect: its client's own timeout and retries, set before Prefect is imported.

Prefect's defaults (60 s a request, 5 retries with doubling backoff) hold an API thread for minutes
when its server hangs. Prefect reads these settings once, when it is imported, so they are applied
to the environment of the process first (``apply``). An API call then waits at most about
``(PREFECT_RETRIES + 1) × FLOWZA_PREFECT_TIMEOUT_S`` plus its backoff (2 s, then 4 s), and answers 503 PREFECT_UNAVAILABLE.
"""

from __future__ import annotations

import os

from flowza_core.settings import Settings

PREFECT_RETRIES = 2  # Prefect on SQLite answers 503 while its database is locked: two more tries, then 503


def client_limits(settings: Settings) -> dict[str, str]:
    """Prefect's own settings bounding each client request, as environment variables."""
    return {"PREFECT_API_REQUEST_TIMEOUT": str(float(settings.prefect_timeout_s)),
            "PREFECT_CLIENT_MAX_RETRIES": str(PREFECT_RETRIES)}


def apply(settings: Settings) -> None:
    """Put the limits in this process's environment (an operator's own PREFECT_* values win)."""
    for name, value in client_limits(settings).items():
        os.environ.setdefault(name, value)
