"""Build and run workflows from Python; the same JSON and engine as the editor, REST and CLI.

    wf = Workflow("Titanic survival")
    load = wf.add("sample_dataset", name="titanic")
    split = wf.add("train_test_split", target_column="survived", stratify=True)
    wf.connect(load, split)
    result = wf.run()                                   # here, on this machine's Prefect
    run = wf.submit("http://127.0.0.1:8000")            # or on a running Flowza service
    record = run.wait()
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowza.remote import RemoteRun


@dataclass(frozen=True)
class NodeHandle:
    """A node added to a workflow; ``handle["train"]`` names one of its ports."""

    workflow: "Workflow"
    id: str

    def __getitem__(self, port: str) -> "PortRef":
        return PortRef(self, port)


@dataclass(frozen=True)
class PortRef:
    node: NodeHandle
    port: str


class Workflow:
    def __init__(self, name: str = "Untitled workflow", description: str | None = None):
        self.name, self.description = name, description
        self.nodes: list[dict[str, Any]] = []
        self.connections: list[dict[str, Any]] = []

    def add(self, node_type: str, *, id: str | None = None, label: str | None = None, **parameters) -> NodeHandle:
        """Add a node of ``node_type`` with its parameters; returns a handle to connect it."""
        taken = {n["id"] for n in self.nodes}
        if id is None:
            count = sum(n["type"] == node_type for n in self.nodes) + 1
            id = node_type if node_type not in taken else f"{node_type}_{count}"
            while id in taken:
                count += 1
                id = f"{node_type}_{count}"
        elif id in taken:
            raise ValueError(f"node id '{id}' is already used in this workflow")
        node = {"id": id, "type": node_type, "position": {"x": 220 * len(self.nodes), "y": 100},
                "data": {"label": label or id}, "parameters": parameters}
        self.nodes.append(node)
        return NodeHandle(self, id)

    def connect(self, source: NodeHandle | PortRef, target: NodeHandle | PortRef) -> "Workflow":
        """Connect an output to an input; ports may be left out where only one fits."""
        edge = {}
        for end, ref in (("source", source), ("target", target)):
            node = ref.node if isinstance(ref, PortRef) else ref
            if node.workflow is not self:
                raise ValueError(f"node '{node.id}' belongs to another workflow")
            edge[end] = node.id
            if isinstance(ref, PortRef):
                edge[f"{end}Handle"] = ref.port
        self.connections.append(edge)
        return self

    def to_json(self) -> dict:
        doc = {"name": self.name, "nodes": self.nodes, "connections": self.connections}
        if self.description:
            doc["description"] = self.description
        return json.loads(json.dumps(doc))

    @classmethod
    def from_json(cls, doc: dict | str) -> "Workflow":
        """Load a workflow document (dict or JSON text), e.g. one saved from the editor."""
        from flows.spec import parse_workflow

        spec = parse_workflow(json.loads(doc) if isinstance(doc, str) else doc)
        wf = cls(spec.name, spec.description)
        for node in spec.nodes:
            wf.nodes.append({"id": node.id, "type": node.type, "position": node.position.model_dump(),
                             "data": {k: v for k, v in node.data.items() if k != "parameters"},
                             "parameters": dict(node.params)})
        wf.connections = [e.model_dump(exclude_none=True, include={"source", "target", "sourceHandle", "targetHandle"})
                          for e in spec.connections]
        return wf

    def validate(self) -> list:
        """Every problem in the workflow (errors and warnings); empty when all is well."""
        from flows.validation import validate_workflow

        return validate_workflow(self.to_json())[1]

    def run(self, *, use_cache: bool = True, on_event=None) -> dict:
        """Run as a Prefect flow run; returns the run record (status, run_id, nodes…)."""
        from flows.engine import execute

        return execute(self.to_json(), use_cache=use_cache, on_event=on_event)

    def submit(self, url: str, token: str | None = None, *, use_cache: bool = True) -> RemoteRun:
        """Save and run this workflow on the Flowza service at ``url`` (e.g. ``http://127.0.0.1:8000``).

        Returns at once with a handle (``run_id``, ``workflow_id``, ``status()``, ``wait()``); the run is listed
        in the service's runs and the editor. ``token``: a login token, for a multi-user service.
        Raises ``ServiceError`` with the service's message when it is unreachable or refuses the workflow.
        """
        from flowza.remote import submit

        return submit(url, self.to_json(), token=token, use_cache=use_cache)
