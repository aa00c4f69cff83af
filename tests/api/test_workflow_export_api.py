"""GET /api/workflows/{id}/export: a saved workflow (any version) as a script, a notebook or JSON; the CLI's
``flowza export``; and a node without a plain-Python version exported as a stub that raises."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from flows.export import export_workflow
from nodes.base import REGISTRY, Params, node
from nodes.ports import Dataset

ROOT = Path(__file__).resolve().parents[2]
TITANIC = json.loads((ROOT / "examples" / "titanic.json").read_text())


def test_export_downloads_each_format_of_any_version(client):
    created = client.post("/api/workflows/", json=TITANIC).json()
    changed = json.loads(json.dumps(TITANIC))
    changed["nodes"][5]["parameters"]["C"] = 0.25  # the logistic regression
    assert client.put(f"/api/workflows/{created['id']}", json=changed).status_code == 200

    script = client.get(f"/api/workflows/{created['id']}/export")  # py, current version
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/x-python")
    assert script.headers["content-disposition"] == 'attachment; filename="titanic_survival.py"'
    assert json.loads(script.headers["x-flowza-unsupported-nodes"]) == []
    ast.parse(script.text)
    assert "LogisticRegression(C=0.25" in script.text
    assert not re.search(r"^\s*(import|from)\s+(flowza|flows|nodes|api)\b", script.text, re.MULTILINE)
    first = client.get(f"/api/workflows/{created['id']}/export", params={"version": 1}).text
    assert "LogisticRegression(max_iter=1000" in first and "C=0.25" not in first

    book = client.get(f"/api/workflows/{created['id']}/export", params={"format": "ipynb"})
    assert book.headers["content-type"] == "application/x-ipynb+json"
    cells = nbformat.reads(book.text, as_version=4).cells
    assert any(c.cell_type == "markdown" and c.source.startswith("## Logistic regression (train_logreg)")
               for c in cells)
    saved = client.get(f"/api/workflows/{created['id']}/export", params={"format": "json", "version": 1})
    assert saved.headers["content-disposition"].endswith('.json"')
    assert [n["id"] for n in saved.json()["nodes"]] == [n["id"] for n in TITANIC["nodes"]]


def test_export_refuses_what_it_cannot_answer(client):
    created = client.post("/api/workflows/", json=TITANIC).json()
    url = f"/api/workflows/{created['id']}/export"
    for params, status, code in [({"format": "docx"}, 422, "INVALID_REQUEST"), ({"version": 0}, 422, "INVALID_REQUEST"),
                                 ({"version": "x"}, 422, "INVALID_REQUEST"), ({"version": 9}, 404, "NOT_FOUND")]:
        answer = client.get(url, params=params)
        assert answer.status_code == status and answer.json()["code"] == code, (params, answer.text)
    missing = client.get("/api/workflows/nope/export")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


def test_export_follows_workflow_access(multi_user):
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    created = ada.post("/api/workflows/", json=TITANIC).json()
    assert ada.get(f"/api/workflows/{created['id']}/export").status_code == 200
    assert bob.get(f"/api/workflows/{created['id']}/export").status_code == 404
    shared = ada.put(f"/api/workflows/{created['id']}/shares/", json={"email": "bob@example.com", "role": "viewer"})
    assert shared.status_code in (200, 201), shared.text
    assert bob.get(f"/api/workflows/{created['id']}/export", params={"format": "ipynb"}).status_code == 200


class ShoutParams(Params):
    pass


@pytest.fixture
def shout_node():
    """A node type with no plain-Python version (as later general nodes), registered for one test."""
    def shout(dataset: Dataset, params: ShoutParams) -> Dataset:
        """Upper-case every text cell."""
        return dataset

    node(category="general")(shout)
    yield
    REGISTRY.pop("shout")


def test_a_node_without_plain_python_is_a_stub_that_raises(shout_node, tmp_path):
    workflow = {"name": "loud", "nodes": [{"id": "load", "type": "sample_dataset", "parameters": {"name": "iris"}},
                                          {"id": "loud", "type": "shout"},
                                          {"id": "clean", "type": "drop_nulls"}],
                "connections": [{"source": "load", "target": "loud"}, {"source": "loud", "target": "clean"}]}
    exported = export_workflow(workflow, "py")
    assert exported.unsupported == ["loud"] and "Not exported" in exported.text
    (tmp_path / "loud.py").write_text(exported.text)
    done = subprocess.run([sys.executable, "-I", "loud.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "NotImplementedError: node 'loud' (shout) was not exported" in done.stderr


def test_the_cli_writes_a_script_that_runs(tmp_path):
    flowza = [str(Path(sys.executable).parent / "flowza")]
    done = subprocess.run([*flowza, "export", str(ROOT / "examples" / "xgboost.json"), "--format", "py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    script = tmp_path / "xgboost_wine_cultivars.py"  # never xgboost.py, which would shadow the package
    assert done.stdout.startswith(f"wrote {script.name}")
    ran = subprocess.run([sys.executable, "-I", script.name], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert json.loads(ran.stdout[ran.stdout.index("\n{") + 1:])["evaluate"]["accuracy"] > 0.9
    bad = subprocess.run([*flowza, "export", str(ROOT / "examples" / "xgboost.json"), "--format", "docx"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice: 'docx'" in bad.stderr
