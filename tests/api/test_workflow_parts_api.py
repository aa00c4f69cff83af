"""Editing a saved workflow node by node and edge by edge; its version history."""

from __future__ import annotations

from urllib.parse import quote

import pytest


def new_workflow(client, **definition) -> str:
    created = client.post("/api/workflows/", json={"name": "draft", **definition})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def add_node(client, workflow_id: str, **node) -> dict:
    response = client.post(f"/api/workflows/{workflow_id}/nodes", json=node)
    assert response.status_code == 201, response.text
    return response.json()


def add_edge(client, workflow_id: str, **edge):
    return client.post(f"/api/workflows/{workflow_id}/edges", json=edge)


def nodes_of(workflow: dict) -> dict:
    return {n["id"]: n for n in workflow["definition"]["nodes"]}


def problems(response) -> list[dict]:
    assert response.status_code == 422, response.text
    return response.json()["details"]["problems"]


def test_nodes_are_added_changed_and_removed_each_change_a_version(client):
    workflow_id = new_workflow(client)
    first = add_node(client, workflow_id, type="csv_loader")  # a draft: no file yet
    assert first["current_version"] == 2
    second = add_node(client, workflow_id, type="csv_loader", label="Second", parameters={"separator": ";"})
    assert list(nodes_of(second)) == ["csv_loader_1", "csv_loader_2"]
    node = nodes_of(second)["csv_loader_2"]
    assert node["data"]["label"] == "Second" and node["parameters"] == {"separator": ";"}
    assert node["position"]["x"] > nodes_of(second)["csv_loader_1"]["position"]["x"]

    url = f"/api/workflows/{workflow_id}/nodes/csv_loader_2"
    patched = client.patch(url, json={"parameters": {"file_path": "examples/data/titanic.csv"},
                                      "position": {"x": 5, "y": 7}})
    assert patched.status_code == 200, patched.text
    node = nodes_of(patched.json())["csv_loader_2"]
    assert node["parameters"] == {"separator": ";", "file_path": "examples/data/titanic.csv"}
    assert node["position"] == {"x": 5, "y": 7} and node["data"]["label"] == "Second"
    reset = client.patch(url, json={"parameters": {"separator": None}, "label": None}).json()
    node = nodes_of(reset)["csv_loader_2"]
    assert node["parameters"] == {"file_path": "examples/data/titanic.csv"} and "label" not in node["data"]
    assert reset["current_version"] == 5

    deleted = client.delete(f"/api/workflows/{workflow_id}/nodes/csv_loader_1")
    assert deleted.status_code == 200 and list(nodes_of(deleted.json())) == ["csv_loader_2"]
    assert client.get(f"/api/workflows/{workflow_id}").json() == deleted.json()
    assert client.delete(f"/api/workflows/{workflow_id}/nodes/csv_loader_1").status_code == 404
    assert client.patch(f"/api/workflows/{workflow_id}/nodes/nope", json={"label": "x"}).status_code == 404


def test_a_node_of_an_unknown_type_or_with_bad_parameters_is_refused(client):
    workflow_id = new_workflow(client)
    unknown = problems(client.post(f"/api/workflows/{workflow_id}/nodes", json={"type": "csv_loadr"}))
    assert unknown[0]["code"] == "UNKNOWN_NODE_TYPE" and unknown[0]["field"] == "type"
    assert "did you mean 'csv_loader'" in unknown[0]["message"]

    bad_value = problems(client.post(f"/api/workflows/{workflow_id}/nodes",
                                     json={"type": "train_test_split", "parameters": {"test_size": 5}}))
    assert [(p["code"], p["field"]) for p in bad_value] == [("INVALID_PARAMETER", "test_size")]
    misspelt = problems(client.post(f"/api/workflows/{workflow_id}/nodes",
                                    json={"type": "train_test_split", "parameters": {"tst_size": 0.3}}))
    assert misspelt[0]["field"] == "tst_size" and "did you mean 'test_size'" in misspelt[0]["message"]
    assert client.get(f"/api/workflows/{workflow_id}").json()["current_version"] == 1  # nothing saved

    add_node(client, workflow_id, type="drop_columns", id="drop")  # a required parameter may come later
    later = client.patch(f"/api/workflows/{workflow_id}/nodes/drop", json={"parameters": {"columns": "deck"}})
    assert problems(later)[0]["field"] == "columns"
    duplicate = client.post(f"/api/workflows/{workflow_id}/nodes", json={"type": "drop_nulls", "id": "drop"})
    assert duplicate.status_code == 409 and duplicate.json()["details"]["field"] == "id"
    malformed = client.post(f"/api/workflows/{workflow_id}/nodes", json={"type": "drop_nulls", "parameters": []})
    assert malformed.status_code == 422 and malformed.json()["code"] == "INVALID_REQUEST"


@pytest.fixture
def pipeline(client) -> str:
    """load -> clean -> split, train and a second table cleaner, not yet connected further."""
    workflow_id = new_workflow(client)
    for node_id, node_type in [("load", "csv_loader"), ("clean", "preprocess"), ("split", "train_test_split"),
                               ("train", "train_logreg"), ("nulls", "drop_nulls")]:
        add_node(client, workflow_id, type=node_type, id=node_id)
    for source, target in [("load", "clean"), ("clean", "split")]:
        assert add_edge(client, workflow_id, source=source, target=target).status_code == 201
    return workflow_id


def test_edges_get_explicit_ports_and_a_stable_id(client, pipeline):
    edges = client.get(f"/api/workflows/{pipeline}").json()["definition"]["connections"]
    assert edges[0] == {"id": "load:dataset->clean:dataset", "source": "load", "sourceHandle": "dataset",
                        "target": "clean", "targetHandle": "dataset"}
    ambiguous = problems(add_edge(client, pipeline, source="split", target="train"))
    assert ambiguous[0]["code"] == "AMBIGUOUS_PORT" and "train, test" in ambiguous[0]["message"]
    added = add_edge(client, pipeline, source="split", sourceHandle="train", target="train")
    assert added.status_code == 201, added.text
    assert added.json()["definition"]["connections"][-1]["id"] == "split:train->train:train"
    assert added.json()["current_version"] == 9

    duplicate = problems(add_edge(client, pipeline, source="load", target="clean", target_port="dataset"))
    assert duplicate[0]["code"] == "DUPLICATE_EDGE"


def test_edges_that_cannot_be_are_refused_naming_what_is_wrong(client, pipeline):
    before = client.get(f"/api/workflows/{pipeline}").json()
    mismatch = problems(add_edge(client, pipeline, source="train", source_port="model", target="nulls",
                                 target_port="dataset"))
    assert mismatch[0]["code"] == "PORT_TYPE_MISMATCH"
    assert "train.model" in mismatch[0]["message"] and "nulls.dataset" in mismatch[0]["message"]
    unknown_port = problems(add_edge(client, pipeline, source="split", source_port="validation", target="nulls"))
    assert unknown_port[0]["code"] == "UNKNOWN_PORT" and "train, test" in unknown_port[0]["message"]
    missing = problems(add_edge(client, pipeline, source="ghost", target="nulls"))
    assert [(p["code"], p["field"]) for p in missing] == [("MISSING_NODE", "source")]
    self_loop = problems(add_edge(client, pipeline, source="nulls", target="nulls"))
    assert self_loop[0]["code"] == "CYCLE"
    fed_twice = problems(add_edge(client, pipeline, source="nulls", target="clean"))
    assert [(p["code"], p["field"]) for p in fed_twice] == [("INPUT_CONNECTED_TWICE", "dataset")]

    assert client.get(f"/api/workflows/{pipeline}").json() == before  # nothing saved


def test_a_cycle_is_refused(client):
    workflow_id = new_workflow(client)
    for node_id in ("a", "b", "c"):
        add_node(client, workflow_id, type="drop_nulls", id=node_id)
    assert add_edge(client, workflow_id, source="a", target="b").status_code == 201
    assert add_edge(client, workflow_id, source="b", target="c").status_code == 201
    cycle = problems(add_edge(client, workflow_id, source="c", target="a"))
    assert [p["code"] for p in cycle] == ["CYCLE"]
    assert all(f"{a} -> {b}" in cycle[0]["message"] for a, b in (("a", "b"), ("b", "c"))) or \
        all(f"{a} -> {b}" in cycle[0]["message"] for a, b in (("b", "a"), ("c", "b")))


def test_removing_edges_and_nodes_with_their_edges(client, pipeline):
    edge = quote("load:dataset->clean:dataset", safe="")
    removed = client.delete(f"/api/workflows/{pipeline}/edges/{edge}")
    assert removed.status_code == 200, removed.text
    assert [e["id"] for e in removed.json()["definition"]["connections"]] == ["clean:dataset->split:dataset"]
    assert client.delete(f"/api/workflows/{pipeline}/edges/{edge}").status_code == 404

    without_clean = client.delete(f"/api/workflows/{pipeline}/nodes/clean").json()
    assert without_clean["definition"]["connections"] == []


def test_edges_saved_without_ids_are_addressed_by_their_ports(client):
    workflow_id = new_workflow(client, nodes=[{"id": "a", "type": "sample_dataset"}, {"id": "b", "type": "drop_nulls"}],
                               connections=[{"source": "a", "target": "b"}])
    removed = client.delete(f"/api/workflows/{workflow_id}/edges/{quote('a:dataset->b:dataset', safe='')}")
    assert removed.status_code == 200 and removed.json()["definition"]["connections"] == []


def test_versions_are_listed_read_and_restored(client):
    workflow_id = new_workflow(client)
    add_node(client, workflow_id, type="sample_dataset", id="data")
    add_node(client, workflow_id, type="drop_nulls", id="clean")
    assert add_edge(client, workflow_id, source="data", target="clean").status_code == 201

    versions = client.get(f"/api/workflows/{workflow_id}/versions").json()
    assert [(v["version"], v["nodes"], v["edges"], v["current"]) for v in versions] == [
        (4, 2, 1, True), (3, 2, 0, False), (2, 1, 0, False), (1, 0, 0, False)]
    second = client.get(f"/api/workflows/{workflow_id}/versions/2").json()
    assert [n["id"] for n in second["definition"]["nodes"]] == ["data"]
    assert client.get(f"/api/workflows/{workflow_id}/versions/9").status_code == 404

    restored = client.post(f"/api/workflows/{workflow_id}/versions/2/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["current_version"] == 5 and restored.json()["definition"] == second["definition"]
    assert client.get(f"/api/workflows/{workflow_id}/versions").json()[0]["nodes"] == 1
    assert client.post(f"/api/workflows/{workflow_id}/versions/9/restore").status_code == 404


def test_a_viewer_cannot_edit_an_editor_can(multi_user):
    owner, viewer, editor, stranger = (multi_user(f"{name}@example.com") for name in ("own", "view", "edit", "other"))
    workflow_id = new_workflow(owner)
    add_node(owner, workflow_id, type="sample_dataset", id="data")
    for email, role in (("view@example.com", "viewer"), ("edit@example.com", "editor")):
        shared = owner.put(f"/api/workflows/{workflow_id}/shares", json={"email": email, "role": role})
        assert shared.status_code in (200, 201), shared.text

    base = f"/api/workflows/{workflow_id}"
    assert viewer.get(f"{base}/versions").status_code == 200
    assert viewer.get(f"{base}/versions/1").status_code == 200
    for response in (viewer.post(f"{base}/nodes", json={"type": "drop_nulls"}),
                     viewer.patch(f"{base}/nodes/data", json={"label": "mine"}),
                     viewer.delete(f"{base}/nodes/data"),
                     viewer.post(f"{base}/edges", json={"source": "data", "target": "data"}),
                     viewer.post(f"{base}/versions/1/restore")):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "FORBIDDEN"
    for response in (stranger.get(f"{base}/versions"), stranger.post(f"{base}/nodes", json={"type": "drop_nulls"})):
        assert response.status_code == 404

    assert add_node(editor, workflow_id, type="drop_nulls", id="clean")["current_version"] == 3
    versions = owner.get(f"{base}/versions").json()
    assert versions[0]["created_by"] and versions[0]["created_by"] != versions[1]["created_by"]  # who saved what
