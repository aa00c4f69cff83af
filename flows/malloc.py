"""Freed tables go back to the operating system.

glibc's malloc raises its mmap threshold each time a big block is freed, so later big arrays come from
heaps it never returns, and each thread that runs a node gets a heap of its own (Prefect runs tasks on a
pool of threads). A run then holds on to the memory of tables no node uses any more: measured on a 1M-row
workflow, a peak of 1.35 GB instead of 1.14 GB (``tests/benchmarks/engine_overhead.py``, figure f).
A fixed threshold (arrays of 128 KiB and more are mapped, and unmapped when freed) and two heaps for
all threads keep a run's footprint close to what it really uses. Elsewhere than glibc, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 2


def return_freed_memory() -> bool:
    """Set glibc's malloc to give big freed blocks back; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):  # musl, macOS: no mallopt
        mallopt = None
    if mallopt is None:
        return False
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_ARENA_MAX, ARENA_MAX) == 1
    log.debug("malloc returns freed blocks to the OS: %s", done)
    return done
