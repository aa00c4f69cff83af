"""Prefect's server as Flowza starts it: cycles collected off the event loop's thread, SQLite transactions that
wait for the write lock, task runs recorded in batches.

    python -m flows.prefect_server prefect server start --port 4200      # `flowza up`
    python -m flows.prefect_server uvicorn --factory prefect.server.api.server:create_app ...  # temporary servers

Why: on SQLite, Prefect's server froze for 60 s at a time under a burst of runs (SQLite's busy timeout).
Seen with gdb on a frozen server (Python 3.11): the event loop's thread was inside an automatic
garbage collection, freeing an exception's traceback whose frames held an sqlite3 cursor of a failed
statement ("database is locked"). Freeing the cursor resets its statement, which takes its
connection's mutex; that connection, back in the pool, was running another statement on its aiosqlite
thread, waiting for SQLite's write lock; and the transaction holding that lock could only commit once
the event loop ran again. Nothing moved until the waiting statement gave up, 60 s later.

Here the automatic collector is off and a thread of its own collects, with the same thresholds: a
collection that has to wait for a busy connection blocks that thread only (the reset runs without the
GIL), so the event loop goes on, the lock's holder commits, and the collection finishes.

Its SQLite transactions begin IMMEDIATE (``immediate_sqlite_transactions``). Prefect begins most of them
DEFERRED: one that has read and then writes while another connection writes fails at once with "database is
locked" (SQLite cannot wait for the lock there), the API answers 503, and Prefect's client retries 2, 4, 8 s
later. Under a burst of runs those retries were most of the wait: 50 submissions drained in 52-67 s before,
16 s after (``tests/benchmarks/concurrent_submissions.py``). Beginning IMMEDIATE, a transaction waits for
the write lock in SQLite's busy handler on its connection's thread, as single statements already do.

It also records task runs in batches (``SERVER_DEFAULTS``, where the environment does not set them):
Prefect's default writes each task-run event in a transaction of its own. Batched, the server's CPU per
task run halves (measured: a 20-node run, 0.54 s -> 0.26 s of server CPU) and task runs reach the
database at most a second after their events.
"""

from __future__ import annotations

import gc
import os
import runpy
import sys
import threading
import time

POLL_S = 0.05
SERVER_DEFAULTS = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",  # seconds (Prefect reads whole ones)
}


def _collect_forever() -> None:
    """Collect like the automatic collector would, checking the allocation counts every ``POLL_S``."""
    thresholds = gc.get_threshold()
    while True:
        time.sleep(POLL_S)
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                break


def collect_off_the_event_loop() -> None:
    gc.disable()
    threading.Thread(target=_collect_forever, name="flowza-gc", daemon=True).start()


def start_temporary_servers_here() -> None:
    """Prefect's temporary servers (a run without PREFECT_API_URL, the test harness) start through this module.

    Prefect 3.8's ``SubprocessASGIServer._run_uvicorn_command`` with ``-m flows.prefect_server`` put before
    ``uvicorn``; the rest of the command and its environment are Prefect's.
    """
    import subprocess

    import prefect
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    def run_uvicorn_command(server: SubprocessASGIServer) -> subprocess.Popen:
        server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        return subprocess.Popen(
            args=[sys.executable, "-m", __spec__.name, "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                  "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                  "--port", str(server.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **server_env, **get_current_settings().to_environment_variables(exclude_unset=True)})

    SubprocessASGIServer._run_uvicorn_command = run_uvicorn_command


def immediate_sqlite_transactions() -> None:
    """Prefect's SQLite transactions begin IMMEDIATE (take the write lock at once, waiting for it in SQLite's
    busy handler) instead of DEFERRED, which fails at once ("database is locked", a 503 the client retries
    2, 4, 8 s later) when a transaction that has read must write while another writer holds the lock."""
    from contextlib import asynccontextmanager

    from prefect.server.database.configurations import AioSqliteConfiguration

    begin = AioSqliteConfiguration.begin_transaction

    @asynccontextmanager
    async def begin_immediate(self, session, with_for_update: bool = False):
        async with begin(self, session, with_for_update=True) as transaction:
            yield transaction

    AioSqliteConfiguration.begin_transaction = begin_immediate


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("prefect", "uvicorn"):
        sys.exit("usage: python -m flows.prefect_server {prefect|uvicorn} [arguments]")
    collect_off_the_event_loop()
    for name, value in SERVER_DEFAULTS.items():
        os.environ.setdefault(name, value)
    immediate_sqlite_transactions()
    module = sys.argv.pop(1)
    sys.argv[0] = module
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
