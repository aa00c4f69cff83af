"""A csv_loader's warnings land in the run record, and a cached re-run still reports them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("prefect_api_url")


def test_a_loader_warning_is_kept_in_the_run_record_with_its_fix(flowza_env):
    from flows.engine import execute

    (flowza_env["data"] / "census.data").write_bytes(b"".join(
        f"{30 + i % 40}, {'?' if i % 9 == 0 else 'Private'}, {i * 7}\r".encode() for i in range(300)))
    wf = {"name": "census", "nodes": [{"id": "load", "type": "csv_loader",
                                       "parameters": {"file_path": "census.data"}}], "connections": []}

    first = execute(wf)
    assert first["status"] == "completed"
    warnings = first["nodes"]["load"]["warnings"]
    assert {"code": "HEADER_LOOKS_LIKE_DATA", "fix": {"has_header": False},
            "message": "the first row looks like data, not column names: no header? set has_header=false"} in warnings
    assert first["nodes"]["load"]["outputs"]["dataset"]["rows"] == 299
    again = execute(wf)
    assert again["nodes"]["load"]["cached"] and again["nodes"]["load"]["warnings"] == warnings

    wf["nodes"][0]["parameters"] |= {"has_header": False, "na_values": ["?"], "skip_initial_space": True}
    fixed = execute(wf)
    loaded = fixed["nodes"]["load"]
    assert "warnings" not in loaded  # the record names warnings only when there are some
    assert loaded["outputs"]["dataset"]["rows"] == 300 and loaded["outputs"]["dataset"]["null_counts"]["column_2"] == 34
