"""The BLS OEWS source: keys, kept areas and occupations, unreleased and top-coded values, the mirror's values."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from helpers import clean_source

from heartbeats_analysis.ingest.sources import bls_oews
from heartbeats_analysis.ingest.sources.base import SchemaValidationError, validate
from heartbeats_analysis.paths import raw_dir

VALUE_COLUMNS = [f"v{i:02d}" for i in range(1, 18)]
FOOTNOTE_COLUMNS = [f"f{i:02d}" for i in range(1, 18)]


def cell(key: str, employment: str, annual: dict[str, str], footnote: str | None = None) -> tuple:
    values = dict.fromkeys(VALUE_COLUMNS, None)
    values["v01"] = employment
    values.update(annual)
    notes = dict.fromkeys(FOOTNOTE_COLUMNS, footnote if footnote else None)
    return (key, *values.values(), *notes.values())


def write(root: Path, cells: list[tuple]) -> Path:
    database = root / "oews.sqlite"
    with sqlite3.connect(database) as con:
        columns = ", ".join(f"{c} TEXT" for c in VALUE_COLUMNS + FOOTNOTE_COLUMNS)
        con.execute(f"CREATE TABLE cell (key TEXT PRIMARY KEY, {columns})")
        con.execute("CREATE TABLE area (area_code TEXT, areatype_code TEXT, state_code TEXT, area_name TEXT)")
        con.execute("CREATE TABLE occupation (occupation_code TEXT, occupation_name TEXT, display_level INTEGER)")
        con.executemany(
            "INSERT INTO area VALUES (?, ?, ?, ?)",
            [
                ("0041180", "M", "29", "St. Louis, MO-IL"),
                ("2900000", "S", "29", "Missouri"),
                ("0000000", "N", "00", "National"),
                ("0028140", "M", "29", "Kansas City, MO-KS"),
            ],
        )
        con.executemany(
            "INSERT INTO occupation VALUES (?, ?, 3)",
            [
                ("333051", "Police and Sheriff's Patrol Officers"),
                ("211021", "Child, Family, and School Social Workers"),
            ],
        )
        con.executemany(f"INSERT INTO cell VALUES ({', '.join('?' * 35)})", cells)
    target = root / "bls" / "oews-2025.sqlite.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    with database.open("rb") as source, gzip.open(target, "wb") as out:
        out.write(source.read())
    database.unlink()
    return target


ST_LOUIS_PATROL = {"v04": "71720", "v11": "48540", "v12": "60460", "v13": "73240", "v14": "79800", "v15": "92490"}
CELLS = [
    cell("OEUM0041180000000333051", "5950", ST_LOUIS_PATROL),
    cell(
        "OEUM0041180000000211021",
        "3790",
        {"v04": "57370", "v11": "41980", "v12": "47020", "v13": "51080", "v14": "61000", "v15": "#"},
    ),
    cell("OEUS2900000000000333051", "-", dict.fromkeys(ST_LOUIS_PATROL, "-"), footnote="8"),
    # another metro and another industry: not kept
    cell("OEUM0028140000000333051", "4000", ST_LOUIS_PATROL),
    cell("OEUM0041180000001333051", "100", ST_LOUIS_PATROL),
]


def test_keeps_the_three_areas_all_industries_and_the_four_occupations(tmp_path: Path) -> None:
    write(tmp_path, CELLS)
    table, log = clean_source(bls_oews, tmp_path)
    assert list(table.columns) == list(bls_oews.COLUMNS)
    assert set(zip(table["area_code"], table["occupation_code"], strict=True)) == {
        ("0041180", "33-3051"),
        ("0041180", "21-1021"),
        ("2900000", "33-3051"),
    }
    patrol = table[(table["area_code"] == "0041180") & (table["occupation_code"] == "33-3051")]
    assert dict(zip(patrol["statistic"], patrol["annual_wage"], strict=True)) == {
        "annual_mean": 71720,
        "annual_p10": 48540,
        "annual_p25": 60460,
        "annual_median": 73240,
        "annual_p75": 79800,
        "annual_p90": 92490,
    }
    assert patrol["employment"].eq(5950).all()
    assert table["area_level"].tolist()[:6] == ["metro"] * 6
    # 6 published-but-missing Missouri values (+ employment) and one top-coded p90 are logged;
    # 3 areas x 4 occupations - 3 published = 9 absent cells are logged as rows without an estimate
    assert (log["reason"] == "not released by BLS").sum() == 6
    assert (log["reason"] == "no estimate published by BLS").sum() == 9
    top = log[log["reason"].str.startswith("top-coded")]
    assert top[["column", "raw_value"]].values.tolist() == [["annual_p90", "#"]]


def test_unreleased_and_top_coded_values_are_missing_never_zero(tmp_path: Path) -> None:
    write(tmp_path, CELLS)
    table, _ = clean_source(bls_oews, tmp_path)
    missouri = table[table["area_code"] == "2900000"]
    assert missouri["annual_wage"].isna().all() and missouri["employment"].isna().all()
    p90 = table[(table["occupation_code"] == "21-1021") & (table["statistic"] == "annual_p90")].iloc[0]
    assert pd.isna(p90["annual_wage"]) and bool(p90["top_coded"])
    assert not (table["annual_wage"].fillna(1) == 0).any()


def test_cell_key_layout() -> None:
    assert bls_oews.cell_key("0041180", "333051") == "OEUM0041180000000333051"
    assert bls_oews.cell_key("0000000", "211023") == "OEUN0000000000000211023"
    assert bls_oews.cell_key("2900000", "211022") == "OEUS2900000000000211022"


def test_processed_schema_rejects_text_wages_and_zero_wages(tmp_path: Path) -> None:
    write(tmp_path, CELLS)
    table, _ = clean_source(bls_oews, tmp_path)
    broken = table.astype({"annual_wage": object})
    broken.loc[0, "annual_wage"] = "n/a"
    with pytest.raises(SchemaValidationError, match="annual_wage"):
        validate(broken, bls_oews.PROCESSED_SCHEMA, "occupation_wages.csv")
    zero = table.copy()
    zero.loc[0, "annual_wage"] = 0
    with pytest.raises(SchemaValidationError, match="annual_wage"):
        validate(zero, bls_oews.PROCESSED_SCHEMA, "occupation_wages.csv")


@pytest.mark.skipif(not (raw_dir() / bls_oews.RAW_FILE).exists(), reason="OEWS raw file not fetched")
def test_the_mirror_file_gives_the_published_st_louis_percentiles() -> None:
    table, log = clean_source(bls_oews)
    metro = table[table["area_code"] == "0041180"].pivot(
        index="occupation_code", columns="statistic", values="annual_wage"
    )
    expected = {
        "33-3051": (48540, 60460, 73240),
        "21-1021": (41980, 47020, 51080),
        "21-1022": (40400, 48530, 62200),
        "21-1023": (37270, 43420, 49520),
    }
    for occupation, values in expected.items():
        assert tuple(metro.loc[occupation, ["annual_p10", "annual_p25", "annual_median"]]) == values
    assert len(table) == 3 * 4 * 6
    assert log.empty
