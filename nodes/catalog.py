"""The node catalog, derived from the registered node functions."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

import nodes
from nodes.base import REGISTRY, NodeDef
from nodes.ports import port_aliases

CATEGORY_ORDER = ["data input", "preprocessing", "training", "evaluation", "models", "output", "general"]


@lru_cache
def discover() -> dict[str, NodeDef]:
    """Import every module of the ``nodes`` package so its nodes register themselves."""
    for info in pkgutil.walk_packages(nodes.__path__, prefix="nodes."):
        importlib.import_module(info.name)
    return REGISTRY


def get_node(node_type: str) -> NodeDef | None:
    return discover().get(node_type)


def describe(defn: NodeDef) -> dict:
    """One catalog entry: ports, JSON Schema of the parameters, category, description.

    ``port_aliases`` maps the seed's port names this node still accepts to its own (``train_dataset`` -> ``train``).
    """
    return {
        "type": defn.type,
        "category": defn.category,
        "description": defn.description,
        "version": defn.version,
        "inputs": [{"name": n, "type": t} for n, t in defn.inputs.items()],
        "outputs": [{"name": n, "type": t} for n, t in defn.outputs.items()],
        "port_aliases": port_aliases(defn.inputs) | port_aliases(defn.outputs),
        "parameters": defn.schema(),
    }


def catalog() -> list[dict]:
    """Every node, ordered by category then name."""
    order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    defs = sorted(discover().values(), key=lambda d: (order.get(d.category, len(order)), d.type))
    return [describe(d) for d in defs]
