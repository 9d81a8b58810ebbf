"""American Community Survey population by race for every Missouri place and county, and the state.

Two raw files: the Recovered Factory pull of table B03002 for every place and county (ACS5 end-years
2014-2024; its state rows are ACS1 except 2020, when the Census Bureau released no standard ACS1), and a
separate statewide file of the same series. The state rows overlap: the places/counties file is kept
as the source of record for a (geoid, year, race) that both carry, a statewide row fills a key only the
statewide file has, and any disagreement between the two is written to the missingness log.

Populations count all ages (the AGO's disparity index uses drivers 16+), so shares built from this
table will not reproduce the AGO's published index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    count_text_check,
    finish_table,
    parse_count,
    raw_root_dir,
    read_raw_csv,
    to_int64,
)

TABLE_NAME = "population"

PLACES_COUNTIES_KEY = "acs_population_by_race_mo_places_counties_2014_2024"
STATEWIDE_KEY = "acs_missouri_statewide_population_2014_2024"

STATE_FIPS = "29"
STATE_NAME = "Missouri"
RACE_COLUMNS = {"Total": "total", "White": "white", "Black": "black", "Hispanic": "hispanic"}
GEOID_LENGTH = {"state": 2, "county": 5, "place": 7}


_COUNT_TEXT = {column: pa.Column(str, count_text_check()) for column in RACE_COLUMNS}

RAW_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "source": pa.Column(str, pa.Check.isin(["acs1", "acs5"])),
        "geo_type": pa.Column(str, pa.Check.isin(list(GEOID_LENGTH))),
        "name": pa.Column(str, pa.Check.str_length(min_value=1)),
        **_COUNT_TEXT,
        "state_fips": pa.Column(str, pa.Check.str_matches(r"^\d{1,2}$")),
        "county_fips": pa.Column(str, pa.Check.str_matches(r"^\d{0,3}$")),
        "place_fips": pa.Column(str, pa.Check.str_matches(r"^\d{0,5}$")),
    },
    checks=[
        pa.Check(
            lambda df: df["geo_type"].ne("place") | df["place_fips"].ne(""), error="place rows carry a place_fips"
        ),
        pa.Check(
            lambda df: df["geo_type"].ne("county") | df["county_fips"].ne(""), error="county rows carry a county_fips"
        ),
    ],
    name="acs_population_by_race_raw",
)

STATEWIDE_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column(str, pa.Check.str_matches(r"^\d{4}$"), unique=True),
        "source": pa.Column(str, pa.Check.isin(["acs1", "acs5"])),
        **_COUNT_TEXT,
    },
    name="acs_missouri_statewide_population_raw",
)

PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "geography": pa.Column(str, pa.Check.str_length(min_value=1)),
        "geoid": pa.Column(str, pa.Check.str_matches(r"^29(\d{3}|\d{5})?$")),
        "geo_type": pa.Column(str, pa.Check.isin(list(GEOID_LENGTH))),
        "year": pa.Column("int64", pa.Check.in_range(2005, 2030)),
        "race": pa.Column(str, pa.Check.isin(list(RACE_COLUMNS.values()))),
        "population": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "survey": pa.Column(str, pa.Check.isin(["acs1", "acs5"])),
    },
    checks=[
        pa.Check(
            lambda df: df["geoid"].str.len() == df["geo_type"].map(GEOID_LENGTH),
            error="geoid length matches geo_type (state 2, county 5, place 7)",
        ),
    ],
    unique=["geoid", "year", "race"],
    strict=True,
    ordered=True,
    name="population",
)

COLUMNS = {
    "geography": "Census name of the geography, e.g. 'Ferguson city, Missouri'",
    "geoid": "Census GEOID as text: '29' + 5-digit place FIPS, '29' + 3-digit county FIPS, or '29' for the state",
    "geo_type": "place, county or state",
    "year": "ACS end year (5-year estimates end in this year; state rows are 1-year estimates, see survey)",
    "race": "total; white and black (non-Hispanic, one race alone); hispanic (any race)",
    "population": "Estimated residents of all ages (not the 16+ base of the AGO disparity index)",
    "survey": "acs5 or acs1, as the raw file labels the row",
}


@dataclass(frozen=True)
class AcsRaw:
    places_counties: pd.DataFrame
    statewide: pd.DataFrame


def load_raw(raw_root: Path | None = None) -> AcsRaw:
    root = raw_root_dir(raw_root)
    return AcsRaw(
        places_counties=read_raw_csv(root, registry.get(PLACES_COUNTIES_KEY).path, RAW_SCHEMA),
        statewide=read_raw_csv(root, registry.get(STATEWIDE_KEY).path, STATEWIDE_RAW_SCHEMA),
    )


def _geoid(frame: pd.DataFrame) -> pd.Series:
    state = frame["state_fips"].str.zfill(2)
    county = state + frame["county_fips"].str.zfill(3)
    place = state + frame["place_fips"].str.zfill(5)
    return state.where(frame["geo_type"].eq("state"), county.where(frame["geo_type"].eq("county"), place))


def _long(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    wide = frame.rename(columns=RACE_COLUMNS)
    long = wide.melt(
        id_vars=["geography", "geoid", "geo_type", "year", "survey"],
        value_vars=list(RACE_COLUMNS.values()),
        var_name="race",
        value_name="raw_population",
    )
    long["origin"] = origin
    return long


def _drop_exact_duplicates(raw: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    repeated = raw.duplicated(keep="first")
    for _, row in raw[repeated].iterrows():
        log.add(TABLE_NAME, f"{row['name']}|{row['year']}", "(row)", "exact duplicate row in the raw file; dropped")
    return raw[~repeated]


def clean(raw: AcsRaw, log: MissingnessLog) -> pd.DataFrame:
    big = _drop_exact_duplicates(raw.places_counties, log)
    big = big.assign(geoid=_geoid(big)).rename(columns={"name": "geography", "source": "survey"})
    statewide = raw.statewide.rename(columns={"source": "survey"}).assign(
        geography=STATE_NAME, geoid=STATE_FIPS, geo_type="state"
    )
    long = pd.concat([_long(big, "places_counties"), _long(statewide, "statewide")], ignore_index=True)
    long["year"] = long["year"].astype("int64")

    key = ["geoid", "year", "race"]
    in_big = long[long["origin"].eq("places_counties")]
    statewide_rows = long[long["origin"].eq("statewide")]
    both = statewide_rows.merge(in_big, on=key, suffixes=("_state", "_kept"))
    differs = (both["raw_population_state"].map(parse_count) != both["raw_population_kept"].map(parse_count)) | (
        both["survey_state"] != both["survey_kept"]
    )
    for _, row in both[differs].iterrows():
        log.add(
            TABLE_NAME,
            f"{row['geoid']}|{row['year']}|{row['race']}",
            "population",
            f"statewide file disagrees ({row['survey_state']} {row['raw_population_state']}); "
            f"kept the places/counties file ({row['survey_kept']} {row['raw_population_kept']})",
            row["raw_population_state"],
        )
    covered = pd.MultiIndex.from_frame(in_big[key])
    fills = statewide_rows[~pd.MultiIndex.from_frame(statewide_rows[key]).isin(covered)]
    table = pd.concat([in_big, fills], ignore_index=True)

    table["population"] = to_int64(table["raw_population"])
    for _, row in table[table["population"].isna()].iterrows():
        log.add(
            TABLE_NAME,
            f"{row['geoid']}|{row['year']}|{row['race']}",
            "population",
            "blank in the raw file",
            row["raw_population"],
        )

    return finish_table(table, PROCESSED_SCHEMA, key)
