"""Outcome tests year by year, their heterogeneity, and enforcement rates per stop by race.

* Per-year hit-rate odds ratio (Black vs white searches finding contraband), each with the exact
  conditional (Fisher) interval when a cell is small and the Woolf interval otherwise, as
  statsmodels' Table2x2 gives them.
* Heterogeneity across years: the Breslow-Day test of equal odds ratios (statsmodels
  StratifiedTable.test_equal_odds, Tarone-adjusted) and Cochran's Q with I^2 over the yearly log odds
  ratios. When years disagree (p < 0.05) a pooled odds ratio is not one number to report.
* Citation and arrest rates per stop by race (DOJ 2015 measured these): proportion of stops ending in
  a citation or an arrest, exact Clopper-Pearson intervals, and the Black:white ratio of rates.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2

from heartbeats_analysis.analysis.stats import CONFIDENCE, binomial_ci, rate_ratio, years_label

HETEROGENEITY_ALPHA = 0.05


def yearly_odds_ratios(
    frame: pd.DataFrame, outcome: str = "contraband", trials: str = "searches", since: int = 2020
) -> pd.DataFrame:
    """One row per year: the Black vs white odds of ``outcome`` per ``trials`` with a 95% CI.

    ``frame``: columns year, race, ``outcome``, ``trials`` (one agency or the state). A year missing
    either race, or with no trials in either, gives no row. 0.5 is added to every cell of a table with
    a zero (Haldane-Anscombe) so that its log odds ratio is finite.
    """
    rows = []
    data = frame[frame["year"].ge(since) & frame["race"].isin(["black", "white"])].dropna(subset=[outcome, trials])
    for year, group in data.groupby("year", sort=True):
        by = group.set_index("race")
        if not {"black", "white"} <= set(by.index):
            continue
        bk, bn = int(by.loc["black", outcome]), int(by.loc["black", trials])
        wk, wn = int(by.loc["white", outcome]), int(by.loc["white", trials])
        if bn == 0 or wn == 0 or bk > bn or wk > wn:
            continue
        cells = np.array([[bk, bn - bk], [wk, wn - wk]], dtype=float)
        zero = (cells == 0).any()
        table = Table2x2(cells + 0.5 if zero else cells)
        lower, upper = table.oddsratio_confint(alpha=1 - CONFIDENCE)
        rows.append(
            {
                "year": int(year),
                "black_outcomes": bk,
                "black_trials": bn,
                "white_outcomes": wk,
                "white_trials": wn,
                "odds_ratio": float(table.oddsratio),
                "lower": float(lower),
                "upper": float(upper),
                "log_or": float(table.log_oddsratio),
                "log_or_se": float(table.log_oddsratio_se),
                "small_cell": bool((cells < 5).any()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "year",
            "black_outcomes",
            "black_trials",
            "white_outcomes",
            "white_trials",
            "odds_ratio",
            "lower",
            "upper",
            "log_or",
            "log_or_se",
            "small_cell",
        ],
    )


def heterogeneity(yearly: pd.DataFrame) -> dict:
    """Do the yearly odds ratios agree? Breslow-Day (Tarone) and Cochran's Q with I^2.

    Needs at least two years; returns NaN statistics otherwise.
    """
    result = {
        "years": len(yearly),
        "breslow_day": math.nan,
        "breslow_day_p": math.nan,
        "cochran_q": math.nan,
        "cochran_q_p": math.nan,
        "i_squared": math.nan,
        "pooled_mh_or": math.nan,
        "heterogeneous": False,
    }
    if len(yearly) < 2:
        return result
    tables = [
        np.array(
            [
                [r.black_outcomes, r.black_trials - r.black_outcomes],
                [r.white_outcomes, r.white_trials - r.white_outcomes],
            ]
        )
        for r in yearly.itertuples()
    ]
    stratified = StratifiedTable([t.astype(float) + (0.5 if (t == 0).any() else 0) for t in tables])
    bd = stratified.test_equal_odds(adjust=True)
    w = 1 / yearly["log_or_se"].to_numpy() ** 2
    y = yearly["log_or"].to_numpy()
    pooled = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - pooled) ** 2))
    dof = len(yearly) - 1
    result.update(
        breslow_day=float(bd.statistic),
        breslow_day_p=float(bd.pvalue),
        cochran_q=q,
        cochran_q_p=float(sps.chi2.sf(q, dof)),
        i_squared=max(0.0, (q - dof) / q) if q > 0 else 0.0,
        pooled_mh_or=float(stratified.oddsratio_pooled),
    )
    result["heterogeneous"] = bool(result["breslow_day_p"] < HETEROGENEITY_ALPHA)
    return result


def action_rates(frame: pd.DataFrame, agency: str, since: int = 2020) -> pd.DataFrame:
    """Citations and arrests per stop by race and year (and pooled), with exact intervals, plus the
    Black:white ratio of rates (exact conditional interval, stops as exposure).

    ``frame``: the ``stops`` table (one agency selected by ``agency``). Columns: period, action, race,
    count, stops, rate, lower, upper, ratio_to_white, ratio_lower, ratio_upper, small_cell.
    """
    data = frame[frame["agency_slug"].eq(agency)] if "agency_slug" in frame.columns else frame
    data = data[data["year"].ge(since) & data["race"].isin(["black", "white", "hispanic", "total"])]
    rows = []
    periods = [(str(int(y)), g) for y, g in data.groupby("year", sort=True)]
    if periods:
        periods.append(("pooled", data))
    for period, group in periods:
        for action in ("citations", "arrests"):
            usable = group.dropna(subset=[action, "stops"])
            sums = usable.groupby("race")[[action, "stops"]].sum()
            for race in sums.index:
                k, n = int(sums.loc[race, action]), int(sums.loc[race, "stops"])
                if n == 0 or k > n:
                    continue
                est = binomial_ci(k, n)
                row = {
                    "period": period,
                    "action": action,
                    "race": race,
                    "count": k,
                    "stops": n,
                    "rate": est.value,
                    "lower": est.lower,
                    "upper": est.upper,
                    "ratio_to_white": math.nan,
                    "ratio_lower": math.nan,
                    "ratio_upper": math.nan,
                    "small_cell": k < 10,
                }
                if race in ("black", "hispanic") and "white" in sums.index and int(sums.loc["white", "stops"]) > 0:
                    rr = rate_ratio(k, n, int(sums.loc["white", action]), int(sums.loc["white", "stops"]))
                    row.update(ratio_to_white=rr.value, ratio_lower=rr.lower, ratio_upper=rr.upper)
                    row["small_cell"] = row["small_cell"] or int(sums.loc["white", action]) < 10
                rows.append(row)
    if periods:
        years = sorted(int(y) for y in data["year"].unique())
        for row in rows:
            if row["period"] == "pooled":
                row["period"] = f"pooled {years_label(years)}"
    return pd.DataFrame(
        rows,
        columns=[
            "period",
            "action",
            "race",
            "count",
            "stops",
            "rate",
            "lower",
            "upper",
            "ratio_to_white",
            "ratio_lower",
            "ratio_upper",
            "small_cell",
        ],
    )


UNRUNNABLE_TESTS = {
    "the veil-of-darkness test": "needs the time of each stop, to compare the race mix of stops made in daylight "
    "and in darkness, and the Attorney General's files give annual counts by race only",
    "a stop-level regression": "needs one row per stop with its reason, place and officer, and only annual totals "
    "by race are published",
}
"""Classic tests this data cannot support, and why (shown verbatim in the notebook). The threshold test can be run:
fitted across Missouri agencies in 08-threshold."""


__all__ = ["yearly_odds_ratios", "heterogeneity", "action_rates", "UNRUNNABLE_TESTS"]
