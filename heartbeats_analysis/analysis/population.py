"""Residents by race for a census geography, and the ACS year that stands for a given year: the
denominators the stops and force analyses share (both read the processed ``population`` table)."""

from __future__ import annotations

import pandas as pd

POPULATION_RACES = ("white", "black", "hispanic")
"""The races the ACS population table and the pre-2020 stop files have in common."""


def population_for(population: pd.DataFrame, geoid: str) -> pd.DataFrame:
    """Residents by year and race for one geography: columns year, total, white, black, hispanic."""
    rows = population[population["geoid"].astype(str).eq(geoid)]
    wide = rows.pivot_table(index="year", columns="race", values="population", aggfunc="first")
    wide = wide.reindex(columns=["total", *POPULATION_RACES])
    return wide.dropna(how="any").astype("int64").sort_index()


def matched_population_year(available: list[int] | pd.Index, year: int) -> int | None:
    """The ACS end-year used for a year of counts: the same year, else the nearest one (earlier on a tie)."""
    years = sorted(int(y) for y in available)
    if not years:
        return None
    return min(years, key=lambda y: (abs(y - year), y > year))


__all__ = ["POPULATION_RACES", "population_for", "matched_population_year"]
