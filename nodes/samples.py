"""Showcase datasets: scikit-learn's bundled sets, and a Titanic-like table generated offline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import datasets

_SKLEARN = {
    "iris": datasets.load_iris,
    "digits": datasets.load_digits,  # 8x8 handwritten digits: MNIST-lite
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "diabetes": datasets.load_diabetes,
}
SAMPLES = ["iris", "titanic", "digits", "wine", "breast_cancer", "diabetes"]


def titanic_like(n: int = 891, seed: int = 1912) -> pd.DataFrame:
    """Passengers with the Kaggle Titanic columns and realistic gaps (Age, Cabin, Embarked).

    Generated from a fixed seed with survival odds shaped like the real voyage's
    (women, children and first class first), so results are stable everywhere.
    """
    rng = np.random.default_rng(seed)
    pclass = rng.choice([1, 2, 3], size=n, p=[0.24, 0.21, 0.55])
    sex = rng.choice(["male", "female"], size=n, p=[0.65, 0.35])
    age = np.clip(rng.normal(29.7 + (3 - pclass) * 5, 13.5), 0.42, 80).round(1)
    sibsp = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.68, 0.23, 0.04, 0.03, 0.02])
    parch = rng.choice([0, 1, 2, 3], size=n, p=[0.76, 0.13, 0.09, 0.02])
    fare = (rng.lognormal(np.log([1, 60, 20, 9])[pclass], 0.5)).round(4)
    embarked = rng.choice(["S", "C", "Q"], size=n, p=[0.72, 0.19, 0.09]).astype(object)
    logit = 1.1 + 2.4 * (sex == "female") - 0.95 * (pclass - 1) - 0.03 * (age - 30) + 0.9 * (age < 10) \
        - 0.25 * sibsp
    survived = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({
        "PassengerId": np.arange(1, n + 1),
        "Survived": survived,
        "Pclass": pclass,
        "Sex": sex,
        "Age": age,
        "SibSp": sibsp,
        "Parch": parch,
        "Fare": fare,
        "Cabin": np.where(pclass == 1, [f"C{i}" for i in rng.integers(1, 150, n)], None),
        "Embarked": embarked,
    })
    frame.loc[rng.random(n) < 0.2, "Age"] = np.nan
    frame.loc[rng.choice(n, 2, replace=False), "Embarked"] = None
    return frame


def load_sample(name: str) -> pd.DataFrame:
    if name == "titanic":
        return titanic_like()
    return _SKLEARN[name](as_frame=True).frame.reset_index(drop=True)
