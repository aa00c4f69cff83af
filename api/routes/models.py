"""``/api/models``: the MLflow model registry — models, versions, metrics, artifacts, aliases, downloads.

The registry is shared by all users in this version: in multi-user mode any logged-in user sees every
registered model and may move its aliases (logging in is still required). Only the link to the Flowza
run that produced a version goes through ``access``: it is shown to those who may see that run.
MLflow calls block, so the routes are plain ``def`` (FastAPI runs them in its threadpool).
"""

from __future__ import annotations

import logging
import mimetypes
import re
import shutil
import socket
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import AfterValidator, BaseModel, Field
from starlette.background import BackgroundTask

from api import access
from api.auth import CurrentUser
from api.db.errors import NotFound
from api.deps import SessionDep
from flowza.errors import FlowzaError
from flowza.settings import get_settings
from flows import registry, registry_artifacts

log = logging.getLogger(__name__)


class MlflowUnavailable(FlowzaError):
    code = "MLFLOW_UNAVAILABLE"


def _not_reserved(alias: str) -> str:
    if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise ValueError("'latest' and 'v<number>' are reserved by MLflow for versions")
    return alias


Alias = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,255}$",
                                 description="Letters, digits, '_' and '-'; not 'latest' nor 'v<number>'."),
                  AfterValidator(_not_reserved)]
Version = Annotated[int, PathParam(ge=1)]


# --- schemas ---------------------------------------------------------------------------------------------
class ModelSummary(BaseModel):
    name: str
    description: str
    latest_version: int | None
    aliases: dict[str, int] = Field(description="alias → version")
    created_at: datetime | None
    updated_at: datetime | None


class Lineage(BaseModel):
    flowza_run_id: str | None = None
    workflow_name: str | None = None
    workflow_id: str | None = None
    prefect_flow_run_id: str | None = None
    node_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, description="Every flowza.* / prefect.* tag as stored")


class VersionSummary(BaseModel):
    version: int
    aliases: list[str]
    status: str | None
    created_at: datetime | None
    run_id: str | None
    metrics: dict[str, float]
    lineage: Lineage
    links: dict[str, str] = Field(description="mlflow_run / mlflow_model_version (when MLflow is a server), "
                                              "flowza_run (when you may see that run)")


class ModelDetail(ModelSummary):
    versions: list[VersionSummary] = Field(description="Newest first")


class VersionDetail(VersionSummary):
    name: str
    description: str
    source: str | None
    updated_at: datetime | None
    run_status: str | None
    params: dict[str, str]


class ArtifactFile(BaseModel):
    path: str
    size: int | None


class AliasTarget(BaseModel):
    version: int = Field(ge=1, description="The version the alias points at")


class AliasPublic(BaseModel):
    name: str
    alias: str
    version: int


# --- MLflow availability ---------------------------------------------------------------------------------
def _where(uri: str) -> str:
    """The tracking URI without credentials, for messages and links."""
    parts = urlsplit(uri)
    if not parts.hostname:
        return uri  # a SQLite file or folder: no credentials in it
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path.rstrip('/')}"


DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}


def _probe(uri: str) -> None:
    """Raise OSError unless the server or database the tracking URI names accepts connections."""
    import requests

    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        requests.get(f"{uri.rstrip('/')}/health", timeout=3)
    elif (default_port := DATABASE_PORTS.get(parts.scheme.split("+")[0])) and parts.hostname:
        # MLflow would retry connecting to a database for ~100 s before failing.
        socket.create_connection((parts.hostname, parts.port or default_port), timeout=3).close()


def mlflow_available() -> Iterator[None]:
    """503 at once when the MLflow server is down (its client would retry for minutes); MLflow failures → 503."""
    import requests
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import OperationalError

    uri = get_settings().tracking_uri
    advice = ("start it with `flowza up` (or `mlflow server --port "
              f"{get_settings().mlflow_port}`), or point FLOWZA_MLFLOW_TRACKING_URI at a running one")
    try:
        _probe(uri)
    except (OSError, requests.RequestException) as exc:
        raise MlflowUnavailable(f"MLflow is not reachable at {_where(uri)}: {advice}") from exc
    try:
        yield
    except (MlflowException, OperationalError, requests.RequestException) as exc:
        log.warning("MLflow at %s failed: %s", _where(uri), exc)
        raise MlflowUnavailable(f"MLflow at {_where(uri)} did not answer ({type(exc).__name__}): {advice}") \
            from exc


router = APIRouter(prefix="/api/models", tags=["models"],
                   dependencies=[Depends(mlflow_available, scope="function")])


def _when(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def _lineage(tags: dict[str, str]) -> Lineage:
    return Lineage(flowza_run_id=tags.get("flowza.run_id"), workflow_name=tags.get("flowza.workflow_name"),
                   workflow_id=tags.get("flowza.workflow_id") or None,
                   prefect_flow_run_id=tags.get("prefect.flow_run_id") or None,
                   node_id=tags.get("flowza.node_id"), tags=tags)


def _links(session, user, name: str, v: dict) -> dict[str, str]:
    links, uri = {}, get_settings().tracking_uri
    if uri.startswith(("http://", "https://")):
        ui = _where(uri)
        if v["run_id"]:
            exp = v.get("experiment_id")
            links["mlflow_run"] = f"{ui}/#/experiments/{exp}/runs/{v['run_id']}" if exp else \
                f"{ui}/#/runs/{v['run_id']}"
        links["mlflow_model_version"] = f"{ui}/#/models/{quote(name, safe='')}/versions/{v['version']}"
    if run_id := v["lineage"].get("flowza.run_id"):
        try:
            access.run(session, user, run_id)
            links["flowza_run"] = f"/api/runs/{run_id}"
        except NotFound:  # run from the CLI/SDK, or one this user may not see
            pass
    return links


def _summary(session, user, name: str, v: dict) -> dict:
    return {"version": v["version"], "aliases": v["aliases"], "status": v["status"], "created_at": _when(v["created_at"]),
            "run_id": v["run_id"], "metrics": v["metrics"], "lineage": _lineage(v["lineage"]),
            "links": _links(session, user, name, v)}


# --- routes ----------------------------------------------------------------------------------------------
@router.get("/", summary="Registered models with their latest version and aliases")
def list_models(user: CurrentUser) -> list[ModelSummary]:
    return [ModelSummary(**m | {"created_at": _when(m["created_at"]), "updated_at": _when(m["updated_at"])})
            for m in registry.list_models()]


@router.get("/{name}", summary="One model with its versions (newest first), metrics, lineage and links")
def get_model(session: SessionDep, user: CurrentUser, name: str) -> ModelDetail:
    model = registry.get_model(name)
    versions = model["versions"]
    return ModelDetail(
        name=name, description=model["description"], latest_version=versions[0]["version"] if versions else None,
        aliases={a: v["version"] for v in versions for a in v["aliases"]},
        created_at=_when(model["created_at"]), updated_at=_when(model["updated_at"]),
        versions=[_summary(session, user, name, v) for v in versions])


@router.get("/{name}/versions/{version}", summary="One version in detail, with its run's metrics and params")
def get_version(session: SessionDep, user: CurrentUser, name: str, version: Version) -> VersionDetail:
    v = registry.describe_version(name, version)
    return VersionDetail(**_summary(session, user, name, v), name=name, description=v["description"],
                         source=v["source"], updated_at=_when(v["updated_at"]), run_status=v["run_status"],
                         params=v["params"])


@router.get("/{name}/versions/{version}/artifacts", summary="Files the version's run logged (plots, metrics)")
def list_artifacts(user: CurrentUser, name: str, version: Version) -> list[ArtifactFile]:
    return [ArtifactFile(**f) for f in registry_artifacts.list_artifacts(name, version)]


def _file(path: Path, folder: str, filename: str, media_type: str, disposition: str) -> FileResponse:
    return FileResponse(path, media_type=media_type, filename=filename, content_disposition_type=disposition,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/{name}/versions/{version}/artifacts/{path:path}", summary="One artifact file (plots are PNG)",
            response_class=FileResponse)
def download_artifact(user: CurrentUser, name: str, version: Version, path: str) -> FileResponse:
    registry_artifacts.safe_artifact_path(path)  # before any MLflow call or temporary folder
    folder = tempfile.mkdtemp(prefix="flowza-artifact-")
    try:
        local = registry_artifacts.download_artifact(name, version, path, Path(folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    media_type = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
    return _file(local, folder, local.name, media_type, "inline")


@router.get("/{name}/versions/{version}/download", summary="The model (MLmodel, pickled pipeline, code) as a zip",
            response_class=FileResponse)
def download_model(user: CurrentUser, name: str, version: Version) -> FileResponse:
    folder = tempfile.mkdtemp(prefix="flowza-model-")
    try:
        model_dir = registry.download_model(name, version, Path(folder) / "model")
        archive = Path(folder) / "model.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(p for p in model_dir.rglob("*") if p.is_file()):
                zf.write(file, file.relative_to(model_dir).as_posix())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"
    return _file(archive, folder, f"{slug}-v{version}.zip", "application/zip", "attachment")


def _who(user) -> str:
    return user.email if user is not None else "the local user"  # the registry is shared: say who moved what


@router.put("/{name}/aliases/{alias}", summary="Point an alias (e.g. champion) at a version")
def set_alias(user: CurrentUser, name: str, alias: Alias, body: AliasTarget) -> AliasPublic:
    registry.set_alias(name, alias, body.version)
    log.info("alias %s of model %s now points at version %s (by %s)", alias, name, body.version, _who(user))
    return AliasPublic(name=name, alias=alias, version=body.version)


@router.delete("/{name}/aliases/{alias}", status_code=204, summary="Remove an alias (the version stays)")
def remove_alias(user: CurrentUser, name: str, alias: Alias) -> Response:
    registry.version_by_alias(name, alias)  # MLflow deletes a missing alias silently: say 404 instead
    registry.remove_alias(name, alias)
    log.info("alias %s of model %s removed (by %s)", alias, name, _who(user))
    return Response(status_code=204)
