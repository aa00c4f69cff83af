"""Hostile workflow documents get problems reported, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.validation import validate_workflow
from nodes.catalog import discover

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
node_types = st.sampled_from(sorted(discover()) + ["bogus", ""])
ids = st.sampled_from(["a", "b", "c", ""]) | st.integers()
nodes = st.fixed_dictionaries({"id": ids, "type": node_types},
                              optional={"parameters": st.dictionaries(st.text(max_size=12), json_values, max_size=3)
                                        | json_values,
                                        "data": json_values, "position": json_values})
edges = st.fixed_dictionaries({"source": ids, "target": ids},
                              optional={"sourceHandle": st.text(max_size=8) | st.none(),
                                        "targetHandle": st.text(max_size=8) | st.none()})
workflows = st.fixed_dictionaries({}, optional={
    "name": json_values, "nodes": st.lists(nodes, max_size=5) | json_values,
    "connections": st.lists(edges, max_size=6) | json_values, "edges": st.lists(edges, max_size=6)})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows | json_values)
def test_any_document_gets_a_plan_or_problems(document):
    plan, problems = validate_workflow(document)
    if plan is None:
        assert any(p.severity == "error" for p in problems)
        assert all(p.message and p.code for p in problems)
    else:
        assert set(plan.order) == set(plan.defs)
