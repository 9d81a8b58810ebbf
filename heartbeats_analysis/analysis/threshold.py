"""The threshold test in the notebook (08-threshold): the cached statewide fit read back, and the agency's, the
peers' and the state's thresholds recorded as claims, tables and charts.

The model, the sampler and the fit's files live in :mod:`heartbeats_analysis.analysis.threshold_model`, apart from
this module so that a change of wording here does not invalidate the cached fit (the fit step is keyed on the
model module's hash).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from heartbeats_analysis.analysis import threshold_model
from heartbeats_analysis.analysis.threshold_model import (
    DIVERGENCES_MAX,
    ESS_MIN,
    FIRST_YEAR,
    LAST_YEAR,
    MIN_SEARCHES,
    RACE_WORDS,
    RHAT_MAX,
    ThresholdConvergenceError,
    ThresholdFit,
    check_convergence,
    load_fit,
)

__all__ = ["load_fit"]

# --- notebook report: claims, tables, chart -----------------------------------------------------------------

NOTEBOOK = "08-threshold"
SOURCE = ["stops.csv", "threshold_fit/thresholds.csv", "threshold_fit/diagnostics.json"]
SOURCE_LINE = "Missouri AGO Vehicle Stops Reports 2020-2024; fast threshold test (Pierson et al. 2018)"
INTERVAL_KIND = "95% credible interval (posterior)"
YEARS_LABEL = f"{FIRST_YEAR}-{LAST_YEAR}"


def _model_fn(name: str) -> str:
    """The model module's function a claim comes from (the traceability record)."""
    return f"{threshold_model.__name__}.{name}"


def _fn(name: str) -> str:
    return f"{__name__}.{name}"


def _pct(value: float) -> str:
    from heartbeats_analysis.analysis.stats import format_number

    return format_number(value, 1, True)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def diagnostics_table(result: ThresholdFit) -> pd.DataFrame:
    """Convergence and posterior predictive check, one row per quantity, for the appendix."""
    d = result.diagnostics
    ppc = d["ppc"]
    rows = [
        ("Largest R-hat (all parameters)", f"{d['max_rhat']:.3f}", f"at most {RHAT_MAX}"),
        ("Smallest effective sample size", f"{d['min_ess_bulk']:.0f}", f"at least {ESS_MIN:.0f}"),
        ("Divergent transitions", f"{d['divergences']} of {d['draws']}", f"at most {DIVERGENCES_MAX}"),
        ("Observed search rates inside 95% predictive interval", f"{ppc['search_coverage']:.0%}", ">= 80%"),
        ("Observed hit rates inside 95% predictive interval", f"{ppc['hit_coverage']:.0%}", ">= 80%"),
        ("Mean absolute error, search rate (stop-weighted)", f"{ppc['search_rate_mae_pp']:.2f} pp", ""),
        ("Mean absolute error, hit rate (search-weighted)", f"{ppc['hit_rate_mae_pp']:.2f} pp", ""),
        ("Agencies / agency-race cells", f"{d['agencies']} / {d['cells']}", f">= {d['min_searches']} searches"),
        ("Chains x draws (after warm-up)", f"{d['chains']} x {d['samples']} ({d['warmup']} warm-up)", ""),
        ("Sampling time", f"{d['seconds']:.0f} s on {d['cores']} cores (load {d['load_average'][0]})", ""),
        ("Library", d["library"], ""),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value", "criterion"])


def report_diagnostics(ctx, result: ThresholdFit) -> pd.DataFrame:
    """The convergence table; raises if the cached fit did not converge or fails its predictive check."""
    from heartbeats_analysis.analysis import save_table

    check_convergence(result.diagnostics)
    if not result.diagnostics["ppc"]["passes"]:
        raise ThresholdConvergenceError(f"The posterior predictive check failed: {result.diagnostics['ppc']}")
    table = diagnostics_table(result)
    save_table(ctx, table, "threshold_diagnostics")
    return table


def _stopped_in(row, n: int) -> str:
    """ "; 288 of them stopped Hispanic drivers" when a race's cells cover fewer agencies than the model."""
    return f"; {row.agencies} of them stopped {RACE_WORDS[row.race]} drivers" if row.agencies < n else ""


def report_state(ctx, result: ThresholdFit) -> pd.DataFrame:
    """Missouri's stop-weighted average threshold by race: stops.threshold_state_<race>."""
    from heartbeats_analysis.analysis import save_table

    n = int(result.diagnostics["agencies"])
    for row in result.state.itertuples():
        ctx.claims.record(
            f"stops.threshold_state_{row.race}",
            float(row.threshold),
            "probability",
            f"Across the {n} Missouri agencies with at least {MIN_SEARCHES} searches each of white and of Black "
            f"drivers ({YEARS_LABEL}{_stopped_in(row, n)}), the model estimates that officers searched "
            f"{RACE_WORDS[row.race]} drivers once the "
            "chance "
            f"of finding contraband passed about {_pct(row.threshold)} on average (95% credible interval "
            f"{_pct(row.threshold_lower)} to {_pct(row.threshold_upper)}; agencies weighted by their stops)"
            f"{_level_span(result, row.race)}.",
            interval=(float(row.threshold_lower), float(row.threshold_upper)),
            interval_kind=INTERVAL_KIND,
            n=n,
            source=SOURCE,
            function=_model_fn("summarise"),
            notebook=ctx.notebook,
        )
    black = result.state.set_index("race").loc["black"]
    verdict = gap_verdict(black, robustness(result, "missouri"), "")
    ctx.claims.record(
        "stops.threshold_state_black_white_diff",
        float(black["difference"]),
        "difference in probability",
        f"Among the {n} local agencies in the model (the Highway Patrol and agencies with fewer than "
        f"{MIN_SEARCHES} searches of white or of Black drivers in {YEARS_LABEL} are left out), "
        f"{_gap_sentence(black, verdict)}; agencies are weighted by their stops, and these counts mix searches "
        "officers chose to make with inventory and arrest searches.",
        interval=(float(black["difference_lower"]), float(black["difference_upper"])),
        interval_kind=INTERVAL_KIND,
        n=n,
        source=SOURCE,
        function=_model_fn("summarise"),
        flags=verdict.flags,
        notebook=ctx.notebook,
    )
    save_table(ctx, result.state, "threshold_state")
    return result.state


# --- how far the answer moves with the model (the stored sensitivity check) ----------------------------------


def load_sensitivity() -> pd.DataFrame:
    """The stored sensitivity run (``python -m heartbeats_analysis.analysis.threshold_model --sensitivity``)."""
    from heartbeats_analysis.paths import RESOURCES_DIR

    return pd.read_csv(RESOURCES_DIR / threshold_model.SENSITIVITY_FILE)


def converged_variants(runs: pd.DataFrame) -> pd.Series:
    """Per variant, whether its refit met the same convergence rule as the main fit."""
    first = runs.groupby("variant", sort=False)[["max_rhat", "min_ess_bulk", "divergences"]].first()
    return (first["max_rhat"] <= RHAT_MAX) & (first["min_ess_bulk"] >= ESS_MIN) & (first["divergences"] == 0)


def same_inputs(runs: pd.DataFrame, result: ThresholdFit) -> bool:
    """Whether the stored refits were run on the stops counts and the model code of this fit."""
    return all(runs[key].iloc[0] == result.diagnostics.get(key) for key in ("stops_fingerprint", "model_fingerprint"))


def usable_runs(result: ThresholdFit) -> pd.DataFrame:
    """The stored variants' rows that can qualify this fit: converged, and run on the same stops counts (none
    otherwise)."""
    runs = load_sensitivity()
    if not same_inputs(runs, result):
        return runs.iloc[0:0]
    return runs[runs["variant"].map(converged_variants(runs)).fillna(False).astype(bool)]


def _level_span(result: ThresholdFit, race: str) -> str:
    """The clause naming a statewide threshold's range over the converged model versions: its level moves with
    the model even where the gap's sign does not."""
    runs = usable_runs(result)
    rows = runs[(runs["scope"] == "missouri") & (runs["quantity"] == f"{race} threshold")]
    if rows.empty:
        return ""
    return (
        f", in the main version of the model (all converged versions: {_pct(rows['estimate'].min())} to "
        f"{_pct(rows['estimate'].max())})"
    )


@dataclass(frozen=True)
class Robustness:
    """A Black-white gap across the converged model versions (the main fit among them)."""

    low: float
    high: float
    all_below: bool  # every version's 95% interval lies below zero
    all_above: bool
    any_excludes_zero: bool  # some version's interval lies on one side of zero

    @property
    def span(self) -> str:
        return f"{self.low * 100:+.1f} to {self.high * 100:+.1f} points"


def robustness(result: ThresholdFit, scope: str) -> Robustness | None:
    """The gap's range over the stored versions for ``scope`` ("missouri" or an agency slug); None when the check
    was run on other stops data or another model, or does not cover the scope."""
    runs = usable_runs(result)
    rows = runs[(runs["scope"] == scope) & (runs["quantity"] == "black minus white")]
    if rows.empty:
        return None
    below, above = rows["upper"] < 0, rows["lower"] > 0
    return Robustness(
        float(rows["estimate"].min()),
        float(rows["estimate"].max()),
        bool(below.all()),
        bool(above.all()),
        bool((below | above).any()),
    )


@dataclass(frozen=True)
class GapVerdict:
    kind: str  # "lower", "higher", "model-dependent", "unclear"
    text: str
    flags: list
    reading: str = ""  # what the test makes of it, after the numbers


def gap_verdict(gap: pd.Series, robust: Robustness | None, where: str) -> GapVerdict:
    """What a Black-white threshold gap says, from its credible interval AND its agreement across model versions:
    a direction is stated only when the main fit's interval excludes zero and every converged version's interval
    lies on the same side. When some version excludes zero but they do not all agree, the answer depends on the
    model, not on too little data, and the verdict says so."""
    below, above = gap["difference_upper"] < 0, gap["difference_lower"] > 0
    where = f" {where}" if where else ""
    if robust is None:
        caveat = "(the check of how this moves with the model was not run on this data and model)"
        if below:
            return GapVerdict(
                "lower", f"the model estimates a lower bar for Black drivers{where} {caveat}", ["unchecked"]
            )
        if above:
            return GapVerdict(
                "higher", f"the model estimates a higher bar for Black drivers{where} {caveat}", ["unchecked"]
            )
        return GapVerdict(
            "unclear", f"the data cannot tell which group faced the lower bar{where} {caveat}", ["unchecked"]
        )
    if below and robust.all_below:
        return GapVerdict(
            "lower",
            f"every version of the model estimates a lower search bar for Black than for white drivers{where}, by "
            f"{-robust.high * 100:.1f} to {-robust.low * 100:.1f} points depending on the version (each 95% credible "
            "interval below zero)",
            [],
            "the threshold test reads a lower bar as a sign of bias",
        )
    if above and robust.all_above:
        return GapVerdict(
            "higher",
            f"every version of the model estimates a higher search bar for Black than for white drivers{where}, by "
            f"{robust.low * 100:.1f} to {robust.high * 100:.1f} points depending on the version (each 95% credible "
            "interval above zero)",
            [],
            "so this test finds no sign that Black drivers were searched on less evidence",
        )
    if robust.any_excludes_zero:
        return GapVerdict(
            "model-dependent",
            f"the versions of the model disagree{where}: the gap between the bars for Black and white drivers runs "
            f"from {robust.span} across them, and at least one version's 95% credible interval excludes zero, so "
            "the threshold test cannot settle which group faced the lower bar",
            ["model_dependent"],
        )
    return GapVerdict(
        "unclear",
        f"no version of the model can tell which group faced the lower bar{where} (gaps from {robust.span}, every "
        "95% credible interval including zero)",
        [],
    )


STATE_SCOPE = "across Missouri's local agencies"


def _gap_sentence(gap: pd.Series, verdict: GapVerdict) -> str:
    """The verdict, then the main version's estimate: a gap whose direction is not settled does not lead with it."""
    main = (
        f"main version: {gap['difference'] * 100:+.1f} points, 95% credible interval "
        f"{gap['difference_lower'] * 100:+.1f} to {gap['difference_upper'] * 100:+.1f}"
    )
    # One parenthesis, not two side by side, when the verdict ends with its own.
    text = f"{verdict.text[:-1]}; {main})" if verdict.text.endswith(")") else f"{verdict.text} ({main})"
    return text + (f"; {verdict.reading}" if verdict.reading else "")


EXPLAIN_METHOD = (
    "The threshold test estimates how sure officers had to be that a driver carried contraband before they searched; "
    "a lower bar for Black drivers than for white drivers would be a sign of bias that comparing search rates or "
    "hit rates alone can miss."
)


def explain(ctx, result: ThresholdFit, name: str, verdict: GapVerdict | None, reason: str, common: dict) -> None:
    """stops.threshold_explained: the result in two plain sentences (how the test works; what it found here)."""
    if verdict is None:
        state = robustness(result, "missouri")
        black = result.state.set_index("race").loc["black"]
        statewide = gap_verdict(black, state, STATE_SCOPE)
        finding = (
            f"The test could not be run for {name} ({reason}); {statewide.text}"
            + (f"; {statewide.reading}" if statewide.reading else "")
            + "."
        )
    else:
        finding = verdict.text + (f"; {verdict.reading}" if verdict.reading else "") + "."
    ctx.claims.record(
        "stops.threshold_explained",
        "no data" if verdict is None else verdict.kind,
        "text",
        f"{EXPLAIN_METHOD} {_capitalised(finding)}",
        function=_fn("explain"),
        flags=["no_data"] if verdict is None else verdict.flags,
        **common,
    )


def report_agency(ctx, result: ThresholdFit, agencies: pd.DataFrame, agency: str) -> pd.DataFrame:
    """The agency's thresholds and its Black-white difference, or why it is not in the model."""
    from heartbeats_analysis.analysis import listed_name, police_of, save_table

    name = listed_name(agencies, agency)
    row = result.inclusion[result.inclusion["agency_slug"] == agency]
    white_n = int(row["white_searches"].iloc[0]) if len(row) else 0
    black_n = int(row["black_searches"].iloc[0]) if len(row) else 0
    included = bool(row["included"].iloc[0]) if len(row) else False
    searches = f"{black_n:,} searches of Black and {white_n:,} of white drivers in {YEARS_LABEL}"
    all_hits = bool(row["every_search_found_contraband"].iloc[0]) if len(row) else False
    state_patrol = bool(row["state_patrol"].iloc[0]) if len(row) else False
    reason = (
        "the model covers local departments, not the statewide highway patrol"
        if state_patrol
        else "every search of white or of Black drivers was reported as finding contraband, which the model cannot "
        "estimate from"
        if all_hits
        else f"the model needs at least {MIN_SEARCHES} of each"
    )
    common = dict(source=SOURCE, notebook=ctx.notebook)
    ctx.claims.record(
        "stops.threshold_agency_included",
        "yes" if included else "no",
        "yes/no",
        (
            f"{name} is in the threshold model ({searches}; the rule is at least {MIN_SEARCHES} of each)."
            if included
            else f"{name} is not in the threshold model: it reported {searches}, and {reason}, so no threshold is "
            "estimated for it."
        ),
        n=white_n + black_n,
        function=_model_fn("inclusion"),
        **common,
    )
    ids = ["stops.threshold_agency_white", "stops.threshold_agency_black", "stops.threshold_black_white_diff"]
    if not included:
        for claim_id in ids:
            ctx.claims.record(
                claim_id,
                None,
                "probability",
                f"Not available for {name}: the threshold test could not be run ({searches}; {reason}).",
                function=_model_fn("inclusion"),
                flags=["no_data"],
                **common,
            )
        explain(ctx, result, name, None, f"{searches}; {reason}", common)
        return row
    small = min(white_n, black_n) < 3 * MIN_SEARCHES
    flags = ["small_cell"] if small else []
    cells = result.thresholds[result.thresholds["agency_slug"] == agency].set_index("race")
    for race in ("white", "black"):
        cell = cells.loc[race]
        ctx.claims.record(
            f"stops.threshold_agency_{race}",
            float(cell["threshold"]),
            "probability",
            f"The model estimates that {police_of(name)} searched {RACE_WORDS[race]} drivers once the "
            f"chance of finding contraband passed about {_pct(cell['threshold'])} (95% credible interval "
            f"{_pct(cell['threshold_lower'])} to {_pct(cell['threshold_upper'])}; {int(cell['searches']):,} searches "
            f"in {YEARS_LABEL}).",
            interval=(float(cell["threshold_lower"]), float(cell["threshold_upper"])),
            interval_kind=INTERVAL_KIND,
            n=int(cell["searches"]),
            function=_model_fn("summarise"),
            flags=flags,
            **common,
        )
    diff = result.differences[(result.differences["agency_slug"] == agency) & (result.differences["race"] == "black")]
    d = diff.iloc[0]
    verdict = gap_verdict(d, robustness(result, agency), f"in {name}")
    sentence = _capitalised(_gap_sentence(d, verdict)) + "."
    if small:
        sentence += (
            f" The estimate rests on only {min(white_n, black_n)} searches of "
            f"{'white' if white_n <= black_n else 'Black'} drivers, so the interval is wide and leans on the "
            "statewide model."
        )
    ctx.claims.record(
        "stops.threshold_black_white_diff",
        float(d["difference"]),
        "difference in probability",
        sentence,
        interval=(float(d["difference_lower"]), float(d["difference_upper"])),
        interval_kind=INTERVAL_KIND,
        n=white_n + black_n,
        function=_model_fn("summarise"),
        flags=flags + verdict.flags,
        **common,
    )
    explain(ctx, result, name, verdict, searches, common)
    table = cells.reset_index()
    save_table(ctx, table, "threshold_agency")
    return table


def _gap_range(rows: pd.DataFrame) -> str:
    low, high = rows["estimate"].min() * 100, rows["estimate"].max() * 100
    sign = (
        "below zero in every version"
        if (rows["upper"] < 0).all()
        else "above zero in every version"
        if (rows["lower"] > 0).all()
        else "its sign depends on the version"
        if low < 0 < high
        else "not clearly different from zero in some versions"
    )
    return f"{low:+.1f} to {high:+.1f} points ({sign})"


def report_sensitivity(ctx, result: ThresholdFit, agencies: pd.DataFrame, agency: str) -> pd.DataFrame:
    """stops.threshold_model_sensitivity: how far Missouri's and the agency's Black-white gaps move across the
    model versions (each a full refit), which version moves them most, and whether each refit converged."""
    from heartbeats_analysis.analysis import listed_name, save_table

    runs = load_sensitivity()
    name = listed_name(agencies, agency)
    ok = converged_variants(runs)
    gaps = runs[runs["quantity"] == "black minus white"]
    table = gaps[gaps["scope"].isin(["missouri", agency])].assign(
        scope=lambda t: t["scope"].map({"missouri": "Missouri"}).fillna(name)
    )
    usable = table[table["variant"].map(ok).astype(bool)]
    state = usable[usable["scope"] == "Missouri"]
    here = usable[usable["scope"] == name]
    moved = state.assign(shift=(state["estimate"] - state.loc[state["variant"] == "main", "estimate"].iloc[0]).abs())
    furthest = moved.sort_values("shift").iloc[-1]["variant"]
    sentence = (
        f"Refitted under {len(ok)} versions of the model ({int(ok.sum())} converged), Missouri's average Black-white "
        f"gap in search thresholds ranged from {_gap_range(state)}"
        + (f", and {name}'s from {_gap_range(here)}" if len(here) else f"; {name} is not in the model")
        + f"; the version that moved the state's gap most was \u201c{furthest}\u201d."
    )
    if not ok.all():
        sentence += f" Not converged, so not counted: {', '.join(ok.index[~ok])}."
    flags = []
    if not same_inputs(runs, result):
        sentence += " These refits were run on other stops data or another version of the model; rerun the check."
        flags.append("stale")
    ctx.claims.record(
        "stops.threshold_model_sensitivity",
        "checked",
        "text",
        sentence,
        source=[f"resources/{threshold_model.SENSITIVITY_FILE}"],
        function=_model_fn("prior_sensitivity"),
        flags=flags,
        notebook=ctx.notebook,
    )
    save_table(ctx, table, "threshold_sensitivity")
    return table


def report_peers(ctx, result: ThresholdFit, agencies: pd.DataFrame, peers: list[str]) -> pd.DataFrame:
    """The peers' Black-white threshold differences (those in the model), as a table."""
    from heartbeats_analysis.analysis import listed_name, save_table

    diffs = result.differences[(result.differences["race"] == "black") & result.differences["agency_slug"].isin(peers)]
    table = diffs.assign(name=[listed_name(agencies, a) for a in diffs["agency_slug"]])
    missing = [p for p in peers if p not in set(diffs["agency_slug"])]
    table = pd.concat(
        [table, pd.DataFrame({"agency_slug": missing, "name": [listed_name(agencies, a) for a in missing]})],
        ignore_index=True,
    )
    save_table(ctx, table, "threshold_peers")
    return table


def figure_thresholds(ctx, result: ThresholdFit, agencies: pd.DataFrame, agency: str):
    """The paper's chart: each agency's white threshold (x) against its Black threshold (y), sized by stops."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.analysis import listed_name
    from heartbeats_analysis.report.style import AGENCY_COLOUR, PEER_COLOUR, apply_style, save_figure

    wide = result.thresholds.pivot_table(index="agency_slug", columns="race", values=["threshold", "stops"])
    data = pd.DataFrame(
        {
            "agency_slug": wide.index,
            "white_threshold": wide[("threshold", "white")].to_numpy(),
            "black_threshold": wide[("threshold", "black")].to_numpy(),
            "stops": wide["stops"].sum(axis=1).to_numpy(),
        }
    )
    apply_style()
    fig, ax = plt.subplots(figsize=(6, 6))
    size = 10 + 190 * np.sqrt(data["stops"] / data["stops"].max())
    ax.scatter(data["white_threshold"], data["black_threshold"], s=size, color=PEER_COLOUR, alpha=0.45, lw=0)
    top = float(max(data["white_threshold"].max(), data["black_threshold"].max())) * 1.05
    ax.plot([0, top], [0, top], color="black", lw=0.8, ls="--")
    name = listed_name(agencies, agency)
    here = data[data["agency_slug"] == agency]
    if len(here):
        ax.scatter(here["white_threshold"], here["black_threshold"], s=90, color=AGENCY_COLOUR, zorder=3)
        ax.annotate(
            name,
            (here["white_threshold"].iloc[0], here["black_threshold"].iloc[0]),
            xytext=(6, 6),
            textcoords="offset points",
            color=AGENCY_COLOUR,
        )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("Search threshold, white drivers")
    ax.set_ylabel("Search threshold, Black drivers")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    below = int((data["black_threshold"] < data["white_threshold"]).sum())
    alt = (
        f"Scatter of {len(data)} Missouri agencies' estimated search thresholds ({YEARS_LABEL}), white drivers "
        f"across, Black drivers up; {below} of them lie below the diagonal (a lower bar for Black drivers)."
        + (f" {name} is highlighted." if len(here) else f" {name} is not in the model.")
    )
    return save_figure(
        fig,
        f"{ctx.notebook}-thresholds",
        title="Search thresholds by agency, white vs Black drivers (main model version)",
        data=data,
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_thresholds"),
        out_dir=ctx.figures_dir,
    )


def figure_ppc(ctx, result: ThresholdFit):
    """Posterior predictive check: predicted against observed search and hit rates, one dot per agency-race."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.report.style import PEER_COLOUR, apply_style, save_figure

    ppc = result.ppc
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
    for ax, rate in zip(axes, ("search", "hit"), strict=True):
        obs, pred = ppc[f"observed_{rate}_rate"], ppc[f"predicted_{rate}_rate"]
        ax.scatter(obs, pred, s=8, color=PEER_COLOUR, alpha=0.5, lw=0)
        top = float(np.nanmax([obs.max(), pred.max()])) * 1.05
        ax.plot([0, top], [0, top], color="black", lw=0.8, ls="--")
        ax.set_xlabel(f"Observed {rate} rate")
        ax.set_ylabel(f"Predicted {rate} rate")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    summary = result.diagnostics["ppc"]
    return save_figure(
        fig,
        f"{ctx.notebook}-ppc",
        title="Posterior predictive check: the model reproduces observed search and hit rates",
        data=ppc,
        alt_text=(
            f"Two scatters of predicted against observed rates for {len(ppc)} agency-race cells; "
            f"{summary['search_coverage']:.0%} of search rates and {summary['hit_coverage']:.0%} of hit rates fall "
            "inside their 95% predictive intervals."
        ),
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_ppc"),
        out_dir=ctx.figures_dir,
    )
