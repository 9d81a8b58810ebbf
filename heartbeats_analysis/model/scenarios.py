"""Runs the three scenarios on the same parameter draws.

* ``status_quo``: today's hiring, no program;
* ``heartbeats``: today's hiring plus UMSL social-work graduates recruited as sworn officers;
* ``civilian_responder``: today's hiring plus a civilian community-responder team (CAHOOTS / Denver
  STAR style) that takes a share of calls instead of police.

All scenarios share the parameter draws (paired comparison). Process noise for staffing comes from a
stream of its own, restarted for each scenario, so scenario differences are not swamped by chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from heartbeats_analysis.model.assumptions import (
    ModelParameters,
    apply_overrides,
    load_register,
)
from heartbeats_analysis.model.costs import (
    CostBreakdown,
    civilian_program_cost,
    heartbeats_program_cost,
    scenario_costs,
)
from heartbeats_analysis.model.inputs import AgencyFacts, AnalysisInputs, inputs_from_arguments, unknown_draws
from heartbeats_analysis.model.outcomes import (
    OutcomeChanges,
    civilian_changes,
    civilian_share_by_year,
    heartbeats_changes,
    no_change,
)
from heartbeats_analysis.model.pipeline import StaffingPath, simulate_staffing
from heartbeats_analysis.model.salary import salary_ratios
from heartbeats_analysis.model.sampling import generator, sample_parameters
from heartbeats_analysis.model.workload import hours_to_officers, officers_needed

SCENARIOS = ("status_quo", "heartbeats", "civilian_responder")
SCENARIO_LABELS = {
    "status_quo": "Status quo",
    "heartbeats": "Heartbeats",
    "civilian_responder": "Civilian responder",
}
HEADLINE_YEAR = 5

OUTPUT_LABELS = {
    "heartbeats_added_officers_y5": "Officers Heartbeats adds by year 5",
    "heartbeats_sw_officers_final": "Social-work-trained officers at the horizon",
    "salary_ratio": "Officer / social-worker entry pay",
    "workload_officers_needed": "Sworn officers the call workload needs",
    "heartbeats_incremental_cost": "Heartbeats: extra net cost a year (USD)",
    "civilian_incremental_cost": "Civilian responder: extra net cost a year (USD)",
    "heartbeats_force_change": "Heartbeats: change in force incidents a year",
    "civilian_officer_equivalents_freed": "Civilian responder: officer time freed (FTE)",
}


@dataclass(frozen=True)
class Evaluation:
    """Everything the model computes from one set of parameter arrays."""

    params: dict[str, np.ndarray]
    horizon_years: int
    staffing: dict[str, StaffingPath]
    outcomes: dict[str, OutcomeChanges]
    costs: dict[str, CostBreakdown]
    salary: dict[str, np.ndarray]
    workload: dict[str, np.ndarray]

    @property
    def headline_year(self) -> int:
        return min(HEADLINE_YEAR, self.horizon_years)

    def outputs(self) -> dict[str, np.ndarray]:
        """Per-draw headline outputs (what the sensitivity analysis explains)."""
        year = self.headline_year
        hb, sq = self.staffing["heartbeats"], self.staffing["status_quo"]
        net = {name: cost.mean_per_year() for name, cost in self.costs.items()}
        freed = self.outcomes["civilian_responder"].officer_hours_freed.mean(axis=1)
        return {
            "heartbeats_added_officers_y5": hb.sworn[:, year] - sq.sworn[:, year],
            "heartbeats_sw_officers_final": hb.sw_officers[:, -1],
            "salary_ratio": self.salary["probationary"],
            "workload_officers_needed": self.workload["sworn"],
            "heartbeats_incremental_cost": net["heartbeats"] - net["status_quo"],
            "civilian_incremental_cost": net["civilian_responder"] - net["status_quo"],
            "heartbeats_force_change": self.outcomes["heartbeats"].force.mean(axis=1),
            "civilian_officer_equivalents_freed": hours_to_officers(freed, self.params),
        }


def evaluate(
    params: dict[str, np.ndarray], horizon_years: int, *, seed: int = 0, process_noise: bool = True
) -> Evaluation:
    """Run every part of the model on given parameter arrays (all of one length)."""
    draws = len(next(iter(params.values())))

    def staffing(program: bool) -> StaffingPath:
        rng = generator(seed, "process:staffing") if process_noise else None
        return simulate_staffing(params, horizon_years, program=program, rng=rng, process_noise=process_noise)

    status_quo, heartbeats = staffing(False), staffing(True)
    paths = {"status_quo": status_quo, "heartbeats": heartbeats, "civilian_responder": status_quo}
    changes = {
        "status_quo": no_change(draws, horizon_years),
        "heartbeats": heartbeats_changes(params, heartbeats),
        "civilian_responder": civilian_changes(params, horizon_years),
    }
    program_costs = {
        "status_quo": np.zeros((draws, horizon_years)),
        "heartbeats": heartbeats_program_cost(params, horizon_years, heartbeats),
        "civilian_responder": civilian_program_cost(params, changes["civilian_responder"]),
    }
    costs = {name: scenario_costs(params, paths[name], changes[name], program_costs[name]) for name in SCENARIOS}
    needed = officers_needed(params)
    steady_civilian_share = civilian_share_by_year(params, horizon_years)[:, -1]
    needed_civilian = officers_needed(params, steady_civilian_share * (1 - params["civilian_police_backup_share"]))
    workload = {"patrol": needed["patrol"], "sworn": needed["sworn"], "sworn_with_civilian": needed_civilian["sworn"]}
    return Evaluation(params, horizon_years, paths, changes, costs, salary_ratios(params), workload)


@dataclass
class ModelRun:
    """A seeded Monte Carlo run: the settings, the register used, the draws and the results."""

    settings: ModelParameters
    register: pd.DataFrame
    evaluation: Evaluation
    provenance: pd.DataFrame = field(default_factory=pd.DataFrame)
    facts: AgencyFacts | None = None  # the agency's facts (name, sources, what is unknown)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.evaluation.params

    @property
    def staffing(self) -> dict[str, StaffingPath]:
        return self.evaluation.staffing

    @property
    def outcomes(self) -> dict[str, OutcomeChanges]:
        return self.evaluation.outcomes

    @property
    def costs(self) -> dict[str, CostBreakdown]:
        return self.evaluation.costs

    @property
    def salary(self) -> dict[str, np.ndarray]:
        return self.evaluation.salary

    @property
    def workload(self) -> dict[str, np.ndarray]:
        return self.evaluation.workload

    def outputs(self) -> dict[str, np.ndarray]:
        return self.evaluation.outputs()


def run_model(
    settings: ModelParameters | None = None,
    register: pd.DataFrame | None = None,
    inputs: AnalysisInputs | None = None,
    *,
    current_sworn: float | None = None,
    population: float | None = None,
    relevant_share_of_calls: float | None = None,
) -> ModelRun:
    """Sample the register and run every scenario.

    Values from the analysis (``current_sworn``, ``population``, ``relevant_share_of_calls``, or an
    ``inputs`` object built from earlier claims) replace the register's central values; the settings'
    overrides are applied after them, so a user override always wins.
    """
    settings = settings or ModelParameters()
    base = register if register is not None else load_register()
    if inputs is None:
        inputs = inputs_from_arguments(
            base, current_sworn=current_sworn, population=population, relevant_share_of_calls=relevant_share_of_calls
        )
    used = apply_overrides(inputs.apply(base), settings.overrides)
    params = unknown_draws(sample_parameters(used, settings.draws, settings.seed), used)
    evaluation = evaluate(params, settings.horizon_years, seed=settings.seed, process_noise=settings.process_noise)
    return ModelRun(settings, used, evaluation, inputs.provenance_table(), inputs.facts)
