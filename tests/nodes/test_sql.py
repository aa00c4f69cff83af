"""PostgreSQL nodes against this machine's PostgreSQL: values bound, names quoted, limits kept, writes atomic."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from flowza_core.errors import FlowzaError, InvalidData, InvalidParameter, MissingColumn, NodeError
from nodes.base import NodeContext
from nodes.catalog import discover
from nodes.ports import Dataset, Json

INJECTION = "'; DROP TABLE keep; --"


@pytest.fixture
def db(postgres_database):
    """The test database, holding a table ``keep`` that no test may lose."""
    engine = sa.create_engine(postgres_database, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE keep (id int PRIMARY KEY, note text)"))
        conn.execute(sa.text("INSERT INTO keep VALUES (1, 'still here')"))
    yield engine
    engine.dispose()


def connections_to(url: str):
    def lookup(name: str) -> dict:
        if name != "pg":
            raise NodeError(f"no connection named '{name}'", code="CONNECTION_NOT_FOUND")
        return {"kind": "postgresql", "url": url}

    return lookup


def run(node_type: str, url, inputs: dict | None = None, *, sample_rows=None, **params):
    """Run a node through its NodeDef as the engine does; returns (outputs, warnings)."""
    defn = discover()[node_type]
    ctx = NodeContext(node_id=f"{node_type}-1", connections=connections_to(str(url)), sample_rows=sample_rows)
    return defn.run(inputs or {}, defn.params_model(connection="pg", **params), ctx), ctx.warnings


def query(db, sql: str, **params) -> pd.DataFrame:
    return run("sql_query", db.url.render_as_string(hide_password=False), query=sql, **params)[0]["dataset"].frame


def write(db, frame: pd.DataFrame, **params) -> dict:
    outputs, _ = run("db_write", db.url.render_as_string(hide_password=False), {"dataset": Dataset(frame)}, **params)
    assert isinstance(outputs["json"], Json)
    return outputs["json"].value


def read(db, sql: str) -> list[tuple]:
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def tables(db) -> set[str]:
    return set(sa.inspect(db).get_table_names())


# --- sql_query -----------------------------------------------------------------------------------------------------

def test_query_binds_its_parameters(db):
    with db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE people (name text, age int, city text)"))
        conn.execute(sa.text("INSERT INTO people VALUES ('Ada', 36, 'London'), ('José', 41, 'Lisboa'), "
                             "('Zoë', 29, 'Zürich'), ('Ann', 50, 'Lisboa')"))

    frame = query(db, "SELECT name, age FROM people WHERE city = :city AND age > :min_age ORDER BY age",
                  parameters={"city": "Lisboa", "min_age": 40})
    assert frame.to_dict("list") == {"name": ["José", "Ann"], "age": [41, 50]}
    # a literal % stays a literal; lists bind as arrays; :: casts are not placeholders
    frame = query(db, "SELECT name FROM people WHERE name LIKE 'A%' AND name = ANY(:names) AND age::int > :n",
                  parameters={"names": ["Ann", "Zoë"], "n": 1})
    assert frame["name"].tolist() == ["Ann"]


def test_an_injection_string_as_a_parameter_is_only_a_value(db):
    with db.begin() as conn:
        conn.execute(sa.text("INSERT INTO keep VALUES (2, :note)"), {"note": INJECTION})

    frame = query(db, "SELECT id, note FROM keep WHERE note = :note", parameters={"note": INJECTION})

    assert frame.to_dict("records") == [{"id": 2, "note": INJECTION}]
    assert read(db, "SELECT count(*) FROM keep") == [(2,)]


def test_a_placeholder_without_a_value_is_named(db):
    with pytest.raises(InvalidParameter, match=":city") as err:
        query(db, "SELECT * FROM keep WHERE note = :city", parameters={"other": 1})
    assert err.value.field == "parameters"
    assert query(db, "SELECT 'at \\:noon' AS t")["t"].tolist() == ["at :noon"]  # an escaped colon is text


def test_row_limit_cuts_and_warns(db):
    frame, warnings = run("sql_query", db.url, query="SELECT n FROM generate_series(1, 50) AS n", row_limit=10)
    assert frame["dataset"].frame["n"].tolist() == list(range(1, 11))
    assert [w["code"] for w in warnings] == ["ROW_LIMIT_REACHED"]
    assert "more than 10 rows" in warnings[0]["message"]

    _, warnings = run("sql_query", db.url, query="SELECT n FROM generate_series(1, 10) AS n", row_limit=10)
    assert warnings == []


def test_a_slow_query_is_stopped_by_the_server(db):
    started = time.monotonic()
    with pytest.raises(NodeError, match="longer than timeout_s") as err:
        query(db, "SELECT pg_sleep(5)", timeout_s=1)
    assert err.value.code == "QUERY_TIMEOUT"
    assert time.monotonic() - started < 4


def test_a_writing_statement_is_refused_before_it_reaches_the_server(db):
    with pytest.raises(ValidationError, match="only reads"):
        query(db, "INSERT INTO keep VALUES (3, 'x')")
    with pytest.raises(ValidationError, match="only reads"):
        query(db, "/* hi */ DELETE FROM keep")


@pytest.mark.parametrize("sql", [
    "SELECT 1; DROP TABLE keep",
    "SELECT write_keep()",
    "WITH gone AS (DELETE FROM keep RETURNING *) SELECT * FROM gone",
])
def test_the_transaction_is_read_only(db, sql):
    with db.begin() as conn:
        conn.execute(sa.text("CREATE FUNCTION write_keep() RETURNS int LANGUAGE sql AS "
                             "$$ INSERT INTO keep VALUES (9, 'written') RETURNING id $$"))

    with pytest.raises(NodeError) as err:
        query(db, sql)

    assert err.value.code == "DATABASE_ERROR"
    assert read(db, "SELECT id, note FROM keep") == [(1, "still here")]


def test_read_only_refusal_says_where_to_write(db):
    with pytest.raises(NodeError, match="read-only transaction.*db_write"):
        query(db, "SELECT 1; DROP TABLE keep")


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT FROM FROM", "syntax error"),
    ("SELECT * FROM nowhere", 'relation "nowhere" does not exist'),
    ("SELECT missing FROM keep", 'column "missing" does not exist'),
])
def test_database_errors_are_the_servers_words_without_the_sql_noise(db, sql, message):
    with pytest.raises(NodeError, match=message) as err:
        query(db, sql)
    assert "[SQL:" not in err.value.message and "DECLARE" not in err.value.message


def test_database_types_become_table_types(db):
    frame = query(db, "SELECT 1.5::numeric AS price, DATE '2024-02-29' AS day, '{\"a\": 1}'::jsonb AS doc, "
                      "NULL::int AS nothing, 7::bigint AS n, true AS yes, 'é' AS word")
    assert frame["price"].dtype == float and frame["price"][0] == 1.5
    assert pd.api.types.is_datetime64_any_dtype(frame["day"])
    assert frame["doc"][0] == '{"a": 1}'
    assert frame["nothing"].isna().all()
    assert frame.loc[0, ["n", "yes", "word"]].tolist() == [7, True, "é"]


def test_two_columns_of_one_name_are_refused(db):
    with pytest.raises(InvalidData, match="'a'"):
        query(db, "SELECT 1 AS a, 2 AS a")


def test_a_connection_of_another_kind_is_refused():
    defn = discover()["sql_query"]
    ctx = NodeContext(node_id="q", connections=lambda name: {"kind": "s3", "bucket": "b"})
    with pytest.raises(InvalidParameter, match="'postgresql'"):
        defn.run({}, defn.params_model(connection="pg", query="SELECT 1"), ctx)


def test_an_unreachable_server_is_named_without_the_password():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    url = f"postgresql://alice:s3cr3t-pw@127.0.0.1:{port}/shop"

    with pytest.raises(NodeError) as err:
        run("sql_query", url, query="SELECT 1")

    assert err.value.code == "DATABASE_UNREACHABLE"
    assert "s3cr3t-pw" not in str(err.value) and "s3cr3t-pw" not in repr(err.value.__cause__)
    assert f"postgresql://alice:***@127.0.0.1:{port}/shop" in err.value.message


def refusing_server() -> tuple[int, list[bytes]]:
    """A PostgreSQL wire-protocol server that asks for a password and refuses it, as one with password auth does.

    (This machine's PostgreSQL trusts local connections, so it never refuses a password.)
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    received: list[bytes] = []

    def read_exact(conn, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client left")
            data += chunk
        return data

    def serve():
        conn, _ = listener.accept()
        with conn, listener:
            while True:  # SSL and GSS encryption requests are answered "no" until the startup message comes
                body = read_exact(conn, struct.unpack("!I", read_exact(conn, 4))[0] - 4)
                if struct.unpack("!I", body[:4])[0] not in (80877103, 80877104):
                    break
                conn.sendall(b"N")
            conn.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            assert read_exact(conn, 1) == b"p"
            received.append(read_exact(conn, struct.unpack("!I", read_exact(conn, 4))[0] - 4))
            fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "alice"\0\0'
            conn.sendall(b"E" + struct.pack("!I", len(fields) + 4) + fields)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], received


def test_a_refused_password_is_reported_without_it():
    port, received = refusing_server()

    with pytest.raises(NodeError, match="password authentication failed") as err:
        run("sql_query", f"postgresql://alice:wrong-pw-123@127.0.0.1:{port}/shop?sslmode=disable", query="SELECT 1")

    assert received == [b"wrong-pw-123\0"]  # the server did get the password it refused
    assert err.value.code == "DATABASE_UNREACHABLE"
    assert "wrong-pw-123" not in str(err.value) and "alice:***@" in err.value.message


def test_a_url_that_does_not_parse_is_not_repeated():
    with pytest.raises(InvalidParameter, match="no usable database URL") as err:
        run("sql_query", "not a url with s3cr3t inside", query="SELECT 1")
    assert "s3cr3t" not in str(err.value)


# --- db_write ------------------------------------------------------------------------------------------------------

MIXED = pd.DataFrame({
    "id": [1, 2, 3],
    "score": [0.5, np.nan, 2.25],
    "ok": [True, False, True],
    "seen": pd.to_datetime(["2024-01-01 10:00", None, "2024-03-01 00:00"]),
    "name": ["Ada", None, INJECTION],
})


def test_create_maps_types_and_writes_nan_as_null(db):
    result = write(db, MIXED, table="scores")

    assert result == {"table": "scores", "schema": None, "mode": "create", "rows_written": 3}
    types = dict(read(db, "SELECT column_name, data_type FROM information_schema.columns "
                          "WHERE table_name = 'scores'"))
    assert types == {"id": "bigint", "score": "double precision", "ok": "boolean",
                     "seen": "timestamp without time zone", "name": "text"}
    assert read(db, "SELECT id, score, ok, name FROM scores ORDER BY id") == [
        (1, 0.5, True, "Ada"), (2, None, False, None), (3, 2.25, True, INJECTION)]
    assert read(db, "SELECT count(*) FROM scores WHERE seen IS NULL") == [(1,)]
    assert read(db, "SELECT note FROM keep") == [("still here",)]  # the injection cell is only a value


def test_create_refuses_an_existing_table_and_leaves_it(db):
    with pytest.raises(NodeError, match="already exists") as err:
        write(db, MIXED, table="keep")
    assert err.value.code == "TABLE_EXISTS"
    assert read(db, "SELECT * FROM keep") == [(1, "still here")]


def test_create_with_keys_makes_them_the_primary_key(db):
    write(db, MIXED, table="scores", key_columns=["id"])
    assert sa.inspect(db).get_pk_constraint("scores")["constrained_columns"] == ["id"]


def test_append_adds_rows_to_an_existing_table(db):
    result = write(db, pd.DataFrame({"id": [2, 3], "note": ["two", None]}), table="keep", mode="append")

    assert result["rows_written"] == 2
    assert read(db, "SELECT id, note FROM keep ORDER BY id") == [(1, "still here"), (2, "two"), (3, None)]


def test_append_needs_the_table_and_its_columns(db):
    with pytest.raises(NodeError, match="does not exist"):
        write(db, MIXED, table="nowhere", mode="append")
    with pytest.raises(MissingColumn, match="score"):
        write(db, MIXED[["id", "score"]], table="keep", mode="append")
    assert "nowhere" not in tables(db)


def test_replace_writes_the_table_anew(db):
    result = write(db, pd.DataFrame({"code": ["a", "b"]}), table="keep", mode="replace")

    assert result["rows_written"] == 2
    assert read(db, "SELECT * FROM keep") == [("a",), ("b",)]


def test_replace_of_a_missing_table_creates_it(db):
    write(db, MIXED, table="fresh", mode="replace")
    assert read(db, "SELECT count(*) FROM fresh") == [(3,)]


def test_upsert_updates_equal_keys_and_inserts_the_rest(db):
    frame = pd.DataFrame({"id": [1, 5], "note": ["updated", "new"]})

    result = write(db, frame, table="keep", mode="upsert", key_columns=["id"])

    assert result == {"table": "keep", "schema": None, "mode": "upsert", "rows_written": 2}
    assert read(db, "SELECT id, note FROM keep ORDER BY id") == [(1, "updated"), (5, "new")]


def test_upsert_creates_a_missing_table_keyed_on_the_key_columns(db):
    write(db, MIXED, table="scores", mode="upsert", key_columns=["id"])
    write(db, MIXED.assign(name="again"), table="scores", mode="upsert", key_columns=["id"])

    assert read(db, "SELECT id, name FROM scores ORDER BY id") == [(1, "again"), (2, "again"), (3, "again")]


def test_upsert_needs_a_unique_key_on_the_key_columns(db):
    with db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE loose (id int, note text)"))
        conn.execute(sa.text("INSERT INTO loose VALUES (1, 'old')"))

    with pytest.raises(NodeError, match="primary key or unique index"):
        write(db, pd.DataFrame({"id": [1], "note": ["new"]}), table="loose", mode="upsert", key_columns=["id"])
    assert read(db, "SELECT * FROM loose") == [(1, "old")]


def test_upsert_refuses_repeated_keys_in_the_table_written(db):
    with pytest.raises(InvalidData, match="drop the duplicates"):
        write(db, pd.DataFrame({"id": [7, 7], "note": ["a", "b"]}), table="keep", mode="upsert", key_columns=["id"])


def test_mode_and_keys_are_checked_with_the_parameters():
    model = discover()["db_write"].params_model
    with pytest.raises(ValidationError, match="needs key_columns"):
        model(connection="pg", table="t", mode="upsert")
    with pytest.raises(ValidationError, match="does not use key_columns"):
        model(connection="pg", table="t", mode="append", key_columns=["id"])


def many_rows(bad_row: int | None, bad_value) -> pd.DataFrame:
    """25,000 rows (three batches); ``bad_row`` in the second batch holds ``bad_value``."""
    frame = pd.DataFrame({"id": np.arange(25_000, dtype=np.uint64), "note": "fine"})
    if bad_row is not None:
        frame = frame.astype({"id": object, "note": object})
        frame.loc[bad_row, "note" if bad_value is None else "id"] = bad_value
    return frame


def test_a_failure_mid_append_leaves_the_table_unchanged(db):
    with db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE strict (id bigint, note text NOT NULL)"))
        conn.execute(sa.text("INSERT INTO strict VALUES (-1, 'before')"))

    with pytest.raises(NodeError, match="null value") as err:
        write(db, many_rows(15_000, None), table="strict", mode="append")

    assert err.value.code == "DATABASE_ERROR"
    assert read(db, "SELECT * FROM strict") == [(-1, "before")]


def test_a_failure_mid_replace_brings_the_old_table_back(db):
    frame = many_rows(15_000, 2**64 - 1).astype({"id": "uint64"})  # past BIGINT

    with pytest.raises(NodeError, match="out of range"):
        write(db, frame, table="keep", mode="replace")

    assert read(db, "SELECT * FROM keep") == [(1, "still here")]


def test_many_rows_are_written_in_batches(db):
    assert write(db, many_rows(None, None), table="big")["rows_written"] == 25_000
    assert read(db, "SELECT count(*), max(id) FROM big") == [(25_000, 24_999)]


@pytest.mark.parametrize("name", [INJECTION, 'x"; DROP TABLE keep; --', "with space", "semi;colon", 'Quo"te',
                                  "Ünïcode"])
def test_hostile_table_names_are_quoted_as_names(db, name):
    write(db, pd.DataFrame({"a": [1]}), table=name)

    assert tables(db) == {"keep", name}
    table = sa.Table(name, sa.MetaData(), autoload_with=db)
    with db.connect() as conn:
        assert conn.execute(sa.select(table)).all() == [(1,)]


def test_hostile_column_names_are_quoted_as_names(db):
    columns = [INJECTION, 'x") VALUES (1); DROP TABLE keep; --', "a b", "per%cent", ":colon", "(paren)", "Case"]
    frame = pd.DataFrame([list(range(len(columns)))], columns=columns)

    write(db, frame, table="odd")
    write(db, frame, table="odd", mode="append")

    assert tables(db) == {"keep", "odd"}
    assert [c["name"] for c in sa.inspect(db).get_columns("odd")] == columns
    assert read(db, "SELECT * FROM odd") == [tuple(range(len(columns)))] * 2


def test_a_hostile_schema_is_a_name_that_does_not_exist(db):
    with pytest.raises(NodeError, match="does not exist"):
        write(db, MIXED, table="t", schema=INJECTION)
    assert tables(db) == {"keep"}


@pytest.mark.parametrize("name", ["", "x" * 64, "é" * 32, "line\nbreak", "nul\0", " padded"])
def test_unusable_table_names_are_refused(name):
    with pytest.raises(ValidationError, match="not a usable PostgreSQL name"):
        discover()["db_write"].params_model(connection="pg", table=name)


def test_unusable_column_names_are_refused_before_connecting(db):
    with pytest.raises(InvalidData, match="longer than"):
        write(db, pd.DataFrame({"c" * 64: [1]}), table="t")
    with pytest.raises(InvalidData, match="same name"):
        write(db, pd.DataFrame([[1, 2]], columns=["a", "a"]), table="t")
    assert tables(db) == {"keep"}


def test_a_nul_character_in_a_cell_is_refused_and_nothing_written(db):
    with pytest.raises(InvalidData, match="NUL character"):
        write(db, pd.DataFrame({"id": [2, 3], "note": ["fine", "bad\0"]}), table="keep", mode="append")
    assert read(db, "SELECT * FROM keep") == [(1, "still here")]


def test_nothing_is_written_from_a_preview_sample(db):
    with pytest.raises(FlowzaError, match="preview"):
        run("db_write", db.url, {"dataset": Dataset(MIXED)}, sample_rows=50, table="t")
    assert tables(db) == {"keep"}


# --- in a real run -------------------------------------------------------------------------------------------------

def test_query_clean_and_write_in_a_workflow_run(db, flowza_env, prefect_api_url):
    """sql_query -> drop_nulls -> db_write through the engine, the URL read from a saved connection; both
    database nodes run again on a second run (a database changes unseen; a write must happen) and the
    URL's password is in nothing the run leaves behind."""
    import metadata_db as metadata
    from metadata_db import connections as connection_rows
    from flowza_core.settings import get_settings
    from flows.engine import execute

    planted = "pl4nted-pg-PASSWORD"  # this machine's PostgreSQL trusts local logins, so any password connects
    url = db.url.set(password=planted).render_as_string(hide_password=False)
    metadata_url = get_settings().metadata_db_url
    metadata.upgrade(metadata_url)
    with metadata.session_factory(metadata_url).begin() as session:
        connection_rows.create_connection(session, None, "warehouse", "postgresql", {}, {"url": url})
    with db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE orders (id int, amount float, customer text)"))
        conn.execute(sa.text("INSERT INTO orders VALUES (1, 9.5, 'ann'), (2, NULL, 'bob'), (3, 20, :bad), "
                             "(4, 1, 'cy')"), {"bad": INJECTION})
    workflow = {
        "name": "orders to report", "nodes": [
            {"id": "read", "type": "sql_query", "parameters": {
                "connection": "warehouse", "query": "SELECT id, amount, customer FROM orders WHERE id > :after",
                "parameters": {"after": 1}}},
            {"id": "clean", "type": "drop_nulls", "parameters": {}},
            {"id": "save", "type": "db_write", "parameters": {"connection": "warehouse", "table": "report",
                                                              "mode": "append"}}],
        "connections": [{"source": "read", "target": "clean"}, {"source": "clean", "target": "save"}]}
    with db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE report (id bigint, amount double precision, customer text)"))

    first = execute(workflow)
    second = execute(workflow)

    assert first["status"] == second["status"] == "completed", first
    assert not any(node["cached"] for node in second["nodes"].values() if node["type"] != "drop_nulls")
    assert read(db, "SELECT id, amount, customer FROM report ORDER BY id") == [
        (3, 20.0, INJECTION), (3, 20.0, INJECTION), (4, 1.0, "cy"), (4, 1.0, "cy")]
    assert tables(db) == {"keep", "orders", "report"}
    stored = "\n".join(p.read_bytes().decode("utf-8", "replace")
                       for p in (flowza_env["home"] / "store").rglob("*") if p.is_file())
    assert planted not in json.dumps([first, second]) + stored
