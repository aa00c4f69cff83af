"""The context a node runs in, as a run builds it: in the run's process, or on a Dask worker (from its settings)."""

from __future__ import annotations

import logging

from flowza_core.settings import Settings
from flows.store import KeptInStore, ObjectStore
from flows.uploads import UploadFiles
from nodes.base import NodeContext


def node_context(node_id: str, node_type: str, settings: Settings, store: ObjectStore, *, connections,
                 protected_columns: frozenset[str], max_dataset_mb: float, logger: logging.Logger) -> NodeContext:
    """Uploads and kept objects come from ``store``; files from the data directory; secrets from ``connections``."""
    return NodeContext(node_id=node_id, data_dir=settings.data_root, uploads=UploadFiles(store, settings.home_dir),
                       protected_columns=protected_columns, max_dataset_mb=max_dataset_mb, logger=logger,
                       connections=connections, objects=KeptInStore(store, node_type))
