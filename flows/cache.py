"""Cache keys: a node's type, code, parameters and its inputs' fingerprints.

A loader's key includes a hash of its file's content (its ``cache_salt``); every other
output's fingerprint derives from its node's key, so equal fingerprints mean equal data
without hashing tables. Keys name manifests written after the outputs they list.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
from functools import lru_cache
from pathlib import Path

import nodes
from flows.store import ObjectStore
from nodes.base import NodeDef, Params

log = logging.getLogger(__name__)


@lru_cache
def code_fingerprint() -> str:
    """Hash of the node package's source and the libraries whose results it depends on."""
    digest = hashlib.sha256()
    for path in sorted(Path(nodes.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    for lib in ("pandas", "numpy", "scikit-learn", "pyarrow"):
        digest.update(f"{lib}={importlib.metadata.version(lib)}".encode())
    return digest.hexdigest()


def cache_key(defn: NodeDef, params: Params, inputs: dict[str, str], protected: frozenset[str],
              salt: str | None) -> str:
    payload = json.dumps({
        "type": defn.type, "version": defn.version, "code": code_fingerprint(),
        "params": params.model_dump(mode="json"), "inputs": inputs,
        "protected": sorted(protected), "salt": salt,
    }, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def output_fingerprint(key: str, port: str) -> str:
    return hashlib.sha256(f"{key}:{port}".encode()).hexdigest()[:40]


def read_manifest(store: ObjectStore, key: str) -> dict | None:
    path = f"cache/{key}.json"
    if not store.exists(path):
        return None
    try:
        return json.loads(store.get_bytes(path))
    except (ValueError, OSError):
        log.warning("ignoring unreadable cache manifest %s", path, exc_info=True)
        return None


def write_manifest(store: ObjectStore, key: str, manifest: dict) -> None:
    store.put_bytes(f"cache/{key}.json", json.dumps(manifest, default=str).encode())
