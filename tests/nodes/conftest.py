"""Fixtures for node tests: run a registered node the way the engine does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nodes.base import NodeContext
from nodes.catalog import discover
from nodes.ports import Dataset
from nodes.samples import load_sample


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def datasets_dir(tmp_path) -> Path:
    path = tmp_path / "datasets"
    path.mkdir()
    return path


@pytest.fixture
def run_node(data_dir, datasets_dir):
    """``run_node(type, inputs, protected=..., **params)``: validate params, build a context, run.

    Returns the node's outputs keyed by port name.
    """

    def run(node_type: str, inputs: dict | None = None, *, protected=(), max_dataset_mb: float = 2048,
            connections: dict[str, dict] | None = None, **params) -> dict:
        defn = discover()[node_type]
        ctx = NodeContext(node_id=f"{node_type}-1", data_dir=data_dir, datasets_dir=datasets_dir,
                          protected_columns=frozenset(protected), max_dataset_mb=max_dataset_mb,
                          connections=(connections or {}).__getitem__)
        return defn.run(inputs or {}, defn.params_model(**params), ctx)

    return run


@pytest.fixture
def transform(run_node):
    """``transform(type, frame, protected=..., **params)``: a one-dataset node's output table."""

    def apply(node_type: str, frame: pd.DataFrame, *, protected=(), **params) -> pd.DataFrame:
        return run_node(node_type, {"dataset": Dataset(frame)}, protected=protected, **params)["dataset"].frame

    return apply


@pytest.fixture
def titanic() -> pd.DataFrame:
    """The real passenger list: numbers, text, booleans, gaps (age, deck, embarked) and a 0/1 target 'survived'.

    'alive' is the target in words and 'deck' mostly empty: most tests drop both.
    """
    return load_sample("titanic")


@pytest.fixture
def wine() -> pd.DataFrame:
    """13 numeric features and a 3-class integer 'target'."""
    return load_sample("wine")


@pytest.fixture
def iris() -> pd.DataFrame:
    return load_sample("iris")


@pytest.fixture
def chain(run_node):
    """``chain(dataset, [(type, params), ...], target=...)``: run one-dataset nodes in order.

    Nodes before a split get the split's ``target`` as a protected column, as the engine does.
    """

    def run(dataset: Dataset, steps: list[tuple[str, dict]], *, target: str | None = None) -> Dataset:
        protected = {target} if target else set()
        for node_type, params in steps:
            dataset = run_node(node_type, {"dataset": dataset}, protected=protected, **params)["dataset"]
        return dataset

    return run


TITANIC_CHAIN = [
    ("drop_columns", {"columns": ["alive", "deck", "class", "embark_town"]}),  # the label in words, gaps, copies
    ("drop_nulls", {"subset": ["embarked"]}),
    ("impute", {"strategy": "median", "columns": ["age"]}),
    ("one_hot_encode", {"columns": ["sex", "embarked"]}),
]


@pytest.fixture
def titanic_split(run_node, chain, titanic):
    """Titanic through drop_columns -> drop_nulls(embarked) -> impute(age) -> one_hot -> stratified split.

    Returns ``(train, test)`` Datasets; the split's target is 'survived'.
    """
    prepared = chain(Dataset(titanic), TITANIC_CHAIN, target="survived")
    out = run_node("train_test_split", {"dataset": prepared}, target_column="survived", stratify=True,
                   test_size=0.25, random_state=0)
    return out["train"], out["test"]
