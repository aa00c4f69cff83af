"""Runs are committed and answered at once, then handed to Prefect from the outbox."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())


def test_a_run_cancelled_while_waiting_for_its_turn_is_never_submitted(client):
    from metadata_db import workflows
    from metadata_db.session import session_factory
    from api.services import runs, submissions
    from flowza_core.settings import get_settings

    workflow_id = client.post("/api/workflows/", json=CLASSIFICATION).json()["id"]
    with session_factory(get_settings().metadata_db_url)() as session:
        run = runs.start_run(session, workflows.get_workflow(session, workflow_id))  # pending, not yet submitted
    cancelled = client.post(f"/api/runs/{run.id}/cancel")
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"

    asked = []

    async def prefect():
        asked.append(True)
        raise AssertionError("a cancelled run must not reach Prefect")

    asyncio.run(submissions.submit_one(prefect, run.id))  # its turn comes: nothing reaches Prefect
    assert asked == []
    after = client.get(f"/api/runs/{run.id}").json()
    assert after["status"] == "cancelled" and after["flow_run_id"] is None
