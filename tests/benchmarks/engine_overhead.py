"""How much the Flowza engine costs on top of the work its nodes do.

Measures, in one process, against a generated N x 15 table (12 float features, 2
categorical columns, binary target ``y``, ~2% nulls):

(a) csv_loader -> drop_nulls -> one_hot_encode -> train_test_split run by ``execute``
    (no cache, fresh object store, so outputs are persisted) vs the same steps as a
    hand-written, leakage-free pandas/scikit-learn script; best of 3, interleaved.
(b) the same steps as the seed design ran them (every output written to CSV and read
    back by the next step) vs (a)'s workflow time.
(c) per-node overhead: a 20-node chain of trivial nodes run by ``execute`` vs the same
    node functions called in a plain loop; also a fully cached re-run.

A report, not a test: it exits 0 unless a run fails. Run from the repository root:

    .venv/bin/python tests/benchmarks/engine_overhead.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

CATEGORICALS = ["colour", "region"]
CHAIN_LENGTH = 20


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_table(rows: int, seed: int = 42) -> pd.DataFrame:
    """12 float features, 2 categoricals, an integer target; ~2% nulls in f00, f07 and colour."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 12)).round(6)
    table = pd.DataFrame(features, columns=[f"f{i:02d}" for i in range(12)])
    table["colour"] = rng.choice(["red", "green", "blue", "amber", "violet"], size=rows).astype(object)
    table["region"] = rng.choice([f"R{i:02d}" for i in range(12)], size=rows)
    logit = features[:, 0] - 0.5 * features[:, 1] + 0.8 * (table["colour"] == "red")
    table["y"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    for column in ("f00", "f07", "colour"):
        table.loc[rng.random(rows) < 0.02, column] = None
    return table


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pipeline_workflow(csv_name: str) -> dict:
    nodes = [
        {"id": "load", "type": "csv_loader", "parameters": {"file_path": csv_name}},
        {"id": "clean", "type": "drop_nulls", "parameters": {}},
        {"id": "encode", "type": "one_hot_encode", "parameters": {"columns": CATEGORICALS}},
        {"id": "split", "type": "train_test_split",
         "parameters": {"target_column": "y", "test_size": 0.2, "random_state": 42}},
    ]
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"name": "bench-pipeline", "nodes": nodes, "connections": edges}


def chain_workflow(length: int) -> dict:
    nodes = [{"id": "n00", "type": "sample_dataset", "parameters": {"name": "iris"}}]
    nodes += [{"id": f"n{i:02d}", "type": "filter_rows", "parameters": {"column": "target", "operator": "not_null"}}
              for i in range(1, length)]
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(nodes, nodes[1:])]
    return {"name": f"bench-chain-{length}", "nodes": nodes, "connections": edges}


def script_pipeline(csv_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hand-written baseline: categories learned on the training rows only."""
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(csv_path).dropna()
    train, test = train_test_split(frame, test_size=0.2, random_state=42)
    train = pd.get_dummies(train, columns=CATEGORICALS)
    test = pd.get_dummies(test, columns=CATEGORICALS).reindex(columns=train.columns, fill_value=False)
    return train, test


def seed_design_pipeline(csv_name: str, data_dir: Path, work: Path) -> None:
    """The seed design: each node's output goes to CSV and the next node reads it back."""
    from nodes.base import NodeContext
    from nodes.catalog import discover
    from nodes.ports import Dataset

    defs = discover()
    ctx = NodeContext(node_id="seed", data_dir=data_dir, protected_columns=frozenset({"y"}))
    steps = [(node["type"], node["parameters"]) for node in pipeline_workflow(csv_name)["nodes"]]
    inputs: dict = {}
    for node_type, raw_params in steps:
        defn = defs[node_type]
        outputs = defn.run(inputs, defn.params_model.model_validate(raw_params), ctx)
        for port, value in outputs.items():
            value.frame.to_csv(work / f"{node_type}-{port}.csv", index=False)
        if node_type != "train_test_split":
            inputs = {"dataset": Dataset(pd.read_csv(work / f"{node_type}-dataset.csv"))}


def chain_directly(workflow: dict) -> None:
    """The chain's node functions in a plain loop: the work without the engine."""
    from nodes.base import NodeContext
    from nodes.catalog import discover

    defs, inputs = discover(), {}
    for node in workflow["nodes"]:
        defn = defs[node["type"]]
        outputs = defn.run(inputs, defn.params_model.model_validate(node["parameters"]), NodeContext(node["id"]))
        inputs = {"dataset": outputs["dataset"]}


class Bench:
    """Runs workflows through the engine, each on its own fresh object store under ``root``."""

    def __init__(self, root: Path):
        self.root, self.count = root, 0

    def fresh_store(self) -> Path:
        from flowza.settings import get_settings

        self.count += 1
        store = self.root / f"store-{self.count}"
        os.environ["FLOWZA_OBJECT_STORE_URL"] = store.as_uri()
        get_settings.cache_clear()
        return store

    def run(self, workflow: dict, use_cache: bool = False) -> tuple[float, dict]:
        from flows.engine import execute

        gc.collect()
        t0 = time.perf_counter()
        record = execute(workflow, use_cache=use_cache)
        elapsed = time.perf_counter() - t0
        if record["status"] != "completed":
            raise RuntimeError(f"{workflow['name']} {record['status']}: {record['nodes']}")
        return elapsed, record


def timed(func, *args) -> float:
    gc.collect()
    t0 = time.perf_counter()
    func(*args)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated table")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions for best-of timings")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # results and progress interleave in order

    root = Path(tempfile.mkdtemp(prefix="flowza-bench-"))
    data_dir = root / "data"
    data_dir.mkdir()
    # Before Prefect is imported: state in the temp dir, a temporary server of our own.
    os.environ.update(FLOWZA_HOME=str(root / "home"), FLOWZA_DATA_DIR=str(data_dir),
                      FLOWZA_PREFECT_PORT=str(free_port()), PREFECT_HOME=str(root / "prefect"))
    os.environ.pop("PREFECT_API_URL", None)
    try:
        return measure(args, root, data_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def measure(args, root: Path, data_dir: Path) -> int:
    from flows.prefect_env import configure_prefect

    configure_prefect(quiet_console=True)  # as the CLI does: node logs go to the API, not the console
    say(f"generating {args.rows:,} rows x 15 columns")
    csv_path = data_dir / "table.csv"
    make_table(args.rows).to_csv(csv_path, index=False)
    say(f"wrote {csv_path.stat().st_size / 2**20:.0f} MB CSV; importing the engine, starting Prefect")
    from flows.engine import execute  # noqa: F401  (configures and imports Prefect)

    bench = Bench(root)
    bench.fresh_store()
    bench.run(chain_workflow(2))
    say("warm-up run done (Prefect server up)")

    # (a) workflow vs hand-written script, interleaved
    pipeline = pipeline_workflow(csv_path.name)
    flow_times, script_times, best_record = [], [], None
    for rep in range(args.repeat):
        store = bench.fresh_store()
        elapsed, record = bench.run(pipeline)
        if not flow_times or elapsed < min(flow_times):
            best_record = record
        flow_times.append(elapsed)
        if rep == 0:
            train, _ = script_pipeline(csv_path)
            flowed = pd.read_parquet(record["nodes"]["split"]["outputs"]["train"]["uri"])
            same = flowed.shape == train.shape and flowed.equals(train)
            say(f"workflow train output {'equals' if same else 'DIFFERS FROM'} the script's {train.shape}")
            del train, flowed
        script_times.append(timed(script_pipeline, csv_path))
        shutil.rmtree(store, ignore_errors=True)
        say(f"(a) rep {rep + 1}: workflow {flow_times[-1]:.2f} s, script {script_times[-1]:.2f} s")
    flow_a, script_a = min(flow_times), min(script_times)
    print(f"(a) workflow best {flow_a:.2f} s, script best {script_a:.2f} s")
    node_sum = 0.0
    for node_id, node in best_record["nodes"].items():
        node_sum += node["duration_s"]
        print(f"    {node_id:<7} {node['type']:<17} {node['duration_s']:7.3f} s")
    print(f"    sum of nodes {node_sum:.3f} s; flow body {best_record['duration_s']:.3f} s; "
          f"outside the flow body {flow_a - best_record['duration_s']:.3f} s")

    # (b) the seed design's CSV hand-offs
    work = root / "seed"
    work.mkdir()
    seed_b = timed(seed_design_pipeline, csv_path.name, data_dir, work)
    shutil.rmtree(work, ignore_errors=True)
    print(f"(b) seed design (CSV between steps) {seed_b:.2f} s")
    say(f"(b) seed design {seed_b:.2f} s")

    # (c) per-node overhead on a chain of trivial nodes
    chain, single = chain_workflow(CHAIN_LENGTH), chain_workflow(1)
    chain_times, single_times, direct_times = [], [], []
    for _ in range(args.repeat):
        bench.fresh_store()
        chain_times.append(bench.run(chain)[0])
        single_times.append(bench.run(single)[0])
        direct_times.append(timed(chain_directly, chain))
    bench.fresh_store()
    bench.run(chain, use_cache=True)
    cached_c, cached_record = bench.run(chain, use_cache=True)
    if not all(node["cached"] for node in cached_record["nodes"].values()):
        raise RuntimeError("the cached re-run recomputed nodes")
    per_node = (min(chain_times) - min(direct_times)) / CHAIN_LENGTH * 1000
    marginal = (min(chain_times) - min(single_times)) / (CHAIN_LENGTH - 1) * 1000
    print(f"(c) {CHAIN_LENGTH}-node chain: workflow {min(chain_times):.3f} s, direct {min(direct_times) * 1000:.1f} ms, "
          f"1-node workflow {min(single_times):.3f} s; marginal cost per extra node {marginal:.1f} ms")
    print(f"    cached re-run {cached_c:.3f} s ({cached_c / CHAIN_LENGTH * 1000:.1f} ms/node; "
          f"mean node duration_s {np.mean([n['duration_s'] for n in cached_record['nodes'].values()]) * 1000:.1f} ms)")

    rows = [
        ("(a) workflow/script", flow_a / script_a, "x", "<=", 1.15),
        ("(b) seed/ours", seed_b / flow_a, "x", ">=", 3.0),
        ("(c) per-node overhead", per_node, " ms", "<=", 30.0),
        ("(c) cached re-run per node", cached_c / CHAIN_LENGTH * 1000, " ms", "", None),
    ]
    print(f"\nsummary ({args.rows:,} rows, best of {args.repeat})")
    for name, value, unit, op, target in rows:
        verdict = "" if target is None else "PASS" if (value <= target if op == "<=" else value >= target) else "MISS"
        goal = f"(target {op} {target:g}{unit})" if target is not None else "(no target)"
        print(f"  {name:<28} = {value:7.2f}{unit:<3} {goal:<21} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
