"""Uploaded datasets: streamed and checked uploads, list/preview/download/delete, use in a run, per-user isolation."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import unquote

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.errors import STATUS_BY_CODE

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "examples" / "data" / "titanic.csv"
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def upload(client, content: bytes = TITANIC.read_bytes(), filename: str = "titanic.csv", **form):
    return client.post("/api/upload", files={"file": (filename, content, "text/csv")}, data=form)


def stored_files(flowza_env) -> list[str]:
    """Every file of uploads in the (local) object store, temp files included, and none left elsewhere."""
    assert not (flowza_env["home"] / "datasets").exists()  # where uploads lived before the object store
    folder = flowza_env["home"] / "store" / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def assert_nothing_kept(client, flowza_env) -> None:
    assert stored_files(flowza_env) == []
    assert client.get("/api/datasets/").json() == []


@pytest.fixture
def small_limit_client(monkeypatch, request):
    """The API with a 10 KB upload limit (titanic.csv is ~29 KB)."""
    monkeypatch.setenv("FLOWZA_MAX_UPLOAD_MB", "0.01")
    return request.getfixturevalue("client")  # clears the settings cache after the variable is set


def test_upload_list_preview_download_delete(client, flowza_env):
    created = upload(client, name="Titanic passengers")
    assert created.status_code == 201, created.text
    body = created.json()
    expected = pd.read_csv(TITANIC)
    assert body["name"] == "Titanic passengers" and body["filename"] == "titanic.csv"
    assert body["rows"] == len(expected) and body["size_bytes"] == TITANIC.stat().st_size
    assert body["columns"] == [{"name": c, "dtype": str(t)} for c, t in expected.dtypes.items()]
    assert body["loader"] == {"type": "csv_loader", "parameters": {"dataset_id": body["id"]}}
    assert body["created_at"]
    assert stored_files(flowza_env) == [f"{body['id']}.csv"]  # where the csv_loader reads dataset_id from

    assert [d["id"] for d in client.get("/api/datasets/").json()] == [body["id"]]
    assert body.pop("warnings") == []  # only the upload answer has them: they depend on the reading options
    assert client.get(f"/api/datasets/{body['id']}").json() == body

    page = client.get(f"/api/datasets/{body['id']}/preview", params={"offset": 5, "limit": 3}).json()
    assert page["total_rows"] == len(expected) and page["offset"] == 5 and len(page["rows"]) == 3
    assert [r["fare"] for r in page["rows"]] == expected["fare"].iloc[5:8].tolist()
    assert page["rows"][0].keys() == set(expected.columns)
    stats = {c["name"]: c for c in page["columns"]}
    assert stats["age"]["null_count"] == expected["age"].isna().sum() > 0
    assert stats["age"]["min"] == expected["age"].min() and stats["age"]["max"] == expected["age"].max()
    assert stats["fare"]["mean"] == pytest.approx(expected["fare"].mean())
    assert stats["sex"]["unique_count"] == 2 and stats["sex"]["min"] is None
    tail = client.get(f"/api/datasets/{body['id']}/preview", params={"offset": len(expected) - 1}).json()
    assert len(tail["rows"]) == 1
    assert client.get(f"/api/datasets/{body['id']}/preview", params={"offset": 10**6}).json()["rows"] == []

    downloaded = client.get(f"/api/datasets/{body['id']}/download")
    assert downloaded.status_code == 200
    assert downloaded.content == TITANIC.read_bytes()
    assert 'filename="titanic.csv"' in downloaded.headers["content-disposition"]

    assert client.delete(f"/api/datasets/{body['id']}").status_code == 204
    for path in ("", "/preview", "/download"):
        gone = client.get(f"/api/datasets/{body['id']}{path}")
        assert gone.status_code == 404 and gone.json()["code"] == "NOT_FOUND"
    assert client.delete(f"/api/datasets/{body['id']}").status_code == 404
    assert_nothing_kept(client, flowza_env)


def test_list_is_paged_newest_first(client):
    first = upload(client, name="first").json()
    second = upload(client, b"x,y\n1,2\n", "small.csv").json()
    assert second["name"] == "small" and second["rows"] == 1
    assert [d["id"] for d in client.get("/api/datasets/").json()] == [second["id"], first["id"]]
    assert [d["id"] for d in client.get("/api/datasets/", params={"limit": 1, "offset": 1}).json()] == [first["id"]]
    assert client.get("/api/datasets/", params={"limit": 0}).status_code == 422


def test_oversized_upload_is_413_and_leaves_nothing(small_limit_client, flowza_env):
    response = upload(small_limit_client)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE" and "0.01 MB" in response.json()["message"]
    assert_nothing_kept(small_limit_client, flowza_env)
    # Far over the limit: refused from its Content-Length alone.
    huge = upload(small_limit_client, b"a,b\n" + b"1,2\n" * 400_000)
    assert huge.status_code == 413 and huge.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert_nothing_kept(small_limit_client, flowza_env)
    assert upload(small_limit_client, b"a,b\n1,2\n").status_code == 201  # under the limit is fine


def test_oversized_upload_is_refused_without_reading_the_whole_body(small_limit_client, flowza_env):
    """A chunked body (no Content-Length) of 100 × 64 KB: the server stops reading right after the limit."""
    boundary, sent = "flowzaboundary", []

    async def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
               f"Content-Type: text/csv\r\n\r\na,b\n").encode()
        for _ in range(100):
            sent.append(1)
            yield b"1,2\n" * 16384
        yield f"\r\n--{boundary}--\r\n".encode()

    async def post():
        transport = httpx.ASGITransport(app=small_limit_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.post("/api/upload", content=body(),
                                   headers={"content-type": f"multipart/form-data; boundary={boundary}"})

    response = asyncio.run(post())
    assert response.status_code == 413, response.text
    assert len(sent) <= 2
    assert_nothing_kept(small_limit_client, flowza_env)


@pytest.mark.parametrize("filename", ["adult.data", "adult.test", "table.tsv", "notes.txt", "no_suffix"])
def test_delimited_text_uploads_are_accepted_whatever_their_suffix(client, filename):
    response = upload(client, b"a,b\n1,2\n3,4\n", filename)
    assert response.status_code == 201, response.text
    assert response.json()["rows"] == 2


@pytest.mark.parametrize(("filename", "content", "code"), [
    ("picture.png", PNG, "UNSUPPORTED_MEDIA_TYPE"),
    ("setup.exe", EXE, "UNSUPPORTED_MEDIA_TYPE"),
    ("disguised.csv", PNG, "UNSUPPORTED_MEDIA_TYPE"),
    ("disguised.csv", EXE, "UNSUPPORTED_MEDIA_TYPE"),
    ("latin1.csv", "name,city\nJosé,Málaga\n".encode("latin-1"), "UNSUPPORTED_MEDIA_TYPE"),
    ("empty.csv", b"", "EMPTY_DATA"),
    ("header.csv", b"a,b,c\n", "EMPTY_DATA"),
    ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "PARSE_ERROR"),
], ids=["png", "exe", "png-as-csv", "exe-as-csv", "latin1", "empty", "header-only", "ragged"])
def test_non_csv_uploads_are_refused_and_leave_nothing(client, flowza_env, filename, content, code):
    response = upload(client, content, filename)
    assert 400 <= response.status_code < 500 and response.status_code == STATUS_BY_CODE.get(code, 400)
    assert response.json()["code"] == code and response.json()["message"]
    assert response.json()["details"]["field"] == "file"
    assert_nothing_kept(client, flowza_env)


def test_requests_without_a_csv_part_are_4xx(client, flowza_env):
    not_multipart = client.post("/api/upload", json={"file": "a,b\n1,2\n"})
    assert not_multipart.status_code == 415 and not_multipart.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    no_file = client.post("/api/upload", data={"name": "x"}, files={"other": ("a.txt", b"a,b\n1,2\n")})
    assert no_file.status_code == 422 and "file" in no_file.json()["message"]
    just_fields = client.post("/api/upload", data={"name": "x"}, files=[])
    assert just_fields.status_code == 415  # a url-encoded form, not multipart
    long_name = upload(client, b"a,b\n1,2\n", name="n" * 301)
    assert long_name.status_code == 422 and "name" in long_name.json()["message"]
    assert_nothing_kept(client, flowza_env)


@pytest.mark.parametrize("filename", ["../../../evil.csv", "..\\..\\evil.csv", "/etc/cron.d/evil.csv",
                                      "x" * 1000 + ".csv", "données_中文_\u202egpj.csv", ".."],
                         ids=["dotdot", "backslashes", "absolute", "long", "non-ascii-rtl", "only-dots"])
def test_hostile_filenames_are_only_metadata(client, flowza_env, tmp_path, filename):
    created = upload(client, b"a,b\n1,2\n", filename)
    assert created.status_code == 201, created.text
    body = created.json()
    assert stored_files(flowza_env) == [f"{body['id']}.csv"]
    assert not list(tmp_path.rglob("evil.csv"))
    stored = body["filename"]
    assert "/" not in stored and "\\" not in stored and ".." not in stored and "\u202e" not in stored
    assert 0 < len(stored) <= 200
    if filename.startswith("x"):
        assert stored.endswith(".csv")
    if filename.startswith("données"):
        assert stored == "données_中文_gpj.csv"
    downloaded = client.get(f"/api/datasets/{body['id']}/download")
    assert downloaded.content == b"a,b\n1,2\n"
    disposition = downloaded.headers["content-disposition"]
    assert stored in (unquote(disposition.split("''", 1)[-1]) if "filename*" in disposition else disposition)


def test_a_file_name_longer_than_multipart_headers_allow_is_refused(client, flowza_env):
    response = upload(client, b"a,b\n1,2\n", "x" * 5000 + ".csv")
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
    assert_nothing_kept(client, flowza_env)


def wait_for(client, workflow_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while (body := client.get(f"/api/workflows/{workflow_id}/status").json())["status"] not in (
            "completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"run still {body['status']} after {timeout} s"
        time.sleep(0.2)
    return body


@pytest.mark.usefixtures("flowza_worker")
def test_uploaded_dataset_feeds_a_workflow_run(client):
    dataset = upload(client, filename="passengers from the web.csv").json()
    workflow = {k: CLASSIFICATION[k] for k in ("name", "nodes", "connections")}
    workflow["nodes"] = [dict(node, **dataset["loader"]) if node["id"] == "load" else node
                         for node in workflow["nodes"]]
    started = client.post("/api/workflows/run", json=workflow)
    assert started.status_code == 200, started.text
    status = wait_for(client, started.json()["workflow_id"])
    assert status["status"] == "completed", status
    results = client.get(f"/api/workflows/{started.json()['workflow_id']}/results").json()
    assert results["results"]["load"]["outputs"]["dataset"]["rows"] == dataset["rows"]
    assert results["metrics"]["evaluate"]["accuracy"] > 0.6


def test_users_see_only_their_own_datasets(multi_user):
    alice, bob = multi_user("a@example.com"), multi_user("b@example.com")
    mine = upload(alice, name="alice's").json()
    theirs = upload(bob, b"a,b\n1,2\n", "bob.csv").json()
    assert [d["id"] for d in alice.get("/api/datasets/").json()] == [mine["id"]]
    assert [d["id"] for d in bob.get("/api/datasets/").json()] == [theirs["id"]]
    for path in ("", "/preview", "/download"):
        response = bob.get(f"/api/datasets/{mine['id']}{path}")
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    assert bob.delete(f"/api/datasets/{mine['id']}").status_code == 404
    assert alice.get(f"/api/datasets/{mine['id']}/download").content == TITANIC.read_bytes()
    anonymous = TestClient(alice.app)  # no bearer token
    assert anonymous.get("/api/datasets/").status_code == 401
    assert anonymous.post("/api/upload", files={"file": ("a.csv", b"a\n1\n")}).status_code == 401


def test_a_dataset_whose_file_vanished_says_so_without_server_paths(client, flowza_env):
    body = upload(client, name="Titanic passengers").json()
    (flowza_env["home"] / "store" / "uploads" / f"{body['id']}.csv").unlink()
    for path in (f"/api/datasets/{body['id']}/preview", f"/api/datasets/{body['id']}/download"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json()["code"] == "FILE_NOT_FOUND", answer.text
        assert "Titanic passengers" in answer.json()["message"] and str(flowza_env["home"]) not in answer.text
