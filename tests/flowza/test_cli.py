"""The `flowza` command as a user runs it: a subprocess, its exit code and its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def flowza(*args, env_extra=None, cwd=ROOT):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "flowza.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.fixture
def cli_env(flowza_env, prefect_api_url):
    return {"FLOWZA_HOME": str(flowza_env["home"]), "FLOWZA_DATA_DIR": str(ROOT),
            "PREFECT_API_URL": prefect_api_url}


def test_run_json_prints_one_object_and_exits_zero(cli_env):
    result = flowza("run", "examples/passengers.json", "--json", env_extra=cli_env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "completed" and record["run_id"]
    clean = record["nodes"]["clean"]
    assert clean["status"] == "completed" and clean["cached"] is False and clean["duration_s"] >= 0
    assert clean["outputs"]["dataset"]["rows"] == 6
    again = json.loads(flowza("run", "examples/passengers.json", "--json", env_extra=cli_env).stdout)
    assert all(n["cached"] for n in again["nodes"].values())
    fresh = json.loads(flowza("run", "examples/passengers.json", "--json", "--no-cache", env_extra=cli_env).stdout)
    assert not any(n["cached"] for n in fresh["nodes"].values())


def test_human_output_shows_progress_and_summary(cli_env):
    result = flowza("run", "examples/titanic.json", env_extra=cli_env)
    assert result.returncode == 0, result.stderr
    assert "[8/8]" in result.stdout and "completed" in result.stdout
    assert "train: " in result.stdout and "Traceback" not in result.stderr
    assert "accuracy" in result.stdout and "confusion matrix" in result.stdout
    assert "registered as titanic-survival v1 alias 'staging'" in result.stdout


def test_failed_run_exits_one_with_a_clear_message(cli_env, tmp_path):
    wf = {"name": "broken", "nodes": [{"id": "load", "type": "csv_loader", "parameters": {"file_path": "no.csv"}}]}
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(wf))
    result = flowza("run", str(path), env_extra=cli_env)
    assert result.returncode == 1
    assert "FILE_NOT_FOUND" in result.stdout and "no.csv" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    summary = result.stdout[result.stdout.index("\nRun "):]  # the run's own verdict, after the node lines
    assert " failed in " in summary and "FILE_NOT_FOUND at node 'load': " in summary and "no.csv" in summary
    record = json.loads(flowza("run", str(path), "--json", env_extra=cli_env).stdout)
    assert record["status"] == "failed" and record["nodes"]["load"]["error"]["code"] == "FILE_NOT_FOUND"
    assert record["error"] == {"code": "FILE_NOT_FOUND", "node_id": "load",
                               "message": record["nodes"]["load"]["error"]["message"]}


def test_invalid_workflows_and_files_exit_two_without_running(tmp_path, flowza_env):
    cyclic = tmp_path / "cyclic.json"
    cyclic.write_text(json.dumps({"nodes": [{"id": "a", "type": "drop_nulls"}, {"id": "b", "type": "drop_nulls"}],
                                  "connections": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}))
    env = {"FLOWZA_HOME": str(flowza_env["home"])}
    for command in ("run", "validate"):
        result = flowza(command, str(cyclic), env_extra=env)
        assert result.returncode == 2
        assert "CYCLE" in result.stderr and "Traceback" not in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{nodes: ")
    result = flowza("run", str(broken), env_extra=env)
    assert result.returncode == 2 and "not valid JSON" in result.stderr and "line 1" in result.stderr
    missing = flowza("validate", str(tmp_path / "absent.json"), env_extra=env)
    assert missing.returncode == 2 and "not found" in missing.stderr
    report = json.loads(flowza("validate", str(cyclic), "--json", env_extra=env).stdout)
    assert report["valid"] is False and report["problems"][0]["code"] == "CYCLE"


def test_nodes_lists_the_catalog():
    result = flowza("nodes")
    assert result.returncode == 0
    assert "csv_loader" in result.stdout and "train_test_split" in result.stdout
    entries = json.loads(flowza("nodes", "--json").stdout)
    split = next(e for e in entries if e["type"] == "train_test_split")
    assert [p["name"] for p in split["outputs"]] == ["train", "test"]
    assert split["parameters"]["properties"]["test_size"]["default"] == 0.2
