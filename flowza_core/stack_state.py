"""The state of ``flowza up``'s children, as its supervisor last wrote it (FLOWZA_HOME/run/stack.json).

The supervisor rewrites the file every few seconds and removes it when it stops; ``/health`` shows
it only while it is fresh, so a stack that was killed outright does not look alive.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

WRITE_EVERY_S = 2.0
FRESH_FOR_S = 15.0


def state_path(home: Path) -> Path:
    return home / "run" / "stack.json"


def write_state(path: Path, services: dict[str, dict]) -> None:
    """Replace the file atomically: readers see the old state or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"supervisor_pid": os.getpid(), "updated": time.time(), "services": services}))
    tmp.replace(path)


def read_fresh_state(home: Path) -> dict | None:
    """The last state written, unless it is missing, unreadable or older than FRESH_FOR_S."""
    try:
        state = json.loads(state_path(home).read_text())
        fresh = time.time() - float(state["updated"]) <= FRESH_FOR_S
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if fresh else None
