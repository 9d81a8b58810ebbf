"""Workload-based staffing estimate in the manner of the COPS Office guide (Wilson & Weiss 2012).

    calls a year        = population * calls_per_resident   (community-generated calls only: the calls
                                                         analysis's calls.community_calls_per_resident when
                                                         recorded, else the register row)
    call hours          = calls * minutes_per_unit_call / 60 * units_per_call
    patrol officers     = call hours / (available_hours_per_officer * (1 - proactive_time_share))
    sworn officers      = patrol officers / patrol_share_of_sworn

The proactive share keeps part of every patrol hour free of calls (the "Rule of 60": no more than 60%
of patrol time on calls). Calls handed to a civilian team (``diverted_share``) leave the police workload.
"""

from __future__ import annotations

import numpy as np

WORKLOAD_PARAMETERS = (
    "population",
    "calls_per_resident",
    "minutes_per_unit_call",
    "units_per_call",
    "available_hours_per_officer",
    "proactive_time_share",
    "patrol_share_of_sworn",
)


def calls_per_year(params: dict[str, np.ndarray]) -> np.ndarray:
    return params["population"] * params["calls_per_resident"]


def officer_hours_per_call(params: dict[str, np.ndarray]) -> np.ndarray:
    """Officer-hours one call consumes, all responding units together."""
    return params["minutes_per_unit_call"] / 60.0 * params["units_per_call"]


def call_hours(params: dict[str, np.ndarray], diverted_share: np.ndarray | float = 0.0) -> np.ndarray:
    """Officer-hours a year spent on community-generated calls."""
    return calls_per_year(params) * (1 - diverted_share) * officer_hours_per_call(params)


def patrol_hours_per_officer(params: dict[str, np.ndarray]) -> np.ndarray:
    """Hours a patrol officer can give to calls in a year once proactive time is set aside."""
    return params["available_hours_per_officer"] * (1 - params["proactive_time_share"])


def officers_needed(params: dict[str, np.ndarray], diverted_share: np.ndarray | float = 0.0) -> dict[str, np.ndarray]:
    """Patrol and total sworn officers the call workload requires, per draw."""
    patrol = call_hours(params, diverted_share) / patrol_hours_per_officer(params)
    return {"patrol": patrol, "sworn": patrol / params["patrol_share_of_sworn"]}


def hours_to_officers(hours: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """Full-time officer equivalents of a number of officer-hours a year."""
    return hours / params["available_hours_per_officer"]
