"""ACS population by race: fixtures for the quirks, schema failures, Ferguson pass-through, full data."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from helpers import clean_source
from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources import acs, base
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
)
from heartbeats_analysis.paths import raw_dir

BIG = registry.get(acs.PLACES_COUNTIES_KEY).path
STATE = registry.get(acs.STATEWIDE_KEY).path
HEADER = "year,source,geo_type,name,Total,White,Black,Hispanic,state_fips,county_fips,place_fips\n"

BIG_ROWS = (
    '2014,acs5,place,"Ferguson city, Missouri",2.1151e4,6417,13884,275,29,,23986\n'
    '2014,acs5,county,"Adair County, Missouri","25,642",23547,538,615,29,1,\n'  # fips lost its zeros
    '2014,acs5,place,"Ferguson city, Missouri",2.1151e4,6417,13884,275,29,,23986\n'  # exact duplicate
    "2014,acs1,state,Missouri,6063589,4847814,703873,233325,29,,\n"
    '2015,acs5,place,"Ferguson city, Missouri",21120,6285,,295,29,,23986\n'  # blank Black
    '2015,acs5,place,"Tiny CDP, Missouri",0,0,0,0,29,,00123\n'  # a real zero estimate
    "2015,acs1,state,Missouri,6083672,4858768,704787,240413,29,,\n"
)
STATE_ROWS = (
    "year,source,Total,White,Black,Hispanic\n"
    "2013,acs1,6044171,4850000,700000,230000\n"  # only here: fills the key
    "2014,acs1,6063589,4847814,703873,233325\n"  # agrees with the big file
    "2015,acs1,6083673,4858768,704787,240413\n"  # disagrees on Total by one
)


def write_fixture(root: Path, big: str = HEADER + BIG_ROWS, state: str = STATE_ROWS) -> Path:
    (root / BIG).parent.mkdir(parents=True, exist_ok=True)
    (root / BIG).write_text(big)
    (root / STATE).write_text(state)
    return root


@pytest.fixture
def cleaned(tmp_path):
    return clean_source(acs, write_fixture(tmp_path))


def value(table: pd.DataFrame, geoid: str, year: int, race: str):
    row = table[(table.geoid == geoid) & (table.year == year) & (table.race == race)]
    assert len(row) == 1, (geoid, year, race)
    return row.iloc[0]["population"]


def test_scientific_notation_commas_and_fips_padding(cleaned):
    table, _ = cleaned
    assert value(table, "2923986", 2014, "total") == 21151
    assert value(table, "29001", 2014, "total") == 25642
    assert value(table, "2900123", 2015, "total") == 0  # a zero estimate is kept, not made missing
    assert table.dtypes["population"] == "Int64"
    assert table.dtypes["geoid"] == "str"


def test_blank_is_missing_and_logged(cleaned):
    table, log = cleaned
    assert pd.isna(value(table, "2923986", 2015, "black"))
    assert value(table, "2923986", 2015, "white") == 6285
    blank = log[log.reason.str.contains("blank")]
    assert blank.key.tolist() == ["2923986|2015|black"]


def test_exact_duplicate_dropped_and_logged(cleaned):
    table, log = cleaned
    assert len(table[(table.geoid == "2923986") & (table.year == 2014)]) == 4
    assert log.reason.str.contains("exact duplicate").sum() == 1


def test_statewide_overlap_keeps_one_row_per_key(cleaned):
    table, log = cleaned
    state = table[table.geo_type == "state"]
    assert not state.duplicated(["geoid", "year", "race"]).any()
    assert sorted(state.year.unique()) == [2013, 2014, 2015]
    assert value(table, "29", 2013, "total") == 6044171  # statewide-only year filled in
    assert value(table, "29", 2015, "total") == 6083672  # places/counties file wins
    conflict = log[log.reason.str.contains("statewide file disagrees")]
    assert conflict.key.tolist() == ["29|2015|total"]
    assert set(state.geography) == {"Missouri"}


def test_columns_and_order(cleaned):
    table, _ = cleaned
    assert list(table.columns) == list(acs.COLUMNS) == list(acs.PROCESSED_SCHEMA.columns)
    assert table.equals(table.sort_values(["geoid", "year", "race"]).reset_index(drop=True))


def test_dropped_column_names_file_and_column(tmp_path):
    write_fixture(tmp_path)
    frame = pd.read_csv(tmp_path / BIG, dtype=str, keep_default_na=False).drop(columns="White")
    frame.to_csv(tmp_path / BIG, index=False)
    with pytest.raises(SchemaValidationError) as err:
        acs.load_raw(tmp_path)
    assert BIG in str(err.value) and "White" in str(err.value)


def test_text_in_numeric_column_names_file_and_column(tmp_path):
    big = HEADER + BIG_ROWS.replace("13884", "n/a")
    with pytest.raises(SchemaValidationError) as err:
        acs.load_raw(write_fixture(tmp_path, big=big))
    message = str(err.value)
    assert BIG in message and "'Black'" in message and "n/a" in message


def test_statewide_text_names_its_file(tmp_path):
    with pytest.raises(SchemaValidationError) as err:
        acs.load_raw(write_fixture(tmp_path, state=STATE_ROWS.replace("704787", "seven")))
    assert STATE in str(err.value) and "'Black'" in str(err.value)


def test_conflicting_duplicate_fails_the_processed_schema(tmp_path):
    big = HEADER + BIG_ROWS + '2014,acs5,place,"Ferguson city, Missouri",21000,6417,13884,275,29,,23986\n'
    with pytest.raises(SchemaValidationError) as err:
        acs.clean(acs.load_raw(write_fixture(tmp_path, big=big)), MissingnessLog())
    assert "population.csv" in str(err.value)


@given(st.integers(min_value=0, max_value=10**9))
def test_count_text_accepts_published_formats(n):
    for text in [str(n), f"{n:,}", f"{n:.6e}" if float(f"{n:.6e}") == n else str(n), f" {n} ", f"{n}.0"]:
        assert base.is_count_text(text)


@given(st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=1, max_size=6))
def test_count_text_rejects_words(word):
    assert not base.is_count_text(word) or word.strip().upper() in {"NA", "NAN", "NULL", "NONE"}


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=99999))
def test_geoids_keep_leading_zeros(county, place):
    frame = pd.DataFrame(
        {
            "year": ["2020", "2020"],
            "source": ["acs5", "acs5"],
            "geo_type": ["county", "place"],
            "name": ["A County, Missouri", "B city, Missouri"],
            "Total": ["1", "2"],
            "White": ["1", "2"],
            "Black": ["0", "0"],
            "Hispanic": ["0", "0"],
            "state_fips": ["29", "29"],
            "county_fips": [str(county), ""],
            "place_fips": ["", str(place)],
        }
    )
    statewide = pd.DataFrame(columns=["year", "source", "Total", "White", "Black", "Hispanic"], dtype=str)
    table = acs.clean(acs.AcsRaw(frame, statewide), MissingnessLog())
    assert set(table.geoid) == {f"29{county:03d}", f"29{place:05d}"}


# --- the real raw files ---------------------------------------------------------------------------

needs_raw = pytest.mark.skipif(
    not (raw_dir() / BIG).exists() or not (raw_dir() / STATE).exists(),
    reason="data/raw/acs is missing: run `heartbeats fetch` first",
)


@pytest.fixture(scope="module")
def real():
    return clean_source(acs)


@needs_raw
@pytest.mark.parametrize("year", [2014, 2019, 2021, 2024])
def test_ferguson_passes_through(real, year):
    table, _ = real
    with open(raw_dir() / BIG, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["name"] == "Ferguson city, Missouri" and r["year"] == str(year)]
    assert len(rows) == 1
    for column, race in acs.RACE_COLUMNS.items():
        assert value(table, "2923986", year, race) == int(rows[0][column])
    ferguson = table[(table.geoid == "2923986") & (table.year == year)]
    assert set(ferguson.geography) == {"Ferguson city, Missouri"} and set(ferguson.survey) == {"acs5"}


@needs_raw
def test_statewide_rows_pass_through(real):
    table, _ = real
    with open(raw_dir() / STATE, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for column, race in acs.RACE_COLUMNS.items():
            assert value(table, "29", int(row["year"]), race) == int(row[column])


@needs_raw
def test_full_data(real):
    table, log = real
    assert len(table) == 4 * 12883  # every raw row, four races; the statewide file adds no key
    assert not table.duplicated(["geoid", "year", "race"]).any()
    assert sorted(table.year.unique()) == list(range(2014, 2025))
    assert table.population.notna().all()
    assert log.empty  # the statewide file agrees with the big file's state rows
    assert value(table, "2923986", 2024, "black") == 12510
    assert value(table, "29189", 2024, "total") > 990_000  # St. Louis County
    assert value(table, "29510", 2020, "total") == value(table, "2965000", 2020, "total")  # St. Louis city twice
    assert (table.loc[table.geo_type == "county", "geoid"].str.len() == 5).all()
