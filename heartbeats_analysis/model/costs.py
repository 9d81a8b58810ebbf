"""Yearly public cost of each scenario, and the costs it avoids.

    payroll      = sworn officers * officer_average_salary * benefits_load
    hiring       = hires * cost_per_hire            (academy, field training, equipment; this is also
                                                     the turnover cost, since each replaced leaver is a hire)
    overtime     = vacancies * vacancy_overtime_cover_share * 1.5 * officer_average_salary
    program      = heartbeats_program_cost_per_year + program_stipend_per_recruit * program hires
                                                    (Heartbeats, once recruiting starts)
                 | max(civilian_min_cost_per_year, diverted calls * civilian_cost_per_call)
                                                    (civilian, once it starts)
    avoided      = fewer arrests * jail_days_per_arrest * jail_day_cost
                 + fewer force incidents * claim_probability_per_force * claim_cost
    net cost     = payroll + hiring + overtime + program - avoided

Officer time freed is reported as officer equivalents, not as cash: the city saves money only if it
cuts positions, which none of the scenarios does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heartbeats_analysis.model.outcomes import OutcomeChanges, program_start_year
from heartbeats_analysis.model.pipeline import StaffingPath

OVERTIME_PREMIUM = 1.5
COST_COMPONENTS = ("payroll", "hiring", "overtime", "program", "avoided_jail", "avoided_claims")


@dataclass(frozen=True)
class CostBreakdown:
    """Arrays of shape (draws, horizon_years), US dollars a year; ``avoided_*`` are savings (>= 0 is a saving)."""

    payroll: np.ndarray
    hiring: np.ndarray
    overtime: np.ndarray
    program: np.ndarray
    avoided_jail: np.ndarray
    avoided_claims: np.ndarray

    @property
    def net(self) -> np.ndarray:
        return self.payroll + self.hiring + self.overtime + self.program - self.avoided_jail - self.avoided_claims

    def mean_per_year(self) -> np.ndarray:
        """Average net cost a year over the horizon, per draw."""
        return self.net.mean(axis=1)

    def component_means(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).mean(axis=1) for name in COST_COMPONENTS}


def staffing_costs(params: dict[str, np.ndarray], path: StaffingPath) -> dict[str, np.ndarray]:
    salary = params["officer_average_salary"][:, None]
    sworn = path.sworn[:, 1:]
    vacancies = path.gap()[:, 1:]
    return {
        "payroll": sworn * salary * params["benefits_load"][:, None],
        "hiring": path.hires * params["cost_per_hire"][:, None],
        "overtime": vacancies * params["vacancy_overtime_cover_share"][:, None] * OVERTIME_PREMIUM * salary,
    }


def avoided_costs(params: dict[str, np.ndarray], changes: OutcomeChanges) -> dict[str, np.ndarray]:
    jail = -changes.arrests * (params["jail_days_per_arrest"] * params["jail_day_cost"])[:, None]
    claims = -changes.force * (params["claim_probability_per_force"] * params["claim_cost"])[:, None]
    return {"avoided_jail": jail, "avoided_claims": claims}


def program_years(params: dict[str, np.ndarray], horizon_years: int) -> np.ndarray:
    """1 from the year the program starts recruiting (the year before its first cohort), else 0."""
    years = np.arange(1, horizon_years + 1)
    return (years[None, :] >= program_start_year(params)[:, None]).astype(float)


def scenario_costs(
    params: dict[str, np.ndarray],
    path: StaffingPath,
    changes: OutcomeChanges,
    program_cost: np.ndarray,
) -> CostBreakdown:
    """``program_cost`` has shape (draws, horizon_years)."""
    return CostBreakdown(**staffing_costs(params, path), program=program_cost, **avoided_costs(params, changes))


def heartbeats_program_cost(
    params: dict[str, np.ndarray], horizon_years: int, path: StaffingPath | None = None
) -> np.ndarray:
    """The program's own cost: recruiting and outreach a year from its start, plus a stipend per program
    hire (``path``); academy and field training of those hires are hiring costs, as for any hire."""
    outreach = program_years(params, horizon_years) * params["heartbeats_program_cost_per_year"][:, None]
    if path is None:
        return outreach
    return outreach + path.program_hires * params["program_stipend_per_recruit"][:, None]


def civilian_program_cost(params: dict[str, np.ndarray], changes: OutcomeChanges) -> np.ndarray:
    horizon_years = changes.calls_handled.shape[1]
    variable = changes.calls_handled * params["civilian_cost_per_call"][:, None]
    running = program_years(params, horizon_years)
    return running * np.maximum(params["civilian_min_cost_per_year"][:, None], variable)
