"""Vehicle stops by driver race: disparity ratios against the population, search and contraband
hit rates, a binomial outcome test, and the agency beside its peers and the state.

Inputs are the processed tables ``stops``, ``stops_statewide``, ``population`` and ``agencies``.

Definitions (also in docs/decisions_stops_force_calls.md):

* Disparity ratio = a group's share of stops / its share of residents (ACS, all ages; the AGO's own
  index uses residents 16+, so ours will not reproduce the AGO's). Before 2020 the Vehicle Stops
  Report gives per-agency stops for White, Black and Hispanic drivers only, with no total, so the
  year-by-year series uses the *three-group* definition (shares within White + Black + Hispanic, for
  stops and residents alike). From 2020 the all-drivers total exists, and the headline uses the
  *all-races* definition (share of all stops over share of all residents), the AGO's definition.
* Search rate = searches / stops; hit rate = searches that found contraband / searches. Both with
  exact Clopper-Pearson intervals. Cells with fewer than SMALL_CELL_THRESHOLD searches are flagged.
* Outcome test: a binomial GLM (logit) of contraband found per search on driver race (Black vs
  white), pooled over 2020 onward; the odds ratio has a Wald interval and the exact conditional
  (Fisher) interval is reported beside it. A table with a cell under 5 outcomes is flagged: the Wald
  interval is unreliable there and the exact one should be read instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from heartbeats_analysis.analysis import NoData, listed_name, police_of, save_table
from heartbeats_analysis.analysis.population import (
    POPULATION_RACES,
    matched_population_year,
    population_for,
)
from heartbeats_analysis.analysis.stats import (
    CONFIDENCE,
    Estimate,
    OddsRatioTest,
    binomial_ci,
    disparity_ratio,
    odds_ratio_test,
    rate_ratio,
    years_label,
)
from heartbeats_analysis.ingest.sources.base import SMALL_CELL_THRESHOLD

DETAIL_YEAR = 2020
"""First year of the redesigned report, with searches, contraband and totals by race."""
SMALL_N_RATE = 30
"""A pooled rate from fewer trials than this (but at least SMALL_CELL_THRESHOLD) is flagged ``small_n``."""
STATE_SLUG = "missouri"
STATE_NAME = "Missouri (statewide)"

DISPARITY_COLUMNS = [
    "agency_slug",
    "year",
    "race",
    "definition",
    "stops",
    "stops_denominator",
    "stop_share",
    "stop_share_lower",
    "stop_share_upper",
    "population_year",
    "population",
    "population_denominator",
    "population_share",
    "disparity_ratio",
    "lower",
    "upper",
    "small_cell",
]
OUTCOME_COLUMNS = [
    "agency_slug",
    "period",
    "years",
    "race",
    "stops",
    "searches",
    "search_rate",
    "search_lower",
    "search_upper",
    "contraband",
    "hit_rate",
    "hit_lower",
    "hit_upper",
    "small_cell_searches",
    "inconsistent",
]


# --- small helpers --------------------------------------------------------------------------------


def _is_small(count: object) -> bool:
    return pd.isna(count) or int(count) < SMALL_CELL_THRESHOLD


# --- population -------------------------------------------------------------------------------------


def agency_geography(agencies: pd.DataFrame, agency: str) -> tuple[str, str] | NoData:
    """(geoid, geo_type) of the census geography the agency serves, from agencies.csv."""
    rows = agencies[agencies["agency_slug"].eq(agency)]
    if rows.empty:
        return NoData(agency, "agencies", "the agency is not in agencies.csv")
    row = rows.iloc[0]
    if pd.isna(row.get("geoid")) or str(row.get("geoid")).strip() == "":
        return NoData(agency, "population", "no census geography is matched to the agency")
    return str(row["geoid"]), str(row["geo_type"])


# --- disparity ----------------------------------------------------------------------------------------


def _disparity_rows(counts: pd.DataFrame, pop: pd.DataFrame, agency: str) -> list[dict]:
    """counts: one agency's stops with columns year, race, stops (races incl. 'total' when published)."""
    rows: list[dict] = []
    for year, group in counts.groupby("year", sort=True):
        by_race = group.set_index("race")["stops"]
        pop_year = matched_population_year(pop.index, int(year))
        if pop_year is None or not all(r in by_race.index and pd.notna(by_race[r]) for r in POPULATION_RACES):
            continue
        residents = pop.loc[pop_year]
        definitions = {
            "three_groups": (
                sum(int(by_race[r]) for r in POPULATION_RACES),
                sum(int(residents[r]) for r in POPULATION_RACES),
            )
        }
        if "total" in by_race.index and pd.notna(by_race["total"]):
            definitions["all_races"] = (int(by_race["total"]), int(residents["total"]))
        for definition, (stop_total, pop_total) in definitions.items():
            for race in POPULATION_RACES:
                stops, residents_race = int(by_race[race]), int(residents[race])
                base = {
                    "agency_slug": agency,
                    "year": int(year),
                    "race": race,
                    "definition": definition,
                    "stops": stops,
                    "stops_denominator": stop_total,
                    "population_year": int(pop_year),
                    "population": residents_race,
                    "population_denominator": pop_total,
                    "population_share": residents_race / pop_total if pop_total else math.nan,
                    "small_cell": _is_small(stops),
                }
                if stop_total == 0 or residents_race == 0:
                    share = binomial_ci(stops, stop_total) if stop_total else None
                    rows.append(
                        {
                            **base,
                            "stop_share": share.value if share else math.nan,
                            "stop_share_lower": share.lower if share else math.nan,
                            "stop_share_upper": share.upper if share else math.nan,
                            "disparity_ratio": math.nan,
                            "lower": math.nan,
                            "upper": math.nan,
                        }
                    )
                    continue
                share = binomial_ci(stops, stop_total)
                ratio = disparity_ratio(stops, stop_total, residents_race, pop_total)
                rows.append(
                    {
                        **base,
                        "stop_share": share.value,
                        "stop_share_lower": share.lower,
                        "stop_share_upper": share.upper,
                        "disparity_ratio": ratio.value,
                        "lower": ratio.lower,
                        "upper": ratio.upper,
                    }
                )
    return rows


def _disparity_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=DISPARITY_COLUMNS)
    order = {"all_races": 0, "three_groups": 1}
    frame = frame.assign(_d=frame["definition"].map(order), _r=frame["race"].map(POPULATION_RACES.index))
    frame = frame.sort_values(["agency_slug", "year", "_d", "_r"], kind="stable").drop(columns=["_d", "_r"])
    return frame.reset_index(drop=True)


def disparity_table(
    stops: pd.DataFrame, population: pd.DataFrame, agencies: pd.DataFrame, agency: str
) -> pd.DataFrame | NoData:
    """Disparity ratios by year and race for one agency, both definitions where the data allow.

    One row per (year, race, definition); ``small_cell`` marks fewer than SMALL_CELL_THRESHOLD stops.
    """
    geography = agency_geography(agencies, agency)
    if isinstance(geography, NoData):
        return geography
    counts = stops[stops["agency_slug"].eq(agency)][["year", "race", "stops"]].dropna(subset=["stops"])
    if counts.empty:
        return NoData(agency, "stops", "the Missouri Vehicle Stops Report has no stops for this agency")
    pop = population_for(population, geography[0])
    if pop.empty:
        return NoData(agency, "population", "the ACS has no population by race for the agency's census geography")
    rows = _disparity_rows(counts, pop, agency)
    if not rows:
        return NoData(agency, "stops", "no year has stops of White, Black and Hispanic drivers for this agency")
    return _disparity_frame(rows)


def statewide_disparity_table(stops_statewide: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """The same ratios for Missouri as a whole (three-group definition: the statewide file has no totals)."""
    pop = population_for(population, population.loc[population["geo_type"].eq("state"), "geoid"].iloc[0])
    counts = stops_statewide[["year", "race", "stops"]].dropna(subset=["stops"])
    counts = counts[counts["race"].isin(POPULATION_RACES)]
    return _disparity_frame(_disparity_rows(counts, pop, STATE_SLUG))


def headline_disparity(table: pd.DataFrame, race: str = "black") -> pd.Series:
    """The latest year's row for ``race``, all-races definition when published, else three-group."""
    rows = table[table["race"].eq(race) & table["disparity_ratio"].notna()]
    latest = rows[rows["year"].eq(rows["year"].max())]
    preferred = latest[latest["definition"].eq("all_races")]
    return (preferred if len(preferred) else latest).iloc[0]


# --- searches and contraband -------------------------------------------------------------------------


def _outcome_row(
    agency: str, period: str, years: list[int], race: str, stops: int | None, searches: int, contraband: int
) -> dict:
    inconsistent = contraband > searches or (stops is not None and searches > stops)
    nan = Estimate(math.nan, math.nan, math.nan)
    search = binomial_ci(searches, stops) if stops is not None and searches <= stops else None
    hit = binomial_ci(contraband, searches) if contraband <= searches else nan
    return {
        "agency_slug": agency,
        "period": period,
        "years": years_label(years),
        "race": race,
        "stops": stops if stops is not None else pd.NA,
        "searches": searches,
        "search_rate": search.value if search else math.nan,
        "search_lower": search.lower if search else math.nan,
        "search_upper": search.upper if search else math.nan,
        "contraband": contraband,
        "hit_rate": hit.value,
        "hit_lower": hit.lower,
        "hit_upper": hit.upper,
        "small_cell_searches": searches < SMALL_CELL_THRESHOLD,
        "inconsistent": inconsistent,
    }


def _detail_rows(frame: pd.DataFrame, since: int) -> pd.DataFrame:
    need = ["searches", "contraband"]
    return frame[(frame["year"] >= since)].dropna(subset=need)


def consistent(frame: pd.DataFrame) -> pd.Series:
    """False where a published row cannot be right: more contraband finds than searches, or more
    searches than stops (a few agencies report these). Such rows are shown but never pooled or tested."""
    ok = frame["contraband"].le(frame["searches"])
    if "stops" in frame.columns:
        ok &= frame["stops"].isna() | frame["searches"].le(frame["stops"])
    return ok.fillna(False).astype(bool)


def search_outcomes(
    stops: pd.DataFrame,
    agency: str,
    since: int = DETAIL_YEAR,
    races: tuple[str, ...] = ("total", "black", "white", "hispanic"),
) -> pd.DataFrame | NoData:
    """Search and hit rates by race for each year from ``since`` and pooled over those years.

    Works on ``stops`` (one agency) or ``stops_statewide`` (pass agency=STATE_SLUG; it has no
    agency_slug column and its rows lack stops for some races, so search rates may be missing).
    """
    frame = stops if "agency_slug" not in stops.columns else stops[stops["agency_slug"].eq(agency)]
    frame = _detail_rows(frame[frame["race"].isin(races)], since)
    if frame.empty:
        return NoData(agency, "stops", f"no searches or contraband by race are published for this agency since {since}")
    rows = []
    for (year, race), group in frame.groupby(["year", "race"], sort=True):
        row = group.iloc[0]
        stops_n = None if pd.isna(row.get("stops", pd.NA)) else int(row["stops"])
        rows.append(
            _outcome_row(
                agency, str(int(year)), [int(year)], race, stops_n, int(row["searches"]), int(row["contraband"])
            )
        )
    usable = frame[consistent(frame)]
    years = sorted(usable["year"].astype(int).unique())
    pooled_label = f"pooled {years_label(years)}"
    for race, group in usable.groupby("race", sort=True):
        stops_n = None if group["stops"].isna().any() else int(group["stops"].sum()) if "stops" in group else None
        rows.append(
            _outcome_row(
                agency,
                pooled_label,
                sorted(group["year"].astype(int)),
                race,
                stops_n,
                int(group["searches"].sum()),
                int(group["contraband"].sum()),
            )
        )
    out = pd.DataFrame(rows, columns=OUTCOME_COLUMNS)
    out["stops"] = out["stops"].astype("Int64")
    out = out.assign(_p=out["period"].str.startswith("pooled"), _r=out["race"].map(list(races).index))
    return out.sort_values(["_p", "period", "_r"], kind="stable").drop(columns=["_p", "_r"]).reset_index(drop=True)


def pooled(outcomes: pd.DataFrame, race: str) -> pd.Series:
    rows = outcomes[outcomes["period"].str.startswith("pooled") & outcomes["race"].eq(race)]
    if rows.empty:
        raise KeyError(f"no pooled row for race {race!r}")
    return rows.iloc[0]


# --- outcome test -----------------------------------------------------------------------------------


def hit_rate_test(
    stops: pd.DataFrame, agency: str, since: int = DETAIL_YEAR, adjust_for_year: bool = False
) -> OddsRatioTest | NoData:
    """Are searches of Black drivers less likely than searches of white drivers to find contraband?"""
    frame = stops if "agency_slug" not in stops.columns else stops[stops["agency_slug"].eq(agency)]
    frame = _detail_rows(frame, since)
    frame = frame[consistent(frame)]
    if frame[frame["race"].isin(["black", "white"])].empty:
        return NoData(agency, "stops", f"no searches by race are published for this agency since {since}")
    return odds_ratio_test(
        frame, "contraband", "searches", "contraband found per search", adjust_for_year=adjust_for_year
    )


def search_ratio(outcomes: pd.DataFrame) -> Estimate:
    """Black vs white search rate (pooled), as a ratio of rates; searches treated as Poisson counts
    over stops (searches are rare, so this is close to the ratio of proportions)."""
    black, white = pooled(outcomes, "black"), pooled(outcomes, "white")
    if pd.isna(black["stops"]) or pd.isna(white["stops"]) or not black["stops"] or not white["stops"]:
        return Estimate(math.nan, math.nan, math.nan, CONFIDENCE, "exact conditional", 0)
    return rate_ratio(int(black["searches"]), float(black["stops"]), int(white["searches"]), float(white["stops"]))


def enforcement_shares(stops: pd.DataFrame, agency: str, race: str = "black") -> pd.DataFrame | NoData:
    """``race``'s share of stops, citations and stop arrests by year, from 2020 (when totals exist),
    with exact intervals. VSR arrests are arrests that followed a stop, not all arrests."""
    frame = stops[stops["agency_slug"].eq(agency) & stops["race"].isin(["total", race])]
    frame = frame[frame["year"] >= DETAIL_YEAR]
    rows = []
    for year, group in frame.groupby("year", sort=True):
        by_race = group.set_index("race")
        if not {"total", race} <= set(by_race.index):
            continue
        for action in ("stops", "citations", "arrests"):
            k, n = by_race.loc[race, action], by_race.loc["total", action]
            if pd.isna(k) or pd.isna(n) or int(n) == 0 or int(k) > int(n):
                continue
            est = binomial_ci(int(k), int(n))
            rows.append(
                {
                    "agency_slug": agency,
                    "year": int(year),
                    "action": action,
                    "race": race,
                    "count": int(k),
                    "total": int(n),
                    "share": est.value,
                    "lower": est.lower,
                    "upper": est.upper,
                    "small_cell": int(n) < SMALL_CELL_THRESHOLD,
                }
            )
    if not rows:
        return NoData(agency, "stops", f"no totals by race are published for this agency since {DETAIL_YEAR}")
    return pd.DataFrame(rows)


# --- peers -----------------------------------------------------------------------------------------------


def peer_comparison(data: StopsInputs, agency: str, peers: list[str], year: int | None = None) -> pd.DataFrame:
    """One row per agency (the agency, its peers, and Missouri): the Black disparity ratio (three-group
    definition, comparable across all of them) in ``year`` (default: the agency's latest year with
    stops, else the latest year any of them has; an agency without that year shows its latest earlier
    year, named in ``year``) and the search and hit rates pooled from 2020."""
    slugs = [agency, *[p for p in peers if p != agency]]
    tables = {slug: data.disparity(slug) for slug in slugs}
    tables[STATE_SLUG] = data.statewide_disparity()
    if year is None:
        own = tables[agency]
        pool = (
            own
            if not isinstance(own, NoData)
            else pd.concat([t for t in tables.values() if not isinstance(t, NoData)], ignore_index=True)
        )
        year = int(pool["year"].max())
    rows = []
    for slug, table in tables.items():
        role = "agency" if slug == agency else "state" if slug == STATE_SLUG else "peer"
        name = STATE_NAME if slug == STATE_SLUG else listed_name(data.agencies, slug)
        row = {"agency_slug": slug, "name": name, "role": role, "year": pd.NA}
        if not isinstance(table, NoData):
            black = table[table["race"].eq("black") & table["definition"].eq("three_groups") & table["year"].le(year)]
            hit = black[black["year"].eq(black["year"].max())]
            if len(hit):
                h = hit.iloc[0]
                row["year"] = int(h["year"])
                row.update(
                    black_stops=int(h["stops"]),
                    black_stop_share=h["stop_share"],
                    black_population_share=h["population_share"],
                    black_disparity=h["disparity_ratio"],
                    lower=h["lower"],
                    upper=h["upper"],
                )
        source = data.stops_statewide if slug == STATE_SLUG else data.stops
        outcomes = search_outcomes(source, slug)
        if not isinstance(outcomes, NoData):
            for race in ("black", "white"):
                try:
                    p = pooled(outcomes, race)
                except KeyError:
                    continue
                row.update(
                    {
                        f"{race}_searches": int(p["searches"]),
                        f"{race}_search_rate": p["search_rate"],
                        f"{race}_hit_rate": p["hit_rate"],
                    }
                )
            row["outcome_years"] = outcomes["years"].iloc[-1]
        rows.append(row)
    columns = [
        "agency_slug",
        "name",
        "role",
        "year",
        "black_stops",
        "black_stop_share",
        "black_population_share",
        "black_disparity",
        "lower",
        "upper",
        "black_searches",
        "black_search_rate",
        "black_hit_rate",
        "white_searches",
        "white_search_rate",
        "white_hit_rate",
        "outcome_years",
    ]
    out = pd.DataFrame(rows).reindex(columns=columns)
    for column in ("year", "black_stops", "black_searches", "white_searches"):
        out[column] = out[column].astype("Int64")
    order = {"agency": 0, "peer": 1, "state": 2}
    return (
        out.assign(_o=out["role"].map(order))
        .sort_values(["_o", "agency_slug"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


# --- notebook report: figures and claims -------------------------------------------------------------

NOTEBOOK = "04-stops"
SOURCE_LINE = "Missouri AGO Vehicle Stops Report (via Recovered Factory); US Census Bureau ACS 5-year"
DOJ_AGENCY = "ferguson"
"""The 2015 Justice Department figures describe Ferguson only; they are shown for no other agency."""


@dataclass
class StopsInputs:
    stops: pd.DataFrame
    stops_statewide: pd.DataFrame
    population: pd.DataFrame
    agencies: pd.DataFrame
    _tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def once(self, key: tuple, compute: Callable[[], pd.DataFrame | NoData]) -> pd.DataFrame | NoData:
        """``compute()``'s table, computed once per key for these inputs: the notebook reports and draws the
        same per-agency tables (every peer's twice), about a quarter of its time. Each caller gets its own copy."""
        if key not in self._tables:
            self._tables[key] = compute()
        table = self._tables[key]
        return table.copy() if isinstance(table, pd.DataFrame) else table

    def disparity(self, agency: str) -> pd.DataFrame | NoData:
        """disparity_table for one agency."""
        return self.once(
            ("disparity", agency), lambda: disparity_table(self.stops, self.population, self.agencies, agency)
        )

    def statewide_disparity(self) -> pd.DataFrame:
        """statewide_disparity_table."""
        return self.once(
            ("disparity", STATE_SLUG), lambda: statewide_disparity_table(self.stops_statewide, self.population)
        )


INPUT_TABLES = ("stops", "stops_statewide", "population", "agencies")


def load_inputs(folder=None) -> StopsInputs:
    """The processed tables this notebook reads (data/processed unless ``folder`` is given).

    A process reads them once per version of the files (path, size and modification time), and the per-agency
    tables computed from them are kept with them: a kernel that builds several agencies' briefs (a batch, the build
    server) computes each peer's tables once, not once per brief. Each call gets its own copies of the tables, and
    `once` hands out copies of what it keeps, so nothing a notebook changes reaches the next."""
    from heartbeats_analysis.paths import processed_dir

    base = Path(folder or processed_dir())
    versions = tuple((name, *_file_version(base / f"{name}.csv")) for name in INPUT_TABLES)
    tables, computed = _shared_inputs(base, versions)
    inputs = StopsInputs(*(table.copy() for table in tables))
    inputs._tables = computed
    return inputs


def _file_version(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (-1, -1)  # load_table says which table is missing
    return (stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)
def _shared_inputs(folder: Path, versions: tuple) -> tuple[tuple[pd.DataFrame, ...], dict]:
    from heartbeats_analysis.ingest.tables import load_table

    return tuple(load_table(name, folder) for name in INPUT_TABLES), {}


def _fn(name: str) -> str:
    return f"{__name__}.{name}"


def _name(data: StopsInputs, agency: str) -> str:
    return listed_name(data.agencies, agency)


def _record_no_data(ctx, ids: list[tuple[str, str]], reason: NoData, function: str, name: str) -> None:
    for claim_id, unit in ids:
        ctx.claims.record(
            claim_id,
            None,
            unit,
            f"Not available for {name}: {reason.reason}.",
            source=[f"{reason.table}.csv"],
            function=_fn(function),
            notebook=ctx.notebook,
            flags=["no_data"],
        )


DISPARITY_CLAIMS = [
    ("stops.latest_year", "year"),
    ("stops.black_disparity_latest", "ratio"),
    ("stops.black_share_stops_latest", "proportion"),
    ("stops.black_population_share_latest", "proportion"),
]


def report_disparity(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """Disparity ratios for every year; records the latest-year claims and saves the table."""
    from heartbeats_analysis.analysis.stats import format_number as fmt

    table = data.disparity(agency)
    if isinstance(table, NoData):
        _record_no_data(ctx, DISPARITY_CLAIMS, table, "disparity_table", _name(data, agency))
        return table
    save_table(ctx, table, "stops_disparity")
    row = headline_disparity(table)
    name, year = _name(data, agency), int(row["year"])
    definition = (
        "all drivers and all residents"
        if row["definition"] == "all_races"
        else "White, Black and Hispanic drivers and residents only (no total is published for this year)"
    )
    source = ["stops.csv", "population.csv", "agencies.csv"]
    small = bool(row["stops_denominator"] < SMALL_CELL_THRESHOLD)
    flags = ["small_cell"] if small else []
    ctx.claims.record(
        "stops.latest_year",
        year,
        "year",
        f"The latest year of vehicle stop data for {name} is {year}.",
        source=source,
        function=_fn("headline_disparity"),
        notebook=ctx.notebook,
    )
    share = binomial_ci(int(row["stops"]), int(row["stops_denominator"]))
    ctx.claims.record(
        "stops.black_share_stops_latest",
        float(row["stop_share"]),
        "proportion",
        f"In {year}, Black drivers were {fmt(row['stop_share'], 0, True)} of the {int(row['stops_denominator']):,} "
        f"vehicle stops {police_of(name)} reported ({int(row['stops']):,} stops; shares of {definition}).".replace(
            "shares of all drivers and all residents", "all drivers"
        ),
        interval=share.interval,
        interval_kind=share.interval_kind,
        n=int(row["stops_denominator"]),
        source=source,
        function=_fn("disparity_table"),
        notebook=ctx.notebook,
        flags=flags,
    )
    ctx.claims.record(
        "stops.black_population_share_latest",
        float(row["population_share"]),
        "proportion",
        f"Black residents were {fmt(row['population_share'], 0, True)} of {name}'s population in the "
        f"{int(row['population_year'])} American Community Survey 5-year estimate (all ages; the Attorney "
        "General's index counts residents 16 and older).",
        n=int(row["population_denominator"]),
        source=["population.csv"],
        function=_fn("disparity_table"),
        notebook=ctx.notebook,
    )
    ratio = Estimate(
        row["disparity_ratio"],
        row["lower"],
        row["upper"],
        method="exact Clopper-Pearson on the stop share; population share fixed",
    )
    sentence = (
        f"In {year}, Black drivers were stopped by {police_of(name)} {fmt(ratio.value, 2)} times as often as their "
        f"share of residents would predict (95% CI {fmt(ratio.lower, 2)} to {fmt(ratio.upper, 2)}). Residents "
        "are not the same people as drivers on the town's roads, so this ratio measures a gap, not its cause. "
        f"This share ratio cannot exceed {fmt(1 / row['population_share'], 2)} (1 / the Black share of residents), "
        "so it understates the gap where most residents are Black: the per-resident rate ratio is the headline."
    )
    if small:
        sentence = (
            f"{name} reported only {int(row['stops_denominator'])} stops in {year}: too few to read a "
            "disparity ratio from."
        )
    ctx.claims.record(
        "stops.black_disparity_latest",
        float(ratio.value),
        "ratio",
        sentence,
        interval=ratio.interval,
        interval_kind=ratio.interval_kind,
        n=int(row["stops_denominator"]),
        source=source,
        function=_fn("disparity_table"),
        notebook=ctx.notebook,
        flags=flags,
    )
    return table


def _gapped(series: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar year between the first and last; a missing year is NaN, so a plotted line
    breaks there instead of bridging the gap."""
    years = series["year"].astype(int)
    frame = series.set_index(years).drop(columns="year").reindex(range(years.min(), years.max() + 1))
    return frame.rename_axis("year")


def figure_black_share(ctx, data: StopsInputs, agency: str):
    """Line chart: Black share of stops (with 95% CI) and of residents, by year; for Ferguson the DOJ
    2015 published shares are drawn beside as separate reference markers, never joined to our line."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.analysis.reference import get as get_reference
    from heartbeats_analysis.report.style import (
        AGENCY_COLOUR,
        PEER_COLOUR,
        REFERENCE_COLOUR,
        apply_style,
        save_figure,
    )

    table = data.disparity(agency)
    if isinstance(table, NoData):
        return table
    series = table[table["race"].eq("black") & table["definition"].eq("three_groups")].reset_index(drop=True)
    name = _name(data, agency)
    apply_style()
    fig, ax = plt.subplots()
    years = series["year"].to_numpy()
    # Reindexing on every year leaves NaN in a missing year, so the line breaks instead of bridging it.
    gapped = _gapped(series)
    ax.fill_between(
        gapped.index,
        gapped["stop_share_lower"].astype(float),
        gapped["stop_share_upper"].astype(float),
        color=AGENCY_COLOUR,
        alpha=0.2,
        linewidth=0,
    )
    ax.plot(gapped.index, gapped["stop_share"], marker="o", color=AGENCY_COLOUR, label="Black share of stops (95% CI)")
    ax.plot(
        gapped.index,
        gapped["population_share"],
        marker="s",
        color=PEER_COLOUR,
        linestyle="--",
        label="Black share of residents (ACS, all ages)",
    )
    plotted = series[
        ["year", "stops", "stops_denominator", "stop_share", "stop_share_lower", "stop_share_upper", "population_share"]
    ].assign(series="ours: AGO Vehicle Stops Report and ACS")
    if agency == DOJ_AGENCY:
        stop_ref, pop_ref = get_reference("doj_black_stop_share"), get_reference("doj_black_population_share")
        ax.scatter(
            [2013, 2013],
            [stop_ref.value, pop_ref.value],
            marker="D",
            facecolors="none",
            edgecolors=REFERENCE_COLOUR,
            s=60,
            zorder=5,
            label="DOJ 2015 report, published (stops 2012-14; residents 2010 census)",
        )
        plotted = pd.concat(
            [
                plotted,
                pd.DataFrame(
                    {
                        "year": [2013, 2013],
                        "stop_share": [stop_ref.value, None],
                        "population_share": [None, pop_ref.value],
                        "series": ["published: DOJ 2015 report (reference only)"] * 2,
                    }
                ),
            ],
            ignore_index=True,
        )
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("Year")
    ax.set_ylabel("Share (White, Black and Hispanic only)")
    ax.set_title(f"{name}: Black share of stops and of residents")
    ax.legend(loc="lower left")
    first, last = series.iloc[0], series.iloc[-1]
    missing = sorted(set(range(int(years.min()), int(years.max()) + 1)) - set(years.tolist()))
    alt = (
        f"Line chart of {name}: Black drivers were {first['stop_share']:.0%} of stops in {int(first['year'])} "
        f"and {last['stop_share']:.0%} in {int(last['year'])}, while Black residents were "
        f"{first['population_share']:.0%} and {last['population_share']:.0%} of the population. "
        + (f"No report for {years_label(missing)} (a gap in the lines). " if missing else "")
        + (
            "Separate diamond markers show the Justice Department's 2015 figures: 85% of stops and 67% of residents."
            if agency == DOJ_AGENCY
            else ""
        )
    )
    source_line = SOURCE_LINE + ("; DOJ 2015 (diamonds)" if agency == DOJ_AGENCY else "")
    return save_figure(
        fig,
        f"{ctx.notebook}-black-share",
        title=f"{name}: Black share of stops and of residents",
        data=plotted,
        alt_text=alt.strip(),
        source_line=source_line,
        notebook=ctx.notebook,
        function=_fn("figure_black_share"),
        out_dir=ctx.figures_dir,
    )


def figure_disparity_peers(ctx, data: StopsInputs, agency: str, peers: list[str]):
    """Line chart: the Black disparity ratio (three-group definition) by year for the agency (with CI),
    each peer (grey) and Missouri as a whole."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.report.style import (
        AGENCY_COLOUR,
        PALETTE,
        PEER_COLOUR,
        apply_style,
        save_figure,
    )

    own = data.disparity(agency)
    if isinstance(own, NoData):
        return own
    apply_style()
    fig, ax = plt.subplots()
    frames = []
    for peer in [p for p in peers if p != agency]:
        table = data.disparity(peer)
        if isinstance(table, NoData):
            continue
        line = table[table["race"].eq("black") & table["definition"].eq("three_groups")]
        gapped = _gapped(line)
        ax.plot(gapped.index, gapped["disparity_ratio"].astype(float), color=PEER_COLOUR, linewidth=0.8, alpha=0.7)
        frames.append(line.assign(series=_name(data, peer), role="peer"))
    state = data.statewide_disparity()
    state_line = state[state["race"].eq("black") & state["definition"].eq("three_groups")]
    ax.plot(
        state_line["year"],
        state_line["disparity_ratio"],
        color=PALETTE["black"],
        linestyle=":",
        label="Missouri (statewide)",
    )
    frames.append(state_line.assign(series=STATE_NAME, role="state"))
    line = own[own["race"].eq("black") & own["definition"].eq("three_groups")]
    gapped = _gapped(line)
    ratio = gapped["disparity_ratio"].astype(float)
    errors = [ratio - gapped["lower"].astype(float), gapped["upper"].astype(float) - ratio]
    ax.errorbar(
        gapped.index,
        ratio,
        yerr=errors,
        color=AGENCY_COLOUR,
        marker="o",
        capsize=3,
        linewidth=2,
        label=f"{_name(data, agency)} (95% CI)",
    )
    frames.append(line.assign(series=_name(data, agency), role="agency"))
    ax.plot([], [], color=PEER_COLOUR, label="Peer agencies")
    ax.axhline(1.0, color="#555555", linewidth=0.8)
    ax.set_xlabel("Year")
    ax.set_ylabel("Share of stops / share of residents")
    ax.set_title("Black drivers: disparity ratio, agency, peers and state")
    ax.legend(loc="upper right")
    plotted = pd.concat(frames, ignore_index=True)[
        [
            "series",
            "role",
            "year",
            "stops",
            "stops_denominator",
            "stop_share",
            "population_share",
            "disparity_ratio",
            "lower",
            "upper",
        ]
    ]
    last = line.iloc[-1]
    state_last = state_line[state_line["year"].eq(last["year"])]
    peer_last = plotted[plotted["role"].eq("peer") & plotted["year"].eq(last["year"])]["disparity_ratio"]
    alt = (
        f"Line chart of the ratio of Black drivers' share of stops to Black residents' share. "
        f"{_name(data, agency)}: {line.iloc[0]['disparity_ratio']:.2f} in {int(line.iloc[0]['year'])} and "
        f"{last['disparity_ratio']:.2f} in {int(last['year'])}. "
        + (
            f"Missouri statewide in {int(last['year'])}: {state_last.iloc[0]['disparity_ratio']:.2f}. "
            if len(state_last)
            else ""
        )
        + (
            f"{len(peer_last)} peer agencies that year ranged from {peer_last.min():.2f} to {peer_last.max():.2f}. "
            if len(peer_last)
            else ""
        )
        + "A ratio of 1 means stops in proportion to residents."
    )
    return save_figure(
        fig,
        f"{ctx.notebook}-disparity-peers",
        title="Black drivers' disparity ratio: agency, peers, state",
        data=plotted,
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_disparity_peers"),
        out_dir=ctx.figures_dir,
    )


SEARCH_CLAIMS = [
    ("stops.black_search_rate", "proportion"),
    ("stops.white_search_rate", "proportion"),
    ("stops.search_rate_ratio", "ratio"),
    ("stops.hit_rate_black", "proportion"),
    ("stops.hit_rate_white", "proportion"),
]


def _rate_claim(ctx, claim_id: str, row: pd.Series, rate: str, name: str, race_words: str) -> None:
    from heartbeats_analysis.analysis.stats import format_number as fmt

    if rate == "search":
        k, n, value = row["searches"], row["stops"], row["search_rate"]
        what = f"searched {fmt(value, 1, True)} of the {int(n):,} {race_words} they stopped ({int(k):,} searches)"
    else:
        k, n, value = row["contraband"], row["searches"], row["hit_rate"]
        what = f"found contraband in {fmt(value, 0, True)} of {int(n):,} searches of {race_words} ({int(k):,} finds)"
    small = _is_small(row["searches"])
    sentence = f"In {row['years']} (pooled), {police_of(name)} {what}."
    est = binomial_ci(int(k), int(n))
    flags = ["small_cell"] if small else []
    if small:
        sentence += f" That rests on fewer than {SMALL_CELL_THRESHOLD} searches: too few to read a rate from."
    elif int(n) < SMALL_N_RATE:
        # A rate from a few dozen trials has an interval tens of points wide: say so beside the rate.
        sentence += (
            f" Only {int(n):,} {'stops' if rate == 'search' else 'searches'} over these years: the 95% CI runs "
            f"from {fmt(est.lower, 0, True)} to {fmt(est.upper, 0, True)}."
        )
        flags.append("small_n")
    ctx.claims.record(
        claim_id,
        None if pd.isna(value) else float(value),
        "proportion",
        sentence,
        interval=est.interval,
        interval_kind=est.interval_kind,
        n=int(n),
        source=["stops.csv"],
        function=_fn("search_outcomes"),
        notebook=ctx.notebook,
        flags=flags,
    )


def report_search_outcomes(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """Search and contraband hit rates by race, per year and pooled from 2020; records pooled claims."""
    from heartbeats_analysis.analysis.stats import format_number as fmt

    outcomes = search_outcomes(data.stops, agency)
    if isinstance(outcomes, NoData):
        _record_no_data(ctx, SEARCH_CLAIMS, outcomes, "search_outcomes", _name(data, agency))
        return outcomes
    save_table(ctx, outcomes, "stops_search_outcomes")
    name = _name(data, agency)
    black, white = pooled(outcomes, "black"), pooled(outcomes, "white")
    _rate_claim(ctx, "stops.black_search_rate", black, "search", name, "Black drivers")
    _rate_claim(ctx, "stops.white_search_rate", white, "search", name, "white drivers")
    _rate_claim(ctx, "stops.hit_rate_black", black, "hit", name, "Black drivers")
    _rate_claim(ctx, "stops.hit_rate_white", white, "hit", name, "white drivers")
    ratio = search_ratio(outcomes)
    small = _is_small(black["searches"]) or _is_small(white["searches"])
    if small:
        sentence = (
            f"Too few searches ({int(black['searches'])} of Black and {int(white['searches'])} of white "
            f"drivers in {black['years']}) to compare {name}'s search rates by race."
        )
    elif ratio.excludes(1.0):
        more = "more" if ratio.value > 1 else "less"
        sentence = (
            f"In {black['years']}, {police_of(name)} searched stopped Black drivers {more} often than stopped "
            f"white drivers: {fmt(ratio.value, 2)} times the white drivers' search rate (95% CI "
            f"{fmt(ratio.lower, 2)} to {fmt(ratio.upper, 2)})."
        )
    else:
        sentence = (
            f"In {black['years']}, the search rates of stopped Black and white drivers in {name} were not "
            f"clearly different: ratio {fmt(ratio.value, 2)} (95% CI {fmt(ratio.lower, 2)} to "
            f"{fmt(ratio.upper, 2)})."
        )
    ctx.claims.record(
        "stops.search_rate_ratio",
        None if not math.isfinite(ratio.value) else float(ratio.value),
        "ratio",
        sentence,
        interval=ratio.interval,
        interval_kind=ratio.interval_kind,
        n=ratio.n,
        source=["stops.csv"],
        function=_fn("search_ratio"),
        notebook=ctx.notebook,
        flags=["small_cell"] if small else [],
    )
    return outcomes


def _or_sentence(test: OddsRatioTest, name: str) -> str:
    from heartbeats_analysis.analysis.stats import format_number as fmt

    years = years_label(test.years)
    rates = (
        f"{fmt(test.group_rate, 0, True)} of {test.group_trials:,} searches of Black drivers found contraband "
        f"vs {fmt(test.reference_rate, 0, True)} of {test.reference_trials:,} searches of white drivers"
    )
    if test.small_cell:
        return (
            f"In {years}, {rates} in {name}. The white-driver searches are too few to tell whether the "
            f"difference is real (odds ratio {fmt(test.glm.value, 2)}; exact 95% CI {fmt(test.exact.lower, 2)} "
            f"to {fmt(test.exact.upper, 2)})."
        )
    verdict = "less likely" if test.glm.upper < 1 else "more likely" if test.glm.lower > 1 else None
    if verdict:
        return (
            f"In {years}, {rates} in {name}: searches of Black drivers were {verdict} to find contraband "
            f"(odds ratio {fmt(test.glm.value, 2)}, 95% CI {fmt(test.glm.lower, 2)} to "
            f"{fmt(test.glm.upper, 2)})."
        )
    return (
        f"In {years}, {rates} in {name}; the difference is within chance (odds ratio {fmt(test.glm.value, 2)}, "
        f"95% CI {fmt(test.glm.lower, 2)} to {fmt(test.glm.upper, 2)})."
    )


def report_hit_rate_test(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """The binomial GLM outcome test for the agency and for Missouri; records stops.hit_rate_or and
    stops.state_hit_rate_or, plus stops.hit_rate_ratio (ratio of hit rates, beside the DOJ's "26% less
    likely"). Returns both tests as one table."""
    from heartbeats_analysis.analysis.stats import format_number as fmt

    name = _name(data, agency)
    test = hit_rate_test(data.stops, agency)
    state = hit_rate_test(data.stops_statewide, STATE_SLUG, adjust_for_year=True)
    frames = []
    if isinstance(test, NoData):
        _record_no_data(ctx, [("stops.hit_rate_or", "odds ratio")], test, "hit_rate_test", _name(data, agency))
    else:
        frames.append(test.as_frame().assign(geography=name))
        rr = test.risk_ratio
        rr_sentence = (
            f"Searches of Black drivers in {name} found contraband at {fmt(rr.value, 2)} times the rate of "
            f"searches of white drivers ({years_label(test.years)}; 95% CI {fmt(rr.lower, 2)} to "
            f"{fmt(rr.upper, 2)})."
        )
        if test.small_cell:
            rr_sentence += " The white-driver searches are too few to read this ratio."
        ctx.claims.record(
            "stops.hit_rate_ratio",
            None if not math.isfinite(rr.value) else rr.value,
            "ratio",
            rr_sentence,
            interval=rr.interval,
            interval_kind=rr.interval_kind,
            n=test.n,
            source=["stops.csv"],
            function=_fn("hit_rate_test"),
            notebook=ctx.notebook,
            flags=["small_cell"] if test.small_cell else [],
        )
        # With a cell under 5 the GLM's Wald interval is unreliable: the claim carries the exact one.
        shown = test.exact if test.small_cell else test.glm
        ctx.claims.record(
            "stops.hit_rate_or",
            None if not math.isfinite(test.glm.value) else test.glm.value,
            "odds ratio",
            _or_sentence(test, name),
            interval=shown.interval,
            interval_kind=shown.interval_kind,
            n=test.n,
            source=["stops.csv"],
            function=_fn("hit_rate_test"),
            notebook=ctx.notebook,
            flags=["small_cell"] if test.small_cell else [],
        )
    if not isinstance(state, NoData):
        from heartbeats_analysis.analysis.outcome_tests import heterogeneity, yearly_odds_ratios

        frames.append(state.as_frame().assign(geography=STATE_NAME + ", adjusted for year"))
        yearly = yearly_odds_ratios(data.stops_statewide)
        split = heterogeneity(yearly)["heterogeneous"]
        caveat = (
            " (Statewide model adjusted for year.) But the yearly odds ratios disagree (Breslow-Day p < 0.05; "
            f"from {fmt(yearly['odds_ratio'].min(), 2)} to {fmt(yearly['odds_ratio'].max(), 2)}): the pooled figure "
            "averages years that point in opposite directions and is not a finding on its own."
            if split
            else " (Statewide model adjusted for year; the yearly odds ratios agree within chance.)"
        )
        ctx.claims.record(
            "stops.state_hit_rate_or",
            state.glm.value,
            "odds ratio",
            _or_sentence(state, "Missouri as a whole") + caveat,
            interval=state.glm.interval,
            interval_kind=state.glm.interval_kind,
            n=state.n,
            source=["stops_statewide.csv"],
            function=_fn("hit_rate_test"),
            notebook=ctx.notebook,
            flags=["heterogeneous"] if split else [],
        )
    if not frames:
        return test
    table = pd.concat(frames, ignore_index=True)
    save_table(ctx, table, "stops_hit_rate_test")
    return table


def figure_search_outcomes(ctx, data: StopsInputs, agency: str):
    """Dot-and-interval chart: pooled search rate and hit rate for Black and white drivers, agency vs state."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.report.style import (
        AGENCY_COLOUR,
        PALETTE,
        apply_style,
        save_figure,
    )

    own = search_outcomes(data.stops, agency)
    if isinstance(own, NoData):
        return own
    state = search_outcomes(data.stops_statewide, STATE_SLUG)
    name = _name(data, agency)
    rows = []
    for label, outcomes in ((name, own), (STATE_NAME, state)):
        if isinstance(outcomes, NoData):
            continue
        for race in ("black", "white"):
            try:
                p = pooled(outcomes, race)
            except KeyError:
                continue
            rows.append(
                {
                    "geography": label,
                    "race": race,
                    "years": p["years"],
                    "searches": p["searches"],
                    "stops": p["stops"],
                    "search_rate": p["search_rate"],
                    "search_lower": p["search_lower"],
                    "search_upper": p["search_upper"],
                    "contraband": p["contraband"],
                    "hit_rate": p["hit_rate"],
                    "hit_lower": p["hit_lower"],
                    "hit_upper": p["hit_upper"],
                    "small_cell_searches": p["small_cell_searches"],
                }
            )
    plotted = pd.DataFrame(rows)
    apply_style()
    fig, axes = plt.subplots(1, 2, sharey=True)
    colours = {name: AGENCY_COLOUR, STATE_NAME: PALETTE["black"]}
    labels = [f"{g}\n{r.capitalize()} drivers" for g, r in zip(plotted["geography"], plotted["race"], strict=True)]
    ypos = np.arange(len(plotted))[::-1]
    for ax, (rate, title) in zip(
        axes, (("search", "Searched per stop"), ("hit", "Contraband per search")), strict=True
    ):
        for y, (_, r) in zip(ypos, plotted.iterrows(), strict=True):
            value = r[f"{rate}_rate"]
            if pd.isna(value):
                continue
            ax.errorbar(
                value,
                y,
                xerr=[[value - r[f"{rate}_lower"]], [r[f"{rate}_upper"] - value]],
                fmt="o",
                color=colours[r["geography"]],
                mfc="white" if r["small_cell_searches"] else None,
                capsize=3,
            )
        ax.set_title(title)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_xlim(left=0)
    axes[0].set_yticks(ypos, labels)
    fig.suptitle(
        f"Searches and contraband by driver race, pooled from {DETAIL_YEAR}", fontweight="bold", x=0.01, ha="left"
    )
    parts = []
    for _, r in plotted.iterrows():
        parts.append(
            f"{r['geography']}, {r['race']} drivers: searched "
            + ("n/a" if pd.isna(r["search_rate"]) else f"{r['search_rate']:.1%}")
            + f", contraband found in {r['hit_rate']:.0%} of {int(r['searches']):,} searches"
        )
    alt = "Dot chart with 95% intervals. " + "; ".join(parts) + ". Hollow dots mark fewer than 10 searches."
    return save_figure(
        fig,
        f"{ctx.notebook}-search-outcomes",
        title="Search and contraband hit rates by race",
        data=plotted,
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_search_outcomes"),
        out_dir=ctx.figures_dir,
    )


def report_peers(ctx, data: StopsInputs, agency: str, peers: list[str]) -> pd.DataFrame:
    """The agency beside its peers and Missouri; records the peer median and the state ratio."""
    from heartbeats_analysis.analysis.stats import format_number as fmt

    table = peer_comparison(data, agency, peers)
    save_table(ctx, table, "stops_peers")
    year = int(table["year"].dropna().max())
    same_year = table["year"].eq(year).fillna(False).astype(bool)
    peer_values = table.loc[table["role"].eq("peer") & same_year, "black_disparity"].dropna()
    if len(peer_values):
        ceilings = 1 / table.loc[peer_values.index, "black_population_share"].astype(float)
        ctx.claims.record(
            "stops.peer_black_disparity_median",
            float(peer_values.median()),
            "ratio",
            f"In {year}, the Black disparity ratio of the {len(peer_values)} peer agencies with stop data had a median "
            f"of {fmt(peer_values.median(), 2)} (range {fmt(peer_values.min(), 2)} to {fmt(peer_values.max(), 2)}; "
            "shares within White, Black and Hispanic drivers and residents). Each town's ratio has its own ceiling "
            f"(1 / its Black share of residents: {fmt(ceilings.min(), 1)} to {fmt(ceilings.max(), 1)} among these "
            "peers), so the share ratio is not used to rank them; the per-resident rate ratio compares them alike.",
            interval=(float(peer_values.min()), float(peer_values.max())),
            interval_kind="range across peers",
            n=len(peer_values),
            source=["stops.csv", "population.csv", "agencies.csv"],
            function=_fn("peer_comparison"),
            notebook=ctx.notebook,
        )
    state = table[table["role"].eq("state")].iloc[0]
    if pd.notna(state["black_disparity"]):
        year = int(state["year"])
        ctx.claims.record(
            "stops.state_black_disparity",
            float(state["black_disparity"]),
            "ratio",
            f"Across Missouri in {year}, Black drivers were {fmt(state['black_stop_share'], 0, True)} of stops of "
            f"White, Black and Hispanic drivers and Black residents {fmt(state['black_population_share'], 0, True)} "
            f"of those residents: a disparity ratio of {fmt(state['black_disparity'], 2)} (ceiling "
            f"{fmt(1 / state['black_population_share'], 1)}, so not comparable with a majority-Black town's).",
            interval=(float(state["lower"]), float(state["upper"])),
            interval_kind="95% CI (exact Clopper-Pearson on the stop share; population share fixed)",
            n=None,
            source=["stops_statewide.csv", "population.csv"],
            function=_fn("peer_comparison"),
            notebook=ctx.notebook,
        )
    return table


def report_references(ctx, data: StopsInputs, agency: str) -> pd.DataFrame:
    """The DOJ 2015 published figures beside our latest computed ones (Ferguson only), recorded as
    reference claims. Nothing is computed from the published figures."""
    from heartbeats_analysis.analysis.reference import (
        STOPS_REFERENCE_IDS,
        get,
        record_references,
    )

    if agency != DOJ_AGENCY:
        return pd.DataFrame(
            {
                "note": [
                    f"The 2015 Justice Department figures describe Ferguson only; none are "
                    f"shown for {_name(data, agency)}."
                ]
            }
        )
    record_references(ctx.claims, STOPS_REFERENCE_IDS, ctx.notebook)
    ours = {
        "doj_black_population_share": "stops.black_population_share_latest",
        "doj_black_stop_share": "stops.black_share_stops_latest",
        "doj_black_citation_share": "stops.black_share_citations_latest",
        "doj_black_arrest_share": "stops.black_share_arrests_latest",
        "doj_black_search_ratio": "stops.search_rate_ratio",
        "doj_black_contraband_less_likely": "stops.hit_rate_ratio",
    }
    rows = []
    for ref_id in STOPS_REFERENCE_IDS:
        ref = get(ref_id)
        claim_id = ours.get(ref_id)
        claim = ctx.claims[claim_id] if claim_id and claim_id in ctx.claims else None
        value, unit = (claim.value, claim.unit) if claim else (None, None)
        if ref_id == "doj_black_contraband_less_likely" and isinstance(value, float):
            # The DOJ states the gap as "x% less likely"; restate our ratio the same way, beside theirs.
            value, unit = 1 - value, "proportion (1 - ratio of hit rates)"
        rows.append(
            {
                "measure": ref.label,
                "DOJ 2015 (published)": ref.value,
                "DOJ unit": ref.unit,
                "DOJ years": ref.years,
                "ours (computed)": value,
                "our unit": unit,
                "our claim": claim_id,
                "our basis": claim.sentence if claim else "not computed from public data",
            }
        )
    return pd.DataFrame(rows)


ENFORCEMENT_CLAIMS = [
    ("stops.black_share_citations_latest", "proportion"),
    ("stops.black_share_arrests_latest", "proportion"),
]


def report_enforcement_shares(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """Black share of citations and of stop arrests in the latest year (beside the DOJ's 90% and 93%)."""
    from heartbeats_analysis.analysis.stats import format_number as fmt

    shares = enforcement_shares(data.stops, agency)
    if isinstance(shares, NoData):
        _record_no_data(ctx, ENFORCEMENT_CLAIMS, shares, "enforcement_shares", _name(data, agency))
        return shares
    save_table(ctx, shares, "stops_enforcement_shares")
    name = _name(data, agency)
    for action, claim_id, words, verb in (
        ("citations", "stops.black_share_citations_latest", "citations issued", "went to"),
        ("arrests", "stops.black_share_arrests_latest", "arrests made", "were of"),
    ):
        rows = shares[shares["action"].eq(action)]
        if rows.empty:
            _record_no_data(
                ctx,
                [(claim_id, "proportion")],
                NoData(agency, "stops", f"no {action} by race are published for this agency"),
                "enforcement_shares",
                name,
            )
            continue
        r = rows[rows["year"].eq(rows["year"].max())].iloc[0]
        sentence = (
            f"In {int(r['year'])}, {int(r['count']):,} of the {int(r['total']):,} {words} by {police_of(name)} "
            f"during vehicle stops ({fmt(r['share'], 0, True)}) {verb} Black people."
        )
        if r["small_cell"]:
            sentence += " That is too few to read a share from."
        claim_flags = ["small_cell"] if r["small_cell"] else []
        if action == "arrests":
            from heartbeats_analysis.analysis.stops_benchmarks import arrest_context

            context, jump_flags = arrest_context(data, agency)
            sentence += context
            claim_flags += jump_flags
        ctx.claims.record(
            claim_id,
            float(r["share"]),
            "proportion",
            sentence,
            interval=(float(r["lower"]), float(r["upper"])),
            interval_kind="95% CI (exact Clopper-Pearson)",
            n=int(r["total"]),
            source=["stops.csv"],
            function=_fn("enforcement_shares"),
            notebook=ctx.notebook,
            flags=claim_flags,
        )
    return shares
