"""Uploads live in the object store: in S3 (moto in server mode) any machine reads them, each through its own
cache checked against the object; a local store is read in place; older uploads in FLOWZA_HOME/datasets move in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.store import open_store
from flows.uploads import UploadFiles, upload_key
from nodes.base import NodeContext
from nodes.catalog import discover

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "examples" / "data" / "titanic.csv"


@pytest.fixture
def s3_client(flowza_env, s3_bucket, s3_endpoint, monkeypatch, request):
    """The API with its object store in an S3 bucket under ``flowza/``; yields (API client, S3 client, bucket)."""
    s3, bucket = s3_bucket
    monkeypatch.setenv("FLOWZA_OBJECT_STORE_URL", f"s3://{bucket}/flowza")
    monkeypatch.setenv("FLOWZA_S3_ENDPOINT_URL", s3_endpoint)
    return request.getfixturevalue("client"), s3, bucket  # the fixture clears the settings cache


def upload(client, content: bytes, filename: str = "titanic.csv"):
    return client.post("/api/upload", files={"file": (filename, content, "text/csv")})


def objects(s3, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def load(dataset_id: str, uploads: UploadFiles):
    """What a csv_loader on the machine of ``uploads`` reads for the dataset."""
    defn = discover()["csv_loader"]
    return defn.run({}, defn.params_model(dataset_id=dataset_id), NodeContext(node_id="load", uploads=uploads))


def test_an_upload_is_one_s3_object_that_another_machine_reads_until_it_is_deleted(s3_client, s3_endpoint,
                                                                                   flowza_env, tmp_path):
    client, s3, bucket = s3_client
    created = upload(client, TITANIC.read_bytes())
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    assert objects(s3, bucket) == [f"flowza/uploads/{dataset_id}.csv"]
    assert s3.get_object(Bucket=bucket, Key=f"flowza/uploads/{dataset_id}.csv")["Body"].read() == TITANIC.read_bytes()
    assert not (flowza_env["home"] / "datasets").exists()
    # The API kept the checked file as its cached copy: nothing half-received is left beside it.
    assert [p.name.split("~")[0] for p in (flowza_env["home"] / "cache" / "uploads").iterdir()] == [dataset_id]
    assert client.get(f"/api/datasets/{dataset_id}/download").content == TITANIC.read_bytes()
    assert client.get(f"/api/datasets/{dataset_id}/preview", params={"limit": 3}).json()["total_rows"] == 891

    # A worker on another machine: same bucket, its own FLOWZA_HOME.
    elsewhere = UploadFiles(open_store(f"s3://{bucket}/flowza", s3_endpoint), tmp_path / "other-home")
    first = elsewhere(dataset_id)
    assert first.is_relative_to(tmp_path / "other-home" / "cache" / "uploads")
    assert first.read_bytes() == TITANIC.read_bytes()
    fetched_at = first.stat().st_mtime_ns
    assert len(load(dataset_id, elsewhere)["dataset"].frame) == 891
    assert elsewhere(dataset_id) == first and first.stat().st_mtime_ns == fetched_at  # reused, not fetched again

    first.write_bytes(TITANIC.read_bytes()[:100])  # a copy cut off (a crash, a full disk): fetched anew
    assert elsewhere(dataset_id).read_bytes() == TITANIC.read_bytes()

    assert client.delete(f"/api/datasets/{dataset_id}").status_code == 204
    assert objects(s3, bucket) == []
    assert elsewhere(dataset_id) is None and not first.exists()  # no copy outlives the upload
    with pytest.raises(Exception) as failed:
        load(dataset_id, elsewhere)
    assert getattr(failed.value, "code", None) == "FILE_NOT_FOUND"


def test_runs_reading_an_upload_at_once_on_one_machine_each_read_it_whole(s3_client, s3_endpoint, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    client, _, bucket = s3_client
    dataset_id = upload(client, TITANIC.read_bytes()).json()["id"]
    elsewhere = UploadFiles(open_store(f"s3://{bucket}/flowza", s3_endpoint), tmp_path / "other-home")
    with ThreadPoolExecutor(8) as pool:
        read = list(pool.map(lambda _: elsewhere(dataset_id).read_bytes(), range(16)))
    assert read == [TITANIC.read_bytes()] * 16
    assert len(list((tmp_path / "other-home" / "cache" / "uploads").iterdir())) == 1  # no temp files left


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b""], ids=["binary", "empty"])
def test_a_refused_upload_leaves_nothing_in_the_store(s3_client, flowza_env, content):
    client, s3, bucket = s3_client
    answer = upload(client, content)
    assert 400 <= answer.status_code < 500, answer.text
    assert objects(s3, bucket) == []
    cache = flowza_env["home"] / "cache" / "uploads"
    assert not cache.exists() or list(cache.iterdir()) == []
    assert client.get("/api/datasets/").json() == []


def test_a_local_store_is_read_in_place(client, flowza_env):
    created = upload(client, TITANIC.read_bytes())
    dataset_id = created.json()["id"]
    store = open_store((flowza_env["home"] / "store").as_uri())
    path = UploadFiles(store, flowza_env["home"])(dataset_id)
    assert path == flowza_env["home"] / "store" / upload_key(dataset_id)  # no copy
    assert not (flowza_env["home"] / "cache").exists()


@pytest.mark.parametrize("where", ["local", "s3"])
def test_an_upload_of_an_older_version_moves_into_the_store_on_first_use(flowza_env, where, request):
    home = flowza_env["home"]
    if where == "s3":
        s3, bucket = request.getfixturevalue("s3_bucket")
        store = open_store(f"s3://{bucket}/p", request.getfixturevalue("s3_endpoint"))
    else:
        store = open_store((home / "store").as_uri())
    legacy = home / "datasets" / "old-upload.csv"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"a,b\n1,2\n")
    uploads = UploadFiles(store, home)
    assert uploads("old-upload").read_bytes() == b"a,b\n1,2\n"
    assert not legacy.exists() and store.get_bytes(upload_key("old-upload")) == b"a,b\n1,2\n"
    assert [name for name in os.listdir(legacy.parent)] == []
    assert uploads("never-uploaded") is None
