"""Both object stores behave the same; S3 goes over HTTP to a local S3 API server (moto)."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pytest

from flows.store import LocalStore, S3Store, StoreError, open_store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return open_store(tmp_path.as_uri())
    client, bucket = request.getfixturevalue("s3_bucket")
    return open_store(f"s3://{bucket}/some/prefix", request.getfixturevalue("s3_endpoint"))


def test_bytes_round_trip(store):
    assert not store.exists("a/b.json")
    store.put_bytes("a/b.json", b"{}")
    assert store.exists("a/b.json") and store.get_bytes("a/b.json") == b"{}"
    store.delete("a/b.json")
    assert not store.exists("a/b.json")


def test_missing_object_is_a_store_error(store):
    with pytest.raises(StoreError, match="not found"):
        store.get_bytes("nothing/here")


@pytest.mark.parametrize("key", ["t.arrow", "t.parquet"])  # Arrow IPC now; Parquet in stores from before
def test_table_round_trip(store, key):
    frame = pd.DataFrame({"x": [1.5, None, 3.0], "c": ["a", None, "b"]})
    store.write_table(key, pa.Table.from_pandas(frame))
    pd.testing.assert_frame_equal(store.read_table(key).to_pandas(), frame)
    reader = pd.read_feather if key.endswith(".arrow") else pd.read_parquet  # files other tools read
    pd.testing.assert_frame_equal(reader(io.BytesIO(store.get_bytes(key))), frame)


def test_s3_objects_land_under_the_prefix(s3_bucket, s3_endpoint):
    client, bucket = s3_bucket
    store = open_store(f"s3://{bucket}/pre", s3_endpoint)
    assert isinstance(store, S3Store)
    store.put_bytes("k.bin", b"x")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["pre/k.bin"] and store.uri("k.bin") == f"s3://{bucket}/pre/k.bin"


def test_local_writes_are_atomic_and_stay_inside(tmp_path):
    store = LocalStore(tmp_path)

    def broken_write(_tmp):
        raise OSError("disk full")

    with pytest.raises(OSError):
        store._atomic("x.bin", broken_write)
    assert list(tmp_path.iterdir()) == []  # no half-written file left behind
    with pytest.raises(StoreError, match="escapes"):
        store.put_bytes("../outside.bin", b"x")


def test_unsupported_urls_are_refused():
    with pytest.raises(StoreError, match="unsupported"):
        open_store("ftp://host/x")
    with pytest.raises(StoreError, match="bucket"):
        open_store("s3:///nobucket")
