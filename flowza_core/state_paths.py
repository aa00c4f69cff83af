"""Where Flowza keeps its own state on this machine: uploads, logs, the secret key, databases, stored outputs.

A user's ``file_path`` must never reach these, even when FLOWZA_HOME lies inside FLOWZA_DATA_DIR (the default
when Flowza is started from the home folder: data directory ``.``, home ``~/.flowza``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from flowza_core.settings import Settings

SQLITE_SIDECARS = ("", "-wal", "-shm", "-journal")


def state_paths(settings: Settings) -> tuple[Path, ...]:
    """FLOWZA_HOME, and the local object store, MLflow artifacts and SQLite databases configured outside it;
    resolved, so a path is compared with where its symlinks lead."""
    found = [settings.home_dir]
    for url in (settings.object_store_url, settings.mlflow_artifact_root):
        if url and (path := _local_path(url)):
            found.append(path)
    for url in (settings.database_url, settings.tracking_uri):
        if url and url.startswith("sqlite:///") and (database := url.removeprefix("sqlite:///").split("?")[0]):
            found += [Path(database + suffix) for suffix in SQLITE_SIDECARS]
    return tuple(path.expanduser().resolve() for path in found)


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(url) if not parsed.scheme else None


def is_state_path(path: Path, private: tuple[Path, ...]) -> bool:
    """Whether the resolved ``path`` is one of ``private`` or lies inside one of them."""
    return any(path == place or path.is_relative_to(place) for place in private)
