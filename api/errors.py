"""Every error answers JSON ``{code, message, details}``; client mistakes are 4xx, never a traceback."""

from __future__ import annotations

import logging

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.services.prefect_limits import PREFECT_RETRIES
from flowza_core.errors import FlowzaError, WorkflowInvalid
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "NOT_FOUND": 404, "MODEL_NOT_FOUND": 404, "FILE_NOT_FOUND": 404, "FORBIDDEN": 403, "UNAUTHORIZED": 401,
    "CONFLICT": 409, "PAYLOAD_TOO_LARGE": 413, "DATASET_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429, "EMPTY_DATA": 422, "PARSE_ERROR": 422, "INVALID_DATA": 422,
    "TRAINING_FAILED": 422, "AUTH_DISABLED": 404, "STORE_ERROR": 503, "PREFECT_UNAVAILABLE": 503, "MLFLOW_UNAVAILABLE": 503,
    "DEPLOYMENT_NOT_FOUND": 404, "PREDICTION_NOT_FOUND": 404, "DEPLOYMENT_EXISTS": 409, "INVALID_INPUT": 422,
    "DEPLOYMENT_UNAVAILABLE": 503,
    "PROMPT_NOT_UNDERSTOOD": 422, "COLUMN_NOT_FOUND": 422, "NO_DATASET": 422, "NO_TARGET": 422,
    "TASK_MISMATCH": 422, "DRY_RUN_FAILED": 422, "LLM_WORKFLOW_INVALID": 422, "LLM_UNAVAILABLE": 503,
    "LLM_BAD_RESPONSE": 502,
}


def error_body(code: str, message: str, details=None) -> dict:
    return {"code": code, "message": message, "details": details}


def install(app: FastAPI) -> None:
    @app.exception_handler(WorkflowInvalid)
    async def _invalid_workflow(_: Request, exc: WorkflowInvalid):
        return JSONResponse(status_code=422, content=error_body(
            exc.code, exc.message, {"problems": [p.to_dict() for p in exc.problems]}))

    @app.exception_handler(FlowzaError)
    async def _flowza(_: Request, exc: FlowzaError):
        status = STATUS_BY_CODE.get(exc.code, 400)
        if status >= 500:
            log.error("%s: %s", exc.code, exc.message, exc_info=exc)
        headers = getattr(exc, "headers", None)
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(status_code=status, content=error_body(exc.code, exc.message, exc.to_dict()),
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError):
        problems = [{"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        return JSONResponse(status_code=422, content=error_body("INVALID_REQUEST", summary, {"problems": problems}))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "UNAUTHORIZED", 403: "FORBIDDEN"}.get(
            exc.status_code, "HTTP_ERROR")
        return JSONResponse(status_code=exc.status_code, content=error_body(code, str(exc.detail)),
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database(_: Request, exc: OperationalError):
        if "database is locked" not in str(exc.orig):
            return await _unexpected(_, exc)
        log.warning("the metadata database stayed locked: %s", exc.orig)
        return JSONResponse(status_code=503, headers={"Retry-After": "2"}, content=error_body(
            "DATABASE_BUSY", "the metadata database is busy: try again in a moment (PostgreSQL "
                             "(FLOWZA_DATABASE_URL) handles concurrent writers better than SQLite)"))

    @app.exception_handler(httpx.TimeoutException)
    @app.exception_handler(httpx.NetworkError)
    async def _prefect_unanswered(_: Request, exc: httpx.HTTPError):
        # Prefect's client is the API's one httpx user: a timeout or dropped connection is Prefect not answering.
        settings = get_settings()
        log.warning("Prefect did not answer: %r", exc)
        return JSONResponse(status_code=503, headers={"Retry-After": "5"}, content=error_body(
            "PREFECT_UNAVAILABLE", f"Prefect did not answer within {settings.prefect_timeout_s} s (tried "
                                   f"{PREFECT_RETRIES + 1} times): check that the "
                                   f"Prefect server is running and not overloaded (`flowza up` starts one), then "
                                   f"try again"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error")
        return JSONResponse(status_code=500, content=error_body(
            "INTERNAL_ERROR", "something went wrong on the server; the details are in its log"))
