"""Drift, accuracy, RMSE and latency from rows: shifted traffic drifts, fresh samples of the same traffic do not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.drift import accuracy, feature_drift, latency_percentiles, psi, rmse
from nodes.reference import reference_stats

THRESHOLDS = {"drift_psi": 0.2, "drift_p_value": 0.01, "accuracy_drop": 0.05, "rmse_increase": 0.2, "min_rows": 30}
KINDS = {"age": "number", "fare": "number", "pclass": "number", "sex": "text", "alone": "bool"}


def population(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({"age": rng.normal(30, 12, n), "fare": rng.lognormal(3, 1, n),
                         "pclass": rng.choice([1, 2, 3], n, p=[0.25, 0.2, 0.55]),
                         "sex": rng.choice(["male", "female"], n, p=[0.65, 0.35]), "alone": rng.random(n) < 0.6})


@pytest.fixture(scope="module")
def reference() -> dict:
    return reference_stats(population(np.random.default_rng(0), 5000), KINDS, task="classification")


def rows(frame: pd.DataFrame) -> list[dict]:
    """Inputs as the prediction log holds them (JSON values)."""
    return frame.astype(object).to_dict(orient="records")


def test_a_feature_moved_by_two_standard_deviations_drifts_and_only_it(reference):
    window = population(np.random.default_rng(1), 300)
    window["age"] += 2 * 12
    drift = feature_drift(reference, rows(window), THRESHOLDS)
    assert drift["age"]["drifted"] and drift["age"]["psi"] > 1 and drift["age"]["p_value"] < 1e-20
    assert drift["age"]["kind"] == "numeric" and drift["age"]["rows"] == 300
    assert [name for name, d in drift.items() if d["drifted"]] == ["age"]


def test_fresh_samples_of_the_training_distribution_almost_never_drift(reference):
    seeds = range(100, 300)
    flagged, worst = 0, 0.0
    for seed in seeds:
        drift = feature_drift(reference, rows(population(np.random.default_rng(seed), 300)), THRESHOLDS)
        flagged += any(d["drifted"] for d in drift.values())
        worst = max(worst, *(d["psi"] for d in drift.values()))
    # PSI of 300 fresh rows over 10 bins is ~0.03; both PSI >= 0.2 and p < 0.01 are needed to flag.
    assert flagged == 0, f"{flagged} of {len(seeds)} unshifted windows flagged (false positives)"
    assert worst < 0.2


def test_a_changed_category_mix_drifts_and_unseen_categories_count(reference):
    window = population(np.random.default_rng(2), 300)
    window["sex"] = np.random.default_rng(3).choice(["male", "female"], 300, p=[0.2, 0.8])
    drift = feature_drift(reference, rows(window), THRESHOLDS)
    assert drift["sex"]["kind"] == "categorical" and drift["sex"]["drifted"] and drift["sex"]["p_value"] < 1e-10
    window["sex"] = "unknown"  # never seen in training: all of it lands in the "other" bucket
    assert feature_drift(reference, rows(window), THRESHOLDS)["sex"]["drifted"]
    window["alone"] = True
    assert feature_drift(reference, rows(window), THRESHOLDS)["alone"]["drifted"]


def test_thresholds_decide(reference):
    window = population(np.random.default_rng(4), 300)
    window["age"] += 0.5 * 12  # a moderate move: PSI between 0.2 and 0.5
    moderate = feature_drift(reference, rows(window), THRESHOLDS)["age"]
    assert 0.2 < moderate["psi"] < 0.6 and moderate["p_value"] < 0.01 and moderate["drifted"]
    assert not feature_drift(reference, rows(window), THRESHOLDS | {"drift_psi": 0.8})["age"]["drifted"]
    assert not feature_drift(reference, rows(window), THRESHOLDS | {"drift_p_value": 1e-30})["age"]["drifted"]
    small = population(np.random.default_rng(5), 20)
    small["age"] += 24
    few = feature_drift(reference, rows(small), THRESHOLDS)["age"]
    assert few["psi"] > 1 and not few["drifted"]  # 20 rows < min_rows
    assert feature_drift(reference, rows(small), THRESHOLDS | {"min_rows": 20})["age"]["drifted"]


def test_missing_values_and_empty_windows_measure_nothing(reference):
    drift = feature_drift(reference, [{"age": None, "sex": None}] * 50, THRESHOLDS)
    assert drift["age"] == {"kind": "numeric", "rows": 0, "psi": None, "statistic": None, "p_value": None,
                            "drifted": False}
    assert drift["fare"]["rows"] == 0 and not drift["sex"]["drifted"]
    assert all(d["rows"] == 0 for d in feature_drift(reference, [], THRESHOLDS).values())


def test_psi_of_identical_shares_is_zero_and_grows_with_the_move():
    base = np.full(10, 0.1)
    assert psi(base, base) == 0
    moved = np.array([0.0] * 5 + [0.2] * 5)
    assert psi(base, moved) > psi(base, (base + moved) / 2) > 0


def test_accuracy_and_rmse_of_labelled_predictions():
    assert accuracy([(1, 1), (0, 1), (1, 1.0), ("yes", "yes")]) == 0.75
    assert accuracy([(True, True), (False, 0)]) == 0.5  # a bool is not the number 0
    assert accuracy([]) is None
    assert rmse([(1.0, 2.0), (3, 1)]) == pytest.approx(np.sqrt((1 + 4) / 2))
    assert rmse([("a", 1)]) is None and rmse([]) is None


def test_latency_percentiles():
    got = latency_percentiles(list(range(1, 101)))
    assert got == {"latency_p50": 50.5, "latency_p95": pytest.approx(95.05), "latency_p99": pytest.approx(99.01)}
    assert latency_percentiles([]) == {"latency_p50": None, "latency_p95": None, "latency_p99": None}
