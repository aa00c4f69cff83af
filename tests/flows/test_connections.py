"""Named connections in real runs: a node reads its run owner's connection by name (``ctx.connection``), and the
secret reaches that node only: not the run record, the object store, Prefect's parameters or logs."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlalchemy.engine import make_url

import metadata_db as db
from metadata_db import connections as connection_rows
from flowza_core.errors import NodeError
from flowza_core.settings import get_settings
from flows.connections import RunConnections
from nodes.base import REGISTRY, NodeContext, Params, node
from nodes.ports import Json

pytestmark = pytest.mark.usefixtures("prefect_api_url")

PLANTED = "pl4nted-S3CRET-91c2"
DB_URL = f"postgresql://analyst:{PLANTED}@db.example:5432/sales"


class ConnectionParams(Params):
    connection: str = "db"


@pytest.fixture
def reads_connection():
    """A node that opens a named connection and outputs its kind and keys (never its values); it reports the
    database host it would reach as a warning, which the run record shows."""
    def read_connection_for_test(params: ConnectionParams, ctx: NodeContext) -> Json:
        """Open a connection."""
        opened = ctx.connection(params.connection)
        ctx.logger.info("opened connection %s of kind %s", params.connection, opened["kind"])
        ctx.warn("OPENED", f"host {make_url(opened['url']).host}")
        return Json({"kind": opened["kind"], "keys": sorted(opened)})

    node(category="general")(read_connection_for_test)
    yield
    REGISTRY.pop("read_connection_for_test")


def save(owner_id: str | None, name: str, url: str = DB_URL) -> None:
    url_of_db = get_settings().metadata_db_url
    db.upgrade(url_of_db)
    with db.session_factory(url_of_db).begin() as session:
        connection_rows.create_connection(session, owner_id, name, "postgresql", {}, {"url": url})


def workflow(connection: str) -> dict:
    return {"name": "reads a connection", "connections": [],
            "nodes": [{"id": "read", "type": "read_connection_for_test", "parameters": {"connection": connection}}]}


def prefect_logs_and_parameters(flow_run_id: str, wait_for: str) -> tuple[list[str], dict]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async def read() -> tuple[list[str], dict]:
        async with get_client() as client:
            deadline = time.monotonic() + 20
            while True:  # logs reach Prefect's API in batches
                logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
                messages = [entry.message for entry in logs]
                if any(wait_for in m for m in messages) or time.monotonic() > deadline:
                    return messages, (await client.read_flow_run(flow_run_id)).parameters
                await asyncio.sleep(0.5)

    return asyncio.run(read())


def everything_stored(home) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in (home / "store").rglob("*") if p.is_file())


def test_a_node_reads_its_connection_and_the_secret_goes_nowhere_else(flowza_env, reads_connection, caplog):
    from flows.engine import execute

    save(None, "db")
    caplog.set_level(logging.DEBUG)
    record = execute(workflow("db"), use_cache=False)
    assert record["status"] == "completed", record
    [manifest] = [json.loads(p.read_text()) for p in (flowza_env["home"] / "store" / "cache").glob("*.json")]
    assert manifest["outputs"]["json"]["ref"]["value"] == {"kind": "postgresql", "keys": ["kind", "url"]}
    assert record["nodes"]["read"]["warnings"][0]["message"] == "host db.example"

    messages, parameters = prefect_logs_and_parameters(record["flow_run_id"], "opened connection db")
    assert any("opened connection db of kind postgresql" in m for m in messages), messages
    for where in (json.dumps(record), everything_stored(flowza_env["home"]), json.dumps(parameters),
                  "\n".join(messages), caplog.text):
        assert PLANTED not in where


def test_outputs_are_reused_only_while_the_connection_is_unchanged(flowza_env, reads_connection):
    from flows.engine import execute

    save(None, "db")
    first, again = execute(workflow("db")), execute(workflow("db"))
    assert not first["nodes"]["read"]["cached"] and again["nodes"]["read"]["cached"]
    url = get_settings().metadata_db_url
    with db.session_factory(url).begin() as session:
        connection_rows.update_connection(session, None, "db", secret={"url": "postgresql://u:p@elsewhere/d"})
    moved = execute(workflow("db"))
    assert not moved["nodes"]["read"]["cached"]
    assert moved["nodes"]["read"]["warnings"][0]["message"] == "host elsewhere"


def test_an_unknown_or_unreadable_connection_fails_its_node_saying_why(flowza_env, reads_connection, monkeypatch):
    from flows.engine import execute

    save(None, "db")
    save(None, "lake")
    record = execute(workflow("warehouse"), use_cache=False)
    assert record["status"] == "failed"
    error = record["nodes"]["read"]["error"]
    assert error["code"] == "CONNECTION_NOT_FOUND"
    assert "connection 'warehouse' not found: the connections you have are: db, lake" in error["message"]

    monkeypatch.setenv("FLOWZA_SECRET_KEY", "a key the secrets were not sealed with")
    get_settings.cache_clear()
    record = execute(workflow("db"), use_cache=False)
    error = record["nodes"]["read"]["error"]
    assert error["code"] == "SECRET_KEY_CHANGED" and "connection 'db'" in error["message"]
    assert "save the connection's secret again" in error["message"] and PLANTED not in json.dumps(record)


def test_a_run_reads_its_owners_connections(flowza_env, monkeypatch):
    """Multi-user: the run's owner's (the workflow owner's for a scheduled run); a run nobody owns, the unowned."""
    monkeypatch.setenv("FLOWZA_AUTH_ENABLED", "true")
    get_settings.cache_clear()
    url = get_settings().metadata_db_url
    db.upgrade(url)
    with db.session_factory(url).begin() as session:
        alice, bob = (db.create_user(session, f"{n}@example.com", "hash").id for n in ("alice", "bob"))
        workflow_id = db.create_workflow(session, alice, workflow("db")).id
        started = {who: db.create_run(session, workflow_id, owner_id=owner).id
                   for who, owner in (("alice", alice), ("bob", bob), ("schedule", None))}
    save(alice, "db", "postgresql://alice@h/a")
    save(bob, "db", "postgresql://bob@h/b")
    save(None, "db", "postgresql://nobody@h/n")
    save(bob, "bobs_only")

    def opened(run_id: str, name: str = "db") -> str:
        return RunConnections(run_id, get_settings())(name)["url"]

    assert opened(started["alice"]) == "postgresql://alice@h/a"
    assert opened(started["bob"]) == "postgresql://bob@h/b"
    assert opened(started["schedule"]) == "postgresql://alice@h/a"
    assert opened("no-such-run") == "postgresql://nobody@h/n"
    with pytest.raises(NodeError) as refused:
        opened(started["alice"], "bobs_only")
    assert refused.value.code == "CONNECTION_NOT_FOUND"
    assert "the connections you have are: db." in str(refused.value)
