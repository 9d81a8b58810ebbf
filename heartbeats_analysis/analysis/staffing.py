"""Police staffing: sworn officers and officers per 1,000 residents for an agency and its peers,
the trend since a start year, and the gap to a cited authorised strength.

Source: staffing.csv (FBI UCR police employee counts, processed by Jacob Kaplan; ends 2021). A year
an agency did not report is missing (<NA>), never zero: the agency's series is reindexed to every
year so that a gap stays a gap in tables and breaks the line in charts. Officers per 1,000 use
census-consistent populations (analysis.population); the FBI's own are kept as ``population_fbi``.
Dated, cited authorised and serving strengths (resources/staffing_points.csv, per agency; most
agencies have none) are shown beside the FBI counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

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
    RateModel,
    fit_rate_glm,
    format_number,
    format_ratio_change,
)
from heartbeats_analysis.paths import RESOURCES_DIR
from heartbeats_analysis.report.notebook_io import NotebookContext
from heartbeats_analysis.report.style import (
    AGENCY_COLOUR,
    PEER_COLOUR,
    REFERENCE_COLOUR,
    apply_style,
    save_figure,
)

TABLE = "staffing"
SOURCE = ["staffing.csv", "FBI Uniform Crime Reporting Program, police employee data, processed by Jacob Kaplan"]
SOURCE_LINE = "FBI UCR police employee data (Jacob Kaplan's files), staffing.csv"
CHART_START_YEAR = 2000
TREND_START_YEAR = 2014  # the August 2014 events; the years since are what the council is weighing
MODULE = "heartbeats_analysis.analysis.staffing"
STAFFING_POINTS_CSV = RESOURCES_DIR / "staffing_points.csv"
RATE_COLUMNS = {"officers_per_1000": "sworn_officers"}


def load_staffing_points(agency: str, path=STAFFING_POINTS_CSV) -> pd.DataFrame:
    """Cited, dated strengths for one agency: date, year, serving, authorised, source, url, note
    (serving or authorised may be blank). Empty for an agency with no sourced points."""
    points = pd.read_csv(path, dtype={"agency_slug": str, "source": str, "url": str, "note": str})
    points = points[points["agency_slug"] == agency].copy()
    if points[["serving", "authorised"]].isna().all(axis=1).any():
        raise ValueError(f"{path.name}: every row needs a serving or an authorised strength")
    if points["source"].fillna("").str.strip().eq("").any():
        raise ValueError(f"{path.name}: every row needs a source")
    points["date"] = pd.to_datetime(points["date"])
    points["year"] = points["date"].dt.year + (points["date"].dt.day_of_year - 1) / 365.25
    for column in ("serving", "authorised"):
        points[column] = points[column].astype("Int64")
    return points.sort_values("date", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class YearValue:
    value: float
    year: int


@dataclass(frozen=True)
class PeerComparison:
    """The agency's officers per 1,000 residents beside the median of its peers in the same year."""

    year: int
    agency_value: float
    peer_median: float | None
    peer_min: float | None
    peer_max: float | None
    peers_reporting: int


@dataclass(frozen=True)
class AuthorisedGap:
    authorised: int
    authorised_year: int | None
    source: str
    sworn: int
    sworn_year: int

    @property
    def gap(self) -> int:
        return self.authorised - self.sworn

    @property
    def vacancy_share(self) -> float:
        return self.gap / self.authorised if self.authorised else float("nan")


@dataclass
class StaffingAnalysis:
    agency: str
    name: str
    peers: list[str]
    series: pd.DataFrame  # one row per year from the agency's first report to the table's last year
    peer_series: pd.DataFrame  # agency_slug, year, sworn_officers, officers_per_1000 (peers only)
    peer_median: pd.DataFrame  # year, peer_median_per_1000, peer_min, peer_max, peers_reporting
    latest: YearValue
    peak: YearValue
    per_1000: PeerComparison | None
    trend: RateModel | None
    trend_start_year: int
    chart_start_year: int
    missing_years: list[int] = field(default_factory=list)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)  # cited serving/authorised strengths


def agency_series(staffing: pd.DataFrame, agency: str) -> pd.DataFrame | NoData:
    """The agency's rows with every year present (gaps as <NA>), or NoData if it never reported."""
    rows = staffing[staffing["agency_slug"] == agency]
    if rows.empty or rows["sworn_officers"].notna().sum() == 0:
        return NoData(agency, TABLE, "the FBI police employee data hold no staffing reports for this agency")
    series = every_year(rows, int(staffing["year"].max()))
    return series


def peer_median_per_1000(staffing: pd.DataFrame, peers: list[str]) -> pd.DataFrame:
    """Median officers per 1,000 across the peers that reported in each year."""
    rows = staffing[staffing["agency_slug"].isin(peers)].dropna(subset=["officers_per_1000"])
    rows = rows.assign(officers_per_1000=rows["officers_per_1000"].astype("float64"))
    grouped = rows.groupby("year")["officers_per_1000"]
    summary = pd.DataFrame(
        {
            "peer_median_per_1000": grouped.median(),
            "peer_min": grouped.min(),
            "peer_max": grouped.max(),
            "peers_reporting": grouped.size().astype("int64"),
        }
    )
    return summary.reset_index().sort_values("year", kind="stable").reset_index(drop=True)


def latest_value(series: pd.DataFrame, column: str) -> YearValue:
    present = series.dropna(subset=[column])
    last = present.iloc[-1]
    return YearValue(float(last[column]), int(last["year"]))


def peak_value(series: pd.DataFrame, column: str, since: int) -> YearValue:
    """The highest value since ``since``; on a tie, the most recent year."""
    present = series[(series["year"] >= since)].dropna(subset=[column])
    top = present[present[column] == present[column].max()].iloc[-1]
    return YearValue(float(top[column]), int(top["year"]))


def compare_to_peers(series: pd.DataFrame, peer_median: pd.DataFrame) -> PeerComparison | None:
    present = series.dropna(subset=["officers_per_1000"])
    if present.empty:
        return None
    latest = latest_value(present, "officers_per_1000")
    match = peer_median[peer_median["year"] == latest.year]
    if match.empty:
        return PeerComparison(latest.year, latest.value, None, None, None, 0)
    row = match.iloc[0]
    return PeerComparison(
        latest.year,
        latest.value,
        float(row["peer_median_per_1000"]),
        float(row["peer_min"]),
        float(row["peer_max"]),
        int(row["peers_reporting"]),
    )


def sworn_trend(series: pd.DataFrame, start_year: int) -> RateModel | None:
    """Poisson GLM of sworn officers on years since ``start_year`` (no offset: the count itself).

    exp(slope) is the average yearly ratio, so 0.94 reads as 6% fewer officers a year. None when
    fewer than three reported years are available.
    """
    window = series[series["year"] >= start_year].dropna(subset=["sworn_officers"])
    if len(window) < 3:
        return None
    frame = pd.DataFrame(
        {"sworn_officers": window["sworn_officers"].astype("float64"), "years_since": window["year"] - start_year}
    )
    return fit_rate_glm(frame, "sworn_officers ~ years_since", offset=None)


def gap_to_authorised(
    analysis: StaffingAnalysis, authorised_strength: int | None, authorised_year: int | None, source: str
) -> AuthorisedGap | None:
    if authorised_strength is None:
        return None
    return AuthorisedGap(
        int(authorised_strength), authorised_year, source, int(analysis.latest.value), analysis.latest.year
    )


def analyse_staffing(
    staffing: pd.DataFrame,
    agencies: pd.DataFrame | None,
    agency: str,
    peers: list[str],
    trend_start_year: int = TREND_START_YEAR,
    chart_start_year: int = CHART_START_YEAR,
    population: pd.DataFrame | None = None,
    points: pd.DataFrame | None = None,
) -> StaffingAnalysis | NoData:
    """``population`` is the processed ACS table (for census-consistent rates); ``points`` the agency's
    cited strengths (default: load_staffing_points(agency))."""
    staffing = with_census_population(staffing, population, agencies, RATE_COLUMNS)
    series = agency_series(staffing, agency)
    if isinstance(series, NoData):
        return replace(series, name=display_name(agencies, agency))
    peers = [p for p in peers if p != agency]
    peer_rows = staffing[staffing["agency_slug"].isin(peers)]
    peer_series = (
        peer_rows[["agency_slug", "year", "sworn_officers", "officers_per_1000"]]
        .sort_values(["agency_slug", "year"], kind="stable")
        .reset_index(drop=True)
    )
    medians = peer_median_per_1000(staffing, peers)
    window = series[series["year"] >= chart_start_year]
    return StaffingAnalysis(
        agency=agency,
        name=display_name(agencies, agency),
        peers=peers,
        series=series,
        peer_series=peer_series,
        peer_median=medians,
        latest=latest_value(series, "sworn_officers"),
        peak=peak_value(series, "sworn_officers", chart_start_year),
        per_1000=compare_to_peers(series, medians),
        trend=sworn_trend(series, trend_start_year),
        trend_start_year=trend_start_year,
        chart_start_year=chart_start_year,
        missing_years=[int(y) for y in window.loc[window["sworn_officers"].isna(), "year"]],
        points=load_staffing_points(agency) if points is None else points,
    )


def staffing_table(analysis: StaffingAnalysis | NoData) -> pd.DataFrame:
    """Year-by-year table for the notebook: the agency's counts beside the peer median."""
    if isinstance(analysis, NoData):
        return pd.DataFrame({"note": [f"No staffing data: {analysis.reason}."]})
    table = (
        analysis.series[analysis.series["year"] >= analysis.chart_start_year][
            [
                "year",
                "sworn_officers",
                "civilians",
                "population_fbi",
                "population",
                "population_basis",
                "officers_per_1000",
            ]
        ]
        .assign(
            officers_per_1000_fbi_population=lambda t: (
                t["sworn_officers"].astype("Float64").astype("float64") / t["population_fbi"] * 1000
            )
        )
        .merge(analysis.peer_median[["year", "peer_median_per_1000", "peers_reporting"]], on="year", how="left")
    )
    table["peers_reporting"] = table["peers_reporting"].astype("Int64")
    return table.round(
        {"officers_per_1000": 2, "officers_per_1000_fbi_population": 2, "peer_median_per_1000": 2}
    ).reset_index(drop=True)


# --- reporting: claims and figures ----------------------------------------------------------


_record = partial(record_claim, module=MODULE, source=SOURCE)


def report_no_data(ctx: NotebookContext, analysis: NoData) -> Findings:
    name = analysis.label
    claim = _record(
        ctx,
        "staffing.no_data",
        None,
        "",
        f"There are no staffing numbers for {name}: {analysis.reason}, so this section cannot describe its "
        "officer numbers.",
        "analyse_staffing",
        flags=["no_data"],
    )
    return Findings((claim,))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _years_text(years: list[int]) -> str:
    if not years:
        return "none"
    return ", ".join(str(y) for y in years)


def report_levels(ctx: NotebookContext, analysis: StaffingAnalysis | NoData) -> Findings:
    """Latest and peak sworn counts, and the years with no report."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    latest, peak, name = analysis.latest, analysis.peak, analysis.name
    claims = [
        _record(
            ctx,
            "staffing.latest_sworn",
            int(latest.value),
            "sworn officers",
            f"In {latest.year}, the latest year in the FBI police employee data, {name} reported "
            f"{format_number(latest.value, 0)} sworn officers.",
            "latest_value",
            n=1,
        ),
        _record(
            ctx,
            "staffing.latest_sworn_year",
            latest.year,
            "year",
            f"The FBI police employee data for {name} end in {latest.year}.",
            "latest_value",
        ),
        _record(
            ctx,
            "staffing.peak_sworn",
            int(peak.value),
            "sworn officers",
            f"The highest count since {analysis.chart_start_year} was {format_number(peak.value, 0)} sworn officers "
            f"in {peak.year}; the latest ({latest.year}) is {format_number(peak.value - latest.value, 0)} fewer.",
            "peak_value",
        ),
    ]
    missing = analysis.missing_years
    claims.append(
        _record(
            ctx,
            "staffing.missing_years",
            len(missing),
            "years",
            (
                f"{name} filed no usable staffing report for {_plural(len(missing), 'year')} since "
                f"{analysis.chart_start_year} ({_years_text(missing)}); these are shown as gaps, not zeros."
                if missing
                else f"{name} reported staffing every year since {analysis.chart_start_year}."
            ),
            "analyse_staffing",
        )
    )
    return Findings(tuple(claims))


def report_per_1000(ctx: NotebookContext, analysis: StaffingAnalysis | NoData) -> Findings:
    """Officers per 1,000 residents in the latest year, against the peer median of the same year."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    comparison, name = analysis.per_1000, analysis.name
    if comparison is None:
        return Findings(
            (
                _record(
                    ctx,
                    "staffing.officers_per_1000_latest",
                    None,
                    "officers per 1,000 residents",
                    f"The FBI data give no population for {name}, so officers per 1,000 residents cannot be computed.",
                    "compare_to_peers",
                    flags=["no_data"],
                ),
            )
        )
    claims = [
        _record(
            ctx,
            "staffing.officers_per_1000_latest",
            round(comparison.agency_value, 3),
            "officers per 1,000 residents",
            f"In {comparison.year}, {name} had {format_number(comparison.agency_value, 2)} sworn officers per "
            "1,000 residents"
            + (
                f", against a median of {format_number(comparison.peer_median, 2)} among "
                f"{comparison.peers_reporting} nearby St. Louis County departments that reported that year."
                if comparison.peer_median is not None
                else "; none of the comparison departments reported that year."
            ),
            "compare_to_peers",
        )
    ]
    latest_row = analysis.series[analysis.series["year"] == comparison.year].iloc[0]
    fbi_population = latest_row["population_fbi"]
    if pd.notna(fbi_population) and fbi_population > 0:
        fbi_rate = float(latest_row["sworn_officers"]) / float(fbi_population) * 1000
        claims.append(
            _record(
                ctx,
                "staffing.officers_per_1000_latest_fbi_population",
                round(fbi_rate, 3),
                "officers per 1,000 residents",
                f"The rate above divides by {format_number(latest_row['population'], 0)} residents "
                f"({latest_row['population_basis']}); with the FBI's own population for {comparison.year} "
                f"({format_number(fbi_population, 0)}, not yet rebased on the 2020 census) it would read "
                f"{format_number(fbi_rate, 2)}. The census-consistent figure is the headline.",
                "with_census_population",
            )
        )
    if comparison.peer_median is not None:
        claims.append(
            _record(
                ctx,
                "staffing.peer_median_per_1000_latest",
                round(comparison.peer_median, 3),
                "officers per 1,000 residents",
                f"Among the {comparison.peers_reporting} comparison departments reporting in {comparison.year}, the "
                f"median was {format_number(comparison.peer_median, 2)} officers per 1,000 residents (range "
                f"{format_number(comparison.peer_min, 2)} to {format_number(comparison.peer_max, 2)}).",
                "peer_median_per_1000",
                interval=(comparison.peer_min, comparison.peer_max),
                interval_kind="range across peer departments",
                n=comparison.peers_reporting,
            )
        )
    return Findings(tuple(claims))


def report_trend(ctx: NotebookContext, analysis: StaffingAnalysis | NoData) -> Findings:
    """The average yearly change in sworn officers since the trend start year (Poisson GLM)."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    model, name, start = analysis.trend, analysis.name, analysis.trend_start_year
    if model is None:
        return Findings(
            (
                _record(
                    ctx,
                    "staffing.trend_annual_change",
                    None,
                    "rate ratio per year",
                    f"{name} reported staffing in fewer than three years since {start}, too few to estimate a trend.",
                    "sworn_trend",
                    flags=["insufficient_data"],
                ),
            )
        )
    slope = model.term("years_since")
    last_year = analysis.latest.year
    claims = [
        _record(
            ctx,
            "staffing.trend_annual_change",
            round(slope.value, 4),
            "rate ratio per year",
            f"From {start} to {last_year}, {name}'s sworn officer count was on average "
            f"{format_ratio_change(slope, 1)} each year than the year before, estimated from {model.n} "
            f"reported years ({model.family_note} of officers on year).",
            "sworn_trend",
            interval=slope.interval,
            interval_kind=slope.interval_kind,
            n=model.n,
        ),
        _record(
            ctx,
            "staffing.trend_dispersion",
            round(model.dispersion, 3),
            "Pearson chi-square / df",
            f"The trend model's dispersion is {format_number(model.dispersion, 2)} (1 means Poisson-like; below 1 "
            "the officer counts vary less than a Poisson count would, so the interval is on the cautious side).",
            "sworn_trend",
            n=model.n,
        ),
    ]
    return Findings(tuple(claims))


def report_gap(
    ctx: NotebookContext,
    analysis: StaffingAnalysis | NoData,
    authorised_strength: int | None,
    authorised_strength_year: int | None,
    authorised_strength_source: str,
) -> Findings:
    """The gap between a cited authorised strength and the latest reported sworn count."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    gap = gap_to_authorised(analysis, authorised_strength, authorised_strength_year, authorised_strength_source)
    if gap is None:
        return Findings(
            (
                _record(
                    ctx,
                    "staffing.gap_to_authorised",
                    None,
                    "officers",
                    f"No authorised strength was given for {analysis.name}, so the gap to it is not computed.",
                    "gap_to_authorised",
                    flags=["no_parameter"],
                ),
            )
        )
    when = f" ({gap.authorised_year})" if gap.authorised_year else ""
    years_differ = gap.authorised_year is not None and gap.authorised_year != gap.sworn_year
    sentence = (
        f"{analysis.name}'s authorised strength is {gap.authorised} officers{when}, according to {gap.source}. "
        f"Its latest FBI count, {gap.sworn} sworn officers in {gap.sworn_year}, is {abs(gap.gap)} "
        f"{'below' if gap.gap >= 0 else 'above'} that ({format_number(gap.vacancy_share, 0, percent=True)} of the "
        "authorised posts)." + (" The two figures come from different years." if years_differ else "")
    )
    claim = _record(
        ctx,
        "staffing.gap_to_authorised",
        gap.gap,
        "officers",
        sentence,
        "gap_to_authorised",
        source=[*SOURCE, gap.source],
        n=1,
    )
    share = _record(
        ctx,
        "staffing.vacancy_share",
        round(gap.vacancy_share, 4),
        "share of authorised posts",
        f"About {format_number(gap.vacancy_share, 0, percent=True)} of {analysis.name}'s {gap.authorised} authorised "
        f"posts were unfilled, comparing the {gap.sworn_year} FBI count with the authorised strength{when}.",
        "gap_to_authorised",
        source=[*SOURCE, gap.source],
    )
    return Findings((claim, share))


def report_points(ctx: NotebookContext, analysis: StaffingAnalysis | NoData) -> Findings:
    """Cited authorised and serving strengths over time (resources/staffing_points.csv)."""
    if isinstance(analysis, NoData):
        return report_no_data(ctx, analysis)
    points = analysis.points
    both = points.dropna(subset=["serving", "authorised"]) if len(points) else points
    if both.empty:
        return Findings(
            (
                _record(
                    ctx,
                    "staffing.sourced_strengths",
                    0,
                    "dated points",
                    f"No dated, cited figures of {analysis.name}'s authorised and serving strength were found beyond "
                    "the FBI counts.",
                    "load_staffing_points",
                ),
            )
        )
    parts = [
        f"{row.date:%B %Y}: {int(row.serving)} serving of {int(row.authorised)} authorised ({row.source})"
        for row in both.itertuples()
    ]
    gaps = (both["authorised"] - both["serving"]).astype(int)
    sources = sorted(set(both["source"]))
    return Findings(
        (
            _record(
                ctx,
                "staffing.sourced_strengths",
                len(both),
                "dated points",
                f"Reported strength against the authorised strength, from dated news reports of the monitor's "
                f"filings and city figures: {'; '.join(parts)}. The shortfall ranged from {gaps.min()} to "
                f"{gaps.max()} officers.",
                "load_staffing_points",
                source=[*SOURCE, *sources],
                n=len(both),
            ),
        )
    )


def figure_sworn(
    ctx: NotebookContext,
    analysis: StaffingAnalysis | NoData,
    authorised_strength: int | None = None,
    authorised_strength_year: int | None = None,
) -> ShownFigure:
    """Line chart of sworn officers; missing years break the line; the authorised strength as a point."""
    if isinstance(analysis, NoData):
        return ShownFigure.no_chart(analysis.reason)
    apply_style()
    data = analysis.series[analysis.series["year"] >= analysis.chart_start_year]
    fig, ax = plt.subplots()
    ax.plot(
        data["year"],
        plot_values(data["sworn_officers"]),
        marker="o",
        markersize=3.5,
        color=AGENCY_COLOUR,
        label=f"{analysis.name}: sworn officers (FBI)",
    )
    plotted = pd.DataFrame(
        {
            "series": f"{analysis.name} sworn officers",
            "year": data["year"],
            "value": data["sworn_officers"].astype("Float64"),
        }
    )
    authorised_text = ""
    points = analysis.points
    if len(points):
        serving = points.dropna(subset=["serving"])
        authorised = points.dropna(subset=["authorised"])
        ax.scatter(
            serving["year"],
            serving["serving"].astype(float),
            marker="s",
            color=AGENCY_COLOUR,
            facecolors="white",
            zorder=4,
            label="Serving (cited news reports)",
        )
        both = points.dropna(subset=["serving", "authorised"])
        # A vertical segment per dated report: the shortfall on that date (nothing is known between dates).
        ax.vlines(
            both["year"],
            both["serving"].astype(float),
            both["authorised"].astype(float),
            color=REFERENCE_COLOUR,
            linewidth=1.0,
            linestyle="--",
            zorder=2,
        )
        ax.scatter(
            authorised["year"],
            authorised["authorised"].astype(float),
            marker="D",
            color=REFERENCE_COLOUR,
            zorder=3,
            label="Authorised (cited news reports)",
        )
        plotted = pd.concat(
            [
                plotted,
                pd.DataFrame(
                    {
                        "series": "serving (cited)",
                        "year": serving["year"],
                        "value": serving["serving"].astype("Float64"),
                    }
                ),
                pd.DataFrame(
                    {
                        "series": "authorised (cited)",
                        "year": authorised["year"],
                        "value": authorised["authorised"].astype("Float64"),
                    }
                ),
            ]
        )
        authorised_text += (
            f" Squares mark {len(serving)} cited serving counts and diamonds {len(authorised)} cited authorised "
            "strengths; a dashed segment joins the two on each date: the shortfall."
        )
        if authorised_strength_year in set(authorised["date"].dt.year):
            authorised_strength = None  # the parameter's point is already among the cited ones
    if authorised_strength is not None and authorised_strength_year is not None:
        ax.scatter(
            [authorised_strength_year],
            [authorised_strength],
            marker="D",
            color=REFERENCE_COLOUR,
            zorder=3,
            label=f"Authorised strength ({authorised_strength_year})",
        )
        plotted = pd.concat(
            [
                plotted,
                pd.DataFrame(
                    {
                        "series": ["authorised strength"],
                        "year": [authorised_strength_year],
                        "value": pd.array([authorised_strength], dtype="Float64"),
                    }
                ),
            ]
        )
        authorised_text = (
            f" A diamond marks the authorised strength of {authorised_strength} in {authorised_strength_year}."
        )
    ax.axvline(2014.6, color=PEER_COLOUR, linestyle=":", linewidth=1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Year")
    ax.set_ylabel("Sworn officers")
    last = max(analysis.latest.year, int(points["date"].dt.year.max()) if len(points) else 0)
    ax.set_title(f"{analysis.name}: sworn officers, authorised and actual, {analysis.chart_start_year}-{last}")
    ax.legend(loc="lower left")
    gaps = analysis.missing_years
    alt = (
        f"Line chart of {analysis.name}'s sworn officers from {analysis.chart_start_year} to {analysis.latest.year}. "
        f"The count peaked at {analysis.peak.value:.0f} in {analysis.peak.year} and was {analysis.latest.value:.0f} "
        f"in {analysis.latest.year}."
        + (f" No report for {_years_text(gaps)} (shown as a gap)." if gaps else "")
        + authorised_text
        + " A dotted line marks August 2014."
    )
    record = save_figure(
        fig,
        f"{ctx.notebook}-sworn-officers",
        title=f"{analysis.name}: sworn officers, authorised and actual",
        data=plotted.reset_index(drop=True),
        alt_text=alt,
        source_line=SOURCE_LINE + ("; cited news reports, resources/staffing_points.csv" if len(points) else ""),
        notebook=ctx.notebook,
        function=f"{MODULE}.figure_sworn",
        out_dir=ctx.figures_dir,
    )
    return ShownFigure.saved(ctx, record)


def _axis_top(*series: pd.Series) -> float:
    """Room for the agency and the median; a small peer with a tiny population would squash the chart."""
    highest = max(
        float(np.nanmax(plot_values(s))) if len(s) and np.isfinite(plot_values(s)).any() else 0.0 for s in series
    )
    return max(5.0, float(np.ceil(highest * 2.5)))


def _off_scale(peer_series: pd.DataFrame, top: float, agencies: pd.DataFrame | None) -> str:
    above = peer_series[plot_values(peer_series["officers_per_1000"]) > top]
    parts = []
    for peer, rows in above.groupby("agency_slug", sort=True):
        years = rows["year"].astype(int)
        span = f"{years.min()}" if years.min() == years.max() else f"{years.min()}-{years.max()}"
        parts.append(f"{display_name(agencies, peer)} {span} (up to {float(rows['officers_per_1000'].max()):.1f})")
    return "; ".join(parts)


def figure_per_1000(
    ctx: NotebookContext, analysis: StaffingAnalysis | NoData, agencies: pd.DataFrame | None = None
) -> ShownFigure:
    """Officers per 1,000 residents: the agency, each peer (thin grey) and the peer median (dashed)."""
    if isinstance(analysis, NoData):
        return ShownFigure.no_chart(analysis.reason)
    apply_style()
    start = analysis.chart_start_year
    fig, ax = plt.subplots()
    frames = []
    for index, (peer, rows) in enumerate(analysis.peer_series.groupby("agency_slug", sort=True)):
        rows = (
            rows[rows["year"] >= start]
            .set_index("year")
            .reindex(range(start, int(analysis.series["year"].max()) + 1))
            .reset_index()
        )
        ax.plot(
            rows["year"],
            plot_values(rows["officers_per_1000"]),
            color=PEER_COLOUR,
            linewidth=0.7,
            alpha=0.6,
            label="Peer departments" if index == 0 else None,
        )
        frames.append(
            pd.DataFrame(
                {
                    "series": display_name(agencies, peer),
                    "year": rows["year"],
                    "value": rows["officers_per_1000"].astype("Float64"),
                }
            )
        )
    medians = analysis.peer_median[analysis.peer_median["year"] >= start]
    ax.plot(
        medians["year"],
        medians["peer_median_per_1000"],
        color="black",
        linestyle="--",
        linewidth=1.4,
        label="Peer median",
    )
    own = analysis.series[analysis.series["year"] >= start]
    ax.plot(
        own["year"],
        plot_values(own["officers_per_1000"]),
        color=AGENCY_COLOUR,
        linewidth=2.2,
        marker="o",
        markersize=3.5,
        label=analysis.name,
    )
    frames += [
        pd.DataFrame(
            {
                "series": "peer median",
                "year": medians["year"],
                "value": medians["peer_median_per_1000"].astype("Float64"),
            }
        ),
        pd.DataFrame(
            {"series": analysis.name, "year": own["year"], "value": own["officers_per_1000"].astype("Float64")}
        ),
    ]
    top = _axis_top(own["officers_per_1000"], medians["peer_median_per_1000"])
    ax.set_ylim(0, top)
    off_scale = _off_scale(analysis.peer_series[analysis.peer_series["year"] >= start], top, agencies)
    ax.set_xlabel("Year")
    ax.set_ylabel("Sworn officers per 1,000 residents")
    ax.set_title("Officers per 1,000 residents, with nearby departments")
    ax.legend(loc="upper right", ncols=3)
    comparison = analysis.per_1000
    alt = (
        f"Line chart of sworn officers per 1,000 residents, {start} to {analysis.latest.year}, for {analysis.name}, "
        f"{analysis.peer_series['agency_slug'].nunique()} peer departments and their median."
    )
    if comparison is not None:
        alt += f" In {comparison.year} {analysis.name} had {comparison.agency_value:.2f}"
        alt += f" against a peer median of {comparison.peer_median:.2f}." if comparison.peer_median is not None else "."
    if off_scale:
        alt += f" Values above {top:.0f} per 1,000 are off the scale: {off_scale}."
    if analysis.missing_years:
        alt += (
            f" Years without a report are gaps in the lines ({analysis.name}: {_years_text(analysis.missing_years)})."
        )
    record = save_figure(
        fig,
        f"{ctx.notebook}-officers-per-1000",
        title="Officers per 1,000 residents",
        data=pd.concat(frames, ignore_index=True),
        alt_text=alt,
        notebook=ctx.notebook,
        # Under the chart, not inside it: every corner of the plot holds a line or the legend.
        source_line=SOURCE_LINE + (f". Off the scale: {off_scale}" if off_scale else ""),
        function=f"{MODULE}.figure_per_1000",
        out_dir=ctx.figures_dir,
    )
    return ShownFigure.saved(ctx, record)


def trend_table(analysis: StaffingAnalysis | NoData) -> pd.DataFrame:
    """The trend model's rate ratios (both fits if the Poisson one was overdispersed)."""
    if isinstance(analysis, NoData) or analysis.trend is None:
        return pd.DataFrame({"note": ["No trend model: too few reported years."]})
    return analysis.trend.table.round(4)
