"""Training nodes: fit an estimator on the training table; the model keeps every fitted step."""

from __future__ import annotations

import re
from typing import Callable, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pydantic import Field

from flowza_core.errors import InvalidData, InvalidParameter, TrainingFailed
from nodes.base import Params, node
from nodes.columns import require_columns
from nodes.model import FlowzaModel
from nodes.ports import Dataset, Model
from nodes.reference import reference_stats
from nodes.transforms import DropColumns, refuse_infinite

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


def _check_target(y: pd.Series, target) -> None:
    """Refuse a target with gaps or infinite values."""
    if y.isna().any():
        raise InvalidParameter(f"target column '{target}' has {int(y.isna().sum())} missing value(s); "
                               f"drop or impute them first", field="target_column")
    if ptypes.is_float_dtype(y) and np.isinf(y.to_numpy(dtype="float64")).any():
        raise InvalidData(f"target column '{target}' holds infinite values: drop those rows with filter_rows "
                          f"or fix them at the source", field="target_column")


def _check_features(X: pd.DataFrame, handles_missing: bool) -> None:
    """Refuse, with what to do, features no estimator can learn from."""
    if X.shape[1] == 0:
        raise InvalidData("the training table has no feature columns besides the target")
    repeated = X.columns[X.columns.duplicated()].unique()
    if len(repeated):
        raise InvalidData(f"column name(s) {', '.join(map(str, repeated[:8]))} appear more than once: rename or "
                          f"drop the copies before training")
    text = [str(c) for c in X.columns if not (ptypes.is_numeric_dtype(X[c]) or ptypes.is_bool_dtype(X[c]))]
    if text:
        raise InvalidParameter(f"text column(s) {', '.join(text[:8])} cannot be used as features: add "
                               f"one_hot_encode or drop_columns before training")
    if not handles_missing and X.isna().any().any():
        gaps = [str(c) for c in X.columns[X.isna().any().to_numpy()]]
        raise InvalidParameter(f"feature column(s) {', '.join(gaps[:8])} have missing values: add impute or "
                               f"drop_nulls before training")
    refuse_infinite(X, "feature")


def _fit(predictor: FlowzaModel, X: pd.DataFrame, y) -> None:
    """Fit the estimator; its objections to the data become a node error naming the estimator."""
    try:
        predictor.fit_estimator(X, y)
    except (ValueError, TypeError) as exc:  # XGBoostError is a ValueError
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        # XGBoost prefixes its C++ source position: "[04:34:48] /src/data.cc:568: Check failed: valid: ..."
        said = re.sub(r"^\[[\d:]+\] \S+:\d+: (Check failed: \w+: )?", "", first).strip().rstrip(".")[:300]
        raise TrainingFailed(f"{type(predictor.estimator).__name__} cannot learn from the training rows ({said}); "
                             f"check the feature and target values (numbers of a sensible size, enough rows per "
                             f"class) and fix them upstream", details=str(exc)) from exc


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
    _check_target(y, target)
    X = frame.drop(columns=[target])
    _check_features(X, handles_missing)
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
    y_fit = np.searchsorted(np.asarray(classes), y.to_numpy()) if encode_labels and classes else y
    raw = train.raw
    inputs = {c: _input_kind(raw[c]) for c in raw.columns if c != target and c not in _never_read(train.steps)}
    predictor = FlowzaModel(steps=tuple(train.steps), estimator=make(task), input_dtypes=inputs, target=target,
                            task=task, classes=classes, label_encoded=bool(encode_labels and classes),
                            handles_missing=handles_missing, example_rows=raw.loc[frame.index[:5], list(inputs)])
    _fit(predictor, X, y_fit)
    reference = reference_stats(train.raw_rows[list(inputs)], inputs, task=task, target=str(target))
    return Model(predictor, reference=reference)


class LogRegParams(TrainParams):
    C: float = Field(1.0, gt=0, description="Inverse regularisation strength: smaller is stronger.")
    max_iter: int = Field(1000, ge=1, description="Solver iterations at most.")
    class_weight: Literal["balanced"] | None = Field(None, json_schema_extra={"advanced": True})
    random_state: int = Field(42, description="Seed: same seed, same model.")


@node(category="training", version=2)
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


@node(category="training", version=2)
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


@node(category="training", version=2)
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


@node(category="training", version=2)
def train_linear_regression(train: Dataset, params: LinearRegressionParams) -> Model:
    """Train an ordinary least-squares linear regression."""
    from sklearn.linear_model import LinearRegression

    return fit_model(train, params, lambda task: LinearRegression(fit_intercept=params.fit_intercept),
                     task="regression")
