"""Flowza's table steps as plain scikit-learn transformers, copied into exported scripts and notebooks.

Each class here transforms a table exactly as its namesake in ``nodes.transforms`` does (the export tests
run both and compare metrics to 1e-9), without Flowza's checks and messages: an exported script needs
pandas, NumPy and scikit-learn only. The exporter copies the source of the classes a workflow uses
(``inspect.getsource``), with the pure helpers they share with Flowza (``COPIED_HELPERS``), which import
nothing of Flowza's themselves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from nodes.columns import is_categorical_feature, is_numeric_feature
from nodes.names import unique_names
from nodes.transforms import _sorted_categories

COPIED_HELPERS = (is_numeric_feature, is_categorical_feature, unique_names, _sorted_categories)


def pick_columns(frame, columns, protected, rule):
    """The columns given, or every column but the target(s) that matches ``rule``."""
    if columns:
        return list(columns)
    return [c for c in frame.columns if c not in protected and rule(frame[c])]


class Stateless(TransformerMixin, BaseEstimator):
    """A step that learns nothing: fitted as it is."""

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True


class DropColumns(Stateless):
    def __init__(self, columns=()):
        self.columns = columns

    def transform(self, X):
        return X.drop(columns=list(self.columns))


class DropNulls(Stateless):
    """Drops rows with a missing value (``how``: any / all) in ``subset`` (default: every column)."""

    def __init__(self, subset=None, how="any"):
        self.subset = subset
        self.how = how

    def transform(self, X):
        return X.dropna(subset=self.subset or None, how=self.how)


class FilterRows(Stateless):
    """Keeps the rows where ``column <operator> value``."""

    OPERATORS = {
        "==": lambda s, v: s == v, "!=": lambda s, v: s != v,
        "<": lambda s, v: s < v, "<=": lambda s, v: s <= v,
        ">": lambda s, v: s > v, ">=": lambda s, v: s >= v,
        "in": lambda s, v: s.isin(v), "not_in": lambda s, v: ~s.isin(v),
        "not_null": lambda s, v: s.notna(), "is_null": lambda s, v: s.isna(),
    }

    def __init__(self, column=None, operator="==", value=None):
        self.column = column
        self.operator = operator
        self.value = value

    def transform(self, X):
        mask = self.OPERATORS[self.operator](X[self.column], self.value)
        return X[mask.fillna(False).astype(bool)]


class Impute(TransformerMixin, BaseEstimator):
    """Fills missing values with a statistic learned at fit time.

    Without ``columns``: every column with gaps but the target; text columns get their most frequent value.
    """

    def __init__(self, strategy="mean", fill_value=None, columns=None, protected=()):
        self.strategy = strategy
        self.fill_value = fill_value
        self.columns = columns
        self.protected = protected

    def fit(self, X, y=None):
        self.fill_ = {}
        for c in pick_columns(X, self.columns, self.protected, lambda s: bool(s.isna().any())):
            s, strategy = X[c], self.strategy
            if strategy in ("mean", "median") and not is_numeric_feature(s):
                strategy = "most_frequent"
            if strategy == "constant":
                if not self.columns and isinstance(self.fill_value, str) == is_numeric_feature(s):
                    continue  # a text fill value fills text columns, a number numeric ones
                value = self.fill_value
            elif strategy == "mean":
                value = s.mean()
            elif strategy == "median":
                value = s.median()
            else:
                mode = s.mode(dropna=True)
                value = mode.iloc[0] if len(mode) else None
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                self.fill_[c] = value
        return self

    def transform(self, X):
        return X.fillna({c: v for c, v in self.fill_.items() if c in X.columns}) if self.fill_ else X


class Normalize(TransformerMixin, BaseEstimator):
    """Standard (z-score) or min-max scaling of numeric features, by scikit-learn's scalers."""

    def __init__(self, method="standard", columns=None, protected=()):
        self.method = method
        self.columns = columns
        self.protected = protected

    def fit(self, X, y=None):
        self.columns_ = pick_columns(X, self.columns, self.protected, is_numeric_feature)
        scaler = StandardScaler() if self.method == "standard" else MinMaxScaler()
        self.scaler_ = scaler.fit(X[self.columns_].to_numpy(dtype="float64")) if self.columns_ else None
        return self

    def transform(self, X):
        if not self.columns_:
            return X
        out = X.copy(deep=False)
        out[self.columns_] = self.scaler_.transform(X[self.columns_].to_numpy(dtype="float64"))
        return out


class OneHot(TransformerMixin, BaseEstimator):
    """One boolean column per category seen at fit time, named ``<column>_<category>``."""

    def __init__(self, columns=None, drop_first=False, handle_unknown="ignore", protected=()):
        self.columns = columns
        self.drop_first = drop_first
        self.handle_unknown = handle_unknown
        self.protected = protected

    def fit(self, X, y=None):
        cols = pick_columns(X, self.columns, self.protected, is_categorical_feature)
        self.categories_ = {c: _sorted_categories(X[c]) for c in cols}
        taken = [c for c in X.columns if c not in self.categories_]
        self.names_ = {}
        for c, cats in self.categories_.items():
            labels = [str(v) if str(v).strip() else "(empty)" for v in (cats[1:] if self.drop_first else cats)]
            self.names_[c] = unique_names([f"{c}_{label}" for label in labels], taken)
            taken += self.names_[c]
        return self

    def transform(self, X):
        blocks = [X.drop(columns=list(self.categories_))]
        for c, cats in self.categories_.items():
            found, uniques = pd.factorize(X[c])
            codes = np.where(found >= 0, pd.Index(cats).get_indexer(uniques)[found], -1)
            if self.handle_unknown == "error" and ((codes < 0) & X[c].notna().to_numpy()).any():
                raise ValueError(f"column '{c}' has categories not seen in training")
            start = 1 if self.drop_first else 0
            matrix = codes[:, None] == np.arange(start, len(cats))[None, :]
            blocks.append(pd.DataFrame(matrix, index=X.index, columns=self.names_[c]))
        return pd.concat(blocks, axis=1)


class SelectFeatures(TransformerMixin, BaseEstimator):
    """Keeps the ``k`` best features by an F-test against the target, those above a variance
    ``threshold``, or a fixed list; the target column always stays."""

    def __init__(self, method="k_best", k=10, threshold=0.0, columns=None, target=None):
        self.method = method
        self.k = k
        self.threshold = threshold
        self.columns = columns
        self.target = target

    def fit(self, X, y=None):
        from sklearn.feature_selection import f_classif, f_regression

        keep = [self.target] if self.target in X.columns else []
        if self.method == "list":
            selected = list(self.columns)
        else:
            candidates = pick_columns(X, self.columns, keep, lambda s: True)
            data = X[candidates].astype("float64")
            if self.method == "variance":
                selected = [c for c, v in data.var(ddof=0).items() if v > self.threshold]
            else:
                rows = data.notna().all(axis=1) & X[self.target].notna()
                target = X.loc[rows, self.target]
                score = f_regression if target.dtype.kind == "f" and target.nunique() > 20 else f_classif
                with np.errstate(all="ignore"):
                    scores, _ = score(data[rows].to_numpy(), target.to_numpy())
                order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
                selected = [candidates[i] for i in sorted(order[:self.k])]
        self.selected_ = [c for c in selected if c not in keep] + keep
        return self

    def transform(self, X):
        return X[[c for c in self.selected_ if c != self.target or c in X.columns]]


def apply(frame, steps, *new):
    """Fit each new (name, step) on the table and transform it: the new table, and every step so far."""
    for name, step in new:
        frame = step.fit(frame).transform(frame)
        steps = [*steps, (name, step)]
    return frame, steps


def features(frame):
    """Features as the estimator sees them: by position, so any column name works (XGBoost refuses some)."""
    return frame.set_axis([f"f{i}" for i in range(frame.shape[1])], axis=1)


def through(steps, rows):
    """Raw rows through fitted steps, as a trained model scores them: row filters keep every row."""
    for _, step in steps:
        if type(step).__name__ not in ("DropNulls", "FilterRows"):
            rows = step.transform(rows)
    return rows
