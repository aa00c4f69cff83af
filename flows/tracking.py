"""MLflow tracking for one Flowza run: params, metrics, plots, models, registrations.

One MLflow run per Flowza run that trains or evaluates, in an experiment named after
the workflow. Created on first use; logging happens from the persistence threads, so
the fluent API (thread-local active run) is only used inside ``start_run(run_id=…)``.
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
from importlib.metadata import version
from pathlib import Path

from flowza.schema_lock import MIGRATING
from flowza.settings import Settings
from nodes.ports import Metrics, Model

log = logging.getLogger(__name__)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def configure_mlflow(settings: Settings):
    """Point MLflow at Flowza's tracking store (SQLite under FLOWZA_HOME by default)."""
    import mlflow

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


class RunTracker:
    def __init__(self, settings: Settings, workflow_name: str, tags: dict[str, str]):
        self.settings, self.workflow_name, self.tags = settings, workflow_name, tags
        self._lock = threading.Lock()
        self._client = None
        self.mlflow_run_id: str | None = None
        self._model_uris: dict[int, tuple[object, Future]] = {}

    def _run(self):
        with self._lock:
            if self.mlflow_run_id is None:
                self._client = configure_mlflow(self.settings)
                exp = experiment_id(self._client, self.settings, self.workflow_name)
                run_name = f"{self.workflow_name} {self.tags.get('flowza.run_id', '')[:8]}".strip()
                self.mlflow_run_id = self._client.create_run(exp, run_name=run_name, tags=self.tags).info.run_id
            return self._client, self.mlflow_run_id

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

    def log_params(self, node_id: str, params: dict) -> None:
        from mlflow.entities import Param

        client, run_id = self._run()
        flat = [Param(f"{node_id}.{k}", json.dumps(v) if isinstance(v, (list, dict)) else str(v))
                for k, v in params.items()]
        client.log_batch(run_id, params=flat)

    def log_model(self, node_id: str, model: Model, tags: dict[str, str]) -> str:
        """Log the model artifact (signature and input example from raw training rows)."""
        import mlflow
        from mlflow.models import infer_signature

        future = self._future(model.predictor)
        try:
            client, run_id = self._run()
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
                    code_paths=[str(Path(p).parent) for p in (_module_file("nodes"), _module_file("flowza"))],
                    tags=tags)
            client.set_tag(run_id, f"flowza.model.{node_id}", info.model_uri)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        future.set_result(info.model_uri)
        return info.model_uri

    def register(self, model: Model, tags: dict[str, str]) -> dict:
        """Create a registered model version (and move its alias) for a logged model."""
        import mlflow

        name, alias = model.registration
        model_uri = self._future(model.predictor).result(timeout=600)
        client, _ = self._run()
        version_ = mlflow.register_model(model_uri, name, tags=tags)
        if alias:
            client.set_registered_model_alias(name, alias, version_.version)
        return {"name": name, "version": int(version_.version), "alias": alias, "model_uri": model_uri}

    def log_metrics(self, node_id: str, metrics: Metrics, prefix: str = "") -> None:
        """Scalars as MLflow metrics (keys as named), the rest as JSON, plots as PNG artifacts."""
        from mlflow.entities import Metric

        client, run_id = self._run()
        now = int(time.time() * 1000)
        scalars = [Metric(f"{prefix}{k}", float(v), now, 0) for k, v in metrics.values.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)]
        client.log_batch(run_id, metrics=scalars)
        folder = f"evaluation/{node_id}"
        client.log_dict(run_id, metrics.values, f"{folder}/metrics.json")
        if metrics.artifacts:
            with tempfile.TemporaryDirectory() as tmp:
                for name, data in metrics.artifacts.items():
                    Path(tmp, name).write_bytes(data)
                client.log_artifacts(run_id, tmp, folder)

    def tag(self, tags: dict[str, str]) -> None:
        if self.mlflow_run_id and tags:
            from mlflow.entities import RunTag

            self._client.log_batch(self.mlflow_run_id, tags=[RunTag(k, v) for k, v in tags.items()])

    def finish(self, status: str) -> None:
        if self.mlflow_run_id:
            self._client.set_terminated(self.mlflow_run_id, "FINISHED" if status == "completed" else "FAILED")


def _module_file(name: str) -> str:
    import importlib

    return importlib.import_module(name).__file__
