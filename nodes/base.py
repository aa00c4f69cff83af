"""The node framework: a node is a typed function plus a pydantic ``Params`` model.

``@node`` reads the function's signature: arguments annotated with a port type are input
ports, ``params`` is the parameter model, ``ctx`` (optional) is the run context. The
return annotation is one port type (a port named after the type) or a ``NamedTuple`` of
port types (one port per field).
"""

from __future__ import annotations

import inspect
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, Protocol, get_type_hints

from pydantic import BaseModel, ConfigDict

from nodes.ports import PORT_TYPES

REGISTRY: dict[str, "NodeDef"] = {}
CONNECTION_NAME = r"^[a-z][a-z0-9_-]{0,63}$"  # how a named connection is called; parameters hold only its name


def _flowza_state() -> tuple[Path, ...]:
    from flowza_core.settings import get_settings
    from flowza_core.state_paths import state_paths

    return state_paths(get_settings())


class KeptObjects(Protocol):
    """Bytes a node keeps between runs under a key it chooses (a search index, say): ``NodeContext.objects``."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...


class Params(BaseModel):
    """Base for node parameter models: unknown parameters are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class NodeContext:
    """What a node may know about the run it is in; no Prefect, no storage."""

    node_id: str
    data_dir: Path = Path(".")
    datasets_dir: Path = Path("datasets")  # uploads as <id>.csv files, where ``uploads`` is not given
    # An uploaded dataset's file on this machine, or None when there is no such upload (the engine's: from the
    # object store, which may be on another machine).
    uploads: Callable[[str], Path | None] | None = field(default=None, repr=False)
    # Flowza's own files (FLOWZA_HOME…), which a file_path never reads even when they lie in data_dir.
    state_paths: tuple[Path, ...] = field(default_factory=_flowza_state)
    protected_columns: frozenset[str] = frozenset()
    max_dataset_mb: float = 2048
    sample_rows: int | None = None  # set when only a preview is wanted: loaders read at most this many rows
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("nodes"))
    warnings: list[dict] = field(default_factory=list)  # what ``warn`` reported, for the run record and the editor
    # Named connections (database URLs, S3 credentials, API keys) of the run's owner: name -> settings and secret.
    # The engine sets it; parameters only ever hold a connection's name.
    connections: Callable[[str], dict[str, Any]] | None = field(default=None, repr=False)
    # Where the node may keep what it built for later runs (the engine's object store); None: nowhere, build anew.
    objects: KeptObjects | None = field(default=None, repr=False)

    def connection(self, name: str) -> dict[str, Any]:
        """The named connection's settings with its secret (``{"kind": …, …}``), or a node error saying why not."""
        from flowza_core.errors import NodeError

        if self.connections is None:
            raise NodeError(f"connection '{name}' cannot be used here: named connections are read only in runs",
                            code="CONNECTION_NOT_FOUND", field="connection")
        return self.connections(name)

    def upload_file(self, dataset_id: str) -> Path | None:
        """The file of the uploaded dataset ``dataset_id`` on this machine; None when there is no such upload."""
        if self.uploads is not None:
            return self.uploads(dataset_id)
        path = self.datasets_dir / f"{dataset_id}.csv"
        return path if path.is_file() else None

    def warn(self, code: str, message: str, fix: dict[str, Any] | None = None) -> None:
        """Report a likely problem that does not stop the node; ``fix`` is parameter values that would solve it."""
        self.logger.warning("%s", message)
        self.warnings.append({"code": code, "message": message, **({"fix": fix} if fix else {})})


@dataclass(frozen=True)
class NodeDef:
    type: str
    func: Callable[..., Any]
    params_model: type[Params]
    inputs: dict[str, str]
    outputs: dict[str, str]
    category: str
    description: str
    version: int
    takes_context: bool
    multi_output: bool
    cache_salt: Callable[[Params, NodeContext], str] | None = None
    optional_inputs: frozenset[str] = frozenset()  # input ports whose argument has a default: may stay unconnected

    def run(self, inputs: dict[str, Any], params: Params, ctx: NodeContext) -> dict[str, Any]:
        """Call the node function; return outputs keyed by port name."""
        kwargs = dict(inputs, params=params)
        if self.takes_context:
            kwargs["ctx"] = ctx
        result = self.func(**kwargs)
        if self.multi_output:
            return result._asdict()
        return {next(iter(self.outputs)): result}

    def schema(self) -> dict:
        return self.params_model.model_json_schema()


def hide_secrets(text: str, secrets) -> str:
    """``text`` with each secret value (longest first) replaced by ``***``: for any message that might repeat one."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def always_run(params: Params, ctx: NodeContext) -> str:
    """Cache salt of a node that reads or changes the world outside Flowza (a database, an API): never reused."""
    return uuid.uuid4().hex


def _port_type(annotation: Any, where: str) -> str:
    if annotation not in PORT_TYPES:
        raise TypeError(f"{where}: {annotation!r} is not a port type ({', '.join(PORT_TYPES.values())})")
    return PORT_TYPES[annotation]


def node(*, category: str, version: int = 1, cache_salt: Callable | None = None):
    """Register a node function. ``version`` goes into cache keys: bump it when behaviour changes."""

    def register(func: Callable) -> Callable:
        name = func.__name__
        hints = get_type_hints(func)
        inputs, optional, params_model, takes_context = {}, set(), None, False
        for arg, parameter in inspect.signature(func).parameters.items():
            if arg == "params":
                params_model = hints[arg]
            elif arg == "ctx":
                takes_context = True
            else:
                inputs[arg] = _port_type(hints.get(arg), f"{name}({arg})")
                if parameter.default is not inspect.Parameter.empty:
                    optional.add(arg)
        if params_model is None or not issubclass(params_model, Params):
            raise TypeError(f"node {name} needs a `params: <Params subclass>` argument")
        ret = hints.get("return")
        multi = isinstance(ret, type) and issubclass(ret, tuple) and hasattr(ret, "_fields")
        if multi:
            ret_hints = get_type_hints(ret)
            outputs = {f: _port_type(ret_hints[f], f"{name} -> {f}") for f in ret._fields}
        else:
            kind = _port_type(ret, f"{name} -> return")
            outputs = {kind: kind}
        if not (func.__doc__ or "").strip():
            raise TypeError(f"node {name} needs a docstring: it is the catalog description")
        if name in REGISTRY:
            raise ValueError(f"node type {name} registered twice")
        REGISTRY[name] = NodeDef(
            type=name, func=func, params_model=params_model, inputs=inputs, outputs=outputs,
            category=category, description=inspect.cleandoc(func.__doc__), version=version,
            takes_context=takes_context, multi_output=multi, cache_salt=cache_salt, optional_inputs=frozenset(optional),
        )
        return func

    return register


__all__ = ["NamedTuple", "NodeContext", "NodeDef", "Params", "REGISTRY", "node"]
