"""The UCR arrests source: both layouts, gaps as missing, the listed quirks, matching by ORI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import clean_source, write_lines

from heartbeats_analysis.ingest.sources import ucr_arrests
from heartbeats_analysis.ingest.sources.base import SchemaValidationError

RACES_OLD = ("amer_ind", "asian", "black", "white")
OFFENCES_OLD = ("drunkenness", "poss_drug_total", "robbery")


def old_header(with_races: bool = True) -> str:
    columns = ["agency", "ORI", "year", "state", "population"]
    for offence in OFFENCES_OLD:
        columns.append(f"{offence}_tot_arrests")
        if with_races:
            columns += [f"{offence}_tot_{race}" for race in RACES_OLD]
    return ",".join(columns)


def old_row(year: int, population: str, cells: dict[str, tuple[int, ...]] | None, with_races: bool = True) -> str:
    """cells: offence -> (total, amer_ind, asian, black, white); None for an empty row."""
    width = len(OFFENCES_OLD) * (5 if with_races else 1)
    if cells is None:
        return f"Ferguson Police Department,MO09528,{year},Missouri,{population}" + "," * width
    values = []
    for offence in OFFENCES_OLD:
        numbers = cells[offence]
        values += [str(v) for v in (numbers if with_races else numbers[:1])]
    return f"Ferguson Police Department,MO09528,{year},Missouri,{population}," + ",".join(values)


def write_ferguson(root: Path, rows: list[str]) -> None:
    write_lines(root / "ucr" / "arrests" / "Missouri_Ferguson_Police_Department.csv", [old_header(), *rows])


def value(table: pd.DataFrame, year: int, offence: str, race: str):
    row = table[(table["year"] == year) & (table["offense"] == offence) & (table["race"] == race)]
    assert len(row) == 1
    return row.iloc[0]


GOOD = {"drunkenness": (4, 0, 0, 3, 1), "poss_drug_total": (10, 0, 0, 8, 2), "robbery": (2, 0, 0, 2, 0)}


def test_a_normal_year_keeps_counts_by_race_and_group(tmp_path):
    write_ferguson(tmp_path, [old_row(2018, "20663", GOOD)])
    table, _ = clean_source(ucr_arrests, tmp_path)
    assert value(table, 2018, "drunkenness", "black")["arrests"] == 3
    assert value(table, 2018, "drug_possession", "white")["arrests"] == 2
    assert value(table, 2018, "robbery", "white")["arrests"] == 0  # a real zero inside a reported year
    assert value(table, 2018, "robbery", "total")["offense_group"] == "serious"
    assert value(table, 2018, "drunkenness", "total")["offense_group"] == "minor"
    assert bool(value(table, 2018, "drunkenness", "total")["races_add_up"])
    assert value(table, 2018, "drunkenness", "total")["population"] == 20663


def test_blank_and_all_zero_years_are_missing_not_zero(tmp_path):
    zeros = {o: (0, 0, 0, 0, 0) for o in OFFENCES_OLD}
    write_ferguson(tmp_path, [old_row(2018, "20663", GOOD), old_row(2006, "", None), old_row(2004, "21000", zeros)])
    table, log = clean_source(ucr_arrests, tmp_path)
    for year in (2004, 2006):
        row = value(table, year, "drunkenness", "black")
        assert pd.isna(row["arrests"]) and not row["reported"]
    years = log.loc[log["table"].eq("arrests"), "key"].str.extract(r"year=(\d+)")[0].dropna().astype(int)
    assert set(years) == {2004, 2006}


def test_drug_possession_before_1976_is_missing(tmp_path):
    write_ferguson(tmp_path, [old_row(1975, "28750", GOOD)])
    table, log = clean_source(ucr_arrests, tmp_path)
    assert pd.isna(value(table, 1975, "drug_possession", "total")["arrests"])
    assert value(table, 1975, "drunkenness", "total")["arrests"] == 4
    assert log["reason"].str.contains("sale columns").any()


def test_race_cells_that_do_not_add_up_are_flagged(tmp_path):
    odd = {**GOOD, "drunkenness": (40, 0, 0, 10, 5)}  # 15 of 40: off by far more than 2 or 2%
    write_ferguson(tmp_path, [old_row(1989, "23118", odd)])
    table, _ = clean_source(ucr_arrests, tmp_path)
    assert not bool(value(table, 1989, "drunkenness", "black")["races_add_up"])
    assert bool(value(table, 1989, "robbery", "black")["races_add_up"])


def test_negative_cell_is_missing(tmp_path):
    negative = {**GOOD, "robbery": (-1, 0, 0, 0, 0)}
    write_ferguson(tmp_path, [old_row(1988, "24000", negative)])
    table, log = clean_source(ucr_arrests, tmp_path)
    assert pd.isna(value(table, 1988, "robbery", "total")["arrests"])
    assert log["reason"].str.contains("negative").any()


def test_offences_a_file_does_not_publish_are_missing_rows(tmp_path):
    write_ferguson(tmp_path, [old_row(2018, "20663", GOOD)])
    table, log = clean_source(ucr_arrests, tmp_path)
    # The fixture has no vagrancy column: its rows exist and are missing, so no group total is partial.
    assert pd.isna(value(table, 2018, "vagrancy", "total")["arrests"])
    assert log["reason"].str.contains("no column for this offence").any()


def test_florissant_spellings_are_read(tmp_path):
    header = "agency,ORI,year,state,population,poss_drug_tot_arrests,curfew_tot_arrests,oth_non_traffic_tot_arrests"
    row = "Florissant Police Department,MO09530,2016,Missouri,52000,40,3,200"
    write_lines(tmp_path / "ucr" / "arrests" / "Missouri_Florissant_Police_Department.csv", [header, row])
    table, _ = clean_source(ucr_arrests, tmp_path)
    assert value(table, 2016, "drug_possession", "total")["arrests"] == 40
    assert value(table, 2016, "curfew_loitering", "total")["arrests"] == 3
    assert value(table, 2016, "all_other", "total")["arrests"] == 200


def test_a_file_without_race_columns_gives_totals_only(tmp_path):
    header = old_header(with_races=False)
    row = old_row(2016, "52000", GOOD, with_races=False).replace(
        "Ferguson Police Department,MO09528", "Florissant Police Department,MO09530"
    )
    write_lines(tmp_path / "ucr" / "arrests" / "Missouri_Florissant_Police_Department.csv", [header, row])
    table, _ = clean_source(ucr_arrests, tmp_path)
    assert set(table["race"]) == {"total"}
    assert set(table["agency_slug"]) == {"florissant"}
    assert table["races_add_up"].isna().all()


def test_newer_layout_is_read_and_matched_by_ori(tmp_path):
    columns = ["agency", "ORI", "year", "state", "population"]
    races = ("american_indian", "asian", "black", "white")
    for stem in ("drunkenness", "drug_possess_drug_total"):
        columns += [f"{stem}_total_arrests", *[f"{stem}_total_{r}" for r in races], f"{stem}_total_hispanic"]
    row = "St. Louis County Police Department,MO09500,2019,Missouri,997000," + ",".join(
        ["4", "0", "0", "1", "3", "0", "1929", "1", "6", "709", "1213", "50"]
    )
    write_lines(
        tmp_path / "ucr" / "arrests" / "Missouri_St._Louis_County_Police_Department.csv", [",".join(columns), row]
    )
    table, _ = clean_source(ucr_arrests, tmp_path)
    assert set(table["agency_slug"]) == {"st-louis-county"}
    assert value(table, 2019, "drug_possession", "black")["arrests"] == 709
    assert bool(value(table, 2019, "drug_possession", "total")["races_add_up"])  # 1,929 vs 1,929
    assert "hispanic" not in set(table["race"])


def test_unknown_ori_fails(tmp_path):
    write_ferguson(tmp_path, [old_row(2018, "20663", GOOD).replace("MO09528", "MO99999")])
    with pytest.raises(SchemaValidationError, match="ORI"):
        ucr_arrests.load_raw(tmp_path)


def test_mirror_ferguson_quirks(raw_data):
    table, _ = clean_source(ucr_arrests)
    ferguson = table[table["agency_slug"].eq("ferguson")]
    unreported = sorted(ferguson.loc[~ferguson["reported"], "year"].unique())
    assert unreported == [1979, 1980, 1981, 1988, 1992, 1998, 1999, 2000, 2001, 2002, 2004, 2006]
    assert not ferguson.loc[ferguson["year"].eq(1989) & ferguson["race"].eq("black"), "races_add_up"].all()
    florissant = table[table["agency_slug"].eq("florissant")]
    assert set(florissant["race"]) == {"total"}
