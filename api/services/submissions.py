"""Durable submission: accepted runs reach Prefect through an outbox in the metadata database.

A run accepted with 2xx is a committed row, ``pending`` without a flow run: that row is the outbox
entry. Every API process runs a ``Submitter`` (started with the app) that drains the outbox at
start-up, every second, and at once when a run is created, several submissions in flight.

Several API processes share the outbox without fighting: a submitter takes a run with one
conditional UPDATE that sets a short lease (``submit_lease_until``); the lease also spaces out
retries. The lease can still expire under a submission that hangs, so Prefect's idempotency key
(the run id) makes a repeated submission return the flow run already created. A run whose
submissions keep failing for ``FLOWZA_SUBMISSION_DEADLINE_S`` fails with ``PREFECT_UNAVAILABLE`` (a
long wait in the outbox behind other runs does not count); one Prefect refuses as malformed fails
at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio
import httpx

from metadata_db import runs as run_rows
from metadata_db.base import utcnow
from metadata_db.models import Run
from flowza_core.settings import get_settings

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

log = logging.getLogger(__name__)
POLL_S = 1.0
# One submission. Prefect's SQLite server answers 503 while its database is locked, and its client
# retries those for about a minute: an attempt cut short sooner only starts the same wait again.
ATTEMPT_TIMEOUT_S = 60.0
LEASE_S = 90.0  # longer than an attempt, so a run is not taken twice while its submission is under way
MAX_BACKOFF_S = 30.0

_submitters: set[Submitter] = set()


def wake() -> None:
    """Tell this process's submitters that a run was committed (callable from any thread)."""
    for submitter in list(_submitters):
        submitter.wake()


class Submitter:
    """Drains the outbox into Prefect until stopped, at most ``in_flight`` submissions at a time."""

    def __init__(self, in_flight: int | None = None):
        self.in_flight = in_flight or get_settings().submissions_in_flight
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()
        self._client = None
        self._exits: AsyncExitStack | None = None
        self._opening = asyncio.Lock()

    def wake(self) -> None:
        if self._loop is not None and self._event is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    async def run(self) -> None:
        self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()
        _submitters.add(self)
        try:
            async with AsyncExitStack() as self._exits:
                try:
                    await self._drain()
                finally:  # before the client closes
                    for task in self._tasks:
                        task.cancel()
                    await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            _submitters.discard(self)

    async def prefect(self):
        """One Prefect client (and its connections) for every submission, opened when first needed:
        without a Prefect server, opening one may start a temporary server."""
        async with self._opening:
            if self._client is None:
                from prefect.client.orchestration import get_client

                self._client = await self._exits.enter_async_context(get_client())
        return self._client

    async def _drain(self) -> None:
        while True:
            self._event.clear()
            free = self.in_flight - len(self._tasks)
            taken = await self._take(free) if free > 0 else []
            for run_id in taken:
                task = asyncio.create_task(submit_one(self.prefect, run_id))
                self._tasks.add(task)
                task.add_done_callback(self._done)
            if taken and len(taken) == free:
                continue  # more may be waiting: take them as slots free up
            try:
                await asyncio.wait_for(self._event.wait(), POLL_S)
            except TimeoutError:
                pass

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a submission failed unexpectedly", exc_info=task.exception())
        self._event.set()  # a slot is free

    async def _take(self, count: int) -> list[str]:
        try:
            return await anyio.to_thread.run_sync(_take, count)
        except Exception:  # the database is away: try again at the next poll
            log.warning("could not read the outbox of runs to submit", exc_info=True)
            return []


def _sessions():
    from metadata_db.session import session_factory
    from api.deps import engine_for

    return session_factory(engine_for(get_settings().metadata_db_url)).begin()


def _take(count: int) -> list[str]:
    now = utcnow()
    lease_until = now + timedelta(seconds=LEASE_S)
    taken = []
    with _sessions() as session:
        for run_id in run_rows.outbox(session, now, count * 2):  # some may be taken by another process first
            if len(taken) < count and run_rows.take_for_submission(session, run_id, now, lease_until):
                taken.append(run_id)
    return taken


async def submit_one(prefect: Callable[[], Awaitable[PrefectClient]], run_id: str) -> None:
    """One attempt at submitting a run taken from the outbox (``prefect`` gives the client to submit with);
    a failure is retried later or fails the run."""
    from deployments.runs import submit_run

    reference = await anyio.to_thread.run_sync(_reference, run_id)
    if reference is None:  # cancelled (or submitted by another process) meanwhile
        return
    try:
        client = await prefect()
        flow_run_id = await asyncio.wait_for(submit_run(client, **reference), ATTEMPT_TIMEOUT_S)
    except Exception as exc:
        await anyio.to_thread.run_sync(_retry_or_fail, run_id, exc)
        return
    if await anyio.to_thread.run_sync(_submitted, run_id, flow_run_id) == "cancelled":
        from prefect.states import Cancelled

        # Cancelled during its submission: it must never start.
        await client.set_flow_run_state(flow_run_id, Cancelled(message="cancelled from Flowza"), force=True)


def _reference(run_id: str) -> dict | None:
    with _sessions() as session:
        run = session.get(Run, run_id)
        if run is None or run.status != "pending" or run.flow_run_id:
            return None
        return {"workflow_id": run.workflow_id, "workflow_version": run.workflow_version, "run_id": run.id,
                "use_cache": run.use_cache}


def _submitted(run_id: str, flow_run_id: str) -> str:
    """Record the flow run id (the worker may have already); returns the run's status."""
    with _sessions() as session:
        run = run_rows.get_run(session, run_id)
        run.flow_run_id = run.flow_run_id or flow_run_id
        run.submit_lease_until = None
        return run.status


def _retry_or_fail(run_id: str, exc: Exception) -> None:
    """Space out the next attempt, or fail the run when Prefect refused it or the deadline has passed."""
    with _sessions() as session:
        run = session.get(Run, run_id)
        if run is None or run.status != "pending" or run.flow_run_id:
            return  # cancelled, or submitted after all
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        # The deadline counts failures, not the wait in a long outbox: a slow Prefect is not a missing one.
        run.submit_failing_since = run.submit_failing_since or utcnow()
        waited = (utcnow() - run.submit_failing_since).total_seconds()
        if _refused_by_prefect(exc):
            log.error("Prefect refused run %s: %s", run_id, reason)
            message = f"Prefect refused the run ({reason[:500]})"
        elif waited > get_settings().submission_deadline_s:
            log.error("giving up submitting run %s after %.0f s: %s", run_id, waited, reason)
            message = (f"could not submit the run to Prefect: it kept failing for {waited:.0f} s ({reason[:300]}); "
                       f"are the Prefect server and the Flowza worker running (`flowza up`)?")
        else:
            delay = min(MAX_BACKOFF_S, 2.0 ** max(0, run.submit_attempts - 1))
            log.warning("submitting run %s failed (attempt %d), retrying in %.0f s: %s", run_id,
                        run.submit_attempts, delay, reason)
            run.submit_lease_until = utcnow() + timedelta(seconds=delay)
            return
        run_rows.update_run_status(session, run_id, "failed", error={
            "code": "PREFECT_UNAVAILABLE", "node_id": None, "message": message})


def _refused_by_prefect(exc: Exception) -> bool:
    """An answer saying the request itself is wrong (malformed, too large, invalid): retrying cannot help.

    Others are retried until the deadline: 404 is the deployment not yet made by a starting worker,
    409 a parameter schema the worker has not yet re-applied after an upgrade, 408/429/5xx a busy Prefect.
    """
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in (400, 413, 422)
