"""Showcase datasets: shipped inside the package, the real Titanic passenger list among them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from nodes.samples import LABELS, SAMPLES, load_sample

ROOT = Path(__file__).resolve().parents[2]
SEABORN_COLUMNS = ["survived", "pclass", "sex", "age", "sibsp", "parch", "fare", "embarked", "class",
                   "adult_male", "deck", "embark_town", "alive", "alone"]


def test_titanic_is_the_real_passenger_list():
    frame = load_sample("titanic")

    assert list(frame.columns) == SEABORN_COLUMNS and len(frame) == 891
    assert frame["survived"].sum() == 342  # the 891 passengers of the public training set
    assert frame["pclass"].value_counts().to_dict() == {3: 491, 1: 216, 2: 184}
    assert frame[["age", "deck", "embarked"]].isna().sum().to_dict() == {"age": 177, "deck": 688, "embarked": 2}
    first = frame.iloc[0]
    assert (first["sex"], first["age"], first["fare"], first["embarked"]) == ("male", 22.0, 7.25, "S")
    assert frame["adult_male"].dtype == bool and frame["alone"].dtype == bool


def test_alive_is_the_label_in_words():
    frame = load_sample("titanic")

    assert (frame["alive"] == frame["survived"].map({0: "no", 1: "yes"})).all()


def test_each_load_is_a_fresh_copy():
    first = load_sample("titanic")
    first.loc[0, "age"] = -1.0

    assert load_sample("titanic").loc[0, "age"] == 22.0


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_has_its_label(name):
    frame = load_sample(name)

    assert LABELS[name] in frame.columns and frame[LABELS[name]].notna().all()


def test_digits_stay_scikit_learns_8x8_images():
    frame = load_sample("digits")

    assert frame.shape == (1797, 65) and frame["target"].nunique() == 10


def test_the_csv_files_ship_as_package_data():
    from importlib import resources

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["nodes"]
    shipped = {p.relative_to(ROOT / "nodes").as_posix() for pattern in patterns
               for p in (ROOT / "nodes").glob(pattern)}
    assert "data/titanic.csv" in shipped
    assert resources.files("nodes").joinpath("data", "titanic.csv").is_file()


def test_the_examples_csv_is_the_same_passenger_list():
    pd.testing.assert_frame_equal(pd.read_csv(ROOT / "examples" / "data" / "titanic.csv"), load_sample("titanic"))
