"""Staffing pipeline: sworn strength year by year under status-quo hiring, with or without the program.

Each year, for every draw (vectorised over draws):

1. separations: ``Binomial(other officers, attrition_rate)`` and ``Binomial(program officers,
   sw_officer_attrition_rate)`` (expected values ``n * rate`` without process noise);
2. vacancies: ``max(authorized_strength - remaining, 0)`` (an agency with no known authorised strength
   has no cap: its draws are infinite, and every measure of the gap to strength is not a number);
3. program recruits (from year ``program_lag_years + 1``):
   ``Poisson(graduates * interest * screening * academy completion * the department's capture share)``;
4. status-quo hires: ``Poisson(status_quo_hires_per_year)``;
5. hiring is capped at the vacancies: program recruits are hired first (an upper bound for the
   program), status-quo hires fill what is left.

Years are numbered 0 (today) to ``horizon_years``. The gap is closed in year t when
``sworn[t] >= authorized_strength``.

Counts are drawn by inverse CDF from uniforms taken in a fixed order, so two scenarios run with
generators in the same state see the same chance events (common random numbers): the difference
between them is the program, not luck.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.random import Generator

STAFFING_PARAMETERS = (
    "current_sworn",
    "authorized_strength",
    "attrition_rate",
    "status_quo_hires_per_year",
    "umsl_sw_graduates_per_year",
    "sw_grad_interest_share",
    "screening_pass_rate",
    "academy_completion_rate",
    "agency_capture_share",
    "sw_officer_attrition_rate",
    "program_lag_years",
)


@dataclass(frozen=True)
class StaffingPath:
    """Arrays of shape (draws, horizon_years + 1) for stocks and (draws, horizon_years) for flows."""

    sworn: np.ndarray
    sw_officers: np.ndarray
    authorized: np.ndarray  # (draws,)
    hires: np.ndarray
    program_hires: np.ndarray
    separations: np.ndarray

    @property
    def horizon_years(self) -> int:
        return self.sworn.shape[1] - 1

    @property
    def has_target(self) -> bool:
        """False when the authorised strength is unknown (no cap): nothing can be said about the gap."""
        return bool(np.isfinite(self.authorized).all())

    def gap(self) -> np.ndarray:
        """Vacancies at the end of each year (0 when at or above strength; not a number without a target)."""
        if not self.has_target:
            return np.full(self.sworn.shape, np.nan)
        return np.maximum(self.authorized[:, None] - self.sworn, 0)

    def at_strength(self) -> np.ndarray:
        """Boolean (draws, years + 1): sworn strength at or above authorised strength."""
        return self.sworn >= self.authorized[:, None] - 1e-9

    def p_at_strength(self) -> np.ndarray:
        """Share of draws at full strength at the end of each year (index = year); NaN without a target."""
        if not self.has_target:
            return np.full(self.sworn.shape[1], np.nan)
        return self.at_strength().mean(axis=0)

    def p_reached_by(self) -> np.ndarray:
        """Share of draws that have reached full strength in any year up to each year; NaN without a target."""
        if not self.has_target:
            return np.full(self.sworn.shape[1], np.nan)
        return np.logical_or.accumulate(self.at_strength(), axis=1).mean(axis=0)


def _inverse_count(u: np.ndarray, first_pmf: np.ndarray, next_ratio, cap: np.ndarray) -> np.ndarray:
    """Smallest k with CDF(k) >= u for a count distribution given by pmf(0) and pmf(k+1)/pmf(k)."""
    k = np.zeros(u.shape)
    pmf = first_pmf.astype(float).copy()
    cdf = pmf.copy()
    active = (u > cdf) & (k < cap)
    while active.any():
        pmf = np.where(active, pmf * next_ratio(k), pmf)
        k = np.where(active, k + 1, k)
        cdf = np.where(active, cdf + pmf, cdf)
        active = active & (u > cdf) & (k < cap)
    return k


def binomial_from_uniform(u: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Binomial(n, p) quantile at u, vectorised (n small: officers in a department)."""
    n = np.asarray(n, dtype=float)
    p = np.broadcast_to(np.clip(p, 0.0, 1.0), u.shape)
    certain = p >= 1.0
    safe_p = np.where(certain, 0.5, p)
    odds = safe_p / (1.0 - safe_p)
    draws = _inverse_count(u, (1.0 - safe_p) ** n, lambda k: (n - k) / (k + 1) * odds, cap=n)
    return np.where(certain, n, draws)


def poisson_from_uniform(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson(mean) quantile at u, vectorised (means of a few dozen at most)."""
    mean = np.broadcast_to(np.asarray(mean, dtype=float), u.shape)
    cap = np.ceil(mean + 12 * np.sqrt(mean) + 20)
    return _inverse_count(u, np.exp(-mean), lambda k: mean / (k + 1), cap=cap)


def expected_program_recruits(params: dict[str, np.ndarray]) -> np.ndarray:
    """Expected sworn recruits a year the program yields for the department running it, per draw."""
    return (
        params["umsl_sw_graduates_per_year"]
        * params["sw_grad_interest_share"]
        * params["screening_pass_rate"]
        * params["academy_completion_rate"]
        * params["agency_capture_share"]
    )


def simulate_staffing(
    params: dict[str, np.ndarray],
    horizon_years: int,
    *,
    program: bool,
    rng: Generator | None = None,
    process_noise: bool = True,
) -> StaffingPath:
    """Project sworn strength; ``rng`` is required when ``process_noise`` is on."""
    if process_noise and rng is None:
        raise ValueError("process noise needs a random generator")
    authorized = params["authorized_strength"].astype(float)
    sworn = params["current_sworn"].astype(float)
    if process_noise:
        authorized, sworn = np.round(authorized), np.round(sworn)
    draws = sworn.shape[0]
    sw = np.zeros(draws)
    lag = np.round(params["program_lag_years"]).astype(int)
    recruit_mean = expected_program_recruits(params) if program else np.zeros(draws)
    hires_mean = params["status_quo_hires_per_year"]

    sworn_path = np.empty((draws, horizon_years + 1))
    sw_path = np.empty_like(sworn_path)
    hires_path = np.empty((draws, horizon_years))
    program_path = np.empty_like(hires_path)
    separations_path = np.empty_like(hires_path)
    sworn_path[:, 0], sw_path[:, 0] = sworn, sw

    for year in range(1, horizon_years + 1):
        others = sworn - sw
        if process_noise:
            u_others, u_sw, u_recruits, u_candidates = rng.random((4, draws))
            leave_others = binomial_from_uniform(u_others, others, params["attrition_rate"])
            leave_sw = binomial_from_uniform(u_sw, sw, params["sw_officer_attrition_rate"])
            recruits = poisson_from_uniform(u_recruits, np.where(year > lag, recruit_mean, 0.0))
            candidates = poisson_from_uniform(u_candidates, hires_mean)
        else:
            leave_others = others * params["attrition_rate"]
            leave_sw = sw * params["sw_officer_attrition_rate"]
            recruits = np.where(year > lag, recruit_mean, 0.0)
            candidates = hires_mean
        sw = sw - leave_sw
        sworn = sworn - leave_others - leave_sw
        vacancies = np.maximum(authorized - sworn, 0)
        hired_program = np.minimum(recruits, vacancies)
        hired_other = np.minimum(candidates, vacancies - hired_program)
        sw = sw + hired_program
        sworn = sworn + hired_program + hired_other

        sworn_path[:, year], sw_path[:, year] = sworn, sw
        hires_path[:, year - 1] = hired_program + hired_other
        program_path[:, year - 1] = hired_program
        separations_path[:, year - 1] = leave_others + leave_sw

    return StaffingPath(sworn_path, sw_path, authorized, hires_path, program_path, separations_path)
