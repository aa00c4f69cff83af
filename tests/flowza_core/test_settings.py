"""Settings defaults that follow the machine: the largest dataset a loader reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowza_core.settings import Settings


def mem_total_mb() -> float:
    line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="reads Linux's /proc/meminfo")
def test_the_dataset_limit_is_a_quarter_of_the_memory_by_default(monkeypatch):
    monkeypatch.delenv("FLOWZA_MAX_DATASET_MB", raising=False)
    limit = Settings().max_dataset_mb
    memory = mem_total_mb()
    cgroup = Path("/sys/fs/cgroup/memory.max")
    if cgroup.exists() and cgroup.read_text().strip() != "max":
        memory = min(memory, int(cgroup.read_text()) / 2**20)
    assert limit == pytest.approx(max(256, memory / 4), rel=0.01)
    assert limit > 2048 or memory < 8192  # a 2.3 GB CSV loads on the defaults of a 24 GB machine


def test_the_dataset_limit_can_be_set(monkeypatch):
    monkeypatch.setenv("FLOWZA_MAX_DATASET_MB", "300")
    assert Settings().max_dataset_mb == 300
    monkeypatch.setenv("FLOWZA_MAX_DATASET_MB", "0")
    with pytest.raises(ValueError, match="greater than 0"):
        Settings()


def test_a_worker_takes_twice_its_cpus_in_runs_by_default(monkeypatch):
    import os

    monkeypatch.delenv("FLOWZA_WORKER_RUNS", raising=False)
    assert Settings().worker_runs == 2 * len(os.sched_getaffinity(0))
    monkeypatch.setenv("FLOWZA_WORKER_RUNS", "7")
    assert Settings().worker_runs == 7
    monkeypatch.setenv("FLOWZA_WORKER_RUNS", "0")
    with pytest.raises(ValueError, match="worker_runs"):
        Settings()
