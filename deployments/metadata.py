"""The worker's side of the metadata database: every flow run it takes is a Flowza run with a row.

Flow runs carry a reference (``workflow_id``, ``workflow_version``, ``run_id``), and the worker reads
the definition from the database. Which saved workflow a run belongs to is decided here, never by
a parameter alone:

- a run the API created has a row (``run_id``): it runs the version that row names;
- a flow run of a Flowza schedule's deployment (its ``deployment_id`` is the one Flowza recorded
  for the workflow's schedules) runs the workflow's current version, checked against its owner's
  datasets as the API checks a run;
- a flow run carrying its own ``workflow`` definition (``prefect deployment run``, the Prefect UI)
  becomes a new workflow owned by nobody: in multi-user mode no user sees it, and it may read no
  user's dataset;
- anything else (another workflow's id from outside Flowza) is refused: the flow run fails with
  the reason and nothing is written to that workflow.

The row says ``running`` with the worker's id when the worker starts the run, and holds the final
status and record when it ends, whether or not anyone is watching.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

from prefect.client.schemas.objects import FlowRun
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from metadata_db import runs as run_rows
from metadata_db import workers as worker_rows
from metadata_db import workflows as workflow_rows
from metadata_db.errors import NotFound
from metadata_db.models import FINISHED_STATUSES, Run, Schedule, User, Workflow
from metadata_db.session import session_factory, upgrade
from flows.engine import open_default_store
from flows.recorder import load_run
from flows.store import StoreError
from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)
_FLOW_RUNS = uuid.UUID("7c1d5a52-3f0e-4b8e-9a51-0f1c2d3e4f50")  # namespace of run ids derived from flow runs


class RunRefused(FlowzaError):
    """The worker will not run this flow run (the message says why); its flow run fails with it."""

    code = "RUN_REFUSED"

    def __init__(self, message: str, *, cancelled: bool = False):
        super().__init__(message)
        self.cancelled = cancelled


@lru_cache
def _sessions(url: str) -> sessionmaker[Session]:
    upgrade(url)  # the worker may start before the API has created the tables
    return session_factory(url)


def sessions() -> sessionmaker[Session]:
    """Sessions on the metadata database the settings name now."""
    return _sessions(get_settings().metadata_db_url)


def run_id_of(flow_run_id: uuid.UUID | str) -> str:
    """The Flowza run id of a flow run started without one (a schedule, the Prefect UI).

    Prefect's ids are time-ordered (uuid7): the runs its scheduler creates together share their
    first characters. A name-based UUID of the flow run id is as stable (a flow run claimed again
    keeps its row) and, like the API's uuid4 ids, random from its first character.
    """
    return uuid.uuid5(_FLOW_RUNS, str(flow_run_id)).hex


def claim(flow_run: FlowRun, worker: dict) -> dict:
    """The parameters to run ``flow_run`` with (definition and run id filled in), after marking its row
    running under ``worker`` (``id``, ``hostname``, ``pid``); raises ``RunRefused`` when it must not run."""
    params = dict(flow_run.parameters)
    params["run_id"] = params.get("run_id") or run_id_of(flow_run.id)
    try:
        with sessions().begin() as session:
            run = session.get(Run, params["run_id"])
            run = _own(session, run, flow_run, params) if run else _adopt(session, flow_run, params)
            definition = workflow_rows.get_version(session, run.workflow_id, run.workflow_version).definition
            worker_rows.beat(session, worker["id"], worker["hostname"], worker["pid"])  # alive in this database
            run_rows.update_run_status(session, run.id, "running", flow_run_id=str(flow_run.id))
            run.worker_id, run.submit_lease_until = worker["id"], None
            params.update(workflow=definition, workflow_id=run.workflow_id, workflow_version=run.workflow_version,
                          use_cache=run.use_cache)
    except RunRefused as refused:
        _refused(params["run_id"], str(flow_run.id), refused)
        raise
    except Exception as exc:  # without the database there is no definition to run
        log.exception("could not read flow run %s's workflow from the metadata database", flow_run.id)
        raise RunRefused(f"could not read the workflow from Flowza's metadata database ({type(exc).__name__}); "
                         f"rerun it once the database is reachable") from exc
    return params


def _own(session: Session, run: Run, flow_run: FlowRun, params: dict) -> Run:
    """A row the API created: only its own flow run may run it, and only while it is unfinished."""
    if run.flow_run_id not in (None, str(flow_run.id)):
        raise RunRefused(f"run {run.id} belongs to flow run {run.flow_run_id}, not to this one")
    if params.get("workflow_id") not in (None, run.workflow_id):
        raise RunRefused(f"run {run.id} is a run of workflow {run.workflow_id}, not of {params['workflow_id']}")
    if run.status in FINISHED_STATUSES:
        raise RunRefused(f"run {run.id} is already {run.status}", cancelled=run.status == "cancelled")
    return run


def _adopt(session: Session, flow_run: FlowRun, params: dict) -> Run:
    """A row for a flow run the API did not create, if it may run at all (see the module docstring)."""
    workflow_id = params.get("workflow_id")
    workflow = _scheduled_workflow(session, flow_run, workflow_id) if workflow_id else None
    if workflow is not None:
        version = workflow.current_version
        owner = session.get(User, workflow.owner_id) if workflow.owner_id else None
        _check_datasets(session, owner, workflow_rows.get_version(session, workflow.id, version).definition)
    elif isinstance(params.get("workflow"), dict):
        workflow = workflow_rows.create_workflow(session, None, params["workflow"])  # owned by nobody
        version = workflow.current_version
        _check_datasets(session, None, params["workflow"])
    elif workflow_id:
        raise RunRefused(f"flow run {flow_run.id} names workflow {workflow_id} but was not created by Flowza "
                         f"(neither by its API nor by one of the workflow's schedules): it was not run. Run saved "
                         f"workflows from Flowza, or pass a `workflow` definition to run it as a new workflow")
    else:
        raise RunRefused(f"flow run {flow_run.id} names no workflow: pass `workflow_id` (from Flowza) or a "
                         f"`workflow` definition")
    log.info("adopting flow run %s as run %s of workflow %s", flow_run.id, params["run_id"], workflow.id)
    return run_rows.create_run(session, workflow.id, run_id=params["run_id"], workflow_version=version,
                               owner_id=workflow.owner_id, use_cache=bool(params.get("use_cache", True)),
                               flow_run_id=str(flow_run.id))


def _scheduled_workflow(session: Session, flow_run: FlowRun, workflow_id: str) -> Workflow | None:
    """The workflow, when ``flow_run`` comes from the deployment Flowza made for its schedules."""
    if flow_run.deployment_id is None:
        return None
    deployments = select(Schedule.prefect_deployment_id).where(Schedule.workflow_id == str(workflow_id))
    if str(flow_run.deployment_id) not in set(session.scalars(deployments)):
        return None
    try:
        return workflow_rows.get_workflow(session, str(workflow_id), include_deleted=True)
    except NotFound:
        return None


def _check_datasets(session: Session, owner: User | None, definition: dict) -> None:
    """The API's check of a run (valid, datasets readable by the owner); nobody's runs read no dataset
    in multi-user mode."""
    from api.services.runs import check_runnable
    from flows.validation import compile_plan

    try:
        if owner is None and get_settings().auth_enabled:
            plan = compile_plan(definition)
            if any(getattr(params, "dataset_id", None) for params in plan.params.values()):
                raise RunRefused("a workflow started outside Flowza belongs to nobody and may not read "
                                 "uploaded datasets: run it from Flowza")
        else:
            check_runnable(session, owner, definition)
    except RunRefused:
        raise
    except FlowzaError as exc:
        raise RunRefused(f"the workflow cannot run: {exc.message}") from exc


def _refused(run_id: str, flow_run_id: str, refused: RunRefused) -> None:
    """Record a refusal on the run's row, if this flow run is the row's own and the run is unfinished
    (a stranger's flow run naming someone's run id changes nothing)."""
    try:
        with sessions().begin() as session:
            run = session.get(Run, run_id)
            if run is not None and run.flow_run_id == flow_run_id and run.status not in FINISHED_STATUSES:
                run_rows.update_run_status(session, run_id, "failed", error={
                    "code": refused.code, "message": refused.message, "node_id": None})
    except Exception:
        log.exception("could not record the refusal of run %s", run_id)


def settle(run_id: str, message: str | None = None) -> None:
    """Store how the run ended: its engine record, or ``message`` when it ended without one."""
    try:
        record = load_run(open_default_store(), run_id)
    except StoreError:
        record = None
    try:
        with sessions().begin() as session:
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
