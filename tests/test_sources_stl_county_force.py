"""St. Louis County Police use of force: duplicates dropped, incidents by BPSno, gaps missing, real totals."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from heartbeats_analysis.ingest.sources import stl_county_force as S
from heartbeats_analysis.ingest.sources.base import MissingnessLog, SchemaValidationError

FILE = "force/Missouri_St._Louis_County_USE_OF_FORCE_MULTIPLE.csv"


def row(bps, occurred, received, race, force_type, injury="Minor Injury", tenure="0-5 yrs", sex="Male", age="20-29"):
    values = dict.fromkeys(S.RAW_COLUMNS, "0")
    values.update(
        BPSno=bps,
        OccurredDate=occurred,
        ReceivedDate=received,
        Year=received[:4],
        Month=str(int(received[5:7])),
        CitizenRace=race,
        ForceType=force_type,
        CitizenInjury=injury,
        OfficerYearsEmployed=tenure,
        CitizenSex=sex,
        CitizenAge=age,
        ReportNumber="18-1",
    )
    return values


ROWS = [
    row("UOF18-001", "2018-01-10", "2018-01-10", "Black", "Taser"),
    row("UOF18-001", "2018-01-10", "2018-01-10", "Black", "Taser"),  # exact duplicate
    row("UOF18-001", "2018-01-10", "2018-01-10", "Black", "Physical Restraint", tenure="6-10 yrs"),
    row("UOF19-002", "2018-12-27", "2019-01-02", "Bosnian", "Canine", injury="K-9 bite wound"),
    row("UOF19-003", "2019-03-01", "2019-03-01", "Not Specified", "Not Specified", injury="Not Specified"),
    row("UOF19-004", "2019-04-01", "2019-04-01", "Dog- Not Citizen", "Firearm", sex="Dog- Not Citizen"),
]


def write(root: Path, rows) -> Path:
    path = root / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=S.RAW_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture
def cleaned(tmp_path):
    log = MissingnessLog()
    return S.clean(S.load_raw(write(tmp_path, ROWS)), log), log


def test_duplicates_dropped_and_logged(cleaned):
    table, log = cleaned
    assert len(table) == 5 and table["incident_id"].nunique() == 4
    assert any("1 raw rows repeat another row exactly" in r["reason"] for r in log.rows)
    assert list(table.columns) == list(S.COLUMNS)


def test_year_is_when_force_occurred(cleaned):
    table, _ = cleaned
    assert table.set_index("incident_id").loc["UOF19-002", "year"] == 2018  # reported in 2019


def test_harmonised_fields_and_gaps(cleaned):
    table, log = cleaned
    by_id = table.drop_duplicates("incident_id").set_index("incident_id")
    assert by_id.loc["UOF18-001", "subject_race"] == "black"
    assert by_id.loc["UOF19-002", "subject_race"] == "other"
    assert by_id.loc["UOF19-002", "subject_injury"] == "k9_bite"
    assert pd.isna(by_id.loc["UOF19-003", "subject_race"]) and pd.isna(by_id.loc["UOF19-003", "force_type"])
    assert pd.isna(by_id.loc["UOF19-003", "subject_injury"])
    dog = by_id.loc["UOF19-004"]
    assert not dog["subject_is_person"] and pd.isna(dog["subject_race"]) and pd.isna(dog["subject_sex"])
    assert any(r["column"] == "subject_race" and r["reason"].startswith("1 rows") for r in log.rows)


def test_unknown_force_type_is_rejected(tmp_path):
    rows = [row("UOF18-001", "2018-01-10", "2018-01-10", "Black", "Sword")]
    with pytest.raises(SchemaValidationError, match="ForceType"):
        S.load_raw(write(tmp_path, rows))


def test_bad_incident_number_is_rejected(tmp_path):
    rows = [row("18-001", "2018-01-10", "2018-01-10", "Black", "Taser")]
    with pytest.raises(SchemaValidationError, match="BPSno"):
        S.load_raw(write(tmp_path, rows))


def test_real_file(raw_data):
    if not (raw_data / FILE).is_file():
        pytest.skip("county force file not fetched")
    log = MissingnessLog()
    raw = S.load_raw(raw_data)
    table = S.clean(raw, log)
    assert len(raw) == 2102 and len(table) == 2102 - 296
    assert table["incident_id"].nunique() == 859
    per_year = table.groupby("year")["incident_id"].nunique().to_dict()
    assert (per_year[2018], per_year[2019], per_year[2020], per_year[2021]) == (291, 266, 234, 66)
