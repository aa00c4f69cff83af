"""What flows/registry.py does not tell: model timestamps, version status, a version's run and its files."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from flowza.errors import FlowzaError
from flows.registry import ModelNotFound, _call, _client

log = logging.getLogger(__name__)


class InvalidArtifactPath(FlowzaError):
    code = "INVALID_PATH"


class ArtifactNotFound(FlowzaError):
    code = "FILE_NOT_FOUND"


def model_facts(name: str | None = None) -> dict[str, dict]:
    """Description and created/updated times (epoch ms) of every model, or of the one named."""
    client = _client()
    models = ([_call(client.get_registered_model, name, what=f"model '{name}'")] if name is not None
              else client.search_registered_models(max_results=1000))
    return {m.name: {"description": m.description or "", "created_at": m.creation_timestamp,
                     "updated_at": m.last_updated_timestamp} for m in models}


def version_states(name: str) -> dict[int, str]:
    """Each version's registry status (READY, PENDING_REGISTRATION, FAILED_REGISTRATION)."""
    return {int(mv.version): mv.status for mv in _client().search_model_versions(f"name = '{name}'")}


def describe_version(name: str, version: int) -> dict:
    """One version with its aliases, its run's metrics, params and status, and lineage tags."""
    client = _client()
    what = f"model '{name}' version {version}"
    mv = _call(client.get_model_version, name, str(version), what=what)
    model = _call(client.get_registered_model, name, what=f"model '{name}'")
    run = client.get_run(mv.run_id) if mv.run_id else None
    tags = dict(run.data.tags) if run else {}
    return {
        "name": name, "version": int(mv.version), "status": mv.status, "description": mv.description or "",
        "source": mv.source, "run_id": mv.run_id, "created_at": mv.creation_timestamp,
        "updated_at": mv.last_updated_timestamp,
        "aliases": sorted(a for a, v in (model.aliases or {}).items() if int(v) == int(mv.version)),
        "experiment_id": run.info.experiment_id if run else None, "run_status": run.info.status if run else None,
        "metrics": dict(run.data.metrics) if run else {}, "params": dict(run.data.params) if run else {},
        # Same shape as flows.registry.list_versions: the run's lineage tags, then the version's own.
        "lineage": {k: v for k, v in tags.items() if k.startswith(("flowza.", "prefect."))} | dict(mv.tags or {}),
    }


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
