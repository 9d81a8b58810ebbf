"""Reported crime: violent and property crime counts and rates per 1,000 residents for an agency,
its peers and Missouri, and an interrupted time series around August 2014 and the 2016 Consent Decree.

Sources: crime.csv (FBI UCR offenses known to police, processed by Jacob Kaplan; the FBI moved to
NIBRS in 2021, so 2021 onward is not comparable with earlier years) and state_crime.csv (FBI state
estimates, which end in 2019).

The model (documented in docs/decisions.md, "Crime trend model: segmented time series and peer
contrast"): yearly counts with log(census-consistent population) as offset, a segmented (interrupted)
time series ``count ~ years_since_2014 + post_2014 + years_after_2014`` fitted by
:func:`stats.fit_rate_glm` (Poisson, negative binomial if overdispersed): a pre-2015 trend, a level
change from 2015 and a slope change after 2014. August 2014 falls late in the year, so 2015 is the
first "after" year; for Ferguson the 2016 Consent Decree falls inside the after period (one year later,
too close to separate). The peer contrast is a difference-in-differences in the same form, pooled over
the agency and its peers with one level and pre-trend per department and agency-by-period interactions.
Residual autocorrelation is checked with Ljung-Box and Durbin-Watson. Years from 2021 (NIBRS) are left
out unless ``include_nibrs_years`` is set, in which case a NIBRS level term absorbs the break. The rate
ratios describe associations, not causal effects, and the crime section does not feed any verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy.stats import norm
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.stats.stattools import durbin_watson

from heartbeats_analysis.analysis import (
    Findings,
    NoData,
    ShownFigure,
    display_name,
    every_year,
    plot_values,
    record_claim,
)
from heartbeats_analysis.analysis.population import with_census_population
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
EVENT_AGENCY = "ferguson"  # the August 2014 events and the 2016 Consent Decree are this agency's own
LJUNG_BOX_LAGS = 2
AUTOCORRELATION_ALPHA = 0.05
SEGMENT_TERMS = ["years_since_2014", "post_2014", "years_after_2014"]
RATE_COLUMNS = {"violent_per_1000": "violent", "property_per_1000": "property"}


@dataclass(frozen=True)
class Autocorrelation:
    """Residual autocorrelation of a yearly model (Pearson residuals in year order)."""

    ljung_box_p: float
    durbin_watson: float
    lags: int
    n: int

    @property
    def detected(self) -> bool:
        return self.ljung_box_p < AUTOCORRELATION_ALPHA


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
    contrasts: dict[str, RateModel | NoData] = field(default_factory=dict)
    autocorrelation: dict[str, Autocorrelation | None] = field(default_factory=dict)
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
            "years_after_2014": (rows["year"] - TREND_ORIGIN).clip(lower=0).astype("float64"),
            "post_2016": (rows["year"] >= FIRST_YEAR_OF_CONSENT_DECREE).astype("float64"),
            "nibrs_era": (rows["year"] >= NIBRS_START_YEAR).astype("float64"),
        }
    )
    return frame.reset_index(drop=True)


def its_formula(
    outcome: str, include_nibrs_years: bool = False, by_agency: bool = False, contrast: bool = False
) -> str:
    """The segmented model: pre-2015 trend, level change from 2015, slope change after 2014.

    ``by_agency`` adds one level per department; ``contrast`` (the difference-in-differences) also gives
    each department its own pre-trend and adds the agency-by-period terms ``treated:post_2014`` (level)
    and ``treated:years_after_2014`` (slope), which measure how the agency's changes differ from its
    peers'."""
    terms = list(SEGMENT_TERMS)
    if include_nibrs_years:
        terms.append("nibrs_era")
    if by_agency or contrast:
        terms.insert(0, "C(agency_slug)")
    if contrast:
        terms += ["C(agency_slug):years_since_2014", "treated:post_2014", "treated:years_after_2014"]
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
        return f"no report for {FIRST_YEAR_AFTER_AUGUST_2014}, so the level change is not anchored"
    after = (present["year"] >= FIRST_YEAR_AFTER_AUGUST_2014).sum()
    if after < 2:
        return f"only {after} reported year(s) from {FIRST_YEAR_AFTER_AUGUST_2014} (at least 2 needed for a slope)"
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


def _eligible_frames(
    crime: pd.DataFrame, agencies_in: list[str], outcome: str, start_year: int, include_nibrs_years: bool
) -> list[pd.DataFrame]:
    frames = []
    for slug in agencies_in:
        series = agency_series(crime, slug)
        if isinstance(series, NoData):
            continue
        frame = its_frame(series, start_year, include_nibrs_years).dropna(subset=[outcome])
        if _its_problem(frame, outcome) is None:
            frames.append(frame.assign(agency_slug=slug))
    return frames


def fit_contrast(
    crime: pd.DataFrame, agency: str, peers: list[str], outcome: str, start_year: int, include_nibrs_years: bool
) -> RateModel | NoData:
    """Difference-in-differences: the agency against its peers in one pooled segmented model.

    ``treated:post_2014`` is the ratio of the agency's level change from 2015 to the peers' (1 = the same
    change); ``treated:years_after_2014`` the ratio of its slope change. Each department keeps its own
    level and pre-trend, so a department already drifting before 2015 does not look like a change."""
    own = _eligible_frames(crime, [agency], outcome, start_year, include_nibrs_years)
    others = _eligible_frames(crime, sorted(p for p in peers if p != agency), outcome, start_year, include_nibrs_years)
    if not own:
        return NoData(agency, TABLE, "the agency has too few reported years either side of 2014 for a contrast")
    if len(others) < 2:
        return NoData("peers", TABLE, "fewer than two peer departments reported enough years either side of 2014")
    pooled = pd.concat([*own, *others], ignore_index=True)
    pooled["treated"] = (pooled["agency_slug"] == agency).astype("float64")
    use_nibrs = include_nibrs_years and bool((pooled["nibrs_era"] > 0).any())
    return fit_rate_glm(pooled, its_formula(outcome, use_nibrs, contrast=True), offset="population")


def residual_autocorrelation(
    model: RateModel, frame: pd.DataFrame, lags: int = LJUNG_BOX_LAGS
) -> Autocorrelation | None:
    """Ljung-Box (up to ``lags``) and Durbin-Watson on the Pearson residuals of a one-agency yearly model,
    in year order. Autocorrelated residuals make the model's intervals too narrow."""
    used = frame.loc[model.fitted.index]
    observed = used[model.count].to_numpy(dtype=float)
    expected = model.fitted.to_numpy(dtype=float)
    variance = expected + (model.alpha or 0.0) * expected**2
    residuals = pd.Series((observed - expected) / np.sqrt(variance), index=used["year"]).sort_index()
    if len(residuals) < lags + 3:
        return None
    test = acorr_ljungbox(residuals.to_numpy(), lags=[lags], return_df=True)
    return Autocorrelation(
        float(test["lb_pvalue"].iloc[-1]), float(durbin_watson(residuals.to_numpy())), lags, len(residuals)
    )


def weighted_change(model: RateModel, weights: dict[str, float]) -> Estimate:
    """exp(sum of weight x coefficient) with its Wald interval: e.g. the level in year k after 2014
    relative to the pre-trend carried forward is post_2014 + k x years_after_2014."""
    result = model.result()
    vector = pd.Series(0.0, index=result.params.index)
    for term, weight in weights.items():
        vector[term] = weight
    estimate = float(vector @ result.params)
    se = float(np.sqrt(vector @ result.cov_params() @ vector))
    template = model.term(next(iter(weights)))
    z = float(norm.ppf(1 - (1 - model.confidence) / 2))
    return replace(
        template,
        value=float(np.exp(estimate)),
        lower=float(np.exp(estimate - z * se)),
        upper=float(np.exp(estimate + z * se)),
    )


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
    population: pd.DataFrame | None = None,
) -> CrimeAnalysis | NoData:
    """Rates use census-consistent populations (analysis.population.with_census_population; the FBI's
    own populations stay in ``population_fbi``); ``population`` is the processed ACS table."""
    crime = with_census_population(crime, population, agencies, RATE_COLUMNS)
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
        analysis.contrasts[outcome] = fit_contrast(crime, agency, peers, outcome, model_start_year, include_nibrs_years)
        model = analysis.models[outcome]
        analysis.autocorrelation[outcome] = (
            residual_autocorrelation(model, frame) if isinstance(model, RateModel) else None
        )
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
    for scope, models in (
        ("agency", analysis.models),
        ("peers pooled", analysis.peer_models),
        ("agency vs peers (difference-in-differences)", analysis.contrasts),
    ):
        for outcome, model in models.items():
            if isinstance(model, RateModel):
                table = model.table[~model.table["term"].str.contains("C\\(", regex=True)]
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
        f" This is an association estimated from {n} years of one department's reports ({start}-{end}), not a "
        "measured effect of any event: other things changed in the same years."
    )


def _after_label(analysis: CrimeAnalysis) -> str:
    """How the 2015 break is named: the agency's own events for the agency they happened in, the
    region's events (or simply 'after 2014') for every other agency."""
    if analysis.agency == EVENT_AGENCY:
        return (
            f"after August 2014 (the first full year after is {FIRST_YEAR_AFTER_AUGUST_2014}; the Consent Decree of "
            f"{FIRST_YEAR_OF_CONSENT_DECREE} falls inside the after period)"
        )
    return (
        f"after 2014 (the year of the region's August 2014 events; {FIRST_YEAR_AFTER_AUGUST_2014} is the first "
        "year after)"
    )


def report_models(ctx: NotebookContext, analysis: CrimeAnalysis | NoData) -> Findings:
    """Segmented time series: level and slope change after 2014, the pre-trend, the change by the last
    modelled year, dispersion and residual autocorrelation."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    claims: list[Claim] = []
    name = analysis.name
    after_label = _after_label(analysis)
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
        level = model.term("post_2014")
        slope = model.term("years_after_2014")
        trend = model.term("years_since_2014")
        by_end = weighted_change(model, {"post_2014": 1.0, "years_after_2014": float(end - TREND_ORIGIN)})
        claims += [
            _record(
                ctx,
                f"crime.{outcome}_rr_post2014",
                round(level.value, 4),
                "rate ratio (level change)",
                f"Level change {after_label}: {name}'s {label} rate stepped to {format_ratio_change(level)} than its "
                f"{start}-2014 trend predicted, with the slope allowed to change as well." + caveat,
                "fit_its",
                interval=level.interval,
                interval_kind=level.interval_kind,
                **kw,
            ),
            _record(
                ctx,
                f"crime.{outcome}_slope_change_2015",
                round(slope.value, 4),
                "ratio of yearly rate ratios (slope change)",
                f"Slope change {after_label}: the yearly trend in {name}'s {label} rate became "
                f"{format_ratio_change(slope, 1)} per year than before (a ratio of 1 means the same trend).",
                "fit_its",
                interval=slope.interval,
                interval_kind=slope.interval_kind,
                **kw,
            ),
            _record(
                ctx,
                f"crime.{outcome}_rr_2016_on_vs_trend",
                round(by_end.value, 4),
                "rate ratio",
                f"Level and slope changes together: by {end}, {name}'s {label} rate was {format_ratio_change(by_end)} "
                f"than its {start}-2014 trend carried forward." + caveat,
                "weighted_change",
                interval=by_end.interval,
                interval_kind=by_end.interval_kind,
                **kw,
            ),
            _record(
                ctx,
                f"crime.{outcome}_trend",
                round(trend.value, 4),
                "rate ratio per year",
                f"Before 2015, {name}'s {label} rate changed by a factor of {format_number(trend.value, 3)} a year "
                f"({format_ratio_change(trend, 1)} each year; {start}-2014).",
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
        autocorrelation = analysis.autocorrelation.get(outcome)
        if autocorrelation is not None:
            claims.append(
                _record(
                    ctx,
                    f"crime.{outcome}_residual_autocorrelation",
                    round(autocorrelation.ljung_box_p, 4),
                    "Ljung-Box p-value",
                    f"Residual autocorrelation in the {label} model: Ljung-Box p = "
                    f"{format_number(autocorrelation.ljung_box_p, 3)} (lags 1-{autocorrelation.lags}), Durbin-Watson "
                    f"{format_number(autocorrelation.durbin_watson, 2)} (2 means none). "
                    + (
                        "The residuals are autocorrelated, so the intervals above are too narrow: read them as a "
                        "lower bound on the uncertainty."
                        if autocorrelation.detected
                        else "No autocorrelation was detected at the 5% level (with this few years the test has "
                        "little power)."
                    ),
                    "residual_autocorrelation",
                    n=autocorrelation.n,
                    flags=["autocorrelated_residuals"] if autocorrelation.detected else [],
                )
            )
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
    claims.append(
        _record(
            ctx,
            "crime.verdict_relevance",
            None,
            "",
            "The crime section is context: no verdict on the proposal's claims rests on it. The proposal does not "
            "claim to change crime, no study of sworn social workers and crime was found, and these models "
            "describe associations in reported crime, not effects of any policy.",
            "report_models",
        )
    )
    return Findings(tuple(claims))


def report_peer_models(ctx: NotebookContext, analysis: CrimeAnalysis | NoData) -> Findings:
    """The same segmented model pooled over the peers, and the formal contrast (difference-in-differences)
    of the agency's level and slope changes with the peers'."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    claims: list[Claim] = []
    name = analysis.name
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
        else:
            level, slope = model.term("post_2014"), model.term("years_after_2014")
            departments = int(model.poisson.model.data.frame["agency_slug"].nunique())
            claims += [
                _record(
                    ctx,
                    f"crime.peer_{outcome}_rr_post2014",
                    round(level.value, 4),
                    "rate ratio (level change)",
                    f"Across {departments} comparison departments modelled together, {label} from "
                    f"{FIRST_YEAR_AFTER_AUGUST_2014} stepped to {format_ratio_change(level)} than their earlier trend "
                    f"({model.n} department-years; {model.family_note}).",
                    "fit_peer_its",
                    interval=level.interval,
                    interval_kind=level.interval_kind,
                    n=model.n,
                ),
                _record(
                    ctx,
                    f"crime.peer_{outcome}_slope_change_2015",
                    round(slope.value, 4),
                    "ratio of yearly rate ratios (slope change)",
                    f"In the same departments the yearly {label} trend after 2014 became "
                    f"{format_ratio_change(slope, 1)} per year than before.",
                    "fit_peer_its",
                    interval=slope.interval,
                    interval_kind=slope.interval_kind,
                    n=model.n,
                ),
            ]
        contrast = analysis.contrasts.get(outcome)
        if contrast is None or isinstance(contrast, NoData):
            reason = contrast.reason if isinstance(contrast, NoData) else "not fitted"
            claims.append(
                _record(
                    ctx,
                    f"crime.{outcome}_did_level_2015",
                    None,
                    "ratio of rate ratios",
                    f"No formal contrast of {name} with its peers for {label}: {reason}.",
                    "fit_contrast",
                    flags=["insufficient_data"],
                )
            )
            continue
        level, slope = contrast.term("treated:post_2014"), contrast.term("treated:years_after_2014")
        departments = int(contrast.poisson.model.data.frame["agency_slug"].nunique()) - 1
        both_include_one = level.lower < 1 < level.upper and slope.lower < 1 < slope.upper
        claims += [
            _record(
                ctx,
                f"crime.{outcome}_did_level_2015",
                round(level.value, 4),
                "ratio of rate ratios (difference-in-differences)",
                f"Compared formally with {departments} peer departments (difference-in-differences; each department "
                f"with its own level and pre-2015 trend), {name}'s level change in {label} from "
                f"{FIRST_YEAR_AFTER_AUGUST_2014} was {format_number(level.value, 2)} times the peers' "
                f"({format_interval(level.lower, level.upper, 2, confidence=level.confidence)}; 1 = the same change; "
                f"{contrast.n} department-years, {contrast.family_note}).",
                "fit_contrast",
                interval=level.interval,
                interval_kind=level.interval_kind,
                n=contrast.n,
            ),
            _record(
                ctx,
                f"crime.{outcome}_did_slope_2015",
                round(slope.value, 4),
                "ratio of slope changes (difference-in-differences)",
                f"{name}'s slope change in {label} after 2014 was {format_number(slope.value, 3)} times the peers' "
                f"per year ({format_interval(slope.lower, slope.upper, 3, confidence=slope.confidence)})."
                + (
                    f" Neither contrast is distinguishable from no difference: {name}'s change in {label} after 2014 "
                    "cannot be told apart from its neighbours'."
                    if both_include_one
                    else ""
                ),
                "fit_contrast",
                interval=slope.interval,
                interval_kind=slope.interval_kind,
                n=contrast.n,
            ),
        ]
    return Findings(tuple(claims))


# --- reporting: figures -----------------------------------------------------------------------


def _mark_events(ax: plt.Axes, last_year: int, decree: bool = True) -> None:
    ax.axvline(2014.6, color=PEER_COLOUR, linestyle=":", linewidth=1)
    if decree:
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
        _mark_events(ax, last_year, decree=analysis.agency == EVENT_AGENCY)
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
    axes[1].set_xlabel(
        "Year (dotted: August 2014; dashed: Consent Decree 2016; grey: NIBRS era)"
        if analysis.agency == EVENT_AGENCY
        else "Year (dotted: the region's August 2014 events; grey: NIBRS era)"
    )
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
        counterfactual = model.predict(data.assign(post_2014=0.0, years_after_2014=0.0)) / data["population"] * PER
        after = data["year"] >= FIRST_YEAR_AFTER_AUGUST_2014 - 1
        ax.axvline(2014.6, color=PEER_COLOUR, linestyle=":", linewidth=1)
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
        level, slope = model.term("post_2014"), model.term("years_after_2014")
        alt += (
            f" {OUTCOMES[outcome].capitalize()}: a level change of {format_ratio_change(level)} from "
            f"{FIRST_YEAR_AFTER_AUGUST_2014} and a slope change of {format_ratio_change(slope, 1)} per year."
        )
    axes[0, 0].set_title(f"{analysis.name}: segmented trend, level and slope change from 2015")
    axes[0, 0].legend(loc="lower left", fontsize=8.5)
    axes[-1, 0].set_xlabel("Year")
    record = save_figure(
        fig,
        f"{ctx.notebook}-crime-model",
        title="Crime model: reported, fitted (level and slope change from 2015) and pre-2015 trend",
        data=pd.concat(frames, ignore_index=True).round(4),
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=f"{MODULE}.figure_its",
        out_dir=ctx.figures_dir,
    )
    return ShownFigure.saved(ctx, record)
