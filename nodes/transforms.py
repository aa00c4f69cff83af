"""Table transforms as scikit-learn-compatible steps (``fit`` learns, ``transform`` applies).

Nodes apply them through :meth:`Dataset.apply`; the split re-fits them on training rows,
and a model pipeline carries them so raw rows are transformed as in training.
``stateless`` steps learn nothing, so re-fitting them changes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from flowza_core.errors import InvalidData, InvalidParameter
from nodes.columns import is_categorical_feature, is_numeric_feature, pick_columns, require_columns
from nodes.names import unique_names


def infinite_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Which cells of the numeric columns hold +inf or -inf (estimators and scalers refuse them)."""
    return frame.select_dtypes("number").isin([np.inf, -np.inf])


def refuse_infinite(frame: pd.DataFrame, what: str) -> None:
    """Raise ``InvalidData`` naming the columns and a row with infinite values, if any."""
    cells = infinite_cells(frame)
    columns = [str(c) for c in cells.columns[cells.any().to_numpy()]]
    if columns:
        row = frame.index[cells.any(axis=1).to_numpy()][0]
        row = row.item() if hasattr(row, "item") else row  # 3, not np.int64(3)
        raise InvalidData(f"{what} column(s) {', '.join(columns[:8])} hold infinite values "
                          f"({int(cells.sum().sum())} cell(s), first at row {row!r}): drop those rows with "
                          f"filter_rows or fix them at the source")


class Step(TransformerMixin, BaseEstimator):
    stateless = False

    def fit(self, X: pd.DataFrame, y=None):
        return self

    def same_state(self, other: "Step") -> bool:
        """Whether ``other`` (fitted on other rows) transforms every row exactly as this one does."""
        return self.stateless

    def fitted_columns(self) -> list | None:
        """The columns this fitted step learned from (None: it may read any)."""
        return None


class DropColumns(Step):
    stateless = True

    def __init__(self, columns=()):
        self.columns = columns

    def transform(self, X):
        return X.drop(columns=require_columns(X, self.columns))


class DropNulls(Step):
    """Drops rows with missing values (``how``: any/all) in ``subset`` (default: every column)."""

    stateless = True

    def __init__(self, subset=None, how="any"):
        self.subset = subset
        self.how = how

    def transform(self, X):
        subset = require_columns(X, self.subset, "subset") if self.subset else None
        return X.dropna(subset=subset, how=self.how)


class FilterRows(Step):
    """Keeps rows where ``column <operator> value``; a structured test, never an eval'd expression."""

    stateless = True
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
        require_columns(X, [self.column], "column")
        try:
            mask = self.OPERATORS[self.operator](X[self.column], self.value)
        except TypeError as exc:
            raise InvalidParameter(
                f"cannot compare column '{self.column}' ({X[self.column].dtype}) with {self.value!r} "
                f"using '{self.operator}'", field="value") from exc
        return X[mask.fillna(False).astype(bool)]


class Impute(Step):
    """Fills missing values with a statistic learned at fit time."""

    def __init__(self, strategy="mean", fill_value=None, columns=None, protected=()):
        self.strategy = strategy
        self.fill_value = fill_value
        self.columns = columns
        self.protected = protected

    def same_state(self, other) -> bool:
        return self.fill_ == other.fill_

    def fitted_columns(self) -> list:
        return list(self.fill_)

    def fit(self, X, y=None):
        cols = pick_columns(X, self.columns, self.protected, lambda s: bool(s.isna().any()))
        self.fill_ = {}
        for c in cols:
            s = X[c]
            strategy = self.strategy
            if strategy in ("mean", "median") and not is_numeric_feature(s):
                if self.columns:
                    raise InvalidParameter(f"column '{c}' is not numeric: use strategy most_frequent or "
                                           f"constant for it", field="strategy")
                strategy = "most_frequent"  # default columns: categorical ones get their mode
            if strategy == "constant":
                if not self.columns and isinstance(self.fill_value, str) == is_numeric_feature(s):
                    continue  # default columns: a text fill value fills text columns, a number numeric ones
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


class Normalize(Step):
    """Standard (z-score) or min-max scaling, computed by scikit-learn's own scalers."""

    def __init__(self, method="standard", columns=None, protected=()):
        self.method = method
        self.columns = columns
        self.protected = protected

    def fit(self, X, y=None):
        cols = pick_columns(X, self.columns, self.protected, is_numeric_feature)
        bad = [c for c in cols if not is_numeric_feature(X[c])]
        if bad:
            raise InvalidParameter(f"cannot normalize non-numeric column(s): {', '.join(bad)}", field="columns")
        refuse_infinite(X[cols], "numeric")
        scaler = StandardScaler() if self.method == "standard" else MinMaxScaler()
        self.columns_ = cols
        self.scaler_ = scaler.fit(X[cols].to_numpy(dtype="float64")) if cols else None
        return self

    def transform(self, X):
        if not self.columns_:
            return X
        cols = require_columns(X, self.columns_)
        out = X.copy(deep=False)
        out[cols] = self.scaler_.transform(_float_matrix(X, cols))
        return out


def _float_matrix(X: pd.DataFrame, cols: list) -> np.ndarray:
    """``X[cols].to_numpy(dtype="float64")``: the same values, read column by column when each is a plain
    numpy number column (building the sub-frame is most of the cost of scoring a few rows)."""
    if X.columns.is_unique:
        columns = [X[c] for c in cols]
        if all(isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf" for s in columns):
            return np.column_stack([s.to_numpy(dtype="float64") for s in columns])
    return X[cols].to_numpy(dtype="float64")


class OneHot(Step):
    """One boolean column per category learned at fit time (like ``pd.get_dummies``).

    A new column is named ``<column>_<category>`` (``<column>_(empty)`` for a blank one); a name
    already taken as text (two categories ``1`` and ``"1"``, or an existing column) gets ``_2``.
    """

    def __init__(self, columns=None, drop_first=False, handle_unknown="ignore", protected=()):
        self.columns = columns
        self.drop_first = drop_first
        self.handle_unknown = handle_unknown
        self.protected = protected

    def same_state(self, other) -> bool:
        return self.categories_ == other.categories_

    def fitted_columns(self) -> list:
        return list(self.categories_)

    def fit(self, X, y=None):
        cols = pick_columns(X, self.columns, self.protected, is_categorical_feature)
        self.categories_ = {c: _sorted_categories(X[c]) for c in cols}
        # Named once, against every column of the fitted table (the target too), so rows sent
        # for prediction, which lack the target, get exactly the training columns.
        taken = [c for c in X.columns if c not in self.categories_]
        self.names_ = {}
        for c, cats in self.categories_.items():
            labels = [str(v) if str(v).strip() else "(empty)" for v in (cats[1:] if self.drop_first else cats)]
            self.names_[c] = unique_names([f"{c}_{label}" for label in labels], taken)
            taken += self.names_[c]
        return self

    def transform(self, X):
        cols = require_columns(X, self.categories_)
        blocks = [X.drop(columns=cols)]
        for c, cats in self.categories_.items():
            # Look categories up once per distinct value, not once per row; -1: missing or unseen.
            found, uniques = pd.factorize(X[c])
            codes = np.where(found >= 0, pd.Index(cats).get_indexer(uniques)[found], -1)
            if self.handle_unknown == "error":
                unknown = (codes < 0) & X[c].notna().to_numpy()
                if unknown.any():
                    rows = X.index[unknown][:5].tolist()
                    raise InvalidParameter(f"column '{c}' has categories not seen in training at rows {rows}",
                                           field="handle_unknown")
            start = 1 if self.drop_first else 0
            matrix = codes[:, None] == np.arange(start, len(cats))[None, :]
            blocks.append(pd.DataFrame(matrix, index=X.index, columns=self.names_[c]))
        return pd.concat(blocks, axis=1)


def _sorted_categories(series: pd.Series) -> list:
    values = series.dropna().unique().tolist()
    try:
        return sorted(values)  # numbers in numeric order, as pd.get_dummies does
    except TypeError:
        # Mixed types: by text, then type, so 1 and "1" come in the same order whatever the rows.
        return sorted(values, key=lambda v: (str(v), type(v).__name__))


class SelectFeatures(Step):
    """Keeps the best ``k`` features (by an F-test against the target), those above a variance
    ``threshold``, or a fixed list; the target column is always kept."""

    def __init__(self, method="k_best", k=10, threshold=0.0, columns=None, target=None):
        self.method = method
        self.k = k
        self.threshold = threshold
        self.columns = columns
        self.target = target

    def fit(self, X, y=None):
        keep_always = [self.target] if self.target in X.columns else []
        if self.method == "list":
            self.selected_ = require_columns(X, self.columns or [])
        else:
            candidates = pick_columns(X, self.columns, keep_always, lambda s: True)
            non_numeric = [c for c in candidates if not (is_numeric_feature(X[c]) or X[c].dtype == bool)]
            if non_numeric:
                raise InvalidParameter(f"feature selection needs numeric columns; encode or drop: "
                                       f"{', '.join(non_numeric[:10])}", field="columns")
            data = X[candidates].astype("float64")
            if self.method == "variance":
                self.selected_ = [c for c, v in data.var(ddof=0).items() if v > self.threshold]
            else:
                self.selected_ = self._k_best(X, data, candidates)
        self.selected_ = [c for c in self.selected_ if c not in keep_always] + keep_always
        return self

    def same_state(self, other) -> bool:
        return self.selected_ == other.selected_

    def _k_best(self, X, data, candidates):
        from sklearn.feature_selection import f_classif, f_regression

        if not self.target:
            raise InvalidParameter("k_best ranks features against the target: connect a train_test_split "
                                   "with target_column downstream, or use method 'variance' or 'list'",
                                   field="method")
        require_columns(X, [self.target], "target_column")
        rows = data.notna().all(axis=1) & X[self.target].notna()
        y = X.loc[rows, self.target]
        score_fn = f_regression if y.dtype.kind == "f" and y.nunique() > 20 else f_classif
        with np.errstate(all="ignore"):
            scores, _ = score_fn(data[rows].to_numpy(), y.to_numpy())
        order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
        return [candidates[i] for i in sorted(order[: self.k])]

    def transform(self, X):
        # Rows sent for prediction have no target column; the features must all be there.
        return X[require_columns(X, [c for c in self.selected_ if c != self.target or c in X.columns])]
