"""Calls for service: what share of 911 calls fall in categories where social-work training matters?

No call-for-service data are public for Ferguson (or any St. Louis County municipality), so this is a
proxy: five large US cities harmonised by the Vera Institute and Two Sigma Data Clinic. Each city is
read from one CAD column (``sources.calls.PRIMARY_SOURCE_COLUMNS``: what the caller reported), and the
share is computed within that column only. The Heartbeats mapping (which call types count) is a
judgement: it is reported under the narrow, central and broad mappings from ``sources.calls``.

The summary across cities is the median with the minimum and maximum: five cities are too few, and
too unlike Ferguson, for a confidence interval of a "typical" city to mean anything. Binomial
intervals on each city's share are not shown either: with hundreds of thousands of calls per city
they are narrower than the rounding, while the real uncertainty (which mapping, which city) is
several percentage points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from heartbeats_analysis.analysis import NoData, listed_name, save_table
from heartbeats_analysis.analysis.stats import format_number
from heartbeats_analysis.ingest.sources.calls import (
    GROUPS,
    MAPPINGS,
    PRIMARY_SOURCE_COLUMNS,
    Rule,
    assign_groups,
)

NOTEBOOK = "06-calls"
SOURCE_LINE = "Vera Institute of Justice / Two Sigma Data Clinic 911 data (5 cities, ~2011-2019)"
SOURCES = ["calls_for_service.csv", "heartbeats_analysis/resources/call_category_mapping.csv"]
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


def city_group_shares(calls: pd.DataFrame) -> pd.DataFrame:
    """Each city's share of calls in each Heartbeats group and in all of them ('relevant'), central mapping."""
    shares = relevant_share(primary_calls(calls))
    return shares[["city", "source_column", "heartbeats_group", "count", "total", "share"]]


def city_mapping_shares(calls: pd.DataFrame, rules: Sequence[Rule] | None = None) -> pd.DataFrame:
    """Each city's relevant share under the narrow, central and broad mappings (one row per city and mapping).
    ``rules`` replaces the project's mapping (tests use it)."""
    return mapping_sensitivity(primary_calls(calls), rules)


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


def summary_table(calls: pd.DataFrame, rules: Sequence[Rule] | None = None) -> pd.DataFrame:
    """One row per mapping: median and range across cities (for display)."""
    rows = [vars(a) for a in across_cities(city_mapping_shares(calls, rules)).values()]
    return pd.DataFrame(rows, columns=["mapping", "median", "low", "high", "low_city", "high_city", "cities"])


# --- notebook report: figures and claims -------------------------------------------------------------


def load_inputs(folder=None) -> pd.DataFrame:
    from heartbeats_analysis.ingest.tables import load_table

    return load_table("calls_for_service", folder)


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


def report_shares(ctx, calls: pd.DataFrame, rules: Sequence[Rule] | None = None) -> pd.DataFrame:
    """Relevant share by city and mapping; records calls.relevant_share_{narrow,central,broad} (median with
    min-max range), calls.cities, and the central median of each group."""
    sensitivity = city_mapping_shares(calls, rules)
    summary = across_cities(sensitivity)
    save_table(ctx, sensitivity, "calls_mapping_sensitivity")
    for mapping, a in summary.items():
        sentence = (
            f"Under the {MAPPING_LABELS[mapping]}, a median {_pct(a.median)} of 911 calls in "
            f"{a.cities} large US cities were of kinds where social-work training plausibly matters "
            f"(from {_pct(a.low)} in {a.low_city} to {_pct(a.high)} in {a.high_city})."
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
    groups = city_group_shares(calls)
    save_table(ctx, groups, "calls_group_shares")
    for group in GROUPS:
        share = groups.loc[groups["heartbeats_group"].eq(group), "share"].dropna().astype(float)
        if share.empty:
            continue
        ctx.claims.record(
            f"calls.group_share_{group}",
            float(share.median()),
            "proportion",
            f"Calls about {GROUP_LABELS[group]} were a median {_pct(share.median())} of 911 calls across the "
            f"{len(share)} cities (range {_pct(share.min())} to {_pct(share.max())}; central mapping).",
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


def figure_shares(ctx, calls: pd.DataFrame, rules: Sequence[Rule] | None = None):
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

    sensitivity = city_mapping_shares(calls, rules)
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
    ax.set_xlabel("Share of calls")
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
        "Two-panel dot chart. Share of 911 calls where social-work training plausibly matters, central mapping "
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
