"""/api/connections on each metadata database: save, list, change and delete named connections; their secrets
stored encrypted and never answered; each user's own in multi-user mode; the CLI and SDK against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

import metadata_db as db
from metadata_db.models import Connection
from flowza_core.connection_secrets import SecretUnreadable, seal, unseal
from flowza.remote import ServiceError
from flowza.sdk import Service
from flowza_core.settings import get_settings
from tests.api.test_models_owners import run
from tests.conftest import api_server
from tests.flows.test_connections import reads_connection  # noqa: F401 - a fixture

PLANTED = "pl4nted-S3CRET-7f3a"
DB_URL = f"postgresql://analyst:{PLANTED}@db.example:5432/sales"


def warehouse(name: str = "warehouse", **extra) -> dict:
    return {"name": name, "kind": "postgresql", "secret": {"url": DB_URL}} | extra


def no_secret(answer) -> None:
    assert PLANTED not in answer.text, answer.text


def stored_rows() -> list[dict]:
    engine = db.make_engine(get_settings().metadata_db_url)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text("SELECT * FROM connections"))]
    finally:
        engine.dispose()


def test_save_list_show_change_and_delete_without_ever_answering_the_secret(client):
    created = client.post("/api/connections", json=warehouse(config={}))
    assert created.status_code == 201, created.text
    no_secret(created)
    body = created.json()
    assert {k: body[k] for k in ("name", "kind", "config", "secret_fields")} == {
        "name": "warehouse", "kind": "postgresql", "config": {}, "secret_fields": ["url"]}
    assert body["created_at"] and body["updated_at"]

    s3 = client.post("/api/connections", json={"name": "lake", "kind": "s3", "config": {"bucket": "raw"},
                                                "secret": {"access_key_id": "AKIA1", "secret_access_key": PLANTED}})
    assert s3.status_code == 201 and s3.json()["secret_fields"] == ["access_key_id", "secret_access_key"]
    listed = client.get("/api/connections")
    no_secret(listed)
    assert [(c["name"], c["kind"], c["config"]) for c in listed.json()] == [
        ("lake", "s3", {"bucket": "raw"}), ("warehouse", "postgresql", {})]
    shown = client.get("/api/connections/lake")
    no_secret(shown)
    assert shown.json()["config"] == {"bucket": "raw"}

    moved = client.patch("/api/connections/lake", json={"config": {"bucket": "curated", "region": "eu-west-1"}})
    assert moved.status_code == 200 and moved.json()["config"] == {"bucket": "curated", "region": "eu-west-1"}
    rotated = client.patch("/api/connections/warehouse", json={"secret": {"url": DB_URL.replace("5432", "6432")}})
    assert rotated.status_code == 200, rotated.text
    no_secret(moved)
    no_secret(rotated)

    rows = {r["name"]: r for r in stored_rows()}
    for row in rows.values():  # the raw rows hold ciphertext only
        assert PLANTED not in json.dumps(row, default=str)
    assert unseal(rows["warehouse"]["secret"]) == {"url": DB_URL.replace("5432", "6432")}
    assert unseal(rows["lake"]["secret"])["secret_access_key"] == PLANTED

    assert client.delete("/api/connections/lake").status_code == 204
    assert client.get("/api/connections/lake").status_code == 404
    assert [c["name"] for c in client.get("/api/connections").json()] == ["warehouse"]


def test_taken_unknown_and_bad_connections_are_refused_with_what_is_wrong(client):
    assert client.post("/api/connections", json=warehouse()).status_code == 201
    taken = client.post("/api/connections", json=warehouse())
    assert taken.status_code == 409 and "'warehouse' already exists" in taken.json()["message"]

    for path, method, body in [("/api/connections/nope", "GET", None), ("/api/connections/nope", "DELETE", None),
                               ("/api/connections/nope", "PATCH", {"config": {}})]:
        missing = client.request(method, path, json=body)
        assert missing.status_code == 404 and missing.json()["message"] == "connection 'nope' not found"

    def refused(body: dict, *expected: str) -> str:
        answer = client.post("/api/connections", json=body)
        assert answer.status_code == 422, answer.text
        no_secret(answer)
        for words in expected:
            assert words in answer.json()["message"], answer.json()["message"]
        return answer.json()["message"]

    refused(warehouse("x", kind="oracle"), "unknown connection kind 'oracle'", "postgresql, s3, http, openai")
    refused({"name": "x", "kind": "s3", "secret": {"access_key_id": PLANTED}}, "secret.secret_access_key: required")
    # A secret put among the public settings is refused, not shown to everyone.
    refused({"name": "x", "kind": "postgresql", "config": {"url": DB_URL}, "secret": {}},
            "config.url: not a key of this kind", "secret.url: required")
    refused(warehouse("x", secret={"url": f"mysql://root:{PLANTED}@h/db"}), "secret.url: must be a PostgreSQL URL")
    refused(warehouse("x", secret={"url": PLANTED}), "secret.url: must be a PostgreSQL URL")
    refused(warehouse("x", secret={"url": f"postgresql://u:p@h:{PLANTED}/d"}), "secret.url: must be a PostgreSQL URL")
    refused({"name": "x", "kind": "openai", "config": {"model": "m"}, "secret": {"api_key": PLANTED}},
            "config.base_url: required")
    refused({"name": "x", "kind": "http", "config": {"base_url": "ftp://h"}, "secret": {"headers": {"A": PLANTED}}},
            "config.base_url: must be an http:// or https:// URL")
    refused({"name": "x", "kind": "http", "secret": {"headers": PLANTED}}, "secret.headers")
    for name in ("Warehouse", "1db", "", "a" * 65, "db.prod", "db/x"):
        refused(warehouse(name), "name")
    assert client.post("/api/connections", json=warehouse("a" * 64)).status_code == 201

    changed = client.patch("/api/connections/warehouse", json={"secret": {"url": "sqlite:///x.db"}})
    assert changed.status_code == 422 and "secret.url: must be a PostgreSQL URL" in changed.json()["message"]
    nothing = client.patch("/api/connections/warehouse", json={})
    assert nothing.status_code == 422 and "nothing to change" in nothing.json()["message"]
    retyped = client.patch("/api/connections/warehouse", json={"kind": "s3"})
    assert retyped.status_code == 422
    assert unseal(next(r for r in stored_rows() if r["name"] == "warehouse")["secret"]) == {"url": DB_URL}


def test_each_user_sees_and_uses_only_their_own_connections(multi_user):
    alice, bob = multi_user("alice@example.com"), multi_user("bob@example.com")
    assert alice.post("/api/connections", json=warehouse()).status_code == 201
    assert bob.get("/api/connections").json() == []
    for method, body in [("GET", None), ("PATCH", {"secret": {"url": "postgresql://bob@h/db"}}), ("DELETE", None)]:
        answer = bob.request(method, "/api/connections/warehouse", json=body)
        assert answer.status_code == 404 and answer.json()["message"] == "connection 'warehouse' not found"
    # The same name is free for another user, and stays each one's own.
    own = bob.post("/api/connections", json=warehouse(secret={"url": "postgresql://bob:pw@h/bobs"}))
    assert own.status_code == 201, own.text
    assert [c["name"] for c in alice.get("/api/connections").json()] == ["warehouse"]
    assert alice.delete("/api/connections/warehouse").status_code == 204
    assert bob.get("/api/connections/warehouse").status_code == 200
    anonymous = bob.get("/api/connections", headers={"Authorization": ""})
    assert anonymous.status_code == 401


@pytest.mark.usefixtures("flowza_worker", "reads_connection")
def test_runs_through_the_service_read_their_owners_connection(multi_user):
    alice, bob = multi_user("alice@example.com"), multi_user("bob@example.com")
    reads_db = {"name": "reads db", "connections": [], "nodes": [
        {"id": "read", "type": "read_connection_for_test", "parameters": {"connection": "db"}}]}
    for user, host in ((alice, "alices-host"), (bob, "bobs-host")):
        saved = user.post("/api/connections", json=warehouse("db", secret={"url": f"postgresql://u:{PLANTED}@{host}/"}))
        assert saved.status_code == 201, saved.text
    for user, host in ((alice, "alices-host"), (bob, "bobs-host")):  # the same workflow: no output is reused
        done = run(user, reads_db)
        assert done["status"] == "completed", done
        assert [w["message"] for w in done["nodes"]["read"]["warnings"]] == [f"host {host}"]
        for answer in (user.get(f"/api/runs/{done['run_id']}"), user.get(f"/api/runs/{done['run_id']}/logs")):
            assert answer.status_code == 200
            no_secret(answer)
    assert bob.delete("/api/connections/db").status_code == 204
    gone = run(bob, reads_db)
    assert gone["nodes"]["read"]["error"]["code"] == "CONNECTION_NOT_FOUND", gone
    assert "you have no connections yet" in gone["nodes"]["read"]["error"]["message"]


def test_names_are_unique_per_owner_in_the_database_itself(db_session):
    """Two saves of one name racing past the API's check still leave one row, with or without an owner."""
    alice, bob = (db.create_user(db_session, f"{n}@example.com", "hash").id for n in ("alice", "bob"))
    for owner in (None, alice):
        db_session.add(Connection(owner_id=owner, name="db", kind="postgresql", config={}, secret="x"))
        db_session.flush()
        with pytest.raises(IntegrityError), db_session.begin_nested():
            db_session.add(Connection(owner_id=owner, name="db", kind="postgresql", config={}, secret="y"))
            db_session.flush()
    db_session.add(Connection(owner_id=bob, name="db", kind="postgresql", config={}, secret="z"))
    db_session.flush()


def test_the_migration_upgrades_and_downgrades(db_url):
    config = db.alembic_config(db_url)
    command.upgrade(config, "0006")
    command.upgrade(config, "0007")
    engine = db.make_engine(db_url)
    try:
        assert "uq_connections_name_unowned" in {i["name"] for i in inspect(engine).get_indexes("connections")}
        command.downgrade(config, "0006")
        assert "connections" not in inspect(engine).get_table_names()
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_a_changed_secret_key_says_the_secret_must_be_saved_again(flowza_env, monkeypatch):
    sealed = seal({"url": DB_URL})
    assert PLANTED not in sealed and unseal(sealed) == {"url": DB_URL}
    monkeypatch.setenv("FLOWZA_SECRET_KEY", "another key")
    get_settings.cache_clear()
    with pytest.raises(SecretUnreadable, match="secret key .* has changed since it was saved"):
        unseal(sealed)


# --- the command line and the SDK --------------------------------------------------------------------------
@pytest.fixture
def service(flowza_env):
    with api_server("flowza-connections-server") as url:
        yield url


def flowza(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flowza.cli", "connections", *args], input=stdin,
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)


def test_the_command_line_reads_secrets_from_stdin_and_never_prints_them(service):
    url = ["--url", service]
    added = flowza("add", "warehouse", "--kind", "postgresql", *url, stdin=json.dumps({"url": DB_URL}))
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "warehouse: postgresql  secret: url"
    api = flowza("add", "api", "--kind", "http", "--config", "base_url=https://api.example", "--secret",
                 'headers={"Authorization": "Bearer ' + PLANTED + '"}', *url)
    assert api.returncode == 0, api.stderr
    listed = flowza("list", *url)
    assert listed.stdout.splitlines() == ["api: http  (base_url=https://api.example)  secret: headers",
                                          "warehouse: postgresql  secret: url"]
    shown = json.loads(flowza("show", "warehouse", "--json", *url).stdout)
    assert shown["secret_fields"] == ["url"]
    again = flowza("add", "warehouse", "--kind", "postgresql", *url, stdin=json.dumps({"url": DB_URL}))
    assert again.returncode == 2 and "already exists" in again.stderr
    wrong = flowza("add", "x", "--kind", "postgresql", *url, stdin="not json " + PLANTED)
    assert wrong.returncode == 2 and "JSON object with url" in wrong.stderr
    kindless = flowza("add", "x", *url)
    assert kindless.returncode == 2 and "needs --kind" in kindless.stderr
    assert flowza("delete", "api", *url).stdout.strip() == "deleted connection api"
    for done in (added, api, listed, again, wrong, kindless):
        assert PLANTED not in done.stdout + done.stderr and "Traceback" not in done.stderr

    sdk = Service(service)
    assert [c["name"] for c in sdk.connections()] == ["warehouse"]
    sdk.add_connection("llm", "openai", {"api_key": PLANTED}, config={"base_url": "http://127.0.0.1:9", "model": "m"})
    assert sdk.update_connection("llm", config={"base_url": "http://127.0.0.1:8", "model": "n"})["config"]["model"] \
        == "n"
    assert PLANTED not in json.dumps(sdk.connection("llm"))
    sdk.delete_connection("llm")
    with pytest.raises(ServiceError) as missing:
        sdk.connection("llm")
    assert missing.value.status == 404
