"""Seeded draws of the register's parameters.

Each parameter has its own PCG64 stream, seeded from the run seed and the parameter id, and is drawn
by inverse-CDF from one vector of uniforms. So a parameter's draws do not depend on which other rows
exist or how they are ordered, and widening a range moves every draw outward (never reshuffles them):
intervals widen monotonically when ranges widen.

Distributions (low, central, high from the register):

* ``fixed``: the central value;
* ``uniform``: uniform on [low, high] (central is only reported);
* ``triangular``: triangular with mode = central;
* ``pert``: Beta-PERT with mode = central (lambda = 4);
* ``lognormal``: median = central, low and high the 5th and 95th percentiles (a two-piece lognormal
  when the range is not symmetric on the log scale).

Draws are clipped to the declared [min_allowed, max_allowed].
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from numpy.random import PCG64, Generator, SeedSequence
from scipy import stats

Z95 = stats.norm.ppf(0.95)


def generator(seed: int, stream: str) -> Generator:
    """An independent, reproducible PCG64 generator for one named stream of a run."""
    return Generator(PCG64(SeedSequence([int(seed), zlib.crc32(stream.encode("utf-8"))])))


def _inverse_cdf(u: np.ndarray, distribution: str, low: float, central: float, high: float) -> np.ndarray:
    if distribution == "fixed" or low == high:
        return np.full_like(u, central)
    if distribution == "uniform":
        return low + u * (high - low)
    if distribution == "triangular":
        width = high - low
        split = (central - low) / width
        left = low + np.sqrt(u * width * (central - low))
        right = high - np.sqrt((1 - u) * width * (high - central))
        return np.where(u < split, left, right)
    if distribution == "pert":
        width = high - low
        alpha = 1 + 4 * (central - low) / width
        beta = 1 + 4 * (high - central) / width
        return low + width * stats.beta.ppf(u, alpha, beta)
    if distribution == "lognormal":
        z = stats.norm.ppf(u)
        sigma_low = np.log(central / low) / Z95 if central > low else 0.0
        sigma_high = np.log(high / central) / Z95 if high > central else 0.0
        return central * np.exp(np.where(z < 0, z * sigma_low, z * sigma_high))
    raise ValueError(f"unknown distribution {distribution!r}")


def sample_parameters(register: pd.DataFrame, draws: int, seed: int) -> dict[str, np.ndarray]:
    """One array of ``draws`` values per register row, keyed by parameter id."""
    samples: dict[str, np.ndarray] = {}
    for row in register.itertuples(index=False):
        u = generator(seed, f"parameter:{row.id}").random(draws)
        values = _inverse_cdf(u, row.distribution, row.low, row.central, row.high)
        samples[row.id] = np.clip(values, row.min_allowed, row.max_allowed)
    return samples


def point_values(register: pd.DataFrame, which: str = "central", draws: int = 1) -> dict[str, np.ndarray]:
    """Every parameter at its low, central or high value (arrays of length ``draws``)."""
    return {row["id"]: np.full(draws, float(row[which])) for row in register.to_dict("records")}


def varied_parameters(register: pd.DataFrame) -> list[str]:
    """Ids of the parameters that actually vary (the ones sensitivity analysis looks at)."""
    varies = (register["distribution"] != "fixed") & (register["low"] < register["high"])
    return list(register.loc[varies, "id"])
