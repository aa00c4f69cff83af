"""Build and run workflows from Python; the same JSON and engine as the editor, REST and CLI.

    wf = Workflow("Titanic survival")
    load = wf.add("sample_dataset", name="titanic")
    split = wf.add("train_test_split", target_column="survived", stratify=True)
    wf.connect(load, split)
    result = wf.run()                                   # here, on this machine's Prefect
    run = wf.submit("http://127.0.0.1:8000")            # or on a running Flowza service
    record = run.wait()

Deploy a registered model on a running service and score rows with it (``Service``)::

    service = Service("http://127.0.0.1:8000")
    service.deploy("titanic", model="titanic-survival", version=1)
    answer = service.predict("titanic", rows, token=service.create_token("titanic")["token"])
    service.add_connection("warehouse", "postgresql", secret={"url": "postgresql://…"})  # nodes name "warehouse"
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
    def __init__(self, name: str = "Untitled workflow", description: str | None = None,
                 runner: dict[str, Any] | None = None):
        """``runner``: where nodes compute, e.g. ``{"type": "dask", "address": "tcp://10.0.0.5:8786"}``."""
        self.name, self.description, self.runner = name, description, runner
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
        if self.runner:
            doc["runner"] = self.runner
        return json.loads(json.dumps(doc))

    @classmethod
    def from_json(cls, doc: dict | str) -> "Workflow":
        """Load a workflow document (dict or JSON text), e.g. one saved from the editor."""
        from flows.spec import parse_workflow

        spec = parse_workflow(json.loads(doc) if isinstance(doc, str) else doc)
        wf = cls(spec.name, spec.description, spec.runner.model_dump(exclude_none=True) if spec.runner else None)
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


class Service:
    """A running Flowza service: deploy registered models behind REST endpoints, score rows, send ground truth.

        service = Service("http://127.0.0.1:8000")                      # token=…: a login, for multi-user
        service.deploy("titanic", model="titanic-survival", alias="champion")
        key = service.create_token("titanic")["token"]                  # shown once
        answer = service.predict("titanic", rows, token=key)           # rows: a DataFrame or a list of dicts
        service.feedback("titanic", [{"request_id": answer["request_id"], "label": 1}])

    Every method raises ``ServiceError`` with the service's own code and message when it refuses.
    """

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url.rstrip("/"), token

    def _call(self, method: str, path: str, **kwargs) -> Any:
        from flowza.remote import call

        return call(method, f"{self.url}{path}", token=kwargs.pop("token", self.token), **kwargs)

    def deploy(self, name: str, model: str, *, version: int | None = None, alias: str | None = None,
               thresholds: dict | None = None, monitoring_interval_s: int | None = None) -> dict:
        """Serve a registered model's ``version`` (pinned) or ``alias`` (followed); the model is loaded on return."""
        body = {"name": name, "model": model, "version": version, "alias": alias, "thresholds": thresholds,
                "monitoring_interval_s": monitoring_interval_s}
        return self._call("POST", "/api/deployments", json={k: v for k, v in body.items() if v is not None},
                          timeout=120)

    def deployments(self) -> list[dict]:
        return self._call("GET", "/api/deployments")

    def deployment(self, name: str) -> dict:
        return self._call("GET", f"/api/deployments/{name}")

    def update_deployment(self, name: str, **changes) -> dict:
        """Serve another ``version`` or ``alias`` (loaded, then swapped), or change ``thresholds`` or
        ``monitoring_interval_s``."""
        return self._call("PATCH", f"/api/deployments/{name}", json=changes, timeout=120)

    def delete_deployment(self, name: str) -> None:
        self._call("DELETE", f"/api/deployments/{name}")

    def create_token(self, name: str, label: str | None = None) -> dict:
        """A new token for the deployment's endpoint: ``token`` is shown this once."""
        return self._call("POST", f"/api/deployments/{name}/tokens", json={"name": label} if label else {})

    def tokens(self, name: str) -> list[dict]:
        return self._call("GET", f"/api/deployments/{name}/tokens")

    def revoke_token(self, name: str, token_id: str) -> None:
        self._call("DELETE", f"/api/deployments/{name}/tokens/{token_id}")

    def predict(self, name: str, rows, *, token: str, on_error: str = "fail") -> dict:
        """Score raw rows (a DataFrame, a list of dicts, or a scoring body as MLflow takes it) with a deployment
        token: ``predictions``, ``probabilities`` (classifiers), ``request_id``, ``model_version``."""
        return self._call("POST", f"/api/deployments/{name}/invocations", token=token,
                          json=scoring_body(rows) | ({"on_error": on_error} if on_error != "fail" else {}))

    def feedback(self, name: str, labels: list[dict] | dict) -> dict:
        """Attach ground truth: ``{"request_id", "label", "row"?}`` or a list of them."""
        return self._call("POST", f"/api/deployments/{name}/feedback", json=labels)

    def predictions(self, name: str, offset: int = 0, limit: int = 100, labelled: bool | None = None) -> dict:
        params = {"offset": offset, "limit": limit} | ({} if labelled is None else {"labelled": str(labelled).lower()})
        return self._call("GET", f"/api/deployments/{name}/predictions", params=params)

    def stats(self, name: str) -> dict:
        return self._call("GET", f"/api/deployments/{name}/stats")

    def export_docker(self, model: str, version: int, to) -> str:
        """Save a model version as a Docker build context (``.tar.gz``) at ``to``; returns the path."""
        import httpx

        from flowza.remote import ServiceError

        url = f"{self.url}/api/models/{model}/versions/{version}/docker"
        try:
            answer = httpx.get(url, headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
                               timeout=600)
        except httpx.HTTPError as exc:
            raise ServiceError(f"could not reach the Flowza service at {self.url}: {exc or type(exc).__name__}",
                               code="SERVICE_UNREACHABLE") from exc
        if not answer.is_success:
            self._call("GET", f"/api/models/{model}/versions/{version}/docker")  # raises with the service's words
        with open(to, "wb") as out:
            out.write(answer.content)
        return str(to)

    # --- named connections (a database URL, S3 credentials, an API key; nodes name them) ---------------------
    def add_connection(self, name: str, kind: str, secret: dict, config: dict | None = None) -> dict:
        """Save a connection; its ``secret`` is encrypted by the service and never shown again."""
        return self._call("POST", "/api/connections",
                          json={"name": name, "kind": kind, "config": config or {}, "secret": secret})

    def connections(self) -> list[dict]:
        """Your connections, without secrets (``secret_fields`` names them)."""
        return self._call("GET", "/api/connections")

    def connection(self, name: str) -> dict:
        return self._call("GET", f"/api/connections/{name}")

    def update_connection(self, name: str, *, config: dict | None = None, secret: dict | None = None) -> dict:
        """Replace the settings and/or the secret."""
        body = {k: v for k, v in {"config": config, "secret": secret}.items() if v is not None}
        return self._call("PATCH", f"/api/connections/{name}", json=body)

    def delete_connection(self, name: str) -> None:
        self._call("DELETE", f"/api/connections/{name}")


def scoring_body(rows) -> dict:
    """A scoring body (``dataframe_split``) for a DataFrame or a list of records; a body already in one of
    MLflow's formats is sent as it is."""
    if isinstance(rows, dict):
        return rows
    if isinstance(rows, list):
        return {"dataframe_records": rows}
    return {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}  # NaN -> null
