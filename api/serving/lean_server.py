"""A lean scoring server for one exported model: ``POST /invocations``, ``GET /ping``, ``GET /health``.

What a Docker export runs (as ``server.py``, next to ``scoring.py`` and the MLflow model folder), without
Flowza or MLflow installed: the model is unpickled with cloudpickle, as MLflow itself loads a model logged
with ``serialization_format="cloudpickle"``, after the model's ``code/`` folder (the ``nodes`` and
``flowza`` packages it was trained with) is put on ``sys.path``. Bodies and answers are those of
Flowza's deployment endpoint. A raw ASGI app: ``uvicorn server:app``. Settings come from the environment:

    MODEL_PATH      the MLflow model folder (default: ``model`` next to this file)
    SERVING_TOKEN   when set, requests need ``Authorization: Bearer <token>``
    MODEL_VERSION   the registered version, echoed as ``model_version``
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__:
    from .scoring import InvalidInput, answer, parse_body, score
else:  # server.py in a Docker context, scoring.py beside it
    from scoring import InvalidInput, answer, parse_body, score

MAX_BODY_BYTES = 64 * 1024 * 1024
JSON = [(b"content-type", b"application/json")]


def load_model(model_dir: Path):
    """The pickled ``FlowzaModel`` of an MLflow model folder, its ``code/`` packages importable."""
    import cloudpickle

    code = model_dir / "code"
    if code.is_dir() and str(code) not in sys.path:
        sys.path.insert(0, str(code))
    with open(model_dir / "model.pkl", "rb") as f:
        return cloudpickle.load(f)


def _error(status: int, code: str, message: str, details=None) -> tuple[int, dict, list]:
    return status, {"code": code, "message": message, "details": details}, []


class ScoringApp:
    """The ASGI app: scoring runs on one thread of its own, the event loop only moves bytes."""

    def __init__(self, model, token: str | None = None, version: int | None = None):
        self.model, self.token, self.version = model, token or None, version
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            self._thread.shutdown(wait=True)
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        status, body, headers = await self._route(scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": JSON + headers})
        await send({"type": "http.response.body", "body": json.dumps(body, separators=(",", ":")).encode()})

    async def _route(self, scope, receive) -> tuple[int, dict, list]:
        path, method = scope["path"], scope["method"]
        if path in ("/ping", "/health"):
            return (200, {"status": "ok"}, []) if method == "GET" else \
                _error(405, "METHOD_NOT_ALLOWED", f"{path} answers GET")
        if path != "/invocations":
            return _error(404, "NOT_FOUND", f"no route {path}: POST /invocations scores rows")
        if method != "POST":
            return _error(405, "METHOD_NOT_ALLOWED", "/invocations answers POST")
        headers = dict(scope["headers"])
        if self.token and not hmac.compare_digest(headers.get(b"authorization", b""),
                                                  f"Bearer {self.token}".encode()):
            return _error(401, "UNAUTHORIZED", "send the serving token as 'Authorization: Bearer <token>'")
        content_type = headers.get(b"content-type", b"application/json").split(b";")[0].strip()
        if content_type != b"application/json":
            return _error(415, "UNSUPPORTED_MEDIA_TYPE", f"send JSON (application/json), not {content_type.decode()}")
        body = await self._body(receive)
        if body is None:
            return _error(413, "PAYLOAD_TOO_LARGE", f"the body is over {MAX_BODY_BYTES // 2**20} MB: split the batch")
        request_id = str(uuid.uuid4())
        try:
            out = await asyncio.get_running_loop().run_in_executor(self._thread, self._score, body)
        except InvalidInput as exc:
            return _error(422, "INVALID_INPUT", exc.message, {"errors": exc.errors})
        out["request_id"] = request_id
        if self.version is not None:
            out["model_version"] = self.version
        return 200, out, [(b"x-request-id", request_id.encode())]

    @staticmethod
    async def _body(receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _score(self, body: bytes) -> dict:
        rows, on_error = parse_body(body)
        return answer(score(self.model, rows, on_error))


def create_app() -> ScoringApp:
    """The app for the model at ``MODEL_PATH``, configured from the environment."""
    model_dir = Path(os.environ.get("MODEL_PATH") or Path(__file__).resolve().parent / "model")
    version = os.environ.get("MODEL_VERSION")
    return ScoringApp(load_model(model_dir), os.environ.get("SERVING_TOKEN"),
                      int(version) if version else None)


if not __package__:
    app = create_app()  # `uvicorn server:app` in a Docker context
