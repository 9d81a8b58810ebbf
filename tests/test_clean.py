"""The cleaning step as a whole: every table written, documented and consistent with the raw files."""

from __future__ import annotations

import csv
import json

import pytest

from heartbeats_analysis.ingest import clean
from heartbeats_analysis.ingest.tables import load_table

EXPECTED_TABLES = {
    "agencies",
    "population",
    "staffing",
    "crime",
    "state_crime",
    "stops",
    "stops_statewide",
    "agency_names",
    "fatal_force",
    "fatal_force_us_summary",
    "stl_county_force",
    "calls_for_service",
    "calls_initiation",
    "disparity_index_2017",
    "arrests",
    "occupation_wages",
    "missingness",
}


@pytest.fixture(scope="module")
def processed(tmp_path_factory, raw_data):
    folder = tmp_path_factory.mktemp("processed")
    clean.run(folder=folder)
    return folder


def test_every_table_is_written_and_documented(processed):
    written = {p.stem for p in processed.glob("*.csv")}
    assert written == EXPECTED_TABLES
    package = json.loads((processed / "datapackage.json").read_text())
    documented = {r["name"]: r for r in package["resources"]}
    assert set(documented) == EXPECTED_TABLES
    for name, resource in documented.items():
        assert all(field["description"] for field in resource["schema"]["fields"]), name
    assert documented["staffing"]["schema"]["primaryKey"] == ["agency_slug", "year"]
    readme = (processed / "README.md").read_text()
    assert "## staffing.csv" in readme and "sworn_officers" in readme


def test_tables_read_back_with_their_types(processed):
    staffing = load_table("staffing", processed)
    assert str(staffing["sworn_officers"].dtype) == "Int64"
    assert str(staffing["reported"].dtype) == "boolean"
    force = load_table("fatal_force", processed)
    assert str(force["date"].dtype).startswith("datetime64")


def test_reporting_gaps_are_missing_and_logged(processed):
    staffing = load_table("staffing", processed).set_index(["agency_slug", "year"])
    assert staffing.loc[("ferguson", 2019), "sworn_officers"] is __import__("pandas").NA
    assert staffing.loc[("ferguson", 2018), "sworn_officers"] == 40
    with open(processed / "missingness.csv", newline="") as fh:
        gaps = list(csv.DictReader(fh))
    assert any(g["table"] == "staffing" and "ferguson" in g["key"] and "2019" in g["key"] for g in gaps)
    assert any(g["table"] == "stops" and "ferguson" in g["key"] and "2021" in g["key"] for g in gaps)


def test_ferguson_resolves_across_every_source(processed):
    agencies = load_table("agencies", processed).set_index("agency_slug")
    ferguson = agencies.loc["ferguson"]
    assert (ferguson["vsr_name"], ferguson["ucr_name"], ferguson["ori"], ferguson["geoid"]) == (
        "Ferguson Police Dept",
        "Ferguson Police Department",
        "MO09528",
        "2923986",
    )
    population = load_table("population", processed)
    assert ((population["geoid"] == "2923986") & (population["year"] == 2024)).any()
    for table in ("staffing", "crime", "stops"):
        assert (load_table(table, processed)["agency_slug"] == "ferguson").any(), table


def test_no_names_of_the_deceased_in_any_processed_table(processed, raw_data):
    import pandas as pd

    names = pd.read_csv(raw_data / "force" / "wapo_fatal_police_shootings_v2.csv", usecols=["name"])["name"]
    missouri_text = (processed / "fatal_force.csv").read_text()
    sample = [n for n in names.dropna().unique() if len(str(n)) > 8][:2000]
    assert not [n for n in sample if n in missouri_text]


def test_cleaning_sources_in_a_worker_process_writes_the_same_bytes(processed, tmp_path):
    """Sources cleaned in a second process (what the build does on a machine with a spare core): every file, the
    missingness log and the data dictionary included, is byte-identical to cleaning one source after another."""
    parallel = tmp_path / "parallel"
    clean.run(folder=parallel, workers=1)
    expected = sorted(p.name for p in processed.iterdir() if p.is_file())
    assert sorted(p.name for p in parallel.iterdir() if p.is_file()) == expected
    for name in expected:
        assert (parallel / name).read_bytes() == (processed / name).read_bytes(), name
