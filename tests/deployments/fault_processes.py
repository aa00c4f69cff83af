"""Flowza's worker or API as a real process, with a node that waits for a marker file (tests only).

    python tests/deployments/fault_processes.py worker
    python tests/deployments/fault_processes.py api PORT

The node lets a test hold a run mid-node for as long as it likes (then kill the worker under it)
and release it on the rerun by creating the marker; both processes register it, as the API
validates workflows and the worker runs them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from flowza_core.errors import NodeError  # noqa: E402
from nodes.base import NodeContext, Params, node  # noqa: E402
from nodes.catalog import discover  # noqa: E402
from nodes.ports import Dataset  # noqa: E402

discover()


class WaitParams(Params):
    marker: str = "go.marker"
    timeout_s: float = 600


@node(category="general")
def wait_for_marker(dataset: Dataset, params: WaitParams, ctx: NodeContext) -> Dataset:
    """Wait until a file named ``marker`` exists in the data directory, then pass the table on (tests only)."""
    deadline = time.monotonic() + params.timeout_s
    while not (Path(ctx.data_dir) / params.marker).exists():
        if time.monotonic() > deadline:
            raise NodeError(f"{params.marker} did not appear within {params.timeout_s:g} s")
        time.sleep(0.1)
    return dataset


def main() -> None:
    if sys.argv[1] == "worker":
        from deployments.worker import main as worker_main

        sys.argv = sys.argv[:1]
        worker_main()
    else:
        import uvicorn

        uvicorn.run("api.main:create_app", factory=True, host="127.0.0.1", port=int(sys.argv[2]),
                    log_level="warning")


if __name__ == "__main__":
    main()
