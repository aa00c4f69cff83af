"""Training nodes: fit an estimator on the training table; the model keeps every fitted step."""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pydantic import Field

from flowza.errors import InvalidParameter
from nodes.base import Params, node
from nodes.columns import require_columns
from nodes.model import FlowzaModel
from nodes.ports import Dataset, Model
from nodes.transforms import DropColumns

Task = Literal["classification", "regression"]


class TrainParams(Params):
    target_column: str | None = Field(None, description="Column to predict (default: the split's target_column).",
                                      json_schema_extra={"column_of": "train", "role": "target"})


class TaskParams(TrainParams):
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="auto: classification for text, boolean or few whole-number values; else regression.")


def infer_task(y: pd.Series) -> Task:
    if ptypes.is_bool_dtype(y) or not ptypes.is_numeric_dtype(y):
        return "classification"
    if ptypes.is_float_dtype(y) and not np.all(np.mod(y.to_numpy(), 1) == 0):
        return "regression"
    return "classification" if y.nunique() <= 20 else "regression"


def _input_kind(series: pd.Series) -> str:
    if ptypes.is_bool_dtype(series):
        return "bool"
    return "number" if ptypes.is_numeric_dtype(series) else "text"


def _never_read(steps) -> set:
    """Columns dropped before any step learned from the table: predictions need not send them."""
    dropped = set()
    for step in steps:
        if isinstance(step, DropColumns):
            dropped |= set(step.columns)
        elif not step.stateless:
            break
    return dropped


def fit_model(train: Dataset, params: TrainParams, make: Callable[[Task], object], *, task: str = "auto",
              only: Task | None = None, encode_labels: bool = False, handles_missing: bool = False) -> Model:
    """Fit ``make(task)`` on the training table and wrap it with the table's fitted steps."""
    target = params.target_column or train.target
    if not target:
        raise InvalidParameter("no target column: set target_column here or on the train_test_split",
                               field="target_column")
    frame = train.frame
    require_columns(frame, [target], "target_column")
    y = frame[target]
    if y.isna().any():
        raise InvalidParameter(f"target column '{target}' has {int(y.isna().sum())} missing value(s); "
                               f"drop or impute them first", field="target_column")
    X = frame.drop(columns=[target])
    text = [str(c) for c in X.columns if not (ptypes.is_numeric_dtype(X[c]) or ptypes.is_bool_dtype(X[c]))]
    if text:
        raise InvalidParameter(f"text column(s) {', '.join(text[:8])} cannot be used as features: add "
                               f"one_hot_encode or drop_columns before training")
    if not handles_missing and X.isna().any().any():
        gaps = [str(c) for c in X.columns[X.isna().any().to_numpy()]]
        raise InvalidParameter(f"feature column(s) {', '.join(gaps[:8])} have missing values: add impute or "
                               f"drop_nulls before training")
    task = infer_task(y) if task == "auto" else task
    if task == "regression" and not (ptypes.is_numeric_dtype(y) and not ptypes.is_bool_dtype(y)):
        raise InvalidParameter(f"regression needs a numeric target; '{target}' is {y.dtype}", field="task")
    if only and task != only:
        raise InvalidParameter(f"'{target}' looks like a {task} target, but this node does {only}",
                               field="target_column")
    classes = sorted(y.unique().tolist()) if task == "classification" else None
    if classes is not None and len(classes) < 2:
        raise InvalidParameter(f"target '{target}' has a single class ({classes[0]!r}) in the training rows",
                               field="target_column")
    estimator = make(task)
    y_fit = np.searchsorted(np.asarray(classes), y.to_numpy()) if encode_labels and classes else y
    estimator.fit(X, y_fit)
    raw = train.raw
    inputs = {c: _input_kind(raw[c]) for c in raw.columns if c != target and c not in _never_read(train.steps)}
    return Model(FlowzaModel(steps=tuple(train.steps), estimator=estimator, input_dtypes=inputs,
                             feature_columns=list(X.columns), target=target, task=task, classes=classes,
                             label_encoded=bool(encode_labels and classes), handles_missing=handles_missing,
                             example_rows=raw.loc[frame.index[:5], list(inputs)]))


class LogRegParams(TrainParams):
    C: float = Field(1.0, gt=0, description="Inverse regularisation strength: smaller is stronger.")
    max_iter: int = Field(1000, ge=1, description="Solver iterations at most.")
    class_weight: Literal["balanced"] | None = Field(None, json_schema_extra={"advanced": True})
    random_state: int = Field(42, description="Seed: same seed, same model.")


@node(category="training")
def train_logreg(train: Dataset, params: LogRegParams) -> Model:
    """Train a logistic regression classifier."""
    from sklearn.linear_model import LogisticRegression

    return fit_model(train, params, lambda task: LogisticRegression(
        C=params.C, max_iter=params.max_iter, class_weight=params.class_weight,
        random_state=params.random_state), only="classification")


class XGBoostParams(TaskParams):
    n_estimators: int = Field(100, ge=1, le=10000, description="Number of boosted trees.")
    max_depth: int = Field(3, ge=1, le=32, description="Depth of each tree.")
    learning_rate: float = Field(0.1, gt=0, le=1, description="Shrinkage per tree.")
    subsample: float = Field(1.0, gt=0, le=1, json_schema_extra={"advanced": True})
    colsample_bytree: float = Field(1.0, gt=0, le=1, json_schema_extra={"advanced": True})
    random_state: int = Field(42, description="Seed: same seed, same model.")


@node(category="training")
def train_xgboost(train: Dataset, params: XGBoostParams) -> Model:
    """Train gradient-boosted trees with XGBoost (classifier or regressor)."""
    from xgboost import XGBClassifier, XGBRegressor

    def make(task):
        cls = XGBClassifier if task == "classification" else XGBRegressor
        return cls(n_estimators=params.n_estimators, max_depth=params.max_depth,
                   learning_rate=params.learning_rate, subsample=params.subsample,
                   colsample_bytree=params.colsample_bytree, random_state=params.random_state, tree_method="hist")

    return fit_model(train, params, make, task=params.task, encode_labels=True, handles_missing=True)


class RandomForestParams(TaskParams):
    n_estimators: int = Field(100, ge=1, le=5000, description="Number of trees.")
    max_depth: int | None = Field(None, ge=1, description="Depth limit (default: grow fully).")
    min_samples_leaf: int = Field(1, ge=1, json_schema_extra={"advanced": True})
    random_state: int = Field(42, description="Seed: same seed, same model.")


@node(category="training")
def train_random_forest(train: Dataset, params: RandomForestParams) -> Model:
    """Train a random forest (classifier or regressor)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    def make(task):
        cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return cls(n_estimators=params.n_estimators, max_depth=params.max_depth,
                   min_samples_leaf=params.min_samples_leaf, random_state=params.random_state, n_jobs=-1)

    model = fit_model(train, params, make, task=params.task)
    # Parallel prediction sums tree outputs in thread order: the last bits would vary call to call.
    model.predictor.estimator.set_params(n_jobs=1)
    return model


class LinearRegressionParams(TrainParams):
    fit_intercept: bool = Field(True, description="Learn an intercept term.")


@node(category="training")
def train_linear_regression(train: Dataset, params: LinearRegressionParams) -> Model:
    """Train an ordinary least-squares linear regression."""
    from sklearn.linear_model import LinearRegression

    return fit_model(train, params, lambda task: LinearRegression(fit_intercept=params.fit_intercept),
                     task="regression")
