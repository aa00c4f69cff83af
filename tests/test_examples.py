"""Every shipped example workflow validates and runs to completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, flowza_env, prefect_api_url, monkeypatch):
    from flows.engine import execute
    from flowza.settings import get_settings

    monkeypatch.setenv("FLOWZA_DATA_DIR", str(ROOT))  # examples name files relative to the repository
    get_settings.cache_clear()
    record = execute(json.loads(path.read_text()))
    assert record["status"] == "completed", record
    for node_id, node in record["nodes"].items():
        if node["type"] == "evaluate":
            metrics = node["metrics"]
            assert metrics.get("accuracy", 0) > 0.6 or metrics.get("r2", 0) > 0.3, (node_id, metrics)
