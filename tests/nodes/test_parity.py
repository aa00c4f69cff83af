"""Acceptance: a Flowza chain scores exactly like a hand-written, leakage-free scikit-learn script.

Each test runs nodes the way the engine does (upstream of the split they get the split's target
as a protected column) and compares with a script that splits FIRST, then fits every scaler,
imputer and encoder on the training rows only, with the same seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from nodes.samples import load_sample

def same(value):
    """Equal to 1e-9: the same computation on the same floats."""
    return pytest.approx(value, rel=0, abs=1e-9)


@pytest.fixture
def flowza(run_node, chain):
    """``flowza(sample, steps, target, split, trainer, train_params)`` -> (model, metric values, predictions)."""

    def run(sample, steps, target, split, trainer, train_params=None, **eval_params):
        dataset = chain(run_node("sample_dataset", name=sample)["dataset"], steps, target=target)
        parts = run_node("train_test_split", {"dataset": dataset}, target_column=target, **split)
        model = run_node(trainer, {"train": parts["train"]}, **(train_params or {}))["model"]
        out = run_node("evaluate", {"model": model, "test": parts["test"]}, plots=False, **eval_params)
        return model, out["metrics"].values, out["predictions"].frame

    return run


def classification_figures(y, pred, proba, classes) -> dict:
    """What a careful script reports: binary figures for class 1, multiclass weighted and macro."""
    if len(classes) == 2:
        figures = {name: fn(y, pred) for name, fn in
                   [("f1_score", skm.f1_score), ("precision", skm.precision_score), ("recall", skm.recall_score)]}
        figures["roc_auc"] = skm.roc_auc_score(y, proba[:, 1])
    else:
        figures = {}
        for name, fn in [("f1_score", skm.f1_score), ("precision", skm.precision_score),
                         ("recall", skm.recall_score)]:
            figures[name] = fn(y, pred, average="weighted")
            figures[f"{name}_macro"] = fn(y, pred, average="macro")
        figures["roc_auc"] = skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted")
    figures["accuracy"] = skm.accuracy_score(y, pred)
    figures["confusion_matrix"] = skm.confusion_matrix(y, pred).tolist()
    return figures


def assert_same_figures(values: dict, expected: dict):
    for name, value in expected.items():
        if name == "confusion_matrix":
            assert values[name] == value
        else:
            assert values[name] == same(value), name


def assert_same_predictions(predictions: pd.DataFrame, index, expected):
    """Row by row, by row label: the Flowza prediction is the script's."""
    assert predictions.index.equals(pd.Index(index))
    np.testing.assert_array_equal(predictions["prediction"].to_numpy(), np.asarray(expected))


# --- (a) binary: standard scaling before the split, logistic regression ------------------------

def breast_cancer_script(*, leaky: bool = False):
    data = datasets.load_breast_cancer(as_frame=True).frame
    X, y = data.drop(columns="target"), data["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=7, stratify=y)
    scaler = StandardScaler().fit(X if leaky else X_train)
    clf = LogisticRegression(C=0.5, max_iter=1000, random_state=42).fit(scaler.transform(X_train), y_train)
    pred, proba = clf.predict(scaler.transform(X_test)), clf.predict_proba(scaler.transform(X_test))
    return clf, X_test.index, y_test, pred, proba


BREAST_CANCER = dict(sample="breast_cancer", steps=[("normalize", {"method": "standard"})], target="target",
                     split={"test_size": 0.25, "random_state": 7, "stratify": True},
                     trainer="train_logreg", train_params={"C": 0.5})


def test_breast_cancer_logreg_matches_a_script_that_scales_on_train_rows(flowza):
    model, values, predictions = flowza(**BREAST_CANCER)

    clf, index, y_test, pred, proba = breast_cancer_script()
    assert_same_figures(values, classification_figures(y_test, pred, proba, [0, 1]))
    assert_same_predictions(predictions, index, pred)
    np.testing.assert_allclose(predictions["probability"], proba.max(axis=1), rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.predictor.estimator.coef_, clf.coef_, rtol=0, atol=1e-9)


def test_breast_cancer_parity_would_catch_a_scaler_fitted_on_all_rows(flowza):
    """The comparison above is sharp enough to tell leakage apart: a leaky script's model differs."""
    model, _, _ = flowza(**BREAST_CANCER)

    leaky, *_ = breast_cancer_script(leaky=True)
    assert np.abs(model.predictor.estimator.coef_ - leaky.coef_).max() > 1e-6


# --- (b) multiclass: XGBoost on wine ----------------------------------------------------------

WINE = dict(sample="wine", steps=[("normalize", {"method": "standard"})], target="target",
            split={"test_size": 0.3, "random_state": 11, "stratify": True},
            trainer="train_xgboost", train_params={"n_estimators": 60, "max_depth": 3, "learning_rate": 0.2})


def test_wine_xgboost_multiclass_matches_the_script(flowza):
    model, values, predictions = flowza(**WINE)

    data = datasets.load_wine(as_frame=True).frame
    X, y = data.drop(columns="target"), data["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=11, stratify=y)
    scaler = StandardScaler().fit(X_train)
    clf = XGBClassifier(n_estimators=60, max_depth=3, learning_rate=0.2, random_state=42, tree_method="hist")
    clf.fit(pd.DataFrame(scaler.transform(X_train), columns=X.columns), y_train)
    test_features = pd.DataFrame(scaler.transform(X_test), columns=X.columns)
    pred, proba = clf.predict(test_features), clf.predict_proba(test_features)

    expected = classification_figures(y_test, pred, proba, [0, 1, 2])
    assert {"accuracy", "f1_score", "f1_score_macro", "precision", "precision_macro", "recall",
            "recall_macro", "roc_auc"} <= set(expected)
    assert_same_figures(values, expected)
    assert_same_predictions(predictions, X_test.index, pred)
    assert model.task == "classification"


# --- (c) regression: min-max scaling before the split on diabetes ------------------------------

DIABETES_MODELS = {
    "train_linear_regression": ({}, lambda: LinearRegression()),
    "train_random_forest": ({"n_estimators": 40, "max_depth": 6},
                            lambda: RandomForestRegressor(n_estimators=40, max_depth=6, random_state=42)),
    "train_xgboost": ({"n_estimators": 50}, lambda: XGBRegressor(n_estimators=50, max_depth=3, learning_rate=0.1,
                                                                 random_state=42, tree_method="hist")),
}


@pytest.mark.parametrize("trainer", list(DIABETES_MODELS))
def test_diabetes_regression_matches_the_script(flowza, trainer):
    params, make = DIABETES_MODELS[trainer]
    model, values, predictions = flowza("diabetes", [("normalize", {"method": "minmax"})], "target",
                                        {"test_size": 0.2, "random_state": 3}, trainer, params)

    data = datasets.load_diabetes(as_frame=True).frame
    X, y = data.drop(columns="target"), data["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=3)
    scaler = MinMaxScaler().fit(X_train)
    reg = make().fit(pd.DataFrame(scaler.transform(X_train), columns=X.columns), y_train)
    pred = reg.predict(pd.DataFrame(scaler.transform(X_test), columns=X.columns))

    assert model.task == "regression"
    assert values["rmse"] == same(skm.root_mean_squared_error(y_test, pred))
    assert values["mae"] == same(skm.mean_absolute_error(y_test, pred))
    assert values["r2"] == same(skm.r2_score(y_test, pred))
    assert predictions.index.equals(X_test.index)
    np.testing.assert_allclose(predictions["prediction"], pred, rtol=0, atol=1e-9)
    assert "probability" not in predictions


# --- (d) titanic: drop, drop nulls, impute, one-hot before the split --------------------------

TITANIC = dict(sample="titanic", target="survived", trainer="train_logreg",
               split={"test_size": 0.25, "random_state": 0, "stratify": True},
               steps=[("drop_columns", {"columns": ["alive", "deck", "class", "embark_town"]}),
                      ("drop_nulls", {"subset": ["embarked"]}),
                      ("impute", {"strategy": "median", "columns": ["age"]}),
                      ("one_hot_encode", {"columns": ["sex", "embarked"]})])


def titanic_script(*, leaky: bool = False):
    data = load_sample("titanic").drop(columns=["alive", "deck", "class", "embark_town"]).dropna(subset=["embarked"])
    X, y = data.drop(columns="survived"), data["survived"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    learn_from = X if leaky else X_train
    imputer = SimpleImputer(strategy="median").fit(learn_from[["age"]])
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(learn_from[["sex", "embarked"]])

    def features(part: pd.DataFrame) -> pd.DataFrame:
        part = part.assign(age=imputer.transform(part[["age"]])[:, 0])
        onehot = pd.DataFrame(encoder.transform(part[["sex", "embarked"]]), index=part.index,
                              columns=encoder.get_feature_names_out())
        return pd.concat([part.drop(columns=["sex", "embarked"]), onehot], axis=1)

    clf = LogisticRegression(C=1.0, max_iter=1000, random_state=42).fit(features(X_train), y_train)
    return clf, X_test.index, y_test, clf.predict(features(X_test)), clf.predict_proba(features(X_test)), imputer


def test_titanic_chain_matches_a_script_that_imputes_and_encodes_on_train_rows(flowza):
    model, values, predictions = flowza(**TITANIC)

    clf, index, y_test, pred, proba, imputer = titanic_script()
    assert model.predictor.feature_columns == list(clf.feature_names_in_)
    assert_same_figures(values, classification_figures(y_test, pred, proba, [0, 1]))
    assert_same_predictions(predictions, index, pred)
    np.testing.assert_allclose(model.predictor.estimator.coef_, clf.coef_, rtol=0, atol=1e-9)
    impute_step = next(s for s in model.predictor.steps if hasattr(s, "fill_"))
    assert impute_step.fill_ == {"age": imputer.statistics_[0]}


def test_titanic_parity_would_catch_a_median_and_encoder_learned_from_all_rows(flowza):
    model, _, _ = flowza(**TITANIC)

    leaky, *_, leaky_imputer = titanic_script(leaky=True)
    _, _, _, _, _, imputer = titanic_script()
    assert leaky_imputer.statistics_[0] != imputer.statistics_[0], "the case needs a telling median"
    assert np.abs(model.predictor.estimator.coef_ - leaky.coef_).max() > 1e-6


# --- same workflow, same data, same seeds: same numbers -----------------------------------------

@pytest.mark.parametrize("case", [BREAST_CANCER, WINE, TITANIC], ids=["breast_cancer", "wine", "titanic"])
def test_running_the_same_chain_twice_gives_identical_results(flowza, case):
    _, first, first_predictions = flowza(**case)
    _, second, second_predictions = flowza(**case)

    assert first == second
    pd.testing.assert_frame_equal(first_predictions, second_predictions, check_exact=True)
