"""Many workers, nothing shared on local disk: Prefect's server and Flowza's metadata on PostgreSQL, the
object store in S3 (moto in server mode), the API and two workers as separate processes, each with its own
FLOWZA_HOME. An upload made through the API feeds 20 runs; both workers take runs, every run completes, and
every output is readable through the API and straight from the store.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import boto3
import httpx
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import fresh_postgres_database
from tests.deployments.test_run_recovery import FINAL, REPO, Processes

RUNS = 20
WORKERS = ("worker-a", "worker-b")
TABLE = pd.DataFrame({"x": [1.0, 2.0, None, 4.0, 5.0], "y": ["a", "b", "c", None, "e"]})


def workflow(dataset_id: str, i: int) -> dict:
    return {"name": f"two workers {i}",
            "nodes": [{"id": "load", "type": "csv_loader", "parameters": {"dataset_id": dataset_id}},
                      {"id": "clean", "type": "drop_nulls"}],
            "connections": [{"source": "load", "target": "clean"}]}


class ManyWorkers(Processes):
    """Processes with any number of workers, ``worker-*``, each on a FLOWZA_HOME (and PREFECT_HOME) of its own."""

    def command(self, name: str) -> list[str]:
        if name.startswith("worker-"):  # at most 2 runs at a time each: the other worker gets its share
            return [sys.executable, "-m", "deployments.worker", "--limit", "2"]
        return super().command(name)

    def start_workers(self, *names: str) -> None:
        """Start the workers side by side (their imports are the slow part), then wait for each."""
        for name in names:
            self.started[name] = datetime.now(UTC)
            own = {"FLOWZA_HOME": str(self.home(name)), "PREFECT_HOME": str(self.tmp / f"prefect-{name}")}
            with open(self.tmp / f"{name}.log", "ab") as log:
                self.procs[name] = subprocess.Popen(self.command(name), cwd=REPO, env={**self.env, **own},
                                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                                    start_new_session=True)
        for name in names:
            self.wait(lambda: self._applied_since(self.started[name]), 180, f"{name} did not start", name)

    def home(self, name: str) -> Path:
        return self.tmp / f"home-{name}"

    def _applied_since(self, started: datetime) -> bool:
        """A worker has applied its deployment since it started: it reached its poll loop."""
        try:
            deployment = httpx.get(f"{self.prefect_url}/deployments/name/flowza-workflow/run-workflow", timeout=5)
        except httpx.HTTPError:
            return False
        return deployment.status_code == 200 and datetime.fromisoformat(deployment.json()["updated"]) > started


@pytest.fixture(scope="module")
def stack(tmp_path_factory, s3_endpoint):
    bucket = f"flowza-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    with fresh_postgres_database() as prefect_db, fresh_postgres_database() as metadata_db:
        processes = ManyWorkers(tmp_path_factory.mktemp("two-workers"))  # after s3_endpoint: AWS_* are set
        processes.bucket, processes.metadata_db = bucket, metadata_db
        processes.env |= {
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db.replace("postgresql://", "postgresql+asyncpg://", 1),
            "FLOWZA_DATABASE_URL": metadata_db, "FLOWZA_OBJECT_STORE_URL": f"s3://{bucket}/flowza",
            "FLOWZA_S3_ENDPOINT_URL": s3_endpoint}
        try:
            for name in ("prefect", "api"):  # the API before the workers: it creates the metadata tables
                processes.start(name)
            processes.start_workers(*WORKERS)
            yield processes
        finally:
            processes.stop_all()


def test_two_workers_share_the_runs_of_one_upload_and_either_output_is_readable(stack, s3_endpoint):
    from flows.recorder import load_run
    from flows.store import open_store

    created = stack.api.post("/api/upload", files={"file": ("table.csv", TABLE.to_csv(index=False), "text/csv")})
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:  # as several clients would
        run_ids = list(pool.map(lambda i: stack.submit(workflow(dataset_id, i)), range(RUNS)))
    submitted = time.monotonic() - started
    runs = {run_id: stack.wait_run(run_id, lambda run: run["status"] in FINAL, 120, "did not finish")
            for run_id in run_ids}
    drained = time.monotonic() - started
    assert {run_id: run["status"] for run_id, run in runs.items()} == dict.fromkeys(run_ids, "completed"), \
        {run_id: run.get("error") for run_id, run in runs.items() if run["status"] != "completed"}

    # Which worker ran what: the metadata database records each run's worker, each worker its process id.
    engine = sa.create_engine(stack.metadata_db)
    with engine.connect() as db:
        pids = dict(db.execute(sa.text("SELECT id, pid FROM workers")).all())
        ran_by = dict(db.execute(sa.text("SELECT id, worker_id FROM runs WHERE id = ANY(:ids)"),
                                 {"ids": run_ids}).all())
    engine.dispose()
    worker_of_pid = {stack.procs[name].pid: name for name in WORKERS}
    taken = {name: sum(worker_of_pid.get(pids.get(worker_id)) == name for worker_id in ran_by.values())
             for name in WORKERS}
    assert sum(taken.values()) == RUNS and all(taken.values()), (taken, ran_by, pids)
    for name in WORKERS:  # each read the upload from S3 into its own FLOWZA_HOME, nothing else shared
        assert [p.name.split("~")[0] for p in (stack.home(name) / "cache" / "uploads").iterdir()] == [dataset_id]

    expected = TABLE.dropna().reset_index(drop=True)
    store = open_store(f"s3://{stack.bucket}/flowza", s3_endpoint)  # any machine's view of the store
    for run_id in run_ids:
        page = stack.api.get(f"/api/tasks/{run_id}:clean/dataset")
        assert page.status_code == 200, page.text
        assert page.json()["rows"] == expected.to_dict(orient="records")
        record = load_run(store, run_id)
        key = record["nodes"]["clean"]["outputs"]["dataset"]["key"]
        stored = store.read_table(key).to_pandas().reset_index(drop=True)  # the index rides along with the rows
        pd.testing.assert_frame_equal(stored, expected, check_dtype=False)
    print(f"{RUNS} runs submitted in {submitted:.1f} s, drained in {drained:.1f} s by two workers: {taken}; "
          f"run durations {sorted(round(seconds(run), 1) for run in runs.values())}")


def seconds(run: dict) -> float:
    return (datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds()


def test_the_compose_worker_scales_and_shares_no_disk():
    """`docker compose up --scale worker=N`: no fixed name or published port, no volume shared with the API."""
    import yaml

    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    worker = services["worker"]
    assert not worker.keys() & {"container_name", "hostname", "ports"}
    mounted = {volume.split(":")[0] for volume in worker.get("volumes", [])}
    assert not mounted & {volume.split(":")[0] for volume in services["api"].get("volumes", [])}
    assert worker["environment"]["FLOWZA_OBJECT_STORE_URL"].startswith("s3://")
