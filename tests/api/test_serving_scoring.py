"""api.serving.scoring and api.serving.batcher on models registered by a real Flowza run.

One run registers a Titanic classifier (impute, one-hot, normalize, logistic regression) and a
regressor of the fare on the same chain; both are loaded back from MLflow as a deployment loads them.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math

import numpy as np
import pandas as pd
import pytest

from api.serving.batcher import Batcher
from api.serving.scoring import MAX_ROWS, InvalidInput, answer, parse_body, score
from tests.api.test_models_api import TITANIC, run_in_own_home, use_registry


def titanic_models() -> dict:
    """The Titanic example plus a second split of the same cleaned table: a linear regression of the fare."""
    workflow = copy.deepcopy(TITANIC)
    workflow["name"] = "Titanic classifier and fare regressor"
    workflow["nodes"] += [
        {"id": "split_fare", "type": "train_test_split", "parameters": {"target_column": "fare", "test_size": 0.2}},
        {"id": "train_fare", "type": "train_linear_regression", "parameters": {}},
        {"id": "register_fare", "type": "register_model", "parameters": {"name": "titanic-fare"}}]
    workflow["connections"] += [
        {"source": "clean", "target": "split_fare"},
        {"source": "split_fare", "target": "train_fare", "sourceHandle": "train", "targetHandle": "train"},
        {"source": "train_fare", "target": "register_fare"}]
    return workflow


@pytest.fixture(scope="module")
def registry(prefect_api_url, tmp_path_factory):
    """titanic-survival v1 and titanic-fare v1 in the module's own MLflow: the tracking URI."""
    trained = run_in_own_home(titanic_models(), tmp_path_factory.mktemp("serving-home"))
    assert trained["record"]["status"] == "completed", trained["record"].get("error")
    return trained["tracking_uri"]


def load_registered(tracking_uri: str, name: str, folder):
    """The registered model as deployments load it, and its downloaded MLflow model folder."""
    import mlflow

    from flows.registry import download_model

    with pytest.MonkeyPatch.context() as env:
        use_registry(env, tracking_uri)
        local = download_model(name, 1, folder)
    return mlflow.sklearn.load_model(str(local)), local


@pytest.fixture(scope="module")
def classifier(registry, tmp_path_factory):
    return load_registered(registry, "titanic-survival", tmp_path_factory.mktemp("classifier"))[0]


@pytest.fixture(scope="module")
def regressor(registry, tmp_path_factory):
    return load_registered(registry, "titanic-fare", tmp_path_factory.mktemp("regressor"))[0]


def passengers(model, n: int = 6) -> pd.DataFrame:
    """``n`` complete raw rows in the loader's schema (the model's input example has gaps in age)."""
    from nodes.samples import load_sample

    rows = load_sample("titanic")[list(model.input_dtypes)].dropna().head(n)
    return rows.reset_index(drop=True)


def bodies(rows: pd.DataFrame) -> dict[str, dict]:
    """The same rows in every body MLflow's scoring server accepts."""
    records = json.loads(rows.to_json(orient="records"))
    columns = {c: [r[c] for r in records] for c in rows.columns}
    return {
        "split": {"dataframe_split": {"columns": list(rows.columns), "data": [list(r.values()) for r in records]}},
        "split_with_index": {"dataframe_split": {"index": [f"p{i}" for i in range(len(rows))],
                                                 "columns": list(rows.columns),
                                                 "data": [list(r.values()) for r in records]}},
        "records": {"dataframe_records": records},
        "instances_records": {"instances": records},
        "instances_columns": {"instances": columns},
        "inputs_records": {"inputs": records},
        "inputs_columns": {"inputs": columns},
        "inputs_rows": {"inputs": [list(r.values()) for r in records]},
    }


def scored_body(model, body) -> dict:
    rows, on_error = parse_body(json.dumps(body).encode())
    return answer(score(model, rows, on_error))


def test_every_body_format_scores_like_the_model(classifier):
    rows = passengers(classifier)
    expected, proba = classifier.predict_with_proba(rows)
    for name, body in bodies(rows).items():
        got = scored_body(classifier, body)
        assert got["predictions"] == expected.tolist(), name
        assert all(type(p) is int for p in got["predictions"]), name  # ints stay ints, as MLflow answers
        assert got["probabilities"] == [{"0": a, "1": b} for a, b in proba.tolist()], name
        assert "errors" not in got


def test_a_regressor_answers_floats_and_no_probabilities(regressor):
    rows = passengers(regressor)
    got = scored_body(regressor, bodies(rows)["records"])
    assert got == {"predictions": regressor.predict(rows).tolist()}
    assert all(type(p) is float for p in got["predictions"])


def test_predictions_equal_the_estimator_given_the_frame(classifier):
    """The fast path (an array for the estimator) answers exactly what the estimator says of the feature frame."""
    from nodes.samples import load_sample

    rows = load_sample("titanic")[list(classifier.input_dtypes)]
    features, errors = classifier.transform_rows(rows)
    named = features.set_axis(classifier.estimator_columns, axis=1)
    assert errors and len(features) == len(rows) - len(errors)
    predicted, proba = classifier.predict_with_proba(rows.drop(index=list(errors)))
    np.testing.assert_array_equal(predicted, classifier.estimator.predict(named))
    np.testing.assert_array_equal(proba, classifier.estimator.predict_proba(named))


def test_an_unseen_category_is_scored_as_the_one_hot_step_ignores_it(classifier):
    rows = passengers(classifier, 2)
    rows.loc[1, "embarked"] = "Atlantis"
    got = scored_body(classifier, bodies(rows)["records"])
    assert got["predictions"] == classifier.predict(rows).tolist() and "errors" not in got


def bad_rows(model) -> pd.DataFrame:
    """Five rows: 1 has text for a number, 3 lacks a value training dropped rows for, 4 a word for a boolean."""
    rows = passengers(model, 5).astype(object)
    rows.loc[1, "age"] = "forty"
    rows.loc[3, "embarked"] = None
    rows.loc[4, "adult_male"] = "yes"
    return rows


def test_bad_rows_fail_the_request_naming_each_row_and_column(classifier):
    with pytest.raises(InvalidInput) as caught:
        scored_body(classifier, bodies(bad_rows(classifier))["records"])
    errors = caught.value.errors
    assert [(e["row"], e["column"]) for e in errors] == [(1, "age"), (3, "embarked"), (4, "adult_male")]
    assert "'forty' is not a number" in errors[0]["message"] and "missing value" in errors[1]["message"]
    assert "3 row(s) cannot be scored" in caught.value.message and "on_error" in caught.value.message


def test_skip_scores_the_good_rows_and_lists_the_bad(classifier):
    rows = bad_rows(classifier)
    got = scored_body(classifier, {**bodies(rows)["split"], "on_error": "skip"})
    good = [0, 2]
    expected, proba = classifier.predict_with_proba(passengers(classifier, 5).iloc[good])
    assert [got["predictions"][i] for i in good] == expected.tolist()
    assert [got["predictions"][i] for i in (1, 3, 4)] == [None, None, None]
    assert [got["probabilities"][i] for i in (1, 3, 4)] == [None, None, None]
    assert got["probabilities"][2] == dict(zip(["0", "1"], proba[1].tolist()))
    assert [e["row"] for e in got["errors"]] == [1, 3, 4] and set(got["errors"][0]) == {"row", "message"}


def test_skip_with_every_row_bad_answers_nulls(regressor):
    rows = passengers(regressor, 2).astype(object)
    rows["age"] = "old"
    got = scored_body(regressor, {**bodies(rows)["records"], "on_error": "skip"})
    assert got["predictions"] == [None, None] and len(got["errors"]) == 2 and "probabilities" not in got


def test_a_missing_column_names_it(classifier):
    rows = passengers(classifier, 2).drop(columns=["fare", "sex"])
    with pytest.raises(InvalidInput) as caught:
        scored_body(classifier, bodies(rows)["records"])
    assert [(e["row"], e["column"]) for e in caught.value.errors] == [(None, "sex"), (None, "fare")]
    assert "missing column(s): sex, fare" in caught.value.message


def test_extra_columns_are_ignored(classifier):
    rows = passengers(classifier, 2)
    got = scored_body(classifier, bodies(rows.assign(name=["a", "b"], survived=[1, 0]))["records"])
    assert got["predictions"] == classifier.predict(rows).tolist()


SPLIT = {"columns": ["a", "b"], "data": [[1, 2]]}


@pytest.mark.parametrize("body, said", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'"text"', "must be a JSON object"),
    (b'{"dataframe_split": {"columns": ["a"], "data": [[NaN]]}}', "NaN is not a JSON number"),
    (b'{"dataframe_split": {"columns": ["a"], "data": [[Infinity]]}}', "Infinity is not a JSON number"),
    (b'{"dataframe_split": {"columns": ["a"], "data": [[1e999]]}}', "not a finite number"),
    (b'{"dataframe_split": {"columns": ["a"], "data": [[123456789012345678901234567890]]}}', "64-bit"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ({}, "exactly one of"),
    ({"params": {}}, "exactly one of"),
    ({"dataframe_split": SPLIT, "inputs": [[1, 2]]}, "got dataframe_split, inputs"),
    ({"dataframe_split": SPLIT, "on_error": "ignore"}, "on_error must be"),
    ({"dataframe_split": [[1, 2]]}, "must be an object"),
    ({"dataframe_split": {"columns": ["a"]}}, "must have 'data'"),
    ({"dataframe_split": {**SPLIT, "extra": 1}}, "unexpected: extra"),
    ({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}, "do not have 2 values"),
    ({"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}, "do not have 1 values"),
    ({"dataframe_split": {"columns": "a", "data": [[1]]}}, "must be a list of column names"),
    ({"dataframe_split": {**SPLIT, "index": [0, 1]}}, "one label per row"),
    ({"dataframe_split": {"columns": [["a"], "b"], "data": [[1, 2]]}}, "column names must be text"),
    ({"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}, "named twice: a"),
    ({"dataframe_split": {"columns": ["a", "b"], "data": [[1, {"x": 1}]]}}, "row 0, column 'b': an object"),
    ({"dataframe_records": [{"a": [1, 2]}]}, "row 0, column 'a': a list"),
    ({"dataframe_records": {"a": 1}}, "must be a list of rows"),
    ({"dataframe_records": [{"a": 1}, 5]}, "row 1 is a number"),
    ({"dataframe_records": []}, "holds no rows"),
    ({"instances": {"a": [1, 2], "b": [3]}}, "different lengths"),
    ({"instances": {"a": [1, 2], "b": 3}}, "one value while others hold lists"),
    ({"inputs": [[1, 2], [3]]}, "do not all have 2 values"),
    ({"inputs": "text"}, "must be a list of rows"),
    ({"dataframe_records": [{"a": 1}] * (MAX_ROWS + 1)}, "split the batch"),
])
def test_malformed_bodies_are_invalid_input_saying_what_is_wrong(body, said):
    with pytest.raises(InvalidInput) as caught:
        parse_body(body)
    assert said in caught.value.message, caught.value.message
    assert caught.value.errors and all(set(e) == {"row", "column", "message"} for e in caught.value.errors)


def test_parsed_rows_keep_json_types_and_a_fresh_index():
    rows, on_error = parse_body({"dataframe_split": {"index": [7, 9], "columns": ["n", "x", "s", "b"],
                                                     "data": [[1, 1.5, "a", True], [2, None, None, False]]},
                                 "on_error": "skip", "params": {"ignored": 1}})
    assert on_error == "skip" and list(rows.index) == [0, 1]
    assert rows["n"].tolist() == [1, 2] and rows["b"].tolist() == [True, False]
    assert math.isnan(rows.loc[1, "x"]) and rows.loc[0, "s"] == "a" and pd.isna(rows.loc[1, "s"])
    single, _ = parse_body({"inputs": {"n": 1, "s": "a"}})  # a dict of single values: one row
    assert single.to_dict("records") == [{"n": 1, "s": "a"}]


def test_rows_by_position_take_the_models_columns(classifier):
    rows = passengers(classifier, 3)
    got = scored_body(classifier, {"dataframe_split": {"data": rows.values.tolist()}})
    assert got["predictions"] == classifier.predict(rows).tolist()
    with pytest.raises(InvalidInput, match="missing column"):
        scored_body(classifier, {"inputs": [row[:-1] for row in rows.values.tolist()]})


# --- micro-batching --------------------------------------------------------------------------------
class CountingModel:
    """The real model, counting the rows of each scoring call (to see requests merged)."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict_with_proba(self, rows):
        self.calls.append(len(rows))
        return self.model.predict_with_proba(rows)


def test_concurrent_requests_share_model_calls_and_keep_their_own_rows_and_errors(classifier):
    good = passengers(classifier, 8)
    bad = bad_rows(classifier)
    requests = [(good.iloc[i:i + 1 + i % 3].reset_index(drop=True), "fail") for i in range(6)]
    requests += [(bad, "fail"), (bad, "skip"), (good.drop(columns="sex"), "fail")]
    alone = []
    for rows, on_error in requests:
        try:
            alone.append(score(classifier, rows, on_error))
        except InvalidInput as exc:
            alone.append(exc)
    spy = CountingModel(classifier)

    async def all_at_once():
        batcher = Batcher(spy)
        try:
            return await asyncio.gather(*(batcher.score(r, e) for r, e in requests), return_exceptions=True)
        finally:
            await batcher.close()

    together = asyncio.run(all_at_once())
    for got, expected in zip(together, alone):
        if isinstance(expected, InvalidInput):
            assert isinstance(got, InvalidInput) and got.errors == expected.errors
        else:
            assert got == expected
    # The missing column was refused before queueing; the others went through the model together, then
    # their good rows once more (the batch held bad rows).
    assert spy.calls == [sum(len(r) for r, _ in requests[:8]), sum(len(r) for r, _ in requests[:8]) - 6]


def test_a_lone_request_is_scored_at_once_and_a_closed_batcher_refuses_work(classifier):
    rows = passengers(classifier, 1)

    async def one():
        batcher = Batcher(classifier)
        got = await batcher.score(rows)
        await batcher.close()
        with pytest.raises(RuntimeError, match="replaced or unloaded"):
            await batcher.score(rows)
        return got

    assert asyncio.run(one()) == score(classifier, rows)
