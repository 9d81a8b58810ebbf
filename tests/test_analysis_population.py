"""Population denominators shared by the stops and force analyses."""

from __future__ import annotations

import pandas as pd

from heartbeats_analysis.analysis.population import (
    BASIS_ACS,
    BASIS_CENSUS,
    BASIS_FBI,
    census_consistent_population,
    load_census_counts,
    matched_population_year,
    population_for,
    with_census_population,
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


def test_population_for_takes_the_first_reported_value_of_a_repeated_year_and_race():
    rows = [("29", 2020, race, n) for race, n in {"total": 1000, "white": 700, "black": 200, "hispanic": 50}.items()]
    rows += [("29", 2020, "black", 999), ("29", 2021, "total", None), ("29", 2021, "total", 1010)]
    rows += [("29", 2021, race, n) for race, n in {"white": 705, "black": 201, "hispanic": 51}.items()]
    population = pd.DataFrame(rows, columns=["geoid", "year", "race", "population"]).astype({"population": "Int64"})
    wide = population_for(population, "29")
    assert wide.loc[2020].tolist() == [1000, 700, 200, 50]  # the repeat (999) is not used
    assert wide.loc[2021].tolist() == [1010, 705, 201, 51]  # a gap reported first is skipped, not kept


# --- census-consistent populations -----------------------------------------------------------


def _fbi(slug: str, values: dict[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"agency_slug": slug, "year": list(values), "population": pd.array(list(values.values()), dtype="Int64")}
    )


def _acs(geoid: str, values: dict[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "geography": "x",
            "geoid": geoid,
            "geo_type": "place",
            "year": list(values),
            "race": "total",
            "population": pd.array(list(values.values()), dtype="Int64"),
            "survey": "acs5",
        }
    )


AGENCIES = pd.DataFrame(
    {
        "agency_slug": ["town", "county"],
        "geoid": [2900001.0, 29189.0],
        "agency_type": ["municipal_police", "county_police"],
    }
)
NO_COUNTS = pd.DataFrame(columns=["agency_slug", "census_year", "population", "source", "url"])


def test_census_consistent_population_interpolates_census_years_then_uses_acs():
    # FBI: census counts in 2000 and 2010, estimates that drift upward after 2010 (not rebased until 2022).
    fbi = _fbi("town", {1999: 1010, 2000: 1000, 2005: 990, 2010: 900, 2015: 905, 2020: 910, 2021: 912, 2023: 780})
    acs = _acs("2900001", {2020: 905, 2021: 810, 2022: 800})  # 2022 = ACS 2018-22, standing for the 2020 census
    out = census_consistent_population(fbi, acs, AGENCIES, NO_COUNTS).set_index("year")
    assert out.loc[1999, "population"] == 1010 and out.loc[1999, "population_basis"] == BASIS_FBI
    assert out.loc[2005, "population"] == 950  # halfway between 1000 and 900
    assert out.loc[2015, "population"] == 850  # halfway between 900 and 800
    assert out.loc[2020, "population"] == 800 and out.loc[2020, "population_basis"] == BASIS_CENSUS
    assert out.loc[2021, "population"] == 810 and out.loc[2021, "population_basis"] == BASIS_ACS
    assert out.loc[2023, "population"] == 800  # after the last ACS year: the latest one
    assert out.loc[2015, "population_fbi"] == 905


def test_a_cited_census_count_wins_and_a_county_force_keeps_the_fbi_population():
    fbi = pd.concat([_fbi("town", {2010: 900, 2015: 905}), _fbi("county", {2010: 5000, 2015: 5100})])
    acs = pd.concat([_acs("2900001", {2022: 800}), _acs("29189", {2021: 9999, 2022: 9999})])
    counts = pd.DataFrame(
        {"agency_slug": ["town"], "census_year": [2020], "population": [820], "source": ["census"], "url": ["u"]}
    )
    out = census_consistent_population(fbi, acs, AGENCIES, counts).set_index(["agency_slug", "year"])
    assert out.loc[("town", 2015), "population"] == 860  # halfway between 900 and the cited 820
    assert out.loc[("county", 2015), "population"] == 5100  # service area: no census place, FBI kept
    assert out.loc[("county", 2015), "population_basis"] == BASIS_FBI


def test_rates_are_recomputed_on_the_census_consistent_population():
    table = _fbi("town", {2000: 1000, 2010: 900, 2015: 905}).assign(
        sworn_officers=pd.array([2, 2, 2], dtype="Int64"), officers_per_1000=0.0
    )
    table.loc[2, "sworn_officers"] = pd.NA
    out = with_census_population(table, None, None, {"officers_per_1000": "sworn_officers"}, NO_COUNTS)
    assert out["officers_per_1000"].tolist()[:2] == [2.0, 2 / 900 * 1000]
    assert pd.isna(out["officers_per_1000"].iloc[2])  # a missing count stays missing
    assert out["population"].tolist() == [1000, 900, 905]  # no 2020 anchor without ACS: FBI after 2010


def test_census_counts_resource_is_cited_and_holds_ferguson():
    counts = load_census_counts().set_index(["agency_slug", "census_year"])
    assert counts.loc[("ferguson", 2010), "population"] == 21203
    assert counts.loc[("ferguson", 2020), "population"] == 18527
    assert counts["url"].str.startswith("https://data.census.gov/").all()
