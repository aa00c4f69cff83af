"""csv_loader.file_path through the API: off in multi-user mode, never into FLOWZA_HOME, no server paths shown."""

from __future__ import annotations

import pytest

PEOPLE = b"name,age\nAda,36\nBob,41\n"


def loader_workflow(parameters: dict) -> dict:
    return {"name": "reader", "nodes": [{"id": "load", "type": "csv_loader", "parameters": parameters},
                                        {"id": "clean", "type": "drop_nulls"}],
            "connections": [{"source": "load", "target": "clean"}]}


def columns(client, parameters: dict) -> dict:
    answer = client.post("/api/workflows/columns", json={"workflow": loader_workflow(parameters), "node_id": "clean"})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def home_in_data_dir(flowza_env, monkeypatch):
    """Started from the home folder: FLOWZA_DATA_DIR is '.', FLOWZA_HOME is ./.flowza."""
    from flowza_core.settings import get_settings

    data = flowza_env["data"]
    monkeypatch.setenv("FLOWZA_HOME", str(data / ".flowza"))
    monkeypatch.setenv("FLOWZA_DATA_DIR", str(data))
    get_settings.cache_clear()
    return data


def test_file_paths_are_off_in_multi_user_mode(multi_user, home_in_data_dir):
    (home_in_data_dir / "people.csv").write_bytes(PEOPLE)
    bob = multi_user("bob@example.com")

    problems = bob.post("/api/workflows/validate", json=loader_workflow({"file_path": "people.csv"})).json()
    assert [(p["code"], p["field"]) for p in problems["problems"] if p["severity"] == "error"] \
        == [("INVALID_PARAMETER", "file_path")]
    assert "FLOWZA_ALLOW_FILE_PATHS" in problems["problems"][0]["message"]
    refused = bob.post("/api/workflows/run", json=loader_workflow({"file_path": "people.csv"}))
    assert refused.status_code == 422 and refused.json()["code"] == "INVALID_WORKFLOW", refused.text
    assert "file_path" in refused.text and "Ada" not in refused.text
    assert bob.get("/api/runs/").json() == []
    assert columns(bob, {"file_path": "people.csv"})["inputs"] == {}


def test_an_administrator_may_allow_file_paths_but_never_into_flowza_home(multi_user, home_in_data_dir,
                                                                         monkeypatch):
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_ALLOW_FILE_PATHS", "true")
    get_settings.cache_clear()
    (home_in_data_dir / "people.csv").write_bytes(PEOPLE)
    ada, bob = multi_user("ada@example.com"), multi_user("bob@example.com")
    upload = ada.post("/api/upload", files={"file": ("secret.csv", b"name,salary\nAda,99000\n", "text/csv")})
    assert upload.status_code == 201, upload.text
    dataset_id = upload.json()["id"]
    assert (home_in_data_dir / ".flowza" / "store" / "uploads" / f"{dataset_id}.csv").is_file()  # the file is there…

    mine = columns(bob, {"file_path": "people.csv"})
    assert [c["name"] for c in mine["inputs"]["dataset"]["columns"]] == ["name", "age"]
    for path in (f".flowza/store/uploads/{dataset_id}.csv", "./.flowza/secret_key", ".flowza/flowza.db",
                 f"x/../.flowza/store/uploads/{dataset_id}.csv"):
        theirs = columns(bob, {"file_path": path})  # …but Bob cannot read it by path
        assert theirs["inputs"] == {} and [(p["code"], p["field"]) for p in theirs["problems"]] \
            == [("INVALID_PARAMETER", "file_path")], theirs
        assert "99000" not in str(theirs) and str(home_in_data_dir) not in str(theirs)
    by_id = bob.post("/api/workflows/columns",
                     json={"workflow": loader_workflow({"dataset_id": dataset_id}), "node_id": "clean"})
    assert by_id.status_code == 404 and "99000" not in by_id.text  # nor by its id
    assert bob.post("/api/workflows/run", json=loader_workflow({"dataset_id": dataset_id})).status_code == 404


def test_messages_about_missing_files_show_no_server_paths(client, home_in_data_dir):
    missing = columns(client, {"file_path": "sub/nowhere.csv"})
    assert [p["code"] for p in missing["problems"]] == ["FILE_NOT_FOUND"]
    assert "sub/nowhere.csv" in missing["problems"][0]["message"]
    outside = columns(client, {"file_path": "../../etc/passwd"})
    assert [p["code"] for p in outside["problems"]] == ["INVALID_PARAMETER"]
    assert str(home_in_data_dir) not in str(missing) + str(outside)
    assert "root:" not in str(outside)
