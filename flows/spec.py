"""The workflow JSON contract (SPEC §3), shared by the editor, REST, the SDK and the CLI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowza_core.errors import WorkflowInvalid
from flowza_core.settings import get_settings
from flows.problems import Problem


class Position(BaseModel):
    x: float = 0
    y: float = 0


class NodeSpec(BaseModel):
    # React Flow adds its own keys (width, selected, …): keep them, ignore them.
    model_config = ConfigDict(extra="allow")

    id: str = Field(..., min_length=1, max_length=200)
    type: str = Field(..., min_length=1, max_length=200)
    position: Position = Field(default_factory=Position)
    data: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] | None = None

    @property
    def params(self) -> dict[str, Any]:
        """Parameters, top-level or React-Flow style in ``data.parameters``."""
        if self.parameters is not None:
            return self.parameters
        nested = self.data.get("parameters")
        return nested if isinstance(nested, dict) else {}

    @property
    def label(self) -> str:
        label = self.data.get("label")
        return label if isinstance(label, str) and label.strip() else self.id


class EdgeSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    source: str = Field(..., min_length=1)
    target: str = Field(..., min_length=1)
    sourceHandle: str | None = None
    targetHandle: str | None = None


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field("Untitled workflow", max_length=300)
    description: str | None = None
    nodes: list[NodeSpec] = Field(default_factory=list)
    connections: list[EdgeSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _accept_edges(cls, data: Any) -> Any:
        if isinstance(data, dict) and "edges" in data and not data.get("connections"):
            data = {k: v for k, v in data.items() if k != "edges"} | {"connections": data["edges"]}
        return data

    @model_validator(mode="before")
    @classmethod
    def _within_size_limit(cls, data: Any) -> Any:
        if isinstance(data, dict):
            check_size(data.get("nodes"))
        return data

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True)


def check_size(nodes: Any) -> None:
    """Refuse a workflow with more nodes than FLOWZA_MAX_WORKFLOW_NODES, before parsing any of them.

    Raises ``WorkflowInvalid`` (not a ``ValueError``): pydantic passes it through, so the API answers
    422 ``INVALID_WORKFLOW`` naming the limit whichever way the workflow came in.
    """
    limit = get_settings().max_workflow_nodes
    if isinstance(nodes, list) and len(nodes) > limit:
        raise WorkflowInvalid([Problem("WORKFLOW_TOO_LARGE", f"the workflow has {len(nodes)} nodes; at most {limit} "
                                                             f"are accepted (FLOWZA_MAX_WORKFLOW_NODES)",
                                       field="nodes")])


def parse_workflow(raw: Any) -> WorkflowSpec:
    """Parse a workflow document; every structural problem is reported at once."""
    if isinstance(raw, WorkflowSpec):
        return raw
    if not isinstance(raw, dict):
        raise WorkflowInvalid([Problem("INVALID_WORKFLOW", "a workflow must be a JSON object with "
                                                           "'nodes' and 'connections'")])
    try:
        return WorkflowSpec.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            node_id = None
            if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
                node = raw.get("nodes", [])[loc[1]]
                node_id = node.get("id") if isinstance(node, dict) else None
                node_id = node_id if isinstance(node_id, str) else f"nodes[{loc[1]}]"
            where = ".".join(str(p) for p in loc)
            problems.append(Problem("INVALID_WORKFLOW", f"{where}: {err['msg']}", node_id=node_id,
                                    field=str(loc[-1]) if loc else None))
        raise WorkflowInvalid(problems) from None
