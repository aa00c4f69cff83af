"""The workflow JSON contract (SPEC §3), shared by the editor, REST, the SDK and the CLI."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

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


def dask_address(address: str) -> str:
    """A Dask scheduler's address as ``tcp://host:port`` (or ``tls://…``); ``ValueError`` saying what is wrong."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None or parts.username \
            or parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError(f"{address!r} is not a Dask scheduler address: give tcp://host:port "
                         f"(e.g. tcp://10.0.0.5:8786) or tls://host:port")
    return f"{parts.scheme}://{parts.netloc}"


class RunnerSpec(BaseModel):
    """Where a run's nodes compute: on threads of the run's process (default) or on a Dask cluster's workers."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["default", "dask"] = "default"
    address: str | None = Field(None, max_length=300, description="The Dask scheduler (tcp://host:8786); "
                                                                 "default: FLOWZA_DASK_ADDRESS.")

    @field_validator("address")
    @classmethod
    def _address_format(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                dask_address(value)
            except ValueError as exc:
                raise PydanticCustomError("dask_address", str(exc)) from None
        return value

    @model_validator(mode="after")
    def _address_allowed(self) -> "RunnerSpec":
        if self.type == "default":
            if self.address is not None:
                raise PydanticCustomError("runner", "an address goes only with the runner type 'dask'")
            return self
        settings = get_settings()
        configured = settings.dask_address
        if self.address is None and configured is None:
            raise PydanticCustomError("runner", "the dask runner needs a scheduler: give runner.address "
                                                "(tcp://host:8786) or set FLOWZA_DASK_ADDRESS")
        if configured is not None:
            try:
                configured = dask_address(configured)
            except ValueError as exc:
                raise PydanticCustomError("runner", f"FLOWZA_DASK_ADDRESS: {exc}") from None
        # A scheduler sends back pickles that the run loads: on a shared server, only the operator's cluster.
        if settings.auth_enabled and self.address is not None and dask_address(self.address) != configured:
            allowed = f"only {configured}" if configured else "none: FLOWZA_DASK_ADDRESS is not set"
            raise PydanticCustomError("runner", f"this multi-user server runs workflows only on the Dask scheduler "
                                                f"configured in FLOWZA_DASK_ADDRESS ({allowed}); remove "
                                                f"runner.address or give that one")
        return self

    def scheduler(self) -> str | None:
        """The Dask scheduler this run computes on (normalized), or None for the default runner."""
        if self.type != "dask":
            return None
        return dask_address(self.address or get_settings().dask_address)


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field("Untitled workflow", max_length=300)
    description: str | None = None
    nodes: list[NodeSpec] = Field(default_factory=list)
    connections: list[EdgeSpec] = Field(default_factory=list)
    runner: RunnerSpec | None = None  # None: Prefect's default task runner (threads of the run's process)

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
