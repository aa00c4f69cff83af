"""The context a node runs in, as a run builds it: in the run's process, or on a Dask worker (from its settings)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

from flowza_core.settings import Settings
from flowza_core.state_paths import state_paths
from flows.store import KeptInStore, ObjectStore
from flows.uploads import UploadFiles
from nodes.base import NodeContext


class Places(NamedTuple):
    """The settings' folders, resolved (each resolve walks the path's links): once per run, not per node."""

    data_root: Path
    home_dir: Path
    state_paths: tuple[Path, ...]

    @classmethod
    def of(cls, settings: Settings) -> "Places":
        return cls(settings.data_root, settings.home_dir, state_paths(settings))


def node_context(node_id: str, node_type: str, settings: Settings, store: ObjectStore, *, connections,
                 protected_columns: frozenset[str], max_dataset_mb: float, logger: logging.Logger,
                 places: Places | None = None) -> NodeContext:
    """Uploads and kept objects come from ``store``; files from the data directory; secrets from ``connections``."""
    places = places or Places.of(settings)
    return NodeContext(node_id=node_id, data_dir=places.data_root, uploads=UploadFiles(store, places.home_dir),
                       state_paths=places.state_paths, protected_columns=protected_columns,
                       max_dataset_mb=max_dataset_mb, logger=logger, connections=connections,
                       objects=KeptInStore(store, node_type))
