"""The one model artifact: every fitted transform plus the estimator, scoring raw rows.

Rows arrive in the loader's schema. Each step is applied as in training, except that
row-dropping steps become checks: a row training would have dropped (a missing value
where ``drop_nulls`` sat) gets a per-row error instead of silently vanishing.

The artifact knows features by the user's column names; the estimator knows them by
position (see ``nodes.names``), so any column name trains and scores.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator

from flowza_core.errors import NodeError
from nodes.names import estimator_names
from nodes.transforms import DropColumns, DropNulls, FilterRows

# Predict hands scikit-learn estimators arrays in the order of the names they were fitted on (see
# ``FlowzaModel._scoring_input``): their check that an array has no column names would only warn.
warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)


class UnscorableRows(NodeError, ValueError):
    """Some rows cannot be scored; ``errors`` maps each row label to the reason."""

    code = "UNSCORABLE_ROWS"

    def __init__(self, errors: dict):
        shown = "; ".join(f"row {row}: {why}" for row, why in list(errors.items())[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{len(errors)} row(s) cannot be scored: {shown}{more}")
        self.errors = errors


class FlowzaModel(BaseEstimator):
    """scikit-learn-compatible: ``predict`` / ``predict_proba`` on raw input rows."""

    def __init__(self, steps=(), estimator=None, input_dtypes=None, feature_columns=None, target=None,
                 task="classification", classes=None, label_encoded=False, handles_missing=False,
                 example_rows=None, estimator_columns=None):
        self.steps = steps
        self.estimator = estimator
        self.input_dtypes = input_dtypes  # raw column -> 'number' | 'bool' | 'text', as in training
        self.feature_columns = feature_columns
        self.target = target
        self.task = task
        self.classes = classes
        self.label_encoded = label_encoded
        self.handles_missing = handles_missing
        self.example_rows = example_rows  # a few raw training rows: the input example
        # What the estimator calls ``feature_columns`` (None: the same names, for a hand-fitted estimator).
        self.estimator_columns = estimator_columns

    @property
    def classes_(self):
        return np.asarray(self.classes)

    def fit_estimator(self, features: pd.DataFrame, y) -> "FlowzaModel":
        """Fit the estimator on ``features``, which become the ``feature_columns``."""
        self.feature_columns = list(features.columns)
        self.estimator_columns = estimator_names(len(self.feature_columns))
        self.estimator.fit(self._estimator_input(features), y)
        return self

    def _estimator_input(self, features: pd.DataFrame) -> pd.DataFrame:
        """The features under the names the estimator was fitted on: used by fit and every predict."""
        if self.estimator_columns is None:
            return features
        return features.set_axis(self.estimator_columns, axis=1)

    def _coerce(self, X: pd.DataFrame, errors: dict) -> pd.DataFrame:
        """Select the input columns; text in a column that was numeric in training is a row error."""
        # JSON payloads name every column as text: "0" is column 0 of a model trained on integer names.
        as_text = {str(c): c for c in self.input_dtypes
                   if not isinstance(c, str) and str(c) not in self.input_dtypes}
        if as_text:
            X = X.rename(columns={c: as_text[c] for c in X.columns
                                  if isinstance(c, str) and c in as_text and as_text[c] not in X.columns})
        inputs = list(self.input_dtypes)
        missing = [c for c in inputs if c not in X.columns]
        if missing:
            raise UnscorableRows({"*": f"missing column(s): {', '.join(map(str, missing))}"})
        # Copy-on-write: selecting (or a shallow copy) never lets an assignment below reach the caller's frame.
        X = X.copy(deep=False) if list(X.columns) == inputs else X[inputs]
        for col, kind in self.input_dtypes.items():
            values = X[col]
            if ptypes.is_numeric_dtype(values):
                continue
            if kind == "number":
                converted = pd.to_numeric(values, errors="coerce")
                for row in X.index[converted.isna() & values.notna()]:
                    errors.setdefault(row, f"column '{col}': {X.at[row, col]!r} is not a number")
                X[col] = converted
            elif kind == "bool":
                for row, value in values[values.notna()].items():
                    if not isinstance(value, (bool, np.bool_, int, float)):
                        errors.setdefault(row, f"column '{col}': {value!r} is not true or false")
        self._infinite_rows(X, errors)
        return X

    @staticmethod
    def _infinite_rows(X: pd.DataFrame, errors: dict) -> None:
        """Name the rows holding +inf or -inf (scalers and estimators refuse them): only floats can."""
        cells = {c: np.isinf(s.to_numpy(dtype="float64", na_value=np.nan))
                 for c, s in X.items() if ptypes.is_float_dtype(s.dtype)}
        bad = np.logical_or.reduce(list(cells.values())) if cells else None
        for i in np.flatnonzero(bad) if bad is not None else ():
            errors.setdefault(X.index[i], f"infinite value in {', '.join(str(c) for c, v in cells.items() if v[i])}")

    def transform_rows(self, X: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        """Features for the estimator, and the rows that cannot be scored (label -> reason)."""
        errors: dict = {}
        X = self._coerce(X, errors)
        for step in self.steps:
            if isinstance(step, DropNulls):
                cols = [c for c in (step.subset or X.columns) if c in X.columns]
                nulls = X[cols].isna().to_numpy()
                bad = nulls.any(axis=1) if step.how == "any" else nulls.all(axis=1)
                for i in np.flatnonzero(bad):
                    gaps = ", ".join(str(c) for c, gap in zip(cols, nulls[i]) if gap)
                    errors.setdefault(X.index[i], f"missing value in {gaps} (training dropped such rows)")
            elif isinstance(step, FilterRows):
                continue  # filters chose the training rows; any row can still be scored
            elif isinstance(step, DropColumns):
                present = [c for c in step.columns if c in X.columns]
                if present:
                    X = X.drop(columns=present)
            else:
                X = step.transform(X)
        if list(X.columns) != self.feature_columns:
            X = X[self.feature_columns]
        if not self.handles_missing:
            gaps = X.isna().to_numpy()
            for i in np.flatnonzero(gaps.any(axis=1)):
                cols = ", ".join(str(c) for c, gap in zip(X.columns, gaps[i]) if gap)
                errors.setdefault(X.index[i], f"missing value in {cols}")
        return (X.drop(index=list(errors)) if errors else X), errors

    def _features(self, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """Raw rows to the estimator's input, or ``UnscorableRows``."""
        features, errors = self.transform_rows(X)
        if errors:
            raise UnscorableRows(errors)
        return self._scoring_input(features)

    def _scoring_input(self, features: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """What predict hands the estimator: for a scikit-learn estimator fitted on ``estimator_columns``,
        the array its own input check would make from the frame (that check costs more than the model)."""
        estimator = self.estimator
        if (self.estimator_columns is not None and type(estimator).__module__.startswith("sklearn.")
                and list(getattr(estimator, "feature_names_in_", ())) == self.estimator_columns
                and all(isinstance(t, np.dtype) for t in features.dtypes)):
            return features.to_numpy(dtype=np.result_type(*features.dtypes))
        return self._estimator_input(features)

    def _decode(self, predictions) -> np.ndarray:
        if self.label_encoded:
            return np.asarray(self.classes)[np.asarray(predictions, dtype=int)]
        return predictions

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self._decode(self.estimator.predict(self._features(X)))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict_proba(self._features(X))

    def predict_with_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Predictions and, for classifiers that have them, class probabilities: one transform."""
        features = self._features(X)
        proba = self.estimator.predict_proba(features) if hasattr(self.estimator, "predict_proba") else None
        return self._decode(self.estimator.predict(features)), proba
