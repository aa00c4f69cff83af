"""The worker's side of the metadata database: every flow run it takes is a Flowza run with a row.

Runs submitted by the API already have a row; runs started elsewhere (a schedule, the Prefect UI,
``prefect deployment run``) get one here, under the saved workflow they name or a new one. The
row says ``running`` when the worker starts the run and holds the final status and record when it
ends, whether or not anyone is watching. A metadata database that cannot be reached never stops a
run: the problem is logged and the run goes ahead.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from prefect.client.schemas.objects import FlowRun
from sqlalchemy.orm import Session, sessionmaker

from api.db import runs as run_rows
from api.db import workflows as workflow_rows
from api.db.errors import NotFound
from api.db.models import FINISHED_STATUSES, Run, Workflow
from api.db.session import session_factory, upgrade
from flows.engine import open_default_store
from flows.recorder import load_run
from flows.store import StoreError
from flowza.settings import get_settings

log = logging.getLogger(__name__)
_FLOW_RUNS = uuid.UUID("7c1d5a52-3f0e-4b8e-9a51-0f1c2d3e4f50")  # namespace of run ids derived from flow runs


@lru_cache
def _sessions(url: str) -> sessionmaker[Session]:
    upgrade(url)  # the worker may start before the API has created the tables
    return session_factory(url)


def run_id_of(flow_run_id: uuid.UUID | str) -> str:
    """The Flowza run id of a flow run started without one (a schedule, the Prefect UI).

    Prefect's ids are time-ordered (uuid7): the runs its scheduler creates together share their
    first characters. A name-based UUID of the flow run id is as stable (a flow run claimed again
    keeps its row) and, like the API's uuid4 ids, random from its first character.
    """
    return uuid.uuid5(_FLOW_RUNS, str(flow_run_id)).hex


def claim(flow_run: FlowRun) -> dict:
    """The parameters to run ``flow_run`` with (its run id filled in), after marking its row running."""
    params = dict(flow_run.parameters)
    params["run_id"] = params.get("run_id") or run_id_of(flow_run.id)
    try:
        with _sessions(get_settings().metadata_db_url).begin() as session:
            run = session.get(Run, params["run_id"]) or _adopt(session, flow_run, params)
            if run.status not in FINISHED_STATUSES:
                run_rows.update_run_status(session, run.id, "running", flow_run_id=str(flow_run.id))
    except Exception:
        log.exception("could not record flow run %s in the metadata database; running it anyway", flow_run.id)
    return params


def settle(run_id: str, message: str | None = None) -> None:
    """Store how the run ended: its engine record, or ``message`` when it ended without one."""
    try:
        record = load_run(open_default_store(), run_id)
    except StoreError:
        record = None
    try:
        with _sessions(get_settings().metadata_db_url).begin() as session:
            run = session.get(Run, run_id)
            if run is None or run.status in FINISHED_STATUSES:
                return
            status = (record or {}).get("status")
            if status in FINISHED_STATUSES:
                run_rows.update_run_status(session, run_id, status, record=record, error=record.get("error"))
            else:  # the flow crashed before it recorded an end
                run_rows.update_run_status(session, run_id, "failed", record=record, error={
                    "code": "RUN_FAILED", "message": message or "the run ended before it recorded its result",
                    "node_id": None})
    except Exception:
        log.exception("could not store the end of run %s in the metadata database", run_id)


def _adopt(session: Session, flow_run: FlowRun, params: dict) -> Run:
    """A row for a run the API did not submit, under the workflow version whose definition it runs."""
    definition = params.get("workflow")
    workflow = _named_workflow(session, params.get("workflow_id"))
    if workflow is None:
        workflow = workflow_rows.create_workflow(session, None, definition)
    version = _version_of(session, workflow, definition)
    log.info("adopting flow run %s as run %s of workflow %s", flow_run.id, params["run_id"], workflow.id)
    return run_rows.create_run(session, workflow.id, run_id=params["run_id"], workflow_version=version,
                               use_cache=bool(params.get("use_cache", True)), flow_run_id=str(flow_run.id))


def _named_workflow(session: Session, workflow_id) -> Workflow | None:
    if not isinstance(workflow_id, str):
        return None
    try:
        return workflow_rows.get_workflow(session, workflow_id)
    except NotFound:
        log.warning("flow run names workflow %s, which does not exist; saving its definition as new", workflow_id)
        return None


def _version_of(session: Session, workflow: Workflow, definition: dict) -> int:
    """The newest saved version with this exact definition, or a new version holding it."""
    for saved in workflow_rows.list_versions(session, workflow.id):
        if saved.definition == definition:
            return saved.version
    return workflow_rows.update_workflow(session, workflow.id, definition).current_version
