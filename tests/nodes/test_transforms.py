"""Table transforms, run through their nodes and compared with pandas / scikit-learn."""

from __future__ import annotations

import operator
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_classif, f_regression
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from flowza_core.errors import InvalidParameter, MissingColumn
from nodes.ports import Dataset
from nodes.samples import load_sample
from nodes.transforms import DropColumns, DropNulls, FilterRows, Impute, Normalize, OneHot, SelectFeatures

TITANIC_NUMERIC = ["pclass", "age", "sibsp", "parch", "fare"]  # not the booleans adult_male, alone
TITANIC_TEXT = ["sex", "embarked", "class", "deck", "embark_town", "alive"]

# pandas 3 deprecates what pandas 4 will refuse (e.g. Categorical values outside its categories).
no_deprecated_pandas = pytest.mark.filterwarnings("error::DeprecationWarning")


# --- normalize -------------------------------------------------------------------------------

@pytest.mark.parametrize("method, scaler", [("standard", StandardScaler), ("minmax", MinMaxScaler)])
def test_normalize_matches_sklearn_scalers_on_numeric_features(transform, titanic, method, scaler):
    out = transform("normalize", titanic, protected={"survived"}, method=method)

    expected = scaler().fit_transform(titanic[TITANIC_NUMERIC])
    np.testing.assert_allclose(out[TITANIC_NUMERIC].to_numpy(), expected, rtol=1e-12)


def test_normalize_leaves_the_target_and_text_columns_alone(transform, titanic):
    out = transform("normalize", titanic, protected={"survived"})

    untouched = ["survived", *TITANIC_TEXT]
    pd.testing.assert_frame_equal(out[untouched], titanic[untouched])


@pytest.mark.parametrize("method, scaler", [("standard", StandardScaler), ("minmax", MinMaxScaler)])
def test_normalize_maps_a_constant_column_to_zero_like_sklearn(transform, method, scaler):
    frame = pd.DataFrame({"constant": [0.1] * 5, "varied": [1.0, 2.0, 3.0, 5.0, 8.0]})

    out = transform("normalize", frame, method=method)

    assert np.isfinite(out.to_numpy()).all()
    np.testing.assert_allclose(out.to_numpy(), scaler().fit_transform(frame), rtol=1e-12, atol=1e-12)


def test_normalize_refuses_the_target_as_an_explicit_column(transform, titanic):
    with pytest.raises(InvalidParameter) as err:
        transform("normalize", titanic, protected={"survived"}, columns=["age", "survived"])
    assert "survived" in err.value.message
    assert err.value.field == "columns"


def test_normalize_refuses_an_explicit_text_column(transform, titanic):
    with pytest.raises(InvalidParameter, match="sex"):
        transform("normalize", titanic, columns=["sex"])


# --- one-hot encode --------------------------------------------------------------------------

def test_one_hot_matches_get_dummies_on_text_features(transform, titanic):
    out = transform("one_hot_encode", titanic, protected={"survived"})

    pd.testing.assert_frame_equal(out, pd.get_dummies(titanic, columns=TITANIC_TEXT))


def test_one_hot_drop_first_matches_get_dummies():
    """Categories are ordered as get_dummies orders them, so the same one is dropped."""
    frame = pd.DataFrame({"city": ["Oslo", "Bergen", "Oslo", "Tromsø"], "rooms": [2, 10, 3, 2]})

    out = OneHot(columns=["city", "rooms"], drop_first=True).fit_transform(frame)

    pd.testing.assert_frame_equal(out, pd.get_dummies(frame, columns=["city", "rooms"], drop_first=True))


@no_deprecated_pandas
def test_one_hot_unseen_category_is_an_all_false_row_when_ignored():
    train = pd.DataFrame({"colour": ["red", "blue", "red"]})
    new = pd.DataFrame({"colour": ["blue", "green"]})

    out = OneHot().fit(train).transform(new)

    assert list(out.columns) == ["colour_blue", "colour_red"]
    assert out.to_numpy().tolist() == [[True, False], [False, False]]


@no_deprecated_pandas
def test_one_hot_unseen_category_is_an_error_when_asked():
    train = pd.DataFrame({"colour": ["red", "blue", "red"]})
    new = pd.DataFrame({"colour": ["blue", "green"]}, index=[10, 11])

    with pytest.raises(InvalidParameter, match=r"colour.*\[11\]"):
        OneHot(handle_unknown="error").fit(train).transform(new)


def test_one_hot_leaves_a_text_target_alone(transform):
    frame = pd.DataFrame({"colour": ["red", "blue"], "label": ["yes", "no"]})

    out = transform("one_hot_encode", frame, protected={"label"})

    pd.testing.assert_frame_equal(out, pd.get_dummies(frame, columns=["colour"]))


# --- impute ----------------------------------------------------------------------------------

@pytest.mark.parametrize("strategy, statistic", [
    ("mean", lambda s: s.mean()),
    ("median", lambda s: s.median()),
    ("most_frequent", lambda s: s.mode().iloc[0]),
])
def test_impute_fills_with_the_pandas_statistic(transform, titanic, strategy, statistic):
    out = transform("impute", titanic, strategy=strategy, columns=["age"])

    pd.testing.assert_frame_equal(out, titanic.fillna({"age": statistic(titanic["age"])}))


def test_impute_constant(transform, titanic):
    out = transform("impute", titanic, strategy="constant", fill_value="unknown", columns=["deck", "embarked"])

    pd.testing.assert_frame_equal(out, titanic.fillna({"deck": "unknown", "embarked": "unknown"}))


def test_impute_by_default_fills_only_columns_with_nulls_text_ones_with_their_mode(run_node, titanic):
    titanic.loc[[0, 5], "survived"] = np.nan
    out = run_node("impute", {"dataset": Dataset(titanic)}, protected={"survived"})["dataset"]

    assert set(out.steps[-1].fill_) == {"age", "deck", "embarked", "embark_town"}
    expected = titanic.fillna({"age": titanic["age"].mean(), "deck": titanic["deck"].mode()[0],
                               "embarked": titanic["embarked"].mode()[0],
                               "embark_town": titanic["embark_town"].mode()[0]})
    pd.testing.assert_frame_equal(out.frame, expected)


def test_impute_mean_of_an_explicit_text_column_is_invalid(transform, titanic):
    with pytest.raises(InvalidParameter, match="embarked") as err:
        transform("impute", titanic, strategy="mean", columns=["age", "embarked"])
    assert err.value.field == "strategy"


# --- drop nulls ------------------------------------------------------------------------------

@pytest.mark.parametrize("subset", [None, ["age"], ["age", "embarked"]])
@pytest.mark.parametrize("how", ["any", "all"])
def test_drop_nulls_matches_dropna(transform, titanic, subset, how):
    params = {"how": how} | ({"subset": subset} if subset else {})

    out = transform("drop_nulls", titanic, **params)

    pd.testing.assert_frame_equal(out, titanic.dropna(subset=subset, how=how))


def test_drop_nulls_names_a_missing_subset_column(transform, titanic):
    with pytest.raises(MissingColumn, match="Agee") as err:
        transform("drop_nulls", titanic, subset=["age", "Agee"])
    assert err.value.field == "subset"


# --- filter rows -----------------------------------------------------------------------------

@pytest.mark.parametrize("column, op, value, keep", [
    ("pclass", "==", 2, lambda s: s == 2),
    ("age", "!=", 22.0, lambda s: s != 22.0),
    ("age", "<", 22.0, lambda s: s < 22.0),
    ("age", "<=", 22.0, lambda s: s <= 22.0),
    ("age", ">", 22.0, lambda s: s > 22.0),
    ("age", ">=", 22.0, lambda s: s >= 22.0),
    ("embarked", "in", ["C", "Q"], lambda s: s.isin(["C", "Q"])),
    ("embarked", "not_in", ["C", "Q"], lambda s: ~s.isin(["C", "Q"])),
    ("age", "not_null", None, operator.methodcaller("notna")),
    ("age", "is_null", None, operator.methodcaller("isna")),
    ("sex", "==", "female", lambda s: s == "female"),
])
def test_filter_rows_matches_pandas_masks(transform, titanic, column, op, value, keep):
    out = transform("filter_rows", titanic, column=column, operator=op, value=value)

    expected = titanic[keep(titanic[column])]
    assert len(expected) not in (0, len(titanic)), "the case should keep some rows and drop others"
    pd.testing.assert_frame_equal(out, expected)


def test_filter_rows_ordering_a_text_column_against_a_number_is_invalid(transform, titanic):
    with pytest.raises(InvalidParameter, match="sex") as err:
        transform("filter_rows", titanic, column="sex", operator="<", value=3)
    assert err.value.field == "value"


# --- select features -------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 4, 13])
def test_select_k_best_chooses_what_sklearn_chooses(transform, wine, k):
    out = transform("select_features", wine, protected={"target"}, k=k)

    features = wine.drop(columns="target")
    chosen = features.columns[SelectKBest(f_classif, k=k).fit(features, wine["target"]).get_support()]
    assert list(out.columns) == [*chosen, "target"]


def test_select_k_best_ranks_a_continuous_target_by_regression(transform):
    diabetes = load_sample("diabetes")

    out = transform("select_features", diabetes, protected={"target"}, k=4)

    features = diabetes.drop(columns="target")
    chosen = features.columns[SelectKBest(f_regression, k=4).fit(features, diabetes["target"]).get_support()]
    assert list(out.columns) == [*chosen, "target"]


def test_select_by_variance_matches_variance_threshold(transform, wine):
    out = transform("select_features", wine, protected={"target"}, method="variance", threshold=1.0)

    features = wine.drop(columns="target")
    kept = features.columns[VarianceThreshold(1.0).fit(features).get_support()]
    assert list(out.columns) == [*kept, "target"]


def test_select_by_variance_drops_a_feature_exactly_at_the_threshold(transform):
    frame = pd.DataFrame({"at": [0.0, 2.0, 0.0, 2.0], "above": [0.0, 4.0, 0.0, 4.0], "target": [0, 1, 0, 1]})

    out = transform("select_features", frame, protected={"target"}, method="variance", threshold=1.0)

    kept = frame.columns[:2][VarianceThreshold(1.0).fit(frame[["at", "above"]]).get_support()]
    assert list(out.columns) == [*kept, "target"] == ["above", "target"]


def test_select_a_list_keeps_those_columns_and_the_target(transform, wine):
    out = transform("select_features", wine, protected={"target"}, method="list", columns=["proline", "hue"])

    pd.testing.assert_frame_equal(out, wine[["proline", "hue", "target"]])


def test_select_k_best_without_a_target_is_invalid(transform, wine):
    with pytest.raises(InvalidParameter) as err:
        transform("select_features", wine)
    assert err.value.field == "method"


def test_select_k_best_names_a_target_that_is_not_in_the_table(transform, wine):
    with pytest.raises(MissingColumn, match="label"):
        transform("select_features", wine, protected={"label"})


# --- steps as scikit-learn estimators --------------------------------------------------------

STEPS = [
    DropColumns(columns=["deck"]),
    DropNulls(subset=["age"], how="all"),
    FilterRows(column="pclass", operator="in", value=[1, 2]),
    Impute(strategy="median", columns=["age"]),
    Normalize(method="minmax", protected=("survived",)),
    OneHot(drop_first=True, protected=("survived",)),
    SelectFeatures(method="variance", threshold=0.5, columns=["age", "fare", "sibsp"], target="survived"),
]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: type(s).__name__)
def test_step_clones_to_an_unfitted_copy_with_the_same_params(step, titanic):
    fitted = clone(step).fit(titanic)

    copy = clone(fitted)

    assert copy.get_params() == step.get_params()
    assert not [name for name in vars(copy) if name.endswith("_")], "a clone must not carry fitted state"
    pd.testing.assert_frame_equal(copy.fit(titanic).transform(titanic), fitted.transform(titanic))


@pytest.mark.parametrize("step", STEPS, ids=lambda s: type(s).__name__)
def test_fitted_step_survives_pickling(step, titanic):
    fitted = clone(step).fit(titanic)

    restored = pickle.loads(pickle.dumps(fitted))

    pd.testing.assert_frame_equal(restored.transform(titanic), fitted.transform(titanic))
