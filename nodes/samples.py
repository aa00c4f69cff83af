"""Showcase datasets, all shipped with Flowza (nothing is downloaded).

Iris, digits, wine, breast cancer and diabetes are scikit-learn's bundled files. Titanic is the public
passenger list of the 1912 voyage (891 passengers, seaborn's layout), kept in ``nodes/data/``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd
from sklearn import datasets

_SKLEARN = {
    "iris": datasets.load_iris,
    "digits": datasets.load_digits,  # 8x8 handwritten digits: MNIST-lite
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "diabetes": datasets.load_diabetes,
}
_SHIPPED = {"titanic": "titanic.csv"}  # files of nodes/data/ (package data)
SAMPLES = ["iris", "titanic", "digits", "wine", "breast_cancer", "diabetes"]
# What each sample predicts; titanic's 'alive' is the same label in words ("yes"/"no"): drop it before training.
LABELS = {name: "target" for name in _SKLEARN} | {"titanic": "survived"}


def load_sample(name: str) -> pd.DataFrame:
    """A fresh copy of a showcase dataset as a table; its label column is ``LABELS[name]``."""
    if name in _SHIPPED:
        with resources.files(__package__).joinpath("data", _SHIPPED[name]).open("rb") as fh:
            return pd.read_csv(fh)
    return _SKLEARN[name](as_frame=True).frame.reset_index(drop=True)
