"""Workflows that several test modules run."""

from __future__ import annotations


def two_models() -> dict:
    """Logistic regression and random forest on one split of iris, each evaluated and registered under its name.

    The forest's evaluation takes its model through its register node: it still belongs to the forest.
    """
    return {"name": "Iris two models", "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target", "stratify": True}},
        {"id": "lr", "type": "train_logreg", "parameters": {"C": 0.5}},
        {"id": "rf", "type": "train_random_forest", "parameters": {"n_estimators": 20, "max_depth": 3}},
        {"id": "eval_lr", "type": "evaluate", "parameters": {}},
        {"id": "eval_rf", "type": "evaluate", "parameters": {}},
        {"id": "reg_lr", "type": "register_model", "parameters": {"name": "iris-logreg"}},
        {"id": "reg_rf", "type": "register_model", "parameters": {"name": "iris-forest", "alias": "champion"}}],
        "connections": [
            {"source": "load", "target": "split"},
            {"source": "split", "sourceHandle": "train", "target": "lr"},
            {"source": "split", "sourceHandle": "train", "target": "rf"},
            {"source": "lr", "target": "eval_lr", "targetHandle": "model"},
            {"source": "split", "sourceHandle": "test", "target": "eval_lr", "targetHandle": "test"},
            {"source": "lr", "target": "reg_lr"}, {"source": "rf", "target": "reg_rf"},
            {"source": "reg_rf", "target": "eval_rf", "targetHandle": "model"},
            {"source": "split", "sourceHandle": "test", "target": "eval_rf", "targetHandle": "test"}]}


def scalars(metrics: dict) -> dict:
    """The figures MLflow keeps as metrics: plain numbers."""
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def names_a_connection(workflow: dict) -> bool:
    """Whether a workflow reaches outside Flowza through a named connection (a database, a bucket, a model): run
    with no servers, it could only fail to connect."""
    return any("connection" in (n.get("parameters") or {}) for n in workflow["nodes"])
