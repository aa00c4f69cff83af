"""``/api/models``: the MLflow model registry — models, versions, metrics, artifacts, aliases, downloads, shares.

In multi-user mode a registered model belongs to the user whose run first registered its name and
is shared like a workflow (viewer, editor); ``access.model`` decides. Lineage (the Flowza run and
workflow behind a version) is shown only to those who may see that run. MLflow calls go through
``api.services.registry``: off the shared thread pool and within ``FLOWZA_MLFLOW_TIMEOUT_S``.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import AfterValidator, BaseModel, Field
from starlette.background import BackgroundTask

from api import access
from api.auth import CurrentUser
from metadata_db import model_owners, users
from metadata_db.errors import NotFound
from metadata_db.models import ShareRole
from api.deps import SessionDep
from api.services import docker_export
from api.services import registry as mlflow_calls
from flowza_core.settings import get_settings
from flows import registry, registry_artifacts
from flows.tracking import tracking_location

log = logging.getLogger(__name__)
MAX_VERSION = 2**31 - 1  # MLflow stores version numbers as 32-bit integers


def _not_reserved(alias: str) -> str:
    if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise ValueError("'latest' and 'v<number>' are reserved by MLflow for versions")
    return alias


Alias = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,255}$",
                                 description="Letters, digits, '_' and '-'; not 'latest' nor 'v<number>'."),
                  AfterValidator(_not_reserved)]
Version = Annotated[int, PathParam(ge=1, le=MAX_VERSION, description="A version number (1 and up)")]


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
    version: int = Field(ge=1, le=MAX_VERSION, description="The version the alias points at")


class AliasPublic(BaseModel):
    name: str
    alias: str
    version: int


class ShareRequest(BaseModel):
    email: str = Field(max_length=320, description="The account to share with.")
    role: ShareRole = Field(description="viewer: see the model and download it; editor: also move its aliases "
                                        "and register versions under its name.")


class SharePublic(BaseModel):
    user_id: str
    email: str
    role: str


router = APIRouter(prefix="/api/models", tags=["models"])


def _when(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def _may_see_run(session, user, run_id: str | None) -> bool:
    if not run_id:
        return False
    try:
        access.run(session, user, run_id)
        return True
    except NotFound:  # a run from the CLI/SDK, or one this user may not see
        return False


def _lineage(tags: dict[str, str], visible: bool) -> Lineage:
    if not visible:
        return Lineage()
    return Lineage(flowza_run_id=tags.get("flowza.run_id"), workflow_name=tags.get("flowza.workflow_name"),
                   workflow_id=tags.get("flowza.workflow_id") or None,
                   prefect_flow_run_id=tags.get("prefect.flow_run_id") or None,
                   node_id=tags.get("flowza.node_id"), tags=tags)


def _links(name: str, v: dict, flowza_run: str | None) -> dict[str, str]:
    links, uri = {}, get_settings().tracking_uri
    if uri.startswith(("http://", "https://")):
        ui = tracking_location(uri)
        if v["run_id"]:
            exp = v.get("experiment_id")
            links["mlflow_run"] = f"{ui}/#/experiments/{exp}/runs/{v['run_id']}" if exp else \
                f"{ui}/#/runs/{v['run_id']}"
        links["mlflow_model_version"] = f"{ui}/#/models/{quote(name, safe='')}/versions/{v['version']}"
    if flowza_run:
        links["flowza_run"] = f"/api/runs/{flowza_run}"
    return links


def _summary(session, user, name: str, v: dict) -> dict:
    """A version as shown to ``user``: its lineage only if they may see the run behind it (single-user: always)."""
    run_id = v["lineage"].get("flowza.run_id")
    seen = _may_see_run(session, user, run_id)
    return {"version": v["version"], "aliases": v["aliases"], "status": v["status"], "created_at": _when(v["created_at"]),
            "run_id": v["run_id"], "metrics": v["metrics"], "lineage": _lineage(v["lineage"], seen or user is None),
            "links": _links(name, v, run_id if seen else None)}


def _model_detail(session, user, name: str, model: dict) -> ModelDetail:
    versions = model["versions"]
    return ModelDetail(
        name=name, description=model["description"], latest_version=versions[0]["version"] if versions else None,
        aliases={a: v["version"] for v in versions for a in v["aliases"]},
        created_at=_when(model["created_at"]), updated_at=_when(model["updated_at"]),
        versions=[_summary(session, user, name, v) for v in versions])


def _version_detail(session, user, name: str, v: dict) -> VersionDetail:
    return VersionDetail(**_summary(session, user, name, v), name=name, description=v["description"],
                         source=v["source"], updated_at=_when(v["updated_at"]), run_status=v["run_status"],
                         params=v["params"])


async def _allowed(session, user, name: str, need: access.Need = "view") -> None:
    """404 for a model the user may not see, 403 for one they may not change: before any MLflow call."""
    if user is None:
        return
    if need != "view" and await run_in_threadpool(access.model, session, user, name) is None:
        await mlflow_calls.call(registry.require_model, name)  # a model without an owner: 404 if MLflow lacks it too
    await run_in_threadpool(access.model, session, user, name, need)


# --- routes ----------------------------------------------------------------------------------------------
@router.get("/", summary="Registered models (yours and those shared with you) with their latest version and aliases")
async def list_models(session: SessionDep, user: CurrentUser) -> list[ModelSummary]:
    models = await mlflow_calls.call(registry.list_models)
    visible = set(await run_in_threadpool(access.visible_models, session, user, [m["name"] for m in models]))
    return [ModelSummary(**m | {"created_at": _when(m["created_at"]), "updated_at": _when(m["updated_at"])})
            for m in models if m["name"] in visible]


@router.get("/{name}", summary="One model with its versions (newest first), metrics, lineage and links")
async def get_model(session: SessionDep, user: CurrentUser, name: str) -> ModelDetail:
    await _allowed(session, user, name)
    model = await mlflow_calls.call(registry.get_model, name)
    return await run_in_threadpool(_model_detail, session, user, name, model)


@router.get("/{name}/versions/{version}", summary="One version in detail, with its run's metrics and params")
async def get_version(session: SessionDep, user: CurrentUser, name: str, version: Version) -> VersionDetail:
    await _allowed(session, user, name)
    v = await mlflow_calls.call(registry.describe_version, name, version)
    return await run_in_threadpool(_version_detail, session, user, name, v)


@router.get("/{name}/versions/{version}/artifacts", summary="Files the version's run logged (plots, metrics)")
async def list_artifacts(session: SessionDep, user: CurrentUser, name: str, version: Version) -> list[ArtifactFile]:
    await _allowed(session, user, name)
    return [ArtifactFile(**f) for f in await mlflow_calls.call(registry_artifacts.list_artifacts, name, version)]


def _file(path: Path, folder: str, filename: str, media_type: str, disposition: str) -> FileResponse:
    return FileResponse(path, media_type=media_type, filename=filename, content_disposition_type=disposition,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/{name}/versions/{version}/artifacts/{path:path}", summary="One artifact file (plots are PNG)",
            response_class=FileResponse)
async def download_artifact(session: SessionDep, user: CurrentUser, name: str, version: Version,
                            path: str) -> FileResponse:
    registry_artifacts.safe_artifact_path(path)  # before any MLflow call or temporary folder
    await _allowed(session, user, name)
    folder = tempfile.mkdtemp(prefix="flowza-artifact-")
    try:
        local = await mlflow_calls.call(registry_artifacts.download_artifact, name, version, path, Path(folder),
                                  deadline=False)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    media_type = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
    return _file(local, folder, local.name, media_type, "inline")


def _zip_model(name: str, version: int, folder: Path) -> Path:
    model_dir = registry.download_model(name, version, folder / "model")
    archive = folder / "model.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            zf.write(file, file.relative_to(model_dir).as_posix())
    return archive


@router.get("/{name}/versions/{version}/download", summary="The model (MLmodel, pickled pipeline, code) as a zip",
            response_class=FileResponse)
async def download_model(session: SessionDep, user: CurrentUser, name: str, version: Version) -> FileResponse:
    await _allowed(session, user, name)
    folder = tempfile.mkdtemp(prefix="flowza-model-")
    try:
        archive = await mlflow_calls.call(_zip_model, name, version, Path(folder), deadline=False)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"
    return _file(archive, folder, f"{slug}-v{version}.zip", "application/zip", "attachment")


@router.get("/{name}/versions/{version}/docker", response_class=FileResponse,
            summary="A Docker build context serving the version (Dockerfile, server, pinned requirements, model)")
async def export_docker(session: SessionDep, user: CurrentUser, name: str, version: Version) -> FileResponse:
    await _allowed(session, user, name)
    archive = await mlflow_calls.call(docker_export.build_context, name, version, deadline=False)
    return _file(archive, str(archive.parent), archive.name, "application/gzip", "attachment")


def _who(user) -> str:
    return user.email if user is not None else "the local user"


@router.put("/{name}/aliases/{alias}", summary="Point an alias (e.g. champion) at a version (owner or editor)")
async def set_alias(session: SessionDep, user: CurrentUser, name: str, alias: Alias, body: AliasTarget) -> AliasPublic:
    await _allowed(session, user, name, "edit")
    await mlflow_calls.call(registry.set_alias, name, alias, body.version)
    log.info("alias %s of model %s now points at version %s (by %s)", alias, name, body.version, _who(user))
    return AliasPublic(name=name, alias=alias, version=body.version)


def _remove_alias(name: str, alias: str) -> None:
    registry.version_by_alias(name, alias)  # MLflow deletes a missing alias silently: say 404 instead
    registry.remove_alias(name, alias)


@router.delete("/{name}/aliases/{alias}", status_code=204, summary="Remove an alias (owner or editor; the version "
                                                                   "stays)")
async def remove_alias(session: SessionDep, user: CurrentUser, name: str, alias: Alias) -> Response:
    await _allowed(session, user, name, "edit")
    await mlflow_calls.call(_remove_alias, name, alias)
    log.info("alias %s of model %s removed (by %s)", alias, name, _who(user))
    return Response(status_code=204)


# --- shares (multi-user mode) ----------------------------------------------------------------------------
def _share_public(session, share) -> SharePublic:
    return SharePublic(user_id=share.user_id, email=users.get_user(session, share.user_id).email, role=share.role)


@router.get("/{name}/shares", summary="Who the model is shared with")
def list_shares(session: SessionDep, user: CurrentUser, name: str) -> list[SharePublic]:
    access.model(session, user, name, "view")
    return [_share_public(session, s) for s in model_owners.list_shares(session, name)]


@router.post("/{name}/shares", summary="Share with a user, or change their role (owner only)")
@router.put("/{name}/shares", include_in_schema=False)
def share(session: SessionDep, user: CurrentUser, name: str, body: ShareRequest) -> SharePublic:
    access.model(session, user, name, "own")
    target = users.get_user_by_email(session, body.email)
    if target is None:
        raise NotFound("user", body.email)
    return _share_public(session, model_owners.share(session, name, target.id, body.role))


@router.delete("/{name}/shares/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Stop sharing (owner only)")
def unshare(session: SessionDep, user: CurrentUser, name: str, user_id: str) -> None:
    access.model(session, user, name, "own")
    model_owners.unshare(session, name, user_id)
