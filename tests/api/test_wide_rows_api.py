"""Rows with more fields than the header, through upload, preview and a loader: one answer everywhere."""

from __future__ import annotations

STATEMENT = ("Date,Description,Amount\r\n"
             + "".join(f"2024-01-{d:02d},Coffee {d},-{d}.50,\r\n" for d in range(1, 29))).encode()


def upload(client, content: bytes):
    return client.post("/api/upload", files={"file": ("data.csv", content, "text/csv")})


def test_a_trailing_separator_on_every_data_line_uploads_with_a_warning(client):
    body = upload(client, STATEMENT).json()
    assert [c["name"] for c in body["columns"]] == ["Date", "Description", "Amount"] and body["rows"] == 28
    assert [w["code"] for w in body["warnings"]] == ["TRAILING_SEPARATOR"]
    page = client.get(f"/api/datasets/{body['id']}/preview", params={"offset": 26, "limit": 5}).json()
    assert page["rows"] == [{"Date": "2024-01-27", "Description": "Coffee 27", "Amount": -27.5},
                            {"Date": "2024-01-28", "Description": "Coffee 28", "Amount": -28.5}]
    workflow = {"nodes": [body["loader"] | {"id": "load"}, {"id": "clean", "type": "drop_nulls"}],
                "connections": [{"source": "load", "target": "clean"}]}
    seen = client.post("/api/workflows/columns", json={"workflow": workflow, "node_id": "clean"}).json()
    assert [c["name"] for c in seen["inputs"]["dataset"]["columns"]] == ["Date", "Description", "Amount"]
    assert [(w["node_id"], w["code"]) for w in seen["warnings"]] == [("load", "TRAILING_SEPARATOR")]


def test_a_row_wider_than_the_header_is_a_422_naming_its_line_and_nothing_is_kept(client):
    for content, message in [
        (b"a,b\n" + b"1,2\n" * 3000 + b"3,4,5\n", "line 3002 of the file has 3 fields but the header names 2 columns"),
        (b"a,b\n1,2,\n3,4,oops\n", "line 3 of the file has a value after its last column ('oops')"),
        (b"name,city\nAda,London, UK\n", "check the separator and the quoting"),
    ]:
        refused = upload(client, content)
        assert refused.status_code == 422 and refused.json()["code"] == "PARSE_ERROR", refused.text
        assert message in refused.json()["message"] and refused.json()["details"]["field"] == "file"
    assert client.get("/api/datasets/").json() == []
