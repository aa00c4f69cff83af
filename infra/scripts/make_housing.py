"""Write ``nodes/data/housing.csv``, the generated housing-style showcase dataset (``sample_dataset`` 'housing').

Usage: python infra/scripts/make_housing.py [OUT]   (default: nodes/data/housing.csv)

Ames/California-like houses, made up rather than downloaded: 2,000 sales with eight numeric features,
three text ones and a ``price`` in dollars. The price grows with size and quality the way a market does
(multiplicatively, with a premium for the best finishes), falls off with the distance to the centre,
moves with the neighbourhood, style and heating, and carries noise, so trees beat a straight line on it.
A few percent of ``lot_area``, ``year_built``, ``garage_cars`` and ``heating`` are missing, as in real
listings. One seed, so the file is the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261130
ROWS = 2000
# neighbourhood: (share of sales, typical km to the centre, price factor, typical quality)
NEIGHBORHOODS = {
    "Old Town": (0.16, 1.5, 0.90, 5.0), "Riverside": (0.12, 3.0, 1.35, 6.5),
    "College Hill": (0.14, 2.5, 1.10, 6.0), "Meadowbrook": (0.15, 7.0, 1.00, 6.0),
    "Northridge": (0.09, 9.0, 1.55, 7.5), "Eastgate": (0.14, 5.0, 0.75, 4.5),
    "Lakeside": (0.10, 12.0, 1.40, 7.0), "Mill Park": (0.10, 15.0, 0.65, 4.5),
}
STYLES = {"one_story": (0.45, 1.00), "two_story": (0.30, 1.06), "split_level": (0.15, 0.97),
          "one_and_half_story": (0.10, 0.93)}
HEATING = {"gas": (0.62, 1.00), "heat_pump": (0.18, 1.04), "electric": (0.14, 0.95), "oil": (0.06, 0.90)}
MISSING = {"lot_area": 0.04, "year_built": 0.02, "garage_cars": 0.03, "heating": 0.03}


def _choice(rng: np.random.Generator, table: dict) -> np.ndarray:
    names = list(table)
    shares = np.array([table[name][0] for name in names])
    return rng.choice(names, size=ROWS, p=shares / shares.sum())


def make_housing(seed: int = SEED) -> pd.DataFrame:
    """The housing table: features, a few gaps, and the ``price`` they explain."""
    rng = np.random.default_rng(seed)
    hood = _choice(rng, NEIGHBORHOODS)
    near, hood_factor, hood_quality = (np.array([NEIGHBORHOODS[h][i] for h in hood]) for i in (1, 2, 3))
    style = _choice(rng, STYLES)
    heating = _choice(rng, HEATING)

    distance = np.round(np.clip(near * rng.lognormal(0.0, 0.35, ROWS), 0.2, 40.0), 1)
    quality = np.clip(np.round(hood_quality + rng.normal(0, 1.3, ROWS)), 1, 10).astype(int)
    year = np.clip(np.round(2024 - rng.gamma(2.0, 14.0 + 2.5 * (10 - quality))), 1880, 2024).astype(int)
    living = np.round(np.clip(np.exp(6.6 + 0.09 * quality + 0.06 * np.log1p(distance)
                                     + rng.normal(0, 0.25, ROWS))
                              * np.where(style == "two_story", 1.25, 1.0), 450, 6000), -1).astype(int)
    lot = np.round(np.clip(living * (2.2 + 0.45 * distance) * rng.lognormal(0, 0.4, ROWS), 1200, 120000),
                   -1).astype(int)
    bedrooms = np.clip(np.round(living / 650 + rng.normal(0.6, 0.6, ROWS)), 1, 7).astype(int)
    bathrooms = np.clip(np.round(2 * (0.6 + living / 1100 + rng.normal(0, 0.35, ROWS))) / 2, 1, 5)
    garage = np.clip(np.round(0.4 + living / 1300 + 0.04 * distance + rng.normal(0, 0.7, ROWS))
                     - (year < 1940), 0, 4).astype(int)

    age = 2024 - year
    log_price = (11.95
                 + 0.85 * np.log(living / 1500)
                 + 0.10 * np.log(lot / 8000)
                 + 0.04 * (quality - 5) + 0.05 * np.maximum(quality - 7, 0) ** 2  # finishes pay more at the top
                 - 0.006 * np.minimum(age, 70) + 0.006 * np.maximum(age - 90, 0)  # old, or historic
                 + 0.55 * np.exp(-distance / 3.0)  # near the centre
                 + 0.045 * np.minimum(garage, 2) + 0.03 * (bathrooms - bedrooms / 2).clip(-1, 2)
                 + np.log(hood_factor)
                 + np.log([STYLES[s][1] for s in style]) + np.log([HEATING[h][1] for h in heating])
                 + rng.normal(0, 0.15, ROWS))
    price = np.round(np.exp(log_price), -2).astype(int)

    frame = pd.DataFrame({
        "lot_area": lot.astype(float), "living_area": living, "year_built": year.astype(float),
        "bedrooms": bedrooms, "bathrooms": bathrooms, "garage_cars": garage.astype(float),
        "overall_quality": quality, "distance_to_center_km": distance,
        "neighborhood": hood, "house_style": style, "heating": heating.astype(object), "price": price,
    })
    for column, share in MISSING.items():  # gaps drawn after the price: the house had them, the listing lost them
        frame.loc[rng.random(ROWS) < share, column] = np.nan
    return frame


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "nodes" / "data" / "housing.csv"
    make_housing().to_csv(out, index=False)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
