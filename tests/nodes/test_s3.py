"""s3_loader and s3_writer against a real S3 API server over HTTP (moto in server mode, tests/conftest.py)."""

from __future__ import annotations

import http.server
import io
import json
import threading
import uuid

import boto3
import pandas as pd
import pytest
from pydantic import ValidationError

from flowza_core.errors import NodeError
from flowza_core.settings import get_settings
from nodes.base import NodeContext
from nodes.catalog import discover
from nodes.ports import Dataset
from tests.conftest import free_port

PLANTED = "pl4nted-S3CRET-5e1f"
FRAME = pd.DataFrame({
    "size": [1.5, None, 3.0, 4.25],
    "count": [3, 1, 4, 1],
    "colour": ["red", "blue", None, "green"],
    "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", None]),
    "ok": [True, False, True, True],
})


@pytest.fixture
def lake(s3_bucket, s3_endpoint) -> dict:
    """An s3 connection to a fresh bucket of the local server, with a secret that must be shown nowhere."""
    client, bucket = s3_bucket
    return {"client": client, "bucket": bucket, "connections": {"lake": {
        "kind": "s3", "endpoint_url": s3_endpoint, "bucket": bucket, "access_key_id": "testing",
        "secret_access_key": PLANTED}}}


@pytest.fixture
def s3(run_node, lake):
    """``s3(node_type, dataset=None, **params)``: run an S3 node through the ``lake`` connection."""

    def run(node_type: str, dataset: pd.DataFrame | None = None, **params):
        inputs = {"dataset": Dataset(dataset)} if dataset is not None else {}
        outputs = run_node(node_type, inputs, connections=lake["connections"], **{"connection": "lake", **params})
        return next(iter(outputs.values()))

    return run


def salt(lake, **params) -> str:
    defn = discover()["s3_loader"]
    ctx = NodeContext(node_id="load", connections=lake["connections"].__getitem__)
    return defn.cache_salt(defn.params_model(connection="lake", **params), ctx)


def failure(run, *args, **params) -> NodeError:
    with pytest.raises(NodeError) as caught:
        run(*args, **params)
    assert PLANTED not in caught.value.message
    return caught.value


def test_csv_round_trip(s3, lake):
    written = s3("s3_writer", FRAME, key="out/table.csv").value
    assert written == {"bucket": lake["bucket"], "key": "out/table.csv", "rows": 4, "format": "csv",
                       "bytes": written["bytes"]}
    stored = lake["client"].get_object(Bucket=lake["bucket"], Key="out/table.csv")
    assert stored["ContentLength"] == written["bytes"] and stored["ContentType"].startswith("text/csv")

    loaded = s3("s3_loader", key="out/table.csv").frame
    expected = FRAME.assign(when=FRAME["when"].dt.strftime("%Y-%m-%d"))  # CSV holds text; dates stay text
    pd.testing.assert_frame_equal(loaded, expected)


def test_parquet_round_trip_keeps_every_type(s3):
    assert s3("s3_writer", FRAME, key="out/table.parquet").value["format"] == "parquet"
    pd.testing.assert_frame_equal(s3("s3_loader", key="out/table.parquet").frame, FRAME)
    # an explicit format wins over the extension
    s3("s3_writer", FRAME, key="out/data.bin", format="parquet")
    pd.testing.assert_frame_equal(s3("s3_loader", key="out/data.bin", format="parquet").frame, FRAME)


def test_a_prefix_reads_its_objects_in_key_order_as_one_table(s3, lake):
    client, bucket = lake["client"], lake["bucket"]
    client.put_object(Bucket=bucket, Key="parts/b.csv", Body=b"colour,n\nblue,3\nred,4\n")  # columns reordered
    client.put_object(Bucket=bucket, Key="parts/a.csv", Body=b"n,colour\n1,red\n2,green\n")
    client.put_object(Bucket=bucket, Key="parts/_SUCCESS", Body=b"")  # neither CSV nor Parquet: not read
    client.put_object(Bucket=bucket, Key="partsX/c.csv", Body=b"n,colour\n9,x\n")  # not under "parts/"

    frame = s3("s3_loader", prefix="parts/").frame
    assert frame.to_dict("list") == {"n": [1, 2, 3, 4], "colour": ["red", "green", "blue", "red"]}

    client.put_object(Bucket=bucket, Key="parts/c.csv", Body=b"n,shade\n5,red\n")
    error = failure(s3, "s3_loader", prefix="parts/")
    assert error.code == "INVALID_DATA" and f"s3://{bucket}/parts/c.csv has other columns" in error.message
    assert "missing: ['colour']" in error.message and "['shade']" in error.message

    client.put_object(Bucket=bucket, Key="parts/d.parquet", Body=b"PAR1")
    assert "both CSV and Parquet" in failure(s3, "s3_loader", prefix="parts/").message
    assert "no Parquet objects" not in failure(s3, "s3_loader", prefix="parts/d", format="parquet").message
    assert failure(s3, "s3_loader", prefix="nothing/").code == "S3_NOT_FOUND"


def test_the_cache_salt_changes_only_when_an_object_does(s3, lake):
    client, bucket = lake["client"], lake["bucket"]
    client.put_object(Bucket=bucket, Key="d/one.csv", Body=b"a,b\n1,2\n")
    first = salt(lake, key="d/one.csv")
    assert salt(lake, key="d/one.csv") == first

    client.put_object(Bucket=bucket, Key="d/one.csv", Body=b"a,b\n1,3\n")
    assert salt(lake, key="d/one.csv") != first

    under = salt(lake, prefix="d/")
    assert salt(lake, prefix="d/") == under
    client.put_object(Bucket=bucket, Key="d/two.csv", Body=b"a,b\n5,6\n")  # a new part is a change too
    assert salt(lake, prefix="d/") != under


def test_an_existing_object_is_replaced_only_with_overwrite(s3, lake):
    s3("s3_writer", FRAME, key="out/t.csv")
    error = failure(s3, "s3_writer", FRAME.head(1), key="out/t.csv")
    assert error.code == "S3_OBJECT_EXISTS" and f"s3://{lake['bucket']}/out/t.csv already exists" in error.message
    assert len(s3("s3_loader", key="out/t.csv").frame) == 4

    assert s3("s3_writer", FRAME.head(1), key="out/t.csv", overwrite=True).value["rows"] == 1
    assert len(s3("s3_loader", key="out/t.csv").frame) == 1


def test_a_missing_key_or_bucket_is_named(s3, lake):
    error = failure(s3, "s3_loader", key="nope/missing.csv")
    assert error.code == "S3_NOT_FOUND" and error.field == "key"
    assert f"no object s3://{lake['bucket']}/nope/missing.csv" in error.message

    for node_type, dataset in (("s3_loader", None), ("s3_writer", FRAME)):
        error = failure(s3, node_type, dataset, bucket="no-such-bucket-here", key="a.csv")
        assert error.code == "S3_NOT_FOUND" and error.field == "bucket"
        assert "bucket 'no-such-bucket-here' does not exist" in error.message


def test_credentials_come_from_the_connection(s3_endpoint, run_node):
    """The server checks signatures (moto's IAM auth, on for this test): the connection's keys are the ones
    used, and a wrong secret ends in a message that does not show it."""
    from moto import settings
    from moto.core.responses import ActionAuthenticatorMixin

    iam = boto3.client("iam", endpoint_url=s3_endpoint)
    bucket = f"creds-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    user = f"reader-{bucket}"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.create_user(UserName=f"nobody-{bucket}")
    powerless = iam.create_access_key(UserName=f"nobody-{bucket}")["AccessKey"]

    def connection(access_key_id: str, secret: str) -> dict:
        return {"lake": {"kind": "s3", "endpoint_url": s3_endpoint, "bucket": bucket, "access_key_id": access_key_id,
                         "secret_access_key": secret}}

    def write(connections: dict):
        return run_node("s3_writer", {"dataset": Dataset(FRAME)}, connections=connections, connection="lake",
                        key="t.parquet", overwrite=True)

    settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = 0, 0
    try:
        assert write(connection(key["AccessKeyId"], key["SecretAccessKey"]))["json"].value["rows"] == 4
        for connections, says in (
                (connection(key["AccessKeyId"], PLANTED), "check the connection's secret_access_key"),
                (connection("AKIAUNKNOWN0000000000", PLANTED), "check the connection's access_key_id"),
                (connection(powerless["AccessKeyId"], powerless["SecretAccessKey"]),
                 f"access denied to s3://{bucket}/t.parquet")):
            error = failure(write, connections)
            assert error.code == "S3_ACCESS_DENIED" and says in error.message
        with pytest.raises(NodeError) as unsigned:  # the test's own environment keys are not IAM users'
            run_node("s3_writer", {"dataset": Dataset(FRAME)}, bucket=bucket, key="t.csv", endpoint_url=s3_endpoint)
        assert unsigned.value.code == "S3_ACCESS_DENIED"
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")


def test_without_a_connection_the_servers_endpoint_and_keys_are_used_in_single_user_mode_only(
        run_node, lake, s3_endpoint, monkeypatch):
    lake["client"].put_object(Bucket=lake["bucket"], Key="t.csv", Body=b"a\n1\n")
    monkeypatch.setenv("FLOWZA_S3_ENDPOINT_URL", s3_endpoint)
    get_settings.cache_clear()
    try:
        assert run_node("s3_loader", bucket=lake["bucket"], key="t.csv")["dataset"].frame["a"].tolist() == [1]
        monkeypatch.setenv("FLOWZA_AUTH_ENABLED", "true")
        get_settings.cache_clear()
        with pytest.raises(NodeError, match="name an s3 connection"):
            run_node("s3_loader", bucket=lake["bucket"], key="t.csv")
        # a user's endpoint on a multi-user server is a public host, unless private addresses are allowed
        with pytest.raises(NodeError, match="S3 endpoint 127.0.0.1 refused: it is a loopback address") as refused:
            run_node("s3_loader", connections=lake["connections"], connection="lake", key="t.csv")
        assert refused.value.field == "endpoint_url"
        monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true")
        get_settings.cache_clear()
        assert len(run_node("s3_loader", connections=lake["connections"], connection="lake", key="t.csv")["dataset"]
                   .frame) == 1
    finally:
        get_settings.cache_clear()


def test_an_endpoint_that_is_no_s3_api_is_not_read_as_data(run_node):
    class WebPage(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(200)
            self.send_header("Content-Length", "21")
            self.end_headers()

        def do_GET(self):
            self.do_HEAD()
            self.wfile.write(b"<html>internal</html>")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connections = {"web": {"kind": "s3", "endpoint_url": f"http://127.0.0.1:{server.server_address[1]}",
                               "bucket": "pages", "access_key_id": "a", "secret_access_key": PLANTED}}
        for params in ({"key": "index.csv"}, {"prefix": ""}):
            with pytest.raises(NodeError) as caught:
                run_node("s3_loader", connections=connections, connection="web", **params)
            assert "internal" not in caught.value.message and PLANTED not in caught.value.message
            assert caught.value.code.startswith("S3_")
    finally:
        server.shutdown()


def test_an_object_over_the_size_limit_is_refused(s3, lake, run_node):
    lake["client"].put_object(Bucket=lake["bucket"], Key="big.csv", Body=b"a\n" + b"1\n" * 5000)
    with pytest.raises(NodeError) as caught:
        run_node("s3_loader", connections=lake["connections"], connection="lake", key="big.csv",
                 max_dataset_mb=0.005)
    assert caught.value.code == "DATASET_TOO_LARGE" and "the limit is 0.005 MB" in caught.value.message


def test_a_table_that_cannot_be_written_leaves_no_object(s3, lake):
    mixed = pd.DataFrame({"id": [1, 2], "value": [1, "one"]})  # an object column of ints and text
    error = failure(s3, "s3_writer", mixed, key="out/mixed.parquet")
    assert error.code == "INVALID_DATA" and "column value" in error.message
    assert "Contents" not in lake["client"].list_objects_v2(Bucket=lake["bucket"])


def test_bad_content_endpoints_and_parameters_are_clear_errors(s3, lake, run_node):
    client, bucket = lake["client"], lake["bucket"]
    client.put_object(Bucket=bucket, Key="fake.parquet", Body=b"a,b\n1,2\n")
    error = failure(s3, "s3_loader", key="fake.parquet")
    assert error.code == "PARSE_ERROR" and f"s3://{bucket}/fake.parquet is not a readable Parquet file" in error.message
    client.put_object(Bucket=bucket, Key="latin.csv", Body="name\ncafé\n".encode("latin-1"))
    assert "is not utf-8 text" in failure(s3, "s3_loader", key="latin.csv").message
    assert s3("s3_loader", key="latin.csv", encoding="latin-1").frame["name"].tolist() == ["café"]

    closed = f"http://127.0.0.1:{free_port()}"
    error = failure(s3, "s3_loader", key="latin.csv", endpoint_url=closed)
    assert error.code == "S3_UNREACHABLE" and f"cannot reach the S3 endpoint {closed}" in error.message

    with pytest.raises(NodeError, match="is a postgresql connection"):
        run_node("s3_loader", connections={"db": {"kind": "postgresql", "url": "postgresql://u:p@h/d"}},
                 connection="db", key="a.csv")
    with pytest.raises(NodeError, match="read only in runs"):
        discover()["s3_loader"].run({}, discover()["s3_loader"].params_model(connection="lake", key="a.csv"),
                                    NodeContext(node_id="n"))
    for params, says in (({"key": "a.csv", "prefix": "p/"}, "exactly one of key"), ({}, "exactly one of key"),
                         ({"key": "notes.txt"}, "set format"), ({"key": "a.csv", "bucket": "Bad_Name"}, "pattern"),
                         ({"key": "a.csv", "endpoint_url": "ftp://x"}, "http:// or https://"),
                         ({"key": "a\nb.csv"}, "control characters")):
        with pytest.raises(ValidationError, match=says):
            discover()["s3_loader"].params_model(**params)
    with pytest.raises(ValidationError, match="names a folder"):
        discover()["s3_writer"].params_model(key="out/")


def test_the_writer_writes_nothing_while_previewing(lake):
    defn = discover()["s3_writer"]
    ctx = NodeContext(node_id="w", sample_rows=10, connections=lake["connections"].__getitem__)
    with pytest.raises(NodeError, match="previewing"):
        defn.run({"dataset": Dataset(FRAME)}, defn.params_model(connection="lake", key="p.csv"), ctx)


@pytest.mark.usefixtures("prefect_api_url")
def test_a_workflow_reads_cleans_and_writes_through_a_saved_connection(flowza_env, lake, s3_endpoint, caplog):
    import metadata_db as db
    from metadata_db import connections as connection_rows
    from flows.engine import execute

    client, bucket = lake["client"], lake["bucket"]
    FRAME.to_csv(buffer := io.StringIO(), index=False)
    client.put_object(Bucket=bucket, Key="in/raw.csv", Body=buffer.getvalue().encode())
    url = get_settings().metadata_db_url
    db.upgrade(url)
    with db.session_factory(url).begin() as session:
        connection_rows.create_connection(session, None, "lake", "s3", {"endpoint_url": s3_endpoint, "bucket": bucket},
                                          {"access_key_id": "testing", "secret_access_key": PLANTED})
    wf = {"name": "s3 clean", "nodes": [
        {"id": "load", "type": "s3_loader", "parameters": {"connection": "lake", "key": "in/raw.csv"}},
        {"id": "clean", "type": "drop_nulls", "parameters": {}},
        {"id": "save", "type": "s3_writer",
         "parameters": {"connection": "lake", "key": "out/clean.parquet", "overwrite": True}}],
        "connections": [{"source": "load", "target": "clean"}, {"source": "clean", "target": "save"}]}

    first = execute(wf)
    assert first["status"] == "completed", first
    body = client.get_object(Bucket=bucket, Key="out/clean.parquet")["Body"].read()
    assert pd.read_parquet(io.BytesIO(body))["count"].tolist() == [3]  # the one row without gaps

    second = execute(wf)  # the object is unchanged: read once; the writer always writes
    assert [n["cached"] for n in second["nodes"].values()] == [True, True, False]
    client.put_object(Bucket=bucket, Key="in/raw.csv", Body=b"size,count\n1,7\n2,8\n")
    third = execute(wf)
    assert [n["cached"] for n in third["nodes"].values()] == [False, False, False]
    body = client.get_object(Bucket=bucket, Key="out/clean.parquet")["Body"].read()
    assert pd.read_parquet(io.BytesIO(body))["count"].tolist() == [7, 8]

    stored = "".join(p.read_text(errors="replace") for p in flowza_env["home"].rglob("*.json"))
    assert PLANTED not in json.dumps([first, second, third]) + stored + caplog.text
