"""Fatal police use of force: counts and rates per million residents for the agency, St. Louis County
and Missouri, by race, from two sources; the share involving mental illness; and what the public
data cannot show about non-fatal force.

Inputs: ``fatal_force`` (one row per incident and source), ``fatal_force_us_summary`` (yearly totals
for Missouri and the US), ``population`` and ``agencies``.

* Sources are never added together. Mapping Police Violence (MPV) counts every killing by police
  (shootings, tasers, restraint...) from 2013 to August 2020; the Washington Post's Fatal Force counts
  fatal shootings by on-duty officers from 2015 to April 2024. Each is used over its full calendar
  years only (``SOURCE_YEARS``) so a partial year does not pull a rate down.
* A rate is incidents / person-years x 1,000,000, where person-years sum the ACS population of each
  year in the window (a year outside the ACS range uses the nearest ACS year). Intervals are exact
  Poisson (Garwood); Black vs white is an exact conditional rate ratio.
* Fewer than SMALL_CELL_THRESHOLD incidents is a small cell: the rate is still computed (so the
  table is complete) but flagged, and sentences say it is too small to read a rate from.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

from heartbeats_analysis.analysis import NoData, listed_name, police_of, save_table
from heartbeats_analysis.analysis.population import (
    matched_population_year,
    population_for,
)
from heartbeats_analysis.analysis.stats import (
    binomial_ci,
    format_number,
    poisson_rate_ci,
    rate_ratio,
)
from heartbeats_analysis.ingest.sources.base import SMALL_CELL_THRESHOLD

COUNTY_FORCE_SLUG = "st-louis-county"
COUNTY_FORCE_FULL_YEARS = (2018, 2020)
"""Full calendar years of the county's force file: force before 2018 appears only when reported from 2018 on,
and the file ends on 2021-04-20."""
COUNTY_FORCE_SOURCE = "St. Louis County Police use-of-force records (via OpenPoliceData)"

SOURCE_YEARS = {"mpv": (2013, 2019), "wapo": (2015, 2023)}
"""Full calendar years covered: MPV runs to 2020-08-22, the Post's file to 2024-04-04 (MANIFEST.csv).
Used only when the summary table lacks its ``complete_year`` flag (see :func:`full_years`)."""
SOURCE_NAMES = {"mpv": "Mapping Police Violence", "wapo": "the Washington Post's Fatal Force"}
SOURCE_SHORT = {"mpv": "MPV", "wapo": "Wash. Post"}
SOURCE_LABELS = {
    "mpv": "Mapping Police Violence (all killings by police)",
    "wapo": "the Washington Post's Fatal Force (fatal shootings by on-duty police)",
}
WAPO_CODING_CHANGE_YEAR = 2021
"""From 2021 the Post's mental-illness share falls by about a third; a coding change is the likely cause
(the v2 schema); the two periods are reported separately, never pooled."""
PER = 1_000_000
COUNTY_GEOID = "29189"
STATE_GEOID = "29"
RACES = ("black", "white")
RACE_CODES = {"b": "black", "black": "black", "w": "white", "white": "white"}

RATE_COLUMNS = [
    "geography",
    "level",
    "source",
    "years",
    "race",
    "incidents",
    "person_years",
    "rate_per_million",
    "lower",
    "upper",
    "small_cell",
]


def full_years(summary: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Each source's first and last complete calendar year, from the summary's ``complete_year`` flag
    (falls back to SOURCE_YEARS for a source the summary lacks)."""
    out = dict(SOURCE_YEARS)
    if "complete_year" in summary.columns:
        complete = summary[summary["complete_year"].astype(bool)]
        for source, years in complete.groupby("source")["year"]:
            out[str(source)] = (int(years.min()), int(years.max()))
    return {source: out[source] for source in sorted(out)}


def _race(value: object) -> str | None:
    if pd.isna(value):
        return None
    return RACE_CODES.get(str(value).strip().lower(), str(value).strip().lower())


def agency_incidents(fatal_force: pd.DataFrame, agency: str) -> pd.DataFrame:
    """Incidents in which the agency took part (its slug among the ';'-joined agency_slugs)."""
    slugs = fatal_force["agency_slugs"].fillna("").astype(str).str.split(";")
    return fatal_force[slugs.map(lambda items: agency in [s.strip() for s in items])]


def county_incidents(fatal_force: pd.DataFrame) -> pd.DataFrame:
    return fatal_force[fatal_force["in_st_louis_county"].fillna(False).astype(bool)]


def person_years(pop: pd.DataFrame, years: range, race: str = "total") -> tuple[float, list[int]]:
    """Sum of residents over the years, each year taking the nearest ACS year; returns the ACS years used."""
    used = [matched_population_year(pop.index, y) for y in years]
    if any(u is None for u in used):
        return math.nan, []
    return float(sum(int(pop.loc[u, race]) for u in used)), sorted(set(used))


def _rate_row(
    geography: str, level: str, source: str, years: range, race: str, incidents: int, exposure: float
) -> dict:
    est = poisson_rate_ci(incidents, exposure, per=PER) if exposure and exposure > 0 else None
    return {
        "geography": geography,
        "level": level,
        "source": source,
        "years": f"{years.start}-{years.stop - 1}",
        "race": race,
        "incidents": incidents,
        "person_years": exposure,
        "rate_per_million": est.value if est else math.nan,
        "lower": est.lower if est else math.nan,
        "upper": est.upper if est else math.nan,
        "small_cell": incidents < SMALL_CELL_THRESHOLD,
    }


def _count(incidents: pd.DataFrame, source: str, years: range, race: str) -> int:
    rows = incidents[incidents["source"].eq(source) & incidents["year"].between(years.start, years.stop - 1)]
    if race != "total":
        rows = rows[rows["race"].map(_race).eq(race)]
    return int(len(rows))


def _state_count(summary: pd.DataFrame, source: str, years: range, race: str) -> int | None:
    rows = summary[
        summary["source"].eq(source) & summary["state"].eq("MO") & summary["year"].between(years.start, years.stop - 1)
    ]
    column = {"total": "incidents", "black": "black"}.get(race)
    if column is None or column not in rows or rows[column].isna().any():
        return None
    return int(rows[column].sum())


@dataclass
class Geography:
    name: str
    level: str  # "agency", "county" or "state"
    geoid: str


def _agency_geography(agencies: pd.DataFrame, agency: str) -> Geography | NoData:
    rows = agencies[agencies["agency_slug"].eq(agency)]
    if rows.empty:
        return NoData(agency, "agencies", f"{agency} is not in agencies.csv")
    row = rows.iloc[0]
    if pd.isna(row.get("geoid")) or str(row["geoid"]).strip() == "":
        return NoData(agency, "population", f"no census geography is matched to {row['display_name']}")
    return Geography(str(row["display_name"]), "agency", str(row["geoid"]))


def fatal_force_rates(
    fatal_force: pd.DataFrame,
    summary: pd.DataFrame,
    population: pd.DataFrame,
    agencies: pd.DataFrame,
    agency: str,
    source_years: dict[str, tuple[int, int]] | None = None,
    linked: Collection[str] | None = None,
) -> pd.DataFrame:
    """Incidents and rates per million residents per year, by source, geography and race.

    Rows for the agency (when it has a census geography and is a city police department: a county
    police department's service area is not a census geography), St. Louis County (incidents located
    in the county, all agencies) and Missouri. Missouri's white count comes from the incident table
    when it covers the whole state, else it is left out. ``linked`` names the agencies whose incidents
    the incident table links by slug (None: all); for any other agency a zero would be false, so it
    gets no row.
    """
    source_years = source_years or full_years(summary)
    geographies: list[tuple[Geography, pd.DataFrame | None]] = []
    own = _agency_geography(agencies, agency)
    agency_row = agencies[agencies["agency_slug"].eq(agency)]
    is_city = not agency_row.empty and str(agency_row.iloc[0].get("geo_type", "")) == "place"
    if not isinstance(own, NoData) and is_city and (linked is None or agency in linked):
        geographies.append((own, agency_incidents(fatal_force, agency)))
    geographies.append(
        (Geography("St. Louis County (all agencies)", "county", COUNTY_GEOID), county_incidents(fatal_force))
    )
    statewide_rows = fatal_force if _covers_state(fatal_force) else None
    geographies.append((Geography("Missouri", "state", STATE_GEOID), statewide_rows))
    rows = []
    for geo, incidents in geographies:
        pop = population_for(population, geo.geoid)
        if pop.empty:
            continue
        for source, (first, last) in source_years.items():
            years = range(first, last + 1)
            for race in ("total", *RACES):
                exposure, _ = person_years(pop, years, race)
                if incidents is not None:
                    count = _count(incidents, source, years, race)
                else:
                    count = _state_count(summary, source, years, race)
                    if count is None:
                        continue
                rows.append(_rate_row(geo.name, geo.level, source, years, race, count, exposure))
    out = pd.DataFrame(rows, columns=RATE_COLUMNS)
    order = {"agency": 0, "county": 1, "state": 2}
    race_order = {"total": 0, "black": 1, "white": 2}
    out = out.assign(_l=out["level"].map(order), _r=out["race"].map(race_order))
    return out.sort_values(["_l", "source", "_r"], kind="stable").drop(columns=["_l", "_r"]).reset_index(drop=True)


def _covers_state(fatal_force: pd.DataFrame) -> bool:
    """True when the incident table holds Missouri incidents outside St. Louis County too."""
    return bool((~fatal_force["in_st_louis_county"].fillna(False).astype(bool)).any())


def race_rate_ratios(rates: pd.DataFrame) -> pd.DataFrame:
    """Black vs white rate per resident for every (geography, source) with both rows."""
    rows = []
    for (geography, level, source), group in rates.groupby(["geography", "level", "source"], sort=False):
        by_race = group.set_index("race")
        if not {"black", "white"} <= set(by_race.index):
            continue
        b, w = by_race.loc["black"], by_race.loc["white"]
        if not (b["person_years"] > 0 and w["person_years"] > 0):
            continue
        est = rate_ratio(int(b["incidents"]), float(b["person_years"]), int(w["incidents"]), float(w["person_years"]))
        rows.append(
            {
                "geography": geography,
                "level": level,
                "source": source,
                "years": b["years"],
                "black_incidents": int(b["incidents"]),
                "white_incidents": int(w["incidents"]),
                "rate_ratio": est.value,
                "lower": est.lower,
                "upper": est.upper,
                "small_cell": bool(min(b["incidents"], w["incidents"]) < SMALL_CELL_THRESHOLD),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "geography",
            "level",
            "source",
            "years",
            "black_incidents",
            "white_incidents",
            "rate_ratio",
            "lower",
            "upper",
            "small_cell",
        ],
    )


def mental_illness_shares(
    summary: pd.DataFrame,
    source_years: dict[str, tuple[int, int]] | None = None,
    coding_change_year: int = WAPO_CODING_CHANGE_YEAR,
) -> pd.DataFrame:
    """Share of incidents flagged as involving mental illness, Missouri vs US, with exact intervals.

    The Post's series is split at ``coding_change_year``; each source uses its full years only.
    The denominator is incidents whose mental-illness field is known (``mental_illness_known``).
    """
    source_years = source_years or full_years(summary)
    periods = []
    for source, (first, last) in source_years.items():
        if source == "wapo" and first < coding_change_year <= last:
            periods += [(source, first, coding_change_year - 1), (source, coding_change_year, last)]
        else:
            periods.append((source, first, last))
    rows = []
    for source, first, last in periods:
        for state in ("MO", "US"):
            sel = summary[
                summary["source"].eq(source) & summary["state"].eq(state) & summary["year"].between(first, last)
            ]
            if sel.empty or sel[["mental_illness_yes", "mental_illness_known"]].isna().any().any():
                continue
            yes, known = int(sel["mental_illness_yes"].sum()), int(sel["mental_illness_known"].sum())
            est = binomial_ci(yes, known)
            rows.append(
                {
                    "source": source,
                    "period": f"{first}-{last}",
                    "state": state,
                    "mental_illness_yes": yes,
                    "mental_illness_known": known,
                    "incidents": int(sel["incidents"].sum()),
                    "share": est.value,
                    "lower": est.lower,
                    "upper": est.upper,
                    "small_cell": known < SMALL_CELL_THRESHOLD,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "source",
            "period",
            "state",
            "mental_illness_yes",
            "mental_illness_known",
            "incidents",
            "share",
            "lower",
            "upper",
            "small_cell",
        ],
    )


def agency_incident_summary(fatal_force: pd.DataFrame, agency: str) -> pd.DataFrame:
    """Counts only (no names): the agency's incidents by source and year, race and mental-illness flag."""
    rows = agency_incidents(fatal_force, agency)
    if rows.empty:
        return pd.DataFrame(columns=["source", "year", "race", "mental_illness", "armed_status", "incidents"])
    keys = ["source", "year", "race", "mental_illness", "armed_status"]
    out = rows[keys].astype(str).groupby(keys, dropna=False).size().rename("incidents").reset_index()
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


# --- notebook report: figures and claims ---------------------------------------------------------------

# --- St. Louis County Police: non-fatal force ---------------------------------------------------------


def county_force_incidents(force: pd.DataFrame) -> pd.DataFrame:
    """One row per incident of the county force table: year, the subject's race (one race when every person
    row of the incident agrees, 'multiple' when they differ, <NA> when none is recorded), whether any subject
    was a person, and the kinds of force used."""
    by_incident = force.groupby("incident_id")
    # Vectorised (a Python function per incident took about a third of a second per call): each incident's distinct
    # force types, sorted and joined; its distinct recorded races among person subjects.
    types = force.dropna(subset=["force_type"]).drop_duplicates(["incident_id", "force_type"])
    types = types.sort_values(["incident_id", "force_type"], kind="stable")
    table = pd.DataFrame(
        {
            "year": by_incident["year"].min(),
            "any_person": by_incident["subject_is_person"].any(),
            "force_types": types.groupby("incident_id")["force_type"].agg(";".join),
        }
    )
    table["force_types"] = table["force_types"].fillna("")
    races = force[force["subject_is_person"]].groupby("incident_id")["subject_race"]
    distinct = races.nunique()
    table["subject_race"] = races.first().where(distinct == 1, "multiple").where(distinct > 0).reindex(table.index)
    return table.reset_index()


def county_force_by_year(force: pd.DataFrame) -> pd.DataFrame:
    """Incidents per year of occurrence; years outside the file's full years are flagged partial."""
    incidents = county_force_incidents(force)
    table = incidents.groupby("year").size().rename("incidents").reset_index()
    first, last = COUNTY_FORCE_FULL_YEARS
    table["partial_year"] = ~table["year"].between(first, last)
    return table


def county_force_by_type(force: pd.DataFrame) -> pd.DataFrame:
    """Incidents in which each kind of force was used (one incident can use several, so the shares add to
    more than 100%), over incidents from 2018 on."""
    incidents = county_force_incidents(force)
    incidents = incidents[incidents["year"].ge(COUNTY_FORCE_FULL_YEARS[0])]
    rows = force[force["incident_id"].isin(incidents["incident_id"])].dropna(subset=["force_type"])
    table = rows.groupby("force_type")["incident_id"].nunique().rename("incidents").reset_index()
    table["share_of_incidents"] = table["incidents"] / len(incidents)
    return table.sort_values("incidents", ascending=False, kind="stable").reset_index(drop=True)


def county_force_by_race(force: pd.DataFrame) -> pd.DataFrame:
    """Incidents by the subject's race, from 2018 on: share of incidents with a person whose race was recorded
    (exact 95% interval: the records are treated as one sample of the department's force; they are all of it,
    so the interval speaks to the year-to-year noise, not to coverage)."""
    incidents = county_force_incidents(force)
    incidents = incidents[incidents["year"].ge(COUNTY_FORCE_FULL_YEARS[0]) & incidents["any_person"]]
    known = incidents.dropna(subset=["subject_race"])
    counts = known["subject_race"].value_counts()
    rows = []
    for race, count in counts.items():
        estimate = binomial_ci(int(count), len(known))
        rows.append(
            {
                "subject_race": race,
                "incidents": int(count),
                "known": len(known),
                "share": estimate.value,
                "lower": estimate.lower,
                "upper": estimate.upper,
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["unknown_race"] = int(incidents["subject_race"].isna().sum())
    return table


NOTEBOOK = "05-force"
SOURCE_LINE = "Washington Post Fatal Force (CC BY-NC-SA 4.0); Mapping Police Violence; US Census Bureau ACS 5-year"
SOURCES = ["fatal_force.csv", "fatal_force_us_summary.csv", "population.csv", "agencies.csv"]


@dataclass
class ForceInputs:
    fatal_force: pd.DataFrame
    summary: pd.DataFrame
    population: pd.DataFrame
    agencies: pd.DataFrame
    linked: frozenset[str] | None = None
    """Agencies the incident table links deaths to (sources.fatal_force matches the UCR crosswalk only)."""
    county_force: pd.DataFrame | None = None
    """St. Louis County Police use-of-force records (stl_county_force), when built."""


def load_inputs(folder=None) -> ForceInputs:
    from heartbeats_analysis.errors import TableMissingError
    from heartbeats_analysis.ingest.sources.ucr_common import agency_slugs
    from heartbeats_analysis.ingest.tables import load_table

    tables = (load_table(name, folder) for name in ("fatal_force", "fatal_force_us_summary", "population", "agencies"))
    data = ForceInputs(*tables, linked=frozenset(agency_slugs()))
    try:
        data.county_force = load_table("stl_county_force", folder)
    except TableMissingError:
        data.county_force = None
    return data


def _rates(data: ForceInputs, agency: str) -> pd.DataFrame:
    return fatal_force_rates(data.fatal_force, data.summary, data.population, data.agencies, agency, linked=data.linked)


def _fn(name: str) -> str:
    return f"{__name__}.{name}"


def _rate_sentence(row: pd.Series, where: str) -> str:
    """'<source> records N deaths <where> in <years>: R per million residents a year (95% CI a to b).'"""
    label = SOURCE_LABELS[row["source"]]
    count = int(row["incidents"])
    counted = _capitalised(label) + f" records {count} {'death' if count == 1 else 'deaths'} {where} in {row['years']}"
    rate = format_number(row["rate_per_million"], 1)
    interval = f"{format_number(row['lower'], 1)} to {format_number(row['upper'], 1)}"
    if row["small_cell"]:
        return (
            f"{counted}: too few to read a rate from (the rate, {rate} per million residents a year, has a 95% "
            f"interval of {interval})."
        )
    return f"{counted}: {rate} per million residents a year (95% CI {interval})."


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def report_rates(ctx, data: ForceInputs, agency: str) -> pd.DataFrame:
    """Rates per million by geography, source and race; records force.* rate claims and saves the table."""
    rates = _rates(data, agency)
    save_table(ctx, rates, "force_rates")
    name = listed_name(data.agencies, agency)
    totals = rates[rates["race"].eq("total")]
    own = totals[totals["level"].eq("agency")]
    involved = agency_incidents(data.fatal_force, agency)
    for source, (first, last) in full_years(data.summary).items():
        label = f"{first}-{last}"
        if data.linked is not None and agency not in data.linked:
            ctx.claims.record(
                f"force.agency_incidents_{source}",
                None,
                "incidents",
                f"Deaths are linked to a department only for the {len(data.linked)} St. Louis County agencies in "
                f"the project's crosswalk; {name} is not one of them, so its own count is not given (see the county "
                "and state figures).",
                source=SOURCES,
                function=_fn("agency_incidents"),
                notebook=ctx.notebook,
                flags=["no_data"],
            )
            continue
        count = _count(involved, source, range(first, last + 1), "total")
        row = own[own["source"].eq(source)]
        small = count < SMALL_CELL_THRESHOLD
        if count == 0:
            sentence = (
                f"{_capitalised(SOURCE_LABELS[source])} records no deaths involving {police_of(name)} in {label}."
            )
        elif row.empty:
            sentence = (
                f"{_capitalised(SOURCE_LABELS[source])} records {count} "
                f"{'death' if count == 1 else 'deaths'} involving "
                f"{police_of(name)} in {label}; no rate is given because the agency does not serve a single "
                "city's census population."
            )
        else:
            sentence = _rate_sentence(row.iloc[0], f"involving {police_of(name)}")
        ctx.claims.record(
            f"force.agency_incidents_{source}",
            count,
            "incidents",
            sentence,
            n=count,
            source=SOURCES,
            function=_fn("agency_incidents"),
            notebook=ctx.notebook,
            flags=(["small_cell"] if small else []) + (["no_data"] if count == 0 else []),
        )
        if row.empty:
            continue
        r = row.iloc[0]
        ctx.claims.record(
            f"force.agency_rate_{source}",
            float(r["rate_per_million"]),
            "per million residents per year",
            sentence,
            interval=(float(r["lower"]), float(r["upper"])),
            interval_kind="95% CI (exact Garwood)",
            n=count,
            source=SOURCES,
            function=_fn("fatal_force_rates"),
            notebook=ctx.notebook,
            flags=["small_cell"] if r["small_cell"] else [],
        )
    for level, where in (("county", "in St. Louis County (any agency)"), ("state", "in Missouri")):
        for source in full_years(data.summary):
            row = totals[totals["level"].eq(level) & totals["source"].eq(source)]
            if row.empty:
                continue
            r = row.iloc[0]
            ctx.claims.record(
                f"force.{level}_rate_{source}",
                float(r["rate_per_million"]),
                "per million residents per year",
                _rate_sentence(r, where),
                interval=(float(r["lower"]), float(r["upper"])),
                interval_kind="95% CI (exact Garwood)",
                n=int(r["incidents"]),
                source=SOURCES,
                function=_fn("fatal_force_rates"),
                notebook=ctx.notebook,
                flags=["small_cell"] if r["small_cell"] else [],
            )
    return rates


def report_race_ratios(ctx, data: ForceInputs, agency: str) -> pd.DataFrame:
    """Black vs white fatal-force rates per resident; records the county and state ratios."""
    rates = _rates(data, agency)
    ratios = race_rate_ratios(rates)
    save_table(ctx, ratios, "force_race_ratios")
    for _, r in ratios[ratios["level"].isin(["county", "state"])].iterrows():
        label = SOURCE_LABELS[r["source"]]
        black, white = int(r["black_incidents"]), int(r["white_incidents"])
        if black == 0 or white == 0 or black + white < SMALL_CELL_THRESHOLD:
            sentence = (
                f"In {r['geography']}, {r['years']}, {label} records {black} Black and {white} white "
                "people killed by police: too few to compare rates by race."
            )
        else:
            sentence = (
                f"In {r['geography']}, {r['years']}, Black residents were killed by police at "
                f"{format_number(r['rate_ratio'], 1)} times the rate of white residents (95% CI "
                f"{format_number(r['lower'], 1)} to {format_number(r['upper'], 1)}; {black} Black and "
                f"{white} white people; {SOURCE_NAMES[r['source']]})."
            )
            if r["small_cell"]:
                sentence += " With so few deaths the size of the gap is very uncertain."
        value = float(r["rate_ratio"]) if math.isfinite(r["rate_ratio"]) else None
        interval = (float(r["lower"]), float(r["upper"])) if math.isfinite(r["upper"]) else None
        ctx.claims.record(
            f"force.{r['level']}_black_white_ratio_{r['source']}",
            value,
            "rate ratio",
            sentence,
            interval=interval,
            interval_kind="95% CI (exact conditional)" if interval else None,
            n=int(r["black_incidents"] + r["white_incidents"]),
            source=SOURCES,
            function=_fn("race_rate_ratios"),
            notebook=ctx.notebook,
            flags=["small_cell"] if r["small_cell"] else [],
        )
    return ratios


def report_mental_illness(ctx, data: ForceInputs) -> pd.DataFrame:
    """Mental-illness share, Missouri vs US, by source and period; records force.mi_share_* claims."""
    shares = mental_illness_shares(data.summary)
    save_table(ctx, shares, "force_mental_illness")
    for _, r in shares.iterrows():
        period_id = r["period"].replace("-", "_")
        where = "Missouri" if r["state"] == "MO" else "the US"
        sentence = (
            f"In {where}, {format_number(r['share'], 0, True)} of the {int(r['mental_illness_known']):,} "
            f"people killed by police in {r['period']} whose status is recorded showed signs of mental "
            f"illness (95% CI {format_number(r['lower'], 0, True)} to {format_number(r['upper'], 0, True)}; "
            f"{SOURCE_NAMES[r['source']]})."
        )
        if r["source"] == "wapo" and int(r["period"][:4]) >= WAPO_CODING_CHANGE_YEAR:
            sentence += " The Post's coding appears to change from 2021, so this is not comparable with earlier years."
        ctx.claims.record(
            f"force.mi_share_{r['state'].lower()}_{r['source']}_{period_id}",
            float(r["share"]),
            "proportion",
            sentence,
            interval=(float(r["lower"]), float(r["upper"])),
            interval_kind="95% CI (exact Clopper-Pearson)",
            n=int(r["mental_illness_known"]),
            source=["fatal_force_us_summary.csv"],
            function=_fn("mental_illness_shares"),
            notebook=ctx.notebook,
            flags=["small_cell"] if r["small_cell"] else [],
        )
    return shares


def report_nonfatal(ctx, data: ForceInputs, agency: str) -> pd.DataFrame:
    """What the public data cannot show about non-fatal force; records force.nonfatal_data and the
    reference figures (DOJ 2015 for Ferguson only; the BJS national survey for every agency)."""
    from heartbeats_analysis.analysis.reference import (
        FORCE_REFERENCE_IDS,
        record_references,
        reference_table,
    )

    name = listed_name(data.agencies, agency)
    county = agency == COUNTY_FORCE_SLUG and data.county_force is not None
    if county:
        sentence = (
            f"{_capitalised(police_of(name))} published its own use-of-force records from 2018 to April 2021 "
            "(the county's open-data portal, since removed; archived by OpenPoliceData): the counts below are "
            "this department's own. Missouri publishes no agency-level use-of-force statistics and the FBI's "
            "national collection does not release agency counts."
        )
    else:
        sentence = (
            f"No public count of non-fatal force by {police_of(name)} was found. Missouri publishes no "
            "agency-level use-of-force statistics, the FBI's national use-of-force collection does not release "
            "agency counts, and the fatal-force databases cover deaths only, a small and unrepresentative part "
            "of all force."
        )
        if agency == "ferguson":
            sentence += (
                " The Justice Department's 2015 report (force incidents 2010 to August 2014) holds the last "
                "published figures for Ferguson. Under the 2016 consent decree the department must report and "
                "review every use of force, and the independent monitor's public reports assess that work; "
                "they are the place to look for counts after 2014, but they were not compiled as data here."
            )
        if data.county_force is not None:
            sentence += (
                " The nearest local baseline is the neighbouring St. Louis County Police Department's own "
                "records (2018 to April 2021), shown below as context about a different department."
            )
    ctx.claims.record(
        "force.nonfatal_data",
        None,
        "text",
        sentence,
        source=["Missouri AGO; FBI National Use-of-Force Data Collection; fatal_force.csv"]
        + (["stl_county_force.csv"] if data.county_force is not None else []),
        function=_fn("report_nonfatal"),
        notebook=ctx.notebook,
        flags=[] if county else ["no_data"],
    )
    ids = FORCE_REFERENCE_IDS if agency == "ferguson" else tuple(i for i in FORCE_REFERENCE_IDS if "doj" not in i)
    record_references(ctx.claims, ids, ctx.notebook)
    return reference_table(ids)


def report_county_force(ctx, data: ForceInputs, agency: str) -> pd.DataFrame | NoData:
    """The St. Louis County Police Department's non-fatal force by year, kind of force and subject race;
    records force.stl_county_incidents_per_year and force.stl_county_black_share_subjects. For any other
    agency the sentences say this is a neighbouring department."""
    if data.county_force is None or data.county_force.empty:
        return NoData(agency, "stl_county_force", "The St. Louis County force records were not built")
    force = data.county_force
    own = agency == COUNTY_FORCE_SLUG
    whose = "This department" if own else "The neighbouring St. Louis County Police Department"
    context = "" if own else " This is a different department from the one this brief is about: context only."
    by_year = county_force_by_year(force)
    by_type = county_force_by_type(force)
    by_race = county_force_by_race(force)
    for table, name in ((by_year, "by_year"), (by_type, "by_type"), (by_race, "by_race")):
        save_table(ctx, table, f"stl_county_force_{name}")
    first, last = COUNTY_FORCE_FULL_YEARS
    full = by_year[~by_year["partial_year"]]
    mean = float(full["incidents"].mean())
    spans = ", ".join(f"{int(r.incidents)} in {int(r.year)}" for r in full.itertuples())
    ctx.claims.record(
        "force.stl_county_incidents_per_year",
        mean,
        "incidents per year",
        f"{whose} recorded a mean {format_number(mean, 0)} use-of-force incidents a year in {first}-{last} "
        f"({spans}; an incident counts once however many officers or kinds of force it involved; 296 duplicate "
        f"rows of the raw file dropped).{context}",
        interval=(float(full["incidents"].min()), float(full["incidents"].max())),
        interval_kind=f"range across the {len(full)} full years (min to max)",
        n=int(full["incidents"].sum()),
        source=["stl_county_force.csv"],
        function=_fn("county_force_by_year"),
        notebook=ctx.notebook,
        flags=[] if own else ["context"],
    )
    black = by_race[by_race["subject_race"].eq("black")]
    if not black.empty:
        row = black.iloc[0]
        unknown = by_race.attrs.get("unknown_race", 0)
        ctx.claims.record(
            "force.stl_county_black_share_subjects",
            float(row["share"]),
            "proportion",
            f"In {format_number(row['share'], 0, percent=True)} of {whose[0].lower() + whose[1:]}'s force "
            f"incidents from {first} to April 2021 the person subjected to force was recorded as Black "
            f"({int(row['incidents'])} of {int(row['known'])} incidents with a recorded race; {unknown} without). "
            "No population share is set beside it: the department's service area (unincorporated county plus "
            "the cities that contract with it) changes over time and no race breakdown of it could be sourced, and "
            "residents are not the people officers meet.{context}".replace("{context}", context),
            interval=(float(row["lower"]), float(row["upper"])),
            interval_kind="95% confidence interval (exact Clopper-Pearson)",
            n=int(row["known"]),
            source=["stl_county_force.csv"],
            function=_fn("county_force_by_race"),
            notebook=ctx.notebook,
            flags=[] if own else ["context"],
        )
    return by_type


def figure_rates(ctx, data: ForceInputs, agency: str):
    """Dot-and-interval chart: fatal-force rate per million residents a year, by geography and source."""
    import matplotlib.pyplot as plt
    import numpy as np

    from heartbeats_analysis.report.style import (
        AGENCY_COLOUR,
        PALETTE,
        apply_style,
        save_figure,
    )

    rates = _rates(data, agency)
    totals = rates[rates["race"].eq("total")].reset_index(drop=True)
    apply_style()
    fig, ax = plt.subplots()
    colours = {"mpv": AGENCY_COLOUR, "wapo": PALETTE["orange"]}
    labels = []
    ypos = np.arange(len(totals))[::-1]
    for y, (_, r) in zip(ypos, totals.iterrows(), strict=True):
        ax.errorbar(
            r["rate_per_million"],
            y,
            xerr=[[r["rate_per_million"] - r["lower"]], [r["upper"] - r["rate_per_million"]]],
            fmt="o",
            color=colours[r["source"]],
            mfc="white" if r["small_cell"] else colours[r["source"]],
            capsize=3,
        )
        labels.append(f"{r['geography']}\n{SOURCE_SHORT[r['source']]} {r['years']} (n={int(r['incidents'])})")
    ax.set_yticks(ypos, labels, fontsize=8)
    ax.set_xlabel("Deaths per million residents per year (95% CI)")
    ax.set_xlim(left=0)
    ax.set_title("Fatal police force per resident, by place and source")
    parts = [
        f"{r['geography']} ({SOURCE_SHORT[r['source']]}, {r['years']}): {int(r['incidents'])} deaths, "
        f"{r['rate_per_million']:.1f} per million a year"
        for _, r in totals.iterrows()
    ]
    alt = (
        "Dot chart with 95% intervals. "
        + "; ".join(parts)
        + ". Hollow dots mark fewer than 10 deaths, too few to read a rate from."
    )
    return save_figure(
        fig,
        f"{ctx.notebook}-rates",
        title="Fatal police force per million residents a year",
        data=totals,
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_rates"),
        out_dir=ctx.figures_dir,
    )


def figure_mental_illness(ctx, data: ForceInputs):
    """Dot-and-interval chart: share involving mental illness, Missouri vs US, by source and period."""
    import matplotlib.pyplot as plt
    import numpy as np

    from heartbeats_analysis.report.style import (
        AGENCY_COLOUR,
        PALETTE,
        apply_style,
        save_figure,
    )

    shares = mental_illness_shares(data.summary)
    apply_style()
    fig, ax = plt.subplots()
    colours = {"MO": AGENCY_COLOUR, "US": PALETTE["black"]}
    groups = list(dict.fromkeys(zip(shares["source"], shares["period"], strict=True)))
    for i, (source, period) in enumerate(groups):
        for offset, state in ((-0.12, "MO"), (0.12, "US")):  # noqa: B007
            row = shares[shares["source"].eq(source) & shares["period"].eq(period) & shares["state"].eq(state)]
            if row.empty:
                continue
            r = row.iloc[0]
            ax.errorbar(
                i + offset,
                r["share"],
                yerr=[[r["share"] - r["lower"]], [r["upper"] - r["share"]]],
                fmt="o",
                color=colours[state],
                capsize=3,
                label=("Missouri" if state == "MO" else "US") if i == 0 else None,
            )
        if source == "wapo" and int(period[:4]) >= WAPO_CODING_CHANGE_YEAR:
            ax.axvline(i - 0.5, color="#555555", linestyle="--", linewidth=0.8)
            ax.text(i - 0.45, 0.01, "Post coding\nchange", fontsize=8, color="#555555", va="bottom")
    ax.set_xticks(np.arange(len(groups)), [f"{SOURCE_SHORT[s]}\n{p}" for s, p in groups])
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("Share with signs of mental illness")
    ax.set_title("People killed by police: share with signs of mental illness")
    ax.legend(loc="lower left")
    parts = [
        f"{r['state']} {SOURCE_SHORT[r['source']]} {r['period']}: {r['share']:.0%} of "
        f"{int(r['mental_illness_known']):,}"
        for _, r in shares.iterrows()
    ]
    alt = (
        "Dot chart with 95% intervals of the share of people killed by police who showed signs of mental "
        "illness. " + "; ".join(parts) + ". The Post's 2021 onward figures follow an apparent coding change."
    )
    return save_figure(
        fig,
        f"{ctx.notebook}-mental-illness",
        title="Share of fatal-force incidents involving mental illness",
        data=shares,
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_mental_illness"),
        out_dir=ctx.figures_dir,
    )
