"""MLflow tracking for one Flowza run: params, metrics, plots, models, registrations.

MLflow's convention for a run that trains several models: one parent run per Flowza run (in an
experiment named after the workflow) holding a summary, and one nested child run per trained model
holding that model's params, evaluations, plots and artifact, so a registered version (which
points at its model's run) shows that model's figures and no other's. Runs are created on first
use with the client API: logging happens on the persistence thread and the fluent API's active
run is thread-local, so it is only used inside ``start_run(run_id=…)``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
import warnings
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from flowza_core.errors import FlowzaError
from flowza_core.schema_lock import MIGRATING
from flowza_core.settings import Settings
from nodes.ports import Metrics, Model

log = logging.getLogger(__name__)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
MLFLOW_STATUS = {"completed": "FINISHED", "failed": "FAILED", "cancelled": "KILLED"}
REFERENCE_ARTIFACT = "reference_stats.json"  # a model's training-row statistics (nodes.reference), in its run
MLFLOW_RETRIES = 2  # a request MLflow did not answer is tried at most twice more, after 0 s then ~2 s


class MlflowUnavailable(FlowzaError):
    """MLflow did not answer (down, frozen, unreachable) within its time limit."""

    code = "MLFLOW_UNAVAILABLE"


class TrackingError(FlowzaError):
    """MLflow did not store a trained model (or its params)."""

    code = "TRACKING_ERROR"


class RegistryError(FlowzaError):
    """MLflow did not register a model version (or move its alias)."""

    code = "REGISTRY_ERROR"


@dataclass(frozen=True)
class MetricsTarget:
    """Where a node's metrics go: its model's run (None: the parent's) and the key prefixes in each."""

    model_node: str | None
    prefix: str  # in the model's run: empty unless several nodes evaluate that model
    summary_prefix: str  # in the parent run: empty unless several nodes report metrics


def tracking_location(uri: str) -> str:
    """The tracking URI without credentials, for messages and links."""
    parts = urlsplit(uri)
    if not parts.hostname:
        return uri  # a SQLite file or folder: no credentials in it
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path.rstrip('/')}"


def bound_mlflow_requests(timeout_s: int) -> None:
    """Bound every MLflow HTTP request of this process: ``timeout_s`` a try, at most ``MLFLOW_RETRIES`` retries.

    MLflow's defaults (120 s a try, 7 retries with doubling backoff) hold a caller for many minutes when
    its server hangs. MLflow reads these variables at each request; Flowza's settings are their one source.
    """
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(timeout_s)
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(MLFLOW_RETRIES)
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"


def no_answer(exc: BaseException) -> bool:
    """Whether ``exc`` says MLflow did not answer (timeout, refused connection, retries used up)."""
    import requests

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _timed_out(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError) or "timed out" in str(seen) or "timeout" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def unavailable(settings: Settings, timeout_s: int, exc: BaseException) -> MlflowUnavailable:
    """The user-facing error for an MLflow that did not answer (MLflow's own words go to the log)."""
    where = tracking_location(settings.tracking_uri)
    log.warning("MLflow at %s did not answer: %s", where, _reason(exc))
    if not _timed_out(exc):
        return MlflowUnavailable(f"MLflow is not reachable at {where} (connection refused or dropped): start it "
                                 f"with `flowza up`, or point FLOWZA_MLFLOW_TRACKING_URI at a running one")
    return MlflowUnavailable(
        f"MLflow at {where} did not answer within {timeout_s} s: check that the MLflow server is running and not "
        f"overloaded (`flowza up` starts one), or point FLOWZA_MLFLOW_TRACKING_URI at a running one")


def configure_mlflow(settings: Settings, timeout_s: int | None = None):
    """Point MLflow at Flowza's tracking store (SQLite under FLOWZA_HOME by default).

    Requests wait ``timeout_s`` a try (default: the worker's ``mlflow_worker_timeout_s``).
    """
    import mlflow

    bound_mlflow_requests(timeout_s or settings.mlflow_worker_timeout_s)
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    with MIGRATING:  # a new SQLite store creates its tables with Alembic: never on two threads at once
        client = mlflow.MlflowClient(uri)  # opens (and creates) the tracking store
        client._get_registry_client().store  # noqa: B018 - the registry's, on the same database
    return client


def experiment_id(client, settings: Settings, name: str) -> str:
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found:
        return found.experiment_id
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "workflow"
    try:
        return client.create_experiment(name, artifact_location=f"{settings.artifact_root.rstrip('/')}/{slug}")
    except MlflowException:  # created meanwhile by a concurrent run
        return client.get_experiment_by_name(name).experiment_id


def _requirements(predictor) -> list[str]:
    libs = ["scikit-learn", "pandas", "numpy", "cloudpickle", "pyarrow"]
    if type(predictor.estimator).__module__.startswith("xgboost"):
        libs.append("xgboost")
    return [f"{lib}=={version(lib)}" for lib in libs]


def _reason(exc: BaseException) -> str:
    """MLflow's own words for a failure (its exceptions carry a ``message``)."""
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"


def _params(params: dict, prefix: str = "") -> list:
    from mlflow.entities import Param

    return [Param(f"{prefix}{k}", json.dumps(v) if isinstance(v, (list, dict)) else str(v)) for k, v in params.items()]


class RunTracker:
    """The MLflow runs of one Flowza run: ``mlflow_run_id`` (parent) and ``model_runs`` (training node → child)."""

    def __init__(self, settings: Settings, workflow_name: str, tags: dict[str, str]):
        self.settings, self.workflow_name, self.tags = settings, workflow_name, tags
        self._lock = threading.Lock()
        self._client = None
        self._experiment: str | None = None
        self.mlflow_run_id: str | None = None
        self._unreachable: BaseException | None = None
        self.model_runs: dict[str, str] = {}
        self._model_uris: dict[int, tuple[object, Future]] = {}

    def _run(self):
        """The client and the parent run (created on first use)."""
        with self._lock:
            if self._unreachable is not None:  # MLflow's client retries for minutes: once per run is enough
                raise self._unreachable
            if self.mlflow_run_id is None:
                self._client = configure_mlflow(self.settings)
                self._experiment = experiment_id(self._client, self.settings, self.workflow_name)
                run_name = f"{self.workflow_name} {self.tags.get('flowza.run_id', '')[:8]}".strip()
                self.mlflow_run_id = self._client.create_run(self._experiment, run_name=run_name,
                                                             tags=self.tags).info.run_id
            return self._client, self.mlflow_run_id

    def start(self) -> None:
        """Create the parent run now, in the background: MLflow's first connection (creating its
        database, on a first run) takes seconds that would otherwise fall into a training node's time."""
        try:
            self._run()
        except Exception as exc:  # the nodes that need MLflow report it
            log.warning("could not start the MLflow run: %s", _reason(exc))
            self._unreachable = self._unanswered(exc) or exc

    def _unanswered(self, exc: Exception) -> MlflowUnavailable | None:
        """The error for an MLflow that did not answer (remembered: later calls of this run fail at once)."""
        if isinstance(exc, MlflowUnavailable):
            return exc
        if not no_answer(exc):
            return None
        failure = unavailable(self.settings, self.settings.mlflow_worker_timeout_s, exc)
        with self._lock:
            self._unreachable = self._unreachable or failure
        return failure

    def _model_run(self, model_node: str | None):
        """The client and the child run of the model ``model_node`` trains (the parent run for None)."""
        client, parent = self._run()
        if model_node is None:
            return client, parent
        with self._lock:
            if model_node not in self.model_runs:
                tags = {**self.tags, "mlflow.parentRunId": parent, "flowza.node_id": model_node}
                self.model_runs[model_node] = client.create_run(self._experiment, run_name=model_node,
                                                                tags=tags).info.run_id
            return client, self.model_runs[model_node]

    def _future(self, predictor) -> Future:
        with self._lock:
            held = self._model_uris.get(id(predictor))
            if held is None or held[0] is not predictor:
                held = (predictor, Future())
                self._model_uris[id(predictor)] = held
            return held[1]

    def remember_model(self, predictor, model_uri: str) -> None:
        """A model logged by an earlier run (its node was reused): registering uses that URI."""
        future = self._future(predictor)
        if not future.done():
            future.set_result(model_uri)

    def log_model(self, node_id: str, model: Model, params: dict, tags: dict[str, str]) -> tuple[str, str]:
        """Log a trained model and its node's params in the model's own run; returns (model URI, run id).

        Params are keyed as named in the model's run and by node id in the parent's summary.
        Signature and input example come from raw training rows, as do the reference statistics.
        """
        import mlflow
        from mlflow.models import infer_signature

        future = self._future(model.predictor)
        try:
            client, run_id = self._model_run(node_id)
            client.log_batch(run_id, params=_params(params))
            client.log_batch(self.mlflow_run_id, params=_params(params, f"{node_id}."))
            predictor = model.predictor
            example = predictor.example_rows
            with warnings.catch_warnings():
                # MLflow's hints (integer columns, cloudpickle) are about choices made here on purpose.
                warnings.simplefilter("ignore", UserWarning)
                signature = infer_signature(example, predictor.predict(example))
            with mlflow.start_run(run_id=run_id), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                info = mlflow.sklearn.log_model(
                    predictor, name=re.sub(r"[^A-Za-z0-9_-]+", "-", node_id), serialization_format="cloudpickle",
                    signature=signature, input_example=example, pip_requirements=_requirements(predictor),
                    code_paths=[str(Path(p).parent) for p in (_module_file("nodes"), _module_file("flowza_core"))],
                    tags=tags)
            if model.reference is not None:  # what monitoring compares the model's traffic with
                client.log_dict(run_id, model.reference, REFERENCE_ARTIFACT)
            client.set_tag(self.mlflow_run_id, f"flowza.model.{node_id}", info.model_uri)
        except BaseException as exc:
            future.set_exception(exc)
            if isinstance(exc, Exception) and (failure := self._unanswered(exc)):
                raise failure from exc
            log.warning("MLflow could not log the model of %s", node_id, exc_info=True)
            raise TrackingError(f"MLflow could not store the trained model: {_reason(exc)}") from exc
        future.set_result(info.model_uri)
        return info.model_uri, run_id

    def log_reused_model(self, node_id: str, params: dict, model_uri: str) -> None:
        """A reused training node: its model's run in this Flowza run names the model logged earlier."""
        with self._answering():
            client, run_id = self._model_run(node_id)
            client.log_batch(run_id, params=_params(params))
            client.log_batch(self.mlflow_run_id, params=_params(params, f"{node_id}."))
            client.set_tag(run_id, "flowza.reused_model", model_uri)
            client.set_tag(self.mlflow_run_id, f"flowza.model.{node_id}", model_uri)

    def register(self, model: Model, tags: dict[str, str]) -> dict:
        """Create a registered model version (and move its alias) for a logged model.

        The version points at the run that logged the model: that model's own run.
        """
        import mlflow

        name, alias = model.registration
        future = self._future(model.predictor)
        if not future.done():  # the training node logs its model before it completes, so this is a bug
            raise RegistryError("the model was never logged to MLflow, so it cannot be registered; "
                                "run the workflow again without reusing stored outputs")
        model_uri = future.result()
        try:
            client, _ = self._run()
            self.check_name(name)
            version_ = mlflow.register_model(model_uri, name, tags=tags)
            if alias:
                client.set_registered_model_alias(name, alias, version_.version)
        except RegistryError:
            raise
        except Exception as exc:
            if failure := self._unanswered(exc):
                raise failure from exc
            log.warning("MLflow could not register %s as '%s'", model_uri, name, exc_info=True)
            raise RegistryError(f"MLflow could not register the model as '{name}': {_reason(exc)}") from exc
        return {"name": name, "version": int(version_.version), "alias": alias, "model_uri": model_uri,
                "run_id": version_.run_id}

    def check_name(self, name: str) -> None:
        """Raise ``ModelNameTaken`` unless this run's owner may register under ``name`` (multi-user mode)."""
        from flows.model_names import check_registration

        with self._answering():
            check_registration(self.settings, name, self.tags.get("flowza.run_id"),
                               lambda: _first_version(self._run()[0], name))

    def log_metrics(self, node_id: str, metrics: Metrics, target: MetricsTarget) -> None:
        """Scalars as MLflow metrics, the rest as JSON, plots as PNG artifacts, in the model's run;
        scalars also in the parent's summary."""
        with self._answering():
            self._log_metrics(node_id, metrics, target)

    def _log_metrics(self, node_id: str, metrics: Metrics, target: MetricsTarget) -> None:
        from mlflow.entities import Metric

        client, run_id = self._model_run(target.model_node)
        now = int(time.time() * 1000)
        scalars = {k: float(v) for k, v in metrics.values.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        client.log_batch(run_id, metrics=[Metric(f"{target.prefix}{k}", v, now, 0) for k, v in scalars.items()])
        if run_id != self.mlflow_run_id:
            client.log_batch(self.mlflow_run_id,
                             metrics=[Metric(f"{target.summary_prefix}{k}", v, now, 0) for k, v in scalars.items()])
        folder = f"evaluation/{node_id}"
        client.log_dict(run_id, metrics.values, f"{folder}/metrics.json")
        if metrics.artifacts:
            with tempfile.TemporaryDirectory() as tmp:
                for name, data in metrics.artifacts.items():
                    Path(tmp, name).write_bytes(data)
                client.log_artifacts(run_id, tmp, folder)

    def tag(self, tags: dict[str, str]) -> None:
        """Tag the parent run and every model's run (lineage shown with registered versions)."""
        if self.mlflow_run_id and tags and self._unreachable is None:
            from mlflow.entities import RunTag

            with self._bookkeeping("tag"):
                for run_id in (self.mlflow_run_id, *self.model_runs.values()):
                    self._client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])

    def finish(self, status: str, model_status: dict[str, str] | None = None) -> None:
        """End the runs: the parent with the Flowza run's status, each model's run with its own."""
        if not self.mlflow_run_id or self._unreachable is not None:
            return
        with self._bookkeeping("end"):
            self._client.set_terminated(self.mlflow_run_id, MLFLOW_STATUS.get(status, "FAILED"))
            for node_id, run_id in self.model_runs.items():
                own = (model_status or {}).get(node_id, status)
                self._client.set_terminated(run_id, MLFLOW_STATUS.get(own, "FAILED"))

    @contextmanager
    def _answering(self):
        """MLflow not answering raises ``MlflowUnavailable`` (and later calls of this run fail at once)."""
        try:
            yield
        except Exception as exc:
            if failure := self._unanswered(exc):
                raise failure from exc
            raise

    @contextmanager
    def _bookkeeping(self, what: str):
        """MLflow bookkeeping after the nodes ran: a failure is logged, never keeps the run from ending."""
        try:
            yield
        except Exception as exc:
            log.warning("could not %s the MLflow runs of run %s: %s", what, self.tags.get("flowza.run_id"),
                        _reason(self._unanswered(exc) or exc))


def _first_version(client, name: str) -> tuple[bool, str | None]:
    """Whether MLflow has the registered model ``name``, and the Flowza run that registered its version 1."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return False, None
        raise
    try:
        return True, (client.get_model_version(name, "1").tags or {}).get("flowza.run_id")
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":  # version 1 was deleted
            return True, None
        raise


def _module_file(name: str) -> str:
    import importlib

    return importlib.import_module(name).__file__
