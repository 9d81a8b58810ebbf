"""Notebook 07 (program model): one function per cell, figures with alt text, claims for the brief."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from heartbeats_analysis.analysis import save_table
from heartbeats_analysis.ingest.agency_lookup import display_name
from heartbeats_analysis.ingest.tables import TableMissingError, load_table
from heartbeats_analysis.model.assumptions import (
    REGISTER_VERSION,
    ModelParameters,
    load_register,
    register_fingerprint,
    validate_model_parameters,
)
from heartbeats_analysis.model.inputs import (
    AgencyFacts,
    AnalysisInputs,
    blank_unknown_rows,
    inputs_from_claims,
    resolve_agency_facts,
    with_scope,
)
from heartbeats_analysis.model.outcomes import OUTCOME_LABELS, OUTCOMES
from heartbeats_analysis.model.salary import closest_to_entry_pay, highest_possible_ratio, survey_ratios
from heartbeats_analysis.model.scenarios import (
    OUTPUT_LABELS,
    SCENARIO_LABELS,
    SCENARIOS,
    ModelRun,
    run_model,
)
from heartbeats_analysis.model.scorecard import Context, build_scorecard, record_scorecard
from heartbeats_analysis.model.sensitivity import (
    TORNADO_OUTPUTS,
    one_at_a_time,
    rank_correlations,
    top_drivers,
)
from heartbeats_analysis.model.summary import (
    Estimate,
    cost_split_table,
    costs_table,
    fmt,
    headline_numbers,
    money,
    options_side_by_side,
    outcomes_table,
    salary_levels_table,
    salary_table,
    staffing_table,
    workload_table,
)
from heartbeats_analysis.paths import DOCS_DIR
from heartbeats_analysis.report import style
from heartbeats_analysis.report.notebook_io import NotebookContext

NOTEBOOK = "07-program-model"
SCENARIO_COLOURS = {
    "status_quo": style.PEER_COLOUR,
    "heartbeats": style.AGENCY_COLOUR,
    "civilian_responder": style.PALETTE["green"],
}
MODEL_SOURCE = "Heartbeats program model (seeded Monte Carlo); assumptions register resources/assumptions.csv"
FUNCTION = "heartbeats_analysis.model.report"


# ----------------------------------------------------------------------------------------- set-up


def model_settings(seed: int, draws: int, horizon_years: int, overrides: dict[str, Any]) -> ModelParameters:
    """Validate the notebook parameters; a ParameterError lists every problem at once."""
    return validate_model_parameters(seed=seed, draws=draws, horizon_years=horizon_years, overrides=overrides)


def agency_facts(ctx: NotebookContext, agency: str, given: dict[str, Any] | None = None) -> AgencyFacts:
    """The agency's facts: the build parameters first, then its data (FBI sworn count recorded earlier
    in this build, ACS population), else unknown. Never another agency's value."""
    facts = resolve_agency_facts(
        agency, given, ctx.earlier_claims(), _optional_table("agencies"), _optional_table("population")
    )
    save_table(ctx, facts.table(), "model_agency_facts")
    return facts


def _optional_table(name: str) -> pd.DataFrame | None:
    from heartbeats_analysis.errors import TableMissingError
    from heartbeats_analysis.ingest.tables import load_table

    try:
        return load_table(name)
    except TableMissingError:
        return None  # a build without processed data: the facts then come from the parameters only


def analysis_inputs(
    ctx: NotebookContext,
    authorised_strength: float | None = None,
    source: str = "",
    facts: AgencyFacts | None = None,
    agency: str = "ferguson",
) -> AnalysisInputs:
    """Values recorded by earlier notebooks of this build, with the register as fallback for general rows,
    and the agency's facts for agency rows (an authorised strength given here is a build parameter)."""
    if facts is None:
        given = {"authorised_strength": authorised_strength, "authorised_strength_source": source}
        facts = agency_facts(ctx, agency, given)
    claims = ctx.earlier_claims()
    inputs = inputs_from_claims(claims, load_register(), facts)
    use_community_calls(inputs, claims)
    return inputs


COMMUNITY_CALLS_CLAIM = "calls.community_calls_per_resident"


def use_community_calls(inputs: AnalysisInputs, claims) -> None:
    """Community-generated calls per resident from the calls analysis, when recorded and plausible; else the
    register row stays and the provenance says so (the workload must count the same calls as the analysis)."""
    row = load_register().set_index("id").loc["calls_per_resident"]
    claim = claims.get(COMMUNITY_CALLS_CLAIM)
    value = claim.value if claim is not None else None
    usable = isinstance(value, (int, float)) and not isinstance(value, bool)
    if usable and row["min_allowed"] < float(value) <= row["max_allowed"]:
        interval = claim.interval
        if interval is not None and not row["min_allowed"] <= interval[0] <= interval[1] <= row["max_allowed"]:
            interval = None
        inputs.set("calls_per_resident", float(value), f"claim {COMMUNITY_CALLS_CLAIM}", interval)
        return
    note = f"claim {COMMUNITY_CALLS_CLAIM} not recorded" if claim is None else f"claim unusable ({value!r})"
    inputs.provenance = [r for r in inputs.provenance if r["parameter"] != "calls_per_resident"]
    inputs.provenance.append(
        {
            "parameter": "calls_per_resident",
            "used": "register",
            "value": float(row["central"]),
            "source": row["source"],
            "note": note,
        }
    )


def salary_survey(folder: Path | None = None) -> pd.DataFrame | None:
    """Officer / social-worker pay ratios from the BLS wage survey for the St. Louis metro area, or None
    when the ``occupation_wages`` table has not been built."""
    try:
        wages = load_table("occupation_wages", folder)
    except TableMissingError:
        return None
    ratios = survey_ratios(wages, "metro")
    return ratios if not ratios.empty else None


def budget_context(register: pd.DataFrame, agency: str | None) -> dict[str, pd.Series]:
    """Sourced budget figures for this agency (register rows ``<agency>_city_operating_budget`` and
    ``<agency>_police_budget``), each with its grade; empty when none was found."""
    if not agency:
        return {}
    rows = register.set_index("id")
    found = {}
    for kind in ("city_operating_budget", "police_budget"):
        key = f"{agency.replace('-', '_')}_{kind}"
        if key in rows.index:
            found[kind] = rows.loc[key]
    return found


def run(ctx: NotebookContext, settings: ModelParameters, inputs: AnalysisInputs) -> ModelRun:
    """Run the model and save the register as used and the inputs' provenance as tables."""
    result = run_model(settings, inputs=inputs)
    # as the brief prints it: each row's scope, and no numbers for an unknown agency fact
    save_table(ctx, blank_unknown_rows(with_scope(result.register)), "model_assumptions_used")
    save_table(ctx, result.provenance, "model_input_provenance")
    return result


def assumptions_table(run: ModelRun) -> pd.DataFrame:
    """The register as used (display version): unknown agency facts show no numbers."""
    columns = ["id", "group", "scope", "low", "central", "high", "distribution", "unit", "quality", "origin"]
    shown = blank_unknown_rows(with_scope(run.register) if "scope" not in run.register else run.register)
    return shown[columns]


def _save(
    ctx: NotebookContext, fig: plt.Figure, name: str, title: str, data: pd.DataFrame, alt_text: str, function: str
):
    return style.save_figure(
        fig,
        name,
        title=title,
        data=data,
        alt_text=alt_text,
        source_line=MODEL_SOURCE,
        notebook=NOTEBOOK,
        function=f"{FUNCTION}.{function}",
        out_dir=ctx.figures_dir,
    )


def agency_name(subject: ModelRun | str | None) -> str:
    """The agency's display name for sentences: from a run's facts or an agency slug ("the department" in
    library use without either)."""
    if isinstance(subject, ModelRun):
        return subject.facts.display_name if subject.facts is not None else "the department"
    return display_name(subject) if subject else "the department"


def _possessive(run: ModelRun) -> str:
    return f"{run.facts.display_name}'s" if run.facts is not None else "the department's"


def missing_fact(run: ModelRun, key: str) -> str | None:
    """The one sentence saying what cannot be computed without an unknown agency fact, else None."""
    origin = run.register.set_index("id").at[key, "origin"]
    if origin != "unknown":
        return None
    if run.facts is not None:
        return run.facts.missing_sentence(key)
    return f"The model has no value for {key.replace('_', ' ')}, so the results that need it cannot be computed."


def _fmt_range(est: Estimate, spec: str = "{:.0f}") -> str:
    """Median of the simulations and the range holding 90% of them."""
    return f"{fmt(est.value, spec)} (90% of simulations between {fmt(est.lower, spec)} and {fmt(est.upper, spec)})"


# ----------------------------------------------------------------------------------------- figures


def figure_staffing(ctx: NotebookContext, run: ModelRun) -> style.FigureRecord:
    """Fan chart of sworn strength (status quo vs Heartbeats) and P(at full strength) by year."""
    style.apply_style()
    table = staffing_table(run)
    fig, (fan, prob) = plt.subplots(1, 2, figsize=(style.FIGURE_WIDTH_IN, 4.0), gridspec_kw={"width_ratios": [3, 2]})
    for scenario in ("status_quo", "heartbeats"):
        part = table[table["scenario"] == scenario]
        colour = SCENARIO_COLOURS[scenario]
        # the bands are labelled in the legend: what share of simulated futures each holds
        for low, high, alpha, held in (("p05", "p95", 0.15, "90% of simulations"), ("p25", "p75", 0.3, "middle 50%")):
            fan.fill_between(
                part["year"],
                part[f"sworn_{low}"],
                part[f"sworn_{high}"],
                color=colour,
                alpha=alpha,
                linewidth=0,
                label=f"{SCENARIO_LABELS[scenario]}: {held}",
            )
        fan.plot(part["year"], part["sworn_median"], color=colour, linewidth=2, label=SCENARIO_LABELS[scenario])
        prob.plot(
            part["year"],
            part["p_at_full_strength"] * 100,
            color=colour,
            linewidth=2,
            marker="o",
            markersize=3,
            label=SCENARIO_LABELS[scenario],
        )
    register = run.register.set_index("id")
    authorised, today = register.loc["authorized_strength"], register.loc["current_sworn"]
    no_target = missing_fact(run, "authorized_strength")
    if no_target is None:
        fan.axhline(authorised["central"], color=style.REFERENCE_COLOUR, linestyle="--", linewidth=1.2)
        fan.annotate(
            f"Authorised strength {authorised['central']:.0f} (range {authorised['low']:.0f}-{authorised['high']:.0f})",
            (0, authorised["central"]),
            xytext=(2, 4),
            textcoords="offset points",
            color=style.REFERENCE_COLOUR,
            fontsize=9,
        )
    fan.set_xlabel("Years from now")
    fan.set_ylabel("Sworn officers")
    fan.set_title("Sworn officers (median, 50% and 90% bands)", fontsize=10.5)
    fan.legend(loc="lower left", fontsize=7.5)
    prob.set_xlabel("Years from now")
    for axis in (fan, prob):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    prob.set_ylabel("% of simulated futures")
    prob.set_ylim(0, 100)
    prob.set_title("At full authorised strength", fontsize=10.5)
    numbers = headline_numbers(run)
    year, horizon = run.evaluation.headline_year, run.settings.horizon_years
    sq, hb = (
        table[table["scenario"] == "status_quo"].set_index("year"),
        table[table["scenario"] == "heartbeats"].set_index("year"),
    )
    no_count = missing_fact(run, "current_sworn")
    if no_target is not None:
        target_text = f"{agency_name(run)} has no known authorised strength, so hiring is projected without a cap and "
        target_text += "the second panel is empty."
    else:
        target_text = (
            f"The second panel shows the department at full strength in year {year} in "
            f"{numbers['p_full_strength_hb_y5']:.0%} of simulated futures with Heartbeats and "
            f"{numbers['p_full_strength_sq_y5']:.0%} without it."
        )
    alt = (
        f"Fan chart of projected sworn officers in {agency_name(run)} over {horizon} years, starting from about "
        f"{today['central']:.0f} today "
        f"(range {today['low']:.0f} to {today['high']:.0f}). "
        f"Status quo: median {sq.loc[year, 'sworn_median']:.0f} in year {year} (90% range "
        f"{sq.loc[year, 'sworn_p05']:.0f} to {sq.loc[year, 'sworn_p95']:.0f}) and "
        f"{sq.loc[horizon, 'sworn_median']:.0f} in year {horizon}. Heartbeats: median "
        f"{hb.loc[year, 'sworn_median']:.0f} in year {year} ({hb.loc[year, 'sworn_p05']:.0f} to "
        f"{hb.loc[year, 'sworn_p95']:.0f}) "
        f"and {hb.loc[horizon, 'sworn_median']:.0f} in year {horizon}"
        + (
            f", against an authorised strength of {authorised['central']:.0f} (range {authorised['low']:.0f} to "
            f"{authorised['high']:.0f}). "
            if no_target is None
            else ". "
        )
        + target_text
    )
    if no_count is not None:
        alt = f"The chart is empty: {no_count}"
    return _save(
        ctx,
        fig,
        "model_staffing_fan",
        "Projected sworn strength: status quo vs Heartbeats",
        table,
        alt,
        "figure_staffing",
    )


def figure_salary(ctx: NotebookContext, run: ModelRun) -> style.FigureRecord:
    """Entry pay ranges and the officer / social-worker pay ratio against 'nearly doubling'."""
    style.apply_style()
    levels = salary_levels_table(run)
    ratios = salary_table(run)
    threshold = float(run.params["nearly_double_threshold"][0])
    fig, (left, right) = plt.subplots(2, 1, figsize=(style.FIGURE_WIDTH_IN, 5.6), gridspec_kw={"height_ratios": [2, 3]})
    labels = {
        "sw_entry_salary": "New social worker (MSW)",
        "academy_recruit_salary": "Academy recruit*",
        "officer_starting_salary": "Probationary officer*",
    }
    colours = [style.PALETTE["orange"], style.PEER_COLOUR, style.AGENCY_COLOUR]
    for position, (row, colour) in enumerate(zip(levels.itertuples(), colours, strict=True)):
        left.plot([row.low / 1000, row.high / 1000], [position, position], color=colour, linewidth=4, alpha=0.5)
        left.plot(row.central / 1000, position, "o", color=colour, markersize=8)
    left.set_yticks(range(len(levels)), [labels[k] for k in levels["id"]])
    left.set_ylim(-0.5, len(levels) - 0.5)
    left.set_xlabel("Thousand US dollars a year")
    left.annotate(
        f"* St. Louis County and national figures:\n{_possessive(run)} own was not found",
        xy=(0.99, 0.04),
        xycoords="axes fraction",
        ha="right",
        va="bottom",
        fontsize=8,
        color="#555555",
    )
    left.set_title("Entry pay: range and central value", fontsize=10.5)
    for key, colour, label in (
        ("probationary", style.AGENCY_COLOUR, "Probationary officer / social worker"),
        ("first_year", style.PALETTE["sky"], "First year (half at academy pay) / social worker"),
    ):
        # one filled outline per histogram (as hist's 60 bars look, drawn as one shape: a fifth of the chart's time)
        density, edges = np.histogram(run.salary[key], bins=60, density=True)
        right.stairs(density, edges, fill=True, color=colour, alpha=0.6, label=label)
    right.axvline(1.0, color="#555555", linewidth=1)
    right.axvline(
        threshold,
        color=style.REFERENCE_COLOUR,
        linestyle="--",
        linewidth=1.4,
        label=f"'Nearly doubling' ({threshold:.1f} times)",
    )
    right.set_xlabel("Officer pay as a multiple of a new social worker's entry pay")
    right.set_yticks([])
    right.grid(False, axis="y")
    right.set_title("Pay ratio across the simulation draws", fontsize=10.5)
    right.set_ylim(0, right.get_ylim()[1] * 1.45)
    # below the panel, so the 'nearly doubling' line never crosses it
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), fontsize=8, frameon=False)
    right.set_xlim(0.6, max(2.1, float(np.quantile(run.salary["probationary"], 0.999)) + 0.1))
    prob = ratios.set_index("comparison")
    data = pd.concat(
        [
            levels.assign(panel="entry pay (USD)").rename(columns={"id": "item"})[
                ["panel", "item", "low", "central", "high", "source"]
            ],
            ratios.assign(panel="ratio", source="model draws").rename(
                columns={"comparison": "item", "ratio_low": "low", "ratio_median": "central", "ratio_high": "high"}
            )[["panel", "item", "low", "central", "high", "source"]],
        ],
        ignore_index=True,
    )
    lv = levels.set_index("id")
    alt = (
        f"Two panels. Left: entry pay ranges: a new social worker ${lv.loc['sw_entry_salary', 'central']:,.0f} "
        f"(${lv.loc['sw_entry_salary', 'low']:,.0f} to ${lv.loc['sw_entry_salary', 'high']:,.0f}), an academy recruit "
        f"${lv.loc['academy_recruit_salary', 'central']:,.0f} and a probationary officer "
        f"${lv.loc['officer_starting_salary', 'central']:,.0f} (${lv.loc['officer_starting_salary', 'low']:,.0f} to "
        f"${lv.loc['officer_starting_salary', 'high']:,.0f}), regional and national comparators because "
        f"{_possessive(run)} own figure was not found. Right: the officer to social-worker pay ratio is "
        f"{prob.loc['probationary', 'ratio_median']:.2f} "
        f"(90% range {prob.loc['probationary', 'ratio_low']:.2f} to "
        f"{prob.loc['probationary', 'ratio_high']:.2f}) for a "
        f"probationary officer and {prob.loc['first_year', 'ratio_median']:.2f} over the first year; it reaches the "
        f"'nearly doubling' line of {threshold:.1f} in {prob.loc['probationary', 'p_nearly_doubling']:.0%} of draws."
    )
    return _save(ctx, fig, "model_salary", "Entry pay: officer vs social worker", data, alt, "figure_salary")


def figure_outcomes(ctx: NotebookContext, run: ModelRun) -> style.FigureRecord:
    """Expected change a year in force, arrests and referrals, with 90% intervals, by scenario."""
    style.apply_style()
    table = outcomes_table(run)
    table = table[table["outcome"].isin(OUTCOMES)].reset_index(drop=True)
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(style.FIGURE_WIDTH_IN, 3.2), sharey=True)
    scenarios = ["heartbeats", "civilian_responder"]
    for ax, outcome in zip(axes, OUTCOMES, strict=True):
        part = table[table["outcome"] == outcome].set_index("scenario")
        for position, scenario in enumerate(scenarios):
            row = part.loc[scenario]
            ax.plot(
                [row["low"], row["high"]],
                [position, position],
                color=SCENARIO_COLOURS[scenario],
                linewidth=3,
                alpha=0.6,
            )
            ax.plot(row["median"], position, "o", color=SCENARIO_COLOURS[scenario], markersize=7)
        ax.axvline(0, color="#555555", linewidth=1)
        ax.set_title(OUTCOME_LABELS[outcome], fontsize=10)
        ax.set_ylim(-0.6, len(scenarios) - 0.4)
    axes[0].set_yticks(range(len(scenarios)), [SCENARIO_LABELS[s] for s in scenarios])
    fig.supxlabel("Change a year against the status quo (median; line: 90% of simulations)", fontsize=10, y=0.08)
    parts = []
    for row in table.itertuples():
        zero = " (interval includes no change)" if row.interval_includes_zero else ""
        parts.append(
            f"{row.scenario_label}, {row.outcome_label.lower()}: {fmt(row.median, '{:+.1f}')} a year "
            f"(90% of simulations between {fmt(row.low, '{:+.1f}')} and {fmt(row.high, '{:+.1f}')}){zero}"
        )
    alt = (
        "Point-and-interval chart of expected changes a year against the status quo, averaged over the horizon. "
        + "; ".join(parts)
        + "."
    )
    return _save(ctx, fig, "model_outcomes", "Expected changes in outcomes a year", table, alt, "figure_outcomes")


@dataclass(frozen=True)
class Sensitivity:
    one_at_a_time: pd.DataFrame
    rank_correlation: pd.DataFrame


def sensitivity(ctx: NotebookContext, run: ModelRun) -> Sensitivity:
    """One-at-a-time swings and global rank correlations; both saved as tables."""
    result = Sensitivity(one_at_a_time(run.register, run.settings.horizon_years), rank_correlations(run))
    save_table(ctx, result.one_at_a_time, "model_sensitivity_oat")
    save_table(ctx, result.rank_correlation, "model_sensitivity_rank")
    return result


def _output_format(output: str):
    if output.endswith("_cost"):
        return money
    if output == "salary_ratio":
        return lambda x: f"{x:.2f}"
    return lambda x: f"{x:,.1f}"


def _label(parameter: str) -> str:
    return parameter.replace("_", " ")


def _plain_name(parameter: str, register) -> str:
    """A parameter as a council member would read it: its register description, first clause."""
    description = str(register.set_index("id").at[parameter, "description"])
    first = re.sub(r"\s*\([^)]*\)", "", description.split(". ")[0]).rstrip(".")
    keep_case = len(first) > 1 and first[1].isupper()  # an acronym such as UMSL
    return first if keep_case else first[:1].lower() + first[1:]


def figure_tornado(
    ctx: NotebookContext,
    run: ModelRun,
    result: Sensitivity,
    output: str = "heartbeats_added_officers_y5",
    top: int = 8,
) -> style.FigureRecord:
    """Tornado chart: the output at each parameter's low and high value, everything else central."""
    style.apply_style()
    table = result.one_at_a_time
    name = "model_tornado" if output == "heartbeats_added_officers_y5" else f"model_tornado_{output}"
    title = f"What moves the result: {OUTPUT_LABELS[output]}"
    if not (table["output"] == output).any():  # the output needs an unknown agency fact
        why = missing_fact(run, "current_sworn") or missing_fact(run, "authorized_strength") or ""
        fig, ax = plt.subplots(figsize=(style.FIGURE_WIDTH_IN, 1.6))
        ax.axis("off")
        ax.text(0.5, 0.5, f"Not computed for {agency_name(run)}: a fact it needs is unknown", ha="center")
        return _save(ctx, fig, name, title, table.head(0), f"No chart: {why}", "figure_tornado")
    part = table[(table["output"] == output) & (table["swing"] > 0)].head(top).iloc[::-1]
    central = float(table.loc[table["output"] == output, "output_central"].iloc[0])
    fig, ax = plt.subplots(figsize=(style.FIGURE_WIDTH_IN, 0.42 * len(part) + 1.4))
    positions = np.arange(len(part))
    ax.barh(
        positions,
        part["output_at_low"] - central,
        left=central,
        color=style.PALETTE["sky"],
        label="Parameter at its low value",
    )
    ax.barh(
        positions,
        part["output_at_high"] - central,
        left=central,
        color=style.PALETTE["blue"],
        label="Parameter at its high value",
    )
    ax.axvline(central, color="#333333", linewidth=1)
    # the register's plain descriptions, wrapped, not code ids; money as $100k
    ax.set_yticks(positions, [textwrap.fill(_plain_name(p, run.register), 38) for p in part["parameter"]])
    ax.set_xlabel(OUTPUT_LABELS[output])
    if "cost" in output:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v / 1000:,.0f}k"))
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_title("What moves the result (others at central values)", fontsize=10.5)
    ax.grid(False, axis="y")
    ax.legend(loc="lower right", fontsize=8.5)
    ordered = part.iloc[::-1]
    rank = result.rank_correlation
    global_top = top_drivers(rank, output, 3, measure="abs_spearman")
    fmt = _output_format(output)
    alt = (
        f"Tornado chart for '{OUTPUT_LABELS[output]}', which is {fmt(central)} with every assumption at its central "
        "value. "
        + "; ".join(
            f"{_plain_name(r.parameter, run.register)} moves it from {fmt(r.output_at_low)} (low) to "
            f"{fmt(r.output_at_high)} (high)"
            for r in ordered.head(5).itertuples()
        )
        + ". Across all draws the strongest rank correlations are with "
        + f"{', '.join(_plain_name(p, run.register) for p in global_top)}."
    )
    return _save(ctx, fig, name, title, part.iloc[::-1], alt, "figure_tornado")


def figure_scenarios(ctx: NotebookContext, run: ModelRun) -> style.FigureRecord:
    """Net cost a year and officer capacity added, for the three scenarios."""
    style.apply_style()
    table = costs_table(run)
    fig, (cost_ax, capacity_ax) = plt.subplots(1, 2, figsize=(style.FIGURE_WIDTH_IN, 3.2), sharey=True)
    for position, row in enumerate(table.itertuples()):
        colour = SCENARIO_COLOURS[row.scenario]
        cost_ax.plot(
            [row.incremental_low / 1e3, row.incremental_high / 1e3],
            [position, position],
            color=colour,
            linewidth=3,
            alpha=0.6,
        )
        cost_ax.plot(row.incremental_median / 1e3, position, "o", color=colour, markersize=7)
        capacity_ax.plot(
            [row.officer_capacity_added_low, row.officer_capacity_added_high],
            [position, position],
            color=colour,
            linewidth=3,
            alpha=0.6,
        )
        capacity_ax.plot(row.officer_capacity_added_median, position, "o", color=colour, markersize=7)
    cost_ax.set_yticks(range(len(table)), list(table["scenario_label"]))
    cost_ax.axvline(0, color="#555555", linewidth=1)
    cost_ax.set_xlabel("Thousand US dollars a year")
    cost_ax.set_title("Cost above status quo", fontsize=10.5)
    capacity_ax.axvline(0, color="#555555", linewidth=1)
    capacity_ax.set_xlabel("Officer equivalents")
    capacity_ax.set_title("Officer time freed or added", fontsize=10.5)
    cost_ax.set_ylim(-0.6, len(table) - 0.4)
    parts = []
    for r in table.itertuples():
        text = (
            f"{r.scenario_label}: {money(r.net_cost_median)} a year "
            f"({money(r.net_cost_low)} to {money(r.net_cost_high)})"
        )
        if r.scenario != "status_quo":
            text += (
                f", {money(r.incremental_median)} more than the status quo ({money(r.incremental_low)} to "
                f"{money(r.incremental_high)}), adding {r.officer_capacity_added_median:.1f} officer equivalents "
                f"({r.officer_capacity_added_low:.1f} to {r.officer_capacity_added_high:.1f})"
            )
        parts.append(text)
    alt = "Two point-and-interval panels comparing the scenarios over the horizon. " + "; ".join(parts) + "."
    return _save(ctx, fig, "model_scenarios", "Scenarios: cost and officer capacity", table, alt, "figure_scenarios")


# ----------------------------------------------------------------------------------------- claims


def _record(
    ctx: NotebookContext,
    claim_id: str,
    est: Estimate | float,
    unit: str,
    sentence: str,
    run: ModelRun,
    source: list[str] | None = None,
) -> None:
    kwargs: dict[str, Any] = {
        "n": run.settings.draws,
        "notebook": NOTEBOOK,
        "function": f"{FUNCTION}.record_model_claims",
        "source": source or [f"resources/assumptions.csv v{REGISTER_VERSION}"],
    }
    if isinstance(est, Estimate):
        kwargs.update(interval=est.interval, interval_kind=est.interval_kind)
        value = est.value
    else:
        value = est
    ctx.claims.record(claim_id, value, unit, sentence, **kwargs)


def _doubling_sentence(run: ModelRun, share: float, draws: int) -> str:
    """A bounded result said as a bound: the pay ranges cannot reach the threshold at all, or only in some draws."""
    threshold = float(run.register.set_index("id").loc["nearly_double_threshold", "central"])
    bound = highest_possible_ratio(run.register)
    if bound < threshold:
        return (
            f"No plausible combination of the pay figures reaches {threshold:.1f} times ('nearly doubling'); the "
            f"highest is {bound:.2f} (the top officer pay over the lowest social-worker pay)."
        )
    return f"The pay rise reaches {threshold:.1f} times ('nearly doubling') in {share:.0%} of {draws:,} simulations."


def record_model_claims(
    ctx: NotebookContext, run: ModelRun, result: Sensitivity, agency: str | None = None
) -> pd.DataFrame:
    """Record the model's headline numbers as claims ``model.*``; return them as a table."""
    name = agency_name(run if run.facts is not None else agency)
    n = headline_numbers(run)
    year, horizon = run.evaluation.headline_year, run.settings.horizon_years
    draws = run.settings.draws
    _record(
        ctx,
        "model.salary_ratio",
        n["salary_ratio"],
        "ratio",
        f"A probationary officer's salary is {_fmt_range(n['salary_ratio'], '{:.2f}')} times a new social worker's "
        f"entry salary, using St. Louis County and national officer pay because {_possessive(run)} was not found.",
        run,
    )
    _record(
        ctx,
        "model.salary_ratio_first_year",
        n["salary_ratio_first_year"],
        "ratio",
        f"Counting half of the first year at academy pay, the first year's pay is "
        f"{_fmt_range(n['salary_ratio_first_year'], '{:.2f}')} times a new social worker's.",
        run,
    )
    _record(
        ctx,
        "model.p_salary_nearly_doubles",
        n["p_salary_nearly_doubles"],
        "share of draws",
        _doubling_sentence(run, n["p_salary_nearly_doubles"], draws),
        run,
    )
    name, possessive = agency_name(run), _possessive(run)
    no_staffing = missing_fact(run, "current_sworn")
    no_target = no_staffing or missing_fact(run, "authorized_strength")
    for when, key in ((year, "y5"), (horizon, "final")):
        with_program, without = n[f"p_full_strength_hb_{key}"], n[f"p_full_strength_sq_{key}"]
        if f"model.p_close_gap_year{when}" in ctx.claims:
            continue
        _record(
            ctx,
            f"model.p_close_gap_year{when}",
            with_program,
            "share of draws",
            no_target
            or f"With Heartbeats, {name}'s police department is at its full authorised strength in year {when} in "
            f"{with_program:.0%} of {draws:,} simulated futures, against {without:.0%} with status-quo hiring.",
            run,
        )
        _record(
            ctx,
            f"model.p_close_gap_year{when}_status_quo",
            without,
            "share of draws",
            no_target
            or f"With status-quo hiring, {name}'s police department is at its full authorised strength in year "
            f"{when} in {without:.0%} of {draws:,} simulated futures.",
            run,
        )
    _record(
        ctx,
        f"model.added_officers_year{year}",
        n["added_officers_y5"],
        "officers",
        no_staffing
        or f"By year {year} Heartbeats adds {_fmt_range(n['added_officers_y5'])} sworn officers to {name}'s police "
        f"department over status-quo hiring.",
        run,
    )
    _record(
        ctx,
        f"model.sw_officers_year{horizon}",
        n["sw_officers_final"],
        "officers",
        no_staffing
        or f"After {horizon} years, {_fmt_range(n['sw_officers_final'])} of {possessive} officers would be program "
        f"recruits with social-work degrees.",
        run,
    )
    _record(
        ctx,
        "model.program_recruits_per_year",
        n["program_recruits_per_year"],
        "officers per year",
        no_staffing
        or f"The program would bring {name} {_fmt_range(n['program_recruits_per_year'], '{:.1f}')} sworn recruits "
        f"a year.",
        run,
    )
    _record(
        ctx,
        "model.workload_officers_needed",
        n["workload_officers_needed"],
        "sworn officers",
        missing_fact(run, "population")
        or f"A workload-based estimate (COPS Office method) puts the sworn officers {possessive} calls need at "
        f"{_fmt_range(n['workload_officers_needed'])}{_against_strength(run)}.",
        run,
    )
    _record(
        ctx,
        "model.workload_officers_needed_civilian_responder",
        n["workload_officers_needed_civilian"],
        "sworn officers",
        missing_fact(run, "population")
        or f"With a civilian responder taking part of the calls, the estimate is "
        f"{_fmt_range(n['workload_officers_needed_civilian'])} sworn officers.",
        run,
    )
    for scenario in SCENARIOS:
        est, extra = n[f"net_cost_{scenario}"], n[f"incremental_cost_{scenario}"]
        versus = (
            ""
            if scenario == "status_quo" or no_target
            else (
                f", {money(extra.value)} a year more than the status quo (90% of simulations between "
                f"{money(extra.lower)} and {money(extra.upper)})"
            )
        )
        _record(
            ctx,
            f"model.net_cost_per_year_{scenario}",
            est,
            "USD per year",
            no_target
            or f"{SCENARIO_LABELS[scenario]}: a net public cost for sworn staffing, hiring, overtime and the program, "
            f"less avoided jail days and claims, of {money(est.value)} a year (90% of simulations between "
            f"{money(est.lower)} and {money(est.upper)})"
            f"{versus}.",
            run,
        )
    for scenario in ("heartbeats", "civilian_responder"):
        est = n[f"incremental_cost_{scenario}"]
        _record(
            ctx,
            f"model.incremental_cost_per_year_{scenario}",
            est,
            "USD per year",
            no_target
            or f"{SCENARIO_LABELS[scenario]} costs {money(est.value)} a year more than the status quo "
            f"(90% of simulations between {money(est.lower)} and {money(est.upper)})."
            + (
                " Most of it is the pay of officers filling posts already authorised and budgeted (see the cost split)."
                if scenario == "heartbeats"
                else ""
            ),
            run,
        )
        for outcome in OUTCOMES:
            est = n[f"{outcome}_change_{scenario}"]
            _record(
                ctx,
                f"model.{outcome}_change_{scenario}",
                est,
                "per year",
                f"{SCENARIO_LABELS[scenario]}: {OUTCOME_LABELS[outcome].lower()} change by "
                f"{fmt(est.value, '{:+.1f}')} a year (90% of simulations between {fmt(est.lower, '{:+.1f}')} and "
                f"{fmt(est.upper, '{:+.1f}')}) "
                f"against the status quo.",
                run,
            )
    _record(
        ctx,
        "model.civilian_officer_equivalents_freed",
        n["civilian_officer_equivalents_freed"],
        "officer equivalents",
        f"A civilian responder frees {_fmt_range(n['civilian_officer_equivalents_freed'], '{:.1f}')} officer "
        f"equivalents of call time.",
        run,
    )
    record_central_case(ctx, run, n)
    record_cost_split(ctx, run, agency)
    record_options(ctx, run, n)
    record_salary_survey(ctx, run, name)
    for output in TORNADO_OUTPUTS:
        drivers = top_drivers(result.one_at_a_time, output, 3)
        global_drivers = top_drivers(result.rank_correlation, output, 3, measure="abs_spearman")
        if not drivers:  # the output needs an unknown agency fact
            continue
        ctx.claims.record(
            f"model.top_sensitivity_{output}",
            ", ".join(drivers),
            "parameter ids",
            f"'{OUTPUT_LABELS[output]}' moves most with: {'; '.join(_plain_name(d, run.register) for d in drivers)} "
            f"(one at a time). Across all draws the strongest rank correlations are with: "
            f"{'; '.join(_plain_name(d, run.register) for d in global_drivers)}.",
            n=draws,
            notebook=NOTEBOOK,
            function="heartbeats_analysis.model.sensitivity.one_at_a_time",
            source=[f"resources/assumptions.csv v{REGISTER_VERSION}"],
        )
    main = top_drivers(result.one_at_a_time, "heartbeats_added_officers_y5", 3)
    quality = run.register.set_index("id")["quality"]
    unsourced = [d for d in main if quality[d] == "assumption"]
    if main and len(unsourced) == len(main):
        caveat = ", none of which has a published source"
    elif unsourced:
        caveat = f" ({len(unsourced)} of these {len(main)} have no published source)"
    else:
        caveat = ""
    ctx.claims.record(
        "model.top_sensitivity",
        ", ".join(main),
        "parameter ids",
        no_staffing
        or f"What Heartbeats does for staffing depends most on: "
        f"{'; '.join(_plain_name(d, run.register) for d in main) or 'nothing varied'}{caveat}.",
        n=draws,
        notebook=NOTEBOOK,
        function="heartbeats_analysis.model.sensitivity.one_at_a_time",
        source=[f"resources/assumptions.csv v{REGISTER_VERSION}"],
    )
    for row in run.provenance.to_dict("records"):
        ctx.claims.record(
            f"model.input_source_{row['parameter']}",
            _input_source_value(row),
            "source",
            _input_source_sentence(row, name),
            notebook=NOTEBOOK,
            function="heartbeats_analysis.model.inputs.inputs_from_claims",
        )
    ctx.claims.record(
        "model.register_version",
        f"{REGISTER_VERSION} ({register_fingerprint()})",
        "version",
        f"Assumptions register version {REGISTER_VERSION}, file hash {register_fingerprint()}, seed "
        f"{run.settings.seed}, {draws:,} draws, {horizon}-year horizon.",
        notebook=NOTEBOOK,
        function="heartbeats_analysis.model.assumptions.register_fingerprint",
    )
    recorded = [c for c in ctx.claims if c.id.startswith("model.")]
    return pd.DataFrame(
        [
            {"id": c.id, "value": c.value, "unit": c.unit, "interval": c.interval, "sentence": c.sentence}
            for c in recorded
        ]
    )


def _input_source_value(row: dict) -> str:
    """'claim staffing.latest_sworn', 'register', or the agency-fact origin (params, data, unknown...)."""
    if row["used"] == "analysis":
        return row["source"]
    return "register" if row["used"] == "register" else row["used"]


def _input_source_sentence(row: dict, name: str) -> str:
    label = _label(row["parameter"])
    used = row["used"]
    if used == "unknown":
        return row["note"]
    if used == "analysis":
        return f"The model's {label} ({_plain_number(row['value'])}) comes from the data analysis ({row['source']})."
    if used == "register":
        return f"The model's {label} ({_plain_number(row['value'])}) comes from the assumptions register."
    if used == "general assumption":
        return (
            f"The model's {label} ({_plain_number(row['value'])}) is the register's general assumption: {row['note']}."
        )
    kind = {"params": "the build parameters", "proxy (params)": "a proxy chosen in the build parameters"}.get(
        used, "the agency's data"
    )
    return f"{name}'s {label} ({_plain_number(row['value'])}) comes from {kind}: {row['source']}."


def _against_strength(run: ModelRun) -> str:
    """', against 42 authorised and 29 serving' with only the known facts (nothing when neither is known)."""
    rows = run.register.set_index("id")
    parts = [
        f"{rows.at[key, 'central']:.0f} {label}"
        for key, label in (("authorized_strength", "authorised"), ("current_sworn", "serving"))
        if rows.at[key, "origin"] != "unknown"
    ]
    return f", against {' and '.join(parts)}" if parts else ""


DOJ_INVESTIGATED_AGENCY = "ferguson"
"""The agency the DOJ's 2015 pattern-or-practice investigation covers (its findings are context only there)."""


def _central(value: float, spec: str = "{:.1f}") -> str:
    return fmt(value, spec)


def record_central_case(ctx: NotebookContext, run: ModelRun, n) -> None:
    """The central case (every input at its central value, no chance events) beside the medians."""
    labels = {
        "program_recruits_per_year": ("sworn recruits a year from the program", "{:.2f}", "officers per year"),
        "added_officers_y5": (f"officers added by year {run.evaluation.headline_year}", "{:.1f}", "officers"),
        "salary_ratio": ("officer / social-worker entry pay", "{:.2f}", "ratio"),
        "workload_officers_needed": ("sworn officers the call workload needs", "{:.0f}", "sworn officers"),
        "force_change_heartbeats": ("change in use-of-force incidents a year with Heartbeats", "{:+.1f}", "per year"),
        "civilian_officer_equivalents_freed": ("officer equivalents a civilian responder frees", "{:.1f}", "FTE"),
    }
    for key, (label, spec, unit) in labels.items():
        central, draws = n[f"central_{key}"], n[key]
        _record(
            ctx,
            f"model.central_case_{key}",
            central,
            unit,
            f"With every input at its central value, {label}: {fmt(central, spec)}; across the simulations the "
            f"median is {fmt(draws.value, spec)} (90% of simulations between {fmt(draws.lower, spec)} and "
            f"{fmt(draws.upper, spec)}). A mean of skewed draws ({fmt(draws.mean, spec)}) is neither.",
            run,
        )
    for key in ("incremental_cost_heartbeats", "incremental_cost_civilian_responder"):
        central, draws = n[f"central_{key}"], n[key]
        option = SCENARIO_LABELS[key.removeprefix("incremental_cost_")]
        _record(
            ctx,
            f"model.central_case_{key}",
            central,
            "USD per year",
            f"{option}, every input at its central value: {money(central)} a year above the status quo; median of "
            f"the simulations {money(draws.value)} (90% between {money(draws.lower)} and {money(draws.upper)}).",
            run,
        )


def record_cost_split(ctx: NotebookContext, run: ModelRun, agency: str | None = None) -> None:
    """Heartbeats' cost split into the program's own cost, filling budgeted posts, overtime saved and avoided
    costs, with the cost per added officer and, where a sourced figure exists, the agency's budgets."""
    table = cost_split_table(run).set_index("component")
    grades = run.register.set_index("id")["quality"]
    own_ids = ("heartbeats_program_cost_per_year", "program_stipend_per_recruit")
    own_basis = "assumptions (the proposal gives no budget)" if all(grades[i] == "assumption" for i in own_ids) else ""
    sentences = {
        "program_own": f"The program's own cost (recruiting, outreach and stipends) is {{}} a year; its inputs are "
        f"{own_basis or 'sourced in the register'}.",
        "filling_vacancies": "Pay, benefits and training of the officers it adds cost {} a year; these are posts "
        "already authorised and budgeted, which any successful recruiting would fill.",
        "overtime_saved": "Overtime no longer needed to cover vacancies saves {} a year.",
        "avoided_jail_and_claims": "Avoided jail days and force claims save {} a year.",
        "incremental": "In all, Heartbeats costs {} a year more than the status quo.",
    }
    for key, template in sentences.items():
        row = table.loc[key]
        text = (
            f"{money(row['median'])} (90% of simulations between {money(row['low'])} and {money(row['high'])}; "
            f"central case {money(row['central_case'])})"
        )
        _record(
            ctx,
            f"model.cost_split_{key}",
            float(row["median"]),
            "USD per year",
            template.format(text),
            run,
        )
    for key, label in (
        ("cost_per_added_officer", "Net cost per added officer"),
        ("program_cost_per_added_officer", "The program's own cost per added officer"),
    ):
        row = table.loc[key]
        left_out = run.settings.draws - int(row["draws_used"])
        if not row["draws_used"]:
            continue
        _record(
            ctx,
            f"model.{key}",
            float(row["median"]),
            "USD per officer per year",
            f"{label}: {money(row['median'])} a year (90% of simulations between {money(row['low'])} and "
            f"{money(row['high'])}; central case {money(row['central_case'])}); {left_out:,} of "
            f"{run.settings.draws:,} simulations add too few officers for a cost per officer and are left out.",
            run,
        )
    incremental = table.loc["incremental", "median"]
    for kind, row in budget_context(run.register, agency).items():
        label = "the city's operating budget" if kind == "city_operating_budget" else "the police department's budget"
        year = re.search(r"\((\d{4})\)", row["description"])
        ctx.claims.record(
            f"model.cost_share_of_{kind}",
            incremental / float(row["central"]),
            "share",
            f"The extra cost is {incremental / float(row['central']):.1%} of {label} "
            f"({money(float(row['central']))}{', ' + year.group(1) if year else ''}; quality grade {row['quality']}"
            f"{', low quality' if row['quality'] == 'D' else ''}).",
            notebook=NOTEBOOK,
            function=f"{FUNCTION}.record_cost_split",
            source=[f"{row['source']} {row['url']}".strip()],
        )


def record_options(ctx: NotebookContext, run: ModelRun, n) -> None:
    """Heartbeats and the civilian responder side by side, in the headline year and at the horizon."""
    table = options_side_by_side(run)
    for year in sorted(table["year"].unique()):
        part = table[table["year"] == year].set_index(["option", "measure"])

        def cell(option: str, measure: str, spec: str, formatter=None, part=part) -> str:
            row = part.loc[(option, measure)]
            show = formatter or (lambda v: fmt(v, spec))
            return f"{show(row['median'])} (90% of simulations between {show(row['low'])} and {show(row['high'])})"

        sentence = (
            f"In year {year}, with both options started in the same year: Heartbeats adds "
            f"{cell('heartbeats', 'officer_capacity_added', '{:.1f}')} officer equivalents at "
            f"{cell('heartbeats', 'incremental_cost', '', money)} a year; a civilian responder adds "
            f"{cell('civilian_responder', 'officer_capacity_added', '{:.1f}')} at "
            f"{cell('civilian_responder', 'incremental_cost', '', money)}, handling "
            f"{cell('civilian_responder', 'calls_handled', '{:.0f}')} calls."
        )
        ctx.claims.record(
            f"model.options_year{year}",
            float(part.loc[("civilian_responder", "officer_capacity_added"), "median"]),
            "officer equivalents",
            sentence,
            n=run.settings.draws,
            notebook=NOTEBOOK,
            function=f"{FUNCTION}.record_options",
            source=[f"resources/assumptions.csv v{REGISTER_VERSION}"],
        )
    ctx.claims.record(
        "model.civilian_capped_share",
        n["civilian_capped_share"],
        "share of draws",
        f"In {n['civilian_capped_share']:.0%} of simulations the civilian team would take more calls than the pool "
        "of relevant calls holds; there it is capped at the pool.",
        n=run.settings.draws,
        notebook=NOTEBOOK,
        function="heartbeats_analysis.model.outcomes.civilian_share_by_year",
    )


def record_salary_survey(ctx: NotebookContext, run: ModelRun, name: str) -> None:
    """Pay ratios from the BLS wage survey (St. Louis metro): the range over entry definitions."""
    survey = salary_survey()
    if survey is None:
        return
    register = run.register.set_index("id")
    entry = closest_to_entry_pay(
        survey, register.loc["officer_starting_salary", "central"], register.loc["sw_entry_salary", "central"]
    )
    at_entry = survey[survey["proxy"] == entry]
    area = survey["area_name"].iloc[0]
    source = ["occupation_wages.csv (BLS OEWS May 2025)"]
    ctx.claims.record(
        "model.salary_survey_ratio_range",
        float(survey["ratio"].max()),
        "ratio",
        f"In the BLS wage survey for the {area} metro area (May 2025), patrol officers earn "
        f"{survey['ratio'].min():.2f} to {survey['ratio'].max():.2f} times social workers at the same percentile "
        f"(10th, 25th or median; three social-work occupations); no salary schedule for {name}'s officers was found.",
        interval=(float(survey["ratio"].min()), float(survey["ratio"].max())),
        interval_kind="range over entry-pay definitions (not a statistical interval)",
        notebook=NOTEBOOK,
        function="heartbeats_analysis.model.salary.survey_ratios",
        source=source,
    )
    ctx.claims.record(
        "model.salary_survey_ratio_entry",
        float(at_entry["ratio"].median()),
        "ratio",
        f"At the {at_entry['proxy_label'].iloc[0]}, the definition closest to a new graduate's entry pay, the ratio "
        f"is {at_entry['ratio'].min():.2f} to {at_entry['ratio'].max():.2f} "
        f"(officers ${at_entry['officer_pay'].iloc[0]:,.0f}; social workers "
        f"${at_entry['social_worker_pay'].min():,.0f} to ${at_entry['social_worker_pay'].max():,.0f}).",
        interval=(float(at_entry["ratio"].min()), float(at_entry["ratio"].max())),
        interval_kind="range over social-work occupations (not a statistical interval)",
        notebook=NOTEBOOK,
        function="heartbeats_analysis.model.salary.closest_to_entry_pay",
        source=source,
    )


def scorecard(ctx: NotebookContext, run: ModelRun, agency: str | None = None) -> pd.DataFrame:
    """Build the claims scorecard, record one claim per proposal claim, save it as a table."""
    agency = agency or (run.facts.agency if run.facts is not None else None)
    name = agency_name(run if run.facts is not None else agency)
    context = Context(name, salary_survey(), agency == DOJ_INVESTIGATED_AGENCY, run.facts)
    table = build_scorecard(headline_numbers(run), run.register, ctx.earlier_claims(), context)
    record_scorecard(ctx.claims, table, notebook=NOTEBOOK)
    save_table(
        ctx,
        table.assign(sources=table["sources"].map(" | ".join), register_ids=table["register_ids"].map(", ".join)),
        "model_scorecard",
    )
    return table[["proposal_claim", "verdict", "basis_label", "numbers", "would_settle"]]


def summary_tables(run: ModelRun) -> dict[str, pd.DataFrame]:
    """All summary tables (for display or export)."""
    return {
        "staffing": staffing_table(run),
        "salary": salary_table(run),
        "workload": workload_table(run),
        "outcomes": outcomes_table(run),
        "costs": costs_table(run),
        "cost_split": cost_split_table(run),
        "options_side_by_side": options_side_by_side(run),
    }


def save_summary_tables(ctx: NotebookContext, run: ModelRun) -> list[str]:
    return [
        save_table(ctx, table, f"model_{name}", float_format="%.6g").name for name, table in summary_tables(run).items()
    ]


# ----------------------------------------------------------------------------------------- documentation

DOCS_START, DOCS_END = "<!-- assumptions:start -->", "<!-- assumptions:end -->"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def register_markdown(register: pd.DataFrame) -> str:
    """The register as a Markdown table (for docs/model.md)."""
    lines = [
        "| id | description | low | central | high | distribution | unit | quality | source | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in register.to_dict("records"):
        source = f"{row['source']} <{row['url']}>" if row["url"] else row["source"]
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    f"`{row['id']}`",
                    row["description"],
                    f"{row['low']:g}",
                    f"{row['central']:g}",
                    f"{row['high']:g}",
                    row["distribution"],
                    row["unit"],
                    row["quality"],
                    source,
                    row["note"],
                )
            )
            + " |"
        )
    return "\n".join(lines)


def docs_with_register(text: str, register: pd.DataFrame) -> str:
    """``text`` with the register table placed between the assumptions markers."""
    start, end = text.index(DOCS_START) + len(DOCS_START), text.index(DOCS_END)
    return text[:start] + "\n" + register_markdown(register) + "\n" + text[end:]


def update_docs(path: Path | None = None) -> Path:
    path = Path(path or DOCS_DIR / "model.md")
    path.write_text(docs_with_register(path.read_text(encoding="utf-8"), load_register()), encoding="utf-8")
    return path


def _plain_number(value: float) -> str:
    """18527 -> '18,527'; 0.0423 -> '0.0423' (never scientific notation in a sentence)."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
