"""Fatal Force + Mapping Police Violence: harmonised fields, St. Louis County rule, no names, real data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeats_analysis.ingest.sources import fatal_force as ff
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
)

WAPO_FILE = "force/wapo_fatal_police_shootings_v2.csv"
AGENCIES_FILE = "force/wapo_fatal_police_shootings_v2_agencies.csv"
MPV_FILE = "force/mapping_police_violence_2013_2020.xlsx"

WAPO_HEADER = [
    "id",
    "date",
    "threat_type",
    "flee_status",
    "armed_with",
    "city",
    "county",
    "state",
    "latitude",
    "longitude",
    "location_precision",
    "name",
    "age",
    "gender",
    "race",
    "race_source",
    "was_mental_illness_related",
    "body_camera",
    "agency_ids",
]
# id, date, armed_with, city, county, state, name, age, race, mental, agency_ids
WAPO_ROWS = [
    ("1", "2015-03-01", "unarmed", "Ferguson", "", "MO", "Quentin Zyxwv Alpha", "17", "B", "True", "10"),
    ("2", "2016-05-02", "", "St. Louis", "St. Louis City", "MO", "Rhiannon Qwerty Beta", "", "", "False", "11;12"),
    (
        "3",
        "2021-01-01",
        "gun;vehicle",
        "Kansas City",
        "Jackson",
        "MO",
        "Sebastian Plugh Gamma",
        "55",
        "B;H",
        "False",
        "13",
    ),
    ("4", "2020-06-01", "replica", "Denver", "Denver", "CO", "Tabitha Xyzzy Delta", "30", "W", "True", "14"),
    ("5", "2019-07-04", "undetermined", "Florissant", "", "MO", "Ulysses Frobozz Epsilon", "40", "W", "False", "15"),
    ("6", "2022-02-02", "knife", "Joplin", "Jasper", "MO", "", "24", "N", "False", "99"),
]
AGENCIES = [
    ("10", "Ferguson Police Department", "local_police", "MO", "MO09528", "1"),
    ("11", "St. Louis County Police Department", "local_police", "MO", "MO09500", "1"),
    ("12", "Some Federal Task Force", "federal", "MO", "", "1"),
    ("13", "Kansas City Police Department", "local_police", "MO", "MOKPD00", "1"),
    ("14", "Denver Police Department", "local_police", "CO", "CODPD00", "1"),
    ("15", "Florissant Police Department", "local_police", "MO", "", "1"),
]

MPV_HEADER = [
    "Victim's name",
    ff.MPV_AGE,
    "Victim's gender",
    ff.MPV_RACE,
    "URL of image of victim",
    ff.MPV_DATE,
    "Street Address of Incident",
    "City",
    "State",
    "Zipcode",
    "County",
    ff.MPV_AGENCY,
    ff.MPV_ORI,
    "Cause of death",
    "A brief description of the circumstances surrounding the death",
    ff.MPV_MENTAL,
    ff.MPV_ARMED,
    ff.MPV_WAPO_ID,
    ff.MPV_ID,
    None,
    None,
]
# MPV ID, date, name, age, race, city, state, county, agency, ORI, mental, armed
MPV_ROWS = [
    (
        100,
        datetime(2014, 8, 9),
        "Vivienne Grue Zeta",
        18,
        "Black",
        "Ferguson",
        "MO",
        "St. Louis",
        "Ferguson Police Department",
        "MO0952800",
        "No",
        "Unarmed/Did Not Have an Actual Weapon",
    ),
    (
        101,
        datetime(2015, 1, 14),
        "Wilhelmina Zork Eta",
        "Unknown",
        "Unknown race",
        "Robertsville",
        "MO",
        "Franklin",
        "St. Louis County Police Department, Franklin County Sheriff's Office",
        "MO0950000;MO0360000",
        "Unkown",
        "Unclear",
    ),
    (
        102,
        datetime(2016, 2, 2),
        "Xavier Flathead Theta",
        "40s",
        "Pacific Islander",
        "University City",
        "MO",
        "St. Louis City",
        "University City Police Department",
        "MO0957300",
        "Drug or alcohol use",
        "Vehicle",
    ),
    (
        103,
        datetime(2017, 3, 3),
        "Yolanda Borphee Iota",
        61,
        "White",
        "Kansas City",
        "MO",
        "Jackson",
        "Kansas City, KS Police Department",
        "Not Found/No Agency ORI",
        "Yes",
        "Allegedly Armed",
    ),
    (
        104,
        datetime(2018, 1, 1),
        "Zachary Dimwit Kappa",
        25,
        "White",
        "Seattle",
        "WA",
        "King",
        "Seattle Police Department",
        "WA0171900",
        "Yes",
        "Allegedly Armed",
    ),
]
FIXTURE_NAMES = [row[6] for row in WAPO_ROWS if row[6]] + [row[2] for row in MPV_ROWS]


def write_wapo(root: Path, rows=WAPO_ROWS, header=WAPO_HEADER) -> None:
    folder = root / "force"
    folder.mkdir(parents=True, exist_ok=True)
    with open(root / WAPO_FILE, "w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for id_, date, armed, city, county, state, name, age, race, mental, agencies in rows:
            record = {
                "id": id_,
                "date": date,
                "threat_type": "point",
                "flee_status": "not",
                "armed_with": armed,
                "city": city,
                "county": county,
                "state": state,
                "latitude": "38.7",
                "longitude": "-90.3",
                "location_precision": "not_available",
                "name": name,
                "age": age,
                "gender": "male",
                "race": race,
                "race_source": "not_available",
                "was_mental_illness_related": mental,
                "body_camera": "False",
                "agency_ids": agencies,
            }
            writer.writerow([record.get(column, "") for column in header])
    with open(root / AGENCIES_FILE, "w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(["id", "name", "type", "state", "oricodes", "total_shootings"])
        writer.writerows(AGENCIES)


def write_mpv(root: Path, rows=MPV_ROWS, header=MPV_HEADER) -> None:
    (root / "force").mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = ff.MPV_SHEET
    sheet.append(header)
    for mpv_id, date, name, age, race, city, state, county, agency, ori, mental, armed in rows:
        record = {
            "Victim's name": name,
            ff.MPV_AGE: age,
            "Victim's gender": "Male",
            ff.MPV_RACE: race,
            "URL of image of victim": f"https://example.org/{name.replace(' ', '-')}.jpg",
            ff.MPV_DATE: date,
            "Street Address of Incident": "1 Main St",
            "City": city,
            "State": state,
            "Zipcode": 63135,
            "County": county,
            ff.MPV_AGENCY: agency,
            ff.MPV_ORI: ori,
            "Cause of death": "Gunshot",
            "A brief description of the circumstances surrounding the death": f"{name} was shot.",
            ff.MPV_MENTAL: mental,
            ff.MPV_ARMED: armed,
            ff.MPV_WAPO_ID: None,
            ff.MPV_ID: mpv_id,
        }
        sheet.append([record.get(column) for column in header])
    workbook.create_sheet("2013-2019 Killings by PD").append(["State", "City", "PD"])
    workbook.save(root / MPV_FILE)


@pytest.fixture
def fixture_root(tmp_path) -> Path:
    write_wapo(tmp_path)
    write_mpv(tmp_path)
    return tmp_path


@pytest.fixture
def cleaned(fixture_root):
    log = MissingnessLog()
    raw = ff.load_raw(raw_root=fixture_root)
    return ff.clean(raw, log), log, raw


def row(table: pd.DataFrame, incident_id: str) -> dict:
    match = table[table["incident_id"].eq(incident_id)]
    assert len(match) == 1, incident_id
    return match.iloc[0].to_dict()


# ---------------------------------------------------------------------------------------------
# Fixture tests
# ---------------------------------------------------------------------------------------------


def test_only_missouri_incidents_from_both_sources(cleaned):
    table, _, _ = cleaned
    assert list(table["incident_id"]) == [
        "mpv-100",
        "mpv-101",
        "wapo-1",
        "mpv-102",
        "wapo-2",
        "mpv-103",
        "wapo-5",
        "wapo-3",
        "wapo-6",
    ]
    assert list(table.columns) == list(ff.COLUMNS)
    assert table["incident_id"].is_unique


def test_wapo_fields(cleaned):
    table, _, _ = cleaned
    ferguson = row(table, "wapo-1")
    assert ferguson["date"] == pd.Timestamp("2015-03-01") and ferguson["year"] == 2015
    assert (ferguson["race"], ferguson["age_group"], ferguson["armed_status"]) == ("black", "<18", "unarmed")
    assert bool(ferguson["mental_illness"]) is True
    assert (ferguson["agency_names"], ferguson["agency_oris"], ferguson["agency_slugs"]) == (
        "Ferguson Police Department",
        "MO09528",
        "ferguson",
    )
    assert ferguson["in_st_louis_county"]

    blank = row(table, "wapo-2")
    assert (blank["race"], blank["age_group"], blank["armed_status"]) == ("unknown", "unknown", "unknown")
    assert blank["agency_names"] == "St. Louis County Police Department;Some Federal Task Force"
    assert blank["agency_oris"] == "MO09500"
    assert blank["agency_slugs"] == "st-louis-county"
    # The county field places it in the City of St. Louis; that outranks the agency's ORI.
    assert not blank["in_st_louis_county"]
    assert blank["county"] == "St. Louis City"

    several = row(table, "wapo-3")
    assert (several["race"], several["age_group"], several["armed_status"]) == ("hispanic", "55+", "armed")
    assert several["agency_slugs"] == "" and not several["in_st_louis_county"]

    by_name = row(table, "wapo-5")
    assert by_name["agency_oris"] == "" and by_name["agency_slugs"] == "florissant"
    assert by_name["armed_status"] == "undetermined" and by_name["in_st_louis_county"]
    assert pd.isna(by_name["county"])


def test_mpv_fields(cleaned):
    table, _, _ = cleaned
    brown = row(table, "mpv-100")
    assert (brown["date"], brown["race"], brown["age_group"]) == (pd.Timestamp("2014-08-09"), "black", "18-24")
    assert brown["mental_illness"] == False and brown["armed_status"] == "unarmed"  # noqa: E712
    assert (brown["agency_oris"], brown["agency_slugs"], brown["in_st_louis_county"]) == ("MO0952800", "ferguson", True)

    franklin = row(table, "mpv-101")
    assert franklin["agency_names"] == "St. Louis County Police Department;Franklin County Sheriff's Office"
    assert franklin["agency_slugs"] == "st-louis-county"
    assert not franklin["in_st_louis_county"]  # the county field names Franklin County
    assert (franklin["race"], franklin["age_group"], franklin["armed_status"]) == ("unknown", "unknown", "undetermined")
    assert pd.isna(franklin["mental_illness"])

    ucity = row(table, "mpv-102")
    assert (ucity["race"], ucity["age_group"], ucity["armed_status"]) == ("other", "unknown", "armed")
    assert ucity["mental_illness"] == False  # noqa: E712  "Drug or alcohol use" is not mental illness
    assert ucity["in_st_louis_county"]  # a county municipality despite county 'St. Louis City'

    kansas = row(table, "mpv-103")
    assert kansas["agency_names"] == "Kansas City, KS Police Department"
    assert kansas["agency_oris"] == "" and kansas["age_group"] == "55+"


def test_gaps_are_logged_not_zeroed(cleaned):
    _, log, _ = cleaned
    frame = log.to_frame()
    logged = set(zip(frame["key"], frame["column"], strict=True))
    assert {
        ("wapo-2", "race"),
        ("wapo-2", "age_group"),
        ("wapo-2", "armed_status"),
        ("mpv-101", "race"),
        ("mpv-101", "age_group"),
        ("mpv-101", "mental_illness"),
        ("mpv-102", "age_group"),
        ("wapo-6", "agency_names"),
        ("mpv-103", "agency_oris"),
    } <= logged
    assert frame.loc[frame["key"].eq("mpv-102") & frame["column"].eq("age_group"), "raw_value"].item() == "40s"
    assert not any(key.startswith(("wapo-4", "mpv-104")) for key in frame["key"])  # out of state: not logged


def test_no_names_anywhere(cleaned, tmp_path):
    table, log, _ = cleaned
    out = tmp_path / "fatal_force.csv"
    table.to_csv(out, index=False)
    text = out.read_text() + log.to_frame().to_csv(index=False)
    for name in FIXTURE_NAMES:
        assert name not in text
        assert name.split()[0] not in text  # not even a first name
    assert not any("name" in column and column != "agency_names" for column in table.columns)


def test_us_summary(fixture_root):
    raw = ff.load_raw(raw_root=fixture_root)
    summary = ff.us_summary(raw, MissingnessLog()).set_index(["source", "state", "year"])
    assert summary.loc[("wapo", "US", 2020)].to_dict() == {
        "incidents": 1,
        "mental_illness_yes": 1,
        "mental_illness_known": 1,
        "unarmed": 0,
        "black": 0,
        "complete_year": True,
        "small_cell": True,
    }
    assert ("wapo", "MO", 2020) not in summary.index
    assert summary.loc[("mpv", "US", 2015), "mental_illness_known"] == 0
    assert summary.loc[("mpv", "MO", 2014), "unarmed"] == 1 and summary.loc[("mpv", "MO", 2014), "black"] == 1
    assert not summary.loc[("wapo", "MO", 2022), "complete_year"]  # the last year of the wapo fixture
    assert summary.loc[("wapo", "US")]["incidents"].sum() == len(WAPO_ROWS)


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


def test_raw_schema_names_file_and_dropped_column(tmp_path):
    header = [c for c in WAPO_HEADER if c != "race"]
    write_wapo(tmp_path, header=header)
    write_mpv(tmp_path)
    with pytest.raises(SchemaValidationError) as error:
        ff.load_raw(raw_root=tmp_path)
    assert WAPO_FILE in str(error.value) and "'race'" in str(error.value)


def test_raw_schema_rejects_text_in_numeric_columns(tmp_path):
    rows = [WAPO_ROWS[0][:7] + ("about forty",) + WAPO_ROWS[0][8:]]
    write_wapo(tmp_path, rows=rows)
    write_mpv(tmp_path)
    with pytest.raises(SchemaValidationError) as error:
        ff.load_raw(raw_root=tmp_path)
    assert WAPO_FILE in str(error.value) and "'age'" in str(error.value) and "about forty" in str(error.value)

    write_wapo(tmp_path)
    write_mpv(tmp_path, rows=[("one hundred",) + MPV_ROWS[0][1:]])
    with pytest.raises(SchemaValidationError) as error:
        ff.load_raw(raw_root=tmp_path)
    assert MPV_FILE in str(error.value) and "'MPV ID'" in str(error.value)


def test_processed_schema_rejects_a_dropped_column(cleaned):
    table, _, _ = cleaned
    with pytest.raises(SchemaValidationError) as error:
        ff.validate(table.drop(columns="race"), ff.PROCESSED_SCHEMA, "fatal_force.csv")
    assert "fatal_force.csv" in str(error.value) and "race" in str(error.value)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


PEERS = {"ferguson", "florissant", "jennings"}


@pytest.mark.parametrize(
    ("city", "county", "oris", "expected"),
    [
        ("Ferguson", None, [], True),  # crosswalk municipality
        ("St. Louis", None, ["MO09500"], True),  # county police, no county field
        ("St. Louis", "St. Louis City", ["MO09500"], False),  # explicit county field wins
        ("University City", "St. Louis City", ["MO0957300"], True),  # a municipality mislabelled as the City
        ("St. Louis", "St. Louis", ["MOSPD0000"], False),  # MPV's county for the Metropolitan Police
        ("Affton", "St .Louis", [], True),  # county 'St. Louis' and a city other than St. Louis
        ("Robertsville", "Franklin", ["MO0950000"], False),
        ("Saint Louis", "Saint Louis City", [], False),
        ("Florissant", "St. Louis County", [], True),
        ("Kansas City", "Jackson", ["MOKPD00"], False),
    ],
)
def test_in_st_louis_county(city, county, oris, expected):
    assert ff.in_st_louis_county(city, county, oris, PEERS) is expected


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=120))
def test_age_group_contains_the_age(age):
    group = ff.age_group(age)
    assert group == ff.age_group(str(age)) == ff.age_group(float(age))
    if group == "<18":
        assert age < 18
    elif group == "55+":
        assert age >= 55
    else:
        low, high = map(int, group.split("-"))
        assert low <= age <= high


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.text(max_size=6), st.none(), st.floats(allow_nan=True)))
def test_age_group_never_fails(value):
    assert ff.age_group(value) in ff.AGE_GROUPS


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from("WBHANO"), max_size=4))
def test_wapo_race_is_a_known_category(codes):
    race = ff.wapo_race(";".join(codes))
    assert race in ff.RACES
    assert (race == "unknown") == (not codes)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(sorted(ff.WAPO_WEAPONS | {"unarmed", "undetermined"})), max_size=3))
def test_wapo_armed_is_a_known_status(tokens):
    status = ff.wapo_armed(";".join(tokens))
    assert status in ff.ARMED_STATUSES
    if set(tokens) & ff.WAPO_WEAPONS:
        assert status == "armed"


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"MO[0-9A-Z]{5}", fullmatch=True))
def test_normalise_ori_reads_nine_character_forms(ori):
    assert ff.normalise_ori(ori + "00") == ff.normalise_ori(ori) == ori


# ---------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------


@dataclass(repr=False)  # a failing test must not print the raw files, which hold names
class Real:
    table: pd.DataFrame
    summary: pd.DataFrame
    raw_root: Path
    raw: ff.FatalForceRaw

    def __iter__(self):
        return iter((self.table, self.summary, self.raw_root, self.raw))


@pytest.fixture(scope="module")
def real(request) -> Real:
    raw_root = request.getfixturevalue("raw_data")
    if not (raw_root / MPV_FILE).is_file():
        pytest.skip("data/raw/force is missing: run `make data` first")
    raw = ff.load_raw()
    log = MissingnessLog()
    return Real(ff.clean(raw, log), ff.us_summary(raw, log), raw_root, raw)


def test_real_missouri_counts_by_source_and_year(real):
    table, _, _, _ = real
    counts = table.groupby(["source", "year"]).size()
    assert counts["mpv"].to_dict() == {2013: 30, 2014: 26, 2015: 22, 2016: 23, 2017: 35, 2018: 26, 2019: 35, 2020: 29}
    assert counts["wapo"].to_dict() == {
        2015: 21,
        2016: 21,
        2017: 31,
        2018: 24,
        2019: 28,
        2020: 25,
        2021: 31,
        2022: 29,
        2023: 27,
        2024: 6,
    }


def test_real_ferguson_and_county(real):
    table, _, _, _ = real
    ferguson = table[table["city"].eq("Ferguson") | table["agency_slugs"].str.contains("ferguson")]
    assert list(ferguson["incident_id"]) == ["mpv-1745", "wapo-7427", "wapo-7654"]
    assert row(table, "mpv-1745")["agency_slugs"] == "ferguson"
    assert ferguson["in_st_louis_county"].all()
    county = table[table["in_st_louis_county"]].groupby("source").size().to_dict()
    assert county == {"mpv": 30, "wapo": 18}


def test_real_pass_through_against_raw_csv(real):
    table, _, raw_root, _ = real
    with open(raw_root / WAPO_FILE, newline="", encoding="utf-8") as fh:
        missouri = [r for r in csv.DictReader(fh) if r["state"] == "MO"]
    processed = table[table["source"].eq("wapo")].set_index("incident_id")
    assert len(missouri) == len(processed) == 243
    for record in missouri:
        mine = processed.loc[f"wapo-{record['id']}"]
        assert mine["date"] == pd.Timestamp(record["date"])
        assert (mine["city"] if pd.notna(mine["city"]) else "") == record["city"].strip()
        assert mine["mental_illness"] == (record["was_mental_illness_related"] == "True")


def test_real_no_names_in_processed_table(real, tmp_path):
    table, summary, raw_root, raw = real
    with open(raw_root / WAPO_FILE, newline="", encoding="utf-8") as fh:
        names = {r["name"].strip() for r in csv.DictReader(fh) if r["state"] == "MO"}
    names |= {str(n).strip() for n in raw.mpv.query("State == 'MO'")["Victim's name"].dropna()}
    names.discard("")
    cells = set()
    for column in table.columns:
        if table[column].dtype == "str":
            cells |= set(table[column].dropna())
    text = table.to_csv(index=False) + summary.to_csv(index=False)
    assert not names & cells
    assert [n for n in names if " " in n and n in text] == []


def test_real_mental_illness_coding_break(real):
    _, summary, _, _ = real
    wapo_us = summary[summary["source"].eq("wapo") & summary["state"].eq("US")].set_index("year")
    share = wapo_us["mental_illness_yes"] / wapo_us["mental_illness_known"]
    assert share.loc[2015:2020].min() > 0.21 and share.loc[2021:2023].max() < 0.15
    assert wapo_us.loc[2015, "mental_illness_yes"] == 261 and wapo_us.loc[2015, "incidents"] == 995
    mpv_us = summary[summary["source"].eq("mpv") & summary["state"].eq("US")].set_index("year")
    assert mpv_us["incidents"].sum() == 8392
