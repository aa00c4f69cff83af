"""What every API process does in the background while it serves: submit accepted runs (the outbox)
and end the runs whose worker is gone (see deployments.liveness)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.services.submissions import Submitter

log = logging.getLogger(__name__)


async def reconciling() -> None:
    """Every few seconds, until cancelled: runs of stopped workers become crashed (or cancelled)."""
    from deployments.liveness import RECONCILE_EVERY_S, reconcile

    while True:
        try:
            await reconcile()
        except Exception:  # the database or Prefect is away: the next round tries again
            log.warning("could not reconcile the runs of stopped workers", exc_info=True)
        await asyncio.sleep(RECONCILE_EVERY_S)


@asynccontextmanager
async def run_upkeep() -> AsyncIterator[None]:
    """Run the submitter and the reconciler while the app serves; stop both when it shuts down."""
    tasks = [asyncio.create_task(Submitter().run(), name="flowza-submitter"),
             asyncio.create_task(reconciling(), name="flowza-reconciler")]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
