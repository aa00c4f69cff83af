"""The engine end to end: real Prefect flow runs against a test server, real Parquet objects."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from flowza_core.errors import WorkflowInvalid

pytestmark = pytest.mark.usefixtures("prefect_api_url")

PASSENGERS = """name,age,fare,embarked,survived
Allen,29,211.34,S,1
Braund,22,7.25,S,0
Cumings,38,71.28,C,1
Heikkinen,,7.92,S,1
Futrelle,35,53.1,,1
Moran,,8.46,Q,0
McCarthy,54,51.86,S,0
Palsson,2,21.08,S,0
Johnson,27,,S,1
Nasser,14,30.07,C,1
"""


def workflow(*nodes, edges=()):
    return {"name": "test", "nodes": list(nodes), "connections": [{"source": s, "target": t, **h} for s, t, *rest in edges
                                                                   for h in [rest[0] if rest else {}]]}


def node(node_id, node_type, **params):
    return {"id": node_id, "type": node_type, "parameters": params}


@pytest.fixture
def passengers(flowza_env):
    (flowza_env["data"] / "passengers.csv").write_text(PASSENGERS)
    return flowza_env


def run(wf, **kwargs):
    from flows.engine import execute

    return execute(wf, **kwargs)


def stored_frame(env, record, node_id, port="dataset"):
    uri = record["nodes"][node_id]["outputs"][port]["uri"]
    assert uri.startswith("file://") and uri.endswith(".arrow")
    return pd.read_feather(uri.removeprefix("file://"))


CSV_DROP = workflow(node("load", "csv_loader", file_path="passengers.csv"), node("clean", "drop_nulls"),
                    edges=[("load", "clean")])


def test_csv_then_drop_nulls(passengers):
    record = run(CSV_DROP)
    expected = pd.read_csv(passengers["data"] / "passengers.csv").dropna()
    assert record["status"] == "completed"
    assert record["progress"] == {"done": 2, "total": 2}
    clean = record["nodes"]["clean"]
    assert clean["outputs"]["dataset"]["rows"] == len(expected) == 6
    assert clean["outputs"]["dataset"]["null_counts"] == {c: 0 for c in expected.columns}
    assert record["nodes"]["load"]["outputs"]["dataset"]["null_counts"]["age"] == 2
    pd.testing.assert_frame_equal(stored_frame(passengers, record, "clean"), expected)
    assert clean["duration_s"] >= 0 and not clean["cached"]


def test_preprocess_then_stratified_split(flowza_env):
    wf = workflow(node("load", "sample_dataset", name="titanic"),
                  node("prep", "preprocess", columns_to_drop=["deck", "alive"], normalize=True),
                  node("split", "train_test_split", target_column="survived", stratify=True, test_size=0.25),
                  edges=[("load", "prep"), ("prep", "split")])
    record = run(wf)
    assert record["status"] == "completed"
    prep_rows = record["nodes"]["prep"]["outputs"]["dataset"]["rows"]
    train, test = (record["nodes"]["split"]["outputs"][p] for p in ("train", "test"))
    assert train["rows"] + test["rows"] == prep_rows
    assert test["rows"] == pytest.approx(prep_rows * 0.25, abs=1)
    train_df = stored_frame(flowza_env, record, "split", "train")
    test_df = stored_frame(flowza_env, record, "split", "test")
    assert train_df["survived"].mean() == pytest.approx(test_df["survived"].mean(), abs=0.02)
    assert set(train_df["survived"].unique()) <= {0, 1}  # the target is never scaled
    assert train_df["age"].mean() == pytest.approx(0, abs=1e-9)  # scaler fitted on training rows


def test_missing_file_fails_at_its_node(flowza_env):
    wf = workflow(node("load", "sample_dataset", name="iris"), node("other", "csv_loader", file_path="nope.csv"),
                  node("after", "drop_nulls"), edges=[("other", "after")])
    record = run(wf)
    assert record["status"] == "failed"
    other = record["nodes"]["other"]
    assert other["status"] == "failed"
    assert other["error"]["code"] == "FILE_NOT_FOUND"
    assert "not found" in other["error"]["message"] and "nope.csv" in other["error"]["message"]
    assert record["nodes"]["after"]["status"] == "not_run"
    assert record["nodes"]["load"]["status"] == "completed"  # the finished node's output stays stored
    assert stored_frame(flowza_env, record, "load").shape == (150, 5)


def test_cycle_is_refused_before_running(flowza_env):
    wf = workflow(node("a", "drop_nulls"), node("b", "drop_nulls"), edges=[("a", "b"), ("b", "a")])
    with pytest.raises(WorkflowInvalid) as err:
        run(wf)
    cycle = [p for p in err.value.problems if p.code == "CYCLE"]
    assert cycle and "a" in cycle[0].message and "b" in cycle[0].message
    assert not (flowza_env["home"] / "store" / "runs").exists()


def test_second_run_reuses_everything(passengers):
    first = run(CSV_DROP)
    second = run(CSV_DROP)
    assert not any(n["cached"] for n in first["nodes"].values())
    assert all(n["cached"] for n in second["nodes"].values())
    assert second["nodes"]["clean"]["outputs"] == first["nodes"]["clean"]["outputs"]
    assert not any(n["cached"] for n in run(CSV_DROP, use_cache=False)["nodes"].values())


def test_changing_one_parameter_reruns_that_node_and_downstream(flowza_env):
    def chain(how):
        return workflow(node("load", "sample_dataset", name="titanic"), node("nulls", "drop_nulls", how=how),
                        node("enc", "one_hot_encode"), node("side", "drop_columns", columns=["deck"]),
                        edges=[("load", "nulls"), ("nulls", "enc"), ("load", "side")])
    run(chain("any"))
    record = run(chain("all"))
    cached = {nid: n["cached"] for nid, n in record["nodes"].items()}
    assert cached == {"load": True, "side": True, "nulls": False, "enc": False}


def test_edited_file_is_read_again(passengers):
    run(CSV_DROP)
    path = passengers["data"] / "passengers.csv"
    path.write_text(PASSENGERS + "Extra,40,10.0,S,0\n")
    record = run(CSV_DROP)
    assert not record["nodes"]["load"]["cached"]
    assert record["nodes"]["clean"]["outputs"]["dataset"]["rows"] == 7


def test_task_runs_are_named_after_nodes(passengers):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    wf = {**CSV_DROP, "nodes": [dict(CSV_DROP["nodes"][0], data={"label": "Load CSV"}), CSV_DROP["nodes"][1]]}
    record = run(wf, use_cache=False)

    async def task_run_names():
        async with get_client() as client:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[record["flow_run_id"]])))
            return sorted(r.name for r in runs)

    # Prefect records task runs from their events, a moment later (longer when its SQLite is busy).
    deadline = time.monotonic() + 90
    while (names := asyncio.run(task_run_names())) != ["Load CSV (load)", "clean"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert names == ["Load CSV (load)", "clean"]


def test_independent_branches_run_concurrently(flowza_env):
    wf = workflow(node("load", "sample_dataset", name="iris"),
                  node("left", "sleep_for_test", seconds=4.0), node("right", "sleep_for_test", seconds=4.0),
                  edges=[("load", "left"), ("load", "right")])
    # 4 s each: a Prefect API retry (2 s back-off when its SQLite is busy) cannot hide the overlap.
    record = run(wf, use_cache=False)
    left, right = record["nodes"]["left"], record["nodes"]["right"]
    assert left["started_at"] < right["finished_at"] and right["started_at"] < left["finished_at"]
