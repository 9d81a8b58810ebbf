"""Intervals and tidy tables from a model run (every result as a range, never a bare number).

A model result is an :class:`~heartbeats_analysis.analysis.stats.Estimate` with ``method="simulation"``:
``value`` is the median of the draws, ``lower``/``upper`` the percentiles bounding the central share of
draws (90% by default: "90% of simulations between X and Y"), ``mean`` the mean of the draws. The same
type carries the data analysis's 95% confidence intervals, so a claim always says which kind it has.
Beside every range the model also reports the *central case*: every input at its central value, without
chance (a mean of skewed draws is not the central case).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from heartbeats_analysis.analysis.stats import SIMULATION, Estimate
from heartbeats_analysis.model.outcomes import OUTCOME_LABELS, OUTCOMES
from heartbeats_analysis.model.salary import share_nearly_doubling
from heartbeats_analysis.model.sampling import point_values
from heartbeats_analysis.model.scenarios import SCENARIO_LABELS, SCENARIOS, Evaluation, ModelRun, evaluate
from heartbeats_analysis.model.workload import hours_to_officers

__all__ = ["Estimate", "estimate", "fmt", "money"]

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
    """Median of the draws with the range holding ``level`` of them (and their mean)."""
    values = np.asarray(values, dtype=float)
    tail = (1 - level) / 2
    low, median, high = np.quantile(values, [tail, 0.5, 1 - tail])
    return Estimate(
        float(median), float(low), float(high), level, SIMULATION, n=int(values.size), mean=float(np.mean(values))
    )


def central_case(run: ModelRun) -> Evaluation:
    """The model with every input at its central value and no chance events (one deterministic path)."""
    return evaluate(point_values(run.register, "central"), run.settings.horizon_years, process_noise=False)


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
                "ratio_median": est.value,
                "ratio_low": est.lower,
                "ratio_high": est.upper,
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
            {"measure": key, "label": label, "mean": est.mean, "median": est.value, "low": est.lower, "high": est.upper}
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
                    "median": est.value,
                    "low": est.lower,
                    "high": est.upper,
                    "interval_includes_zero": est.lower <= 0 <= est.upper,
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
                "median": handled.value,
                "low": handled.lower,
                "high": handled.upper,
                "interval_includes_zero": handled.lower <= 0 <= handled.upper,
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
            "net_cost_median": total.value,
            "net_cost_low": total.lower,
            "net_cost_high": total.upper,
            "incremental_mean": extra.mean,
            "incremental_median": extra.value,
            "incremental_low": extra.lower,
            "incremental_high": extra.upper,
            "officer_capacity_added_mean": capacity.mean,
            "officer_capacity_added_median": capacity.value,
            "officer_capacity_added_low": capacity.lower,
            "officer_capacity_added_high": capacity.upper,
        }
        for name, values in cost.component_means().items():
            row[f"{name}_mean"] = float(values.mean())
        rows.append(row)
    return pd.DataFrame(rows)


MIN_ADDED_OFFICERS_FOR_UNIT_COST = 0.5
"""Draws adding fewer officers than this on average have no meaningful cost per added officer (division
by almost nothing); they are left out of that ratio and counted."""

COST_SPLIT_LABELS = {
    "program_own": "The program's own cost (recruiting, outreach, stipends)",
    "filling_vacancies": "Pay, benefits and training of the extra officers (posts already authorised and budgeted)",
    "overtime_saved": "Overtime no longer needed to cover vacancies (a saving)",
    "avoided_jail_and_claims": "Jail days and force claims avoided (a saving)",
    "incremental": "Net cost above the status quo",
    "added_officers": "Officers added over status-quo hiring (average over the horizon)",
    "cost_per_added_officer": "Net cost per added officer a year",
    "program_cost_per_added_officer": "Program's own cost per added officer a year",
}


def cost_split_arrays(evaluation: Evaluation) -> dict[str, np.ndarray]:
    """Heartbeats against the status quo, per draw, averaged over the horizon (US dollars a year):
    incremental = program_own + filling_vacancies - overtime_saved - avoided_jail_and_claims."""
    hb, sq = evaluation.costs["heartbeats"], evaluation.costs["status_quo"]

    def mean(values: np.ndarray) -> np.ndarray:
        return values.mean(axis=1)

    added = mean(evaluation.staffing["heartbeats"].sworn[:, 1:] - evaluation.staffing["status_quo"].sworn[:, 1:])
    split = {
        "program_own": mean(hb.program),
        "filling_vacancies": mean(hb.payroll - sq.payroll + hb.hiring - sq.hiring),
        "overtime_saved": mean(sq.overtime - hb.overtime),
        "avoided_jail_and_claims": mean(hb.avoided_jail + hb.avoided_claims),
        "added_officers": added,
    }
    split["incremental"] = (
        split["program_own"] + split["filling_vacancies"] - split["overtime_saved"] - split["avoided_jail_and_claims"]
    )
    enough = added >= MIN_ADDED_OFFICERS_FOR_UNIT_COST
    safe = np.where(enough, added, 1.0)
    split["cost_per_added_officer"] = np.where(enough, split["incremental"] / safe, np.nan)
    split["program_cost_per_added_officer"] = np.where(enough, split["program_own"] / safe, np.nan)
    return split


def cost_split_table(run: ModelRun) -> pd.DataFrame:
    """The honest cost of Heartbeats: what the program itself costs, what filling budgeted posts costs,
    what it saves; median, 90% of simulations and the central case for each part."""
    level = _level(run)
    draws, central = cost_split_arrays(run.evaluation), cost_split_arrays(central_case(run))
    rows = []
    for key, label in COST_SPLIT_LABELS.items():
        values = draws[key]
        defined = values[np.isfinite(values)]
        row = {"component": key, "label": label, "draws_used": int(defined.size)}
        if defined.size:
            est = estimate(defined, level)
            row.update(median=est.value, low=est.lower, high=est.upper, mean=est.mean)
        else:
            row.update(median=np.nan, low=np.nan, high=np.nan, mean=np.nan)
        row["central_case"] = float(central[key][0])
        rows.append(row)
    return pd.DataFrame(rows)


def _option_measures(evaluation: Evaluation, years: list[int]) -> dict[tuple[str, int, str], np.ndarray]:
    """Per-draw values of each option against the status quo in the given years."""
    base, sq = evaluation.costs["status_quo"].net, evaluation.staffing["status_quo"].sworn
    result = {}
    for option in ("heartbeats", "civilian_responder"):
        outcomes = evaluation.outcomes[option]
        freed = outcomes.officer_hours_freed / evaluation.params["available_hours_per_officer"][:, None]
        added = evaluation.staffing[option].sworn - sq
        cost = evaluation.costs[option].net - base
        for year in years:
            result[(option, year, "officer_capacity_added")] = added[:, year] + freed[:, year - 1]
            result[(option, year, "force_change")] = outcomes.force[:, year - 1]
            result[(option, year, "arrests_change")] = outcomes.arrests[:, year - 1]
            result[(option, year, "calls_handled")] = outcomes.calls_handled[:, year - 1]
            result[(option, year, "incremental_cost")] = cost[:, year - 1]
    return result


def options_side_by_side(run: ModelRun) -> pd.DataFrame:
    """Heartbeats and the civilian responder in the headline year and in the last year (steady state),
    both against the status quo and both started in the same year: median, 90% range, central case."""
    level = _level(run)
    years = sorted({run.evaluation.headline_year, run.settings.horizon_years})
    draws, central = _option_measures(run.evaluation, years), _option_measures(central_case(run), years)
    rows = []
    for (option, year, measure), values in draws.items():
        est = estimate(values, level)
        rows.append(
            {
                "option": option,
                "option_label": SCENARIO_LABELS[option],
                "year": year,
                "measure": measure,
                "median": est.value,
                "low": est.lower,
                "high": est.upper,
                "central_case": float(central[(option, year, measure)][0]),
            }
        )
    return pd.DataFrame(rows)


def civilian_cap_share(run: ModelRun) -> float:
    """Share of draws in which the relevant-call pool, not the diversion share, limits the civilian team."""
    params = run.params
    return float(np.mean(params["civilian_diversion_share"] > params["relevant_share_of_calls"]))


CENTRAL_KEYS = (
    "program_recruits_per_year",
    "added_officers_y5",
    "sw_officers_final",
    "salary_ratio",
    "workload_officers_needed",
    "incremental_cost_heartbeats",
    "incremental_cost_civilian_responder",
    "force_change_heartbeats",
    "force_change_civilian_responder",
    "civilian_officer_equivalents_freed",
)


def _numbers(evaluation: Evaluation, horizon: int, level: float) -> dict[str, Estimate | float]:
    """Headline numbers of one evaluation (draws or the central case)."""
    year = evaluation.headline_year
    sq, hb = evaluation.staffing["status_quo"], evaluation.staffing["heartbeats"]
    outputs = evaluation.outputs()
    numbers: dict[str, Estimate | float] = {
        "headline_year": float(year),
        "horizon_years": float(horizon),
        "salary_ratio": estimate(evaluation.salary["probationary"], level),
        "salary_ratio_first_year": estimate(evaluation.salary["first_year"], level),
        "p_salary_nearly_doubles": share_nearly_doubling(
            evaluation.salary["probationary"], evaluation.params["nearly_double_threshold"]
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
        "workload_officers_needed": estimate(evaluation.workload["sworn"], level),
        "workload_officers_needed_civilian": estimate(evaluation.workload["sworn_with_civilian"], level),
        "civilian_officer_equivalents_freed": estimate(outputs["civilian_officer_equivalents_freed"], level),
        "heartbeats_officer_equivalents_freed": estimate(
            hours_to_officers(evaluation.outcomes["heartbeats"].officer_hours_freed.mean(axis=1), evaluation.params),
            level,
        ),
        "heartbeats_calls_handled": estimate(evaluation.outcomes["heartbeats"].calls_handled.mean(axis=1), level),
    }
    for scenario in SCENARIOS:
        net = evaluation.costs[scenario].mean_per_year()
        numbers[f"net_cost_{scenario}"] = estimate(net, level)
        numbers[f"incremental_cost_{scenario}"] = estimate(net - evaluation.costs["status_quo"].mean_per_year(), level)
    for scenario in ("heartbeats", "civilian_responder"):
        for outcome in OUTCOMES:
            numbers[f"{outcome}_change_{scenario}"] = estimate(
                evaluation.outcomes[scenario].get(outcome).mean(axis=1), level
            )
    return numbers


def headline_numbers(run: ModelRun) -> dict[str, Estimate | float]:
    """The numbers the claims and the scorecard quote: medians with 90% ranges of the simulations, and
    ``central_<key>`` for the central case of the main ones. Computed once per run (figures, claims and
    the scorecard all quote them)."""
    cached = run.__dict__.get("_headline_numbers")
    if cached is not None:
        return dict(cached)
    level, horizon = _level(run), run.settings.horizon_years
    numbers = _numbers(run.evaluation, horizon, level)
    central = _numbers(central_case(run), horizon, level)
    for key in CENTRAL_KEYS:
        value = central[key]
        numbers[f"central_{key}"] = value.value if isinstance(value, Estimate) else float(value)
    numbers["civilian_capped_share"] = civilian_cap_share(run)
    run.__dict__["_headline_numbers"] = dict(numbers)
    return numbers
