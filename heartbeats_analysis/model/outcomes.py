"""Changes in use of force, arrests and referrals to services, per year, against the status quo.

Heartbeats (sworn social-work-trained officers)::

    relevant calls   R = population * calls_per_resident * relevant_share_of_calls
    share they take  s_t = min(1, sw_officers_t / sworn_t * sw_dispatch_preference)
    change_t         = R * s_t * base_rate * (relative_risk - 1)

Civilian community responder (CAHOOTS / STAR style), on the same footing as Heartbeats: it starts in
the year the program would start recruiting and ramps up over ``civilian_rampup_years`` (Denver STAR took
about two years to reach its steady share of eligible calls), and it can never take more calls than the
pool of relevant calls holds::

    share_t          = min(civilian_diversion_share, relevant_share_of_calls) * ramp_t
    diverted calls   D_t = population * calls_per_resident * share_t
    force, arrests   = D_t * base_rate * (civilian_police_backup_share - diverted_call_risk_ratio)
    referrals        = D_t * base_referral_rate * (civilian_referral_rr - 1)

Police would have handled the diverted calls at ``diverted_call_risk_ratio`` times the base rate (they
are the lower-risk calls); with the civilian team, police still attend the share that needs backup
(CAHOOTS 0.6%; Denver STAR: none of its first 748 calls) and those calls carry the full base rate.

A relative risk of 1 is "no effect": where the literature finds none (arrests after CIT training) the
register's central value is 1 and the model's expected change is zero.

Officer-hours freed: repeat calls avoided (Heartbeats) or calls handled without police (civilian).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heartbeats_analysis.model.pipeline import StaffingPath
from heartbeats_analysis.model.workload import calls_per_year, officer_hours_per_call

OUTCOMES = ("force", "arrests", "referrals")
OUTCOME_LABELS = {
    "force": "Use-of-force incidents",
    "arrests": "Arrests",
    "referrals": "Referrals to services",
}


@dataclass(frozen=True)
class OutcomeChanges:
    """Arrays of shape (draws, horizon_years): change per year against the status quo."""

    force: np.ndarray
    arrests: np.ndarray
    referrals: np.ndarray
    calls_handled: np.ndarray
    officer_hours_freed: np.ndarray

    def get(self, outcome: str) -> np.ndarray:
        return getattr(self, outcome)


def relevant_calls(params: dict[str, np.ndarray]) -> np.ndarray:
    """Calls a year of the kinds the program targets, per draw."""
    return calls_per_year(params) * params["relevant_share_of_calls"]


def share_taken_by_program(params: dict[str, np.ndarray], path: StaffingPath) -> np.ndarray:
    """Share of relevant calls a social-work-trained officer handles, years 1..horizon."""
    sworn, sw = path.sworn[:, 1:], path.sw_officers[:, 1:]
    headcount_share = np.divide(sw, sworn, out=np.zeros_like(sw), where=sworn > 0)
    return np.minimum(1.0, headcount_share * params["sw_dispatch_preference"][:, None])


def no_change(draws: int, horizon_years: int) -> OutcomeChanges:
    zeros = np.zeros((draws, horizon_years))
    return OutcomeChanges(zeros, zeros, zeros, zeros, zeros)


def heartbeats_changes(params: dict[str, np.ndarray], path: StaffingPath) -> OutcomeChanges:
    handled = relevant_calls(params)[:, None] * share_taken_by_program(params, path)

    def change(base: str, ratio: str) -> np.ndarray:
        return handled * (params[base] * (params[ratio] - 1))[:, None]

    hours = handled * (params["repeat_call_reduction"] * officer_hours_per_call(params))[:, None]
    return OutcomeChanges(
        force=change("base_force_rate", "force_rr_sw_officer"),
        arrests=change("base_arrest_rate", "arrest_rr_sw_officer"),
        referrals=change("base_referral_rate", "referral_rr_sw_officer"),
        calls_handled=handled,
        officer_hours_freed=hours,
    )


def program_start_year(params: dict[str, np.ndarray]) -> np.ndarray:
    """The year an option starts (recruiting for Heartbeats, operating for the civilian team), per draw."""
    return np.maximum(np.round(params["program_lag_years"]), 1)


def civilian_share_by_year(params: dict[str, np.ndarray], horizon_years: int) -> np.ndarray:
    """Share of all calls the civilian team takes in years 1..horizon: capped by the relevant-call pool,
    zero before the start year, then ramping up linearly over ``civilian_rampup_years``."""
    years = np.arange(1, horizon_years + 1)[None, :]
    ramp = np.maximum(params["civilian_rampup_years"], 1.0)[:, None]
    progress = np.clip((years - program_start_year(params)[:, None] + 1) / ramp, 0.0, 1.0)
    steady = np.minimum(params["civilian_diversion_share"], params["relevant_share_of_calls"])
    return steady[:, None] * progress


def civilian_changes(params: dict[str, np.ndarray], horizon_years: int) -> OutcomeChanges:
    diverted = calls_per_year(params)[:, None] * civilian_share_by_year(params, horizon_years)
    backup = params["civilian_police_backup_share"][:, None]
    police_risk = params["diverted_call_risk_ratio"][:, None]

    def per_call(name: str) -> np.ndarray:
        return params[name][:, None]

    return OutcomeChanges(
        force=diverted * per_call("base_force_rate") * (backup - police_risk),
        arrests=diverted * per_call("base_arrest_rate") * (backup - police_risk),
        referrals=diverted * per_call("base_referral_rate") * (per_call("civilian_referral_rr") - 1),
        calls_handled=diverted,
        officer_hours_freed=diverted * (1 - backup) * officer_hours_per_call(params)[:, None],
    )
