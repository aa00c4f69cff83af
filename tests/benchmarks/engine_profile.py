"""Where the time of issue 14's workflow goes: one profiled run, split by node and by engine step.

Runs engine_overhead.py's (a)+(d) logistic-regression workflow (csv_loader -> drop_nulls ->
one_hot_encode -> train_test_split (stratified) -> train_logreg -> evaluate, on its generated
N x 15 table) once through ``execute``, on a fresh object store, after a warm-up run, with:

- timers around the engine's steps, installed in this process only (the product code is not
  changed): each node function, each Prefect task's function, reading inputs, Parquet writes
  (conversion to Arrow vs writing the file), summaries, cache keys, the CSV hash, MLflow
  logging, plots, record and manifest writes. They cost microseconds per call;
- py-spy sampling every thread of this process (``--rate`` per second), so CPU time is
  attributed to a node function, an engine step, or Prefect itself. py-spy is not a project
  dependency: ``.venv/bin/pip install py-spy``. Without it, each node function runs under
  cProfile instead (in its own thread: the tasks run on Prefect's thread pool).

Prints compact tables: per node (node function vs task function vs Prefect's task run), the
engine's own costs, the sampled CPU shares, and the top functions inside each node.

A report, not a test. From the repository root:

    .venv/bin/python tests/benchmarks/engine_profile.py [--rows 1000000] [--rate 100] [--cprofile]
        [--keep-samples /tmp/samples.txt]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import os
import pstats
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_overhead import (SETTLE_S, Bench, benchmark_home, chain_workflow, say, training_workflow,  # noqa: E402
                             write_table)

PY_SPY = Path(sys.executable).with_name("py-spy")
# Leaf frames of a thread that waits (py-spy's idle detection misses them here): not CPU time.
WAITING = {"_worker", "Condition.wait", "EpollSelector.select", "Event.wait", "Thread.join", "_wait_for_tstate_lock",
           "SyncStream.read", "Future.result", "Queue.get", "sleep"}
WAIT = "waiting (idle pool threads, locks, sockets)"
NODE_TYPES = ("csv_loader", "drop_nulls", "one_hot_encode", "train_test_split", "train_logreg", "evaluate")


class Timers:
    """Seconds and calls per label, summed across threads; ``node`` is the node a task thread runs."""

    def __init__(self):
        self.lock, self.local = threading.Lock(), threading.local()
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self.node_of_key: dict[str, str] = {}  # stored key prefix -> node id (writes run on other threads)
        self.profiles: dict[str, cProfile.Profile] = {}
        self.spans: dict[str, tuple[float, float]] = {}  # node id -> its task function's start and end

    @property
    def node(self) -> str:
        return getattr(self.local, "node", "?")

    def add(self, label: str, seconds: float) -> None:
        with self.lock:
            self.seconds[label] += seconds
            self.calls[label] += 1

    def wrap(self, owner, name: str, label, *, prop: bool = False) -> None:
        """Time ``owner.name``; ``label`` is a string or a function of the call's arguments."""
        original = getattr(owner, name).fget if prop else getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(label(*args, **kwargs) if callable(label) else label, time.perf_counter() - t0)

        if prop:
            setattr(owner, name, property(timed))
        else:
            try:
                setattr(owner, name, timed)
            except Exception:  # a frozen dataclass
                object.__setattr__(owner, name, timed)


def instrument(timers: Timers, profile_nodes: bool) -> None:
    """Timers around the engine's steps (and cProfile inside node functions when py-spy is missing)."""
    import flows.engine as engine
    import flows.recorder as recorder
    import flows.tracking as tracking
    import nodes.evaluate as evaluate
    import nodes.plots as plots
    import nodes.train as train
    from flows.outputs import OutputRef, OutputStore
    from flows.store import LocalStore
    from nodes.base import NodeDef
    from nodes.catalog import discover
    from nodes.model import FlowzaModel
    from nodes.ports import Dataset

    task_fn = engine.run_node.fn

    @functools.wraps(task_fn)
    def task_function(node_id, title, run, upstream):
        timers.local.node = node_id
        t0 = time.perf_counter()
        try:
            return task_fn(node_id, title, run, upstream)
        finally:
            timers.spans[node_id] = (t0, time.perf_counter())
            timers.add(f"task function|{node_id}", timers.spans[node_id][1] - t0)

    engine.run_node.fn = task_function

    node_run = NodeDef.run

    def run_node_function(defn, inputs, params, ctx):
        t0 = time.perf_counter()
        profile = cProfile.Profile() if profile_nodes else None
        try:
            if profile:
                profile.enable()
            return node_run(defn, inputs, params, ctx)
        finally:
            if profile:
                profile.disable()
                timers.profiles[timers.node] = profile
            timers.add(f"node function|{timers.node}", time.perf_counter() - t0)

    NodeDef.run = run_node_function

    plan_save = OutputStore.plan_save

    def remember_node(store, fingerprint, value):
        timers.node_of_key[f"data/{fingerprint}"] = timers.node
        return plan_save(store, fingerprint, value)

    OutputStore.plan_save = remember_node

    def by_key(label):
        def name(_self, key, *rest):  # keys are data/<fingerprint>.arrow, data/<fingerprint>/<name>.png, ...
            return f"{label}|{timers.node_of_key.get('/'.join(key.split('/')[:2]).split('.')[0], '?')}"
        return name

    timers.wrap(OutputStore, "_write_frame", by_key("write table (Arrow conversion + file)"))
    timers.wrap(LocalStore, "write_table", by_key("  of which the Arrow IPC file"))
    timers.wrap(LocalStore, "put_bytes", by_key("put_bytes (pickles, PNGs, manifests, records)"))
    timers.wrap(OutputStore, "load", lambda *a: f"read inputs from the store|{timers.node}")
    timers.wrap(OutputRef, "get", lambda *a: f"input hand-over (OutputRef.get)|{timers.node}")
    timers.wrap(engine, "summarize", lambda *a: f"summaries of outputs|{timers.node}")
    timers.wrap(engine, "cache_key", lambda *a: f"cache key|{timers.node}")
    timers.wrap(engine, "write_manifest", "manifest writes|*")
    timers.wrap(engine.RunContext, "node_context", lambda *a: f"node context (run logger)|{timers.node}")
    csv_loader = discover()["csv_loader"]
    timers.wrap(csv_loader, "cache_salt", lambda *a: f"CSV hash (cache salt)|{timers.node}")
    timers.wrap(tracking.RunTracker, "log_model", lambda _self, node_id, *a: f"MLflow: log model|{node_id}")
    timers.wrap(tracking.RunTracker, "start", "MLflow: start run|*")
    timers.wrap(tracking.RunTracker, "finish", "MLflow: finish run|*")
    for name in ("started_run", "started", "finished", "finish"):
        timers.wrap(recorder.RunRecorder, name, f"run record: {name}|*")
    for name in ("confusion_matrix_png", "roc_curve_png", "feature_importance_png"):
        timers.wrap(plots, name, "evaluate: plots|evaluate")
    timers.wrap(evaluate.metrics, "classification_metrics", "evaluate: metrics|evaluate")
    timers.wrap(evaluate.skm, "classification_report", "evaluate: classification report|evaluate")
    timers.wrap(evaluate.skm, "roc_curve", "evaluate: roc_curve|evaluate")
    timers.wrap(FlowzaModel, "predict_with_proba", lambda *a: f"predict (model steps + estimator)|{timers.node}")
    timers.wrap(Dataset, "raw_rows", lambda *a: f"raw rows of a dataset (.loc)|{timers.node}", prop=True)
    timers.wrap(train, "_fit", lambda *a: f"estimator fit (FlowzaModel.fit_estimator)|{timers.node}")


# ---- py-spy samples -------------------------------------------------------------------------

def parse_raw(path: Path) -> list[tuple[str, list[tuple[str, str]], int]]:
    """py-spy's raw output: (thread, frames root->leaf as (function, file), samples)."""
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        parts = stack.split(";")
        frames = []
        for part in parts[1:]:
            func, _, where = part.rpartition(" (")
            frames.append((func, where.rsplit(":", 1)[0]))
        samples.append((parts[0], frames, int(count)))
    return samples


def bucket(thread: str, frames: list[tuple[str, str]]) -> str:
    """Which cost a sample belongs to: the most specific step found in its stack."""
    funcs = {f for f, _ in frames}
    files = [w for _, w in frames]
    if not frames or frames[-1][0] in WAITING:
        return WAIT
    if funcs & {"OutputStore._write_frame", "_write_frame", "dataframe_to_arrays.<locals>.convert_column"}:
        return "engine: write outputs (Arrow + Parquet)"
    if funcs & {"OutputStore.load", "load", "OutputStore._read_frame", "_read_frame"} and any(
            w.endswith("outputs.py") for w in files):
        return "engine: read inputs from the store"
    if any(w.endswith("plots.py") for w in files):
        return "node evaluate: plots (matplotlib)"
    if any(w.endswith("tracking.py") or w.endswith("model_runs.py") or "mlflow" in w for w in files):
        return "engine: MLflow (log model, run)"
    if "summarize" in funcs:
        return "engine: summaries of outputs"
    if "csv_fingerprint" in funcs:
        return "engine: CSV hash (cache salt)"
    for func, where in frames:
        if func in NODE_TYPES and "nodes" in where:
            return f"node {func}"
    if any(f.startswith("_read_csv_chunks") for f in funcs):  # pandas parses a large CSV on threads of its own
        return "node csv_loader (pandas reader threads)"
    if any(w.endswith("recorder.py") for w in files):
        return "engine: run record"
    if any(w.endswith("flows/store.py") or w.endswith("store.py") and "flows" in w for w in files):
        return "engine: object store (other)"
    if any("prefect" in w for w in files):
        main = "MainThread" in thread
        return "Prefect: flow engine (main thread)" if main else "Prefect: task/background threads"
    if any(w.endswith("engine.py") and "flows" in w for w in files):
        return "engine: run_node (other)"
    return "other (GC, threading, imports)"


GENERIC = ("threading.py", "thread.py", "engine_profile.py", "base_events.py", "events.py", "runners.py")


def bucket_top(samples, name: str, top: int = 5) -> list[tuple[str, int]]:
    """The most frequent functions (outside thread and event-loop plumbing) in one bucket's samples."""
    inclusive: Counter = Counter()
    for thread, frames, count in samples:
        if bucket(thread, frames) == name:
            for func, where in {(f, w.split("/")[-1]) for f, w in frames if not w.endswith(GENERIC)}:
                inclusive[f"{func} ({where})"] += count
    return inclusive.most_common(top)


def node_top(samples, node: str, top: int = 5) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Under a node function: its direct callees (samples including them) and the hottest leaf functions."""
    callees: Counter = Counter()
    leaves: Counter = Counter()
    for thread, frames, count in samples:
        names = [f for f, _ in frames]
        if node not in names or bucket(thread, frames) == WAIT:
            continue
        below = [(f, w) for f, w in frames[names.index(node) + 1:] if not w.endswith("engine_profile.py")]
        if below:
            callees[f"{below[0][0]} ({below[0][1].split('/')[-1]})"] += count
            leaves[f"{below[-1][0]} ({below[-1][1].split('/')[-1]})"] += count
    return callees.most_common(top), leaves.most_common(top)


class Sampler:
    """py-spy attached to this process while the profiled run lasts."""

    def __init__(self, out: Path, rate: int):
        self.out, self.rate, self.process = out, rate, None

    def __enter__(self):
        self.process = subprocess.Popen([str(PY_SPY), "record", "--pid", str(os.getpid()), "--rate", str(self.rate),
                                         "--format", "raw", "--threads", "--output", str(self.out)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # attached before the run starts
        if self.process.poll() is not None:
            raise RuntimeError(f"py-spy did not attach: {self.process.stderr.read().strip()[-300:]}")
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---- the report -----------------------------------------------------------------------------

def task_runs(flow_run_id: str) -> dict[str, float]:
    """Each Prefect task run's seconds from Running to its end, by task run name, from Prefect's API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {run.name: (run.end_time - run.start_time).total_seconds() for run in runs
            if run.start_time and run.end_time}


def print_nodes(timers: Timers, record: dict, prefect: dict[str, float]) -> None:
    print("\nper node (seconds; Prefect task run = Running -> Completed in Prefect's API)")
    print(f"  {'node':<9} {'type':<17} {'node fn':>8} {'task fn':>8} {'task run':>9} {'record':>8}  "
          f"task fn - node fn: what it holds")
    for node_id, node in record["nodes"].items():
        fn, task = timers.seconds[f"node function|{node_id}"], timers.seconds[f"task function|{node_id}"]
        extra = [(label.split("|")[0], s) for label, s in timers.seconds.items()
                 if label.endswith(f"|{node_id}") and not label.startswith(("node function", "task function"))
                 and not label.startswith(("write Parquet", "  of which", "put_bytes", "evaluate:", "predict",
                                           "raw rows", "estimator fit", "MLflow"))]
        if node_id == "train":  # the task waits until MLflow has logged its model (its status vouches for it)
            extra.append(("waits for MLflow: log model", timers.seconds.get(f"MLflow: log model|{node_id}", 0.0)))
        held = ", ".join(f"{label} {s:.3f}" for label, s in sorted(extra, key=lambda x: -x[1]) if s >= 0.0005)
        run = prefect.get(node_id, prefect.get(node["label"] if "label" in node else node_id, float("nan")))
        print(f"  {node_id:<9} {node['type']:<17} {fn:8.3f} {task:8.3f} {run:9.3f} {node['duration_s']:8.3f}  "
              f"{task - fn:.3f}: {held}")


def print_engine(timers: Timers) -> None:
    print("\nengine steps and node internals, timed (seconds summed over all threads; under 1 ms left out)")
    totals: dict[str, float] = defaultdict(float)
    calls: Counter = Counter()
    nodes: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for label, seconds in timers.seconds.items():
        name, _, node = label.partition("|")
        if name in ("node function", "task function"):
            continue
        totals[name] += seconds
        calls[name] += timers.calls[label]
        nodes[name].append((node, seconds))
    for name in sorted((n for n in totals if totals[n] >= 0.001), key=lambda n: (n.startswith(" "), -totals[n])):
        split = ", ".join(f"{node} {s:.3f}" for node, s in sorted(nodes[name], key=lambda x: -x[1])
                          if s >= 0.001 and node not in ("*",))
        print(f"  {name:<46} {totals[name]:7.3f} s {calls[name]:3d} call(s)  {split}")


def print_timeline(timers: Timers, t0: float, t1: float) -> None:
    """When each task function ran, from the start of ``execute``: the gaps are Prefect's and the engine's."""
    print("\ntimeline (seconds from the call to execute; gap = previous task's end -> this task's start)")
    previous = t0
    for node_id, (start, end) in sorted(timers.spans.items(), key=lambda kv: kv[1][0]):
        print(f"  {node_id:<9} starts {start - t0:7.3f}  gap {start - previous:6.3f}  runs {end - start:7.3f}")
        previous = max(previous, end)
    print(f"  {'(end)':<9} execute returns {t1 - t0:7.3f}: {t1 - previous:.3f} s after the last task "
          f"(waiting for writes and MLflow, the run record, ending the flow run)")
    inside = sum(end - start for start, end in timers.spans.values())
    print(f"  sum of task functions {inside:.3f} s; outside them {t1 - t0 - inside:.3f} s "
          f"({100 * (t1 - t0 - inside) / (t1 - t0):.0f} % of the run)")


def print_samples(samples, rate: int, wall: float) -> None:
    totals: Counter = Counter()
    threads: Counter = Counter()
    for thread, frames, count in samples:
        totals[name := bucket(thread, frames)] += count
        if name != WAIT:
            threads[thread.split(": ", 1)[-1].split("_")[0]] += count
    waiting = totals.pop(WAIT, 0)
    all_samples = sum(totals.values())
    print(f"\npy-spy at {rate}/s: {all_samples / rate:.1f} CPU-s in {wall:.1f} s of wall time on 2 cores "
          f"(besides {waiting / rate:.1f} thread-s waiting: idle pool threads, locks, sockets)")
    for name, count in totals.most_common():
        print(f"  {name:<44} {count / rate:7.2f} CPU-s  {100 * count / all_samples:5.1f} %")
    print("  CPU by thread: " + ", ".join(f"{t} {c / rate:.1f}" for t, c in threads.most_common(8)))
    for name in ("Prefect: task/background threads", "Prefect: flow engine (main thread)",
                 "other (GC, threading, imports)", "engine: MLflow (log model, run)"):
        if top := bucket_top(samples, name):
            print(f"  in '{name}': " + "; ".join(f"{func} {count / rate:.2f}" for func, count in top))
    for node in NODE_TYPES:
        callees, leaves = node_top(samples, node)
        if callees:
            print(f"  inside {node}: calls " + "; ".join(f"{name} {count / rate:.2f}" for name, count in callees))
            print(f"  {'':<{len(node) + 9}}hottest " + "; ".join(f"{name} {count / rate:.2f}" for name, count in leaves))


def print_cprofile(timers: Timers) -> None:
    print("\ncProfile inside each node function (no py-spy sampling): top 6 by cumulative time")
    for node_id, profile in timers.profiles.items():
        stats = pstats.Stats(profile).sort_stats("cumulative")
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])[1:7]
        print(f"  {node_id}: " + "; ".join(f"{func[2]} ({Path(func[0]).name}) {cum:.2f}"
                                            for func, (_, _, _, cum, _) in rows))


def profile(args, root: Path, data_dir: Path) -> None:
    from flows.prefect_env import configure_prefect

    configure_prefect(quiet_console=True)
    say(f"generating {args.rows:,} rows x 15 columns")
    csv_path = data_dir / "table.csv"
    write_table(csv_path, args.rows, args.float_digits)
    bench = Bench(root)
    bench.run(chain_workflow(2))  # imports the engine, starts the temporary Prefect server
    bench.run(training_workflow(csv_path.name, "train_logreg"))  # MLflow's database, first imports
    say("warm-up runs done")
    use_spy = PY_SPY.exists() and not args.cprofile
    timers = Timers()
    instrument(timers, profile_nodes=not use_spy)
    raw = root / "py-spy.txt"
    bench.fresh_store()
    gc.collect()
    time.sleep(SETTLE_S)
    with Sampler(raw, args.rate) if use_spy else _nothing():
        t0 = time.perf_counter()
        from flows.engine import execute

        record = execute(training_workflow(csv_path.name, "train_logreg"), use_cache=False)
        t1 = time.perf_counter()
        wall = t1 - t0
    if record["status"] != "completed":
        raise RuntimeError(f"the profiled run {record['status']}: {record['nodes']}")
    node_sum = sum(n["duration_s"] for n in record["nodes"].values())
    print(f"profiled run ({args.rows:,} rows): execute {wall:.2f} s; flow body {record['duration_s']:.2f} s; "
          f"sum of node durations {node_sum:.2f} s; accuracy {record['nodes']['evaluate']['metrics']['accuracy']:.4f}")
    try:
        prefect = task_runs(record["flow_run_id"])
    except Exception as exc:  # the table still prints, without Prefect's view
        say(f"could not read task runs from Prefect: {exc}")
        prefect = {}
    print_nodes(timers, record, prefect)
    print_timeline(timers, t0, t1)
    print_engine(timers)
    if use_spy:
        if args.keep_samples:
            shutil.copy(raw, args.keep_samples)
        print_samples(parse_raw(raw), args.rate, wall)
    else:
        print_cprofile(timers)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated table")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--float-digits", type=int, default=0, help="as engine_overhead.py's (0: full precision)")
    parser.add_argument("--cprofile", action="store_true", help="cProfile inside node functions, even with py-spy")
    parser.add_argument("--keep-samples", type=Path, help="copy py-spy's raw samples here (input of flamegraph.pl)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    with benchmark_home("flowza-profile-") as (root, data_dir):
        profile(args, root, data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
