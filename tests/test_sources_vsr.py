"""Vehicle Stops Report: fixtures for the quirks, schema failures, Ferguson pass-through, full data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources import vsr
from heartbeats_analysis.ingest.sources.base import (
    SMALL_CELL_THRESHOLD,
    MissingnessLog,
    SchemaValidationError,
)
from heartbeats_analysis.paths import raw_dir

METRICS_FILE = registry.get(vsr.METRICS_KEY).path
PER_RACE_FILES = {race: registry.get(key).path for race, key in vsr.PER_RACE_KEYS.items()}
BY_RACE_FILE = registry.get(vsr.STATEWIDE_BY_RACE_KEY).path
HIT_RATES_FILE = registry.get(vsr.STATEWIDE_HIT_RATES_KEY).path

ALL_STOPS, SEARCHES, CONTRABAND, ARRESTS, CITATIONS = vsr.COUNT_METRICS


def metrics_document() -> dict:
    # Ferguson reports 2020 and 2022 (not 2021); Cass County reports 2020 with a blank Hispanic search count.
    return {
        "agencies": ["Ferguson Police Dept", "Cass County Sheriff's Dept"],
        "years": [2020, 2021, 2022],
        "columns": list(vsr.RACES),
        "rows": {
            ALL_STOPS: [
                [0, 0, 476.0, 33.0, 430.0, 4.0, 0.0, 0.0, 9.0],
                [0, 2, 550.0, 36.0, 506.0, 4.0, 2.0, 1.0, 1.0],
                [1, 0, 900.0, 800.0, 60.0, 40.0, 0.0, 0.0, 0.0],
            ],
            SEARCHES: [
                [0, 0, 19.0, 2.0, 17.0, 0.0, 0.0, 0.0, 0.0],
                [0, 2, 24.0, 2.0, 21.0, 0.0, 0.0, 1.0, 0.0],
                [1, 0, 30.0, 25.0, 5.0, None, 0.0, 0.0, 0.0],
            ],
            CONTRABAND: [
                [0, 0, 10.0, 1.0, 9.0, 0.0, 0.0, 0.0, 0.0],
                [0, 2, 8.0, 0.0, 8.0, 0.0, 0.0, 0.0, 0.0],
                [1, 0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            ],
            ARRESTS: [
                [0, 0, 9.0, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0],
                [0, 2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                [1, 0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            ],
            CITATIONS: [
                [0, 0, 283.0, 15.0, 261.0, 2.0, 0.0, 0.0, 5.0],
                [0, 2, 526.0, 32.0, 488.0, 3.0, 1.0, 1.0, 1.0],
                [1, 0, 100.0, 90.0, 5.0, 5.0, 0.0, 0.0, 0.0],
            ],
            "rates-by-race--rates--search-rate": [[0, 0, 3.99, 6.06, 3.95, 0.0, None, None, 0.0]],
        },
    }


PER_RACE = {
    "white": (
        "Agency,Region,Year,Stops,Indexed\n"
        "Ferguson Police Dept,STL Metro,2014,758,100.0\n"
        "Ferguson Police Dept,STL Metro,2019,171,22.6\n"
        "Ferguson Police Dept,STL Metro,2020,33,4.4\n"
        "Cass County Sheriff's Office,KC Metro,2019,1.2e3,90.0\n"  # old spelling, scientific notation
        "Cass County Sheriff's Office,KC Metro,2019,1.2e3,90.0\n"
    ),  # exact duplicate
    "black": (
        "Agency,Region,Year,Stops,Indexed\n"
        "Ferguson Police Dept,STL Metro,2014,3756,100.0\n"
        'Ferguson Police Dept,STL Metro,2019,"1,918",51.1\n'
        "Ferguson Police Dept,STL Metro,2020,431,11.4\n"
    ),  # disagrees with the JSON (430)
    "hispanic": (
        "Agency,Region,Year,Stops,Indexed\n"
        "Ferguson Police Dept,STL Metro,2014,11,100.0\n"
        "Ferguson Police Dept,STL Metro,2019,9,81.8\n"
        "Ferguson  Police Dept ,STL Metro,2020,4,36.4\n"
    ),  # stray whitespace in the name
}
BY_RACE = (
    "race,year,total_stops,license_stops,license_rate_pct,equipment_rate_pct,investigative_rate_pct,"
    "arrest_rate_pct,search_rate_pct,arrest_count\n"
    "White,2014,1317360,302797,22.99,14.64,3.9,4.14,5.21,54539\n"
    "Black,2014,304321,92558,30.41,15.57,7.77,7.9,9.0,24041\n"
    "Black,2015,276445,74903,27.1,15.36,7.64,6.91,,19102\n"
)
HIT_RATES = "year,race,searches,contraband,hit_rate\n2014,White,68620,18434,26.9\n2014,Black,27381,5858,21.4\n"


def write_fixture(
    root: Path, document: dict | None = None, per_race: dict | None = None, by_race: str = BY_RACE
) -> Path:
    (root / METRICS_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / METRICS_FILE).write_text(json.dumps(document or metrics_document()))
    for race, text in (per_race or PER_RACE).items():
        (root / PER_RACE_FILES[race]).write_text(text)
    (root / BY_RACE_FILE).write_text(by_race)
    (root / HIT_RATES_FILE).write_text(HIT_RATES)
    return root


@pytest.fixture
def fixture_raw(tmp_path):
    return vsr.load_raw(write_fixture(tmp_path))


@pytest.fixture
def cleaned(fixture_raw):
    log = MissingnessLog()
    return vsr.clean(fixture_raw, log), log.to_frame()


def cell(table: pd.DataFrame, slug: str, year: int, race: str) -> pd.Series:
    row = table[(table.agency_slug == slug) & (table.year == year) & (table.race == race)]
    assert len(row) == 1, (slug, year, race)
    return row.iloc[0]


def test_json_rows_pass_through(cleaned):
    table, _ = cleaned
    total = cell(table, "ferguson", 2020, "total")
    assert (total.stops, total.searches, total.contraband, total.arrests, total.citations) == (476, 19, 10, 9, 283)
    assert total.source == vsr.SOURCE_JSON and total.vsr_name == "Ferguson Police Dept"
    assert cell(table, "ferguson", 2022, "black").stops == 506
    assert cell(table, "ferguson", 2022, "native_american").stops == 2
    assert len(table[(table.agency_slug == "ferguson") & (table.year == 2022)]) == 7


def test_pre_2020_rows_come_from_the_per_race_files_without_totals(cleaned):
    table, _ = cleaned
    early = table[table.year < 2020]
    assert set(early.source) == {vsr.SOURCE_PER_RACE}
    assert set(early.race) <= {"white", "black", "hispanic"}
    assert cell(table, "ferguson", 2019, "black").stops == 1918
    row = cell(table, "ferguson", 2014, "white")
    assert row.stops == 758
    for count in ["searches", "contraband", "arrests", "citations"]:
        assert pd.isna(row[count])  # not reported: missing, never zero
    assert row.small_cell_searches


def test_json_is_the_source_of_record_for_2020_on(cleaned):
    table, _ = cleaned
    assert cell(table, "ferguson", 2020, "black").stops == 430  # the JSON, not the per-race file's 431
    assert set(table[table.year >= 2020].source) == {vsr.SOURCE_JSON}


def test_blank_json_value_is_missing_and_logged(cleaned):
    table, log = cleaned
    row = cell(table, "cass-county-sheriff", 2020, "hispanic")
    assert pd.isna(row.searches) and row.stops == 40 and row.small_cell_searches
    assert ((log.key == "cass-county-sheriff|2020|hispanic") & (log.column == "searches")).sum() == 1


def test_missing_year_has_no_row_and_is_logged(cleaned):
    table, log = cleaned
    assert 2021 not in set(table[table.agency_slug == "ferguson"].year)
    gaps = log[log.reason.str.contains("absent from every VSR file")]
    # the fixture's per-race files skip 2015-2018 as well
    assert gaps.key.tolist() == [f"ferguson|{year}" for year in [2015, 2016, 2017, 2018, 2021]]


def test_renamed_agency_shares_a_slug_and_scientific_notation_parses(cleaned):
    table, log = cleaned
    old = cell(table, "cass-county-sheriff", 2019, "white")
    assert old.stops == 1200 and old.vsr_name == "Cass County Sheriff's Office"
    assert cell(table, "cass-county-sheriff", 2020, "white").vsr_name == "Cass County Sheriff's Dept"
    assert log.reason.str.contains("exact duplicate").sum() == 1


def test_small_cell_flag(cleaned):
    table, _ = cleaned
    expected = table.searches.isna() | (table.searches < SMALL_CELL_THRESHOLD)
    assert table.small_cell_searches.equals(expected.astype(bool))
    assert not cell(table, "ferguson", 2020, "black").small_cell_searches  # 17 searches
    assert cell(table, "ferguson", 2020, "white").small_cell_searches  # 2 searches


def test_schema_and_order(cleaned):
    table, _ = cleaned
    assert list(table.columns) == list(vsr.COLUMNS)
    assert not table.duplicated(["agency_slug", "year", "race"]).any()
    assert all(table.dtypes[c] == "Int64" for c in vsr.COUNTS)


def test_agreement_counts_the_disagreeing_cell(fixture_raw):
    summary = vsr.per_race_agreement(fixture_raw).set_index("race")
    assert summary.loc["all", "compared"] == 3 and summary.loc["all", "agree"] == 2
    assert summary.loc["black", "agreement_rate"] == 0.0
    assert summary.loc["hispanic", "agreement_rate"] == 1.0  # whitespace in the name does not matter


def test_statewide_table(fixture_raw):
    log = MissingnessLog()
    table = vsr.clean_statewide(fixture_raw, log)
    assert list(table.columns) == list(vsr.STATEWIDE_COLUMNS)
    white = table[(table.year == 2014) & (table.race == "white")].iloc[0]
    assert (white.stops, white.searches, white.contraband, white.arrests) == (1317360, 68620, 18434, 54539)
    assert white.hit_rate_pct == 26.9 and white.search_rate_pct == 5.21
    black_2015 = table[(table.year == 2015) & (table.race == "black")].iloc[0]
    assert pd.isna(black_2015.searches) and pd.isna(black_2015.search_rate_pct)
    assert set(log.to_frame().column) == {"searches", "contraband", "hit_rate_pct", "search_rate_pct"}
    assert vsr.EXTRA_TABLES["stops_statewide"][2] is vsr.clean_statewide


def test_text_in_stops_names_file_and_column(tmp_path):
    per_race = {**PER_RACE, "black": PER_RACE["black"].replace("3756", "many")}
    with pytest.raises(SchemaValidationError) as err:
        vsr.load_raw(write_fixture(tmp_path, per_race=per_race))
    assert PER_RACE_FILES["black"] in str(err.value) and "'Stops'" in str(err.value)


def test_dropped_column_names_file_and_column(tmp_path):
    per_race = {**PER_RACE, "white": "\n".join(line.rsplit(",", 1)[0] for line in PER_RACE["white"].splitlines())}
    with pytest.raises(SchemaValidationError) as err:
        vsr.load_raw(write_fixture(tmp_path, per_race=per_race))
    assert PER_RACE_FILES["white"] in str(err.value) and "Indexed" in str(err.value)


def test_text_in_json_names_file_and_column(tmp_path):
    document = metrics_document()
    document["rows"][SEARCHES][0][4] = "seventeen"
    with pytest.raises(SchemaValidationError) as err:
        vsr.load_raw(write_fixture(tmp_path, document=document))
    assert METRICS_FILE in str(err.value) and "'Black'" in str(err.value)


def test_broken_json_layout_names_file(tmp_path):
    document = metrics_document()
    document["rows"][ALL_STOPS].append([7, 0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])  # no agency 7
    with pytest.raises(SchemaValidationError) as err:
        vsr.load_raw(write_fixture(tmp_path, document=document))
    assert METRICS_FILE in str(err.value) and "outside agencies" in str(err.value)


def test_fractional_count_is_rejected(tmp_path):
    document = metrics_document()
    document["rows"][ARRESTS][0][2] = 9.5
    with pytest.raises(SchemaValidationError) as err:
        vsr.load_raw(write_fixture(tmp_path, document=document))
    assert "whole numbers" in str(err.value)


@given(st.text(alphabet=st.sampled_from("Ab .'-\t"), min_size=1, max_size=20))
def test_normalise_name_is_idempotent_and_trims(name):
    once = vsr.normalise_name(name)
    assert vsr.normalise_name(once) == once
    assert once == once.strip() and "  " not in once


# --- the real raw files ---------------------------------------------------------------------------

needs_raw = pytest.mark.skipif(
    not all((raw_dir() / f).exists() for f in [METRICS_FILE, BY_RACE_FILE, HIT_RATES_FILE, *PER_RACE_FILES.values()]),
    reason="data/raw/vsr is missing: run `heartbeats fetch` first",
)


@pytest.fixture(scope="module")
def real_raw():
    return vsr.load_raw()


@pytest.fixture(scope="module")
def real(real_raw):
    log = MissingnessLog()
    return vsr.clean(real_raw, log), log.to_frame()


@needs_raw
@pytest.mark.parametrize("year", [2020, 2023, 2024])
def test_ferguson_json_passes_through(real, year):
    table, _ = real
    with open(raw_dir() / METRICS_FILE) as fh:
        document = json.load(fh)
    agency = document["agencies"].index("Ferguson Police Dept")
    year_idx = document["years"].index(year)
    for metric, column in vsr.COUNT_METRICS.items():
        (row,) = [r for r in document["rows"][metric] if r[0] == agency and r[1] == year_idx]
        for label, value in zip(document["columns"], row[2:], strict=True):
            assert cell(table, "ferguson", year, vsr.RACES[label])[column] == int(value)


@needs_raw
@pytest.mark.parametrize("year", [2014, 2016, 2019])
def test_ferguson_per_race_passes_through(real, year):
    table, _ = real
    for race, file in PER_RACE_FILES.items():
        with open(raw_dir() / file, newline="") as fh:
            (row,) = [r for r in csv.DictReader(fh) if r["Agency"] == "Ferguson Police Dept" and r["Year"] == str(year)]
        assert cell(table, "ferguson", year, race).stops == int(row["Stops"])


@needs_raw
def test_ferguson_has_no_2021_row(real):
    table, log = real
    ferguson = table[table.agency_slug == "ferguson"]
    assert sorted(ferguson.year.unique()) == [2014, 2015, 2016, 2017, 2018, 2019, 2020, 2022, 2023, 2024]
    assert "ferguson|2021" in set(log.key)


@needs_raw
def test_per_race_files_agree_with_the_json(real_raw):
    summary = vsr.per_race_agreement(real_raw).set_index("race")
    assert summary.loc["all", "compared"] == 5065
    assert summary.loc["all", "agreement_rate"] == 1.0
    assert summary.loc["all", "json_missing"] == 0


@needs_raw
def test_statewide_passes_through(real_raw):
    table = vsr.clean_statewide(real_raw, MissingnessLog())
    with open(raw_dir() / HIT_RATES_FILE, newline="") as fh:
        hits = list(csv.DictReader(fh))
    assert len(table) == len(hits) == 33
    for row in hits:
        out = table[(table.year == int(row["year"])) & (table.race == row["race"].lower())].iloc[0]
        assert (out.searches, out.contraband, out.hit_rate_pct) == (
            int(row["searches"]),
            int(row["contraband"]),
            float(row["hit_rate"]),
        )
    black_2024 = table[(table.year == 2024) & (table.race == "black")].iloc[0]
    assert (black_2024.stops, black_2024.arrests) == (217871, 12680)


@needs_raw
def test_full_data(real):
    table, log = real
    assert not table.duplicated(["agency_slug", "year", "race"]).any()
    assert sorted(table.year.unique()) == list(range(2014, 2025))
    json_rows = table[table.source == vsr.SOURCE_JSON]
    assert len(json_rows) == 2584 * 7
    # 612 JSON names, 611 agencies: "City of Bellerive Acres" (2023) and "... Police Dept" (2024) are one
    assert json_rows.agency_slug.nunique() == 611
    assert json_rows.stops.isna().sum() == 16  # blanks in the JSON stay missing
    assert table[table.source == vsr.SOURCE_PER_RACE].searches.isna().all()
    assert (log.reason == "blank in the VSR JSON (not reported for this race)").sum() == 80
