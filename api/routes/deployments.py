"""``/api/deployments``: registered models served over REST, their tokens, their prediction log and feedback.

Management routes follow the model's access (``api.services.deployments``). The invocations route is
the serving path and is kept lean: the raw body (no pydantic model), the token checked from memory,
no database session, the rows handed to the prediction log's buffer, the answer serialized by orjson
(``api.serving.fast_path``, which answers it ahead of the router).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from api.auth import CurrentUser
from api.deployment_schemas import (INVOCATION_BODY, DeploymentCreate, DeploymentPublic, DeploymentUpdate, Feedback,
                                    FeedbackResult, InvocationAnswer, Name, PredictionPage, PredictionPublic, Stats,
                                    TokenCreated, TokenPublic, TokenRequest)
from metadata_db import deployments as rows
from metadata_db.base import utcnow
from metadata_db.models import DEFAULT_THRESHOLDS, DeploymentToken, ModelDeployment, Prediction
from api.deps import SessionDep
from api.schemas import Offset
from api.serving.fast_path import invocation
from api.serving.tokens import new_token
from api.services import deployments as service

router = APIRouter(prefix="/api/deployments", tags=["deployments"])


def _public(request: Request, found: ModelDeployment, requests_total: int) -> DeploymentPublic:
    served = request.app.state.models.get(found.name)
    if served is None or served.deployment_id != found.id:  # not loaded in this process (yet): as last stored
        status, error, current = found.status, found.error, found.current_version
    else:
        status, error, current = served.status, served.error, served.model_version
    return DeploymentPublic(
        name=found.name, model=found.model, version=found.version, alias=found.alias, current_version=current,
        invocations_url=f"{str(request.base_url).rstrip('/')}/api/deployments/{found.name}/invocations",
        created_at=found.created_at, updated_at=found.updated_at, status=status, error=error,
        thresholds=DEFAULT_THRESHOLDS | (found.thresholds or {}), monitoring_interval_s=found.monitoring_interval_s,
        requests_total=requests_total)


async def _with_counts(request: Request, session, found: list[ModelDeployment]) -> list[DeploymentPublic]:
    await run_in_threadpool(request.app.state.prediction_log.flush)
    counts = await run_in_threadpool(rows.requests_total, session, [d.id for d in found])
    return [_public(request, d, counts.get(d.id, 0)) for d in found]


# --- deployments -----------------------------------------------------------------------------------------
@router.post("", status_code=201, summary="Deploy a registered model version (or alias) behind a REST endpoint")
async def create_deployment(request: Request, session: SessionDep, user: CurrentUser,
                            body: DeploymentCreate) -> DeploymentPublic:
    created = await service.create(
        session, user, request.app.state.models, name=body.name, model=body.model, version=body.version,
        alias=body.alias, thresholds=body.thresholds.model_dump(exclude_none=True) if body.thresholds else {},
        monitoring_interval_s=body.monitoring_interval_s)
    return _public(request, created, 0)


@router.get("", summary="Deployments of the models you may see")
async def list_deployments(request: Request, session: SessionDep, user: CurrentUser) -> list[DeploymentPublic]:
    return await _with_counts(request, session, await service.visible(session, user))


@router.get("/{name}", summary="One deployment: its endpoint, the version it serves, its status")
async def get_deployment(request: Request, session: SessionDep, user: CurrentUser, name: Name) -> DeploymentPublic:
    [public] = await _with_counts(request, session, [await service.deployment(session, user, name)])
    return public


@router.patch("/{name}", summary="Serve another version or alias (loaded, then swapped: no request fails), "
                                 "change thresholds or the monitoring interval")
async def update_deployment(request: Request, session: SessionDep, user: CurrentUser, name: Name,
                            body: DeploymentUpdate) -> DeploymentPublic:
    changes = body.model_dump(exclude_none=True)
    changed = await service.change(session, user, request.app.state.models, name, changes)
    [public] = await _with_counts(request, session, [changed])
    return public


@router.delete("/{name}", status_code=204, summary="Stop serving; deletes its tokens and prediction log")
async def delete_deployment(request: Request, session: SessionDep, user: CurrentUser, name: Name) -> Response:
    state = request.app.state
    await service.delete(session, user, state.models, state.tokens, name)
    return Response(status_code=204)


# --- invocations: the serving path -----------------------------------------------------------------------
@router.post("/{name}/invocations", summary="Score rows (MLflow's scoring formats) with a deployment's token",
             openapi_extra=INVOCATION_BODY, response_model=InvocationAnswer,
             responses={401: {"description": "No token, or one that does not open this deployment"},
                        404: {"description": "No such deployment"},
                        422: {"description": "INVALID_INPUT: details.errors names each row and column"},
                        429: {"description": "Too many predictions from this address (Retry-After)"},
                        503: {"description": "DEPLOYMENT_UNAVAILABLE: the model is not loaded (the message says "
                                             "why)"}})
async def invoke(request: Request, name: Name) -> Response:
    # api.serving.fast_path answers invocations ahead of the router with this same `invocation`; only what it
    # leaves to FastAPI (a multipart body, a name too long) gets here. Declared for the API's documentation.
    return await invocation(request, name, await request.body())


# --- tokens ----------------------------------------------------------------------------------------------
def _token_public(token: DeploymentToken) -> TokenPublic:
    return TokenPublic(id=token.id, name=token.name, prefix=token.prefix, created_at=token.created_at,
                       last_used_at=token.last_used_at)


@router.post("/{name}/tokens", status_code=201, summary="A new token for the endpoint (shown once; owner or editor)")
async def create_token(session: SessionDep, user: CurrentUser, name: Name, body: TokenRequest | None = None
                       ) -> TokenCreated:
    found = await service.deployment(session, user, name, "edit")
    token, digest, prefix = new_token()

    def add() -> DeploymentToken:
        label = body.name if body and body.name else f"token {rows.count_tokens(session, found.id) + 1}"
        return rows.add_token(session, found.id, label, digest, prefix, user.id if user else None)

    created = await run_in_threadpool(add)
    return TokenCreated(id=created.id, name=created.name, prefix=prefix, created_at=created.created_at, token=token)


@router.get("/{name}/tokens", summary="The endpoint's tokens, without their secrets (owner or editor)")
async def list_tokens(request: Request, session: SessionDep, user: CurrentUser, name: Name) -> list[TokenPublic]:
    found = await service.deployment(session, user, name, "edit")
    await run_in_threadpool(request.app.state.tokens.save_usage)
    return [_token_public(t) for t in await run_in_threadpool(rows.list_tokens, session, found.id)]


@router.delete("/{name}/tokens/{token_id}", status_code=204, summary="Revoke a token at once (owner or editor)")
async def revoke_token(request: Request, session: SessionDep, user: CurrentUser, name: Name,
                       token_id: Annotated[str, PathParam(max_length=36)]) -> Response:
    found = await service.deployment(session, user, name, "edit")
    revoked = await run_in_threadpool(rows.remove_token, session, found.id, token_id)
    await run_in_threadpool(session.commit)
    request.app.state.tokens.forget(token_hash=revoked.token_hash)
    return Response(status_code=204)


# --- the prediction log, feedback, live figures ----------------------------------------------------------
def _prediction_public(p: Prediction) -> PredictionPublic:
    return PredictionPublic(request_id=p.request_id, row=p.row, model_version=p.model_version, input=p.input,
                            output=p.output, probability=p.probability, latency_ms=p.latency_ms,
                            created_at=p.created_at, label=p.label)


@router.get("/{name}/predictions", summary="Logged predictions, newest first")
async def list_predictions(request: Request, session: SessionDep, user: CurrentUser, name: Name, offset: Offset = 0,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                           labelled: Annotated[bool | None, Query(description="Only rows with (true) or without "
                                                                              "(false) feedback")] = None
                           ) -> PredictionPage:
    found = await service.deployment(session, user, name)
    await run_in_threadpool(request.app.state.prediction_log.flush)
    page, total = await run_in_threadpool(rows.list_predictions, session, found.id, offset, limit, labelled)
    return PredictionPage(items=[_prediction_public(p) for p in page], total=total)


@router.post("/{name}/feedback", summary="Attach ground truth to logged predictions (one or a list)")
async def feedback(request: Request, session: SessionDep, user: CurrentUser, name: Name,
                   body: Feedback | Annotated[list[Feedback], Field(max_length=10000)]) -> FeedbackResult:
    found = await service.deployment(session, user, name, "edit")
    await run_in_threadpool(request.app.state.prediction_log.flush)  # a label sent right after its prediction

    def apply() -> FeedbackResult:
        items = body if isinstance(body, list) else [body]
        unknown = [i.request_id for i in items if not rows.label(session, found.id, i.request_id, i.row, i.label)]
        if unknown and not isinstance(body, list):
            raise rows.PredictionNotFound(body.request_id)
        return FeedbackResult(labelled=len(items) - len(unknown), unknown=unknown)

    return await run_in_threadpool(apply)


@router.get("/{name}/stats", summary="Live figures: requests, predictions, requests in the last minute, labelled rows")
async def stats(request: Request, session: SessionDep, user: CurrentUser, name: Name) -> Stats:
    found = await service.deployment(session, user, name)
    await run_in_threadpool(request.app.state.prediction_log.flush)
    return Stats(**await run_in_threadpool(rows.stats, session, found.id, utcnow()))

