"""Changes in use of force, arrests and referrals to services, per year, against the status quo.

Heartbeats (sworn social-work-trained officers)::

    relevant calls   R = population * calls_per_resident * relevant_share_of_calls
    share they take  s_t = min(1, sw_officers_t / sworn_t * sw_dispatch_preference)
    change_t         = R * s_t * base_rate * (relative_risk - 1)

Civilian community responder (CAHOOTS / STAR style), from year 1::

    diverted calls   D = population * calls_per_resident * civilian_diversion_share
    force, arrests   = D * diverted_call_risk_ratio * base_rate * (civilian_police_backup_share - 1)
    referrals        = D * base_referral_rate * (civilian_referral_rr - 1)

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


def civilian_changes(params: dict[str, np.ndarray], horizon_years: int) -> OutcomeChanges:
    diverted = calls_per_year(params) * params["civilian_diversion_share"]
    police_share = params["civilian_police_backup_share"]
    risky = diverted * params["diverted_call_risk_ratio"]

    def every_year(per_year: np.ndarray) -> np.ndarray:
        return np.repeat(per_year[:, None], horizon_years, axis=1)

    return OutcomeChanges(
        force=every_year(risky * params["base_force_rate"] * (police_share - 1)),
        arrests=every_year(risky * params["base_arrest_rate"] * (police_share - 1)),
        referrals=every_year(diverted * params["base_referral_rate"] * (params["civilian_referral_rr"] - 1)),
        calls_handled=every_year(diverted),
        officer_hours_freed=every_year(diverted * (1 - police_share) * officer_hours_per_call(params)),
    )
