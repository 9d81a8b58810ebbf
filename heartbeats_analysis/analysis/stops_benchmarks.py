"""Notebook report functions for the researcher's measures of stops: per-resident rate ratios for the
agency, its peers and the state (one definition), stop volume by race, implausible jumps, yearly
outcome tests with their heterogeneity, citation and arrest rates per stop, the tests this data
cannot run, and the Attorney General's 2017 disparity index reproduced.

The pure computations live in :mod:`stop_rates` and :mod:`outcome_tests`; this module records the
claims and saves the tables (see docs/decisions.md for each definition).
"""

from __future__ import annotations

import math

import pandas as pd

from heartbeats_analysis.analysis import NoData, listed_name, police_of, save_table
from heartbeats_analysis.analysis.outcome_tests import (
    UNRUNNABLE_TESTS,
    action_rates,
    heterogeneity,
    yearly_odds_ratios,
)
from heartbeats_analysis.analysis.population import population_for
from heartbeats_analysis.analysis.stats import format_number as fmt
from heartbeats_analysis.analysis.stats import years_label
from heartbeats_analysis.analysis.stop_rates import (
    JUMP_MIN_COUNT,
    JUMP_RATIO,
    rate_ratio_table,
    series_words,
    stop_anomalies,
)
from heartbeats_analysis.analysis.stops import STATE_NAME, STATE_SLUG, StopsInputs, agency_geography

RACE_WORDS = {"black": "Black", "hispanic": "Hispanic", "white": "white"}
POP_INTERVAL_KIND = "95% interval including modelled ACS sampling error (see decisions: population uncertainty)"


def _fn(name: str) -> str:
    return f"{__name__}.{name}"


def _no_data(ctx, ids: list[tuple[str, str]], reason: str, source: str, function: str, name: str) -> None:
    for claim_id, unit in ids:
        ctx.claims.record(
            claim_id,
            None,
            unit,
            f"Not available for {name}: {reason}.",
            source=[source],
            function=_fn(function),
            notebook=ctx.notebook,
            flags=["no_data"],
        )


def agency_rate_table(data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """rate_ratio_table for one agency (its census geography's ACS 5-year counts)."""
    return data.once(("rate_ratios", agency), lambda: _agency_rate_table(data, agency))


def _agency_rate_table(data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    geography = agency_geography(data.agencies, agency)
    if isinstance(geography, NoData):
        return geography
    counts = data.stops[data.stops["agency_slug"].eq(agency)][["year", "race", "stops"]]
    if counts.dropna(subset=["stops"]).empty:
        return NoData(agency, "stops", "the Missouri Vehicle Stops Report has no stops for this agency")
    pop = population_for(data.population, geography[0])
    if pop.empty:
        return NoData(agency, "population", "the ACS has no population by race for the agency's census geography")
    table = rate_ratio_table(counts, pop, agency)
    if table["rate_ratio"].dropna().empty:
        return NoData(agency, "stops", "no year has stops of both White and Black or Hispanic drivers")
    return table


def state_rate_table(data: StopsInputs) -> pd.DataFrame:
    """rate_ratio_table for Missouri (ACS 1-year statewide counts)."""
    return data.once(("rate_ratios", STATE_SLUG), lambda: _state_rate_table(data))


def _state_rate_table(data: StopsInputs) -> pd.DataFrame:
    pop_rows = data.population[data.population["geo_type"].eq("state")]
    pop = population_for(data.population, str(pop_rows["geoid"].iloc[0]))
    survey = str(pop_rows["survey"].iloc[0]) if "survey" in pop_rows else "acs1"
    return rate_ratio_table(data.stops_statewide[["year", "race", "stops"]], pop, STATE_SLUG, survey)


RATE_CLAIMS = [
    ("stops.black_white_rate_ratio_latest", "ratio"),
    ("stops.hispanic_white_rate_ratio_latest", "ratio"),
    ("stops.black_white_rate_ratio_with_population_error", "ratio"),
    ("stops.black_white_rate_ratio_series", "ratio"),
]


def _latest(table: pd.DataFrame, race: str) -> pd.Series | None:
    rows = table[table["race"].eq(race) & table["rate_ratio"].notna()]
    return None if rows.empty else rows[rows["year"].eq(rows["year"].max())].iloc[0]


def _ratio_sentence(row: pd.Series, name: str, race: str) -> str:
    group = RACE_WORDS[race]
    year = int(row["year"])
    if not math.isfinite(row["rate_ratio"]):
        return f"In {year}, {police_of(name)} reported no stops of white drivers, so no {group}:white ratio exists."
    sentence = (
        f"In {year}, {police_of(name)} made {fmt(row['stop_rate_per_1000'], 0)} stops per 1,000 {group} residents "
        f"and {fmt(row['reference_rate_per_1000'], 0)} per 1,000 white residents: {group} residents were stopped "
        f"{fmt(row['rate_ratio'], 1)} times as often per resident (95% CI {fmt(row['lower'], 1)} to "
        f"{fmt(row['upper'], 1)}; {fmt(row['lower_with_population_error'], 1)} to "
        f"{fmt(row['upper_with_population_error'], 1)} allowing for the census estimate's own error)."
    )
    if row["small_cell"]:
        sentence += " Fewer than 10 stops in one group: too few to read the ratio."
    return sentence


def report_rate_ratios(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """The headline: Black:white and Hispanic:white per-resident stop rate ratios, every year, with the
    exact interval and the interval widened for the ACS error; the share ratio beside its ceiling."""
    name = listed_name(data.agencies, agency)
    table = agency_rate_table(data, agency)
    if isinstance(table, NoData):
        _no_data(ctx, RATE_CLAIMS, table.reason, f"{table.table}.csv", "agency_rate_table", name)
        return table
    save_table(ctx, table, "stops_rate_ratios")
    source = ["stops.csv", "population.csv", "agencies.csv"]
    for race, claim_id in (("black", RATE_CLAIMS[0][0]), ("hispanic", RATE_CLAIMS[1][0])):
        row = _latest(table, race)
        if row is None:
            _no_data(ctx, [(claim_id, "ratio")], f"no year with {race} stops", "stops.csv", "rate_ratio_table", name)
            continue
        finite = math.isfinite(row["rate_ratio"])
        ctx.claims.record(
            claim_id,
            float(row["rate_ratio"]) if finite else None,
            "ratio",
            _ratio_sentence(row, name, race),
            interval=(float(row["lower"]), float(row["upper"])) if finite else None,
            interval_kind="95% CI (exact conditional, populations fixed)",
            n=int(row["stops"] + row["reference_stops"]),
            source=source,
            function=_fn("report_rate_ratios"),
            notebook=ctx.notebook,
            flags=["small_cell"] if row["small_cell"] else [],
        )
    black = _latest(table, "black")
    if black is not None and math.isfinite(black["rate_ratio"]):
        ctx.claims.record(
            "stops.black_white_rate_ratio_with_population_error",
            float(black["rate_ratio"]),
            "ratio",
            f"Allowing for the sampling error of the census counts (modelled coefficients of variation "
            f"{fmt(black['population_cv'], 0, True)} for Black and {fmt(black['reference_population_cv'], 0, True)} "
            f"for white residents; the mirror holds no published margins of error), the {int(black['year'])} "
            f"Black:white ratio's interval widens from {fmt(black['lower'], 2)}-{fmt(black['upper'], 2)} to "
            f"{fmt(black['lower_with_population_error'], 2)}-{fmt(black['upper_with_population_error'], 2)} "
            f"({fmt(black['interval_widening'], 2)} times as wide on the log scale).",
            interval=(float(black["lower_with_population_error"]), float(black["upper_with_population_error"])),
            interval_kind=POP_INTERVAL_KIND,
            n=int(black["stops"] + black["reference_stops"]),
            source=source,
            function=_fn("report_rate_ratios"),
            notebook=ctx.notebook,
        )
        series = table[table["race"].eq("black")].set_index("year")["rate_ratio"]
        all_years = range(int(series.index.min()), int(series.index.max()) + 1)
        missing = [y for y in all_years if y not in series.index]
        words = "; ".join(f"{y}: {fmt(v, 1)}" for y, v in series.items() if math.isfinite(v))
        ctx.claims.record(
            "stops.black_white_rate_ratio_series",
            float(black["rate_ratio"]),
            "ratio",
            f"Black:white stop rate ratio per resident, {police_of(name)}, by year: {words}."
            + (f" No report for {years_label(missing)} (missing, not zero)." if missing else "")
            + " Residents are not drivers: people from elsewhere drive through, so a per-resident rate is a "
            "benchmark of exposure, not a measure of bias.",
            interval=(float(series.min()), float(series.max())),
            interval_kind="range across years",
            n=len(series),
            source=source,
            function=_fn("report_rate_ratios"),
            notebook=ctx.notebook,
            flags=["missing_years"] if missing else [],
        )
    else:
        _no_data(ctx, RATE_CLAIMS[2:], "no Black:white ratio can be computed", "stops.csv", "rate_ratio_table", name)
    return table


def peer_rate_comparison(data: StopsInputs, agency: str, peers: list[str]) -> pd.DataFrame:
    """Every year's Black:white and Hispanic:white rate ratios for the agency, its peers and Missouri:
    one definition (three groups, per resident) for all of them."""
    frames = []
    for slug in [agency, *[p for p in peers if p != agency]]:
        table = agency_rate_table(data, slug)
        if isinstance(table, NoData):
            continue
        frames.append(table.assign(name=listed_name(data.agencies, slug), role="agency" if slug == agency else "peer"))
    frames.append(state_rate_table(data).assign(name=STATE_NAME, role="state"))
    return pd.concat(frames, ignore_index=True)


def report_peer_rate_ratios(ctx, data: StopsInputs, agency: str, peers: list[str]) -> pd.DataFrame:
    """Peer median and state Black:white rate ratio in the agency's latest year (else the latest year)."""
    table = peer_rate_comparison(data, agency, peers)
    save_table(ctx, table, "stops_rate_ratios_peers")
    black = table[table["race"].eq("black")]
    own = black[black["role"].eq("agency")]
    year = int(own["year"].max()) if len(own) else int(black["year"].max())
    source = ["stops.csv", "stops_statewide.csv", "population.csv", "agencies.csv"]
    peer = black[black["role"].eq("peer") & black["year"].eq(year)]
    peer_values = peer["rate_ratio"][peer["rate_ratio"].map(math.isfinite)]
    if len(peer_values):
        ctx.claims.record(
            "stops.peer_black_white_rate_ratio_median",
            float(peer_values.median()),
            "ratio",
            f"In {year}, across the {len(peer_values)} peer agencies with stop data, Black residents were stopped "
            f"a median {fmt(peer_values.median(), 1)} times as often per resident as white residents (range "
            f"{fmt(peer_values.min(), 1)} to {fmt(peer_values.max(), 1)}; same definition as above).",
            interval=(float(peer_values.min()), float(peer_values.max())),
            interval_kind="range across peers",
            n=len(peer_values),
            source=source,
            function=_fn("peer_rate_comparison"),
            notebook=ctx.notebook,
        )
    else:
        _no_data(
            ctx,
            [("stops.peer_black_white_rate_ratio_median", "ratio")],
            f"no peer agency has stops by race in {year}",
            "stops.csv",
            "peer_rate_comparison",
            listed_name(data.agencies, agency),
        )
    state = black[black["role"].eq("state")]
    state_row = (
        state[state["year"].eq(year)] if year in set(state["year"]) else state[state["year"].eq(state["year"].max())]
    )
    for race, claim_id in (
        ("black", "stops.state_black_white_rate_ratio"),
        ("hispanic", "stops.state_hispanic_white_rate_ratio"),
    ):
        rows = table[
            table["role"].eq("state") & table["race"].eq(race) & table["year"].eq(int(state_row.iloc[0]["year"]))
        ]
        r = rows.iloc[0]
        ctx.claims.record(
            claim_id,
            float(r["rate_ratio"]),
            "ratio",
            f"Across Missouri in {int(r['year'])}, {RACE_WORDS[race]} residents were stopped "
            f"{fmt(r['rate_ratio'], 2)} times as often per resident as white residents (95% CI "
            f"{fmt(r['lower'], 2)} to {fmt(r['upper'], 2)}; {fmt(r['lower_with_population_error'], 2)} to "
            f"{fmt(r['upper_with_population_error'], 2)} with the census error allowed for).",
            interval=(float(r["lower"]), float(r["upper"])),
            interval_kind="95% CI (exact conditional, populations fixed)",
            n=int(r["stops"] + r["reference_stops"]),
            source=["stops_statewide.csv", "population.csv"],
            function=_fn("state_rate_table"),
            notebook=ctx.notebook,
        )
    return table


def stop_volume(data: StopsInputs, agency: str) -> pd.DataFrame:
    """Stops by race and year (White, Black, Hispanic and, from 2020, all drivers), gaps as missing."""
    frame = data.stops[data.stops["agency_slug"].eq(agency) & data.stops["race"].isin(["white", "black", "hispanic"])]
    wide = frame.pivot_table(index="year", columns="race", values="stops", aggfunc="first")
    wide = wide.reindex(columns=["white", "black", "hispanic"])
    if wide.empty:
        return wide.reset_index()
    wide = wide.reindex(range(int(wide.index.min()), int(wide.index.max()) + 1))
    wide["three_groups"] = wide[["white", "black", "hispanic"]].sum(axis=1, min_count=3)
    return wide.rename_axis("year").reset_index()


def report_stop_volume(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """Stop volume by race in words: first and latest year, and each group's change."""
    name = listed_name(data.agencies, agency)
    volume = stop_volume(data, agency)
    reported = volume.dropna(subset=["three_groups"]) if len(volume) else volume
    if reported.empty:
        _no_data(
            ctx, [("stops.volume_change", "ratio")], "no stops by race are published", "stops.csv", "stop_volume", name
        )
        return NoData(agency, "stops", "no stops by race are published")
    save_table(ctx, volume, "stops_volume_by_race")
    first, last = reported.iloc[0], reported.iloc[-1]
    missing = volume.loc[volume["three_groups"].isna(), "year"].astype(int).tolist()
    change = last["three_groups"] / first["three_groups"] if first["three_groups"] else math.nan
    parts = [
        f"{RACE_WORDS[r]} drivers from {int(first[r]):,} to {int(last[r]):,}" for r in ("black", "white", "hispanic")
    ]
    subject = police_of(name)[:1].upper() + police_of(name)[1:]
    sentence = (
        f"{subject} reported {int(first['three_groups']):,} stops of White, Black and Hispanic "
        f"drivers in {int(first['year'])} and {int(last['three_groups']):,} in {int(last['year'])} "
        f"({fmt(change, 2)} times the first year's volume): " + ", ".join(parts) + "."
    )
    if missing:
        sentence += f" No report for {years_label(missing)} (missing, not zero)."
    ctx.claims.record(
        "stops.volume_change",
        float(change) if math.isfinite(change) else None,
        "ratio",
        sentence,
        n=int(last["three_groups"]),
        source=["stops.csv"],
        function=_fn("stop_volume"),
        notebook=ctx.notebook,
        flags=["missing_years"] if missing else [],
    )
    return volume


def report_anomalies(ctx, data: StopsInputs, agency: str) -> pd.DataFrame:
    """Implausible year-to-year jumps in every published count; recorded as one flagged claim."""
    name = listed_name(data.agencies, agency)
    jumps = stop_anomalies(data.stops, agency)
    save_table(ctx, jumps, "stops_anomalies")
    rule = (
        f"a count that changes more than {JUMP_RATIO:g}-fold between adjacent reported years, the larger over "
        f"{JUMP_MIN_COUNT}"
    )
    if jumps.empty:
        sentence = f"No implausible jump ({rule}) in {name}'s published stop counts."
    else:
        listed = "; ".join(
            f"{r.measure} of {RACE_WORDS.get(r.race, 'all')} drivers {r.from_count:,} ({r.from_year}) to "
            f"{r.to_count:,} ({r.to_year})"
            for r in jumps.itertuples()
        )
        sentence = (
            f"{len(jumps)} implausible jump(s) ({rule}) in {name}'s published stop counts: {listed}. A jump this size "
            "may be a real change in policing or a change in how the department recorded or reported; the data "
            "cannot tell which, so figures built on those years are flagged."
        )
    ctx.claims.record(
        "stops.anomaly_count",
        int(len(jumps)),
        "count",
        sentence,
        source=["stops.csv"],
        function=_fn("stop_anomalies"),
        notebook=ctx.notebook,
        flags=["implausible_jump"] if len(jumps) else [],
    )
    return jumps


def arrest_context(data: StopsInputs, agency: str) -> tuple[str, list[str]]:
    """Words and flags to put beside any share or rate of stop arrests: the yearly series and its jumps."""
    frame = data.stops[data.stops["agency_slug"].eq(agency) & data.stops["race"].eq("total")]
    series = frame.set_index("year")["arrests"]
    jumps = stop_anomalies(data.stops, agency)
    jumps = jumps[jumps["measure"].eq("arrests")]
    if series.dropna().empty:
        return "", []
    words = f" Arrests during stops, all drivers, as reported: {series_words(series)}."
    if len(jumps):
        words += (
            " Jumps this large between years more likely reflect changes in how arrests were recorded or "
            "reported than in policing: read figures built on them with care."
        )
        return words, ["implausible_jump"]
    return words, []


def report_outcome_heterogeneity(ctx, data: StopsInputs, agency: str) -> pd.DataFrame:
    """Per-year hit-rate odds ratios for Missouri (and the agency) with the Breslow-Day test of equal odds."""
    name = listed_name(data.agencies, agency)
    state = yearly_odds_ratios(data.stops_statewide)
    own = yearly_odds_ratios(data.stops[data.stops["agency_slug"].eq(agency)])
    table = pd.concat([state.assign(geography=STATE_NAME), own.assign(geography=name)], ignore_index=True)
    save_table(ctx, table, "stops_hit_rate_or_by_year")
    test = heterogeneity(state)
    if len(state) >= 2:
        p_words = "< 0.001" if test["breslow_day_p"] < 0.001 else "= " + fmt(test["breslow_day_p"], 3)
        yearly = "; ".join(
            f"{r.year}: {fmt(r.odds_ratio, 2)} ({fmt(r.lower, 2)}-{fmt(r.upper, 2)})" for r in state.itertuples()
        )
        verdict = (
            "The years disagree, so the pooled odds ratio is not one finding: in some years searches of Black "
            "drivers found contraband more often than searches of white drivers, in others less often."
            if test["heterogeneous"]
            else "The years agree within chance."
        )
        ctx.claims.record(
            "stops.outcome_heterogeneity_p",
            float(test["breslow_day_p"]),
            "p-value",
            f"Statewide, the odds that a search of a Black rather than a white driver found contraband, by year "
            f"(95% CI): {yearly}. Breslow-Day test of equal odds ratios: chi-squared {fmt(test['breslow_day'], 0)} "
            f"on {test['years'] - 1} degrees of freedom, p {p_words}"
            f" (Cochran's Q I-squared {fmt(test['i_squared'], 0, True)}). {verdict}",
            n=int(state["black_trials"].sum() + state["white_trials"].sum()),
            source=["stops_statewide.csv"],
            function=_fn("report_outcome_heterogeneity"),
            notebook=ctx.notebook,
            flags=["heterogeneous"] if test["heterogeneous"] else [],
        )
        latest = state.iloc[-1]
        ctx.claims.record(
            "stops.state_hit_rate_or_latest_year",
            float(latest["odds_ratio"]),
            "odds ratio",
            f"In {int(latest['year'])} alone, statewide searches of Black drivers had {fmt(latest['odds_ratio'], 2)} "
            f"times the odds of finding contraband of searches of white drivers (95% CI {fmt(latest['lower'], 2)} to "
            f"{fmt(latest['upper'], 2)}).",
            interval=(float(latest["lower"]), float(latest["upper"])),
            interval_kind="95% CI (Woolf)",
            n=int(latest["black_trials"] + latest["white_trials"]),
            source=["stops_statewide.csv"],
            function=_fn("yearly_odds_ratios"),
            notebook=ctx.notebook,
        )
    return table


ACTION_CLAIMS = [("stops.black_citation_rate_ratio", "ratio"), ("stops.black_arrest_rate_ratio", "ratio")]


def report_action_rates(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """Citations and arrests per stop by race (pooled from 2020), Black:white ratio with intervals."""
    name = listed_name(data.agencies, agency)
    rates = action_rates(data.stops, agency)
    if rates.empty:
        _no_data(
            ctx,
            ACTION_CLAIMS,
            "no citations or arrests by race are published since 2020",
            "stops.csv",
            "action_rates",
            name,
        )
        return NoData(agency, "stops", "no citations or arrests by race are published since 2020")
    save_table(ctx, rates, "stops_action_rates")
    pooled = rates[rates["period"].str.startswith("pooled")]
    context, flags = arrest_context(data, agency)
    for action, claim_id, words in (
        ("citations", "stops.black_citation_rate_ratio", "ended in a citation"),
        ("arrests", "stops.black_arrest_rate_ratio", "ended in an arrest"),
    ):
        rows = pooled[pooled["action"].eq(action)].set_index("race")
        if not {"black", "white"} <= set(rows.index):
            _no_data(
                ctx, [(claim_id, "ratio")], f"no {action} of Black and white drivers", "stops.csv", "action_rates", name
            )
            continue
        b, w = rows.loc["black"], rows.loc["white"]
        finite = math.isfinite(b["ratio_to_white"])
        sentence = (
            f"In {b['period'].removeprefix('pooled ')} (pooled), {fmt(b['rate'], 1, True)} of "
            f"{police_of(name)}'s stops of "
            f"Black drivers {words} ({int(b['count']):,} of {int(b['stops']):,}) against {fmt(w['rate'], 1, True)} of "
            f"stops of white drivers ({int(w['count']):,} of {int(w['stops']):,})"
            + (
                f": a ratio of {fmt(b['ratio_to_white'], 2)} (95% CI {fmt(b['ratio_lower'], 2)} to "
                f"{fmt(b['ratio_upper'], 2)})."
                if finite
                else "."
            )
        )
        claim_flags = ["small_cell"] if b["small_cell"] else []
        if action == "arrests":
            sentence += context
            claim_flags += flags
        ctx.claims.record(
            claim_id,
            float(b["ratio_to_white"]) if finite else None,
            "ratio",
            sentence,
            interval=(float(b["ratio_lower"]), float(b["ratio_upper"]))
            if finite and math.isfinite(b["ratio_upper"])
            else None,
            interval_kind="95% CI (exact conditional, stops as exposure)",
            n=int(b["stops"] + w["stops"]),
            source=["stops.csv"],
            function=_fn("action_rates"),
            notebook=ctx.notebook,
            flags=claim_flags,
        )
    return rates


def unrunnable_tests() -> pd.DataFrame:
    """The classic tests this data cannot support, and why."""
    return pd.DataFrame({"test": list(UNRUNNABLE_TESTS), "why it cannot run here": list(UNRUNNABLE_TESTS.values())})


def report_unrunnable_tests(ctx) -> pd.DataFrame:
    """The same table, recorded as one claim so that the brief states the limits plainly."""
    table = unrunnable_tests()
    listed = "; ".join(f"{test}, which {why}" for test, why in UNRUNNABLE_TESTS.items())
    ctx.claims.record(
        "stops.tests_not_run",
        len(UNRUNNABLE_TESTS),
        "count",
        f"{len(UNRUNNABLE_TESTS)} standard tests of racial bias in stops cannot be run on this data: {listed}.",
        source=["stops.csv", "stops_statewide.csv"],
        function=_fn("unrunnable_tests"),
        notebook=ctx.notebook,
        flags=["limitation"],
    )
    return table


AGO_YEAR = 2017


def ago_index_comparison(data: StopsInputs, disparity_index: pd.DataFrame) -> pd.DataFrame:
    """The AGO's own 2017 Black disparity index (stops share / 16+ population share) beside ours for the
    same agencies: the AGO's Black share of all stops over the ACS all-ages Black share (2017 5-year)."""
    rows = []
    for r in disparity_index.itertuples():
        geography = agency_geography(data.agencies, r.agency_slug)
        if isinstance(geography, NoData) or pd.isna(r.disparity_index) or pd.isna(r.black_share_of_stops):
            continue
        pop = population_for(data.population, geography[0])
        if AGO_YEAR not in pop.index or not pop.loc[AGO_YEAR, "total"]:
            continue
        share = pop.loc[AGO_YEAR, "black"] / pop.loc[AGO_YEAR, "total"]
        if share <= 0:
            continue
        ours = float(r.black_share_of_stops) / share
        rows.append(
            {
                "agency_slug": r.agency_slug,
                "name": listed_name(data.agencies, r.agency_slug),
                "black_share_of_stops": float(r.black_share_of_stops),
                "black_population_share_all_ages": share,
                "ours_all_ages": ours,
                "ago_index_16_plus": float(r.disparity_index),
                "ago_over_ours": float(r.disparity_index) / ours,
            }
        )
    return pd.DataFrame(rows)


def report_ago_index(ctx, data: StopsInputs, agency: str) -> pd.DataFrame | NoData:
    """Reproduce the AGO's 2017 disparity index where its definition allows; records the comparison."""
    from heartbeats_analysis.ingest.tables import load_table

    name = listed_name(data.agencies, agency)
    try:
        published = load_table("disparity_index_2017")
    except FileNotFoundError:
        published = pd.DataFrame(columns=["agency_slug", "black_share_of_stops", "disparity_index"])
    table = ago_index_comparison(data, published)
    ids = [("stops.ago_index_2017_reproduced", "ratio"), ("stops.ago_index_2017_median_gap", "ratio")]
    if table.empty:
        _no_data(ctx, ids, "no AGO 2017 index to compare", "disparity_index_2017.csv", "ago_index_comparison", name)
        return NoData(agency, "disparity_index_2017", "no AGO 2017 index to compare")
    save_table(ctx, table, "stops_ago_index_2017")
    gap = table["ago_over_ours"]
    close = int(gap.between(0.9, 1.1).sum())
    ctx.claims.record(
        "stops.ago_index_2017_median_gap",
        float(gap.median()),
        "ratio",
        f"For the {len(table)} St. Louis County agencies in the Attorney General's 2017 report, the AGO's own Black "
        f"disparity index (residents 16 and older) is a median {fmt(gap.median(), 2)} times our all-ages version "
        f"(within 10% for {close} of {len(table)}; range {fmt(gap.min(), 2)} to {fmt(gap.max(), 2)}). Children "
        "count in our denominator but cannot drive, and Black residents are on average younger, so the AGO's index "
        "is expected to run a few percent higher; the far-off agencies are small places whose ACS counts are "
        "uncertain or whose service area is not the census place.",
        interval=(float(gap.min()), float(gap.max())),
        interval_kind="range across agencies",
        n=len(table),
        source=["disparity_index_2017.csv", "population.csv", "agencies.csv"],
        function=_fn("ago_index_comparison"),
        notebook=ctx.notebook,
    )
    own = table[table["agency_slug"].eq(agency)]
    if own.empty:
        _no_data(
            ctx,
            ids[:1],
            "the AGO's 2017 St. Louis County table does not list it",
            "disparity_index_2017.csv",
            "ago_index_comparison",
            name,
        )
    else:
        r = own.iloc[0]
        ctx.claims.record(
            "stops.ago_index_2017_reproduced",
            float(r["ours_all_ages"]),
            "ratio",
            f"The Attorney General's 2017 Black disparity index for {name} is "
            f"{fmt(r['ago_index_16_plus'], 2)}; from "
            f"the same stops and the ACS all-ages population we get {fmt(r['ours_all_ages'], 2)} "
            f"(the AGO's is {fmt(r['ago_over_ours'], 2)} times ours; its 16+ denominator should make it "
            "somewhat higher).",
            source=["disparity_index_2017.csv", "population.csv"],
            function=_fn("ago_index_comparison"),
            notebook=ctx.notebook,
        )
    return table


__all__ = [
    "agency_rate_table",
    "state_rate_table",
    "report_rate_ratios",
    "peer_rate_comparison",
    "report_peer_rate_ratios",
    "stop_volume",
    "report_stop_volume",
    "report_anomalies",
    "arrest_context",
    "report_outcome_heterogeneity",
    "report_action_rates",
    "unrunnable_tests",
    "report_unrunnable_tests",
    "ago_index_comparison",
    "report_ago_index",
    "figure_rate_ratios",
]


def figure_rate_ratios(ctx, data: StopsInputs, agency: str, peers: list[str]):
    """Line chart: the Black:white per-resident stop rate ratio by year for the agency (95% CI from the
    counts, and the wider band allowing for census error), each peer (grey) and Missouri (dotted)."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.report.style import AGENCY_COLOUR, PALETTE, PEER_COLOUR, apply_style, save_figure

    table = peer_rate_comparison(data, agency, peers)
    black = table[table["race"].eq("black") & table["rate_ratio"].map(math.isfinite)]
    own = black[black["role"].eq("agency")]
    if own.empty:
        return NoData(agency, "stops", "no Black:white stop rate ratio can be computed")
    name = listed_name(data.agencies, agency)
    apply_style()
    fig, ax = plt.subplots()
    for _, line in black[black["role"].eq("peer")].groupby("agency_slug"):
        gapped = line.set_index("year")["rate_ratio"].reindex(
            range(int(line["year"].min()), int(line["year"].max()) + 1)
        )
        ax.plot(gapped.index, gapped.to_numpy(dtype=float), color=PEER_COLOUR, linewidth=0.8, alpha=0.7)
    ax.plot([], [], color=PEER_COLOUR, label="Peer agencies")
    state = black[black["role"].eq("state")]
    ax.plot(state["year"], state["rate_ratio"], color=PALETTE["black"], linestyle=":", label=STATE_NAME)
    years = range(int(own["year"].min()), int(own["year"].max()) + 1)
    gapped = own.set_index("year").reindex(years)
    x = list(gapped.index)
    ax.fill_between(
        x,
        gapped["lower_with_population_error"].astype(float),
        gapped["upper_with_population_error"].astype(float),
        color=AGENCY_COLOUR,
        alpha=0.12,
        linewidth=0,
        label="95% interval incl. census error",
    )
    ax.fill_between(
        x, gapped["lower"].astype(float), gapped["upper"].astype(float), color=AGENCY_COLOUR, alpha=0.3, linewidth=0
    )
    ax.plot(x, gapped["rate_ratio"].astype(float), marker="o", color=AGENCY_COLOUR, label=f"{name} (95% CI)")
    ax.axhline(1.0, color="#555555", linewidth=0.8)
    ax.set_xlabel("Year")
    ax.set_ylabel("Black stop rate / white stop rate (per resident)")
    ax.set_title("Black:white stops per resident: agency, peers, state")
    ax.legend(loc="upper left")
    first, last = own.iloc[0], own.iloc[-1]
    missing = [y for y in years if y not in set(own["year"])]
    state_last = state[state["year"].eq(last["year"])]
    alt = (
        f"Line chart of the Black:white stop rate ratio per resident. {name}: {first['rate_ratio']:.1f} in "
        f"{int(first['year'])} and {last['rate_ratio']:.1f} in {int(last['year'])} (95% CI {last['lower']:.1f} to "
        f"{last['upper']:.1f}). "
        + (f"Missouri in {int(last['year'])}: {state_last.iloc[0]['rate_ratio']:.2f}. " if len(state_last) else "")
        + (f"No report for {years_label(missing)} (a gap in the line). " if missing else "")
        + "A ratio of 1 means equal stops per resident."
    )
    plotted = black[
        [
            "name",
            "role",
            "year",
            "stops",
            "reference_stops",
            "population",
            "reference_population",
            "rate_ratio",
            "lower",
            "upper",
            "lower_with_population_error",
            "upper_with_population_error",
        ]
    ]
    return save_figure(
        fig,
        f"{ctx.notebook}-rate-ratios",
        title="Black:white stops per resident: agency, peers, state",
        data=plotted,
        alt_text=alt,
        source_line="Missouri AGO Vehicle Stops Report (via Recovered Factory); US Census Bureau ACS",
        notebook=ctx.notebook,
        function=_fn("figure_rate_ratios"),
        out_dir=ctx.figures_dir,
    )
