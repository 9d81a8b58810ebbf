"""St. Louis County Police Department use-of-force records, 2018 to April 2021 (the county's open-data
portal, since removed, archived by OpenPoliceData).

The raw file has one row per officer and force record: an incident (``BPSno``, e.g. ``UOF19-023``) with
two officers, or one officer using two kinds of force, has several rows. 296 rows repeat another row
exactly; they carry no information and are dropped (the missingness log counts them). Rows that differ in
any field are kept, so the processed table is one row per distinct officer x force record and every count
of incidents counts distinct ``incident_id`` values.

Harmonised fields
-----------------
year
    The year the force OCCURRED (``OccurredDate``). The raw ``Year`` is the year the report was received
    (22 rows differ, e.g. force on 2018-12-27 reported in 2019), and the BPS number's year prefix differs
    again. Force before 2018 is in the file only when reported in 2018 or later: those years are partial.
subject_race
    black, white, hispanic, other (Bosnian, Native American, Asian...) or <NA> for 'Unknown' and 'Not
    Specified'. 'Dog- Not Citizen' rows record force on an animal: ``subject_is_person`` is False and the
    person fields are <NA>.
subject_age_group, subject_sex, officer_years_employed
    As published (bands), 'Unknown' and 'Not Specified' becoming <NA>.
force_type
    As published (Physical Restraint, Taser, Physical (Striking), Pepper Spray, Canine, Firearm, Less
    Lethal, Baton, Other); 'Not Specified' becomes <NA>.
subject_injury
    none, minor, serious, fatal, k9_bite or <NA> ('Not Specified').
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    finish_table,
    raw_root_dir,
    read_raw_csv,
)

TABLE_NAME = "stl_county_force"
RAW_KEY = "force_missouri_st_louis_county_use_of_force_multiple"
MISSING_TEXT = ("", "Unknown", "Not Specified")
ANIMAL = "Dog- Not Citizen"
RACES = ("black", "white", "hispanic", "other")
RACE_CODES = {"Black": "black", "White": "white", "Hispanic": "hispanic"}
INJURY_CODES = {
    "No injuries noted or visible": "none",
    "Minor Injury": "minor",
    "Serious Injury": "serious",
    "Fatal": "fatal",
    "K-9 bite wound": "k9_bite",
}
FORCE_TYPES = (
    "Physical Restraint",
    "Taser",
    "Physical (Striking)",
    "Pepper Spray",
    "Canine",
    "Firearm",
    "Less Lethal",
    "Baton",
    "Other",
)

RAW_COLUMNS = [
    "BPSno",
    "OccurredDate",
    "OfficerAge",
    "OfficerYearsEmployed",
    "OfficerAssignment",
    "CitizenAge",
    "CitizenRace",
    "CitizenSex",
    "OfficerRace",
    "OfficerSex",
    "ReportNumber",
    "ReceivedDate",
    "Month",
    "Year",
    "OfficerDivision",
    "CitizenInjury",
    "ForceEffective",
    "Active Resistance",
    "Physical Aggression",
    "Non Compliance",
    "Deadly Weapon",
    "Assault",
    "Fleeing",
    "Passive Resistance",
    "Not Noted",
    "OfficerInjury",
    "ForceType",
]
_DATE = pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")
RAW_SCHEMA = pa.DataFrameSchema(
    {
        **{c: pa.Column(str) for c in RAW_COLUMNS},
        "BPSno": pa.Column(str, pa.Check.str_matches(r"^UOF\d{2}-\d+$")),
        "OccurredDate": pa.Column(str, _DATE),
        "ReceivedDate": pa.Column(str, _DATE),
        "Year": pa.Column(str, pa.Check.str_matches(r"^20\d{2}$")),
        "CitizenInjury": pa.Column(str, pa.Check.isin([*INJURY_CODES, *MISSING_TEXT])),
        "ForceType": pa.Column(str, pa.Check.isin([*FORCE_TYPES, *MISSING_TEXT])),
    },
    name="stl_county_use_of_force_raw",
)

PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "incident_id": pa.Column(str, pa.Check.str_matches(r"^UOF\d{2}-\d+$")),
        "occurred_date": pa.Column("datetime64[ns]"),
        "year": pa.Column("int64", pa.Check.in_range(2010, 2030)),
        "subject_is_person": pa.Column(bool),
        "subject_race": pa.Column(str, pa.Check.isin(RACES), nullable=True),
        "subject_sex": pa.Column(str, pa.Check.isin(["Male", "Female"]), nullable=True),
        "subject_age_group": pa.Column(str, nullable=True),
        "force_type": pa.Column(str, pa.Check.isin(FORCE_TYPES), nullable=True),
        "subject_injury": pa.Column(str, pa.Check.isin(list(INJURY_CODES.values())), nullable=True),
        "officer_years_employed": pa.Column(str, nullable=True),
    },
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

COLUMNS = {
    "incident_id": "Incident number (BPSno); an incident has one row per officer and force record: count distinct ids",
    "occurred_date": "Date the force was used",
    "year": "Year the force was used (years before 2018 hold only force reported from 2018; 2021 ends in April)",
    "subject_is_person": "False for force recorded against an animal ('Dog- Not Citizen')",
    "subject_race": "black, white, hispanic or other as the officer recorded it; blank when unknown or not specified",
    "subject_sex": "Male or Female; blank when unknown or not specified",
    "subject_age_group": "Age band as published (11-19, 20-29 ...); blank when unknown or not specified",
    "force_type": "Kind of force as published; blank when not specified",
    "subject_injury": "none, minor, serious, fatal or k9_bite; blank when not specified",
    "officer_years_employed": "Officer's tenure band as published; blank when not specified",
}


def load_raw(raw_root: Path | None = None) -> pd.DataFrame:
    file = registry.get(RAW_KEY).path
    return read_raw_csv(raw_root_dir(raw_root), file, RAW_SCHEMA)


def _text(series: pd.Series) -> pd.Series:
    return series.where(~series.isin(MISSING_TEXT)).astype("str").where(~series.isin(MISSING_TEXT), None)


def clean(raw: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    duplicates = int(raw.duplicated().sum())
    if duplicates:
        log.add(TABLE_NAME, "*", "*", f"{duplicates} raw rows repeat another row exactly and were dropped")
    rows = raw.drop_duplicates().reset_index(drop=True)
    person = rows["CitizenRace"].ne(ANIMAL)
    race = rows["CitizenRace"].map(lambda r: RACE_CODES.get(r, None if r in MISSING_TEXT else "other"))
    table = pd.DataFrame(
        {
            "incident_id": rows["BPSno"],
            "occurred_date": pd.to_datetime(rows["OccurredDate"], format="%Y-%m-%d").astype("datetime64[ns]"),
            "subject_is_person": person,
            "subject_race": race.where(person, None),
            "subject_sex": _text(rows["CitizenSex"]).where(person, None),
            "subject_age_group": _text(rows["CitizenAge"]).where(person, None),
            "force_type": _text(rows["ForceType"]),
            "subject_injury": rows["CitizenInjury"].map(INJURY_CODES),
            "officer_years_employed": _text(rows["OfficerYearsEmployed"]),
        }
    )
    table["year"] = table["occurred_date"].dt.year.astype("int64")
    for column in ("subject_race", "force_type", "subject_injury"):
        gaps = int((table[column].isna() & table["subject_is_person"]).sum())
        if gaps:
            log.add(TABLE_NAME, "*", column, f"{gaps} rows 'Unknown' or 'Not Specified' in the raw file")
    table = table.astype({"subject_race": object, "subject_injury": object})
    return finish_table(table, PROCESSED_SCHEMA, ["occurred_date", "incident_id", "force_type"])
