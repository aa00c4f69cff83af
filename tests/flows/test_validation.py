"""Validation reports every problem at once, each pointing at a node (and field)."""

from __future__ import annotations

import pytest

from flowza_core.errors import WorkflowInvalid
from flows.validation import compile_plan, validate_workflow


def problems_of(wf):
    plan, problems = validate_workflow(wf)
    return plan, {(p.code, p.node_id, p.field) for p in problems}, problems


def test_every_problem_is_reported_at_once():
    wf = {"nodes": [
        {"id": "a", "type": "csv_loadr"},
        {"id": "b", "type": "drop_nulls", "parameters": {"hows": "any"}},
        {"id": "b", "type": "drop_nulls"},
        {"id": "s", "type": "train_test_split", "parameters": {"test_size": 3}},
        {"id": "n", "type": "normalize"},
    ], "connections": [{"source": "ghost", "target": "b"}, {"source": "s", "target": "n"}]}
    plan, found, problems = problems_of(wf)
    assert plan is None
    assert {("UNKNOWN_NODE_TYPE", "a", "type"), ("INVALID_PARAMETER", "b", "hows"),
            ("DUPLICATE_NODE_ID", "b", None), ("INVALID_PARAMETER", "s", "test_size"),
            ("MISSING_NODE", "b", None), ("AMBIGUOUS_PORT", "n", None),
            ("MISSING_INPUT", "s", "dataset")} <= found
    messages = " | ".join(p.message for p in problems)
    assert "did you mean 'csv_loader'" in messages and "did you mean 'how'" in messages
    assert "train, test" in messages  # the choices of an ambiguous port are named


def test_two_node_cycle_names_both_nodes():
    wf = {"nodes": [{"id": "x", "type": "drop_nulls"}, {"id": "y", "type": "drop_nulls"}],
          "connections": [{"source": "x", "target": "y"}, {"source": "y", "target": "x"}]}
    with pytest.raises(WorkflowInvalid) as err:
        compile_plan(wf)
    cycle = next(p for p in err.value.problems if p.code == "CYCLE")
    assert "x" in cycle.message and "y" in cycle.message


def test_empty_workflow_and_non_object():
    assert ("EMPTY_WORKFLOW", None, None) in problems_of({"nodes": []})[1]
    assert problems_of([1, 2])[0] is None
    plan, found, _ = problems_of({"nodes": [{"type": "drop_nulls"}]})
    assert plan is None and any(code == "INVALID_WORKFLOW" and field == "id" for code, _, field in found)


def test_react_flow_shape_is_accepted():
    wf = {"nodes": [
        {"id": "load", "type": "sample_dataset", "data": {"label": "Iris", "parameters": {"name": "iris"}},
         "position": {"x": 1, "y": 2}, "width": 150, "selected": False},
        {"id": "split", "type": "train_test_split", "data": {"parameters": {"target_column": "target"}}},
    ], "edges": [{"id": "e1", "source": "load", "target": "split", "animated": True}]}
    plan = compile_plan(wf)
    assert plan.order == ["load", "split"]
    assert plan.params["load"].name == "iris"
    assert plan.inputs["split"] == {"dataset": ("load", "dataset")}
    assert plan.label("load") == "Iris"


def test_handles_are_checked_and_the_target_is_protected_upstream():
    wf = {"nodes": [
        {"id": "load", "type": "sample_dataset"}, {"id": "norm", "type": "normalize"},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "target"}},
        {"id": "tail", "type": "drop_nulls"}],
        "connections": [{"source": "load", "target": "norm"}, {"source": "norm", "target": "split"},
                        {"source": "split", "target": "tail", "sourceHandle": "train"}]}
    plan = compile_plan(wf)
    assert plan.protected["norm"] == plan.protected["load"] == frozenset({"target"})
    assert plan.protected["tail"] == frozenset()
    wf["connections"][2]["sourceHandle"] = "validation"
    assert ("UNKNOWN_PORT", "split", None) in problems_of(wf)[1]


def test_an_input_connected_twice_and_unconnected_nodes():
    wf = {"nodes": [{"id": "a", "type": "sample_dataset"}, {"id": "b", "type": "sample_dataset"},
                    {"id": "c", "type": "drop_nulls"}, {"id": "lonely", "type": "sample_dataset"}],
          "connections": [{"source": "a", "target": "c"}, {"source": "b", "target": "c"}]}
    _, found, problems = problems_of(wf)
    assert ("INPUT_CONNECTED_TWICE", "c", "dataset") in found
    warning = next(p for p in problems if p.code == "UNCONNECTED_NODE")
    assert warning.node_id == "lonely" and warning.severity == "warning"


def test_unconnected_nodes_only_warn():
    plan, problems = validate_workflow({"nodes": [{"id": "a", "type": "sample_dataset"},
                                                  {"id": "b", "type": "sample_dataset"}]})
    assert plan is not None and [p.severity for p in problems] == ["warning", "warning"]


def test_parameter_model_rules_are_reported_on_their_node():
    wf = {"nodes": [{"id": "load", "type": "csv_loader", "parameters": {}},
                    {"id": "s", "type": "train_test_split", "parameters": {"stratify": True}}],
          "connections": [{"source": "load", "target": "s"}]}
    _, _, problems = problems_of(wf)
    by_node = {p.node_id: p.message for p in problems}
    assert "exactly one of file_path or dataset_id" in by_node["load"]
    assert "stratify needs target_column" in by_node["s"]


# --- the seed's port names ------------------------------------------------------------------

def seed_style(**handles) -> dict:
    """load -> split -> train_logreg -> evaluate, wired with the seed's handle names unless ``handles`` differ."""
    ports = {"split_train": "train_dataset", "train_in": "train_dataset", "split_test": "test_dataset",
             "eval_test": "test_dataset"} | handles
    return {"nodes": [{"id": "load", "type": "sample_dataset", "parameters": {"name": "titanic"}},
                      {"id": "drop", "type": "drop_columns",
                       "parameters": {"columns": ["alive", "deck", "class", "embark_town", "sex", "embarked"]}},
                      {"id": "split", "type": "train_test_split", "parameters": {"target_column": "survived"}},
                      {"id": "train", "type": "train_logreg"}, {"id": "evaluate", "type": "evaluate"}],
            "connections": [
                {"source": "load", "target": "drop"}, {"source": "drop", "target": "split"},
                {"source": "split", "target": "train", "sourceHandle": ports["split_train"],
                 "targetHandle": ports["train_in"]},
                {"source": "train", "target": "evaluate", "sourceHandle": "model", "targetHandle": "model"},
                {"source": "split", "target": "evaluate", "sourceHandle": ports["split_test"],
                 "targetHandle": ports["eval_test"]}]}


def test_the_seeds_port_names_resolve_to_the_canonical_ports():
    plan = compile_plan(seed_style())
    assert plan.inputs["train"] == {"train": ("split", "train")}
    assert plan.inputs["evaluate"] == {"model": ("train", "model"), "test": ("split", "test")}
    assert plan.protected["drop"] == frozenset({"survived"})  # the target still reaches upstream nodes
    mixed = compile_plan(seed_style(train_in="train", split_test="test"))  # aliases and names side by side
    assert mixed.inputs == plan.inputs


def test_an_alias_is_no_port_of_a_node_without_the_canonical_one():
    wf = seed_style()
    wf["nodes"].append({"id": "tail", "type": "drop_nulls"})
    wf["connections"].append({"source": "drop", "target": "tail", "targetHandle": "train_dataset"})
    wf["connections"].append({"source": "drop", "target": "train", "sourceHandle": "test_dataset"})
    plan, found, problems = problems_of(wf)
    assert plan is None
    assert {("UNKNOWN_PORT", "tail", None), ("UNKNOWN_PORT", "drop", None)} <= found
    assert "has no input 'train_dataset'; inputs: dataset" in " | ".join(p.message for p in problems)


def test_a_port_named_like_an_alias_is_that_port():
    from types import SimpleNamespace

    from flows.spec import EdgeSpec
    from flows.validation import resolve_ports

    # A node of its own with both names: 'train_dataset' means its port of that name, not 'train'.
    both = SimpleNamespace(type="both", inputs={"train": "dataset", "train_dataset": "dataset"}, outputs={})
    split = SimpleNamespace(type="train_test_split", inputs={}, outputs={"train": "dataset", "test": "dataset"})
    edge = EdgeSpec(source="s", target="b", sourceHandle="train_dataset", targetHandle="train_dataset")
    assert resolve_ports(edge, {"s": split, "b": both}) == ("train", "train_dataset", [])


def test_the_catalog_names_each_nodes_aliases():
    from nodes.catalog import catalog

    aliases = {entry["type"]: entry["port_aliases"] for entry in catalog()}
    assert aliases["train_test_split"] == {"train_dataset": "train", "test_dataset": "test"}
    assert aliases["evaluate"] == {"test_dataset": "test"}
    for trainer in ("train_logreg", "train_xgboost", "train_random_forest", "train_linear_regression"):
        assert aliases[trainer] == {"train_dataset": "train"}
    assert aliases["drop_nulls"] == aliases["csv_loader"] == aliases["register_model"] == {}


def test_a_long_chain_validates_and_protects_the_target_all_the_way_up():
    # 3,000 nodes: the old all-pairs search for downstream nodes took minutes here (issue 13, item 9).
    chain = [{"id": "n0", "type": "sample_dataset"}] + [{"id": f"n{i}", "type": "drop_nulls"} for i in range(1, 3000)]
    chain.append({"id": "split", "type": "train_test_split", "parameters": {"target_column": "target"}})
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(chain, chain[1:])]
    plan = compile_plan({"nodes": chain, "connections": edges})
    assert plan.order == [n["id"] for n in chain]
    assert {plan.protected[n["id"]] for n in chain[:-1]} == {frozenset({"target"})}
    assert plan.protected["split"] == frozenset()
    assert plan.label("n2999") == "n2999"


def test_protected_columns_gather_over_every_branch_downstream():
    wf = {"nodes": [{"id": "load", "type": "sample_dataset"}, {"id": "left", "type": "drop_nulls"},
                    {"id": "right", "type": "drop_nulls"},
                    {"id": "split_a", "type": "train_test_split", "parameters": {"target_column": "a"}},
                    {"id": "split_b", "type": "train_test_split", "parameters": {"target_column": "b"}},
                    {"id": "other", "type": "drop_nulls"}],
          "connections": [{"source": "load", "target": "left"}, {"source": "load", "target": "right"},
                          {"source": "left", "target": "split_a"}, {"source": "right", "target": "split_b"},
                          {"source": "left", "target": "other"}]}
    plan = compile_plan(wf)
    assert plan.protected["load"] == frozenset({"a", "b"})
    assert plan.protected["left"] == frozenset({"a"})
    assert plan.protected["right"] == frozenset({"b"})
    assert plan.protected["other"] == plan.protected["split_a"] == frozenset()


def test_a_workflow_over_the_node_limit_is_refused_before_its_nodes_are_read(monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_MAX_WORKFLOW_NODES", "10")
    get_settings.cache_clear()
    try:
        nodes = [{"id": "n0", "type": "sample_dataset"}] + [{"not": "even a node"}] * 10
        plan, codes, problems = problems_of({"nodes": nodes})
        assert plan is None and codes == {("WORKFLOW_TOO_LARGE", None, "nodes")}
        assert "at most 10" in problems[0].message and "FLOWZA_MAX_WORKFLOW_NODES" in problems[0].message
        assert validate_workflow({"nodes": nodes[:1]})[0] is not None
    finally:
        get_settings.cache_clear()
