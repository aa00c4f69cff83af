"""``train_test_split``: the point where transforms are re-fitted on training rows only."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from sklearn.base import clone
from sklearn.model_selection import train_test_split as sk_split

from flowza_core.errors import InvalidParameter
from nodes.base import NodeContext, Params, node
from nodes.columns import require_columns
from nodes.ports import Dataset


class SplitParams(Params):
    target_column: str | None = Field(None, description="The column to predict; feature transforms leave it alone.",
                                      json_schema_extra={"column_of": "dataset", "role": "target"})
    test_size: float = Field(0.2, gt=0, lt=1, description="Fraction of rows held out for testing.")
    random_state: int = Field(42, description="Seed for the shuffle: same seed, same split.")
    stratify: bool = Field(False, description="Keep class proportions equal in both parts (needs target_column).")

    @model_validator(mode="after")
    def _stratify_needs_target(self):
        if self.stratify and not self.target_column:
            raise ValueError("stratify needs target_column")
        return self


class Split(NamedTuple):
    train: Dataset
    test: Dataset


def _rows(table: pd.DataFrame, index: pd.Index, positions: np.ndarray) -> pd.DataFrame:
    """The rows of ``table`` at ``positions`` of ``index``: by position when ``table`` has those very rows
    (most steps keep every row), by label otherwise (a filter came after it)."""
    if table.index is index or table.index.equals(index):
        return table.take(positions)
    return table.loc[index[positions]]


def refit_on_train(dataset: Dataset, train_pos: np.ndarray, test_pos: np.ndarray, target: str | None) -> Split:
    """Split rows by position; steps fitted on all rows are fitted again on the training rows.

    A step whose training-row fit equals its all-row fit (same categories, same fill
    values) transforms every row as before, so its all-row output is reused; from the
    first step that differs on, the training and test rows are transformed anew. Both
    parts keep the loader's table as ``raw`` (their rows are found by index label).
    """
    frame = dataset.frame
    steps = list(dataset.steps)
    if dataset.fitted_on != "train":
        # Without the in-memory inputs of each step (outputs read back from the store), replay them all.
        inputs = dataset.inputs if len(dataset.inputs) == len(steps) else [None] * len(steps)
        train = test = None
        for i, step in enumerate(steps):
            if train is None and (step.stateless or inputs[i] is None):
                if inputs[i] is None:
                    train, test = _rows(dataset.raw, frame.index, train_pos), _rows(dataset.raw, frame.index, test_pos)
                else:
                    continue
            if train is None:
                # Fitting on the columns the step learned from is enough to compare states.
                columns = step.fitted_columns()
                table = inputs[i] if columns is None else inputs[i][columns]
                if clone(step).fit(_rows(table, frame.index, train_pos)).same_state(step):
                    continue
                train, test = _rows(inputs[i], frame.index, train_pos), _rows(inputs[i], frame.index, test_pos)
                refitted = clone(step).fit(train)
            else:
                refitted = step if step.stateless else clone(step).fit(train)
            steps[i] = refitted
            train, test = refitted.transform(train), refitted.transform(test)
        if train is not None:
            return Split(Dataset(train, dataset.raw, tuple(steps), "train", target),
                         Dataset(test, dataset.raw, tuple(steps), "train", target))
    return Split(Dataset(frame.take(train_pos), dataset.raw, tuple(steps), "train", target),
                 Dataset(frame.take(test_pos), dataset.raw, tuple(steps), "train", target))


@node(category="preprocessing")
def train_test_split(dataset: Dataset, params: SplitParams, ctx: NodeContext) -> Split:
    """Split rows into train and test sets; upstream transforms learn from the train rows only."""
    frame = dataset.frame
    stratify = None
    if params.target_column:
        require_columns(frame, [params.target_column], "target_column")
        if params.stratify:
            stratify = frame[params.target_column]
            if stratify.isna().any():
                raise InvalidParameter(f"target column '{params.target_column}' has missing values; "
                                       f"drop or impute them before a stratified split", field="stratify")
    if len(frame) < 2:
        raise InvalidParameter(f"cannot split {len(frame)} row(s) into train and test", field="test_size")
    try:
        train_pos, test_pos = sk_split(np.arange(len(frame)), test_size=params.test_size,
                                       random_state=params.random_state, stratify=stratify)
    except ValueError as exc:
        raise InvalidParameter(f"cannot split: {exc}", field="stratify" if stratify is not None else "test_size") \
            from exc
    ctx.logger.info("split %d rows into %d train / %d test", len(frame), len(train_pos), len(test_pos))
    return refit_on_train(dataset, train_pos, test_pos, params.target_column)
