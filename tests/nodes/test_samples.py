"""Showcase datasets shipped inside the package: the real Titanic passenger list, generated housing, ..."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from nodes.samples import LABELS, SAMPLES, load_sample

ROOT = Path(__file__).resolve().parents[2]
SEABORN_COLUMNS = ["survived", "pclass", "sex", "age", "sibsp", "parch", "fare", "embarked", "class",
                   "adult_male", "deck", "embark_town", "alive", "alone"]
HOUSING_COLUMNS = ["lot_area", "living_area", "year_built", "bedrooms", "bathrooms", "garage_cars",
                   "overall_quality", "distance_to_center_km", "neighborhood", "house_style", "heating", "price"]


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


def test_housing_has_its_documented_columns_gaps_and_price():
    frame = load_sample("housing")

    assert list(frame.columns) == HOUSING_COLUMNS and len(frame) == 2000 and LABELS["housing"] == "price"
    gaps = frame.isna().mean()
    assert set(gaps[gaps > 0].index) == {"lot_area", "year_built", "garage_cars", "heating"}
    assert gaps[["lot_area", "year_built", "garage_cars", "heating"]].between(0.01, 0.06).all(), gaps
    assert pd.api.types.is_integer_dtype(frame["price"]) and frame["price"].between(10_000, 2_000_000).all()
    assert frame["neighborhood"].nunique() == 8 and frame["house_style"].nunique() == 4
    assert frame["year_built"].dropna().between(1880, 2024).all() and frame["overall_quality"].between(1, 10).all()


def test_housing_prices_follow_the_house():
    frame = load_sample("housing")
    by_quality = frame.groupby("overall_quality")["price"].median()

    assert frame["price"].corr(frame["living_area"]) > 0.5
    assert by_quality.loc[9:].min() > 2 * by_quality.loc[:4].max()  # the best finishes sell for far more
    assert frame.groupby("neighborhood")["price"].median().agg(lambda m: m.max() / m.min()) > 1.8


def test_the_housing_file_is_the_generators_output():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_housing", ROOT / "infra" / "scripts" / "make_housing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    pd.testing.assert_frame_equal(module.make_housing(), load_sample("housing"), check_dtype=False)


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
    assert {"data/titanic.csv", "data/housing.csv"} <= shipped
    for name in ("titanic.csv", "housing.csv"):
        assert resources.files("nodes").joinpath("data", name).is_file()


def test_the_examples_csv_is_the_same_passenger_list():
    pd.testing.assert_frame_equal(pd.read_csv(ROOT / "examples" / "data" / "titanic.csv"), load_sample("titanic"))
