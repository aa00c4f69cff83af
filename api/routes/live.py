"""Live run updates over WebSocket: node states, progress and log lines as they happen.

``WS /api/ws/runs/{run_id}`` follows one run; ``WS /api/workflows/{workflow_id}/ws`` follows the
workflow's latest run and switches to a newer run when one starts. Each message is one JSON event,
every event naming its ``run_id``:

- ``{"type": "snapshot", "run": RunPublic}``: first, the run as ``GET /api/runs/{id}`` shows it
  (on the workflow socket, again whenever it switches to a newer run);
- ``{"type": "node", "node_id", "status", "cached", "duration_s", "error"?, "outputs"?}``;
- ``{"type": "progress", "done", "total", "percent"}``;
- ``{"type": "log", "node_id", "level", "message", "timestamp"}``: lines reaching Prefect while the
  run is watched (earlier ones: ``GET /api/runs/{id}/logs``); the run event waits a few seconds
  for the flow's last lines, which Prefect receives in batches;
- ``{"type": "run", "status", "error"?}`` when the run ends. The run socket then closes with 1000;
  the workflow socket waits for the next run (a workflow never run sends its first snapshot then).

Events are state updates: one may repeat what the snapshot already shows. Authentication in
multi-user mode: ``?token=<access token>`` (browsers cannot set WebSocket headers) or an
``Authorization: Bearer`` header. Refusals happen after the handshake, so browsers see the code:
4401 no or bad token, 4404 unknown run or workflow, or one the user may not see (the same answer);
1013 a client too slow to keep up; 1011 a server error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from api import access
from api.auth import resolve_user
from metadata_db.models import FINISHED_STATUSES
from api.errors import STATUS_BY_CODE
from api.services import watch
from flowza_core.errors import FlowzaError

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
Outcome = tuple[int, str]  # the close code and reason a stream ends with


def _token(websocket: WebSocket, token: str | None) -> str | None:
    header = websocket.headers.get("authorization", "")
    return token or (header[7:] if header.lower().startswith("bearer ") else None)


def _allowed(token: str | None, kind: str, key: str) -> str | None:
    """Raise unless the token's user may view the run or workflow; returns a run's DB status."""
    with watch.short_session() as session:
        user = resolve_user(session, token)
        if kind == "workflow":
            access.workflow(session, user, key)
            return None
        return access.run(session, user, key).status


async def _follow(websocket: WebSocket, kind: str, key: str, token: str | None,
                  stream: Callable[[watch.Subscriber, str | None], Awaitable[Outcome]]) -> None:
    """Check access, then run ``stream`` until it ends or the client leaves; close with its outcome."""
    await websocket.accept()
    outcome: Outcome | None = None
    try:
        status = await anyio.to_thread.run_sync(_allowed, _token(websocket, token), kind, key)
    except FlowzaError as exc:
        outcome = 4000 + STATUS_BY_CODE.get(exc.code, 400), exc.message.encode()[:120].decode(errors="ignore")
    except Exception:
        log.exception("checking access to %s %s failed", kind, key)
        outcome = 1011, "could not check access on the server"
    else:
        async with anyio.create_task_group() as group:
            async def until_client_leaves() -> None:
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass  # clients have nothing to say; their messages are ignored
                group.cancel_scope.cancel()

            async def forward() -> None:
                nonlocal outcome
                try:
                    outcome = await stream(watch.Subscriber(), status)
                except WebSocketDisconnect:
                    pass
                except Exception:
                    log.exception("live updates of %s %s failed", kind, key)
                    outcome = 1011, "live updates failed on the server"
                group.cancel_scope.cancel()

            group.start_soon(until_client_leaves)
            group.start_soon(forward)
    if outcome and websocket.client_state == WebSocketState.CONNECTED:
        try:
            await websocket.close(*outcome)
        except WebSocketDisconnect:
            pass


async def _start(websocket: WebSocket, subscriber: watch.Subscriber, run_id: str,
                 status: str | None) -> watch.RunWatcher | None:
    """Subscribe, then send the snapshot; a finished run also gets its run event (returns no watcher)."""
    registry = watch.registry()
    # Subscribed before the snapshot is read: nothing between the two is missed.
    watcher = None if status in FINISHED_STATUSES else registry.watch_run(run_id, subscriber)
    try:
        public = await anyio.to_thread.run_sync(watch.snapshot, run_id)
        await websocket.send_json({"type": "snapshot", "run_id": run_id, "run": public.model_dump(mode="json")})
        if public.status in FINISHED_STATUSES:
            await websocket.send_json(watch.run_ended(public))
            if watcher:
                registry.leave(watcher, subscriber)
            return None
    except BaseException:
        if watcher:
            registry.leave(watcher, subscriber)
        raise
    return watcher


@router.websocket("/api/ws/runs/{run_id}", name="run_updates")
async def run_updates(websocket: WebSocket, run_id: str, token: str | None = None) -> None:
    """Snapshot, then node, progress and log events of one run; its run event, then close (1000)."""
    async def stream(subscriber: watch.Subscriber, status: str | None) -> Outcome:
        watcher = await _start(websocket, subscriber, run_id, status)
        try:
            while watcher is not None:
                event = await subscriber.get()
                if event["type"] == "close":
                    return event["code"], event["reason"]
                await websocket.send_json(event)
                if event["type"] == "run":
                    break
            return 1000, "the run ended"
        finally:
            if watcher is not None:
                watch.registry().leave(watcher, subscriber)

    await _follow(websocket, "run", run_id, token, stream)


@router.websocket("/api/workflows/{workflow_id}/ws", name="workflow_updates")
async def workflow_updates(websocket: WebSocket, workflow_id: str, token: str | None = None) -> None:
    """The events of the workflow's latest run, switching (with a new snapshot) when a newer run starts."""
    async def stream(subscriber: watch.Subscriber, _: str | None) -> Outcome:
        registry = watch.registry()
        latest = registry.watch_workflow(workflow_id, subscriber)
        following, watcher, ended = None, None, False
        try:
            while True:
                event = await subscriber.get()
                if event["type"] == "close":
                    return event["code"], event["reason"]
                if event["type"] == "latest" and event["run_id"] != following:
                    if watcher is not None:
                        registry.leave(watcher, subscriber)
                    following, watcher = event["run_id"], None
                    watcher = await _start(websocket, subscriber, following, event["status"])
                    # No watcher: the run had ended and _start sent its run event; events its watcher
                    # queued meanwhile are older than that and are dropped.
                    ended = watcher is None
                elif event.get("run_id") == following and event["type"] != "latest" and not ended:
                    await websocket.send_json(event)
                    if event["type"] == "run":
                        ended = True
                        if watcher is not None:
                            registry.leave(watcher, subscriber)
                            watcher = None
        finally:
            registry.leave(latest, subscriber)
            if watcher is not None:
                registry.leave(watcher, subscriber)

    await _follow(websocket, "workflow", workflow_id, token, stream)
