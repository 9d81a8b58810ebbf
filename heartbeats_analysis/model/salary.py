"""Entry pay of a new social worker against a new officer: tests the proposal's "nearly doubling" claim.

Three ratios per draw, each against ``sw_entry_salary``:

* ``probationary``: a sworn (probationary) officer's salary, ``officer_starting_salary``;
* ``academy``: an academy recruit's annualised pay, ``academy_recruit_salary``;
* ``first_year``: half a year in the academy and half sworn, the pay of the first year.

No salary schedule for the agency's own officers was found: the officer figures are regional and national
comparators, and the BLS wage survey (OEWS) gives the St. Louis metro, Missouri and US percentiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SALARY_PARAMETERS = ("sw_entry_salary", "officer_starting_salary", "academy_recruit_salary", "nearly_double_threshold")
ACADEMY_SHARE_OF_FIRST_YEAR = 0.5  # the St. Louis County academy runs about 25 of 52 weeks


def salary_ratios(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    social_worker = params["sw_entry_salary"]
    first_year = (
        ACADEMY_SHARE_OF_FIRST_YEAR * params["academy_recruit_salary"]
        + (1 - ACADEMY_SHARE_OF_FIRST_YEAR) * params["officer_starting_salary"]
    )
    return {
        "probationary": params["officer_starting_salary"] / social_worker,
        "academy": params["academy_recruit_salary"] / social_worker,
        "first_year": first_year / social_worker,
    }


def share_nearly_doubling(ratio: np.ndarray, threshold: np.ndarray) -> float:
    """Share of draws in which the pay rise reaches the 'nearly doubling' threshold."""
    return float(np.mean(ratio >= threshold))


# ----------------------------------------------------------------------------- wage survey (BLS OEWS)

PATROL_OFFICERS = "33-3051"
SOCIAL_WORKERS = {
    "21-1021": "child, family and school social workers",
    "21-1022": "healthcare social workers",
    "21-1023": "mental-health and substance-abuse social workers",
}
ENTRY_PROXIES = {
    "annual_p10": "10th percentile",
    "annual_p25": "25th percentile",
    "annual_median": "median",
}
"""Definitions of entry pay the survey allows: it has no 'starting salary', so low percentiles stand in."""


def survey_ratios(wages: pd.DataFrame, area_level: str = "metro") -> pd.DataFrame:
    """Patrol officer pay / social-worker pay in one area, for each entry proxy and social-work occupation.

    ``wages`` is the ``occupation_wages`` table; the ratio compares the same percentile of both
    occupations (10th with 10th, ...). Rows whose wage is missing (not released) are left out.
    """
    area = wages[wages["area_level"] == area_level]
    pay = area.set_index(["occupation_code", "statistic"])["annual_wage"]
    rows = []
    for statistic, proxy in ENTRY_PROXIES.items():
        officer = pay.get((PATROL_OFFICERS, statistic))
        for code, label in SOCIAL_WORKERS.items():
            worker = pay.get((code, statistic))
            if officer is None or worker is None or pd.isna(officer) or pd.isna(worker):
                continue
            rows.append(
                {
                    "area_level": area_level,
                    "area_name": str(area["area_name"].iloc[0]),
                    "proxy": statistic,
                    "proxy_label": proxy,
                    "social_work_occupation": code,
                    "social_work_label": label,
                    "officer_pay": float(officer),
                    "social_worker_pay": float(worker),
                    "ratio": float(officer) / float(worker),
                }
            )
    return pd.DataFrame(rows)


def closest_to_entry_pay(ratios: pd.DataFrame, officer_start: float, social_worker_start: float) -> str:
    """The entry proxy whose wages lie closest to reported starting pay (the County's probationary
    salary and the national survey of new MSWs): the sum of relative distances, averaged over the
    social-work occupations. This is the definition the brief calls 'closest to a new graduate's pay'."""
    distance = (ratios["officer_pay"] / officer_start - 1).abs() + (
        ratios["social_worker_pay"] / social_worker_start - 1
    ).abs()
    return str(distance.groupby(ratios["proxy"]).mean().idxmin())


def highest_possible_ratio(register: pd.DataFrame) -> float:
    """The largest officer / social-worker ratio any combination of the register's pay ranges allows
    (highest officer pay over lowest social-worker pay): a bound, not a share of draws."""
    rows = register.set_index("id")
    return float(rows.loc["officer_starting_salary", "high"] / rows.loc["sw_entry_salary", "low"])
