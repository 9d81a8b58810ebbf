"""The UCR offenses source: both raw layouts, reporting gaps, schemas, Ferguson pass-through."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import assert_processed_schema_names_column, clean_source, write_lines
from hypothesis import given
from hypothesis import strategies as st

from heartbeats_analysis.ingest.sources import ucr_offenses
from heartbeats_analysis.ingest.sources.base import (
    SchemaValidationError,
    parse_count,
    validate,
)
from heartbeats_analysis.ingest.sources.ucr_common import COUNT_TEXT, load_crosswalk
from heartbeats_analysis.paths import raw_dir

FERGUSON = "Missouri_Ferguson_Police_Department"
OVERLAND = "Missouri_Overland_Police_Department"
BEL_RIDGE = "Missouri_Bel-ridge_Police_Dept"
ST_ANN = "Missouri_St._Ann_Police_Dept"

CURRENT_HEADER = (
    "agency,year,state,population,ORI,officers_assaulted,actual_murder,actual_manslaughter,actual_rape_total,"
    "actual_robbery_total,actual_assault_aggravated,actual_assault_simple,actual_burg_total,actual_theft_total,"
    "actual_motor_vehicle_theft_total,actual_index_violent,actual_index_property,unfounded_murder"
)
# The three header variants of the older layout: clearance columns named clr_* or tot_clr_*, and
# clr_18_* before or after them.
OLDER_HEADERS = {
    BEL_RIDGE: "clr_18_{o},clr_{o}",
    ST_ANN: "clr_{o},clr_18_{o}",
    OVERLAND: "tot_clr_{o},clr_18_{o}",
}
OLDER_OFFENSES = [
    "murder",
    "rape_total",
    "robbery_total",
    "aggravated_assault",
    "burglary_total",
    "theft_total",
    "mtr_vhc_theft_total",
]


def write_current(
    root: Path, stem: str, rows: list[str], agency: str = "Ferguson Police Department", ori: str = "MO09528"
) -> None:
    """Rows are 'year,population,murder,rape,robbery,agg,burglary,larceny,mvt' ('' for an empty row)."""
    lines = [CURRENT_HEADER]
    for row in rows:
        year, population, *counts = row.split(",")
        if not any(counts):
            lines.append(f"{agency},{year},Missouri,{population},{ori}" + "," * 13)
            continue
        m, r, rob, agg, burg, lar, mvt = counts
        violent = sum(int(parse_count(v)) for v in (m, r, rob, agg))
        prop = sum(int(parse_count(v)) for v in (burg, lar, mvt))
        lines.append(
            f"{agency},{year},Missouri,{population},{ori},0,{m},0,{r},{rob},{agg},0,{burg},{lar},{mvt},"
            f"{violent},{prop},0"
        )
    write_lines(root / "ucr" / "offenses" / f"{stem}.csv", lines)


def write_older(root: Path, stem: str, rows: list[str], agency: str, ori: str) -> None:
    """Same row format as write_current, in the 116-column layout's order and header variant."""
    variant = OLDER_HEADERS[stem]
    header = ["agency", "year", "state", "population", "ORI"]
    for offense in OLDER_OFFENSES:
        header += [f"act_{offense}", *variant.format(o=offense).split(","), f"unfound_{offense}"]
    header += ["officers_assaulted"]
    lines = [",".join(header)]
    for row in rows:
        year, population, *counts = row.split(",")
        cells = [agency, year, "Missouri", population, ori]
        for count in counts:
            cells += [count, "0", "NA", "0"]
        lines.append(",".join(cells + ["NA"]))
    write_lines(root / "ucr" / "offenses" / f"{stem}.csv", lines)


def clean(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return clean_source(ucr_offenses, root)


def row(table: pd.DataFrame, slug: str, year: int) -> pd.Series:
    return table[(table["agency_slug"] == slug) & (table["year"] == year)].iloc[0]


# ---- fixtures covering the quirks -------------------------------------------------------------


def test_empty_and_all_zero_years_become_missing_and_are_logged(tmp_path: Path) -> None:
    write_current(
        tmp_path,
        FERGUSON,
        [
            "2018,20663,2,4,46,77,149,647,150",
            "2019,20664,,,,,,,",  # empty row
            "2020,20454,0,0,0,0,0,0,0",  # every count zero
            "2021,20386,9,13,25,135,115,473,115",
        ],
    )
    table, log = clean(tmp_path)
    assert table["year"].tolist() == [2018, 2019, 2020, 2021]
    assert table["reported"].tolist() == [True, False, False, True]
    for year in (2019, 2020):
        gap = row(table, "ferguson", year)
        assert gap[["violent", "property", *ucr_offenses.OFFENSES]].isna().all()
        assert pd.isna(gap["violent_per_1000"])
    assert row(table, "ferguson", 2020)["population"] == 20454  # population is not a count: kept
    reasons = log.set_index(["key", "column"])["reason"]
    assert reasons[("agency_slug=ferguson, year=2019", "violent")].startswith("empty row in the raw file")
    assert reasons[("agency_slug=ferguson, year=2020", "murder")] == (
        "every count 0 in the raw file (a reporting gap, not zero); between reported years"
    )
    assert len(log) == 2 * 9  # nine count columns for each of the two gap years


def test_totals_rates_and_flags(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2020,20000,1,2,3,3,100,200,50", "2021,20000,7,6,30,98,182,684,196"])
    table, _ = clean(tmp_path)
    first, second = row(table, "ferguson", 2020), row(table, "ferguson", 2021)
    assert (first["violent"], first["property"]) == (9, 350)
    assert first["violent_per_1000"] == pytest.approx(0.45)
    assert first["property_per_1000"] == pytest.approx(17.5)
    assert first["small_cell_violent"] and not second["small_cell_violent"]
    assert not first["nibrs_era"] and second["nibrs_era"]
    assert list(table.columns) == list(ucr_offenses.COLUMNS)


def test_older_layout_scientific_notation_na_and_negative_adjustment(tmp_path: Path) -> None:
    write_older(
        tmp_path,
        BEL_RIDGE,
        [
            "1969,6e3,0,0,8,10,35,154,17",
            "1995,3662,1,-1,5,35,46,127,26",
            "2e3,3082,1,0,7,15,39,154,23",
        ],
        agency="Bel-ridge Police Dept",
        ori="MO09506",
    )
    table, log = clean(tmp_path)
    assert table["year"].tolist() == list(range(1969, 2001))  # '2e3' is 2000; years between are gaps
    assert row(table, "bel-ridge", 1969)["population"] == 6000
    negative = row(table, "bel-ridge", 1995)
    assert negative["rape"] == -1 and negative["violent"] == 40  # net of unfounded: passes through
    assert row(table, "bel-ridge", 2000)["property"] == 216
    absent = row(table, "bel-ridge", 1980)
    assert not absent["reported"] and pd.isna(absent["violent"]) and pd.isna(absent["population"])
    assert (log["reason"].str.startswith("no row in the raw file")).sum() == 29 * 9  # 1970-94, 1996-99


@pytest.mark.parametrize("stem", sorted(OLDER_HEADERS))
def test_every_older_header_variant_gives_the_current_layout_result(tmp_path: Path, stem: str) -> None:
    rows = ["2015,15967,0,7,29,33,92,423,22", "2016,15940,1,2,21,44,106,400,39"]
    write_current(tmp_path / "current", FERGUSON, rows)
    agency = load_crosswalk().set_index("ucr_file_stem").loc[stem]
    write_older(tmp_path / "older", stem, rows, agency=agency["ucr_name"], ori=agency["ori"])
    current, _ = clean(tmp_path / "current")
    older, _ = clean(tmp_path / "older")
    assert list(older.columns) == list(current.columns)
    pd.testing.assert_frame_equal(
        older.drop(columns="agency_slug"), current.drop(columns="agency_slug"), check_exact=True
    )


def test_missing_component_leaves_its_total_missing(tmp_path: Path) -> None:
    write_older(
        tmp_path, OVERLAND, ["1993,17965,0,NA,24,50,150,823,58"], agency="Overland Police Department", ori="MO09556"
    )
    table, log = clean(tmp_path)
    only = table.iloc[0]
    assert only["reported"] and pd.isna(only["rape"]) and pd.isna(only["violent"])
    assert only["property"] == 1031
    assert set(log["column"]) == {"rape", "violent"}


def test_published_total_that_disagrees_with_its_parts_is_logged(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150"])
    path = tmp_path / "ucr" / "offenses" / f"{FERGUSON}.csv"
    path.write_text(path.read_text().replace(",129,946,", ",130,946,"))
    table, log = clean(tmp_path)
    assert table.loc[0, "violent"] == 129
    assert log[["column", "raw_value"]].values.tolist() == [["violent", "130"]]
    assert log.loc[0, "reason"].startswith("published actual_index_violent differs from the sum")


def test_raw_schema_rejects_a_year_that_is_not_a_year(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["20x8,20663,2,4,46,77,149,647,150"])
    with pytest.raises(SchemaValidationError, match=r"(?s)Ferguson_Police_Department\.csv.*'year'.*20x8"):
        ucr_offenses.load_raw(raw_root=tmp_path)


def test_exact_duplicate_rows_are_dropped_and_conflicting_ones_fail(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150"] * 2)
    table, log = clean(tmp_path)
    assert len(table) == 1 and log["reason"].tolist() == ["exact duplicate row in the raw file dropped"]
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150", "2018,20663,3,4,46,77,149,647,150"])
    with pytest.raises(SchemaValidationError, match=r"Missouri_Ferguson_Police_Department\.csv.*same year.*2018"):
        clean(tmp_path)


def test_agency_name_spelling_variants_map_through_the_crosswalk(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150"], agency=" FERGUSON POLICE DEPT ")
    write_older(tmp_path, BEL_RIDGE, ["2015,2721,0,1,3,22,85,84,11"], agency="Bel-ridge Police Dept", ori="MO09506")
    table, _ = clean(tmp_path)
    assert table["agency_slug"].tolist() == ["bel-ridge", "ferguson"]


def test_file_for_another_agency_or_unknown_stem_fails(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150"], ori="MO09530")
    with pytest.raises(SchemaValidationError, match=r"(?s)Ferguson_Police_Department\.csv does not belong.*'ORI'"):
        ucr_offenses.load_raw(raw_root=tmp_path)
    (tmp_path / "ucr" / "offenses" / f"{FERGUSON}.csv").rename(
        tmp_path / "ucr" / "offenses" / "Missouri_Fergusson_Police_Department.csv"
    )
    with pytest.raises(SchemaValidationError, match=r"Fergusson_Police_Department\.csv is not in .*ucr_file_stem"):
        ucr_offenses.load_raw(raw_root=tmp_path)


def test_no_raw_files_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="fetch the raw data"):
        ucr_offenses.load_raw(raw_root=tmp_path)


# ---- schemas ----------------------------------------------------------------------------------


def test_raw_schema_names_file_and_dropped_column(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150"])
    path = tmp_path / "ucr" / "offenses" / f"{FERGUSON}.csv"
    pd.read_csv(path, dtype=str).drop(columns="actual_robbery_total").to_csv(path, index=False)
    with pytest.raises(SchemaValidationError) as error:
        ucr_offenses.load_raw(raw_root=tmp_path)
    assert f"ucr/offenses/{FERGUSON}.csv" in str(error.value)
    assert "actual_robbery_total" in str(error.value)


def test_raw_schema_names_file_column_and_text_in_a_count(tmp_path: Path) -> None:
    write_older(tmp_path, ST_ANN, ["2016,12925,1,1,6,63,41,193,oops"], agency="St. Ann Police Dept", ori="MO09565")
    with pytest.raises(SchemaValidationError) as error:
        ucr_offenses.load_raw(raw_root=tmp_path)
    message = str(error.value)
    assert f"ucr/offenses/{ST_ANN}.csv" in message and "'act_mtr_vhc_theft_total'" in message and "oops" in message


def test_processed_schema_fails_on_dropped_column_and_text(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150"])
    table, _ = clean(tmp_path)
    assert_processed_schema_names_column(
        table, ucr_offenses.PROCESSED_SCHEMA, "crime.csv", dropped="larceny", text_column="burglary", text="many"
    )


def test_processed_schema_rejects_a_total_that_is_not_the_sum(tmp_path: Path) -> None:
    write_current(tmp_path, FERGUSON, ["2018,20663,2,4,46,77,149,647,150"])
    table, _ = clean(tmp_path)
    table.loc[0, "violent"] = 1
    with pytest.raises(SchemaValidationError, match="violent is the sum"):
        validate(table, ucr_offenses.PROCESSED_SCHEMA, "crime.csv")


# ---- parsing helpers (property tests) ---------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**7))
def test_published_count_formats_match_the_raw_pattern_and_parse_back(value: int) -> None:
    for text in (str(value), f"{value:,}", f"{value:.0e}".replace("+0", "").replace("+", ""), f" {value} "):
        assert re.match(COUNT_TEXT, text), text
    assert parse_count(f"{value:,}") == value
    assert parse_count(f"{value:e}") == pytest.approx(value, rel=1e-5)


@given(st.text(alphabet="abcxyz!?", min_size=1, max_size=5))
def test_words_are_not_counts(text: str) -> None:
    assert not re.match(COUNT_TEXT, text)


# ---- the real raw files -----------------------------------------------------------------------

REAL = raw_dir() / "ucr" / "offenses"
needs_raw = pytest.mark.skipif(not REAL.is_dir(), reason="data/raw/ucr/offenses missing: run the fetch step first")


@pytest.fixture(scope="module")
def real() -> tuple[pd.DataFrame, pd.DataFrame]:
    return clean_source(ucr_offenses)


def raw_rows(stem: str) -> dict[int, dict[str, str]]:
    with open(REAL / f"{stem}.csv", newline="", encoding="utf-8") as handle:
        return {int(float(r["year"])): r for r in csv.DictReader(handle)}


@needs_raw
@pytest.mark.parametrize("year", [2010, 2014, 2015, 2019, 2021, 2023])
def test_ferguson_passes_through(real: tuple[pd.DataFrame, pd.DataFrame], year: int) -> None:
    source = raw_rows(FERGUSON)[year]
    processed = row(real[0], "ferguson", year)
    assert processed["population"] == int(source["population"])
    for raw_column, column in {**ucr_offenses.CURRENT_LAYOUT_COUNTS, **ucr_offenses.CURRENT_LAYOUT_TOTALS}.items():
        assert processed[column] == int(source[raw_column]), column
    assert processed["reported"]


@needs_raw
def test_ferguson_known_values_and_its_2001_gap(real: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    table, log = real
    assert tuple(row(table, "ferguson", 2014)[["violent", "property"]]) == (115, 1027)
    assert tuple(row(table, "ferguson", 2023)[["population", "violent", "property"]]) == (17972, 136, 623)
    gap = row(table, "ferguson", 2001)
    assert not gap["reported"] and pd.isna(gap["violent"]) and pd.isna(gap["population"])
    assert (log["key"] == "agency_slug=ferguson, year=2001").sum() == 9


@needs_raw
def test_older_layout_passes_through_with_scientific_year(real: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    source = raw_rows("Missouri_St._Louis_County_Police_Dept")[2000]  # the raw year reads '2e3'
    processed = row(real[0], "st-louis-county", 2000)
    for raw_column, column in ucr_offenses.OLDER_LAYOUT_COUNTS.items():
        assert processed[column] == int(source[raw_column]), column
    assert processed["violent"] == 10 + 56 + 232 + 604


@needs_raw
def test_full_raw_data(real: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    table, log = real
    assert table["agency_slug"].nunique() == 16
    assert not table.duplicated(["agency_slug", "year"]).any()
    assert not log["reason"].str.contains("differs from the sum").any()  # published totals = sums of parts
    assert table.loc[table["reported"], "violent"].notna().all()
    assert set(table.loc[table["rape"] < 0, "agency_slug"]) == {"bel-ridge", "st-john"}
    assert table.groupby("agency_slug")["year"].max().to_dict()["ferguson"] == 2023


# ---- the newer files (ucr/offenses-2023/) and partial years -----------------------------------

NEWER_OVERLAND = "Missouri_Overland_Police_Department"  # same stem as the old file, other folder
NEWER_HEADER = CURRENT_HEADER.replace("actual_burg_total", "actual_burglary_total") + ",total_cleared_murder"


def write_newer(root: Path, stem: str, rows: list[str], agency: str, ori: str) -> None:
    """The 132-column layout's naming (actual_burglary_total, total_cleared_*), in ucr/offenses-2023/."""
    write_current(root, stem, rows, agency=agency, ori=ori)
    old = root / "ucr" / "offenses" / f"{stem}.csv"
    lines = old.read_text().splitlines()
    old.unlink()
    header, body = NEWER_HEADER, [line + ",0" for line in lines[1:]]
    write_lines(root / "ucr" / "offenses-2023" / f"{stem}.csv", [header, *body])


def test_newer_file_replaces_the_older_one_and_partial_years_are_missing(tmp_path: Path) -> None:
    write_older(tmp_path, OVERLAND, ["2015,15967,0,1,10,20,100,400,50"], "Overland Police Department", "MO09556")
    older = (tmp_path / "ucr" / "offenses" / f"{OVERLAND}.csv").read_text()
    write_newer(
        tmp_path,
        NEWER_OVERLAND,
        [
            "2016,15940,0,5,20,48,100,420,55",
            "2017,15760,1,4,10,28,90,420,54",
            "2018,15660,0,4,12,24,95,440,52",
            "2019,15587,0,0,1,4,10,55,6",  # partial year: 76 offences against about 650
            "2020,15497,1,6,25,52,110,450,66",
            "2021,15449,0,5,20,48,80,330,45",
        ],
        "Overland Police Department",
        "MO09556",
    )
    (tmp_path / "ucr" / "offenses" / f"{OVERLAND}.csv").write_text(older)
    write_current(tmp_path, FERGUSON, ["2020,20000,1,2,3,3,100,200,50"])
    table, log = clean(tmp_path)
    overland = table[table["agency_slug"] == "overland"].set_index("year")
    assert overland.index.tolist() == [2016, 2017, 2018, 2019, 2020, 2021]  # the older file's 2015 is not used
    assert overland.loc[2018, "violent"] == 40 and overland.loc[2018, "burglary"] == 95
    partial = overland.loc[2019]
    assert partial["partial_year"] and not partial["reported"] and pd.isna(partial["violent"])
    assert pd.isna(partial["violent_per_1000"])
    assert not overland.drop(index=2019)["partial_year"].any()
    assert (log["reason"] == ucr_offenses.REASON_PARTIAL_YEAR).sum() == 1
    assert log.loc[log["reason"] == ucr_offenses.REASON_PARTIAL_YEAR, "key"].iloc[0] == (
        "agency_slug=overland, year=2019"
    )


def test_partial_year_rule_needs_two_neighbouring_years() -> None:
    table = pd.DataFrame(
        {
            "agency_slug": ["a"] * 3,
            "year": [2000, 2001, 2010],
            "violent": pd.array([10, 1, 10], dtype="Int64"),
            "property": pd.array([90, 9, 90], dtype="Int64"),
            "reported": [True, True, True],
        }
    )
    # 2001 has only one reported year within three years (2000): too little to judge, so not flagged.
    assert not ucr_offenses.partial_years(table).any()


@needs_raw
def test_newer_files_run_to_2023_and_overland_2019_is_partial(real: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    table, _ = real
    last = table.dropna(subset=["violent"]).groupby("agency_slug")["year"].max()
    assert last[["overland", "st-ann", "st-john", "st-louis-county"]].tolist() == [2023] * 4
    assert last["bel-ridge"] == 2020
    assert row(table, "overland", 2019)["partial_year"]
    assert tuple(row(table, "overland", 2023)[["violent", "property"]]) == (84, 328)
    for slug in ("st-ann", "st-john", "bel-ridge"):
        assert not row(table, slug, 2019)["reported"] and pd.isna(row(table, slug, 2019)["violent"])
