"""The UCR police employees source: zero-employee gaps, schemas, Ferguson pass-through."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from helpers import assert_processed_schema_names_column, clean_source, write_lines
from hypothesis import given
from hypothesis import strategies as st

from heartbeats_analysis.ingest.sources import ucr_police
from heartbeats_analysis.ingest.sources.base import SchemaValidationError
from heartbeats_analysis.ingest.sources.ucr_common import _valid_together, per_1000
from heartbeats_analysis.paths import raw_dir

FERGUSON = "Missouri_Ferguson_Police_Department"
HEADER = (
    "agency,year,state,population,ORI,female_employees_civilians,female_employees_officers,female_employees_total,"
    "male_employees_civilians,male_employees_officers,male_employees_total,total_employees_civilians,"
    "total_employees_officers,total_employees_total,officers_killed_by_accident,total_assaults_total"
)


def write(
    root: Path, rows: list[str], stem: str = FERGUSON, agency: str = "Ferguson Police Department", ori: str = "MO09528"
) -> None:
    """Rows are 'year,population,officers,civilians' (blank officers and civilians for an empty row);
    all officers are counted as men and all civilians as women so that the sex breakdown adds up."""
    lines = [HEADER]
    for line in rows:
        year, population, officers, civilians = line.split(",")
        if officers == civilians == "":
            lines.append(f"{agency},{year},Missouri,{population},{ori}" + "," * 11)
            continue
        total = int(float(officers)) + int(float(civilians))
        lines.append(
            f"{agency},{year},Missouri,{population},{ori},{civilians},0,{civilians},0,{officers},{officers},"
            f"{civilians},{officers},{total},0,NA"
        )
    write_lines(root / "ucr" / "police" / f"{stem}.csv", lines)


def clean(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return clean_source(ucr_police, root)


def by_year(table: pd.DataFrame, slug: str = "ferguson") -> pd.DataFrame:
    return table[table["agency_slug"] == slug].set_index("year")


# ---- fixtures covering the quirks -------------------------------------------------------------


def test_zero_employee_year_between_reports_is_missing_and_logged(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8", "2019,20664,0,0", "2020,20454,34,5"])
    table, log = clean(tmp_path)
    years = by_year(table)
    assert years.loc[2019, ["sworn_officers", "civilians", "total_employees"]].isna().all()
    assert not years.loc[2019, "reported"] and pd.isna(years.loc[2019, "officers_per_1000"])
    assert years.loc[2019, "population"] == 20664
    assert years.loc[2018, "officers_per_1000"] == pytest.approx(40 / 20663 * 1000)
    assert sorted(log["column"]) == ["civilians", "sworn_officers", "total_employees"]
    assert set(log["reason"]) == {"every count 0 in the raw file (a reporting gap, not zero); between reported years"}
    assert set(log["raw_value"]) == {"0"}


def test_leading_trailing_zeros_and_empty_rows_are_gaps_too(tmp_path: Path) -> None:
    write(tmp_path, ["1960,22149,0,0", "1961,22149,17,0", "1962,24851,,", "1963,24478,21,1", "1964,25120,0,0"])
    table, log = clean(tmp_path)
    years = by_year(table)
    assert years["reported"].tolist() == [False, True, False, True, False]
    assert years.loc[1961, "sworn_officers"] == 17 and years.loc[1961, "civilians"] == 0  # a real zero
    reasons = log.drop_duplicates("key").set_index("key")["reason"]
    assert reasons["agency_slug=ferguson, year=1960"].endswith("before the agency's first reported year")
    assert reasons["agency_slug=ferguson, year=1962"] == (
        "empty row in the raw file (not reported); between reported years"
    )
    assert reasons["agency_slug=ferguson, year=1964"].endswith("after the agency's last reported year")


def test_scientific_notation_population_zero_and_missing_years(tmp_path: Path) -> None:
    write(tmp_path, ["1974,0,5e2,30", "1977,355763,541,1e2"])
    table, log = clean(tmp_path)
    years = by_year(table)
    assert years.loc[1974, "sworn_officers"] == 500 and pd.isna(years.loc[1974, "population"])
    assert pd.isna(years.loc[1974, "officers_per_1000"])
    assert years.loc[1977, "civilians"] == 100 and years.loc[1977, "total_employees"] == 641
    assert years.index.tolist() == [1974, 1975, 1976, 1977]
    assert not years.loc[[1975, 1976], "reported"].any()
    assert "population 0 in the raw file: no rate" in set(log["reason"])


def test_inconsistent_published_total_is_set_missing(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8"])
    path = tmp_path / "ucr" / "police" / f"{FERGUSON}.csv"
    path.write_text(path.read_text().replace(",8,40,48,", ",8,40,50,"))
    table, log = clean(tmp_path)
    assert pd.isna(table.loc[0, "total_employees"]) and table.loc[0, "sworn_officers"] == 40
    assert log.loc[0, "raw_value"] == "50"


def test_duplicate_rows(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8", "2018,20663,40,8"])
    table, log = clean(tmp_path)
    assert len(table) == 1 and log["column"].tolist() == ["(row)"]
    write(tmp_path, ["2018,20663,40,8", "2018,20663,41,8"])
    with pytest.raises(SchemaValidationError, match="different rows for the same year"):
        clean(tmp_path)


def test_agency_name_variant_and_wrong_agency(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8"], agency="ferguson police dept")
    assert clean(tmp_path)[0]["agency_slug"].tolist() == ["ferguson"]
    write(tmp_path, ["2018,20663,40,8"], agency="Florissant Police Department")
    with pytest.raises(SchemaValidationError, match="(?s)does not belong to ferguson.*'agency'"):
        ucr_police.load_raw(raw_root=tmp_path)


# ---- schemas ----------------------------------------------------------------------------------


def test_raw_schema_names_file_and_dropped_column(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8"])
    path = tmp_path / "ucr" / "police" / f"{FERGUSON}.csv"
    pd.read_csv(path, dtype=str).drop(columns="total_employees_officers").to_csv(path, index=False)
    with pytest.raises(SchemaValidationError) as error:
        ucr_police.load_raw(raw_root=tmp_path)
    assert f"ucr/police/{FERGUSON}.csv" in str(error.value) and "total_employees_officers" in str(error.value)


def test_raw_schema_names_file_column_and_text(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8"])
    path = tmp_path / "ucr" / "police" / f"{FERGUSON}.csv"
    path.write_text(path.read_text().replace(",8,40,48,", ",8,forty,48,"))
    with pytest.raises(SchemaValidationError) as error:
        ucr_police.load_raw(raw_root=tmp_path)
    message = str(error.value)
    assert f"ucr/police/{FERGUSON}.csv" in message and "'total_employees_officers'" in message
    assert "forty" in message


def test_processed_schema_fails_on_dropped_column_and_text(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8"])
    table, _ = clean(tmp_path)
    assert_processed_schema_names_column(
        table,
        ucr_police.PROCESSED_SCHEMA,
        "staffing.csv",
        dropped="civilians",
        text_column="sworn_officers",
        text="forty",
    )


# ---- helpers (property tests) -----------------------------------------------------------------


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=1, max_value=10**6))
def test_rate_per_1000(officers: int, population: int) -> None:
    rate = per_1000(pd.Series([officers], dtype="Int64"), pd.Series([population], dtype="Int64"))
    assert rate.dtype == "float64" and rate[0] == pytest.approx(officers / population * 1000)


@given(st.integers(min_value=-5, max_value=0))
def test_no_rate_without_a_positive_population(population: int) -> None:
    counts = pd.Series([10, pd.NA], dtype="Int64")
    rate = per_1000(counts, pd.Series([population, 100], dtype="Int64"))
    assert rate.isna().all()


# ---- the real raw files -----------------------------------------------------------------------

REAL = raw_dir() / "ucr" / "police"
needs_raw = pytest.mark.skipif(not REAL.is_dir(), reason="data/raw/ucr/police missing: run the fetch step first")


@pytest.fixture(scope="module")
def real() -> tuple[pd.DataFrame, pd.DataFrame]:
    return clean_source(ucr_police)


@needs_raw
@pytest.mark.parametrize("year", [2010, 2014, 2016, 2018, 2020, 2021])
def test_ferguson_passes_through(real: tuple[pd.DataFrame, pd.DataFrame], year: int) -> None:
    with open(REAL / f"{FERGUSON}.csv", newline="", encoding="utf-8") as handle:
        source = next(r for r in csv.DictReader(handle) if r["year"] == str(year))
    processed = by_year(real[0]).loc[year]
    assert processed["reported"]
    assert processed["population"] == int(source["population"])
    for raw_column, column in ucr_police.EMPLOYEE_COUNTS.items():
        assert processed[column] == int(source[raw_column]), column


@needs_raw
def test_ferguson_2019_zero_officers_is_missing(real: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    table, log = real
    ferguson = by_year(table)
    assert pd.isna(ferguson.loc[2019, "sworn_officers"]) and not ferguson.loc[2019, "reported"]
    assert ferguson.loc[[2014, 2018, 2020, 2021], "sworn_officers"].tolist() == [53, 40, 34, 30]
    logged = log[log["key"] == "agency_slug=ferguson, year=2019"]
    assert set(logged["column"]) == {"sworn_officers", "civilians", "total_employees"}
    assert logged["reason"].str.contains("between reported years").all()


@needs_raw
def test_full_raw_data(real: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    table, _ = real
    assert table["agency_slug"].nunique() == 16
    assert not table.duplicated(["agency_slug", "year"]).any()
    assert table["year"].max() == 2021
    assert (table["sworn_officers"] > 0).fillna(True).all()  # no zero-officer year survives
    assert table.loc[table["reported"], "total_employees"].notna().all()
    assert by_year(table, "st-louis-county").loc[2021, "sworn_officers"] == 907


def test_raw_schema_names_an_unlisted_count_column_and_its_text(tmp_path: Path) -> None:
    """The columns not named in the schema are checked as one block; a failure still names the
    column, the row and the text, as a named column's check does."""
    write(tmp_path, ["2018,20663,40,8", "2019,20664,41,8"])
    path = tmp_path / "ucr" / "police" / f"{FERGUSON}.csv"
    path.write_text(path.read_text().replace(",41,49,0,NA", ",41,49,two,NA"))
    with pytest.raises(SchemaValidationError) as error:
        ucr_police.load_raw(raw_root=tmp_path)
    message = str(error.value)
    assert f"ucr/police/{FERGUSON}.csv" in message
    assert "column 'officers_killed_by_accident'" in message and "row 1: 'two'" in message
    assert "'total_assaults_total'" not in message


# ---- files of one layout are validated as one table; an error still names its own file ----------------------------

FLORISSANT = dict(stem="Missouri_Florissant_Police_Department", agency="Florissant Police Department", ori="MO09530")


def test_a_bad_cell_in_the_second_file_of_a_layout_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8"])
    write(tmp_path, ["2018,52000,80,20"], **FLORISSANT)
    path = tmp_path / "ucr" / "police" / f"{FLORISSANT['stem']}.csv"
    path.write_text(path.read_text().replace(",20,80,100,", ",20,eighty,100,"))
    with pytest.raises(SchemaValidationError) as error:
        ucr_police.load_raw(raw_root=tmp_path)
    message = str(error.value)
    assert message.startswith(f"ucr/police/{FLORISSANT['stem']}.csv does not match")
    assert "eighty" in message and FERGUSON not in message


def test_files_of_a_layout_pass_as_they_do_one_by_one(tmp_path: Path) -> None:
    write(tmp_path, ["2018,20663,40,8", "2019,20500,38,9"])
    write(tmp_path, ["2018,52000,80,20"], **FLORISSANT)
    raw = ucr_police.load_raw(raw_root=tmp_path)
    assert list(raw) == [FERGUSON, FLORISSANT["stem"]]
    assert raw[FERGUSON]["total_employees_officers"].tolist() == ["40", "38"]
    assert raw[FLORISSANT["stem"]].attrs["raw_path"] == f"ucr/police/{FLORISSANT['stem']}.csv"


def test_only_schemas_that_judge_each_row_alone_are_validated_together() -> None:
    """A check over a whole column (a sum, a uniqueness) can pass two files stacked and fail one alone: such a schema
    is never used on stacked files."""
    small, large = pd.DataFrame({"count": [1, 2]}), pd.DataFrame({"count": [9, 9]})
    by_row = pa.DataFrameSchema({"count": pa.Column(int, pa.Check.ge(0))})
    by_column = pa.DataFrameSchema({"count": pa.Column(int, pa.Check(lambda s: s.sum() > 5))})
    unique = pa.DataFrameSchema({"count": pa.Column(int, unique=True)})
    assert _valid_together([(small, by_row), (large, by_row)]) == {0, 1}
    assert _valid_together([(small, by_column), (large, by_column)]) == set()
    assert _valid_together([(small, unique), (large, unique)]) == set()
    assert _valid_together([(small, by_row)]) == set()  # alone: validated by the caller, with its own error
    assert _valid_together([(small.assign(count=[-1, 2]), by_row), (large, by_row)]) == set()
