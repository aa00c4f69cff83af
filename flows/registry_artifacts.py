"""A model version's run artifacts (plots, metrics files): listed, and downloaded one at a time."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from flowza_core.errors import FlowzaError
from flows.registry import ModelNotFound, _call, _client

log = logging.getLogger(__name__)


class InvalidArtifactPath(FlowzaError):
    code = "INVALID_PATH"


class ArtifactNotFound(FlowzaError):
    code = "FILE_NOT_FOUND"


def _run_of(name: str, version: int) -> str:
    mv = _call(_client().get_model_version, name, str(version), what=f"model '{name}' version {version}")
    if not mv.run_id:
        raise ModelNotFound(f"model '{name}' version {version} has no MLflow run (registered from outside a run)")
    return mv.run_id


def list_artifacts(name: str, version: int) -> list[dict]:
    """Every file the version's run logged (plots, metrics JSON…), with its size in bytes."""
    client, run_id = _client(), _run_of(name, version)
    files, folders = [], [None]
    while folders:
        for info in client.list_artifacts(run_id, folders.pop()):
            if info.is_dir:
                folders.append(info.path)
            else:
                files.append({"path": info.path, "size": info.file_size})
    return sorted(files, key=lambda f: f["path"])


def safe_artifact_path(path: str) -> str:
    """The path as a plain relative POSIX path; refuses anything that could leave the run's folder."""
    parts = PurePosixPath(path).parts
    if not path or "\\" in path or "\x00" in path or path.startswith("/") or any(p in ("..", ".") for p in parts) \
            or "//" in path or ":" in parts[0]:
        raise InvalidArtifactPath(f"'{path}' is not a file path inside the run's artifacts", field="path")
    return str(PurePosixPath(*parts))


def download_artifact(name: str, version: int, path: str, destination: Path) -> Path:
    """Copy one artifact file of the version's run into ``destination``; returns the local file."""
    path = safe_artifact_path(path)
    client, run_id = _client(), _run_of(name, version)
    parent = str(PurePosixPath(path).parent)
    listed = {i.path: i for i in client.list_artifacts(run_id, None if parent == "." else parent)}
    if path not in listed or listed[path].is_dir:
        raise ArtifactNotFound(f"model '{name}' version {version} has no artifact file '{path}'", field="path")
    destination.mkdir(parents=True, exist_ok=True)
    return Path(client.download_artifacts(run_id, path, str(destination)))
