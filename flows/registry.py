"""The model registry as Flowza shows it: models, versions with metrics and lineage, aliases."""

from __future__ import annotations

import logging
from pathlib import Path

from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings
from flows.tracking import configure_mlflow

log = logging.getLogger(__name__)


class ModelNotFound(FlowzaError):
    code = "MODEL_NOT_FOUND"


def _client():
    settings = get_settings()
    return configure_mlflow(settings, timeout_s=settings.mlflow_timeout_s)


def _call(fn, *args, what: str):
    from mlflow.exceptions import MlflowException

    try:
        return fn(*args)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE"):
            raise ModelNotFound(f"{what} not found") from exc
        raise


def list_models() -> list[dict]:
    """Every registered model with its aliases, latest version number and times (epoch ms)."""
    client = _client()
    out = []
    for model in client.search_registered_models(max_results=1000):
        versions = [int(v.version) for v in model.latest_versions or []]
        out.append({"name": model.name, "description": model.description or "",
                    "aliases": dict(model.aliases or {}), "latest_version": max(versions, default=None),
                    "created_at": model.creation_timestamp, "updated_at": model.last_updated_timestamp})
    return sorted(out, key=lambda m: m["name"])


def require_model(name: str) -> None:
    """Raise ``ModelNotFound`` unless MLflow has the registered model ``name``."""
    _call(_client().get_registered_model, name, what=f"model '{name}'")


def get_model(name: str) -> dict:
    """One model: description, times (epoch ms) and its versions, newest first (as ``list_versions``)."""
    client = _client()
    model = _call(client.get_registered_model, name, what=f"model '{name}'")
    aliases_of: dict[int, list[str]] = {}
    for alias, version in (model.aliases or {}).items():  # search results omit aliases (MLflow issue 16734)
        aliases_of.setdefault(int(version), []).append(alias)
    versions = [_version(client, mv, aliases_of.get(int(mv.version), []))[0]
                for mv in client.search_model_versions(f"name = '{name}'")]
    return {"name": name, "description": model.description or "", "created_at": model.creation_timestamp,
            "updated_at": model.last_updated_timestamp, "versions": sorted(versions, key=lambda v: -v["version"])}


def list_versions(name: str) -> list[dict]:
    """A model's versions, newest first, each with its status, its run's metrics and lineage tags."""
    return get_model(name)["versions"]


def describe_version(name: str, version: int) -> dict:
    """One version as ``list_versions`` shows it, plus its run's params and status, and its own description."""
    client = _client()
    mv = _call(client.get_model_version, name, str(version), what=f"model '{name}' version {version}")
    model = _call(client.get_registered_model, name, what=f"model '{name}'")
    aliases = [a for a, v in (model.aliases or {}).items() if int(v) == int(mv.version)]
    described, run = _version(client, mv, aliases)
    return described | {
        "description": mv.description or "", "updated_at": mv.last_updated_timestamp,
        "experiment_id": run.info.experiment_id if run else None, "run_status": run.info.status if run else None,
        "params": dict(run.data.params) if run else {}}


def _version(client, mv, aliases: list[str]) -> tuple[dict, object]:
    """A version as Flowza shows it, and the MLflow run that produced it (None if registered from outside one)."""
    run = client.get_run(mv.run_id) if mv.run_id else None
    return {
        "name": mv.name, "version": int(mv.version), "aliases": sorted(aliases), "status": mv.status,
        "source": mv.source, "run_id": mv.run_id, "created_at": mv.creation_timestamp,
        "metrics": dict(run.data.metrics) if run else {},
        "lineage": {k: v for k, v in (run.data.tags if run else {}).items()
                    if k.startswith(("flowza.", "prefect."))} | dict(mv.tags or {}),
    }, run


def set_alias(name: str, alias: str, version: int) -> None:
    _call(_client().set_registered_model_alias, name, alias, str(version),
          what=f"model '{name}' version {version}")


def remove_alias(name: str, alias: str) -> None:
    _call(_client().delete_registered_model_alias, name, alias, what=f"alias '{alias}' of model '{name}'")


def version_by_alias(name: str, alias: str) -> int:
    return int(_call(_client().get_model_version_by_alias, name, alias,
                     what=f"alias '{alias}' of model '{name}'").version)


def download_model(name: str, version: int, destination: Path) -> Path:
    """Copy a version's model artifact (MLmodel, pickled pipeline, code) into ``destination``."""
    import mlflow

    _client()
    _call(_client().get_model_version, name, str(version), what=f"model '{name}' version {version}")
    destination.mkdir(parents=True, exist_ok=True)
    return Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=str(destination)))
