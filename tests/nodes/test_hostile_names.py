"""Any column name trains: one-hot output like ``ocean_proximity_<1H OCEAN``, integer names,
colliding names — and data the estimators refuse is a clear node error, never an internal one.

Parity: a plain script splits the same rows, one-hot encodes on the training rows, names the
features f0..fN and fits the same estimator with the same parameters; Flowza must match it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from flowza_core.errors import InvalidData, InvalidParameter, NodeFailed, TrainingFailed
from nodes.model import UnscorableRows
from nodes.ports import Dataset
from nodes.transforms import OneHot
from tests.nodes.test_parity import assert_same_figures, assert_same_predictions, classification_figures, same

OCEAN = ["<1H OCEAN", "INLAND", "NEAR BAY", "NEAR OCEAN", "ISLAND"]
SPLIT = {"test_size": 0.25, "random_state": 7}


def housing(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """California-housing-shaped: eight numeric columns, ``ocean_proximity`` and the house value."""
    rng = np.random.default_rng(seed)
    ocean = rng.choice(OCEAN, size=n, p=[0.42, 0.3, 0.12, 0.12, 0.04])
    income = rng.gamma(4.0, 1.0, n)
    households = rng.integers(100, 1500, n)
    frame = pd.DataFrame({
        "longitude": rng.uniform(-124.3, -114.3, n), "latitude": rng.uniform(32.5, 42.0, n),
        "housing_median_age": rng.integers(1, 52, n).astype(float),
        "total_rooms": households * rng.uniform(3, 7, n), "total_bedrooms": households * rng.uniform(0.9, 1.3, n),
        "population": households * rng.uniform(2, 4, n), "households": households.astype(float),
        "median_income": income, "ocean_proximity": ocean})
    premium = pd.Series(ocean).map({"<1H OCEAN": 60e3, "INLAND": -40e3, "NEAR BAY": 80e3, "NEAR OCEAN": 70e3,
                                    "ISLAND": 150e3}).to_numpy()
    value = 40e3 * income + premium + rng.normal(0, 30e3, n)
    frame["median_house_value"] = np.clip(value, 15e3, 500001.0)
    return frame


def housing_classes() -> pd.DataFrame:
    """The same table with the value binarised: 1 when above the median."""
    frame = housing()
    value = frame.pop("median_house_value")
    frame["expensive"] = (value > value.median()).astype(int)
    return frame


@pytest.fixture
def flowza(run_node):
    """``flowza(frame, target, trainer, params)``: one_hot_encode (-> normalize) -> split -> train -> evaluate."""

    def run(frame, target, trainer, params, *, scale=False, plots=False):
        encoded = run_node("one_hot_encode", {"dataset": Dataset(frame)}, protected={target})["dataset"]
        if scale:
            encoded = run_node("normalize", {"dataset": encoded}, protected={target})["dataset"]
        parts = run_node("train_test_split", {"dataset": encoded}, target_column=target, **SPLIT)
        model = run_node(trainer, {"train": parts["train"]}, **params)["model"]
        out = run_node("evaluate", {"model": model, "test": parts["test"]}, plots=plots)
        return model, parts["test"], out["metrics"], out["predictions"].frame

    return run


def script(frame, target, categorical, make, *, scale=False):
    """The plain version: split, encode (and scale) on training rows, name the features f0..fN, fit, predict."""
    X, y = frame.drop(columns=target), frame[target]
    X_train, X_test, y_train, y_test = train_test_split(X, y, **SPLIT)
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(X_train[categorical])
    numeric = X_train.drop(columns=categorical).to_numpy(dtype="float64")
    scaler = StandardScaler().fit(numeric) if scale else None

    def features(part):
        numbers = part.drop(columns=categorical).to_numpy(dtype="float64")
        values = np.hstack([scaler.transform(numbers) if scale else numbers, encoder.transform(part[categorical])])
        return pd.DataFrame(values, index=part.index, columns=[f"f{i}" for i in range(values.shape[1])])

    estimator = make().fit(features(X_train), y_train)
    test = features(X_test)
    proba = estimator.predict_proba(test) if hasattr(estimator, "predict_proba") else None
    names = [c for c in X.columns if c not in categorical] + [
        f"{c}_{v}" for c, cats in zip(categorical, encoder.categories_) for v in cats]
    return estimator, names, X_test.index, y_test, estimator.predict(test), proba


def importances(estimator) -> np.ndarray:
    if hasattr(estimator, "feature_importances_"):
        return estimator.feature_importances_
    return np.abs(np.atleast_2d(estimator.coef_)).mean(axis=0)


# (table, target, trainer, node params, the script's estimator, scale numbers first)
HOUSING_CASES = {
    "xgboost_regressor": (housing, "median_house_value", "train_xgboost", {"n_estimators": 40},
                          lambda: XGBRegressor(n_estimators=40, max_depth=3, learning_rate=0.1, subsample=1.0,
                                               colsample_bytree=1.0, random_state=42, tree_method="hist"), False),
    "xgboost_classifier": (housing_classes, "expensive", "train_xgboost", {"n_estimators": 40},
                           lambda: XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.1, subsample=1.0,
                                                 colsample_bytree=1.0, random_state=42, tree_method="hist"), False),
    "random_forest": (housing, "median_house_value", "train_random_forest", {"n_estimators": 30},
                      lambda: RandomForestRegressor(n_estimators=30, random_state=42), False),
    # Unscaled room counts leave lbfgs far from converged: scaled as a user would.
    "logreg": (housing_classes, "expensive", "train_logreg", {},
               lambda: LogisticRegression(C=1.0, max_iter=1000, random_state=42), True),
    "linear_regression": (housing, "median_house_value", "train_linear_regression", {},
                          lambda: LinearRegression(), False),
}


@pytest.mark.parametrize("case", list(HOUSING_CASES))
def test_housing_after_one_hot_trains_like_a_script_that_renames_the_columns(flowza, case):
    table, target, trainer, params, make, scale = HOUSING_CASES[case]
    frame = table()

    model, test, metrics, predictions = flowza(frame, target, trainer, params, scale=scale)

    estimator, names, index, y_test, pred, proba = script(frame, target, ["ocean_proximity"], make, scale=scale)
    assert "ocean_proximity_<1H OCEAN" in names
    assert model.predictor.feature_columns == names  # the user's names, in the script's order
    if model.task == "classification":
        assert_same_figures(metrics.values, classification_figures(y_test, pred, proba, [0, 1]))
        assert_same_predictions(predictions, index, pred)
    else:
        assert metrics.values["rmse"] == same(skm.root_mean_squared_error(y_test, pred))
        assert metrics.values["mae"] == same(skm.mean_absolute_error(y_test, pred))
        assert metrics.values["r2"] == same(skm.r2_score(y_test, pred))
        np.testing.assert_allclose(predictions["prediction"], pred, rtol=0, atol=1e-9)
    shown = metrics.values["feature_importance"]
    assert list(shown) == names
    np.testing.assert_allclose(list(shown.values()), importances(estimator), rtol=0, atol=1e-9)
    served = model.predictor.predict(test.raw_rows.drop(columns=target))  # raw rows, text categories and all
    np.testing.assert_array_equal(served, predictions["prediction"].to_numpy())


def test_the_importance_chart_draws_names_matplotlib_would_read_as_math(flowza):
    frame = housing().rename(columns={"median_income": r"income_$\frac$", "population": "$5 or $6"})

    _, _, metrics, _ = flowza(frame, "median_house_value", "train_xgboost", {"n_estimators": 5}, plots=True)

    assert metrics.artifacts["feature_importance.png"].startswith(b"\x89PNG")
    assert r"income_$\frac$" in metrics.values["feature_importance"]


# --- integer column names (a headerless CSV) ------------------------------------------------------

def headerless() -> pd.DataFrame:
    """Columns 0..4 numbers, 5 categories with hostile values (an empty one too), and a target 'y'."""
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame({i: rng.normal(size=n) for i in range(5)})
    frame[5] = rng.choice(["<1H OCEAN", "a[1]", "x]", "naïve", ""], size=n)
    frame["y"] = frame[0] + (frame[5] == "a[1]") + rng.normal(scale=0.3, size=n)
    return frame


HEADERLESS_CASES = {
    "train_xgboost": ({"n_estimators": 20}, lambda: XGBRegressor(n_estimators=20, max_depth=3, learning_rate=0.1,
                                                                 random_state=42, tree_method="hist")),
    "train_random_forest": ({"n_estimators": 20}, lambda: RandomForestRegressor(n_estimators=20, random_state=42)),
    "train_linear_regression": ({}, lambda: LinearRegression()),
}


@pytest.mark.parametrize("trainer", list(HEADERLESS_CASES))
def test_integer_column_names_mixed_with_encoded_ones_train_and_score(flowza, trainer):
    params, make = HEADERLESS_CASES[trainer]
    frame = headerless()

    model, test, metrics, predictions = flowza(frame, "y", trainer, params)

    estimator, _, _, y_test, pred, _ = script(frame, "y", [5], make)
    encoded = ["5_(empty)", "5_<1H OCEAN", "5_a[1]", "5_naïve", "5_x]"]  # categories in sorted order
    assert model.predictor.feature_columns == [0, 1, 2, 3, 4, *encoded]
    assert metrics.values["rmse"] == same(skm.root_mean_squared_error(y_test, pred))
    assert metrics.values["r2"] == same(skm.r2_score(y_test, pred))
    assert list(metrics.values["feature_importance"]) == ["0", "1", "2", "3", "4", *encoded]
    np.testing.assert_allclose(list(metrics.values["feature_importance"].values()), importances(estimator),
                               rtol=0, atol=1e-9)
    rows = test.raw_rows.drop(columns="y")
    np.testing.assert_array_equal(model.predictor.predict(rows), predictions["prediction"].to_numpy())
    # A JSON payload (a deployment, MLflow serving) names the columns "0" … "5".
    np.testing.assert_array_equal(model.predictor.predict(rows.rename(columns=str)),
                                  predictions["prediction"].to_numpy())


# --- names that collide -------------------------------------------------------------------------

def test_categories_that_read_alike_get_unique_columns_in_a_fixed_order():
    frame = pd.DataFrame({"code": [1, "1", 2, "1", None, 1], "code_2": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]})

    out = OneHot(columns=["code"]).fit_transform(frame)
    again = OneHot(columns=["code"]).fit_transform(frame.iloc[::-1]).loc[frame.index]

    # 1 before "1" (by text, then type); "code_2" is taken by the existing column, which keeps its name.
    assert list(out.columns) == ["code_2", "code_1", "code_1_2", "code_2_2"]
    assert out[["code_1", "code_1_2", "code_2_2"]].to_numpy().astype(int).tolist() == [
        [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0]]
    pd.testing.assert_frame_equal(again, out)


def test_blank_categories_are_named_empty_and_missing_values_get_no_column():
    frame = pd.DataFrame({"c": ["", "a", None, "  ", "a"]})

    out = OneHot().fit_transform(frame)

    assert list(out.columns) == ["c_(empty)", "c_(empty)_2", "c_a"]
    assert out.loc[2].tolist() == [False, False, False]


def test_an_encoded_name_equal_to_the_target_stays_apart_from_it_in_training_and_scoring(run_node):
    """The target 'colour_red' is absent from rows sent for scoring: the encoded columns must not move."""
    rng = np.random.default_rng(5)
    colour = rng.choice(["red", "blue"], size=120)
    frame = pd.DataFrame({"x": rng.normal(size=120), "colour": colour,
                          "colour_red": ((colour == "red") ^ (rng.random(120) < 0.1)).astype(int)})
    encoded = run_node("one_hot_encode", {"dataset": Dataset(frame)}, protected={"colour_red"})["dataset"]
    parts = run_node("train_test_split", {"dataset": encoded}, target_column="colour_red", random_state=1)

    model = run_node("train_logreg", {"train": parts["train"]})["model"]

    assert model.predictor.feature_columns == ["x", "colour_blue", "colour_red_2"]
    rows = parts["test"].raw_rows.drop(columns="colour_red")
    assert (model.predictor.predict(rows) == parts["test"].frame["colour_red"]).mean() > 0.8


@pytest.mark.parametrize("trainer", ["train_xgboost", "train_random_forest", "train_logreg"])
def test_colliding_names_train_and_report_one_importance_per_feature(flowza, trainer):
    rng = np.random.default_rng(2)
    n = 200
    codes = pd.Series([[1, "1", 2][i] for i in rng.integers(0, 3, n)], dtype=object)
    frame = pd.DataFrame({"code": codes, "code_2": rng.normal(size=n), "a[1]": rng.normal(size=n)})
    frame["label"] = np.where(frame["a[1]"] + (frame["code"] == "1") > 0.5, "yes", "no")
    params = {} if trainer == "train_logreg" else {"n_estimators": 10}

    model, test, metrics, predictions = flowza(frame, "label", trainer, params)

    assert model.predictor.feature_columns == ["code_2", "a[1]", "code_1", "code_1_2", "code_2_2"]
    assert list(metrics.values["feature_importance"]) == model.predictor.feature_columns
    np.testing.assert_array_equal(model.predictor.predict(test.raw_rows.drop(columns="label")),
                                  predictions["prediction"].to_numpy())


# --- data the estimators refuse: a node error that says what to do -------------------------------

@pytest.fixture
def train_on(run_node):
    """``train_on(frame, target, trainer, **params)``: split (random_state 1), then train."""

    def train(frame, target, trainer, **params):
        parts = run_node("train_test_split", {"dataset": Dataset(frame)}, target_column=target, random_state=1)
        return run_node(trainer, {"train": parts["train"]}, **params)["model"], parts["test"]

    return train


def numbers(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    frame["amount"] = 2 * frame["x"] + rng.normal(size=n)
    frame["label"] = (frame["amount"] > 0).astype(int)
    return frame


def failure(node_type: str, exc: BaseException) -> NodeFailed:
    """What the engine records for the node."""
    return NodeFailed("n1", node_type, exc)


@pytest.mark.parametrize("trainer, target", [("train_xgboost", "label"), ("train_random_forest", "label"),
                                             ("train_logreg", "label"), ("train_linear_regression", "amount")])
def test_infinite_feature_values_are_invalid_data_named_before_fit(train_on, trainer, target):
    frame = numbers().drop(columns=[c for c in ("amount", "label") if c != target])
    frame.loc[[3, 50], "z"] = [np.inf, -np.inf]

    with pytest.raises(InvalidData) as err:
        train_on(frame, target, trainer)

    assert "z" in err.value.message and "infinite" in err.value.message and "filter_rows" in err.value.message
    assert failure(trainer, err.value).code == "INVALID_DATA"


def test_an_infinite_regression_target_is_invalid_data_on_the_target(train_on):
    frame = numbers().drop(columns="label")
    frame.loc[7, "amount"] = np.inf

    with pytest.raises(InvalidData, match="amount") as err:
        train_on(frame, "amount", "train_xgboost")
    assert err.value.field == "target_column"


def test_a_value_too_large_for_a_forest_is_a_training_failure_naming_the_estimator(train_on):
    """scikit-learn's forests work in float32: 1e39 overflows, and fit raises ValueError."""
    frame = numbers().drop(columns="amount")
    frame.loc[5, "z"] = 1e39

    with pytest.raises(TrainingFailed) as err:
        train_on(frame, "label", "train_random_forest")

    assert "RandomForestClassifier" in err.value.message and "float32" in err.value.message
    assert isinstance(err.value.__cause__, ValueError)
    recorded = failure("train_random_forest", err.value)
    assert recorded.code == "TRAINING_FAILED" and "INTERNAL" not in recorded.message


def test_an_xgboost_error_is_a_training_failure_without_its_cpp_trace(train_on):
    """XGBoost stores labels as float32: a 1e39 target is 'a value too large' to it."""
    frame = numbers().drop(columns="label")
    frame.loc[5, "amount"] = 1e39

    with pytest.raises(TrainingFailed) as err:
        train_on(frame, "amount", "train_xgboost")

    message = err.value.message
    assert "XGBRegressor" in message and "Label contains NaN, infinity or a value too large" in message
    assert "Stack trace" not in message and ".cc:" not in message and not message.startswith("[")


def test_a_table_with_only_the_target_is_invalid_data(train_on):
    with pytest.raises(InvalidData, match="no feature columns"):
        train_on(numbers()[["label"]], "label", "train_logreg")


def test_a_class_with_one_member_under_stratify_is_an_invalid_parameter(run_node):
    frame = numbers().assign(label=[2] + [0, 1] * 39 + [1])

    with pytest.raises(InvalidParameter) as err:
        run_node("train_test_split", {"dataset": Dataset(frame)}, target_column="label", stratify=True)
    assert err.value.field == "stratify"


def test_normalize_refuses_infinite_values_by_column(transform):
    frame = numbers().astype({"z": float})
    frame.loc[9, "z"] = np.inf

    with pytest.raises(InvalidData, match=r"z.*row 9"):
        transform("normalize", frame, protected={"label"})


def test_infinite_values_sent_for_scoring_are_row_errors(train_on):
    model, test = train_on(numbers().drop(columns="amount"), "label", "train_logreg")
    rows = test.raw_rows.drop(columns="label").head(3).copy()
    rows.iloc[1, rows.columns.get_loc("x")] = -np.inf

    with pytest.raises(UnscorableRows) as err:
        model.predictor.predict(rows)

    assert list(err.value.errors) == [rows.index[1]] and "x" in err.value.errors[rows.index[1]]
