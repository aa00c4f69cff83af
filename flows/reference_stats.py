"""A registered version's reference statistics (``nodes.reference``), read back from its MLflow run."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flows.registry import _client
from flows.registry_artifacts import _run_of
from flows.tracking import REFERENCE_ARTIFACT


def load_reference(model_name: str, version: int) -> dict | None:
    """The statistics logged with the version's model; None for a model trained before they were recorded.

    Raises ``ModelNotFound`` for an unknown model or version.
    """
    client, run_id = _client(), _run_of(model_name, version)
    if not any(info.path == REFERENCE_ARTIFACT for info in client.list_artifacts(run_id)):
        return None
    with tempfile.TemporaryDirectory() as folder:
        return json.loads(Path(client.download_artifacts(run_id, REFERENCE_ARTIFACT, folder)).read_text())


def version_metric(model_name: str, version: int, metric: str) -> float | None:
    """The version's own test figure ``metric`` ('accuracy', 'rmse'), as its run logged it: under that name, or
    under a node prefix ('evaluate.accuracy') when several nodes evaluated the model; None when it has none."""
    metrics = _client().get_run(_run_of(model_name, version)).data.metrics
    if metric in metrics:
        return float(metrics[metric])
    prefixed = sorted(key for key in metrics if key.endswith(f".{metric}"))
    return float(metrics[prefixed[0]]) if prefixed else None
