"""Prompt -> workflow with the offline planner: a table of prompts on shipped samples and on uploaded-like CSVs.

Every accepted prompt yields a workflow that validates, reads the dataset's real column names, and (for a
selection) runs to completion on the real engine; the impossible ones are refused saying why.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.generate import generate_workflow
from flows.generate.profile import Source
from flows.generate.refusals import GenerationRefused
from flows.validation import validate_workflow


def kaggle_titanic(path: Path) -> None:
    """The Titanic list as Kaggle spells it: capitalised names, a passenger id, names, tickets and cabins."""
    from nodes.samples import load_sample

    t, rng = load_sample("titanic"), np.random.default_rng(0)
    cabins = [f"{d}{rng.integers(1, 130)}" if isinstance(d, str) else None for d in t["deck"]]
    pd.DataFrame({"PassengerId": range(1, len(t) + 1), "Survived": t["survived"], "Pclass": t["pclass"],
                  "Name": [f"Passenger{i}, Mr. {chr(65 + i % 26)}" for i in range(len(t))], "Sex": t["sex"],
                  "Age": t["age"], "SibSp": t["sibsp"], "Parch": t["parch"],
                  "Ticket": [f"PC {rng.integers(10000, 99999)}" for _ in range(len(t))], "Fare": t["fare"],
                  "Cabin": cabins, "Embarked": t["embarked"]}).to_csv(path, index=False)


def customers(path: Path) -> None:
    """Odd column names: spaces, units, a question mark, camelCase; gaps, an id and free-text notes."""
    rng = np.random.default_rng(1)
    n = 400
    tenure = rng.integers(1, 72, n)
    contract = rng.choice(["month-to-month", "one year", "two year"], n)
    charges = np.round(20 + rng.random(n) * 90, 2)
    churn = (rng.random(n) < np.where(contract == "month-to-month", 0.5, 0.1) + (tenure < 12) * 0.2)
    frame = pd.DataFrame({"Customer ID": [f"C{i:05d}" for i in range(n)], "Tenure (months)": tenure,
                          "Monthly Charges ($)": charges, "contractType": contract,
                          "Paperless Billing": rng.choice(["Yes", "No"], n),
                          "Notes": [f"called on day {i} about plan {rng.integers(1000)}" for i in range(n)],
                          "Churned?": np.where(churn, "Yes", "No")})
    frame.loc[rng.choice(n, 30, replace=False), "Monthly Charges ($)"] = np.nan
    frame.to_csv(path, index=False)


CSV_FILES = {"kaggle_titanic.csv": kaggle_titanic, "customers.csv": customers}


@pytest.fixture
def data_dir(flowza_env):
    for name, write in CSV_FILES.items():
        write(flowza_env["data"] / name)
    return flowza_env["data"]


def csv_source(data_dir: Path, name: str) -> Source:
    """What `flowza generate --dataset` and an upload give the generator: a csv_loader and the table."""
    return Source({"type": "csv_loader", "parameters": {"file_path": name}}, pd.read_csv(data_dir / name), name)


# (id, dataset file or None for the sample the prompt names, prompt, expected) — expected is a refusal code, or
# {"target", "models", "has" (node type -> parameters it must hold, or None), "warn" (words a warning holds)}.
PROMPTS = [
    ("titanic-xgboost", None, "predict survived from titanic with xgboost, fill missing ages",
     {"target": "survived", "models": ["train_xgboost"], "has": {"impute": {"strategy": "median", "columns": ["age"]},
                                                                  "one_hot_encode": None},
      "warn": "alive"}),
    ("titanic-logistic-wording", None, "Which passengers would survive the Titanic? Use logistic regression.",
     {"target": "survived", "models": ["train_logreg"], "has": {"normalize": None}}),
    ("titanic-misspelled-register", None, "predict surived on titanic using a random forest and register it as "
                                          "titanic-forest",
     {"target": "survived", "models": ["train_random_forest"], "has": {"register_model": {"name": "titanic-forest"}}}),
    ("titanic-compare", None, "compare models for titanic survival",
     {"target": "survived", "models": ["train_logreg", "train_random_forest", "train_xgboost"], "evaluates": 3}),
    ("iris-forest", None, "classify iris species with a random forest",
     {"target": "target", "models": ["train_random_forest"]}),
    ("wine-cultivar", None, "which cultivar is a wine? use xgboost",
     {"target": "target", "models": ["train_xgboost"]}),
    ("diabetes-regression", None, "predict disease progression on diabetes",
     {"target": "target", "models": ["train_linear_regression"]}),
    ("breast-cancer-register", None, "breast cancer: predict whether a tumour is malignant, normalize, register as "
                                     "cancer-logreg with alias staging",
     {"target": "target", "models": ["train_logreg"],
      "has": {"register_model": {"name": "cancer-logreg", "alias": "staging"}}}),
    ("digits-mnist", None, "recognise handwritten digits (mnist) with logistic regression, 25% test",
     {"target": "target", "models": ["train_logreg"], "has": {"train_test_split": {"test_size": 0.25}}}),
    ("titanic-cleaning-only", None, "titanic: drop rows with missing values and one-hot encode sex then normalize "
                                    "with min-max",
     {"target": None, "models": [], "has": {"drop_nulls": {}, "one_hot_encode": {"columns": ["sex"]},
                                            "normalize": {"method": "minmax"}}}),
    ("kaggle-issue-prompt", "kaggle_titanic.csv", "predict survived with xgboost, drop the name column, fill missing "
                                                  "ages",
     {"target": "Survived", "models": ["train_xgboost"],
      "has": {"drop_columns": None, "impute": {"strategy": "median", "columns": ["Age"]}}, "warn": "Ticket",
      "dropped": ["Name", "Ticket", "Cabin", "PassengerId"]}),
    ("kaggle-survival-stem", "kaggle_titanic.csv", "Train a classifier for survival; drop rows where embarked is "
                                                   "missing and fill missing ages with the mean",
     {"target": "Survived", "models": ["train_logreg"],
      "has": {"drop_nulls": {"subset": ["Embarked"]}, "impute": {"strategy": "mean", "columns": ["Age"]}}}),
    ("customers-odd-names", "customers.csv", "predict churnd with a random forest, fill missing monthly charges "
                                             "with the mean",
     {"target": "Churned?", "models": ["train_random_forest"],
      "has": {"impute": {"strategy": "mean", "columns": ["Monthly Charges ($)"]},
              "one_hot_encode": {"columns": ["contractType", "Paperless Billing"]}},
      "dropped": ["Customer ID", "Notes"]}),
    ("customers-regression-compare", "customers.csv", "estimate the monthly charges from the tenure, compare models",
     {"target": "Monthly Charges ($)", "models": ["train_linear_regression", "train_random_forest", "train_xgboost"],
      "has": {"drop_nulls": {"subset": ["Monthly Charges ($)"]}}}),
    ("housing-xgboost", None, "house prices: estimate price with xgboost",
     {"target": "price", "models": ["train_xgboost"]}),
    # Refusals
    ("empty", None, "   ", "PROMPT_NOT_UNDERSTOOD"),
    ("emails", None, "sort my emails", "PROMPT_NOT_UNDERSTOOD"),
    ("weather-no-data", None, "predict the weather tomorrow", "NO_DATASET"),
    ("weather-titanic", None, "predict the weather tomorrow from titanic", "COLUMN_NOT_FOUND"),
    ("kaggle-unknown-target", "kaggle_titanic.csv", "predict the passenger_class column", "COLUMN_NOT_FOUND"),
    ("regression-on-text", None, "regression of embarked on titanic", "TASK_MISMATCH"),
    ("linear-on-text", None, "predict sex from titanic with linear regression", "TASK_MISMATCH"),
    ("classify-continuous", None, "classify fare on titanic", "TASK_MISMATCH"),
]
ACCEPTED = [p for p in PROMPTS if isinstance(p[3], dict)]
REFUSED = [p for p in PROMPTS if isinstance(p[3], str)]


def generate(data_dir: Path, dataset: str | None, prompt: str):
    return generate_workflow(prompt, csv_source(data_dir, dataset) if dataset else None)


def nodes_of(workflow: dict, node_type: str) -> list[dict]:
    return [n for n in workflow["nodes"] if n["type"] == node_type]


def test_the_table_is_varied():
    assert len(PROMPTS) >= 15 and len(REFUSED) >= 6
    assert {d for _, d, _, _ in PROMPTS} >= {None, *CSV_FILES}


@pytest.mark.parametrize("case", ACCEPTED, ids=[p[0] for p in ACCEPTED])
def test_prompt_becomes_a_valid_grounded_workflow(case, data_dir):
    _, dataset, prompt, want = case
    generated = generate(data_dir, dataset, prompt)
    workflow = generated.workflow
    assert json.loads(json.dumps(workflow)) == workflow  # plain JSON, as the API sends it
    plan, problems = validate_workflow(workflow)
    assert plan is not None, problems
    columns = list(pd.read_csv(data_dir / dataset).columns) if dataset else None
    splits = nodes_of(workflow, "train_test_split")
    if want["target"] is None:
        assert not splits
    else:
        assert [s["parameters"]["target_column"] for s in splits] == [want["target"]]
        if columns:
            assert want["target"] in columns
    assert [n["type"] for n in workflow["nodes"] if n["type"].startswith("train_") and n["type"] != "train_test_split"] \
        == want["models"]
    assert len(nodes_of(workflow, "evaluate")) == want.get("evaluates", len(want["models"]))
    for node_type, params in want.get("has", {}).items():
        found = nodes_of(workflow, node_type)
        assert found, f"no {node_type} node in {[n['type'] for n in workflow['nodes']]}"
        if params is not None:
            assert any(params.items() <= n["parameters"].items() for n in found), (node_type, found)
    if "dropped" in want:
        dropped = [c for n in nodes_of(workflow, "drop_columns") for c in n["parameters"]["columns"]]
        assert set(want["dropped"]) <= set(dropped)
    if "warn" in want:
        assert any(want["warn"] in w for w in generated.warnings), generated.warnings
    for node in workflow["nodes"]:  # every column a cleaning step names is a real one
        named = [c for key in ("columns", "subset") for c in node["parameters"].get(key) or []]
        assert not columns or set(named) <= set(columns), node
    xs = {n["id"]: n["position"]["x"] for n in workflow["nodes"]}
    for edge in workflow["connections"]:  # laid out left to right
        assert xs[edge["source"]] < xs[edge["target"]], edge
    assert len({(n["position"]["x"], n["position"]["y"]) for n in workflow["nodes"]}) == len(workflow["nodes"])
    assert generated.explanation
    if want["target"]:
        assert f"Predicts '{want['target']}'" in generated.explanation


@pytest.mark.parametrize("case", REFUSED, ids=[p[0] for p in REFUSED])
def test_impossible_prompt_is_refused_saying_why(case, data_dir):
    _, dataset, prompt, code = case
    with pytest.raises(GenerationRefused) as refused:
        generate(data_dir, dataset, prompt)
    assert refused.value.code == code
    assert len(refused.value.message) > 30


def test_a_missing_column_is_named_with_its_near_matches(data_dir):
    with pytest.raises(GenerationRefused) as refused:  # nothing to predict: refused
        generate(data_dir, "kaggle_titanic.csv", "predict the passenger_class column")
    assert "passenger_class" in refused.value.message
    assert "Pclass" in refused.value.to_dict()["near_matches"]
    # A column to drop that is not there is already gone: the workflow is offered, and a warning says so.
    generated = generate(data_dir, "kaggle_titanic.csv", "predict Survived, drop the passenger_name column")
    [warning] = [w for w in generated.warnings if "passenger_name" in w]
    assert "no column 'passenger_name'" in warning and "'Name'" in warning and "'PassengerId'" in warning
    generated = generate(data_dir, None, "predict survived from titanic with xgboost, drop the name column, "
                                         "fill missing ages")  # the sentence, on the shipped sample
    assert any("no column 'name'" in w for w in generated.warnings)
    assert nodes_of(generated.workflow, "train_xgboost") and nodes_of(generated.workflow, "impute")


def test_stratify_is_off_when_a_class_is_too_rare(data_dir):
    frame = pd.DataFrame({"x": range(300), "y": ["a"] * 150 + ["b"] * 149 + ["c"]})
    frame.to_csv(data_dir / "rare.csv", index=False)
    generated = generate(data_dir, "rare.csv", "predict y")
    assert nodes_of(generated.workflow, "train_test_split")[0]["parameters"]["stratify"] is False


@pytest.mark.parametrize("case_id", [p[0] for p in ACCEPTED])
def test_generated_workflow_runs_on_the_engine(case_id, data_dir, prefect_api_url):
    from flows.engine import execute

    _, dataset, prompt, want = next(p for p in PROMPTS if p[0] == case_id)
    workflow = generate(data_dir, dataset, prompt).workflow
    record = execute(json.loads(json.dumps(workflow)))
    assert record["status"] == "completed", record.get("error")
    evaluations = [n["metrics"] for n in record["nodes"].values() if n["type"] == "evaluate"]
    assert len(evaluations) == len(want["models"])
    for metrics in evaluations:
        assert "accuracy" in metrics or "r2" in metrics
        if case_id in ("titanic-xgboost", "kaggle-issue-prompt"):
            assert metrics["accuracy"] > 0.7, metrics


def test_cli_generate_writes_a_workflow_file(data_dir, tmp_path, capsys, monkeypatch):
    from flowza.cli import main

    out = tmp_path / "out.json"
    assert main(["generate", "predict survival with xgboost, fill missing ages", "--dataset",
                 str(data_dir / "kaggle_titanic.csv"), "-o", str(out)]) == 0
    workflow = json.loads(out.read_text())
    assert workflow["nodes"][0]["parameters"] == {"file_path": "kaggle_titanic.csv"}
    assert validate_workflow(workflow)[0] is not None
    said = capsys.readouterr().out
    assert "Survived" in said and "warning: dropped 'Ticket'" in said
    assert main(["generate", "predict survivl with xgboost", "--dataset", str(data_dir / "kaggle_titanic.csv"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["workflow"]["nodes"][0]["type"] == "csv_loader"
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("a,b\n1,2\n")
    assert main(["generate", "predict b", "--dataset", str(outside)]) == 2
    assert "outside the data directory" in capsys.readouterr().err
    assert main(["generate", "predict the weather tomorrow from titanic", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "COLUMN_NOT_FOUND"
