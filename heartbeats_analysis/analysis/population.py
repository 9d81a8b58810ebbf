"""Residents by race for a census geography, the ACS year that stands for a given year, and the
census-consistent agency populations that every per-resident rate uses.

The FBI's agency populations are the census counts in census years (2000, 2010) carried forward by
annual estimates, and they jump when the next census arrives (Ferguson: about 20,400 in 2021, then
18,178 in 2022 once the 2020 count is used). Rates across that jump mix two bases. The census-
consistent population (docs/decisions.md, "Census-consistent populations") instead interpolates
linearly between census counts (2000, 2010, 2020) and uses the ACS 5-year estimate, which is
controlled to the 2020 census, from 2021.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from heartbeats_analysis.paths import RESOURCES_DIR

POPULATION_RACES = ("white", "black", "hispanic")
"""The races the ACS population table and the pre-2020 stop files have in common."""


def population_for(population: pd.DataFrame, geoid: str) -> pd.DataFrame:
    """Residents by year and race for one geography: columns year, total, white, black, hispanic."""
    geoids = population["geoid"]
    rows = population[(geoids if geoids.dtype == "str" else geoids.astype(str)).eq(geoid)]
    # The first reported value of each year and race: pivot_table(aggfunc="first") gives the same table at twice
    # the cost, and the peer comparisons ask for over a hundred geographies.
    rows = rows.dropna(subset=["population"]).drop_duplicates(["year", "race"])
    wide = rows.pivot(index="year", columns="race", values="population")
    wide = wide.reindex(columns=["total", *POPULATION_RACES])
    return wide.dropna(how="any").astype("int64").sort_index()


def matched_population_year(available: list[int] | pd.Index, year: int) -> int | None:
    """The ACS end-year used for a year of counts: the same year, else the nearest one (earlier on a tie)."""
    years = sorted(int(y) for y in available)
    if not years:
        return None
    return min(years, key=lambda y: (abs(y - year), y > year))


CENSUS_COUNTS_CSV = RESOURCES_DIR / "census_counts.csv"
CENSUS_YEARS = (2000, 2010, 2020)
FIRST_ACS_ON_2020_BASIS = 2021
"""ACS 5-year estimates ending 2021 on are controlled to 2020-census-based estimates (Ferguson: 20,631
for 2016-20, 18,826 for 2017-21)."""
ACS_STANDING_FOR_2020 = 2022
"""Where the 2020 census count is not in census_counts.csv, the ACS 2018-22 5-year estimate (centred
on 2020, on the 2020-census basis) stands for it (Ferguson: 18,546 against the census 18,527)."""

BASIS_CENSUS = "census counts interpolated"
BASIS_ACS = "ACS 5-year"
BASIS_FBI = "FBI estimate"


@lru_cache(maxsize=1)
def load_census_counts() -> pd.DataFrame:
    """Decennial census counts with their citations: agency_slug, census_year, population, source, url."""
    counts = pd.read_csv(CENSUS_COUNTS_CSV, dtype={"agency_slug": str, "source": str, "url": str})
    if counts.duplicated(["agency_slug", "census_year"]).any():
        raise ValueError(f"{CENSUS_COUNTS_CSV.name} repeats an (agency_slug, census_year)")
    if (counts["population"] <= 0).any() or not counts["census_year"].isin(CENSUS_YEARS).all():
        raise ValueError(f"{CENSUS_COUNTS_CSV.name}: populations must be positive and years in {CENSUS_YEARS}")
    return counts


def _acs_totals(population: pd.DataFrame | None, agencies: pd.DataFrame | None, agency: str) -> pd.Series:
    """ACS 5-year total residents by end year for the agency's census place (empty if it has none).

    A county police department serves only part of its county, so the county's residents are not its
    denominator: it gets no ACS series."""
    if population is None or agencies is None or population.empty or "geoid" not in agencies:
        return pd.Series(dtype="float64")
    row = agencies[agencies["agency_slug"] == agency]
    county_police = "agency_type" in row and not row.empty and row["agency_type"].iloc[0] == "county_police"
    if row.empty or pd.isna(row["geoid"].iloc[0]) or county_police:
        return pd.Series(dtype="float64")
    geoid = str(int(float(row["geoid"].iloc[0])))
    rows = population[
        population["geoid"].astype(str).eq(geoid)
        & population["race"].eq("total")
        & population.get("survey", pd.Series("acs5", index=population.index)).eq("acs5")
    ]
    return rows.set_index("year")["population"].astype("float64").sort_index()


def census_anchors(
    fbi: pd.Series, acs: pd.Series, census_counts: pd.DataFrame, agency: str
) -> dict[int, tuple[float, str]]:
    """{census year: (residents, where the number comes from)} for one agency.

    A count in census_counts.csv wins; otherwise 2000 and 2010 are the FBI's own populations for those
    years (the FBI uses the census count in a census year) and 2020 is the ACS 2018-22 estimate."""
    anchors: dict[int, tuple[float, str]] = {}
    for year in CENSUS_YEARS:
        if year < 2020 and year in fbi.index and pd.notna(fbi[year]):
            anchors[year] = (float(fbi[year]), "FBI population in a census year")
    if 2020 not in anchors and ACS_STANDING_FOR_2020 in acs.index:
        anchors[2020] = (float(acs[ACS_STANDING_FOR_2020]), f"ACS {ACS_STANDING_FOR_2020 - 4}-{ACS_STANDING_FOR_2020}")
    for row in census_counts[census_counts["agency_slug"] == agency].itertuples():
        anchors[int(row.census_year)] = (float(row.population), f"{int(row.census_year)} census")
    return dict(sorted(anchors.items()))


def census_consistent_population(
    fbi: pd.DataFrame,
    population: pd.DataFrame | None,
    agencies: pd.DataFrame | None,
    census_counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Census-consistent residents for every (agency_slug, year) row of ``fbi`` (columns agency_slug,
    year, population = the FBI's population).

    Returns agency_slug, year, population_fbi, population, population_basis: between two census
    anchors (see census_anchors) the linear interpolation; from 2021 the ACS 5-year estimate ending
    that year (the latest one after the last ACS year); otherwise the FBI's population.
    """
    census_counts = load_census_counts() if census_counts is None else census_counts
    parts = []
    for agency, rows in fbi.groupby("agency_slug", sort=False):
        fbi_series = rows.set_index("year")["population"].astype("Float64").astype("float64")
        acs = _acs_totals(population, agencies, str(agency))
        anchors = census_anchors(fbi_series.dropna(), acs, census_counts, str(agency))
        anchor_years = np.array(list(anchors), dtype=float)
        anchor_values = np.array([value for value, _ in anchors.values()], dtype=float)
        values, bases = [], []
        for year, fbi_value in fbi_series.items():
            year = int(year)
            if year >= FIRST_ACS_ON_2020_BASIS and len(acs):
                earlier = acs.index[acs.index <= year]
                acs_year = int(earlier.max()) if len(earlier) else -1
                if acs_year >= FIRST_ACS_ON_2020_BASIS:
                    values.append(float(acs[acs_year]))
                    bases.append(BASIS_ACS)
                    continue
            if len(anchor_years) >= 2 and anchor_years.min() <= year <= anchor_years.max():
                values.append(float(np.interp(year, anchor_years, anchor_values)))
                bases.append(BASIS_CENSUS)
                continue
            values.append(fbi_value)
            bases.append(BASIS_FBI)
        parts.append(
            pd.DataFrame(
                {
                    "agency_slug": agency,
                    "year": fbi_series.index.astype("int64"),
                    "population_fbi": fbi_series.to_numpy(),
                    "population": np.round(values),
                    "population_basis": bases,
                }
            )
        )
    columns = ["agency_slug", "year", "population_fbi", "population", "population_basis"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def with_census_population(
    table: pd.DataFrame,
    population: pd.DataFrame | None,
    agencies: pd.DataFrame | None,
    rates: dict[str, str],
    census_counts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``table`` (agency_slug, year, population, counts) with ``population`` replaced by the census-
    consistent one, the FBI's kept as ``population_fbi`` with ``population_basis``, and each rate
    column {rate: count} recomputed per 1,000 residents (missing where the count is missing)."""
    consistent = census_consistent_population(
        table[["agency_slug", "year", "population"]], population, agencies, census_counts
    )
    out = table.drop(columns=["population"]).merge(consistent, on=["agency_slug", "year"], how="left")
    for rate, count in rates.items():
        out[rate] = (out[count].astype("Float64").astype("float64") / out["population"] * 1000).astype("float64")
    return out


__all__ = [
    "POPULATION_RACES",
    "population_for",
    "matched_population_year",
    "census_consistent_population",
    "with_census_population",
    "census_anchors",
    "load_census_counts",
]
