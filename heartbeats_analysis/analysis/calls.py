"""Calls for service: what share of 911 calls fall in categories where social-work training matters?

No call-for-service data are public for Ferguson (or any St. Louis County municipality), so this is a
proxy: five large US cities harmonised by the Vera Institute and Two Sigma Data Clinic. Each city is
read from one CAD column (``sources.calls.PRIMARY_SOURCE_COLUMNS``: what the caller reported), and the
share is computed within that column only. The Heartbeats mapping (which call types count) is a
judgement: it is reported under the narrow, central and broad mappings from ``sources.calls``.

Denominator: community-generated calls
-------------------------------------------------------------
Vera's call-type counts pool every CAD record, including events an officer starts (stops, patrol checks,
details, warrant service), which are 27-78% of the records depending on the city. A responder can only take
calls the community makes, and the program model multiplies these shares by community-generated calls per
resident, so the share is computed over community-generated calls (``community_totals``):

* numerator: calls of relevant types, excluding any type on the project's list of officer-initiated call
  types (``resources/officer_initiated_call_types.csv``; no listed type is relevant, the schema checks it);
* denominator: for New Orleans, Seattle and Detroit, Vera's own initiation flag (``calls_initiation``, summed
  over the same years as the call-type counts, which it reconciles with exactly); for Charleston and Dallas,
  whose data carry no flag, all records minus the listed officer-initiated types.

The type list is the alternative for the three flagged cities too (``community_totals`` reports both): it
catches fewer officer events than the flag (on-view events of other types), so its denominator is larger.
Relevant records an officer came upon himself stay in the numerator (the flag is not published by call
type), which can only raise the share.

The summary across cities is the median with the minimum and maximum: five cities are too few, and
too unlike Ferguson, for a confidence interval of a "typical" city to mean anything. Binomial
intervals on each city's share are not shown either: with hundreds of thousands of calls per city
they are narrower than the rounding, while the real uncertainty (which mapping, which city) is
several percentage points.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from heartbeats_analysis.analysis import NoData, listed_name, save_table
from heartbeats_analysis.analysis.stats import format_number
from heartbeats_analysis.ingest.sources.calls import (
    GROUPS,
    MAPPINGS,
    NARROW_GROUPS,
    NONE,
    PRIMARY_SOURCE_COLUMNS,
    Rule,
    _ordered_rules,
    assign_groups,
    load_mapping,
)
from heartbeats_analysis.paths import RESOURCES_DIR

NOTEBOOK = "06-calls"
SOURCE_LINE = "Vera Institute of Justice / Two Sigma Data Clinic 911 data (5 cities, ~2011-2019)"
SOURCES = [
    "calls_for_service.csv",
    "calls_initiation.csv",
    "heartbeats_analysis/resources/call_category_mapping.csv",
    "heartbeats_analysis/resources/officer_initiated_call_types.csv",
]
POPULATION_CSV = RESOURCES_DIR / "city_census_population.csv"
PART_YEARS = {"New Orleans": {2019}, "Detroit": {2016, 2019}, "Seattle": {2009, 2019}}
"""First and last years of each city's data cover part of the year (calls_initiation's column notes)."""
AUDIT_THRESHOLD = 0.005
"""Every call type at least this share of a city's community-generated calls must be mapped or explained."""
NOT_RELEVANT_CATEGORIES = {
    "Accidents/Traffic Safety": "traffic and collisions: police or fire work",
    "Alarms": "alarm responses: premises checks",
    "Property Crime": "property crime: a police report",
    "Violent Crime": "violent crime in progress or reported: sworn police",
    "Other Crimes": "crimes (weapons, threats, fights, fraud...): sworn police",
    "Sex Offenses": "sexual offences: sworn police and specialist investigators",
    "Warrants": "warrant service: enforcement",
    "Fire": "fire service",
    "Officer Needs Help": "officer in trouble: sworn police",
    "Call Related Issues": "hang-ups and open lines: call handling, content unknown",
    "Callback": "callbacks: call handling",
    "Training Academy": "training",
}
"""Vera categories whose call types are not relevant without a specific rule, with the reason. Call types in
the other categories (statuses, complaints, suspicion, assists, uncategorised...) need a rule of their own."""

GROUP_LABELS = {
    "behavioural_health": "behavioural health",
    "welfare_assist": "welfare checks and assists",
    "domestic": "domestic disputes",
    "homelessness_quality_of_life": "homelessness and quality of life",
    "substance": "substance use",
}
CHART_LABELS = {
    "cahoots_diversion_share": "CAHOOTS (Eugene): diverted",
    "cahoots_handled_share": "CAHOOTS (Eugene): handled",
    "denver_star_eligible_share": "Denver STAR: eligible",
    "stl_bhr_divertible_share": "St. Louis City: divertible",
}
MAPPING_LABELS = {
    "narrow": "narrow mapping (behavioural health and substance use only)",
    "central": "central mapping",
    "broad": "broad mapping (adding borderline calls such as assists, missing persons and disorder)",
}


# ---------------------------------------------------------------------------------------------
# Shares (moved verbatim from ingest/sources/calls.py: analysis, not cleaning)
# ---------------------------------------------------------------------------------------------

_CELL = ("city", "source_column")


def _check_by(by: Sequence[str]) -> list[str]:
    by = list(by)
    if not set(_CELL) <= set(by):
        raise ValueError(
            f"shares must be computed within one (city, source_column): by={by} must include both, "
            "or calls listed under two columns of one city are counted twice"
        )
    return by


def _sum_or_na(series: pd.Series) -> object:
    return series.sum() if series.notna().all() else pd.NA


def relevant_share(calls: pd.DataFrame, by: Sequence[str] = _CELL, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Counts, totals and shares of each Heartbeats group within each `by` cell, plus a 'relevant' row
    for the selected groups together. A total with a missing count in it is missing, not a smaller total."""
    by = _check_by(by)
    groups = list(GROUPS if groups is None else groups)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown groups {sorted(unknown)}; choose from {GROUPS}")
    totals = calls.groupby(by, sort=True)["count"].agg(_sum_or_na).rename("total")
    selected = calls[calls["heartbeats_group"].isin(groups)]
    per_group = (
        selected.groupby([*by, "heartbeats_group"])["count"]
        .agg(_sum_or_na)
        .unstack("heartbeats_group")
        .reindex(index=totals.index, columns=groups)
    )
    # A group with no call types in a cell has zero calls, not an unknown number.
    present = (
        selected.groupby([*by, "heartbeats_group"])
        .size()
        .unstack("heartbeats_group")
        .reindex(index=totals.index, columns=groups)
    )
    per_group = per_group.where(present.notna(), 0)
    per_group["relevant"] = (
        per_group[groups].apply(lambda r: r.sum() if r.notna().all() else pd.NA, axis=1) if len(groups) else 0
    )
    long = per_group.stack(future_stack=True).rename("count").reset_index()
    long = long.rename(columns={long.columns[len(by)]: "heartbeats_group"})
    long = long.merge(totals.reset_index(), on=by)
    long["count"] = long["count"].astype("Int64")
    long["total"] = long["total"].astype("Int64")
    long["share"] = long["count"].astype("Float64") / long["total"].astype("Float64")
    order = {g: i for i, g in enumerate([*groups, "relevant"])}
    long = long.sort_values(
        [*by, "heartbeats_group"], key=lambda s: s.map(order) if s.name == "heartbeats_group" else s, kind="stable"
    )
    return long.reset_index(drop=True)


def mapping_sensitivity(calls: pd.DataFrame, rules: Sequence[Rule] | None = None) -> pd.DataFrame:
    """The relevant share per (city, source_column) under the narrow, central and broad mappings."""
    parts = []
    for mapping in MAPPINGS:
        regrouped = calls.assign(heartbeats_group=assign_groups(calls, mapping, rules))
        shares = relevant_share(regrouped)
        shares = shares[shares["heartbeats_group"].eq("relevant")].drop(columns="heartbeats_group")
        parts.append(shares.assign(mapping=mapping))
    table = pd.concat(parts, ignore_index=True)
    table = table.rename(columns={"count": "relevant"})[
        ["city", "source_column", "mapping", "relevant", "total", "share"]
    ]
    table["mapping"] = pd.Categorical(table["mapping"], categories=MAPPINGS, ordered=True)
    table = table.sort_values(["city", "source_column", "mapping"], kind="stable").reset_index(drop=True)
    table["mapping"] = table["mapping"].astype("str")
    return table


def primary_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """Only each city's primary CAD column, so no call is counted twice."""
    wanted = calls["city"].str.strip().map(PRIMARY_SOURCE_COLUMNS)
    # Compared without surrounding spaces: the raw New Orleans header is 'InitialTypeText ' in some builds.
    return calls[calls["source_column"].str.strip().eq(wanted)].reset_index(drop=True)


_CELL = ["city", "source_column"]


def _officer_listed(calls: pd.DataFrame) -> pd.Series:
    if "listed_officer_initiated" in calls:
        return calls["listed_officer_initiated"].astype(bool)
    return pd.Series(False, index=calls.index)


def _initiation_totals(initiation: pd.DataFrame | None) -> pd.DataFrame:
    """Officer and community totals per city over the years the flag is known."""
    if initiation is None or initiation.empty:
        return pd.DataFrame(columns=["city", "officer_flagged", "community_flagged", "flag_years"])
    known = initiation[initiation["initiated_by"].isin(["officer", "community"]) & initiation["count"].notna()]
    wide = known.pivot_table(index="city", columns="initiated_by", values="count", aggfunc="sum")
    years = known.groupby("city")["year"].agg(lambda y: f"{y.min()}-{y.max()}")
    out = pd.DataFrame(
        {
            "officer_flagged": wide.get("officer").astype("Int64"),
            "community_flagged": wide.get("community").astype("Int64"),
            "flag_years": years,
        }
    )
    return out.rename_axis("city").reset_index()


def community_totals(calls: pd.DataFrame, initiation: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per city (primary column): all records, records of listed officer-initiated types, the community total
    by that list, Vera's flagged totals where published, and the denominator used (``denominator_basis``).
    Where the flag's officer and community totals add up exactly to the call-type records (same years) the
    flagged community total is used; where they do not (Detroit: the summary has more months than the
    call-type counts) the flagged community fraction is applied to the records."""
    primary = primary_calls(calls)
    primary = primary.assign(_officer=_officer_listed(primary))
    grouped = primary.groupby(_CELL)
    table = pd.DataFrame(
        {
            "records": grouped["count"].sum(),
            "listed_officer": primary[primary["_officer"]].groupby(_CELL)["count"].sum(),
        }
    ).reset_index()
    table["listed_officer"] = table["listed_officer"].fillna(0).astype("Int64")
    table["records"] = table["records"].astype("Int64")
    table["community_by_type"] = table["records"] - table["listed_officer"]
    table = table.merge(_initiation_totals(initiation), on="city", how="left")
    flagged = table["officer_flagged"].astype("Float64") + table["community_flagged"].astype("Float64")
    community_fraction = table["community_flagged"].astype("Float64") / flagged
    exact = flagged.eq(table["records"].astype("Float64")).fillna(False).astype(bool)
    scaled = community_fraction.notna() & ~exact
    by_fraction = (table["records"].astype("Float64") * community_fraction).round().astype("Int64")
    table["community_total"] = (
        table["community_by_type"].where(~exact, table["community_flagged"]).where(~scaled, by_fraction)
    ).astype("Int64")
    table["denominator_basis"] = "records minus listed officer-initiated types"
    table.loc[exact, "denominator_basis"] = "Vera initiation flag"
    table.loc[scaled, "denominator_basis"] = "Vera initiation flag (community fraction; its years differ)"
    table["officer_share_of_records"] = 1 - table["community_total"].astype(float) / table["records"].astype(float)
    return table


def _group_counts(primary: pd.DataFrame, mapping: str, rules: Sequence[Rule] | None) -> pd.DataFrame:
    """Calls of each Heartbeats group per city under one mapping, officer-initiated types left out."""
    community = primary[~_officer_listed(primary)]
    groups = assign_groups(community, mapping, rules)
    counts = community.assign(heartbeats_group=groups).groupby([*_CELL, "heartbeats_group"])["count"].sum()
    return counts.unstack("heartbeats_group").reindex(columns=list(GROUPS)).fillna(0).astype("int64")


def _over_totals(counts: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    out = counts.merge(totals[[*_CELL, "records", "community_total"]], on=_CELL, how="left")
    out["total"] = out["community_total"]
    out["share"] = out["count"].astype("Float64") / out["total"].astype("Float64")
    out["share_all_records"] = out["count"].astype("Float64") / out["records"].astype("Float64")
    return out.drop(columns=["community_total"])


def city_group_shares(calls: pd.DataFrame, initiation: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each city's share of community-generated calls in each Heartbeats group and in all of them
    ('relevant'), central mapping; ``share_all_records`` is the old share over every CAD record."""
    primary = primary_calls(calls)
    wide = _group_counts(primary, "central", None)
    wide["relevant"] = wide.sum(axis=1)
    long = wide.stack().rename("count").reset_index()
    long = _over_totals(long, community_totals(calls, initiation))
    return long[
        ["city", "source_column", "heartbeats_group", "count", "total", "share", "records", "share_all_records"]
    ]


def city_mapping_shares(
    calls: pd.DataFrame, rules: Sequence[Rule] | None = None, initiation: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each city's relevant share of community-generated calls under the narrow, central and broad mappings
    (one row per city and mapping). ``rules`` replaces the project's mapping (tests use it)."""
    primary = primary_calls(calls)
    totals = community_totals(calls, initiation)
    parts = []
    for mapping in MAPPINGS:
        wide = _group_counts(primary, mapping, rules)
        kept = list(NARROW_GROUPS) if mapping == "narrow" else list(GROUPS)
        relevant = wide[kept].sum(axis=1).rename("count").reset_index().assign(mapping=mapping)
        parts.append(relevant)
    table = _over_totals(pd.concat(parts, ignore_index=True), totals).rename(columns={"count": "relevant"})
    table["mapping"] = pd.Categorical(table["mapping"], categories=MAPPINGS, ordered=True)
    table = table.sort_values(["city", "mapping"], kind="stable").reset_index(drop=True)
    table["mapping"] = table["mapping"].astype("str")
    return table[["city", "source_column", "mapping", "relevant", "total", "share", "records", "share_all_records"]]


def _rule_for(call_type: str, category: str, scope: str, rules: Sequence[Rule]) -> Rule | None:
    for rule in _ordered_rules(scope, rules):
        if rule.matches(call_type, category):
            return rule
    return None


def mapping_audit(
    calls: pd.DataFrame,
    initiation: pd.DataFrame | None = None,
    rules: Sequence[Rule] | None = None,
    threshold: float = AUDIT_THRESHOLD,
) -> pd.DataFrame:
    """Every call type of a city's primary column that is at least ``threshold`` of its community-generated
    calls, with its central and broad group and why it is or is not counted. ``status`` is 'unreviewed'
    when nothing explains a type left out: the audit passes when no row is unreviewed."""
    rules = load_mapping() if rules is None else rules
    primary = primary_calls(calls)
    primary = primary[~_officer_listed(primary)]
    totals = community_totals(calls, initiation).set_index("city")["community_total"]
    rows = []
    for r in primary.itertuples(index=False):
        share = float(r.count) / float(totals[r.city]) if pd.notna(r.count) else float("nan")
        if not share >= threshold:
            continue
        central = _rule_for(r.call_type, r.category, "central", rules)
        broad = _rule_for(r.call_type, r.category, "broad", rules)
        central_group = central.group if central else NONE
        broad_group = broad.group if broad else NONE
        if central_group != NONE:
            status, reason = "counted", central.rationale
        elif central is not None:
            status, reason = "not relevant", central.rationale
        elif broad_group != NONE:
            status, reason = "broad mapping only", broad.rationale
        elif r.category in NOT_RELEVANT_CATEGORIES:
            status, reason = "not relevant", f"Vera category {r.category}: {NOT_RELEVANT_CATEGORIES[r.category]}"
        else:
            status, reason = "unreviewed", ""
        rows.append(
            {
                "city": r.city,
                "call_type": r.call_type,
                "category": r.category,
                "count": int(r.count),
                "share_of_community": share,
                "central_group": central_group,
                "broad_group": broad_group,
                "status": status,
                "reason": reason,
            }
        )
    audit = pd.DataFrame(rows)
    return audit.sort_values(["city", "share_of_community"], ascending=[True, False]).reset_index(drop=True)


def column_choice_effect(calls: pd.DataFrame, rules: Sequence[Rule] | None = None) -> pd.DataFrame:
    """The central relevant share of ALL records in every CAD column of every city (like with like: no
    column but the primary one can be split by initiator), so the effect of the column choice shows."""
    regrouped = calls.assign(heartbeats_group=assign_groups(calls, "central", rules))
    regrouped = regrouped.assign(relevant=regrouped["heartbeats_group"].ne(NONE) * regrouped["count"])
    table = regrouped.groupby(_CELL)[["relevant", "count"]].sum().reset_index()
    table = table.rename(columns={"count": "records"})
    table["share_all_records"] = table["relevant"] / table["records"]
    table["primary"] = table["source_column"].str.strip().eq(table["city"].map(PRIMARY_SOURCE_COLUMNS))
    return table


def load_city_population(path=POPULATION_CSV) -> pd.DataFrame:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return pd.DataFrame(rows).astype({"year": "int64", "population": "int64"})


def census_population(population: pd.DataFrame, city: str, year: int) -> float:
    """A city's population in ``year``, linear between its two census counts (2010 and 2020)."""
    rows = population[population["city"].eq(city)].sort_values("year")
    if rows.empty:
        raise KeyError(f"no census population for {city!r}")
    return float(np.interp(year, rows["year"].to_numpy(), rows["population"].to_numpy()))


def community_calls_per_resident(initiation: pd.DataFrame, population: pd.DataFrame | None = None) -> pd.DataFrame:
    """Community-generated CAD events per resident, per city and full calendar year (part-years dropped),
    with the census-interpolated population."""
    population = load_city_population() if population is None else population
    community = initiation[initiation["initiated_by"].eq("community") & initiation["count"].notna()]
    community = community[
        [
            year not in PART_YEARS.get(city, set())
            for city, year in zip(community["city"], community["year"], strict=True)
        ]
    ]
    table = community[["city", "year", "count"]].rename(columns={"count": "community_calls"}).copy()
    table["population"] = [
        census_population(population, c, y) for c, y in zip(table["city"], table["year"], strict=True)
    ]
    table["per_resident"] = table["community_calls"].astype(float) / table["population"]
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class AcrossCities:
    mapping: str
    median: float
    low: float
    high: float
    low_city: str
    high_city: str
    cities: int


def across_cities(sensitivity: pd.DataFrame) -> dict[str, AcrossCities]:
    """Median, minimum and maximum of the city shares under each mapping (cities with a known share)."""
    out = {}
    for mapping in MAPPINGS:
        rows = sensitivity[sensitivity["mapping"].eq(mapping)].dropna(subset=["share"])
        if rows.empty:
            continue
        share = rows["share"].astype(float)
        out[mapping] = AcrossCities(
            mapping=mapping,
            median=float(share.median()),
            low=float(share.min()),
            high=float(share.max()),
            low_city=str(rows.loc[share.idxmin(), "city"]),
            high_city=str(rows.loc[share.idxmax(), "city"]),
            cities=int(len(rows)),
        )
    return out


def summary_table(
    calls: pd.DataFrame, rules: Sequence[Rule] | None = None, initiation: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per mapping: median and range across cities (for display)."""
    rows = [vars(a) for a in across_cities(city_mapping_shares(calls, rules, initiation)).values()]
    return pd.DataFrame(rows, columns=["mapping", "median", "low", "high", "low_city", "high_city", "cities"])


# --- notebook report: figures and claims -------------------------------------------------------------


def load_inputs(folder=None) -> pd.DataFrame:
    from heartbeats_analysis.ingest.tables import load_table

    return load_table("calls_for_service", folder)


def load_initiation(folder=None) -> pd.DataFrame:
    from heartbeats_analysis.ingest.tables import load_table

    return load_table("calls_initiation", folder)


def _fn(name: str) -> str:
    return f"{__name__}.{name}"


def _pct(value: float) -> str:
    return format_number(value, 1, percent=True)


def report_agency_data(ctx, agency: str, agencies: pd.DataFrame | None = None) -> NoData:
    """States that no call data are public for the agency: what follows is a proxy."""
    if agencies is None:
        from heartbeats_analysis.ingest.tables import load_table

        agencies = load_table("agencies")
    name = listed_name(agencies, agency)
    reason = (
        f"No 911 or calls-for-service data are published for {name}; the shares below come from five "
        "large US cities and are a proxy, not a measurement of local demand"
    )
    ctx.claims.record(
        "calls.agency_data",
        None,
        "text",
        reason + ".",
        source=["(none published)"],
        function=_fn("report_agency_data"),
        notebook=ctx.notebook,
        flags=["no_data"],
    )
    return NoData(agency, "calls_for_service", reason)


def _treatment(totals: pd.DataFrame) -> str:
    uses_flag = totals["denominator_basis"].str.startswith("Vera initiation flag")
    flagged = sorted(totals.loc[uses_flag, "city"])
    listed = sorted(totals.loc[~uses_flag, "city"])
    parts = []
    if flagged:
        parts.append(f"the cities' own initiation flag for {_and(flagged)}")
    if listed:
        parts.append(f"a documented list of officer-initiated call types for {_and(listed)}")
    low, high = totals["officer_share_of_records"].min(), totals["officer_share_of_records"].max()
    return (
        f"Officer-initiated records (stops, patrol checks, details, warrant service; {_pct(low)} to "
        f"{_pct(high)} of each city's records) are left out of both counts, using {' and '.join(parts)}."
    )


def _and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def report_shares(
    ctx, calls: pd.DataFrame, rules: Sequence[Rule] | None = None, initiation: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Relevant share of community-generated calls by city and mapping; records
    calls.relevant_share_{narrow,central,broad} (median with min-max range), calls.cities, and the central
    median of each group."""
    sensitivity = city_mapping_shares(calls, rules, initiation)
    totals = community_totals(calls, initiation)
    treatment = _treatment(totals)
    summary = across_cities(sensitivity)
    save_table(ctx, sensitivity, "calls_mapping_sensitivity")
    save_table(ctx, totals, "calls_community_totals")
    for mapping, a in summary.items():
        sentence = (
            f"Under the {MAPPING_LABELS[mapping]}, a median {_pct(a.median)} of community-generated 911 calls "
            f"in {a.cities} large US cities were of kinds where social-work training plausibly matters "
            f"(from {_pct(a.low)} in {a.low_city} to {_pct(a.high)} in {a.high_city}). {treatment}"
        )
        ctx.claims.record(
            f"calls.relevant_share_{mapping}",
            a.median,
            "proportion",
            sentence,
            interval=(a.low, a.high),
            interval_kind=f"range across {a.cities} cities (min to max)",
            n=a.cities,
            source=SOURCES,
            function=_fn("across_cities"),
            notebook=ctx.notebook,
            flags=["proxy"],
        )
    cities = sorted(sensitivity["city"].unique())
    ctx.claims.record(
        "calls.cities",
        len(cities),
        "cities",
        f"The call data cover {len(cities)} cities: {', '.join(cities[:-1])} and {cities[-1]} "
        "(about 2011 to 2019; years vary by city).",
        n=len(cities),
        source=SOURCES,
        function=_fn("city_mapping_shares"),
        notebook=ctx.notebook,
        flags=["proxy"],
    )
    groups = city_group_shares(calls, initiation)
    save_table(ctx, groups, "calls_group_shares")
    for group in GROUPS:
        share = groups.loc[groups["heartbeats_group"].eq(group), "share"].dropna().astype(float)
        if share.empty:
            continue
        ctx.claims.record(
            f"calls.group_share_{group}",
            float(share.median()),
            "proportion",
            f"Calls about {GROUP_LABELS[group]} were a median {_pct(share.median())} of community-generated 911 "
            f"calls across the {len(share)} cities (range {_pct(share.min())} to {_pct(share.max())}; central "
            "mapping; officer-initiated records left out).",
            interval=(float(share.min()), float(share.max())),
            interval_kind=f"range across {len(share)} cities",
            n=len(share),
            source=SOURCES,
            function=_fn("city_group_shares"),
            notebook=ctx.notebook,
            flags=["proxy"],
        )
    wide = sensitivity.pivot(index="city", columns="mapping", values="share").reindex(columns=list(MAPPINGS))
    totals = sensitivity.drop_duplicates("city").set_index("city")["total"]
    return wide.assign(calls=totals).reset_index()


def report_references(ctx) -> pd.DataFrame:
    """Published estimates from programs elsewhere, recorded as reference claims, shown beside ours."""
    from heartbeats_analysis.analysis.reference import (
        CALLS_REFERENCE_IDS,
        record_references,
        reference_table,
    )

    record_references(ctx.claims, CALLS_REFERENCE_IDS, ctx.notebook)
    return reference_table(CALLS_REFERENCE_IDS)


def figure_shares(
    ctx, calls: pd.DataFrame, rules: Sequence[Rule] | None = None, initiation: pd.DataFrame | None = None
):
    """Two panels: left, each city's relevant share (central dot, narrow-to-broad bar); right, the published
    program figures from elsewhere, drawn apart so they are never read as our estimate."""
    import matplotlib.pyplot as plt
    import numpy as np

    from heartbeats_analysis.analysis.reference import CALLS_REFERENCE_IDS, get
    from heartbeats_analysis.report.style import (
        AGENCY_COLOUR,
        PEER_COLOUR,
        REFERENCE_COLOUR,
        apply_style,
        save_figure,
    )

    sensitivity = city_mapping_shares(calls, rules, initiation)
    wide = sensitivity.pivot(index="city", columns="mapping", values="share").astype(float)
    wide = wide.reindex(columns=list(MAPPINGS)).sort_values("central", ascending=False)
    refs = [get(i) for i in CALLS_REFERENCE_IDS]
    apply_style()
    fig, ax = plt.subplots(figsize=(7.0, 4.8))
    # Cities on top, the published figures below a divider: one axis so the scales match, two blocks so
    # a reader never takes a program's figure for one of ours.
    city_y = np.arange(len(wide))[::-1] + len(refs) + 1.5
    ref_y = np.arange(len(refs))[::-1].astype(float)
    ax.hlines(city_y, wide["narrow"], wide["broad"], color=PEER_COLOUR, linewidth=3, label="narrow to broad mapping")
    ax.plot(wide["central"], city_y, "o", color=AGENCY_COLOUR, label="central mapping")
    for y, ref in zip(ref_y, refs, strict=True):
        if ref.range:
            ax.hlines(y, *ref.range, color=REFERENCE_COLOUR, linewidth=3)
        if ref.value is not None:
            ax.plot(ref.value, y, "D", color=REFERENCE_COLOUR, mfc="none")
    ax.plot([], [], "D", color=REFERENCE_COLOUR, mfc="none", label="published figure or range (elsewhere)")
    ax.axhline(len(refs) + 0.25, color="#555555", linewidth=0.8)
    ax.set_yticks([*city_y, *ref_y], [*wide.index, *(CHART_LABELS[r.id] for r in refs)], fontsize=9)
    ax.text(
        1.0,
        len(refs) + 0.4,
        "five cities' 911 calls (our proxy)",
        transform=ax.get_yaxis_transform(),
        ha="right",
        va="bottom",
        fontsize=8.5,
        color="#333333",
    )
    ax.text(
        1.0,
        len(refs) + 0.1,
        "published by programs elsewhere",
        transform=ax.get_yaxis_transform(),
        ha="right",
        va="top",
        fontsize=8.5,
        color=REFERENCE_COLOUR,
    )
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlim(left=0)
    ax.set_xlabel("Share of community-generated calls")
    ax.set_title("911 calls where social-work training may matter")
    ax.legend(loc="lower right", fontsize=8)
    plotted = sensitivity.assign(series="ours: Vera 911 data, five cities")
    plotted = pd.concat(
        [
            plotted,
            pd.DataFrame(
                [
                    {
                        "city": r.label,
                        "mapping": "published",
                        "share": r.value,
                        "low": r.low,
                        "high": r.high,
                        "series": f"reference: {r.citation}",
                    }
                    for r in refs
                ]
            ),
        ],
        ignore_index=True,
    )
    parts = [
        f"{city} {row['central']:.1%} (narrow {row['narrow']:.1%}, broad {row['broad']:.1%})"
        for city, row in wide.iterrows()
    ]
    ref_parts = [f"{r.label}: " + (f"{r.low:.0%} to {r.high:.0%}" if r.range else f"{r.value:.1%}") for r in refs]
    alt = (
        "Two-panel dot chart. Share of community-generated 911 calls where social-work training plausibly matters, "
        "central mapping "
        "with the narrow-to-broad range: "
        + "; ".join(parts)
        + ". Published figures from programs elsewhere: "
        + "; ".join(ref_parts)
        + "."
    )
    return save_figure(
        fig,
        f"{ctx.notebook}-relevant-share",
        title="Share of 911 calls where social-work training may matter",
        data=plotted,
        alt_text=alt,
        source_line=SOURCE_LINE + "; program reports (below the line)",
        notebook=ctx.notebook,
        function=_fn("figure_shares"),
        out_dir=ctx.figures_dir,
    )


def report_audit(ctx, calls: pd.DataFrame, initiation: pd.DataFrame | None = None) -> pd.DataFrame:
    """The mapping audit (every call type of at least 0.5% of a city's community calls, and why it is or is
    not counted) and the effect of the CAD column chosen per city; both saved as tables."""
    audit = mapping_audit(calls, initiation)
    save_table(ctx, audit, "calls_mapping_audit")
    save_table(ctx, column_choice_effect(calls), "calls_column_choice")
    return audit


def report_calls_per_resident(ctx, initiation: pd.DataFrame, population: pd.DataFrame | None = None) -> pd.DataFrame:
    """Records calls.community_calls_per_resident: the median over cities of each city's mean yearly
    community-generated calls per resident, with the range over every full city-year."""
    table = community_calls_per_resident(initiation, population)
    save_table(ctx, table, "calls_community_per_resident")
    by_city = table.groupby("city")["per_resident"].mean()
    low, high = float(table["per_resident"].min()), float(table["per_resident"].max())
    value = float(by_city.median())
    spans = "; ".join(
        f"{city} {format_number(rows['per_resident'].min(), 2)}-{format_number(rows['per_resident'].max(), 2)} "
        f"({rows['year'].min()}-{rows['year'].max()})"
        for city, rows in table.groupby("city")
    )
    ctx.claims.record(
        "calls.community_calls_per_resident",
        value,
        "calls per resident per year",
        f"Community-generated calls (911, other phone lines and alarms; officer-initiated events left out by "
        f"the cities' own flag) came to a median {format_number(value, 2)} per resident a year across "
        f"{len(by_city)} large US cities ({spans}); population interpolated between the 2010 and 2020 censuses. "
        "These count CAD events, not phone calls, in big cities: a proxy for a small suburb.",
        interval=(low, high),
        interval_kind=f"range across {len(table)} full city-years (min to max)",
        n=len(table),
        source=["calls_initiation.csv", "heartbeats_analysis/resources/city_census_population.csv"],
        function=_fn("community_calls_per_resident"),
        notebook=ctx.notebook,
        flags=["proxy"],
    )
    return table
