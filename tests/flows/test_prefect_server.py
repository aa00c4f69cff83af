"""Prefect's servers start through flows.prefect_server: cycles are collected off the event loop's thread."""

import os
import subprocess
import sys
import textwrap

import psutil

from flowza.up import plan
from flowza_core.settings import get_settings


def test_the_session_server_runs_through_flowza(prefect_api_url):
    commands = [child.cmdline() for child in psutil.Process().children(recursive=True)]
    servers = [c for c in commands if "prefect.server.api.server:create_app" in c]
    assert servers, f"no temporary Prefect server among {commands}"
    assert all(c[1:4] == ["-m", "flows.prefect_server", "uvicorn"] for c in servers), servers


def test_flowza_up_starts_prefect_through_flowza(flowza_env, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    stages, _ = plan(get_settings())
    prefect = next(service for stage in stages for service in stage if service.name == "prefect")
    assert prefect.command[1:6] == ["-m", "flows.prefect_server", "prefect", "server", "start"]


def test_cycles_are_collected_on_a_thread_of_their_own():
    script = textwrap.dedent("""
        import gc, threading, time
        from flows.prefect_server import collect_off_the_event_loop

        collect_off_the_event_loop()
        freed_on, kept = [], []

        class Node:
            def __del__(self):
                freed_on.append(threading.current_thread().name)

        for _ in range(50):
            a, b = Node(), Node()
            a.other, b.other = b, a  # a cycle: only the collector frees it
            del a, b
            kept.extend([] for _ in range(100))  # allocations that count towards the collector's thresholds
        time.sleep(1)
        print(gc.isenabled(), len(freed_on), sorted(set(freed_on)))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    enabled, freed, threads = out.stdout.split(maxsplit=2)
    assert enabled == "False"
    assert int(freed) == 100
    assert threads.strip() == "['flowza-gc']"


def test_task_runs_are_recorded_in_batches_unless_the_environment_says_otherwise(tmp_path):
    def settings(**env) -> str:
        command = [sys.executable, "-m", "flows.prefect_server", "prefect", "config", "view"]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True,
                              env={**os.environ, "PREFECT_HOME": str(tmp_path), **env}).stdout

    assert "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE='100'" in settings()
    assert "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE='7'" in settings(
        PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE="7")


def test_prefect_sqlite_transactions_take_the_write_lock_when_they_begin(tmp_path):
    """A transaction that reads first holds SQLite's write lock already: it cannot fail to upgrade later."""
    script = textwrap.dedent("""
        import asyncio, sqlite3, sys
        import sqlalchemy as sa
        from prefect.server.database.configurations import AioSqliteConfiguration
        from flows.prefect_server import immediate_sqlite_transactions

        if sys.argv[2] == "patched":
            immediate_sqlite_transactions()

        async def main(path):
            config = AioSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{path}")
            engine = await config.engine()
            session = await config.session(engine)
            async with config.begin_transaction(session):
                await session.execute(sa.text("select 1"))
                other = sqlite3.connect(path, timeout=0)
                try:
                    other.execute("begin immediate")
                    print("other writer: admitted")
                except sqlite3.OperationalError as exc:
                    print(f"other writer: {exc}")
            await engine.dispose()

        asyncio.run(main(sys.argv[1]))
    """)

    def other_writer(mode: str) -> str:
        database = tmp_path / f"{mode}.db"
        return subprocess.run([sys.executable, "-c", script, str(database), mode], capture_output=True, text=True,
                              timeout=120, check=True).stdout.strip()

    assert other_writer("patched") == "other writer: database is locked"
    assert other_writer("prefect") == "other writer: admitted"  # Prefect's own DEFERRED: the read took no lock
