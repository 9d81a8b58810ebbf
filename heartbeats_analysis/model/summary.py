"""Intervals and tidy tables from a model run (every result as a range, never a bare number)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from heartbeats_analysis.model.outcomes import OUTCOME_LABELS, OUTCOMES
from heartbeats_analysis.model.salary import share_nearly_doubling
from heartbeats_analysis.model.scenarios import SCENARIO_LABELS, SCENARIOS, ModelRun
from heartbeats_analysis.model.workload import hours_to_officers


@dataclass(frozen=True)
class Estimate:
    """A central value (mean of the draws) with a simulation interval."""

    mean: float
    median: float
    low: float
    high: float
    level: float

    @property
    def interval(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def interval_kind(self) -> str:
        lower, upper = (1 - self.level) / 2, (1 + self.level) / 2
        return f"{self.level:.0%} simulation interval ({lower:.0%}-{upper:.0%} percentiles of the draws)"


NOT_COMPUTED = "not computed"


def fmt(value: float, spec: str = "{:.0f}") -> str:
    """Format a number for a sentence; a value that rounds to zero prints without a sign ("0.0", not "-0.0");
    a result that needs an unknown agency fact (not a number) prints as "not computed"."""
    if isinstance(value, float) and not np.isfinite(value):
        return NOT_COMPUTED
    text = spec.format(value)
    if re.fullmatch(r"[+-]?\$?0(\.0+)?", text.replace(",", "")):
        text = text.lstrip("+-")
    return text


def money(value: float) -> str:
    """US dollars to three significant figures, as a council member would say them ("$3.60 million", "$372,000")."""
    if not np.isfinite(value):
        return NOT_COMPUTED
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value >= 1e6:
        return f"{sign}${value / 1e6:.2f} million"
    if value == 0:
        return "$0"
    digits = max(0, 3 - len(str(int(value))))
    rounded = round(value, -(len(str(int(value))) - 3)) if digits == 0 else round(value, digits)
    return f"{sign}${rounded:,.0f}" if digits == 0 else f"{sign}${rounded:,.{digits}f}"


def estimate(values: np.ndarray, level: float = 0.90) -> Estimate:
    tail = (1 - level) / 2
    low, median, high = np.quantile(values, [tail, 0.5, 1 - tail])
    return Estimate(float(np.mean(values)), float(median), float(low), float(high), level)


def _level(run: ModelRun) -> float:
    return run.settings.interval_level


def staffing_table(run: ModelRun) -> pd.DataFrame:
    """Sworn strength by scenario and year: percentiles, P(at full strength), social-work-trained officers."""
    rows = []
    for scenario in ("status_quo", "heartbeats"):
        path = run.staffing[scenario]
        quantiles = np.quantile(path.sworn, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        sw_low, sw_high = np.quantile(path.sw_officers, [0.05, 0.95], axis=0)
        at_strength, reached = path.p_at_strength(), path.p_reached_by()
        gap = path.gap().mean(axis=0)
        for year in range(path.horizon_years + 1):
            rows.append(
                {
                    "scenario": scenario,
                    "year": year,
                    "sworn_mean": path.sworn[:, year].mean(),
                    "sworn_p05": quantiles[0, year],
                    "sworn_p25": quantiles[1, year],
                    "sworn_median": quantiles[2, year],
                    "sworn_p75": quantiles[3, year],
                    "sworn_p95": quantiles[4, year],
                    "authorized_mean": path.authorized.mean(),
                    "vacancies_mean": gap[year],
                    "p_at_full_strength": at_strength[year],
                    "p_reached_full_strength_by": reached[year],
                    "sw_officers_mean": path.sw_officers[:, year].mean(),
                    "sw_officers_p05": sw_low[year],
                    "sw_officers_p95": sw_high[year],
                }
            )
    return pd.DataFrame(rows)


def salary_table(run: ModelRun) -> pd.DataFrame:
    level = _level(run)
    threshold = run.params["nearly_double_threshold"]
    rows = []
    labels = {
        "probationary": "Sworn (probationary) officer",
        "first_year": "First year (half academy, half sworn)",
        "academy": "Academy recruit",
    }
    for key, label in labels.items():
        est = estimate(run.salary[key], level)
        rows.append(
            {
                "comparison": key,
                "label": label,
                "ratio_mean": est.mean,
                "ratio_median": est.median,
                "ratio_low": est.low,
                "ratio_high": est.high,
                "p_nearly_doubling": share_nearly_doubling(run.salary[key], threshold),
            }
        )
    return pd.DataFrame(rows)


def salary_levels_table(run: ModelRun) -> pd.DataFrame:
    """The salary inputs themselves, with their register ranges (for the comparison chart)."""
    ids = ["sw_entry_salary", "academy_recruit_salary", "officer_starting_salary"]
    table = run.register.set_index("id").loc[ids, ["description", "low", "central", "high", "source", "quality"]]
    return table.reset_index()


def workload_table(run: ModelRun) -> pd.DataFrame:
    level = _level(run)
    register = run.register.set_index("id")
    rows = []
    for key, label in (
        ("patrol", "Patrol officers needed for the call workload"),
        ("sworn", "Sworn officers needed (patrol / patrol share)"),
        ("sworn_with_civilian", "Sworn officers needed with a civilian responder"),
    ):
        est = estimate(run.workload[key], level)
        rows.append(
            {"measure": key, "label": label, "mean": est.mean, "median": est.median, "low": est.low, "high": est.high}
        )
    for key, label in (("authorized_strength", "Authorised strength"), ("current_sworn", "Current sworn count")):
        rows.append(
            {
                "measure": key,
                "label": label,
                "mean": register.loc[key, "central"],
                "median": register.loc[key, "central"],
                "low": register.loc[key, "low"],
                "high": register.loc[key, "high"],
            }
        )
    return pd.DataFrame(rows)


def outcomes_table(run: ModelRun) -> pd.DataFrame:
    """Average change a year over the horizon, against the status quo, with intervals."""
    level = _level(run)
    rows = []
    for scenario in ("heartbeats", "civilian_responder"):
        changes = run.outcomes[scenario]
        for outcome in OUTCOMES:
            est = estimate(changes.get(outcome).mean(axis=1), level)
            rows.append(
                {
                    "scenario": scenario,
                    "scenario_label": SCENARIO_LABELS[scenario],
                    "outcome": outcome,
                    "outcome_label": OUTCOME_LABELS[outcome],
                    "mean": est.mean,
                    "median": est.median,
                    "low": est.low,
                    "high": est.high,
                    "interval_includes_zero": est.low <= 0 <= est.high,
                }
            )
        handled = estimate(changes.calls_handled.mean(axis=1), level)
        rows.append(
            {
                "scenario": scenario,
                "scenario_label": SCENARIO_LABELS[scenario],
                "outcome": "calls_handled",
                "outcome_label": "Relevant calls handled by the program",
                "mean": handled.mean,
                "median": handled.median,
                "low": handled.low,
                "high": handled.high,
                "interval_includes_zero": handled.low <= 0 <= handled.high,
            }
        )
    return pd.DataFrame(rows)


def costs_table(run: ModelRun) -> pd.DataFrame:
    """Net cost a year by scenario, its increment over the status quo, and officer time freed."""
    level = _level(run)
    base = run.costs["status_quo"].mean_per_year()
    sworn_base = run.staffing["status_quo"].sworn[:, 1:]
    rows = []
    for scenario in SCENARIOS:
        cost = run.costs[scenario]
        net = cost.mean_per_year()
        total, extra = estimate(net, level), estimate(net - base, level)
        added_officers = (run.staffing[scenario].sworn[:, 1:] - sworn_base).mean(axis=1)
        freed = hours_to_officers(run.outcomes[scenario].officer_hours_freed.mean(axis=1), run.params)
        capacity = estimate(added_officers + freed, level)
        row = {
            "scenario": scenario,
            "scenario_label": SCENARIO_LABELS[scenario],
            "net_cost_mean": total.mean,
            "net_cost_low": total.low,
            "net_cost_high": total.high,
            "incremental_mean": extra.mean,
            "incremental_low": extra.low,
            "incremental_high": extra.high,
            "officer_capacity_added_mean": capacity.mean,
            "officer_capacity_added_low": capacity.low,
            "officer_capacity_added_high": capacity.high,
        }
        for name, values in cost.component_means().items():
            row[f"{name}_mean"] = float(values.mean())
        rows.append(row)
    return pd.DataFrame(rows)


def headline_numbers(run: ModelRun) -> dict[str, Estimate | float]:
    """The numbers the claims and the scorecard quote."""
    level = _level(run)
    year, horizon = run.evaluation.headline_year, run.settings.horizon_years
    sq, hb = run.staffing["status_quo"], run.staffing["heartbeats"]
    outputs = run.outputs()
    numbers: dict[str, Estimate | float] = {
        "headline_year": float(year),
        "horizon_years": float(horizon),
        "salary_ratio": estimate(run.salary["probationary"], level),
        "salary_ratio_first_year": estimate(run.salary["first_year"], level),
        "p_salary_nearly_doubles": share_nearly_doubling(
            run.salary["probationary"], run.params["nearly_double_threshold"]
        ),
        "p_full_strength_sq_y5": float(sq.p_at_strength()[year]),
        "p_full_strength_hb_y5": float(hb.p_at_strength()[year]),
        "p_full_strength_sq_final": float(sq.p_at_strength()[horizon]),
        "p_full_strength_hb_final": float(hb.p_at_strength()[horizon]),
        "added_officers_y5": estimate(outputs["heartbeats_added_officers_y5"], level),
        "sw_officers_final": estimate(outputs["heartbeats_sw_officers_final"], level),
        "vacancies_sq_y5": estimate(sq.gap()[:, year], level),
        "vacancies_hb_y5": estimate(hb.gap()[:, year], level),
        "program_recruits_per_year": estimate(hb.program_hires.mean(axis=1), level),
        "workload_officers_needed": estimate(run.workload["sworn"], level),
        "workload_officers_needed_civilian": estimate(run.workload["sworn_with_civilian"], level),
        "civilian_officer_equivalents_freed": estimate(outputs["civilian_officer_equivalents_freed"], level),
        "heartbeats_officer_equivalents_freed": estimate(
            hours_to_officers(run.outcomes["heartbeats"].officer_hours_freed.mean(axis=1), run.params), level
        ),
        "heartbeats_calls_handled": estimate(run.outcomes["heartbeats"].calls_handled.mean(axis=1), level),
    }
    for scenario in SCENARIOS:
        net = run.costs[scenario].mean_per_year()
        numbers[f"net_cost_{scenario}"] = estimate(net, level)
        numbers[f"incremental_cost_{scenario}"] = estimate(net - run.costs["status_quo"].mean_per_year(), level)
    for scenario in ("heartbeats", "civilian_responder"):
        for outcome in OUTCOMES:
            numbers[f"{outcome}_change_{scenario}"] = estimate(run.outcomes[scenario].get(outcome).mean(axis=1), level)
    return numbers
