"""Memory freed by a node's tables goes back to the operating system (glibc), measured in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# 3 rounds of 40 arrays of 8 MB on a worker thread (as Prefect runs nodes), with small blocks kept between
# rounds; prints how many MB the process still holds once they are all freed. Plain glibc keeps ~180 MB.
PROBE = """
import sys, threading
import numpy as np
{setup}
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
before = rss()
def work():
    keep = []
    for _ in range(3):
        big = [np.ones(1_000_000) for _ in range(40)]
        keep.append(np.ones(1000))
        del big
thread = threading.Thread(target=work)
thread.start()
thread.join()
print(rss() - before)
"""


def held_mb(setup: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists() or not sys.platform.startswith("linux"),
                    reason="reads VmRSS from /proc")
@pytest.mark.parametrize("setup", ["from flows.malloc import return_freed_memory; assert return_freed_memory()",
                                   "import flows.engine  # the engine sets it when imported"])
def test_freed_tables_leave_the_process(setup):
    assert held_mb(setup) < 40
