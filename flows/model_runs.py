"""Which model each node's MLflow work belongs to, and which of that work a node waits for.

A model starts at a node that outputs one without taking one (a training node); a node that
takes a model (``register_model``, ``evaluate``) belongs to the model on its model input, found
by following the plan's edges. Each model has its own MLflow run (see ``flows.tracking``).

A node's status says whether MLflow stored its model or registered its version, so that work
is awaited by the node; metrics and plots are stored while the next nodes run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from flows.outputs import OutputRef
from flows.tracking import MetricsTarget, RunTracker
from flows.validation import Plan
from nodes.ports import Metrics, Model


def model_owners(plan: Plan) -> dict[str, str]:
    """Node → the training node whose model it produces, passes on or evaluates (nodes without one left out)."""
    owners: dict[str, str] = {}
    for node_id in plan.order:  # dependency order: a node's sources are settled before it
        defn = plan.defs[node_id]
        sources = [src for port, (src, _) in plan.inputs[node_id].items() if defn.inputs.get(port) == "model"]
        if sources:
            if sources[0] in owners:
                owners[node_id] = owners[sources[0]]
        elif "model" in defn.outputs.values():
            owners[node_id] = node_id
    return owners


def metrics_targets(plan: Plan, owners: dict[str, str]) -> dict[str, MetricsTarget]:
    """Where each metrics-producing node logs: keys stay exactly as named unless they would collide."""
    nodes = [n for n in plan.order if "metrics" in plan.defs[n].outputs.values()]
    per_model = Counter(owners.get(n) for n in nodes)
    return {n: MetricsTarget(owners.get(n), f"{n}." if per_model[owners.get(n)] > 1 else "",
                             f"{n}." if len(nodes) > 1 else "") for n in nodes}


class ModelTracking:
    """The MLflow work of one run's nodes, given its plan and tracker."""

    def __init__(self, plan: Plan, tracker: RunTracker, run_id: str):
        self.plan, self.tracker, self.run_id = plan, tracker, run_id
        self.owners = model_owners(plan)
        self.targets = metrics_targets(plan, self.owners)

    def _params(self, node_id: str) -> dict:
        return self.plan.params[node_id].model_dump(mode="json")

    def work(self, node_id: str, value, ref: dict, input_fingerprints: dict) -> tuple[list[Callable], list[Callable]]:
        """MLflow work for a computed output, chosen by its type: (awaited by the node, overlapping).

        Results (model URI, model run, registered version) are added to the output's stored ref.
        """
        tracker = self.tracker
        if isinstance(value, Model) and value.registration:
            def register():
                ref["registered"] = tracker.register(value, {"flowza.run_id": self.run_id, "flowza.node_id": node_id})
                ref["model_uri"] = ref["registered"]["model_uri"]
            return [register], []
        if isinstance(value, Model):
            def log_model():
                tags = {"flowza.node_id": node_id, "flowza.run_id": self.run_id,
                        **{f"flowza.input.{p}": fp for p, fp in input_fingerprints.items()}}
                ref["model_uri"], ref["mlflow_run_id"] = tracker.log_model(
                    self.owners.get(node_id, node_id), value, self._params(node_id), tags)
            return [log_model], []
        if isinstance(value, Metrics):
            return [], [lambda: tracker.log_metrics(node_id, value, self.targets[node_id])]
        return [], []

    def reused_work(self, node_id: str, ref: OutputRef, load) -> list[Callable]:
        """MLflow work for a reused output: this run's model runs show reused models and metrics too."""
        kind = ref.summary.get("kind")
        if kind == "metrics":
            metrics = load(ref)
            return [lambda: self.tracker.log_metrics(node_id, metrics, self.targets[node_id])]
        if kind == "model" and ref.ref.get("registration"):
            # A version registered by an earlier run, maybe another user's: reusing it needs the name's rights.
            self.tracker.check_name(ref.ref["registration"][0])
            return []
        if kind == "model" and ref.ref.get("model_uri"):
            return [lambda: self.tracker.log_reused_model(node_id, self._params(node_id), ref.ref["model_uri"])]
        return []
