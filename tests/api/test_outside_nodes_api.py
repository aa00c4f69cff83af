"""The nodes that reach outside Flowza, end to end through the real service: connections saved over REST, workflows
posted over REST and run on Prefect by a worker, against this machine's PostgreSQL, a moto S3 server and HTTP and
OpenAI-compatible servers started by the test.

One run writes (http_request -> db_write, s3_writer and llm_call), one reads what it wrote (sql_query, s3_loader),
one is hostile (an injection string as a table and as a schema name, a redirect to loopback), and the integration
template (examples/integration.json) runs twice against a local copy of its API.
"""

from __future__ import annotations

import copy
import io
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from flowza_core.settings import get_settings
from tests.api.test_models_owners import run
from tests.nodes.test_llm import API_KEY, CannedChat

ROOT = Path(__file__).resolve().parents[2]
INJECTION = 'people"; DROP TABLE people; --'
PEOPLE = [{"id": 1, "name": "Ada", "city": "London", "score": 9.5},
          {"id": 2, "name": "Grace", "city": "Arlington", "score": 8.0},
          {"id": 3, "name": "Edsger", "city": "Austin", "score": None}]
ANSWER_SCHEMA = {"type": "object", "required": ["name", "city"],
                 "properties": {"name": {"type": "string"}, "city": {"type": "string"}}}


class Site:
    """A real HTTP server on 127.0.0.1: ``routes`` maps a path to ``handler -> (status, headers, body)``; the paths
    asked are kept in ``seen``."""

    def __init__(self, routes: dict[str, Callable]):
        self.routes, self.seen = routes, []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.seen.append(self.path)
                status, headers, body = site.routes.get(self.path, lambda: (404, {}, b"no such page"))()
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, name="test-site", daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def json_page(value) -> Callable:
    return lambda: (200, {"Content-Type": "application/json"}, json.dumps(value).encode())


@pytest.fixture
def sites(monkeypatch):
    """``sites(routes)``: a started ``Site``. Loopback targets are allowed (FLOWZA_HTTP_ALLOW_PRIVATE) for this
    test's app and worker, as a server that calls APIs on its own network would set."""
    monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    started: list[Site] = []

    def start(routes: dict[str, Callable]) -> Site:
        started.append(Site(routes))
        return started[-1]

    yield start
    for site in started:
        site.close()
    get_settings.cache_clear()


def save(client, name: str, kind: str, config: dict | None = None, secret: dict | None = None) -> None:
    answer = client.post("/api/connections", json={"name": name, "kind": kind, "config": config or {},
                                                   "secret": secret or {}})
    assert answer.status_code == 201, answer.text


def save_warehouse(client, postgres_database: str) -> None:
    save(client, "warehouse", "postgresql", secret={"url": postgres_database})


def query(url: str, sql: str) -> list[dict]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def inspected(url: str, look: Callable):
    """What ``look`` finds with an inspector of the database at ``url``."""
    engine = sa.create_engine(url)
    try:
        return look(sa.inspect(engine))
    finally:
        engine.dispose()


def outputs(record: dict, node_id: str) -> dict:
    node = record["nodes"][node_id]
    assert node["status"] == "completed", node
    return node["outputs"]


def edge(source: str, source_port: str, target: str, target_port: str) -> dict:
    return {"source": source, "sourceHandle": source_port, "target": target, "targetHandle": target_port}


@pytest.mark.usefixtures("flowza_worker")
def test_each_node_writes_and_reads_real_servers_through_the_service(client, sites, postgres_database, s3_endpoint,
                                                                    s3_bucket):
    s3, bucket = s3_bucket
    api = sites({"/people": json_page(PEOPLE)})
    save_warehouse(client, postgres_database)
    save(client, "lake", "s3", {"endpoint_url": s3_endpoint, "bucket": bucket, "region": "us-east-1"},
         {"access_key_id": "testing", "secret_access_key": "testing"})
    with CannedChat('```json\n{"name": "Ada", "city": "London"}\n```') as chat:
        save(client, "llm", "openai", {"base_url": chat.base_url, "model": "canned-model"}, {"api_key": API_KEY})
        writes = run(client, {"name": "write outside", "nodes": [
            {"id": "fetch", "type": "http_request", "parameters": {"url": f"{api.url}/people",
                                                                    "response_as": "table"}},
            {"id": "to_db", "type": "db_write", "parameters": {"connection": "warehouse", "table": "people",
                                                                "mode": "create", "key_columns": ["id"]}},
            {"id": "to_s3", "type": "s3_writer", "parameters": {"connection": "lake", "key": "exports/people.csv"}},
            {"id": "ask", "type": "llm_call", "parameters": {
                "connection": "llm", "output": "json", "json_schema": ANSWER_SCHEMA,
                "prompt": "Who is first of those in {{ values[0].city }}? {{ values | tojson }}"}}],
            "connections": [edge("fetch", "table", "to_db", "dataset"), edge("fetch", "table", "to_s3", "dataset"),
                            edge("fetch", "json", "ask", "values")]})
    assert writes["status"] == "completed", writes
    assert api.seen == ["/people"]

    # http_request: the answer parsed, as text, and as a table
    fetched = outputs(writes, "fetch")
    assert fetched["json"]["value"] == PEOPLE and json.loads(fetched["text"]["value"]) == PEOPLE
    assert fetched["table"]["rows"] == 3 and fetched["table"]["columns"] == ["id", "name", "city", "score"]

    # db_write: the rows in PostgreSQL, keyed by id
    assert outputs(writes, "to_db")["json"]["value"] == {"table": "people", "schema": None, "mode": "create",
                                                         "rows_written": 3}
    assert query(postgres_database, "SELECT id, name, city, score FROM people ORDER BY id") == PEOPLE
    assert inspected(postgres_database, lambda db: db.get_pk_constraint("people"))["constrained_columns"] == ["id"]

    # s3_writer: the object in the bucket
    written = outputs(writes, "to_s3")["json"]["value"]
    assert {k: written[k] for k in ("bucket", "key", "rows", "format")} == {
        "bucket": bucket, "key": "exports/people.csv", "rows": 3, "format": "csv"}
    body = s3.get_object(Bucket=bucket, Key="exports/people.csv")["Body"].read()
    assert written["bytes"] == len(body)
    stored = pd.read_csv(io.BytesIO(body)).astype(object).where(lambda f: f.notna(), None)
    assert stored.to_dict("records") == PEOPLE

    # llm_call: asked with the API's answer, its own answer checked JSON and text
    [asked] = chat.requests
    assert asked["auth"] == f"Bearer {API_KEY}" and asked["body"]["model"] == "canned-model"
    prompt = asked["body"]["messages"][-1]["content"]  # the template's tojson sorts keys
    assert prompt == f"Who is first of those in London? {json.dumps(PEOPLE, sort_keys=True)}"
    answered = outputs(writes, "ask")
    assert answered["json"]["value"] == {"name": "Ada", "city": "London"}
    assert answered["text"]["value"] == '```json\n{"name": "Ada", "city": "London"}\n```'
    assert API_KEY not in json.dumps(writes)

    # sql_query and s3_loader read back what the first run wrote (they have no inputs: a run of their own)
    reads = run(client, {"name": "read outside", "nodes": [
        {"id": "query", "type": "sql_query", "parameters": {
            "connection": "warehouse", "query": "SELECT name, score FROM people WHERE score >= :least ORDER BY id",
            "parameters": {"least": 8}}},
        {"id": "load", "type": "s3_loader", "parameters": {"connection": "lake", "key": "exports/people.csv"}}],
        "connections": []})
    assert reads["status"] == "completed", reads
    queried = client.get(f"/api/tasks/{reads['run_id']}:query/dataset").json()
    assert queried["rows"] == [{"name": "Ada", "score": 9.5}, {"name": "Grace", "score": 8.0}]
    loaded = client.get(f"/api/tasks/{reads['run_id']}:load/dataset").json()
    assert loaded["total_rows"] == 3 and loaded["columns"] == ["id", "name", "city", "score"]
    assert loaded["rows"] == PEOPLE


@pytest.mark.usefixtures("flowza_worker")
def test_hostile_names_and_a_redirect_to_loopback_end_as_node_errors(client, sites, postgres_database, monkeypatch):
    """An injection string is only ever a quoted name: appended to, it names a table that does not exist; as a
    schema, a schema that does not exist. (Modes create and replace would make a table of that odd name, by design:
    tests/nodes/test_sql.py::test_hostile_table_names_are_quoted_as_names.)"""
    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE people (id integer PRIMARY KEY, name text)"))
        conn.execute(sa.text("INSERT INTO people VALUES (1, 'Ada'), (2, 'Grace')"))
    engine.dispose()
    save_warehouse(client, postgres_database)
    inside = sites({"/secret": json_page({"instance": "metadata"})})

    def turns_the_guard_on_and_redirects():
        # this server stands for a public host: the guard is on from its answer on, so only the hop meets it
        monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "false")
        get_settings.cache_clear()
        return 302, {"Location": f"{inside.url}/secret"}, b""

    outside = sites({"/start": turns_the_guard_on_and_redirects})
    done = run(client, {"name": "hostile", "nodes": [
        {"id": "rows", "type": "sample_dataset", "parameters": {"name": "iris"}},
        {"id": "bad_table", "type": "db_write", "parameters": {"connection": "warehouse", "table": INJECTION,
                                                                "mode": "append"}},
        {"id": "bad_schema", "type": "db_write", "parameters": {"connection": "warehouse", "table": "people",
                                                                 "schema": INJECTION, "mode": "create"}},
        {"id": "hop", "type": "http_request", "parameters": {"url": f"{outside.url}/start", "retries": 0}}],
        "connections": [edge("rows", "dataset", "bad_table", "dataset"),
                        edge("rows", "dataset", "bad_schema", "dataset")]})
    assert done["status"] == "failed", done
    errors = {node_id: done["nodes"][node_id]["error"] for node_id in ("bad_table", "bad_schema", "hop")}

    assert errors["bad_table"]["code"] == "TABLE_NOT_FOUND"
    assert errors["bad_table"]["message"] == f"table '{INJECTION}' does not exist: choose mode create"
    assert errors["bad_schema"]["code"] == "DATABASE_ERROR"
    assert f'schema "{INJECTION}" does not exist' in errors["bad_schema"]["message"]
    assert "Create the schema first, or leave schema empty" in errors["bad_schema"]["message"]
    assert inspected(postgres_database, lambda db: db.get_table_names()) == ["people"]
    assert query(postgres_database, "SELECT id, name FROM people ORDER BY id") == [
        {"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}]

    assert errors["hop"]["code"] == "HTTP_TARGET_REFUSED"
    assert "127.0.0.1" in errors["hop"]["message"] and "loopback" in errors["hop"]["message"]
    assert "FLOWZA_HTTP_ALLOW_PRIVATE=true" in errors["hop"]["message"]
    assert outside.seen == ["/start"] and inside.seen == []


# --- examples/integration.json ----------------------------------------------------------------------------------

def users(count: int, email_of_first: str = "Sincere@april.biz") -> list[dict]:
    """Records shaped as https://jsonplaceholder.typicode.com/users answers them."""
    return [{"id": i, "name": f"User {i}", "username": f"user{i}",
             "email": email_of_first if i == 1 else f"user{i}@example.org",
             "address": {"street": f"{i} Main St", "suite": f"Apt. {i}", "city": f"City {i}", "zipcode": f"0000{i}",
                         "geo": {"lat": f"-{i}.5", "lng": f"{i}.25"}},
             "phone": f"1-770-736-000{i}", "website": f"user{i}.org",
             "company": {"name": f"Company {i}", "catchPhrase": "Multi-layered client-server neural-net",
                         "bs": "harness real-time e-markets"}} for i in range(1, count + 1)]


@pytest.mark.usefixtures("flowza_worker")
def test_the_integration_example_upserts_an_apis_records_into_the_warehouse(client, sites, postgres_database):
    template = json.loads((ROOT / "examples" / "integration.json").read_text())
    served = {"records": users(3)}
    api = sites({"/users": lambda: json_page(served["records"])()})
    workflow = copy.deepcopy(template)
    [fetch] = [n for n in workflow["nodes"] if n["type"] == "http_request"]
    fetch["parameters"]["url"] = f"{api.url}/users"
    template_url = next(n for n in template["nodes"] if n["id"] == fetch["id"])["parameters"]["url"]
    assert template_url == "https://jsonplaceholder.typicode.com/users"
    fetch["parameters"]["url"] = template_url
    assert workflow == template  # only the URL is changed
    fetch["parameters"]["url"] = f"{api.url}/users"
    save_warehouse(client, postgres_database)

    first = run(client, workflow)
    assert first["status"] == "completed", first
    kept = ["id", "name", "username", "email", "phone", "website", "address.city", "address.zipcode",
            "company.name"]
    assert [c["name"] for c in inspected(postgres_database, lambda db: db.get_columns("users"))] == kept
    assert inspected(postgres_database, lambda db: db.get_pk_constraint("users"))["constrained_columns"] == ["id"]
    stored = query(postgres_database, "SELECT * FROM users ORDER BY id")
    assert stored == [{"id": u["id"], "name": u["name"], "username": u["username"], "email": u["email"],
                       "phone": u["phone"], "website": u["website"], "address.city": u["address"]["city"],
                       "address.zipcode": u["address"]["zipcode"], "company.name": u["company"]["name"]}
                      for u in users(3)]

    # the API changes: a run updates the rows it has by id and adds the new one
    served["records"] = users(4, email_of_first="ada@new.example")
    second = run(client, workflow)
    assert second["status"] == "completed", second
    assert outputs(second, "store")["json"]["value"]["rows_written"] == 4
    assert query(postgres_database, "SELECT id, email FROM users ORDER BY id") == [
        {"id": 1, "email": "ada@new.example"}, {"id": 2, "email": "user2@example.org"},
        {"id": 3, "email": "user3@example.org"}, {"id": 4, "email": "user4@example.org"}]
    assert api.seen == ["/users", "/users"]
