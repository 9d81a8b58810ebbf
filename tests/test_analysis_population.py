"""Population denominators shared by the stops and force analyses."""

from __future__ import annotations

import pandas as pd

from heartbeats_analysis.analysis.population import (
    matched_population_year,
    population_for,
)


def test_matched_population_year_prefers_same_then_nearest_earlier():
    assert matched_population_year([2014, 2015, 2024], 2015) == 2015
    assert matched_population_year([2014, 2024], 2013) == 2014
    assert matched_population_year([2014, 2016], 2015) == 2014  # tie: the earlier year
    assert matched_population_year([], 2015) is None


def test_population_for_keeps_years_with_every_race():
    rows = [
        ("29", "state", 2020, race, n)
        for race, n in {"total": 1000, "white": 700, "black": 200, "hispanic": 50}.items()
    ]
    rows += [("29", "state", 2021, "total", 1010), ("2900001", "place", 2020, "total", 10)]
    population = pd.DataFrame(rows, columns=["geoid", "geo_type", "year", "race", "population"]).astype(
        {"population": "Int64"}
    )
    wide = population_for(population, "29")
    assert list(wide.columns) == ["total", "white", "black", "hispanic"]
    assert wide.index.tolist() == [2020]  # 2021 has no counts by race
    assert wide.loc[2020].tolist() == [1000, 700, 200, 50]
