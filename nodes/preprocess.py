"""Preprocessing nodes: each applies one table transform (see ``nodes.transforms``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from nodes.base import NodeContext, Params, node
from nodes.ports import Dataset
from nodes.transforms import DropColumns, DropNulls, FilterRows, Impute, Normalize, OneHot, SelectFeatures


def columns_field(description: str, **extra) -> Any:
    return Field(None, description=description, json_schema_extra={"column_of": "dataset", **extra})


class DropNullsParams(Params):
    subset: list[str] | None = columns_field("Only look for nulls in these columns (default: all).")
    how: Literal["any", "all"] = Field("any", description="Drop a row when any / all of the columns are null.")


@node(category="preprocessing")
def drop_nulls(dataset: Dataset, params: DropNullsParams) -> Dataset:
    """Drop rows that have missing values."""
    return dataset.apply(DropNulls(subset=params.subset, how=params.how))


class DropColumnsParams(Params):
    columns: list[str] = Field(..., min_length=1, description="Columns to remove.",
                               json_schema_extra={"column_of": "dataset"})


@node(category="preprocessing")
def drop_columns(dataset: Dataset, params: DropColumnsParams) -> Dataset:
    """Remove columns from the table."""
    return dataset.apply(DropColumns(columns=params.columns))


class ImputeParams(Params):
    strategy: Literal["mean", "median", "most_frequent", "constant"] = "mean"
    fill_value: str | float | int | bool | None = Field(None, description="Value used by strategy 'constant'.")
    columns: list[str] | None = columns_field("Columns to fill (default: every column with nulls; "
                                              "non-numeric ones get their most frequent value).")

    @model_validator(mode="after")
    def _constant_needs_value(self):
        if self.strategy == "constant" and self.fill_value is None:
            raise ValueError("strategy 'constant' needs a fill_value")
        return self


@node(category="preprocessing")
def impute(dataset: Dataset, params: ImputeParams, ctx: NodeContext) -> Dataset:
    """Fill missing values with a statistic learned from training rows."""
    return dataset.apply(Impute(strategy=params.strategy, fill_value=params.fill_value,
                                columns=params.columns, protected=tuple(ctx.protected_columns)))


class NormalizeParams(Params):
    method: Literal["standard", "minmax"] = Field("standard", description="z-score or scale to [0, 1].")
    columns: list[str] | None = columns_field("Columns to scale (default: every numeric feature).")


@node(category="preprocessing")
def normalize(dataset: Dataset, params: NormalizeParams, ctx: NodeContext) -> Dataset:
    """Scale numeric features with statistics learned from training rows."""
    return dataset.apply(Normalize(method=params.method, columns=params.columns,
                                   protected=tuple(ctx.protected_columns)))


class OneHotParams(Params):
    columns: list[str] | None = columns_field("Columns to encode (default: every text/categorical feature).")
    drop_first: bool = Field(False, description="Drop the first category's column (avoids collinearity).")
    handle_unknown: Literal["ignore", "error"] = Field(
        "ignore", description="A category unseen in training: all-zero row, or an error.",
        json_schema_extra={"advanced": True})


@node(category="preprocessing", version=2)  # OneHot names its columns at fit time
def one_hot_encode(dataset: Dataset, params: OneHotParams, ctx: NodeContext) -> Dataset:
    """Replace categorical columns with one boolean column per category."""
    return dataset.apply(OneHot(columns=params.columns, drop_first=params.drop_first,
                                handle_unknown=params.handle_unknown, protected=tuple(ctx.protected_columns)))


class SelectFeaturesParams(Params):
    method: Literal["k_best", "variance", "list"] = Field(
        "k_best", description="k_best: F-test against the target; variance: drop near-constant; list: keep these.")
    k: int = Field(10, ge=1, description="How many features k_best keeps.")
    threshold: float = Field(0.0, ge=0, description="Variance a feature must exceed (method 'variance').")
    columns: list[str] | None = columns_field("Candidate columns (method 'list': the columns to keep).")

    @model_validator(mode="after")
    def _list_needs_columns(self):
        if self.method == "list" and not self.columns:
            raise ValueError("method 'list' needs columns")
        return self


@node(category="preprocessing")
def select_features(dataset: Dataset, params: SelectFeaturesParams, ctx: NodeContext) -> Dataset:
    """Keep the most useful feature columns; the target column always stays."""
    target = next(iter(sorted(ctx.protected_columns)), None)
    return dataset.apply(SelectFeatures(method=params.method, k=params.k, threshold=params.threshold,
                                        columns=params.columns, target=target))


class FilterRowsParams(Params):
    column: str = Field(..., description="Column to test.", json_schema_extra={"column_of": "dataset"})
    operator: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "not_null", "is_null"] = "=="
    value: str | float | int | bool | list[str | float | int | bool] | None = Field(
        None, description="Value to compare with (a list for 'in' / 'not_in').")

    @model_validator(mode="after")
    def _value_matches_operator(self):
        listy = self.operator in ("in", "not_in")
        if listy != isinstance(self.value, list) and self.operator not in ("not_null", "is_null"):
            raise ValueError(f"operator '{self.operator}' needs {'a list' if listy else 'a single'} value")
        return self


@node(category="preprocessing")
def filter_rows(dataset: Dataset, params: FilterRowsParams) -> Dataset:
    """Keep the rows where a column satisfies a comparison."""
    return dataset.apply(FilterRows(column=params.column, operator=params.operator, value=params.value))


class PreprocessParams(Params):
    drop_nulls: bool = Field(True, description="Drop rows with missing values.")
    normalize: bool = Field(False, description="Standardize numeric features.")
    encode_categorical: bool = Field(True, description="One-hot encode text/categorical features.")
    columns_to_drop: list[str] = Field(default_factory=list, description="Columns removed first.",
                                       json_schema_extra={"column_of": "dataset"})


@node(category="preprocessing", version=2)  # OneHot names its columns at fit time
def preprocess(dataset: Dataset, params: PreprocessParams, ctx: NodeContext) -> Dataset:
    """Common cleaning in one node: drop columns, drop nulls, one-hot encode, standardize."""
    protected = tuple(ctx.protected_columns)
    if params.columns_to_drop:
        dataset = dataset.apply(DropColumns(columns=params.columns_to_drop))
    if params.drop_nulls:
        dataset = dataset.apply(DropNulls())
    if params.encode_categorical:
        dataset = dataset.apply(OneHot(protected=protected))
    if params.normalize:
        dataset = dataset.apply(Normalize(protected=protected))
    return dataset
