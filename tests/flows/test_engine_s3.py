"""Runs whose outputs go to S3: a real S3 API server over HTTP (moto in server mode)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from flowza_core.settings import get_settings

pytestmark = pytest.mark.usefixtures("prefect_api_url")


def test_outputs_are_arrow_objects_in_s3_and_reused(flowza_env, s3_bucket, s3_endpoint, monkeypatch):
    from flows.engine import execute

    client, bucket = s3_bucket
    monkeypatch.setenv("FLOWZA_OBJECT_STORE_URL", f"s3://{bucket}/flowza")
    monkeypatch.setenv("FLOWZA_S3_ENDPOINT_URL", s3_endpoint)
    get_settings.cache_clear()
    wf = {"name": "s3", "nodes": [
        {"id": "load", "type": "sample_dataset", "parameters": {"name": "titanic"}},
        {"id": "enc", "type": "one_hot_encode", "parameters": {"columns": ["sex", "embarked"]}},
        {"id": "split", "type": "train_test_split", "parameters": {"target_column": "survived"}}],
        "connections": [{"source": "load", "target": "enc"}, {"source": "enc", "target": "split"}]}

    first = execute(wf)
    assert first["status"] == "completed"
    train = first["nodes"]["split"]["outputs"]["train"]
    assert train["uri"].startswith(f"s3://{bucket}/flowza/data/") and train["uri"].endswith(".arrow")
    key = train["uri"].removeprefix(f"s3://{bucket}/")
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    frame = pd.read_feather(io.BytesIO(body))
    assert len(frame) == train["rows"] and list(frame.columns) == train["columns"]
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"flowza/runs/{first['run_id']}.json" in keys
    assert sum(k.startswith("flowza/cache/") for k in keys) == 3

    second = execute(wf)
    assert all(n["cached"] for n in second["nodes"].values())
    assert second["nodes"]["split"]["outputs"] == first["nodes"]["split"]["outputs"]

    # Only the edited node and its downstream run again; their inputs are read back from S3.
    wf["nodes"][2]["parameters"]["test_size"] = 0.3
    third = execute(wf)
    assert [n["cached"] for n in third["nodes"].values()] == [True, True, False]
    assert third["nodes"]["split"]["outputs"]["test"]["rows"] == pytest.approx(891 * 0.3, abs=1)


def test_vector_searchs_index_is_kept_in_s3_and_read_back_by_the_next_run(flowza_env, s3_bucket, s3_endpoint,
                                                                         monkeypatch):
    from flows.engine import execute

    client, bucket = s3_bucket
    monkeypatch.setenv("FLOWZA_OBJECT_STORE_URL", f"s3://{bucket}/flowza")
    monkeypatch.setenv("FLOWZA_S3_ENDPOINT_URL", s3_endpoint)
    get_settings.cache_clear()

    def searching(query: str) -> dict:
        return {"name": "search", "nodes": [
            {"id": "docs", "type": "text_loader", "parameters": {"sample": "dataset_descriptions"}},
            {"id": "search", "type": "vector_search", "parameters": {"query": query, "top_k": 2}}],
            "connections": [{"source": "docs", "target": "search"}]}

    first, second = execute(searching("iris flowers")), execute(searching("wine cultivars"))

    kept = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="flowza/kept/")["Contents"]]
    assert len(kept) == 1 and kept[0].startswith("flowza/kept/vector_search/minilm-static-256-")
    contexts = [run["nodes"]["search"]["outputs"]["context"]["value"] for run in (first, second)]
    assert [c["index"]["reused"] for c in contexts] == [False, True]
    assert [c["hits"][0]["source"] for c in contexts] == ["iris.rst", "wine_data.rst"]
