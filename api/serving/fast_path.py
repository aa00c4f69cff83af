"""The serving path: ``POST /api/deployments/{name}/invocations``, answered ahead of FastAPI's routing.

``invocation`` is the endpoint: the rate limit per address, the deployment, its token (checked from
memory), the body read as MLflow's scoring formats, the rows scored by the deployment's batcher, handed
to the prediction log's buffer, the answer serialized by orjson. No database session, no pydantic model.

``FastPath`` is an ASGI middleware installed outermost (``install``): an invocation skips the router,
its dependencies and the other middleware, and costs only what scoring it costs. It keeps every answer
the route would give: the URL and body checks of ``api.body_limit`` (400, 413 REQUEST_TOO_LARGE, 422
INVALID_JSON), and errors answered by the app's own exception handlers ({code, message, details}, 401
with WWW-Authenticate, 429 with Retry-After). Whatever it does not take (another method, a name FastAPI
would refuse, a multipart body, a URL holding NUL) goes on to the app, whose route calls ``invocation``.
"""

from __future__ import annotations

import math
import re
import time
import uuid

import orjson
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api import body_limit
from metadata_db import deployments as rows
from api.errors import error_body
from api.rate_limit import RateLimited, client_ip
from api.serving.prediction_log import new_entry
from api.serving.scoring import InvalidInput, answer, conform, parse_rows
from api.serving.tokens import bearer
from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings

# The route's path, with its name as FastAPI accepts it (api.deployment_schemas.Name: 1 to 63 characters).
PATH = re.compile(r"/api/deployments/([^/]{1,63})/invocations")


class InvalidRows(FlowzaError):
    """Rows the model cannot score (missing column, wrong type): details name the rows and columns."""

    code = "INVALID_INPUT"

    def __init__(self, cause: InvalidInput):
        super().__init__(cause.message)
        self.errors = cause.errors

    def to_dict(self) -> dict:
        return super().to_dict() | {"errors": self.errors}


async def invocation(request: Request, name: str, body: bytes) -> Response:
    """Score the rows of ``body`` with deployment ``name``; its errors are ``FlowzaError``s (4xx)."""
    started = time.perf_counter()
    state = request.app.state
    _limit(request)
    served = state.models.get(name)
    if served is not None:
        deployment_id = served.deployment_id
    else:
        deployment_id = await run_in_threadpool(rows.deployment_id, rows.metadata_engine(), name)
        if deployment_id is None:
            raise rows.DeploymentNotFound(name)
    await state.tokens.verify(deployment_id, name, bearer(request.headers.get("authorization")))
    try:
        rows_sent, on_error = parse_rows(body)
    except InvalidInput as exc:
        raise InvalidRows(exc) from None
    served = state.models.get(name)  # now: a swap while the body came in serves the new model
    if served is None or served.deployment_id != deployment_id:
        return _unavailable(name, "its model is still loading in this API process; try again in a few seconds")
    if served.batcher is None:
        return _unavailable(name, f"{served.error} (fix the model or PATCH the deployment to another version)")
    try:
        rows_sent = conform(served.batcher.model, rows_sent)  # sent by position: logged under the column names
        scored = await served.batcher.score(rows_sent, on_error)
    except InvalidInput as exc:
        raise InvalidRows(exc) from None
    request_id = str(uuid.uuid4())
    latency_ms = (time.perf_counter() - started) * 1000
    state.prediction_log.add(new_entry(deployment_id, request_id, served.model_version, rows_sent, scored,
                                       latency_ms))
    content = answer(scored) | {"request_id": request_id, "model_version": served.model_version}
    return Response(orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json",
                    headers={"X-Request-Id": request_id})


def _limit(request: Request) -> None:
    limit = get_settings().predictions_per_minute_per_ip
    wait = request.app.state.prediction_calls.hit([client_ip(request)], limit)
    if wait:
        retry = max(1, math.ceil(wait))
        raise RateLimited(f"too many predictions from your address: at most {limit} a minute "
                          f"(FLOWZA_PREDICTIONS_PER_MINUTE_PER_IP); try again in {retry} s", retry)


def _unavailable(name: str, why: str) -> JSONResponse:
    return JSONResponse(error_body("DEPLOYMENT_UNAVAILABLE", f"deployment '{name}' cannot answer: {why}"),
                        status_code=503, headers={"Retry-After": "5"})


class FastPath:
    """ASGI middleware: invocations answered by ``invocation`` without the router; everything else passed on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self._match(scope)
        if matched is None:
            await self.app(scope, receive, send)
            return
        body = await body_limit.checked_body(scope, receive, send)
        if body is None:  # refused, and answered
            return
        request = Request(scope, receive)
        try:
            response = await invocation(request, matched, body)
        except Exception as exc:
            handler = _handler(request.app, exc)
            if handler is None:
                raise  # as from the route: the app's server-error handler answers 500
            response = await handler(request, exc)
        await response(scope, receive, send)

    @staticmethod
    def _match(scope: Scope) -> str | None:
        """The deployment's name if the fast path answers this request."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            return None
        matched = PATH.fullmatch(scope["path"])
        if matched is None or not body_limit.url_is_clean(scope) or body_limit.is_multipart(scope):
            return None
        return matched.group(1)


def _handler(app, exc: Exception):
    """The app's handler for ``exc``, as its exception middleware picks it (the most specific class first);
    None for an unexpected error."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in app.exception_handlers:
            return app.exception_handlers[cls]
    return None


def install(app) -> None:
    """Put the fast path outside every other middleware (call after installing them)."""
    app.add_middleware(FastPath)
