"""Arrests by race (FBI UCR): arrests per 1,000 residents of each race and the Black:white arrest rate
ratio over time, for minor offences a social-work approach plausibly changes (drug possession,
drunkenness, disorderly conduct, vagrancy, curfew and loitering, "all other" offences) and for
serious (Part I) offences, separately.

Definitions (docs/decisions.md, "Arrests by race"):

* Numerator: arrests (not people) of White or Black arrestees, the FBI's race categories, which
  include Hispanic people of each race. Denominator: ACS 5-year White non-Hispanic and Black
  non-Hispanic residents, all ages. The mismatch is small where few residents are Hispanic (Ferguson
  about 1.5%) and is stated.
* Years: only years with an ACS race count (2014 onward) get rates; earlier years are shown as counts
  without rates rather than divided by an interpolated or census-year population.
* A group's count for a year is missing when any offence in it is missing (never a partial sum), and
  a year whose race cells do not add up to the total is flagged.
* Interval: exact conditional interval of the ratio of two Poisson rates; widened for the ACS
  sampling error as for stops (stop_rates.widen_for_population).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from heartbeats_analysis.analysis import NoData, listed_name, police_of, save_table
from heartbeats_analysis.analysis.population import population_for
from heartbeats_analysis.analysis.stats import format_number as fmt
from heartbeats_analysis.analysis.stats import poisson_rate_ci, rate_ratio, years_label
from heartbeats_analysis.analysis.stop_rates import acs_count_cv, flag_jumps, widen_for_population

GROUP_WORDS = {
    "minor": "minor offences (drug possession, drunkenness, disorderly conduct, vagrancy, curfew, all other)",
    "serious": "serious (Part I) offences",
}
RATE_COLUMNS = [
    "agency_slug",
    "year",
    "offense_group",
    "black_arrests",
    "white_arrests",
    "races_add_up",
    "population_year",
    "black_population",
    "white_population",
    "black_per_1000",
    "black_lower",
    "black_upper",
    "white_per_1000",
    "white_lower",
    "white_upper",
    "rate_ratio",
    "lower",
    "upper",
    "lower_with_population_error",
    "upper_with_population_error",
]


def group_counts(arrests: pd.DataFrame, agency: str) -> pd.DataFrame:
    """Arrests by year, offence group and race (total, white, black) for one agency; a group is missing
    in a year when any of its offences is (or the year was not reported)."""
    frame = arrests[arrests["agency_slug"].eq(agency) & arrests["race"].isin(["total", "white", "black"])]
    if frame.empty:
        return pd.DataFrame(columns=["year", "offense_group", "race", "arrests", "races_add_up"])
    # Vectorised (a Python function per group cost about a tenth of a second per agency): a group's sum is kept
    # only when it counts every row, and an unchecked race breakdown (missing) does not count against it.
    grouped = frame.assign(races_add_up=frame["races_add_up"].fillna(True)).groupby(["year", "offense_group", "race"])
    counts = grouped["arrests"]
    complete = counts.count() == counts.size()
    return pd.DataFrame(
        {
            "arrests": counts.sum().where(complete).astype("Int64"),
            "races_add_up": grouped["races_add_up"].all().astype("boolean"),
        }
    ).reset_index()


def arrest_rates(arrests: pd.DataFrame, population: pd.DataFrame, geoid: str, agency: str) -> pd.DataFrame:
    """Per-1,000 arrest rates of Black and white residents and their ratio, for each year with both an
    arrest report by race and an ACS 5-year race count (the same ACS end-year, no borrowing)."""
    counts = group_counts(arrests, agency)
    pop = population_for(population, geoid)
    rows = []
    wide = counts.pivot_table(index=["year", "offense_group"], columns="race", values="arrests", aggfunc="first")
    add_up = counts.groupby(["year", "offense_group"])["races_add_up"].all()
    for (year, group), r in wide.iterrows():
        if int(year) not in pop.index or pd.isna(r.get("black")) or pd.isna(r.get("white")):
            continue
        residents = pop.loc[int(year)]
        b, w = int(r["black"]), int(r["white"])
        bp, wp = float(residents["black"]), float(residents["white"])
        if bp <= 0 or wp <= 0:
            continue
        black_rate, white_rate = poisson_rate_ci(b, bp, 1000), poisson_rate_ci(w, wp, 1000)
        ratio = rate_ratio(b, bp, w, wp)
        wide_ci = widen_for_population(
            ratio.value,
            ratio.lower,
            ratio.upper,
            acs_count_cv(bp, residents["total"]),
            acs_count_cv(wp, residents["total"]),
        )
        rows.append(
            {
                "agency_slug": agency,
                "year": int(year),
                "offense_group": group,
                "black_arrests": b,
                "white_arrests": w,
                "races_add_up": bool(add_up[(year, group)]),
                "population_year": int(year),
                "black_population": int(bp),
                "white_population": int(wp),
                "black_per_1000": black_rate.value,
                "black_lower": black_rate.lower,
                "black_upper": black_rate.upper,
                "white_per_1000": white_rate.value,
                "white_lower": white_rate.lower,
                "white_upper": white_rate.upper,
                "rate_ratio": ratio.value,
                "lower": ratio.lower,
                "upper": ratio.upper,
                "lower_with_population_error": wide_ci[0],
                "upper_with_population_error": wide_ci[1],
            }
        )
    return pd.DataFrame(rows, columns=RATE_COLUMNS)


def arrest_jumps(arrests: pd.DataFrame, agency: str) -> pd.DataFrame:
    """stop_rates.flag_jumps over each offence group's yearly count of each race (total, white, black)."""
    counts = group_counts(arrests, agency)
    pieces = []
    for (group, race), rows in counts.groupby(["offense_group", "race"], sort=True):
        jumps = flag_jumps(rows.set_index("year")["arrests"].astype("Float64"))
        if len(jumps):
            pieces.append(jumps.assign(offense_group=group, race=race))
    columns = ["offense_group", "race", "from_year", "to_year", "from_count", "to_count", "factor", "gap"]
    return pd.concat(pieces, ignore_index=True)[columns] if pieces else pd.DataFrame(columns=columns)


def reported_years(arrests: pd.DataFrame, agency: str) -> tuple[list[int], list[int], bool]:
    """(years reported, years not reported between the first and last, has race columns)."""
    frame = arrests[arrests["agency_slug"].eq(agency)]
    years = frame.groupby("year")["reported"].any()
    return (
        sorted(int(y) for y in years.index[years]),
        sorted(int(y) for y in years.index[~years]),
        bool(frame["race"].ne("total").any()),
    )


@dataclass
class ArrestInputs:
    arrests: pd.DataFrame
    population: pd.DataFrame
    agencies: pd.DataFrame


def load_inputs(folder=None) -> ArrestInputs:
    from heartbeats_analysis.ingest.tables import load_table

    return ArrestInputs(*(load_table(name, folder) for name in ("arrests", "population", "agencies")))


def _sentence_start(text: str) -> str:
    """First letter upper-cased, the rest kept ('the St. Louis County ...' -> 'The St. Louis County ...')."""
    return text[:1].upper() + text[1:]


def _fn(name: str) -> str:
    return f"{__name__}.{name}"


ARREST_CLAIMS = [
    ("arrests.years_reported", "count"),
    ("arrests.black_white_minor_rate_ratio_latest", "ratio"),
    ("arrests.black_white_serious_rate_ratio_latest", "ratio"),
    ("arrests.black_minor_per_1000_latest", "per 1,000 residents"),
    ("arrests.black_white_minor_rate_ratio_series", "ratio"),
]


def _no_data(ctx, ids, reason: str, name: str) -> None:
    for claim_id, unit in ids:
        ctx.claims.record(
            claim_id,
            None,
            unit,
            f"Not available for {name}: {reason}.",
            source=["arrests.csv"],
            function=_fn("arrest_rates"),
            notebook=ctx.notebook,
            flags=["no_data"],
        )


def _geography(data: ArrestInputs, agency: str) -> tuple[str, str] | None:
    rows = data.agencies[data.agencies["agency_slug"].eq(agency)]
    if rows.empty or pd.isna(rows.iloc[0].get("geoid")) or str(rows.iloc[0]["geoid"]).strip() == "":
        return None
    return str(rows.iloc[0]["geoid"]), str(rows.iloc[0]["geo_type"])


def report_arrests(ctx, data: ArrestInputs, agency: str) -> pd.DataFrame | NoData:
    """Arrest rates by race and their Black:white ratio for the agency; records arrests.* claims."""
    name = listed_name(data.agencies, agency)
    years, gaps, has_race = reported_years(data.arrests, agency)
    if not years:
        reason = "the FBI arrest files in this project cover only Ferguson, Florissant and the St. Louis County Police"
        _no_data(ctx, ARREST_CLAIMS, reason, name)
        return NoData(agency, "arrests", reason, name)
    all_jumps = arrest_jumps(data.arrests, agency)
    totals = all_jumps[all_jumps["race"].eq("total")]
    jump_text = (
        " Implausible jumps in the yearly totals (more than 5-fold between adjacent reported years): "
        + "; ".join(
            f"{r.offense_group} offences {r.from_count:,} ({r.from_year}) to {r.to_count:,} ({r.to_year})"
            for r in totals.itertuples()
        )
        + "; a jump may be a change in reporting or a real change in enforcement, and the data cannot tell which."
        if len(totals)
        else ""
    )
    ctx.claims.record(
        "arrests.years_reported",
        len(years),
        "count",
        f"{_sentence_start(police_of(name))} reported arrests to the FBI for {len(years)} years between {years[0]} and "
        f"{years[-1]}" + (f"; no report for {years_label(gaps)} (missing, not zero)." if gaps else ".") + jump_text,
        source=["arrests.csv"],
        function=_fn("reported_years"),
        notebook=ctx.notebook,
        flags=(["missing_years"] if gaps else []) + (["implausible_jump"] if len(totals) else []),
    )
    geography = _geography(data, agency)
    if not has_race or geography is None:
        reason = "its FBI arrest file has no race columns" if not has_race else "no census geography is matched"
        _no_data(ctx, ARREST_CLAIMS[1:], reason, name)
        return NoData(agency, "arrests", reason, name)
    rates = arrest_rates(data.arrests, data.population, geography[0], agency)
    save_table(ctx, rates, "arrests_rates_by_race")
    if rates.empty:
        reason = f"its arrest reports by race ({years_label(years)}) end before the first ACS race count (2014)"
        _no_data(ctx, ARREST_CLAIMS[1:], reason, name)
        return NoData(agency, "arrests", reason, name)
    caveat = (
        " The census geography is the whole county, larger than the area this department polices, so the "
        "per-resident rates understate its arrest rates."
        if geography[1] == "county"
        else ""
    )
    latest_year = int(rates["year"].max())
    for group, claim_id in (
        ("minor", "arrests.black_white_minor_rate_ratio_latest"),
        ("serious", "arrests.black_white_serious_rate_ratio_latest"),
    ):
        rows = rates[rates["offense_group"].eq(group) & rates["year"].eq(latest_year)]
        if rows.empty:
            _no_data(ctx, [(claim_id, "ratio")], f"no {group}-offence arrests by race in {latest_year}", name)
            continue
        r = rows.iloc[0]
        finite = math.isfinite(r["rate_ratio"])
        sentence = (
            f"In {latest_year}, {police_of(name)} made {fmt(r['black_per_1000'], 1)} arrests for "
            f"{GROUP_WORDS[group]} per 1,000 Black residents and {fmt(r['white_per_1000'], 1)} per 1,000 white "
            f"residents ({int(r['black_arrests']):,} and {int(r['white_arrests']):,} arrests)"
            + (
                f": a Black:white ratio of {fmt(r['rate_ratio'], 1)} (95% CI {fmt(r['lower'], 1)} to "
                f"{fmt(r['upper'], 1)}; {fmt(r['lower_with_population_error'], 1)} to "
                f"{fmt(r['upper_with_population_error'], 1)} with the census error allowed for)."
                if finite
                else "."
            )
            + " Counts are arrests, not people."
            + caveat
        )
        flags = [] if r["races_add_up"] else ["race_cells_inconsistent"]
        if min(r["black_arrests"], r["white_arrests"]) < 10:
            flags.append("small_cell")
        ctx.claims.record(
            claim_id,
            float(r["rate_ratio"]) if finite else None,
            "ratio",
            sentence,
            interval=(float(r["lower"]), float(r["upper"])) if finite and math.isfinite(r["upper"]) else None,
            interval_kind="95% CI (exact conditional, populations fixed)",
            n=int(r["black_arrests"] + r["white_arrests"]),
            source=["arrests.csv", "population.csv", "agencies.csv"],
            function=_fn("arrest_rates"),
            notebook=ctx.notebook,
            flags=flags,
        )
        if group == "minor":
            ctx.claims.record(
                "arrests.black_minor_per_1000_latest",
                float(r["black_per_1000"]),
                "per 1,000 residents",
                f"In {latest_year}, {police_of(name)} made {fmt(r['black_per_1000'], 1)} arrests for minor offences "
                f"per 1,000 Black residents (95% CI {fmt(r['black_lower'], 1)} to {fmt(r['black_upper'], 1)}): "
                "the baseline against which any reduction in the arrest of Black residents would be judged." + caveat,
                interval=(float(r["black_lower"]), float(r["black_upper"])),
                interval_kind="95% CI (exact Garwood, population fixed)",
                n=int(r["black_arrests"]),
                source=["arrests.csv", "population.csv"],
                function=_fn("arrest_rates"),
                notebook=ctx.notebook,
            )
    recent = all_jumps[all_jumps["to_year"].ge(2014)]
    jump_words = (
        " Implausible jumps in these counts (more than 5-fold between adjacent reported years): "
        + "; ".join(
            f"{r.offense_group} offences, {r.race if r.race != 'total' else 'all'} arrestees, {r.from_count:,} "
            f"({r.from_year}) to {r.to_count:,} ({r.to_year})"
            for r in recent.itertuples()
        )
        + "."
        if len(recent)
        else ""
    )
    minor = rates[rates["offense_group"].eq("minor")].set_index("year")["rate_ratio"]
    if len(minor):
        words = "; ".join(f"{y}: {fmt(v, 1)}" for y, v in minor.items())
        earlier = [y for y in years if y < 2014]
        ctx.claims.record(
            "arrests.black_white_minor_rate_ratio_series",
            float(minor.iloc[-1]),
            "ratio",
            f"Black:white arrest rate ratio per resident for minor offences, {police_of(name)}: {words}."
            + (
                f" Earlier reports ({years_label(earlier)}) are shown as counts only: the ACS has no race count "
                "before 2014."
                if earlier
                else ""
            )
            + jump_words,
            interval=(float(minor.min()), float(minor.max())),
            interval_kind="range across years",
            n=len(minor),
            source=["arrests.csv", "population.csv"],
            function=_fn("arrest_rates"),
            notebook=ctx.notebook,
            flags=["implausible_jump"] if len(recent) else [],
        )
    return rates


def arrest_counts_table(data: ArrestInputs, agency: str) -> pd.DataFrame:
    """Every year's arrests by group and race (counts only; gaps as missing), for the notebook."""
    counts = group_counts(data.arrests, agency)
    if counts.empty:
        return counts
    wide = counts.pivot_table(index="year", columns=["offense_group", "race"], values="arrests", aggfunc="first")
    wide.columns = [f"{g}_{r}" for g, r in wide.columns]
    years = range(int(counts["year"].min()), int(counts["year"].max()) + 1)
    return wide.reindex(years).rename_axis("year").reset_index()


def report_peer_arrests(ctx, data: ArrestInputs, agency: str) -> pd.DataFrame:
    """The same rates for every other agency with race data (peers where the FBI files allow)."""
    frames = []
    for slug in sorted(set(data.arrests["agency_slug"]) - {agency}):
        geography = _geography(data, slug)
        if geography is None:
            continue
        rates = arrest_rates(data.arrests, data.population, geography[0], slug)
        if len(rates):
            frames.append(rates.assign(name=listed_name(data.agencies, slug), geo_type=geography[1]))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*RATE_COLUMNS, "name"])
    save_table(ctx, table, "arrests_rates_by_race_peers")
    minor = table[table["offense_group"].eq("minor")] if len(table) else table
    by_agency = data.arrests.groupby("agency_slug")["race"].agg(lambda r: r.ne("total").any())
    no_race = [listed_name(data.agencies, a) for a in by_agency.index[~by_agency] if a != agency]
    if len(minor):
        latest = minor[minor["year"].eq(minor["year"].max())].iloc[0]
        county = " (its census geography is the whole county, larger than its service area)" * (
            latest["geo_type"] == "county"
        )
        ctx.claims.record(
            "arrests.peer_black_white_minor_rate_ratio",
            float(latest["rate_ratio"]),
            "ratio",
            f"For comparison, {latest['name']}{county} arrested Black residents for minor offences "
            f"{fmt(latest['rate_ratio'], 1)} times as often per resident as white residents in {int(latest['year'])} "
            f"(95% CI {fmt(latest['lower'], 1)} to {fmt(latest['upper'], 1)})."
            + (f" No race columns in the FBI arrest file of {', '.join(no_race)}." if no_race else ""),
            interval=(float(latest["lower"]), float(latest["upper"])),
            interval_kind="95% CI (exact conditional, populations fixed)",
            n=int(latest["black_arrests"] + latest["white_arrests"]),
            source=["arrests.csv", "population.csv", "agencies.csv"],
            function=_fn("arrest_rates"),
            notebook=ctx.notebook,
        )
    else:
        _no_data(
            ctx, [("arrests.peer_black_white_minor_rate_ratio", "ratio")], "no other agency has arrests by race", ""
        )
    return table


def figure_arrests(ctx, data: ArrestInputs, agency: str):
    """Two panels: yearly arrests for minor and serious offences (every year, gaps left as gaps), and
    arrests per 1,000 Black and white residents with 95% intervals for the years with an ACS race count."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.report.style import PALETTE, apply_style, save_figure

    counts = arrest_counts_table(data, agency)
    geography = _geography(data, agency)
    if counts.empty or geography is None:
        return NoData(agency, "arrests", "no FBI arrest file for this agency")
    rates = arrest_rates(data.arrests, data.population, geography[0], agency)
    name = listed_name(data.agencies, agency)
    apply_style()
    fig, (left, right) = plt.subplots(1, 2)
    styles = {"minor": "-", "serious": "--"}
    for group in ("minor", "serious"):
        column = f"{group}_total"
        if column in counts:
            left.plot(
                counts["year"],
                counts[column].astype("Float64").to_numpy(dtype=float, na_value=float("nan")),
                linestyle=styles[group],
                marker=".",
                color=PALETTE["black"],
                label=f"{group} offences",
            )
    left.set_title("Arrests a year (gaps: no report)")
    left.set_xlabel("Year")
    left.legend(loc="upper right")
    colours = {"black": PALETTE.get("black", "#000000"), "white": "#999999"}
    for group in ("minor", "serious"):
        rows = rates[rates["offense_group"].eq(group)]
        for race in ("black", "white"):
            if rows.empty:
                continue
            y = rows[f"{race}_per_1000"]
            err = [y - rows[f"{race}_lower"], rows[f"{race}_upper"] - y]
            right.errorbar(
                rows["year"],
                y,
                yerr=err,
                capsize=2,
                linestyle=styles[group],
                marker="o",
                color=colours[race],
                label=f"{race.capitalize()}, {group}",
            )
    right.set_title("Per 1,000 residents (95% CI)")
    right.set_xlabel("Year")
    if len(rates):
        right.legend(loc="upper right", fontsize="small")
    fig.suptitle(f"{name}: arrests reported to the FBI", fontweight="bold", x=0.01, ha="left")
    reported = counts.dropna(subset=[c for c in counts.columns if c.endswith("_total")], how="all")
    alt = (
        f"Two-panel chart for {name}. Left: arrests a year for minor and serious offences, "
        f"{int(reported['year'].min())}-{int(reported['year'].max())}, with gaps for years without a report. "
        + (
            "Right: arrests per 1,000 Black and white residents, "
            + "; ".join(
                f"{int(r.year)} {r.offense_group}: Black {r.black_per_1000:.1f}, white {r.white_per_1000:.1f}"
                for r in rates.itertuples()
            )
            + "."
            if len(rates)
            else "Right: no rates (no race columns or no year with a census race count)."
        )
    )
    return save_figure(
        fig,
        f"{ctx.notebook}-arrests",
        title=f"{name}: arrests reported to the FBI",
        data=rates if len(rates) else counts,
        alt_text=alt,
        source_line="FBI Uniform Crime Reporting arrests (processed by Jacob Kaplan); US Census Bureau ACS 5-year",
        notebook=ctx.notebook,
        function=_fn("figure_arrests"),
        out_dir=ctx.figures_dir,
    )


__all__ = [
    "group_counts",
    "arrest_rates",
    "reported_years",
    "arrest_jumps",
    "load_inputs",
    "report_arrests",
    "arrest_counts_table",
    "report_peer_arrests",
    "figure_arrests",
]
