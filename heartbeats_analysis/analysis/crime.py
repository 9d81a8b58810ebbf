"""Reported crime: violent and property crime counts and rates per 1,000 residents for an agency,
its peers and Missouri, and an interrupted time series around August 2014 and the 2016 Consent Decree.

Sources: crime.csv (FBI UCR offenses known to police, processed by Jacob Kaplan; the FBI moved to
NIBRS in 2021, so 2021 onward is not comparable with earlier years) and state_crime.csv (FBI state
estimates, which end in 2019).

The model (documented in docs/decisions.md, "Crime"): yearly counts with log(population) as offset,
``count ~ years_since_2014 + post_2014 + post_2016`` fitted by :func:`stats.fit_rate_glm` (Poisson,
negative binomial if overdispersed). A year counts as "after" an event if most of it falls after the
event: August 2014 -> from 2015; the decree (approved March 2016) -> from 2016. Years from 2021 (NIBRS)
are left out unless ``include_nibrs_years`` is set, in which case a NIBRS level term absorbs the break.
The rate ratios describe an association in one city over a few years, not a causal effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from heartbeats_analysis.analysis import (
    Findings,
    NoData,
    ShownFigure,
    display_name,
    every_year,
    plot_values,
    record_claim,
)
from heartbeats_analysis.analysis.stats import (
    Estimate,
    RateModel,
    fit_rate_glm,
    format_estimate,
    format_interval,
    format_number,
    format_ratio_change,
    poisson_rate_ci,
    rate_ratio,
)
from heartbeats_analysis.ingest.sources.base import SMALL_CELL_THRESHOLD
from heartbeats_analysis.report.claims import Claim
from heartbeats_analysis.report.notebook_io import NotebookContext
from heartbeats_analysis.report.style import (
    AGENCY_COLOUR,
    PEER_COLOUR,
    REFERENCE_COLOUR,
    apply_style,
    save_figure,
)

TABLE = "crime"
OUTCOMES = {"violent": "violent crime", "property": "property crime"}
COUNTED = {"violent": "violent crimes", "property": "property crimes"}
SOURCE = ["crime.csv", "FBI Uniform Crime Reporting Program, offenses known to police, processed by Jacob Kaplan"]
STATE_SOURCE = ["state_crime.csv", "FBI Crime Data Explorer, estimated crimes by state, 1979-2019"]
SOURCE_LINE = "FBI UCR offenses known (Jacob Kaplan's files), crime.csv; FBI state estimates, state_crime.csv"
MODULE = "heartbeats_analysis.analysis.crime"

MODEL_START_YEAR = 2000
CHART_START_YEAR = 2000
NIBRS_START_YEAR = 2021
FIRST_YEAR_AFTER_AUGUST_2014 = 2015  # August 2014: most of 2014 came before the events
FIRST_YEAR_OF_CONSENT_DECREE = 2016  # approved 2016-03-15: most of 2016 falls under the decree
TREND_ORIGIN = 2014
STATE = "MO"
MIN_YEARS_BEFORE = 3
PER = 1000


@dataclass(frozen=True)
class LatestRate:
    outcome: str
    year: int
    count: int
    population: int
    rate: Estimate  # per 1,000 residents, exact Garwood interval
    nibrs_era: bool

    @property
    def small_cell(self) -> bool:
        return self.count < SMALL_CELL_THRESHOLD


@dataclass(frozen=True)
class PeerRate:
    year: int
    median: float
    low: float
    high: float
    peers_reporting: int


@dataclass
class CrimeAnalysis:
    agency: str
    name: str
    peers: list[str]
    series: pd.DataFrame  # agency rows, every year from its first report to the table's last year
    peer_rates: pd.DataFrame  # year, <outcome>_median/_q25/_q75, peers_reporting
    state: pd.DataFrame  # Missouri rows (year, population, violent, property, *_per_1000)
    model_start_year: int
    model_end_year: int
    include_nibrs_years: bool
    its_data: pd.DataFrame
    models: dict[str, RateModel | NoData] = field(default_factory=dict)
    peer_models: dict[str, RateModel | NoData] = field(default_factory=dict)
    latest: dict[str, LatestRate | None] = field(default_factory=dict)
    peer_latest: dict[str, PeerRate | None] = field(default_factory=dict)
    versus_state: dict[str, tuple[int, Estimate] | None] = field(default_factory=dict)


# --- pure analysis ----------------------------------------------------------------------------


def agency_series(crime: pd.DataFrame, agency: str) -> pd.DataFrame | NoData:
    """The agency's rows with every year present (gaps as <NA>), or NoData if it never reported."""
    rows = crime[crime["agency_slug"] == agency]
    if rows.empty or rows[list(OUTCOMES)].notna().any(axis=1).sum() == 0:
        return NoData(agency, TABLE, "the FBI crime data hold no reports for this agency")
    series = every_year(rows, int(crime["year"].max()))
    series["nibrs_era"] = series["year"] >= NIBRS_START_YEAR
    return series


def peer_rates(crime: pd.DataFrame, peers: list[str]) -> pd.DataFrame:
    """Median and interquartile range of each rate across the peers that reported in each year."""
    rows = crime[crime["agency_slug"].isin(peers)]
    parts = []
    for outcome in OUTCOMES:
        column = f"{outcome}_per_1000"
        values = rows.dropna(subset=[column]).assign(**{column: lambda f, c=column: f[c].astype("float64")})
        grouped = values.groupby("year")[column]
        parts.append(
            pd.DataFrame(
                {
                    f"{outcome}_median": grouped.median(),
                    f"{outcome}_q25": grouped.quantile(0.25),
                    f"{outcome}_q75": grouped.quantile(0.75),
                    f"{outcome}_min": grouped.min(),
                    f"{outcome}_max": grouped.max(),
                    f"{outcome}_peers_reporting": grouped.size().astype("int64"),
                }
            )
        )
    if not parts or all(p.empty for p in parts):
        return pd.DataFrame(columns=["year"])
    return pd.concat(parts, axis=1).reset_index().sort_values("year", kind="stable").reset_index(drop=True)


def state_rates(state_crime: pd.DataFrame | None, state: str = STATE) -> pd.DataFrame:
    columns = ["year", "population", *OUTCOMES, *(f"{o}_per_1000" for o in OUTCOMES)]
    if state_crime is None or state_crime.empty:
        return pd.DataFrame(columns=columns)
    rows = state_crime[state_crime["state_abbr"] == state][columns]
    return rows.sort_values("year", kind="stable").reset_index(drop=True)


def its_frame(
    series: pd.DataFrame, start_year: int = MODEL_START_YEAR, include_nibrs_years: bool = False
) -> pd.DataFrame:
    """One row per modelled year: counts, population, years since 2014 and the event indicators."""
    rows = series[series["year"] >= start_year]
    if not include_nibrs_years:
        rows = rows[rows["year"] < NIBRS_START_YEAR]
    rows = rows[rows["population"].notna()]
    frame = pd.DataFrame(
        {
            "year": rows["year"].astype("int64"),
            "population": rows["population"].astype("float64"),
            **{outcome: rows[outcome].astype("Float64").astype("float64") for outcome in OUTCOMES},
            "years_since_2014": (rows["year"] - TREND_ORIGIN).astype("float64"),
            "post_2014": (rows["year"] >= FIRST_YEAR_AFTER_AUGUST_2014).astype("float64"),
            "post_2016": (rows["year"] >= FIRST_YEAR_OF_CONSENT_DECREE).astype("float64"),
            "nibrs_era": (rows["year"] >= NIBRS_START_YEAR).astype("float64"),
        }
    )
    return frame.reset_index(drop=True)


def its_formula(outcome: str, include_nibrs_years: bool = False, by_agency: bool = False) -> str:
    terms = ["years_since_2014", "post_2014", "post_2016"]
    if include_nibrs_years:
        terms.append("nibrs_era")
    if by_agency:
        terms.insert(0, "C(agency_slug)")
    return f"{outcome} ~ " + " + ".join(terms)


def _its_problem(frame: pd.DataFrame, outcome: str) -> str | None:
    """Why the two-break model cannot be fitted to these rows, or None if it can."""
    present = frame.dropna(subset=[outcome])
    before = (present["year"] < FIRST_YEAR_AFTER_AUGUST_2014).sum()
    if before < MIN_YEARS_BEFORE:
        return (
            f"only {before} reported year(s) before {FIRST_YEAR_AFTER_AUGUST_2014} (at least {MIN_YEARS_BEFORE} needed)"
        )
    if not (present["year"] == FIRST_YEAR_AFTER_AUGUST_2014).any():
        return f"no report for {FIRST_YEAR_AFTER_AUGUST_2014}, so the two changes cannot be told apart"
    if not (present["year"] >= FIRST_YEAR_OF_CONSENT_DECREE).any():
        return f"no report from {FIRST_YEAR_OF_CONSENT_DECREE} on"
    return None


def fit_its(frame: pd.DataFrame, outcome: str, agency: str, include_nibrs_years: bool = False) -> RateModel | NoData:
    problem = _its_problem(frame, outcome)
    if problem:
        return NoData(agency, TABLE, f"the {OUTCOMES[outcome]} model needs more years: {problem}")
    if include_nibrs_years and not (frame.dropna(subset=[outcome])["nibrs_era"] > 0).any():
        include_nibrs_years = False
    return fit_rate_glm(frame, its_formula(outcome, include_nibrs_years), offset="population")


def fit_peer_its(
    crime: pd.DataFrame, peers: list[str], outcome: str, start_year: int, include_nibrs_years: bool
) -> RateModel | NoData:
    """The same model pooled over the peers, with one intercept per department: did the same shift
    happen next door?"""
    frames = []
    for peer in sorted(peers):
        series = agency_series(crime, peer)
        if isinstance(series, NoData):
            continue
        frame = its_frame(series, start_year, include_nibrs_years).dropna(subset=[outcome])
        present_before = (frame["year"] < FIRST_YEAR_AFTER_AUGUST_2014).sum()
        if present_before >= MIN_YEARS_BEFORE and (frame["year"] >= FIRST_YEAR_AFTER_AUGUST_2014).any():
            frames.append(frame.assign(agency_slug=peer))
    if len(frames) < 2:
        return NoData("peers", TABLE, "fewer than two peer departments reported before and after 2014")
    pooled = pd.concat(frames, ignore_index=True)
    use_nibrs = include_nibrs_years and bool((pooled["nibrs_era"] > 0).any())
    return fit_rate_glm(pooled, its_formula(outcome, use_nibrs, by_agency=True), offset="population")


def latest_rate(series: pd.DataFrame, outcome: str) -> LatestRate | None:
    present = series.dropna(subset=[outcome, "population"])
    if present.empty:
        return None
    row = present.iloc[-1]
    count, population = int(row[outcome]), int(row["population"])
    return LatestRate(
        outcome,
        int(row["year"]),
        count,
        population,
        poisson_rate_ci(count, population, per=PER),
        bool(row["year"] >= NIBRS_START_YEAR),
    )


def peer_rate_in(peer_rates_frame: pd.DataFrame, outcome: str, year: int) -> PeerRate | None:
    if f"{outcome}_median" not in peer_rates_frame:
        return None
    match = peer_rates_frame[peer_rates_frame["year"] == year].dropna(subset=[f"{outcome}_median"])
    if match.empty:
        return None
    row = match.iloc[0]
    return PeerRate(
        year,
        float(row[f"{outcome}_median"]),
        float(row[f"{outcome}_min"]),
        float(row[f"{outcome}_max"]),
        int(row[f"{outcome}_peers_reporting"]),
    )


def compare_to_state(series: pd.DataFrame, state: pd.DataFrame, outcome: str) -> tuple[int, Estimate] | None:
    """Rate ratio of the agency to Missouri in the latest year both have (exact conditional)."""
    own = series.dropna(subset=[outcome, "population"])
    theirs = state.dropna(subset=[outcome, "population"])
    common = sorted(set(own["year"]).intersection(theirs["year"]))
    if not common:
        return None
    year = common[-1]
    a = own[own["year"] == year].iloc[0]
    b = theirs[theirs["year"] == year].iloc[0]
    return year, rate_ratio(int(a[outcome]), float(a["population"]), int(b[outcome]), float(b["population"]))


def analyse_crime(
    crime: pd.DataFrame,
    state_crime: pd.DataFrame | None,
    agencies: pd.DataFrame | None,
    agency: str,
    peers: list[str],
    model_start_year: int = MODEL_START_YEAR,
    include_nibrs_years: bool = False,
) -> CrimeAnalysis | NoData:
    series = agency_series(crime, agency)
    if isinstance(series, NoData):
        return replace(series, name=display_name(agencies, agency))
    peers = [p for p in peers if p != agency]
    rates = peer_rates(crime, peers)
    state = state_rates(state_crime)
    frame = its_frame(series, model_start_year, include_nibrs_years)
    analysis = CrimeAnalysis(
        agency=agency,
        name=display_name(agencies, agency),
        peers=peers,
        series=series,
        peer_rates=rates,
        state=state,
        model_start_year=model_start_year,
        model_end_year=int(frame["year"].max()) if len(frame) else model_start_year,
        include_nibrs_years=include_nibrs_years,
        its_data=frame,
    )
    for outcome in OUTCOMES:
        analysis.models[outcome] = fit_its(frame, outcome, agency, include_nibrs_years)
        analysis.peer_models[outcome] = fit_peer_its(crime, peers, outcome, model_start_year, include_nibrs_years)
        latest = latest_rate(series, outcome)
        analysis.latest[outcome] = latest
        analysis.peer_latest[outcome] = peer_rate_in(rates, outcome, latest.year) if latest else None
        analysis.versus_state[outcome] = compare_to_state(series, state, outcome)
    return analysis


def rates_table(analysis: CrimeAnalysis | NoData, start_year: int = CHART_START_YEAR) -> pd.DataFrame:
    """Year-by-year counts and rates for the agency beside the peer median and Missouri."""
    if isinstance(analysis, NoData):
        return pd.DataFrame({"note": [f"No crime data: {analysis.reason}."]})
    own = analysis.series[analysis.series["year"] >= start_year][
        ["year", "population", "violent", "property", "violent_per_1000", "property_per_1000", "nibrs_era"]
    ]
    peers = analysis.peer_rates.reindex(columns=["year", "violent_median", "property_median"]).rename(
        columns={"violent_median": "peer_violent_per_1000", "property_median": "peer_property_per_1000"}
    )
    state = analysis.state[["year", "violent_per_1000", "property_per_1000"]].rename(
        columns={"violent_per_1000": "missouri_violent_per_1000", "property_per_1000": "missouri_property_per_1000"}
    )
    table = own.merge(peers, on="year", how="left").merge(state, on="year", how="left")
    rate_columns = [c for c in table.columns if c.endswith("per_1000")]
    return table.astype({c: "float64" for c in rate_columns}).round({c: 2 for c in rate_columns}).reset_index(drop=True)


def model_table(analysis: CrimeAnalysis | NoData) -> pd.DataFrame:
    """Every fitted model's rate ratios: outcome, scope (agency or pooled peers), model, term."""
    if isinstance(analysis, NoData):
        return pd.DataFrame({"note": [f"No crime models: {analysis.reason}."]})
    parts = []
    for scope, models in (("agency", analysis.models), ("peers pooled", analysis.peer_models)):
        for outcome, model in models.items():
            if isinstance(model, RateModel):
                table = model.table[~model.table["term"].str.startswith("C(")]
                parts.append(table.assign(outcome=outcome, scope=scope, n=model.n, dispersion=model.dispersion))
    if not parts:
        return pd.DataFrame({"note": ["No model could be fitted: too few reported years."]})
    table = pd.concat(parts, ignore_index=True)
    first = ["outcome", "scope", "n", "dispersion"]
    return table[first + [c for c in table.columns if c not in first]].round(4)


# --- reporting: claims ------------------------------------------------------------------------


_record = partial(record_claim, module=MODULE, source=SOURCE)


def report_no_data(ctx: NotebookContext, analysis: NoData) -> Findings:
    name = analysis.label
    return Findings(
        (
            _record(
                ctx,
                "crime.no_data",
                None,
                "",
                f"There are no reported-crime numbers for {name}: {analysis.reason}, so this section cannot describe "
                "crime there.",
                "analyse_crime",
                flags=["no_data"],
            ),
        )
    )


def _agency_count(analysis: CrimeAnalysis, outcome: str, year: int) -> int:
    return int(analysis.series.loc[analysis.series["year"] == year, outcome].iloc[0])


def _nibrs_note(year: int) -> str:
    return (
        (
            f" {year} is a NIBRS-era year: the FBI changed how crimes are counted in {NIBRS_START_YEAR}, so it is not "
            "directly comparable with earlier years."
        )
        if year >= NIBRS_START_YEAR
        else ""
    )


def report_levels(ctx: NotebookContext, analysis: CrimeAnalysis | NoData) -> Findings:
    """Latest rates with exact intervals, beside the peer median and Missouri."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    claims: list[Claim] = []
    name = analysis.name
    for outcome, label in OUTCOMES.items():
        latest = analysis.latest[outcome]
        if latest is None:
            continue
        flags = ["nibrs_era"] if latest.nibrs_era else []
        if latest.small_cell:
            flags.append("small_cell")
            sentence = (
                f"In {latest.year}, {name} recorded {latest.count} {COUNTED[outcome]}: too few to read a "
                "reliable rate from."
            )
        else:
            sentence = (
                f"In {latest.year}, the latest year of FBI data, {name} recorded {format_number(latest.count, 0)} "
                f"{COUNTED[outcome]}, {format_estimate(latest.rate, 1)} per 1,000 residents." + _nibrs_note(latest.year)
            )
        claims.append(
            _record(
                ctx,
                f"crime.{outcome}_rate_latest",
                round(latest.rate.value, 3),
                "offences per 1,000 residents",
                sentence,
                "latest_rate",
                interval=latest.rate.interval,
                interval_kind=latest.rate.interval_kind,
                n=latest.count,
                flags=flags,
            )
        )
        peer = analysis.peer_latest[outcome]
        if peer is not None:
            claims.append(
                _record(
                    ctx,
                    f"crime.{outcome}_peer_median_latest",
                    round(peer.median, 3),
                    "offences per 1,000 residents",
                    f"Among the {peer.peers_reporting} comparison departments that reported {label} for {peer.year}, "
                    f"the median rate was {format_number(peer.median, 1)} per 1,000 residents (range "
                    f"{format_number(peer.low, 1)} to {format_number(peer.high, 1)}).",
                    "peer_rates",
                    interval=(peer.low, peer.high),
                    interval_kind="range across peer departments",
                    n=peer.peers_reporting,
                )
            )
        versus = analysis.versus_state[outcome]
        if versus is not None:
            year, ratio = versus
            claims.append(
                _record(
                    ctx,
                    f"crime.{outcome}_rr_vs_missouri",
                    round(ratio.value, 3),
                    "rate ratio",
                    f"In {year}, the latest year with a Missouri estimate, {name}'s {label} rate was "
                    f"{format_number(ratio.value, 2)} times the Missouri rate "
                    f"({format_interval(ratio.lower, ratio.upper, 2, confidence=ratio.confidence)}).",
                    "compare_to_state",
                    interval=ratio.interval,
                    interval_kind=ratio.interval_kind,
                    n=ratio.n,
                    source=[*SOURCE, *STATE_SOURCE],
                    flags=["small_cell"] if _agency_count(analysis, outcome, year) < SMALL_CELL_THRESHOLD else [],
                )
            )
    claims.append(
        _record(
            ctx,
            "crime.latest_year",
            max((v.year for v in analysis.latest.values() if v), default=None),
            "year",
            f"The FBI crime data for {name} run to "
            f"{max((v.year for v in analysis.latest.values() if v), default='no year')}; "
            f"the FBI's switch to NIBRS in {NIBRS_START_YEAR} makes later years not directly comparable with earlier "
            "ones.",
            "latest_rate",
        )
    )
    return Findings(tuple(claims))


def _association_caveat(n: int, start: int, end: int) -> str:
    return (
        f" This is an association estimated from {n} years of one city's reports ({start}-{end}), not a measured "
        "effect of the events or the decree: other things changed in the same years."
    )


def report_models(ctx: NotebookContext, analysis: CrimeAnalysis | NoData) -> Findings:
    """Rate ratios from the interrupted time series, with overdispersion reported."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    claims: list[Claim] = []
    name = analysis.name
    for outcome, label in OUTCOMES.items():
        model = analysis.models[outcome]
        if isinstance(model, NoData):
            claims.append(
                _record(
                    ctx,
                    f"crime.{outcome}_rr_post2014",
                    None,
                    "rate ratio",
                    f"No model of {label} for {name}: {model.reason}.",
                    "fit_its",
                    flags=["insufficient_data"],
                )
            )
            continue
        years = analysis.its_data.dropna(subset=[outcome])["year"]
        start, end = int(years.min()), int(years.max())
        caveat = _association_caveat(model.n, start, end)
        kw = dict(n=model.n)
        after_2014 = model.term("post_2014")
        after_2016 = model.term("post_2016")
        combined = model.combination(["post_2014", "post_2016"])
        trend = model.term("years_since_2014")
        claims += [
            _record(
                ctx,
                f"crime.{outcome}_rr_post2014",
                round(after_2014.value, 4),
                "rate ratio",
                f"In {FIRST_YEAR_AFTER_AUGUST_2014}, the first full year after August 2014, {name}'s {label} rate was "
                f"{format_ratio_change(after_2014)} than its {start}-2014 trend predicted." + caveat,
                "fit_its",
                interval=after_2014.interval,
                interval_kind=after_2014.interval_kind,
                **kw,
            ),
            _record(
                ctx,
                f"crime.{outcome}_rr_post2016",
                round(after_2016.value, 4),
                "rate ratio",
                f"From {FIRST_YEAR_OF_CONSENT_DECREE}, the year the Consent Decree was approved, the {label} rate was "
                f"a further {format_ratio_change(after_2016)} relative to the {FIRST_YEAR_AFTER_AUGUST_2014} level, "
                "allowing for the trend." + caveat,
                "fit_its",
                interval=after_2016.interval,
                interval_kind=after_2016.interval_kind,
                **kw,
            ),
            _record(
                ctx,
                f"crime.{outcome}_rr_2016_on_vs_trend",
                round(combined.value, 4),
                "rate ratio",
                f"Taking both changes together, {name}'s {label} rate from {FIRST_YEAR_OF_CONSENT_DECREE} to {end} ran "
                f"{format_ratio_change(combined)} relative to its {start}-2014 trend." + caveat,
                "fit_its",
                interval=combined.interval,
                interval_kind=combined.interval_kind,
                **kw,
            ),
            _record(
                ctx,
                f"crime.{outcome}_trend",
                round(trend.value, 4),
                "rate ratio per year",
                f"Apart from those level changes, the model's {label} trend is {format_ratio_change(trend, 1)} a year "
                f"({start}-{end}).",
                "fit_its",
                interval=trend.interval,
                interval_kind=trend.interval_kind,
                **kw,
            ),
            _record(
                ctx,
                f"crime.{outcome}_dispersion",
                round(model.dispersion, 3),
                "Pearson chi-square / df",
                f"The Poisson model of {label} had a dispersion of {format_number(model.dispersion, 2)} (Pearson "
                f"chi-square over residual degrees of freedom); "
                + (
                    f"above 1.5, so the negative binomial model is the one reported ({model.family_note})."
                    if model.overdispersed
                    else "at or below 1.5, so the Poisson model is the one reported."
                ),
                "fit_its",
                **kw,
            ),
        ]
    if not any(isinstance(m, RateModel) for m in analysis.models.values()):
        return Findings(tuple(claims))
    claims.append(
        _record(
            ctx,
            "crime.model_years",
            int(analysis.its_data.dropna(subset=list(OUTCOMES), how="all")["year"].nunique()),
            "years",
            f"The crime models use {analysis.model_start_year}-{analysis.model_end_year}"
            + (
                f", including the NIBRS years from {NIBRS_START_YEAR} with a term for the change of counting system."
                if analysis.include_nibrs_years
                else f"; years from {NIBRS_START_YEAR} (NIBRS) are left out because the counting system changed."
            ),
            "its_frame",
        )
    )
    return Findings(tuple(claims))


def report_peer_models(ctx: NotebookContext, analysis: CrimeAnalysis | NoData) -> Findings:
    """The same model pooled over the peers: whether neighbours saw a similar change."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    claims: list[Claim] = []
    for outcome, label in OUTCOMES.items():
        model = analysis.peer_models[outcome]
        if isinstance(model, NoData):
            claims.append(
                _record(
                    ctx,
                    f"crime.peer_{outcome}_rr_post2014",
                    None,
                    "rate ratio",
                    f"No pooled peer model of {label}: {model.reason}.",
                    "fit_peer_its",
                    flags=["insufficient_data"],
                )
            )
            continue
        after_2014, after_2016 = model.term("post_2014"), model.term("post_2016")
        departments = int(model.poisson.model.data.frame["agency_slug"].nunique())
        claims += [
            _record(
                ctx,
                f"crime.peer_{outcome}_rr_post2014",
                round(after_2014.value, 4),
                "rate ratio",
                f"Across {departments} comparison departments modelled together, {label} in "
                f"{FIRST_YEAR_AFTER_AUGUST_2014} was {format_ratio_change(after_2014)} than their earlier trend "
                f"({model.n} department-years; {model.family_note}).",
                "fit_peer_its",
                interval=after_2014.interval,
                interval_kind=after_2014.interval_kind,
                n=model.n,
            ),
            _record(
                ctx,
                f"crime.peer_{outcome}_rr_post2016",
                round(after_2016.value, 4),
                "rate ratio",
                f"In the same comparison departments, {label} from {FIRST_YEAR_OF_CONSENT_DECREE} was a further "
                f"{format_ratio_change(after_2016)} relative to {FIRST_YEAR_AFTER_AUGUST_2014}. These departments "
                "were not under the Consent Decree: where they changed in the same way as the agency, regional "
                "causes are the likelier explanation.",
                "fit_peer_its",
                interval=after_2016.interval,
                interval_kind=after_2016.interval_kind,
                n=model.n,
            ),
        ]
    return Findings(tuple(claims))


# --- reporting: figures -----------------------------------------------------------------------


def _mark_events(ax: plt.Axes, last_year: int) -> None:
    ax.axvline(2014.6, color=PEER_COLOUR, linestyle=":", linewidth=1)
    ax.axvline(2016.2, color=PEER_COLOUR, linestyle="--", linewidth=0.8)
    if last_year >= NIBRS_START_YEAR:
        ax.axvspan(NIBRS_START_YEAR - 0.5, last_year + 0.5, color="#EEEEEE", zorder=0)


def figure_rates(
    ctx: NotebookContext, analysis: CrimeAnalysis | NoData, start_year: int = CHART_START_YEAR
) -> ShownFigure:
    """Violent and property rates per 1,000: agency, peer median with interquartile band, Missouri."""
    if isinstance(analysis, NoData):
        return ShownFigure.no_chart(analysis.reason)
    apply_style()
    fig, axes = plt.subplots(2, 1, figsize=(7.0, 6.4), sharex=True)
    own = analysis.series[analysis.series["year"] >= start_year]
    peers = (
        analysis.peer_rates[analysis.peer_rates["year"] >= start_year]
        if len(analysis.peer_rates)
        else analysis.peer_rates
    )
    state = analysis.state[analysis.state["year"] >= start_year]
    last_year = int(own["year"].max())
    frames = []
    for ax, (outcome, label) in zip(axes, OUTCOMES.items(), strict=True):
        _mark_events(ax, last_year)
        if f"{outcome}_median" in peers:
            ax.fill_between(
                peers["year"],
                plot_values(peers[f"{outcome}_q25"]),
                plot_values(peers[f"{outcome}_q75"]),
                color=PEER_COLOUR,
                alpha=0.25,
                linewidth=0,
                label="Peers, middle half",
            )
            ax.plot(
                peers["year"],
                plot_values(peers[f"{outcome}_median"]),
                color="black",
                linestyle="--",
                linewidth=1.2,
                label="Peer median",
            )
            frames.append(
                pd.DataFrame(
                    {
                        "outcome": outcome,
                        "series": "peer median",
                        "year": peers["year"],
                        "per_1000": plot_values(peers[f"{outcome}_median"]),
                    }
                )
            )
        if len(state):
            ax.plot(
                state["year"],
                plot_values(state[f"{outcome}_per_1000"]),
                color=REFERENCE_COLOUR,
                linewidth=1.4,
                label="Missouri (FBI estimate, to 2019)",
            )
            frames.append(
                pd.DataFrame(
                    {
                        "outcome": outcome,
                        "series": "Missouri",
                        "year": state["year"],
                        "per_1000": plot_values(state[f"{outcome}_per_1000"]),
                    }
                )
            )
        ax.plot(
            own["year"],
            plot_values(own[f"{outcome}_per_1000"]),
            color=AGENCY_COLOUR,
            linewidth=2.2,
            marker="o",
            markersize=3.5,
            label=analysis.name,
        )
        frames.append(
            pd.DataFrame(
                {
                    "outcome": outcome,
                    "series": analysis.name,
                    "year": own["year"],
                    "per_1000": plot_values(own[f"{outcome}_per_1000"]),
                }
            )
        )
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{label.capitalize()}\nper 1,000 residents")
    axes[0].set_title(f"{analysis.name}: reported crime per 1,000 residents")
    axes[0].legend(loc="upper left", ncols=2, fontsize=8.5)
    axes[1].set_xlabel("Year (dotted: August 2014; dashed: Consent Decree 2016; grey: NIBRS era)")
    missing = [int(y) for y in own.loc[own["violent"].isna(), "year"]]
    alt = (
        f"Two line charts of reported crime per 1,000 residents, {start_year} to {last_year}, for {analysis.name}, "
        "the median of its peer departments (with the middle half shaded) and Missouri (to 2019)."
    )
    for outcome, label in OUTCOMES.items():
        latest = analysis.latest[outcome]
        if latest is not None:
            alt += f" {label.capitalize()}: {latest.rate.value:.1f} per 1,000 in {latest.year}."
    if missing:
        alt += f" No report for {', '.join(map(str, missing))} (gaps in the line)."
    if last_year >= NIBRS_START_YEAR:
        alt += f" Years from {NIBRS_START_YEAR} are shaded: NIBRS counts are not directly comparable."
    record = save_figure(
        fig,
        f"{ctx.notebook}-crime-rates",
        title="Reported crime per 1,000 residents",
        data=pd.concat(frames, ignore_index=True),
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=f"{MODULE}.figure_rates",
        out_dir=ctx.figures_dir,
    )
    return ShownFigure.saved(ctx, record)


def figure_its(ctx: NotebookContext, analysis: CrimeAnalysis | NoData) -> ShownFigure:
    """Observed rates, the model's fit, and the pre-2015 trend carried forward (dashed)."""
    if isinstance(analysis, NoData):
        return ShownFigure.no_chart(analysis.reason)
    fitted = {o: m for o, m in analysis.models.items() if isinstance(m, RateModel)}
    if not fitted:
        return ShownFigure.no_chart("no crime model could be fitted for this agency")
    apply_style()
    fig, axes = plt.subplots(len(fitted), 1, figsize=(7.0, 3.3 * len(fitted)), sharex=True, squeeze=False)
    data = analysis.its_data
    frames = []
    alt = f"Model charts for {analysis.name}, {analysis.model_start_year}-{analysis.model_end_year}."
    for ax, (outcome, model) in zip(axes[:, 0], fitted.items(), strict=True):
        observed = data[outcome] / data["population"] * PER
        expected = model.predict(data) / data["population"] * PER
        counterfactual = model.predict(data.assign(post_2014=0.0, post_2016=0.0)) / data["population"] * PER
        after = data["year"] >= FIRST_YEAR_AFTER_AUGUST_2014 - 1
        ax.axvline(2014.6, color=PEER_COLOUR, linestyle=":", linewidth=1)
        ax.axvline(2016.2, color=PEER_COLOUR, linestyle="--", linewidth=0.8)
        ax.scatter(data["year"], observed, color=AGENCY_COLOUR, s=16, label="Reported", zorder=3)
        ax.plot(data["year"], expected, color="black", linewidth=1.4, label="Model")
        ax.plot(
            data.loc[after, "year"],
            counterfactual[after],
            color=REFERENCE_COLOUR,
            linestyle="--",
            linewidth=1.4,
            label="Pre-2015 trend carried forward",
        )
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{OUTCOMES[outcome].capitalize()}\nper 1,000 residents")
        frames.append(
            pd.DataFrame(
                {
                    "outcome": outcome,
                    "year": data["year"],
                    "reported_per_1000": observed,
                    "model_per_1000": expected,
                    "pre_trend_per_1000": counterfactual.where(after),
                }
            )
        )
        combined = model.combination(["post_2014", "post_2016"])
        alt += (
            f" {OUTCOMES[outcome].capitalize()}: from {FIRST_YEAR_OF_CONSENT_DECREE} the model runs "
            f"{format_ratio_change(combined)} relative to the carried-forward trend."
        )
    axes[0, 0].set_title(f"{analysis.name}: crime model with breaks in 2015 and 2016")
    axes[0, 0].legend(loc="lower left", fontsize=8.5)
    axes[-1, 0].set_xlabel("Year")
    record = save_figure(
        fig,
        f"{ctx.notebook}-crime-model",
        title="Crime model: reported, fitted and pre-2015 trend",
        data=pd.concat(frames, ignore_index=True).round(4),
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=f"{MODULE}.figure_its",
        out_dir=ctx.figures_dir,
    )
    return ShownFigure.saved(ctx, record)
