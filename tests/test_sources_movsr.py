"""movsr 2017 disparity index: the 'Furguson' misspelling, schema failures, pass-through, full data."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
import rdata
from helpers import clean_source

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources import agencies, movsr, vsr
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
)
from heartbeats_analysis.paths import raw_dir

RDA = registry.get(movsr.RAW_KEY).path


def fixture_frame(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "agency": pd.array(["Furguson", "Calverton", "St. Ann", "Ballwin"], dtype="string"),
            "year": [2017.0] * 4,
            "cat": pd.array(["Black"] * 4, dtype="string"),
            "prop": [0.878986, 0.801417, 0.542389, None],
            "count": pd.array([1213, 3055, 4101, None], dtype="Int32"),
            "disp": [1.40, 2.20, 2.69, 3.76],
        }
    )
    return frame.assign(**overrides)


def write_fixture(root, frame: pd.DataFrame):
    (root / RDA).parent.mkdir(parents=True, exist_ok=True)
    rdata.write_rda(root / RDA, {movsr.R_OBJECT: frame})
    return root


@pytest.fixture
def cleaned(tmp_path):
    log = MissingnessLog()
    return movsr.clean(movsr.load_raw(write_fixture(tmp_path, fixture_frame())), log), log.to_frame()


def test_furguson_is_ferguson(cleaned):
    table, _ = cleaned
    ferguson = table.set_index("agency_slug").loc["ferguson"]
    assert ferguson.movsr_name == "Furguson"
    assert (ferguson.black_stops, ferguson.disparity_index) == (1213, 1.40)
    assert ferguson.black_share_of_stops == pytest.approx(0.878986)
    assert "furguson" not in set(table.agency_slug)


def test_place_names_become_vsr_slugs(cleaned):
    table, _ = cleaned
    assert list(table.agency_slug) == ["ballwin", "calverton-park", "ferguson", "st-ann"]
    assert list(table.columns) == list(movsr.COLUMNS)
    assert table.dtypes["black_stops"] == "Int64"


def test_missing_values_stay_missing_and_are_logged(cleaned):
    table, log = cleaned
    ballwin = table.set_index("agency_slug").loc["ballwin"]
    assert pd.isna(ballwin.black_stops) and pd.isna(ballwin.black_share_of_stops)
    assert set(zip(log.key, log.column, strict=True)) == {
        ("ballwin", "black_stops"),
        ("ballwin", "black_share_of_stops"),
    }


def test_dropped_column_names_file_and_column(tmp_path):
    with pytest.raises(SchemaValidationError) as err:
        movsr.load_raw(write_fixture(tmp_path, fixture_frame().drop(columns="disp")))
    assert RDA in str(err.value) and "disp" in str(err.value)


def test_text_in_numeric_column_names_file_and_column(tmp_path):
    frame = fixture_frame(disp=pd.array(["1.40", "2.20", "high", "3.76"], dtype="string"))
    with pytest.raises(SchemaValidationError) as err:
        movsr.load_raw(write_fixture(tmp_path, frame))
    assert RDA in str(err.value) and "'disp'" in str(err.value)


def test_share_out_of_range_fails(tmp_path):
    with pytest.raises(SchemaValidationError) as err:
        movsr.load_raw(write_fixture(tmp_path, fixture_frame(prop=[87.9, 0.8, 0.5, None])))
    assert "'prop'" in str(err.value)


# --- the real raw file ----------------------------------------------------------------------------

needs_raw = pytest.mark.skipif(
    not (raw_dir() / RDA).exists(), reason="data/raw/movsr is missing: run `heartbeats fetch` first"
)


@pytest.fixture(scope="module")
def real():
    return movsr.clean(movsr.load_raw(), MissingnessLog())


@needs_raw
def test_full_data(real):
    assert len(real) == 53 and real.agency_slug.is_unique
    ferguson = real.set_index("agency_slug").loc["ferguson"]
    assert (ferguson.movsr_name, ferguson.black_stops, ferguson.disparity_index) == ("Furguson", 1213, 1.40)
    assert real.set_index("agency_slug").loc["st-louis-county", "black_stops"] == 20108


@needs_raw
def test_every_movsr_agency_is_in_the_crosswalk(real):
    table, _ = clean_source(agencies)
    assert set(real.agency_slug) <= set(table.agency_slug)


@needs_raw
def test_black_stops_match_the_vsr_per_race_file(real):
    # The two scrapes of the same 2017 report agree for Ferguson and for the peers in both.
    with open(raw_dir() / registry.get(vsr.PER_RACE_KEYS["black"]).path, newline="") as fh:
        vsr_2017 = {r["Agency"]: int(r["Stops"]) for r in csv.DictReader(fh) if r["Year"] == "2017"}
    assert vsr_2017["Ferguson Police Dept"] == 1213
    by_slug = real.set_index("agency_slug").black_stops
    for name, slug in [
        ("Ferguson Police Dept", "ferguson"),
        ("Florissant Police Dept", "florissant"),
        ("Hazelwood Police Dept", "hazelwood"),
        ("St Ann Police Dept", "st-ann"),
    ]:
        assert by_slug[slug] == vsr_2017[name]
