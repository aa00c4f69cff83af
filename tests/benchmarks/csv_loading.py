"""What reading a CSV the Flowza way costs next to a plain ``pd.read_csv`` of the same file.

Generates an N-row LF CSV with a header (8 float columns, 4 integer, 2 text, one text column with ~1% '?'),
then times, interleaved, best of ``--repeat``:

(a) ``pd.read_csv(path)``: the baseline;
(b) ``read_csv`` from nodes/csv_reading.py (the csv_loader's and the upload's reader: options, the check for
    rows wider than the header, column naming) plus ``table_warnings`` from nodes/csv_checks.py;
(c) the csv_loader node itself (path checks and the warnings reported through its context);
(d), (e) (a) and (b) on a CR-only copy of the file (old Mac line endings), as a second comparison.

Prints each one's best wall and CPU time and their ratios to (a); on a shared machine the CPU ratio is the
steadier figure. A report, not a test: it exits 0 unless a read fails. From the
repository root:

    .venv/bin/python tests/benchmarks/csv_loading.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(size=(rows, 8)).round(4), columns=[f"x{i}" for i in range(8)])
    for i in range(4):
        table[f"n{i}"] = rng.integers(0, 100_000, size=rows)
    table["city"] = rng.choice(["Paris", "Lyon", "Nice", "Lille", "Brest"], size=rows)
    table["work"] = np.where(rng.random(rows) < 0.01, "?", rng.choice(["Private", "State-gov"], size=rows))
    table["note"] = rng.choice(["plain", "with, comma", "two words"], size=rows)
    table.to_csv(path, index=False, lineterminator="\n")


def best_of(repeat: int, runs: dict) -> dict[str, tuple[float, float]]:
    """Per run: the best wall time and the best CPU time of this process (steadier on a shared machine)."""
    wall = {name: float("inf") for name in runs}
    cpu = dict(wall)
    for round_ in range(repeat):
        # Interleaved, in alternating order: a slow moment of the machine hits every variant alike.
        for name, run in (list(runs.items()) if round_ % 2 else list(runs.items())[::-1]):
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return {name: (wall[name], cpu[name]) for name in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from nodes.base import NodeContext
    from nodes.catalog import discover
    from nodes.csv_checks import table_warnings
    from nodes.csv_reading import CsvReadOptions, read_csv, read_head

    with tempfile.TemporaryDirectory(prefix="flowza-csv-bench-") as folder:
        path, cr_path = Path(folder) / "table.csv", Path(folder) / "table-cr.csv"
        make_csv(path, args.rows)
        cr_path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
        size_mb = path.stat().st_size / 2**20
        options = CsvReadOptions()
        loader = discover()["csv_loader"]
        params = loader.params_model(file_path=path.name)

        def flowza_read(file=path):
            frame = read_csv(file, options)
            table_warnings(frame, options, lambda: read_head(file, options))

        def node_run():
            loader.run({}, params, NodeContext(node_id="load", data_dir=Path(folder)))

        times = best_of(args.repeat, {"pd.read_csv": lambda: pd.read_csv(path), "read_csv + warnings": flowza_read,
                                      "csv_loader node": node_run})
        cr_times = best_of(args.repeat, {"pd.read_csv": lambda: pd.read_csv(cr_path),
                                         "read_csv + warnings": lambda: flowza_read(cr_path)})

    print(f"{args.rows:,} rows x 15 columns, {size_mb:.0f} MB; best of {args.repeat}")
    for endings, found in (("LF", times), ("CR only", cr_times)):
        base_wall, base_cpu = found["pd.read_csv"]
        print(f"  {endings:<22} {'wall':>8}  {'ratio':>6}   {'cpu':>8}  {'ratio':>6}")
        for name, (wall, cpu) in found.items():
            print(f"  {name:<22} {wall:7.3f}s  x{wall / base_wall:.3f}   {cpu:7.3f}s  x{cpu / base_cpu:.3f}")


if __name__ == "__main__":
    main()
