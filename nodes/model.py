"""The one model artifact: every fitted transform plus the estimator, scoring raw rows.

Rows arrive in the loader's schema. Each step is applied as in training, except that
row-dropping steps become checks: a row training would have dropped (a missing value
where ``drop_nulls`` sat) gets a per-row error instead of silently vanishing.

The artifact knows features by the user's column names; the estimator knows them by
position (see ``nodes.names``), so any column name trains and scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator

from flowza.errors import NodeError
from nodes.names import estimator_names
from nodes.transforms import DropColumns, DropNulls, FilterRows, infinite_cells


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
        missing = [c for c in self.input_dtypes if c not in X.columns]
        if missing:
            raise UnscorableRows({"*": f"missing column(s): {', '.join(map(str, missing))}"})
        X = X[list(self.input_dtypes)].copy()
        for col, kind in self.input_dtypes.items():
            if kind == "number" and not ptypes.is_numeric_dtype(X[col]):
                converted = pd.to_numeric(X[col], errors="coerce")
                for row in X.index[converted.isna() & X[col].notna()]:
                    errors.setdefault(row, f"column '{col}': {X.at[row, col]!r} is not a number")
                X[col] = converted
        infinite = infinite_cells(X)  # scalers and estimators refuse them: name the row instead
        for row in X.index[infinite.any(axis=1).to_numpy()]:
            cols = ", ".join(str(c) for c in infinite.columns[infinite.loc[row].to_numpy()])
            errors.setdefault(row, f"infinite value in {cols}")
        return X

    def transform_rows(self, X: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        """Features for the estimator, and the rows that cannot be scored (label -> reason)."""
        errors: dict = {}
        X = self._coerce(X, errors)
        for step in self.steps:
            if isinstance(step, DropNulls):
                cols = [c for c in (step.subset or X.columns) if c in X.columns]
                nulls = X[cols].isna()
                bad = nulls.any(axis=1) if step.how == "any" else nulls.all(axis=1)
                for row in X.index[bad]:
                    gaps = ", ".join(str(c) for c in nulls.columns[nulls.loc[row].to_numpy()])
                    errors.setdefault(row, f"missing value in {gaps} (training dropped such rows)")
            elif isinstance(step, FilterRows):
                continue  # filters chose the training rows; any row can still be scored
            elif isinstance(step, DropColumns):
                X = X.drop(columns=[c for c in step.columns if c in X.columns])
            else:
                X = step.transform(X)
        X = X[self.feature_columns]
        if not self.handles_missing:
            gaps = X.isna()
            for row in X.index[gaps.any(axis=1).to_numpy()]:
                cols = ", ".join(str(c) for c in gaps.columns[gaps.loc[row].to_numpy()])
                errors.setdefault(row, f"missing value in {cols}")
        return X.drop(index=list(errors)), errors

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        """Raw rows to the estimator's input, or ``UnscorableRows``."""
        features, errors = self.transform_rows(X)
        if errors:
            raise UnscorableRows(errors)
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
