"""A workflow under construction: nodes, connections, and a left-to-right layout the editor shows readably."""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMN_WIDTH, ROW_HEIGHT, TOP = 240, 140, 100


@dataclass
class Graph:
    nodes: list[dict] = field(default_factory=list)
    connections: list[dict] = field(default_factory=list)

    def add(self, node_id: str, node_type: str, parameters: dict, label: str, after: str | None = None, *,
            source_handle: str | None = None, target_handle: str | None = None) -> str:
        """Add a node (its id made unique), fed by ``after`` when given; returns the id."""
        taken = {n["id"] for n in self.nodes}
        unique, n = node_id, 2
        while unique in taken:
            unique, n = f"{node_id}_{n}", n + 1
        self.nodes.append({"id": unique, "type": node_type, "data": {"label": label}, "parameters": parameters})
        if after:
            self.connect(after, unique, source_handle, target_handle)
        return unique

    def connect(self, source: str, target: str, source_handle: str | None = None,
                target_handle: str | None = None) -> None:
        edge = {"source": source, "target": target}
        if source_handle:
            edge["sourceHandle"] = source_handle
        if target_handle:
            edge["targetHandle"] = target_handle
        self.connections.append(edge)

    def workflow(self, name: str, description: str) -> dict:
        return {"name": name[:300], "description": description, "nodes": layout(self.nodes, self.connections),
                "connections": self.connections}


def layout(nodes: list[dict], connections: list[dict]) -> list[dict]:
    """Positions: a column per step along the longest path from a loader, nodes of one column stacked and centred."""
    parents: dict[str, list[str]] = {n["id"]: [] for n in nodes}
    for edge in connections:
        parents.setdefault(edge["target"], []).append(edge["source"])
    depth: dict[str, int] = {}

    def depth_of(node_id: str, seen: frozenset = frozenset()) -> int:
        if node_id not in depth:
            ups = [p for p in parents.get(node_id, []) if p not in seen]
            depth[node_id] = 1 + max((depth_of(p, seen | {node_id}) for p in ups), default=-1)
        return depth[node_id]

    columns: dict[int, list[str]] = {}
    for node in nodes:
        columns.setdefault(depth_of(node["id"]), []).append(node["id"])
    tallest = max((len(ids) for ids in columns.values()), default=1)
    place = {}
    for col, ids in columns.items():
        offset = (tallest - len(ids)) * ROW_HEIGHT / 2
        for row, node_id in enumerate(ids):
            place[node_id] = {"x": col * COLUMN_WIDTH, "y": TOP + offset + row * ROW_HEIGHT}
    return [{"id": n["id"], "type": n["type"], "position": place[n["id"]], **{k: v for k, v in n.items()
                                                                               if k not in ("id", "type")}}
            for n in nodes]
