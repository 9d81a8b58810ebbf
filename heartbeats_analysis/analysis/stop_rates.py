"""Per-resident stop rates by race and their ratios (the Stanford Open Policing Project's benchmark
measure), the share ratio with its ceiling, the population's sampling error, and implausible jumps.

Definitions (docs/decisions.md, "Stops: per-resident rate ratio"):

* Stop rate of a group = the group's stops / the group's residents (ACS, all ages). Rate ratio
  Black:white = Black stop rate / white stop rate; Hispanic:white likewise. The same three groups
  (White non-Hispanic, Black non-Hispanic, Hispanic of any race) exist in every year of the Vehicle
  Stops Report, for every agency and for the state, so one definition serves all of them.
* Interval from the counts: the exact conditional (binomial) interval of the ratio of two Poisson
  rates, with the populations fixed.
* Interval with the population's sampling error: the ACS counts are estimates. The mirror carries no
  margins of error, so each count's coefficient of variation (CV) is modelled (see
  :func:`acs_count_cv`) and added on the log scale: var(log RR) = var_counts + CV_a^2 + CV_b^2.
* Share ratio = group share of stops / group share of residents. It cannot exceed 1 / group share
  (its *ceiling*): 1.46 in a town that is 69% Black, about 9 in Missouri. It is kept only beside its
  ceiling and never used to rank agencies of different composition.
"""

from __future__ import annotations

import math

import pandas as pd
import scipy.stats as sps

from heartbeats_analysis.analysis.population import matched_population_year
from heartbeats_analysis.analysis.stats import CONFIDENCE, rate_ratio

RATE_RACES = ("black", "hispanic")
"""Groups compared with white residents."""
REFERENCE_RACE = "white"

ACS5_SAMPLING_FRACTION = 0.08
"""Share of a place's residents the ACS 5-year sample effectively observes (about 2.5% of addresses a
year over five years, less non-response follow-up subsampling)."""
ACS1_SAMPLING_FRACTION = 0.02
"""The same for a 1-year estimate (the statewide rows)."""
ACS_DESIGN_FACTOR = 2.0
"""Census design factor for race counts (household clustering inflates the simple binomial error);
the ACS Design and Methodology report lists factors of about 1.5-2.5 for race tables."""

JUMP_RATIO = 5.0
"""A count that changes by more than this factor between adjacent reported years is flagged ..."""
JUMP_MIN_COUNT = 20
"""... when the larger of the two counts exceeds this (small counts jump by chance)."""

RATE_COLUMNS = [
    "agency_slug",
    "year",
    "race",
    "stops",
    "reference_stops",
    "population_year",
    "population",
    "reference_population",
    "stop_rate_per_1000",
    "reference_rate_per_1000",
    "rate_ratio",
    "lower",
    "upper",
    "population_cv",
    "reference_population_cv",
    "lower_with_population_error",
    "upper_with_population_error",
    "interval_widening",
    "share_ratio",
    "share_ratio_ceiling",
    "small_cell",
]


def acs_count_cv(count: float, total: float, survey: str = "acs5") -> float:
    """Modelled coefficient of variation of an ACS count of ``count`` residents out of ``total``.

    SE = design factor x sqrt(count x (1 - count/total) x (1 - f) / f), with f the effective sampling
    fraction: a binomial sampling model inflated by the design factor. For Ferguson (about 14,000
    Black, 5,000 white and 300 Hispanic residents of 20,500) it gives CVs of about 3%, 8% and 39%;
    Census calls a CV over 40% unreliable. A zero count has no defined CV (returns NaN).
    """
    if not (count > 0 and total >= count):
        return math.nan
    f = ACS1_SAMPLING_FRACTION if survey == "acs1" else ACS5_SAMPLING_FRACTION
    se = ACS_DESIGN_FACTOR * math.sqrt(count * (1 - count / total) * (1 - f) / f)
    return se / count


def widen_for_population(
    value: float, lower: float, upper: float, cv_a: float, cv_b: float, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """A ratio's interval with two population CVs added on the log scale.

    The counts' part of the log-scale standard error is read off the exact interval (its log width /
    2z); the populations' part is sqrt(cv_a^2 + cv_b^2) (delta method: var(log X) ~ CV^2).
    """
    if not all(math.isfinite(x) and x > 0 for x in (value, lower, upper)) or not (
        math.isfinite(cv_a) and math.isfinite(cv_b)
    ):
        return math.nan, math.nan
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    se_counts = (math.log(upper) - math.log(lower)) / (2 * z)
    se = math.sqrt(se_counts**2 + cv_a**2 + cv_b**2)
    return value * math.exp(-z * se), value * math.exp(z * se)


def _rate_row(agency: str, year: int, race: str, by_race: pd.Series, residents: pd.Series, pop_year: int, survey: str):
    stops, ref_stops = by_race.get(race), by_race.get(REFERENCE_RACE)
    pop, ref_pop = residents.get(race), residents.get(REFERENCE_RACE)
    total_pop = residents.get("total")
    row = {
        "agency_slug": agency,
        "year": int(year),
        "race": race,
        "stops": stops,
        "reference_stops": ref_stops,
        "population_year": int(pop_year),
        "population": pop,
        "reference_population": ref_pop,
    }
    nan = math.nan
    usable = all(pd.notna(x) for x in (stops, ref_stops, pop, ref_pop)) and pop > 0 and ref_pop > 0
    if not usable:
        return {**row, "small_cell": True}
    est = rate_ratio(int(stops), float(pop), int(ref_stops), float(ref_pop))
    cv_a, cv_b = acs_count_cv(pop, total_pop, survey), acs_count_cv(ref_pop, total_pop, survey)
    wide = widen_for_population(est.value, est.lower, est.upper, cv_a, cv_b)
    three_stops = sum(int(by_race[r]) for r in ("white", "black", "hispanic") if pd.notna(by_race.get(r)))
    three_pop = sum(int(residents[r]) for r in ("white", "black", "hispanic"))
    share_ratio = (int(stops) / three_stops) / (pop / three_pop) if three_stops else nan
    widening = nan
    if all(math.isfinite(x) for x in (*wide, est.lower, est.upper)) and est.lower > 0:
        widening = math.log(wide[1] / wide[0]) / math.log(est.upper / est.lower)
    return {
        **row,
        "stop_rate_per_1000": int(stops) / pop * 1000,
        "reference_rate_per_1000": int(ref_stops) / ref_pop * 1000,
        "rate_ratio": est.value,
        "lower": est.lower,
        "upper": est.upper,
        "population_cv": cv_a,
        "reference_population_cv": cv_b,
        "lower_with_population_error": wide[0],
        "upper_with_population_error": wide[1],
        "interval_widening": widening,
        "share_ratio": share_ratio,
        "share_ratio_ceiling": three_pop / pop,
        "small_cell": int(stops) < 10 or int(ref_stops) < 10,
    }


def rate_ratio_table(counts: pd.DataFrame, pop: pd.DataFrame, agency: str, survey: str = "acs5") -> pd.DataFrame:
    """One row per (year, race in RATE_RACES): per-resident stop rates and the ratio to white residents.

    ``counts``: columns year, race, stops (one agency or the state); ``pop``: population_for() output
    (index year, columns total, white, black, hispanic). A year without stops for a group, or without a
    matched ACS year, gives no row: a missing year stays missing, never zero.
    """
    rows = []
    for year, group in counts.dropna(subset=["stops"]).groupby("year", sort=True):
        pop_year = matched_population_year(pop.index, int(year))
        if pop_year is None:
            continue
        by_race = group.set_index("race")["stops"]
        for race in RATE_RACES:
            if race in by_race.index and REFERENCE_RACE in by_race.index:
                rows.append(_rate_row(agency, int(year), race, by_race, pop.loc[pop_year], pop_year, survey))
    frame = pd.DataFrame(rows, columns=RATE_COLUMNS)
    for column in ("stops", "reference_stops", "population", "reference_population"):
        frame[column] = frame[column].astype("Int64")
    return frame


def flag_jumps(series: pd.Series, ratio: float = JUMP_RATIO, min_count: int = JUMP_MIN_COUNT) -> pd.DataFrame:
    """Implausible year-to-year jumps in a yearly count (index year; missing years absent or NaN).

    Adjacent *reported* years are compared (a gap year is skipped and named in ``gap``). A pair is
    flagged when the larger count exceeds ``min_count`` and the larger / smaller exceeds ``ratio``
    (a zero beside a count over ``min_count`` is always flagged). Returns one row per flagged pair.
    """
    values = series.dropna().sort_index()
    rows = []
    pairs = [(int(y), float(v)) for y, v in values.items()]
    for (y0, a), (y1, b) in zip(pairs, pairs[1:], strict=False):
        big, small = max(a, b), min(a, b)
        if big <= min_count:
            continue
        factor = math.inf if small == 0 else big / small
        if factor > ratio:
            rows.append(
                {
                    "from_year": y0,
                    "to_year": y1,
                    "from_count": int(a),
                    "to_count": int(b),
                    "factor": factor,
                    "gap": y1 - y0 > 1,
                }
            )
    return pd.DataFrame(rows, columns=["from_year", "to_year", "from_count", "to_count", "factor", "gap"])


def stop_anomalies(stops: pd.DataFrame, agency: str) -> pd.DataFrame:
    """flag_jumps over every published count (stops, searches, contraband, arrests, citations) of every
    race for one agency. Columns: measure, race, and flag_jumps' columns."""
    frame = stops[stops["agency_slug"].eq(agency)]
    pieces = []
    for measure in ("stops", "searches", "contraband", "arrests", "citations"):
        if measure not in frame.columns:
            continue
        for race, group in frame.groupby("race", sort=True):
            jumps = flag_jumps(group.set_index("year")[measure].astype("Float64"))
            if len(jumps):
                pieces.append(jumps.assign(measure=measure, race=race))
    if not pieces:
        return pd.DataFrame(columns=["measure", "race", "from_year", "to_year", "from_count", "to_count", "factor"])
    out = pd.concat(pieces, ignore_index=True)
    return out[["measure", "race", "from_year", "to_year", "from_count", "to_count", "factor", "gap"]]


def series_words(series: pd.Series) -> str:
    """'9 (2020), 0 (2022), 50 (2023), 222 (2024)': a yearly count as the text shows it, gaps skipped."""
    values = series.dropna().sort_index()
    return ", ".join(f"{int(v):,} ({int(y)})" for y, v in values.items())


__all__ = [
    "acs_count_cv",
    "widen_for_population",
    "rate_ratio_table",
    "flag_jumps",
    "stop_anomalies",
    "series_words",
    "RATE_RACES",
    "JUMP_RATIO",
    "JUMP_MIN_COUNT",
]
