"""Reading options on upload and preview: awkward CSVs, the warnings with their fixes, the loader they propose.

Every test runs on SQLite and on PostgreSQL metadata.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from flows.uploads import default_uploads
from nodes.base import NodeContext
from nodes.catalog import discover

HEADERLESS = "".join(f"{20 + i % 50}, {'?' if i % 7 == 0 else 'State-gov'}, {'?' if i % 11 == 0 else i * 3}\r"
                     for i in range(300))  # Adult-like: no header, ', ', CR line endings, '?' for missing
MISSING = {"column_2": sum(i % 7 == 0 for i in range(300)), "column_3": sum(i % 11 == 0 for i in range(300))}
FIXED = {"has_header": False, "na_values": ["?"], "skip_initial_space": True}


@pytest.fixture
def client(flowza_env, monkeypatch, db_url):
    """The API in single-user mode, its metadata on each database."""
    from api.main import create_app
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATABASE_URL", db_url)
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        yield client


def upload(client, content: bytes, filename: str = "data.csv", **options):
    return client.post("/api/upload", params=options, files={"file": (filename, content, "text/csv")})


def preview(client, dataset_id: str, **params) -> dict:
    answer = client.get(f"/api/datasets/{dataset_id}/preview", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def load_as_proposed(flowza_env, loader: dict):
    """Run the csv_loader the API proposed, as a workflow would."""
    defn = discover()[loader["type"]]
    ctx = NodeContext(node_id="load", uploads=default_uploads())
    return defn.run({}, defn.params_model(**loader["parameters"]), ctx)["dataset"].frame, ctx.warnings


def test_a_headerless_upload_warns_and_the_preview_applies_the_fix(client, flowza_env):
    created = upload(client, HEADERLESS.encode())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["rows"] == 299  # read with the defaults: the first row became the names
    assert {"code": "HEADER_LOOKS_LIKE_DATA", "fix": {"has_header": False},
            "message": "the first row looks like data, not column names: no header? set has_header=false",
            } in body["warnings"]
    assert body["loader"] == {"type": "csv_loader", "parameters": {"dataset_id": body["id"]}}

    page = preview(client, body["id"], offset=1, limit=2, **FIXED)
    assert page["total_rows"] == 300 and page["warnings"] == []
    assert [c["name"] for c in page["columns"]] == ["column_1", "column_2", "column_3"]
    assert {c["name"]: c["null_count"] for c in page["columns"]} == {"column_1": 0, **MISSING}
    assert page["rows"] == [{"column_1": 21, "column_2": "State-gov", "column_3": 3.0},
                            {"column_1": 22, "column_2": "State-gov", "column_3": 6.0}]
    assert page["loader"]["parameters"] == {"dataset_id": body["id"], **FIXED}

    frame, warnings = load_as_proposed(flowza_env, page["loader"])  # what the dialog's node will read
    assert len(frame) == 300 and warnings == [] and frame["column_2"].isna().sum() == MISSING["column_2"]


def test_reading_options_given_at_upload_shape_the_dataset_and_its_loader(client, flowza_env):
    created = upload(client, HEADERLESS.encode(), **FIXED, column_names=["age", "work", "weight"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["rows"] == 300 and body["warnings"] == []
    assert [c["name"] for c in body["columns"]] == ["age", "work", "weight"]
    assert body["loader"]["parameters"] == {"dataset_id": body["id"], **FIXED,
                                            "column_names": ["age", "work", "weight"]}
    frame, _ = load_as_proposed(flowza_env, body["loader"])
    assert list(frame.columns) == ["age", "work", "weight"] and frame["weight"].isna().sum() == MISSING["column_3"]

    # Remembered: the dataset's description and a preview without options read it as at upload.
    assert client.get(f"/api/datasets/{body['id']}").json()["loader"] == body["loader"]
    assert [d["loader"] for d in client.get("/api/datasets/").json()] == [body["loader"]]
    page = preview(client, body["id"], limit=1)
    assert page["total_rows"] == 300 and [c["name"] for c in page["columns"]] == ["age", "work", "weight"]
    assert page["loader"] == body["loader"]
    assert preview(client, body["id"], has_header=True)["total_rows"] == 299  # options given: those apply


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["", "BOM"])
def test_uploads_take_any_line_ending_a_bom_and_quoted_newlines(client, ending, bom):
    text = 'name,note\nAda,"first\nsecond"\nBob,plain\n'.replace("\n", ending)
    created = upload(client, bom + text.encode())
    assert created.status_code == 201, created.text
    assert created.json()["rows"] == 2 and [c["name"] for c in created.json()["columns"]] == ["name", "note"]
    page = preview(client, created.json()["id"])
    assert page["rows"] == [{"name": "Ada", "note": f"first{ending}second"}, {"name": "Bob", "note": "plain"}]


def test_a_separator_warning_and_its_fix(client):
    body = upload(client, b"name;age\nAda;36\nBob;41\n").json()
    assert body["warnings"] == [{"code": "SEPARATOR_LOOKS_WRONG", "fix": {"separator": ";"},
                                 "message": "only one column was read, but the lines are split by ';': "
                                            "set the separator to ';'"}]
    page = preview(client, body["id"], **body["warnings"][0]["fix"])
    assert page["warnings"] == [] and page["rows"] == [{"name": "Ada", "age": 36}, {"name": "Bob", "age": 41}]


def test_a_missing_marker_warning_and_its_fix(client):
    body = upload(client, ("score\n" + "".join(f"{'-' if i % 4 == 0 else i}\n" for i in range(40))).encode()).json()
    marker = next(w for w in body["warnings"] if w["code"] == "MISSING_MARKER")
    assert marker["fix"] == {"na_values": ["-"]}
    page = preview(client, body["id"], **marker["fix"])
    assert page["warnings"] == []
    assert page["columns"][0]["null_count"] == 10 and page["columns"][0]["dtype"] == "float64"


def test_a_latin1_file_uploads_when_its_encoding_is_given(client):
    content = "name,city\nJosé,Málaga\n".encode("latin-1")
    assert upload(client, content).json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    body = upload(client, content, encoding="latin-1").json()
    assert body["loader"]["parameters"]["encoding"] == "latin-1"
    assert preview(client, body["id"], encoding="latin-1")["rows"] == [{"name": "José", "city": "Málaga"}]


def test_rows_wider_than_the_header_are_refused_naming_the_line(client, flowza_env):
    refused = upload(client, b"a,b\n0,x,3\n1,y,4\n")
    assert refused.status_code == 422 and refused.json()["code"] == "PARSE_ERROR"
    assert "line 2" in refused.json()["message"] and refused.json()["details"]["field"] == "file"
    assert client.get("/api/datasets/").json() == []


def test_bad_reading_options_are_4xx_naming_the_option(client):
    dataset = upload(client, b"a,b\n1,2\n").json()["id"]
    url = f"/api/datasets/{dataset}/preview"

    repeated = client.get(url, params={"column_names": ["x", "x"]})
    assert repeated.status_code == 422 and "query.column_names" in repeated.json()["message"]
    codec = client.get(url, params={"encoding": "klingon"})
    assert codec.status_code == 422 and "unknown encoding 'klingon'" in codec.json()["message"]
    short = client.get(url, params={"column_names": ["x"]})
    assert short.status_code == 400 and short.json()["code"] == "INVALID_PARAMETER"
    assert short.json()["details"]["field"] == "column_names"
    assert "1 names but the file has 2" in short.json()["message"]
    on_upload = upload(client, b"a,b\n1,2\n", column_names=["x", "y", "z"])
    assert on_upload.status_code == 400 and on_upload.json()["details"]["field"] == "column_names"
