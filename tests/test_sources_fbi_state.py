"""The FBI state estimates source: Missouri and US rows, rape definitions, schemas, pass-through."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from helpers import assert_processed_schema_names_column, clean_source, write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeats_analysis.ingest.sources import fbi_state
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
)
from heartbeats_analysis.paths import raw_dir

HEADER = (
    '"year","state_abbr","state_name","population","violent_crime","homicide","rape_legacy","rape_revised",'
    '"robbery","aggravated_assault","property_crime","burglary","larceny","motor_vehicle_theft","caveats"'
)
# Real rows: US and MO in 2012 (legacy rape), 2013 (MO total uses revised rape, US legacy), 2017
# (revised only), one other state, and the US 2001 caveat.
ROWS = [
    '2001,"","",285317559,1439480,16037,90863,,423557,909023,10437189,2116531,7092267,1228391,"The murder and '
    'nonnegligent homicides that occurred as a result of the events of September 11, 2001, are not included."',
    '2012,"","",313873685,1217057,14856,85141,,355051,762009,9001992,2109932,6168874,723186,""',
    '2012,"MO","Missouri",6024522,27189,390,1527,,5782,19490,199813,42510,140971,16332,""',
    '2013,"","",316497531,1168298,14319,82109,113695,345093,726777,8651892,1932139,6019465,700288,""',
    '2013,"MO","Missouri",6044917,26216,369,1679,2305,5486,18056,189655,38797,134514,16344,""',
    '2013,"MT","Montana",1015165,2461,23,326,430,169,1839,24882,4100,18916,1866,""',
    '2017,"MO","Missouri",6108612,32450,599,,2737,6362,22752,173380,30086,123356,19938,""',
]


def write(root: Path, rows: list[str] = ROWS) -> None:
    write_lines(root / "fbi" / "estimated_crimes_1979_2019.csv", [HEADER, *rows])


def clean(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return clean_source(fbi_state, root)


def test_keeps_missouri_and_the_us_total(tmp_path: Path) -> None:
    write(tmp_path)
    table, _ = clean(tmp_path)
    assert list(zip(table["state_abbr"], table["year"], strict=True)) == [
        ("MO", 2012),
        ("MO", 2013),
        ("MO", 2017),
        ("US", 2001),
        ("US", 2012),
        ("US", 2013),
    ]
    assert list(table.columns) == list(fbi_state.COLUMNS)
    us_2001 = table.iloc[3]
    assert us_2001["caveats"].startswith("The murder and nonnegligent homicides")
    assert us_2001["violent_per_1000"] == pytest.approx(1439480 / 285317559 * 1000)


def test_rape_follows_the_definition_in_the_published_total(tmp_path: Path) -> None:
    write(tmp_path)
    table, log = clean(tmp_path)
    rows = table.set_index(["state_abbr", "year"])
    assert rows.loc[("MO", 2012), ["rape", "rape_definition"]].tolist() == [1527, "legacy"]
    assert rows.loc[("MO", 2013), ["rape", "rape_definition"]].tolist() == [2305, "revised"]
    assert rows.loc[("US", 2013), ["rape", "rape_definition"]].tolist() == [82109, "legacy"]
    assert rows.loc[("MO", 2017), ["rape", "rape_definition"]].tolist() == [2737, "revised"]
    assert pd.isna(rows.loc[("MO", 2017), "rape_legacy"]) and pd.isna(rows.loc[("MO", 2012), "rape_revised"])
    for (state, year), group in rows.iterrows():
        assert group["violent"] == group[fbi_state.VIOLENT_PARTS].sum(), (state, year)
    assert set(log["column"]) == {"rape_legacy", "rape_revised"}
    assert len(log) == 1 + 3  # MO 2017 legacy; MO 2012, US 2001 and US 2012 revised


def test_rounded_totals_within_tolerance_pass_and_larger_differences_fail(tmp_path: Path) -> None:
    rounded = '1980,"","",225349264,1344520,23040,82990,,565840,672650,12063700,3795200,7136900,1131700,""'
    write(tmp_path, [rounded])  # the published property total is 100 above the sum of its parts
    assert clean(tmp_path)[0].loc[0, "property"] == 12063700
    write(tmp_path, [rounded.replace("12063700", "12163700")])
    with pytest.raises(SchemaValidationError, match="property is the sum"):
        clean(tmp_path)


def test_scientific_notation_and_duplicate_state_years(tmp_path: Path) -> None:
    write(tmp_path, [ROWS[2].replace("2012,", "2.012e3,", 1)])
    assert clean(tmp_path)[0]["year"].tolist() == [2012]
    write(tmp_path, [ROWS[2], ROWS[2]])
    with pytest.raises(SchemaValidationError, match=r"estimated_crimes_1979_2019\.csv"):
        fbi_state.load_raw(raw_root=tmp_path)


def test_raw_schema_names_file_and_dropped_column(tmp_path: Path) -> None:
    write(tmp_path)
    path = tmp_path / "fbi" / "estimated_crimes_1979_2019.csv"
    pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns="larceny").to_csv(path, index=False)
    with pytest.raises(SchemaValidationError) as error:
        fbi_state.load_raw(raw_root=tmp_path)
    assert "fbi/estimated_crimes_1979_2019.csv" in str(error.value) and "larceny" in str(error.value)


def test_raw_schema_names_file_column_and_text(tmp_path: Path) -> None:
    write(tmp_path, [ROWS[2].replace(",5782,", ",n/a,")])
    with pytest.raises(SchemaValidationError) as error:
        fbi_state.load_raw(raw_root=tmp_path)
    message = str(error.value)
    assert "fbi/estimated_crimes_1979_2019.csv" in message and "'robbery'" in message and "n/a" in message


def test_processed_schema_fails_on_dropped_column_and_text(tmp_path: Path) -> None:
    write(tmp_path)
    table, _ = clean(tmp_path)
    assert_processed_schema_names_column(
        table,
        fbi_state.PROCESSED_SCHEMA,
        "state_crime.csv",
        dropped="burglary",
        text_column="population",
        text="six million",
    )


@settings(max_examples=25, deadline=None)  # each example runs the full schema validation
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_rape_choice_always_makes_the_total_add_up(legacy: int, revised: int) -> None:
    others = {"homicide": 10, "robbery": 20, "aggravated_assault": 30}
    frame = pd.DataFrame(
        [
            {
                "year": "2014",
                "state_abbr": "MO",
                "state_name": "Missouri",
                "population": "1000",
                "violent_crime": str(sum(others.values()) + revised),
                **{k: str(v) for k, v in others.items()},
                "rape_legacy": str(legacy),
                "rape_revised": str(revised),
                "property_crime": "3",
                "burglary": "1",
                "larceny": "1",
                "motor_vehicle_theft": "1",
                "caveats": "",
            }
        ]
    )
    table = fbi_state.clean(frame, MissingnessLog())
    assert table.loc[0, "rape"] == revised and table.loc[0, "rape_definition"] == "revised"


# ---- the real raw file ------------------------------------------------------------------------

REAL = raw_dir() / fbi_state.RAW_FILE
needs_raw = pytest.mark.skipif(not REAL.is_file(), reason="data/raw/fbi estimates missing: run the fetch step first")


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return fbi_state.clean(fbi_state.load_raw(), MissingnessLog())


@needs_raw
@pytest.mark.parametrize(("state", "year"), [("MO", 1979), ("MO", 2014), ("MO", 2019), ("", 2010), ("", 2019)])
def test_passes_through(real: pd.DataFrame, state: str, year: int) -> None:
    with open(REAL, newline="", encoding="utf-8") as handle:
        source = next(r for r in csv.DictReader(handle) if r["state_abbr"] == state and r["year"] == str(year))
    processed = real.set_index(["state_abbr", "year"]).loc[(state or "US", year)]
    for raw_column in fbi_state.RAW_COUNTS:
        column = fbi_state.RENAMED.get(raw_column, raw_column)
        expected = int(source[raw_column]) if source[raw_column] else None
        assert (pd.isna(processed[column]) and expected is None) or processed[column] == expected, column


@needs_raw
def test_full_raw_data(real: pd.DataFrame) -> None:
    assert len(real) == 2 * 41 and set(real["state_abbr"]) == {"MO", "US"}
    assert real["year"].min() == 1979 and real["year"].max() == 2019
    definitions = real.groupby(["state_abbr", "rape_definition"])["year"].agg(["min", "max"])
    assert definitions.loc[("MO", "revised")].tolist() == [2013, 2019]
    assert definitions.loc[("US", "legacy")].tolist() == [1979, 2015]
    mo_2019 = real.set_index(["state_abbr", "year"]).loc[("MO", 2019)]
    assert mo_2019["violent_per_1000"] == pytest.approx(30380 / 6137428 * 1000)
