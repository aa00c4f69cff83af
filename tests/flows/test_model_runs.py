"""Which model each node's MLflow work belongs to, read from the plan's edges (no Prefect, no MLflow)."""

from __future__ import annotations

from flows.model_runs import metrics_targets, model_owners
from flows.tracking import MetricsTarget
from flows.validation import compile_plan
from tests.workflows import two_models


def test_evaluations_belong_to_the_model_on_their_model_input_even_through_register():
    plan = compile_plan(two_models())
    owners = model_owners(plan)
    assert owners == {"lr": "lr", "rf": "rf", "eval_lr": "lr", "reg_lr": "lr", "reg_rf": "rf", "eval_rf": "rf"}
    assert metrics_targets(plan, owners) == {"eval_lr": MetricsTarget("lr", "", "eval_lr."),
                                             "eval_rf": MetricsTarget("rf", "", "eval_rf.")}


def test_keys_are_prefixed_only_where_they_would_collide():
    workflow = two_models()
    workflow["nodes"].append({"id": "eval_lr_again", "type": "evaluate", "parameters": {"metrics": ["accuracy"]}})
    workflow["connections"] += [
        {"source": "reg_lr", "target": "eval_lr_again", "targetHandle": "model"},
        {"source": "split", "sourceHandle": "train", "target": "eval_lr_again", "targetHandle": "test"}]
    plan = compile_plan(workflow)
    targets = metrics_targets(plan, model_owners(plan))
    assert targets["eval_lr"] == MetricsTarget("lr", "eval_lr.", "eval_lr.")  # two evaluations of one model
    assert targets["eval_lr_again"] == MetricsTarget("lr", "eval_lr_again.", "eval_lr_again.")
    assert targets["eval_rf"] == MetricsTarget("rf", "", "eval_rf.")


def test_a_single_evaluation_keeps_its_keys_as_named_everywhere():
    workflow = two_models()
    workflow["nodes"] = [n for n in workflow["nodes"] if n["id"] not in ("rf", "eval_rf", "reg_rf")]
    workflow["connections"] = [c for c in workflow["connections"]
                               if not {c["source"], c["target"]} & {"rf", "eval_rf", "reg_rf"}]
    plan = compile_plan(workflow)
    assert metrics_targets(plan, model_owners(plan)) == {"eval_lr": MetricsTarget("lr", "", "")}
