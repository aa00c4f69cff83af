"""POST /api/workflows/columns: the editor's column pickers, filled before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLASSIFICATION = json.loads((ROOT / "examples" / "classification.json").read_text())


def test_columns_of_a_nodes_inputs(client):
    answer = client.post("/api/workflows/columns", json={"workflow": CLASSIFICATION, "node_id": "split"})
    assert answer.status_code == 200, answer.text
    names = [c["name"] for c in answer.json()["inputs"]["dataset"]["columns"]]
    assert "survived" in names and "alive" not in names and "deck" not in names  # dropped by the clean node


def test_bad_requests_are_422_naming_the_field(client):
    missing = client.post("/api/workflows/columns", json={"workflow": CLASSIFICATION})
    assert missing.status_code == 422 and "body.node_id" in missing.text
    unknown = client.post("/api/workflows/columns", json={"workflow": CLASSIFICATION, "node_id": "nope"})
    assert unknown.status_code == 404 and unknown.json()["details"]["field"] == "node_id"
    garbage = client.post("/api/workflows/columns", json={"workflow": {"nodes": "x"}, "node_id": "a"})
    assert garbage.status_code == 422


def test_another_users_upload_is_not_there(multi_user):
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    csv = (ROOT / "examples" / "data" / "titanic.csv").read_bytes()
    dataset = ada.post("/api/upload", files={"file": ("titanic.csv", csv, "text/csv")}).json()
    workflow = {"nodes": [dataset["loader"] | {"id": "load"}, {"id": "clean", "type": "drop_nulls"}],
                "connections": [{"source": "load", "target": "clean"}]}
    mine = ada.post("/api/workflows/columns", json={"workflow": workflow, "node_id": "clean"})
    assert mine.status_code == 200 and mine.json()["inputs"]["dataset"]["columns"]
    theirs = bob.post("/api/workflows/columns", json={"workflow": workflow, "node_id": "clean"})
    assert theirs.status_code == 404
