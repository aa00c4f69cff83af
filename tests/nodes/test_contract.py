"""Contract every registered node keeps: described, schema-driven, runnable on a tiny table."""

from __future__ import annotations

import http.server
import inspect
import json
import threading

import jsonschema
import pandas as pd
import pytest
from pydantic import ValidationError

from nodes.catalog import CATEGORY_ORDER, catalog, discover
from nodes.ports import PORT_TYPES, SEED_PORT_ALIASES, Dataset, Json, Metrics, Model, Text

# Shipped nodes only: other tests may register nodes of their own.
NODE_TYPES = sorted(t for t, d in discover().items() if d.func.__module__.startswith("nodes."))
PORT_CLASSES = {name: cls for cls, name in PORT_TYPES.items()}

# Params that make each node do real work on TINY_FRAME (or on "tiny.csv", the same table
# written to the data directory). A new node type needs an entry here.
TINY_PARAMS = {
    "csv_loader": {"file_path": "tiny.csv"},
    "sample_dataset": {"name": "iris"},
    "drop_columns": {"columns": ["colour"]},
    "drop_nulls": {},
    "filter_rows": {"column": "size", "operator": ">", "value": 1.5},
    "impute": {},
    "normalize": {},
    "one_hot_encode": {},
    "preprocess": {"normalize": True},
    "select_features": {"k": 1, "columns": ["size", "count"]},
    "train_test_split": {"target_column": "target", "test_size": 0.25},
    "train_logreg": {"target_column": "target"},
    "train_xgboost": {"target_column": "target", "n_estimators": 5},
    "train_random_forest": {"target_column": "target", "n_estimators": 5},
    "train_linear_regression": {"target_column": "size"},
    "evaluate": {},
    "register_model": {"name": "tiny"},
    # Nodes that reach outside Flowza: a PostgreSQL database and an HTTP server of the test (see ``outside``).
    "sql_query": {"connection": "pg", "query": "SELECT 1.5 AS size, 'red' AS colour"},
    "db_write": {"connection": "pg", "table": "tiny"},
    "http_request": {"url": "http://127.0.0.1:{port}/tiny", "response_as": "table"},
    "s3_loader": {"connection": "s3", "key": "tiny.csv"},
    "s3_writer": {"connection": "s3", "key": "out/tiny.parquet"},
    "llm_call": {"connection": "llm", "prompt": "{{ values.tiny }}: {{ rows | length }} rows", "output": "json"},
    # Text and retrieval: the tiny table's colours are the texts.
    "text_loader": {"column": "colour"},
    "chunk_text": {"column": "colour", "chunk_size": 20, "overlap": 0},
    "embed_text": {"column": "colour"},
    "vector_search": {"query": "{{ values.tiny }} red", "column": "colour", "top_k": 2},
}
OUTSIDE = {"sql_query", "db_write", "http_request", "llm_call", "s3_loader", "s3_writer"}
TINY_FRAME = pd.DataFrame({
    "size": [1.0, 2.0, None, 4.0, 5.0, 6.0, 7.0, 8.0],
    "count": [3, 1, 4, 1, 5, 9, 2, 6],
    "colour": ["red", "blue", "red", None, "green", "blue", "red", "green"],
    "target": [0, 1, 0, 1, 0, 1, 0, 1],
})
# Training needs numbers without gaps: the tiny table, cleaned.
CLEAN_FRAME = TINY_FRAME.dropna().drop(columns=["colour"])


def tiny_model() -> Model:
    from sklearn.linear_model import LogisticRegression

    from nodes.model import FlowzaModel

    X, y = CLEAN_FRAME.drop(columns=["target"]), CLEAN_FRAME["target"]
    predictor = FlowzaModel(estimator=LogisticRegression().fit(X, y), input_dtypes={"size": "number", "count": "number"},
                            feature_columns=["size", "count"], target="target", classes=[0, 1], example_rows=X.head(2))
    return Model(predictor)


TINY_PORT_VALUES = {
    "dataset": lambda: Dataset(TINY_FRAME.copy()),
    "model": tiny_model,
    "metrics": lambda: Metrics({"accuracy": 0.5}),
    "text": lambda: Text("tiny"),
    "json": lambda: Json({"tiny": True}),
}


def tiny_params(node_type: str) -> dict:
    if node_type not in TINY_PARAMS:
        pytest.fail(f"node '{node_type}' has no tiny fixture: add its params to TINY_PARAMS in {__file__}")
    return TINY_PARAMS[node_type]


def tiny_inputs(defn) -> dict:
    missing = sorted(set(defn.inputs.values()) - set(TINY_PORT_VALUES))
    assert not missing, f"add a tiny value for port type(s) {missing} to TINY_PORT_VALUES"
    inputs = {port: TINY_PORT_VALUES[kind]() for port, kind in defn.inputs.items()}
    if defn.category in ("training", "evaluation"):
        inputs = {port: Dataset(CLEAN_FRAME.copy()) if kind == "dataset" else value
                  for (port, kind), value in zip(defn.inputs.items(), inputs.values())}
    return inputs


def test_tiny_fixtures_cover_exactly_the_registered_nodes():
    assert set(TINY_PARAMS) == set(NODE_TYPES), "TINY_PARAMS must name every registered node, and only those"


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_description_is_the_docstring(node_type):
    defn = discover()[node_type]
    assert defn.description.strip()
    assert defn.description == inspect.cleandoc(defn.func.__doc__)


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_category_is_a_catalog_category(node_type):
    assert discover()[node_type].category in CATEGORY_ORDER


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_schema_is_a_closed_json_schema(node_type):
    schema = discover()[node_type].schema()
    assert json.loads(json.dumps(schema)) == schema
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_default_params_validate_or_the_schema_says_what_is_needed(node_type):
    """The editor builds the form from the schema: what the defaults lack, the schema must state."""
    defn = discover()[node_type]
    schema = defn.schema()
    try:
        defaults = defn.params_model()
    except ValidationError as exc:
        required = set(schema.get("required", []))
        alternatives = schema.get("oneOf") or schema.get("anyOf") or []
        for error in exc.errors():
            if error["type"] == "missing":
                assert error["loc"][0] in required, f"{error['loc'][0]} is needed but not in schema 'required'"
            else:
                assert alternatives, (f"defaults fail with '{error['msg']}', a rule the JSON schema does not "
                                      f"state (no 'required', 'oneOf' or 'anyOf')")
    else:
        jsonschema.validate(defaults.model_dump(mode="json"), schema)


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_tiny_params_satisfy_the_json_schema(node_type):
    jsonschema.validate(tiny_params(node_type), discover()[node_type].schema())


def tiny_bucket(request) -> dict:
    """For the S3 nodes: an ``s3`` connection to a bucket of the local S3 API server holding tiny.csv."""
    if not request.node.callspec.params["node_type"].startswith("s3_"):
        return {}
    client, bucket = request.getfixturevalue("s3_bucket")
    client.put_object(Bucket=bucket, Key="tiny.csv", Body=TINY_FRAME.to_csv(index=False).encode())
    return {"s3": {"kind": "s3", "endpoint_url": request.getfixturevalue("s3_endpoint"), "bucket": bucket,
                   "access_key_id": "testing", "secret_access_key": "testing"}}


@pytest.fixture
def outside(request, monkeypatch) -> dict:
    """For nodes that reach outside Flowza: a ``pg`` connection to a fresh database, and a local HTTP server
    answering the tiny table as JSON records (at ``{port}`` of the params; private addresses allowed), and
    an ``llm`` openai connection to the same server, whose chat completions answer ``{"tiny": true}``."""
    from flowza_core.settings import get_settings

    if request.node.callspec.params["node_type"] not in OUTSIDE:
        yield {"connections": {}, "port": None}
        return
    records = json.dumps(CLEAN_FRAME.to_dict(orient="records")).encode()

    class Tiny(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(records)))
            self.end_headers()
            self.wfile.write(records)

        def do_POST(self):  # an OpenAI-compatible /chat/completions
            self.rfile.read(int(self.headers["Content-Length"]))
            answer = json.dumps({"choices": [{"message": {"role": "assistant", "content": '{"tiny": true}'}}]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiny)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    url = request.getfixturevalue("postgres_database")
    port = server.server_address[1]
    llm = {"kind": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "model": "tiny", "api_key": "sk-tiny"}
    yield {"connections": {"pg": {"kind": "postgresql", "url": url}, "llm": llm, **tiny_bucket(request)}, "port": port}
    server.shutdown()
    get_settings.cache_clear()


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_runs_on_a_tiny_table_and_fills_every_output_port(node_type, run_node, data_dir, outside):
    defn = discover()[node_type]
    TINY_FRAME.to_csv(data_dir / "tiny.csv", index=False)
    params = {k: v.format(port=outside["port"]) if isinstance(v, str) and "{port}" in v else v
              for k, v in tiny_params(node_type).items()}

    outputs = run_node(node_type, tiny_inputs(defn), protected={"target"}, connections=outside["connections"],
                       **params)

    assert set(outputs) == set(defn.outputs)
    for port, kind in defn.outputs.items():
        assert isinstance(outputs[port], PORT_CLASSES[kind]), f"port {port} should carry a {kind}"
        if kind == "dataset":
            assert not outputs[port].frame.empty


def test_catalog_lists_every_registered_node_once_in_category_order():
    entries = catalog()
    assert sorted(e["type"] for e in entries) == sorted(discover())
    assert set(NODE_TYPES) <= {e["type"] for e in entries}
    order = [(CATEGORY_ORDER.index(e["category"]), e["type"]) for e in entries]
    assert order == sorted(order)


@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_catalog_entry_is_derived_from_the_node(node_type):
    defn = discover()[node_type]
    entry = next(e for e in catalog() if e["type"] == node_type)
    port_args = [a for a in inspect.signature(defn.func).parameters if a not in ("params", "ctx")]
    assert [port["name"] for port in entry["inputs"]] == port_args
    assert entry == {
        "type": node_type,
        "category": defn.category,
        "description": defn.description,
        "version": defn.version,
        "inputs": [{"name": n, "type": t} for n, t in defn.inputs.items()],
        "outputs": [{"name": n, "type": t} for n, t in defn.outputs.items()],
        "port_aliases": {alias: canonical for alias, canonical in SEED_PORT_ALIASES.items()
                         if any(canonical in ports and alias not in ports for ports in (defn.inputs, defn.outputs))},
        "parameters": defn.params_model.model_json_schema(),
    }
