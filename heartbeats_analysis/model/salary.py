"""Entry pay of a new social worker against a new officer: tests the proposal's "nearly doubling" claim.

Three ratios per draw, each against ``sw_entry_salary``:

* ``probationary``: a sworn (probationary) officer's salary, ``officer_starting_salary``;
* ``academy``: an academy recruit's annualised pay, ``academy_recruit_salary``;
* ``first_year``: half a year in the academy and half sworn, the pay of the first year.

Ferguson's own starting salary was not found: the officer figures are regional and national comparators.
"""

from __future__ import annotations

import numpy as np

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
