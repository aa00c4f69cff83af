"""Hostile and malformed requests, through a real server: each gets a 4xx with a stable code, never a 5xx.

The categories of issue 13 (items 8-11): oversized bodies (declared and chunked), oversized workflows,
lone surrogates, NaN/Infinity, offsets and version numbers past any integer column, a multipart body cut
before its closing boundary; and writes visible to the next request as soon as they are answered.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import api_server

MAX_REQUEST_MB = 1
MAX_NODES = 50
JSON = {"content-type": "application/json"}
LOADER = {"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request, flowza_env, monkeypatch):
    """A uvicorn server of the app (single-user mode) on a fresh home and metadata database."""
    from flowza_core.settings import get_settings

    if request.param == "postgresql":
        monkeypatch.setenv("FLOWZA_DATABASE_URL", request.getfixturevalue("postgres_database"))
    monkeypatch.setenv("FLOWZA_MAX_REQUEST_MB", str(MAX_REQUEST_MB))
    monkeypatch.setenv("FLOWZA_MAX_WORKFLOW_NODES", str(MAX_NODES))
    get_settings.cache_clear()
    with api_server() as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def saved_workflow(api: httpx.Client) -> str:
    created = api.post("/api/workflows/", json={"name": "target", "nodes": [LOADER], "connections": []})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def check(answers: list[tuple[str, httpx.Response, int, str]]) -> None:
    """Every answer has its expected status and code; all mismatches are reported together."""
    wrong = [f"{label}: {r.status_code} {r.text[:300]}" for label, r, status, code in answers
             if r.status_code != status or r.json().get("code") != code]
    assert not wrong, "\n".join(wrong)


def test_bodies_over_the_limit_are_refused_while_they_stream_in(api):
    big = b'{"name": "' + b"x" * (MAX_REQUEST_MB * 2**20) + b'", "nodes": []}'

    def chunked():  # no Content-Length: the limit is counted as the chunks arrive
        yield big[:2**19]
        yield big[2**19:]

    answers = [("declared", api.post("/api/workflows/", content=big, headers=JSON), 413, "REQUEST_TOO_LARGE"),
               ("chunked", api.post("/api/workflows/", content=chunked(), headers=JSON), 413, "REQUEST_TOO_LARGE"),
               ("validate", api.post("/api/workflows/validate", content=big, headers=JSON), 413,
                "REQUEST_TOO_LARGE"),
               ("not JSON", api.post("/api/auth/login", content=big, headers={"content-type": "text/plain"}), 413,
                "REQUEST_TOO_LARGE")]
    check(answers)
    assert "FLOWZA_MAX_REQUEST_MB" in answers[0][1].json()["message"]
    assert f"{MAX_REQUEST_MB} MB" in answers[0][1].json()["message"]
    assert api.get("/api/workflows/").json() == []  # nothing half-saved
    assert api.get("/api/datasets/").status_code == 200  # the server still answers


def test_uploads_keep_their_own_limit(api):
    table = b"a,b\n" + b"12345,67890\n" * (2 * MAX_REQUEST_MB * 2**20 // 12)  # twice the JSON limit
    uploaded = api.post("/api/upload", files={"file": ("big.csv", table, "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["rows"] == table.count(b"\n") - 1


def test_a_workflow_too_large_to_run_is_refused_with_the_reason(api):
    chain = [LOADER] + [{"id": f"n{i}", "type": "drop_nulls"} for i in range(MAX_NODES)]
    edges = [{"source": a["id"], "target": b["id"]} for a, b in zip(chain, chain[1:])]
    workflow = {"name": "too long", "nodes": chain, "connections": edges}
    answers = [(path, api.post(path, json=workflow), 422, "INVALID_WORKFLOW")
               for path in ("/api/workflows/", "/api/workflows/run")]
    check(answers)
    for _, answer, _, _ in answers:
        assert answer.json()["details"]["problems"][0]["code"] == "WORKFLOW_TOO_LARGE"
        assert "FLOWZA_MAX_WORKFLOW_NODES" in answer.json()["message"], answer.text
    assert api.get("/api/workflows/").json() == [] and api.get("/api/runs/").json() == []
    validated = api.post("/api/workflows/validate", json=workflow).json()
    assert (validated["valid"], [p["code"] for p in validated["problems"]]) == (False, ["WORKFLOW_TOO_LARGE"])
    allowed = {"name": "long enough", "nodes": chain[:MAX_NODES], "connections": edges[:MAX_NODES - 1]}
    assert api.post("/api/workflows/validate", json=allowed).json()["valid"] is True
    saved = api.post("/api/workflows/", json=allowed)
    assert saved.status_code == 201, saved.text
    one_more = api.post(f"/api/workflows/{saved.json()['id']}/nodes", json={"type": "drop_nulls"})
    check([("one node more", one_more, 422, "INVALID_WORKFLOW")])
    assert api.get(f"/api/workflows/{saved.json()['id']}").json()["current_version"] == 1


def test_lists_of_workflows_can_leave_out_the_definitions(api):
    workflow_id = saved_workflow(api)
    full, summaries = api.get("/api/workflows/").json(), api.get("/api/workflows/?definition=false").json()
    assert [w["id"] for w in full] == [w["id"] for w in summaries] == [workflow_id]
    assert full[0]["definition"]["nodes"][0]["id"] == "load"
    assert summaries[0]["definition"] is None
    assert {k: v for k, v in full[0].items() if k != "definition"} == \
           {k: v for k, v in summaries[0].items() if k != "definition"}


@pytest.mark.parametrize("body, field", [
    (b'{"name": "\\ud800", "nodes": [], "connections": []}', "body.name"),
    (b'{"name": "ok", "description": "end \\udfff", "nodes": []}', "body.description"),
    (b'{"nodes": [{"id": "a", "type": "sample_dataset", "data": {"label": "\\uDBFF!"}}]}', "body.nodes.0.data.label"),
    (b'{"nodes": [{"id": "a", "type": "drop_nulls", "parameters": {"how": NaN}}]}', "body.nodes.0.parameters.how"),
    (b'{"nodes": [{"id": "a", "type": "drop_nulls", "position": {"x": Infinity, "y": 0}}]}',
     "body.nodes.0.position.x"),
    (b'{"name": "n", "nodes": [], "extra": -Infinity}', "body.extra"),
    (b'{"nodes": [{"id": "a", "type": "drop_nulls", "position": {"x": 1e999, "y": 0}}]}', "body.nodes.0.position.x"),
    (b'{"name": "a\\u0000b", "nodes": []}', "body.name"),  # PostgreSQL text cannot hold NUL
    (b'{"nodes": [{"id": "a", "type": "drop_nulls", "parameters": {"subset": ["\\u0000"]}}]}',
     "body.nodes.0.parameters.subset.0"),
    (b'{"nodes": [{"id": "a", "type": "drop_nulls", "parameters": {"\\u0000": 1}}]}', "body.nodes.0.parameters"),
])
def test_json_python_accepts_but_json_does_not_is_refused_naming_the_field(api, body, field):
    workflow_id = saved_workflow(api)
    answers = [(f"{method} {path}", api.request(method, path, content=body, headers=JSON), 422, "INVALID_JSON")
               for method, path in (("POST", "/api/workflows/validate"), ("POST", "/api/workflows/"),
                                    ("POST", "/api/workflows/run"), ("PUT", f"/api/workflows/{workflow_id}"))]
    check(answers)
    assert all(r.json()["details"]["field"] == field for _, r, _, _ in answers), answers[0][1].text
    assert [w["id"] for w in api.get("/api/workflows/").json()] == [workflow_id]
    assert api.get(f"/api/workflows/{workflow_id}").json()["current_version"] == 1


def test_json_nested_too_deeply_and_nul_in_urls_forms_and_upload_fields_are_refused(api):
    check([("nested", api.post("/api/workflows/validate", content=b"[" * 100_000, headers=JSON), 422, "INVALID_JSON"),
           ("path", api.get("/api/workflows/a%00b"), 400, "INVALID_REQUEST"),
           ("query", api.get("/api/workflows/?tag=a%00b"), 400, "INVALID_REQUEST"),
           ("dataset", api.get("/api/datasets/%00"), 400, "INVALID_REQUEST"),
           ("form", api.post("/api/auth/token", data={"username": "a\x00b", "password": "x"}), 422,
            "INVALID_REQUEST"),
           ("upload name", api.post("/api/upload", files={"file": ("t.csv", b"a,b\n1,2\n", "text/csv")},
                                    data={"name": "a\x00b"}), 422, "INVALID_REQUEST")])
    assert api.get("/api/workflows/?tag=a%2500b").json() == []  # an escaped percent sign is no NUL


def test_text_that_is_not_utf8_is_refused_and_real_characters_pass(api):
    encoded_surrogate = b'{"name": "\xed\xa0\x80", "nodes": []}'  # a surrogate encoded as if it were a character
    check([("encoded surrogate", api.post("/api/workflows/", content=encoded_surrogate, headers=JSON), 422,
            "INVALID_JSON"),
           ("latin-1", api.post("/api/workflows/", content=b'{"name": "caf\xe9"}', headers=JSON), 422,
            "INVALID_JSON")])
    paired = api.post("/api/workflows/", content=b'{"name": "\\ud83d\\ude00 \\\\ud800", "nodes": []}', headers=JSON)
    assert paired.status_code == 201, paired.text
    assert paired.json()["name"] == "\U0001F600 \\ud800"  # a surrogate pair, and an escaped backslash


def test_offsets_and_version_numbers_past_any_integer_column_are_refused(api):
    workflow_id = saved_workflow(api)
    base = f"/api/workflows/{workflow_id}"
    answers = []
    for number in (2**31, 2**63, 2**64, 10**30):
        answers += [(f"version {number}", api.get(f"{base}/versions/{number}"), 422, "INVALID_REQUEST"),
                    (f"restore {number}", api.post(f"{base}/versions/{number}/restore"), 422, "INVALID_REQUEST")]
    for number in (2**63, 2**64, 10**30):
        answers += [(f"{path} offset {number}", api.get(path, params={"offset": number}), 422, "INVALID_REQUEST")
                    for path in ("/api/datasets/", "/api/workflows/")]
    answers += [("version 0", api.get(f"{base}/versions/0"), 422, "INVALID_REQUEST"),
                ("version 99", api.get(f"{base}/versions/99"), 404, "NOT_FOUND"),
                ("task offset", api.get("/api/tasks/x:y/dataset", params={"offset": 2**63}), 422, "INVALID_REQUEST")]
    check(answers)
    assert api.get(f"{base}/versions/1").status_code == 200
    assert api.get("/api/datasets/", params={"offset": 2**62}).json() == []


def test_run_list_offsets_past_any_integer_column_are_refused(api):
    check([(f"offset {number}", api.get("/api/runs/", params={"offset": number}), 422, "INVALID_REQUEST")
           for number in (2**63, 2**64, 10**30)])
    assert api.get("/api/runs/", params={"offset": 2**62}).json() == []


def test_a_multipart_body_cut_before_its_closing_boundary_is_refused(api):
    part = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename="cut.csv"\r\n'
            b'Content-Type: text/csv\r\n\r\na,b\n1,2\n3,4\n')
    multipart = {"content-type": "multipart/form-data; boundary=XX"}
    check([("no closing boundary", api.post("/api/upload", content=part, headers=multipart), 400, "INVALID_REQUEST"),
           ("part boundary only", api.post("/api/upload", content=part + b"\r\n--XX\r\n", headers=multipart), 400,
            "INVALID_REQUEST"),
           ("headers cut", api.post("/api/upload", content=part[:40], headers=multipart), 400, "INVALID_REQUEST")])
    assert api.get("/api/datasets/").json() == []
    whole = api.post("/api/upload", content=part + b"\r\n--XX--\r\n", headers=multipart)
    assert whole.status_code == 201, whole.text
    assert whole.json()["rows"] == 2


def test_writes_are_visible_as_soon_as_they_are_answered(api):
    for i in range(100):
        created = api.post("/api/workflows/", json={"name": f"w{i}", "nodes": [LOADER], "connections": []})
        assert created.status_code == 201, created.text
        read = api.get(f"/api/workflows/{created.json()['id']}")
        assert read.status_code == 200, f"try {i}: the workflow answered 201 was not there: {read.text}"
    listed = api.get("/api/workflows/?definition=false").json()
    assert len(listed) == 100
    for i, workflow in enumerate(listed):
        deleted = api.delete(f"/api/workflows/{workflow['id']}")
        assert deleted.status_code == 204, deleted.text
        read = api.get(f"/api/workflows/{workflow['id']}")
        assert read.status_code == 404, f"try {i}: the workflow answered 204 was still there"
    assert api.get("/api/workflows/").json() == []
