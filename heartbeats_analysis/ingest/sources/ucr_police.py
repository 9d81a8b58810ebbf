"""FBI UCR police employees (LEOKA), by agency and year -> the ``staffing`` table.

Raw: data/raw/ucr/police/<ucr_file_stem>.csv, one file per agency (Jacob Kaplan's exports), 86
columns: employees by sex and role (officers, civilians, total; counted as of 31 October each year),
officers killed and assaults on officers. Years run 1960-2021.

A year in which the agency filed nothing shows as an empty row or as every employee count at 0
(Ferguson 2019 reads 0 officers, between 40 in 2018 and 34 in 2020). Both become <NA> with
``reported`` False and are logged; see ucr_common.mark_reporting_gaps for why zeros before the first
or after the last reported year are treated the same way (e.g. Jennings and Pine Lawn from 2018, after
they contracted policing to the county, and several agencies in 2021, the first NIBRS-only year).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import MissingnessLog, finish_table
from heartbeats_analysis.ingest.sources.ucr_common import (
    YEAR_RANGE,
    agency_slugs,
    agency_year_counts,
    clean_agency_files,
    clean_population,
    count_text_column,
    count_text_columns,
    identity_columns,
    mark_reporting_gaps,
    one_row_per_year,
    per_1000,
    read_agency_files,
    row_key,
)

TABLE_NAME = "staffing"
RAW_SUBFOLDER = "police"

EMPLOYEE_COUNTS = {
    "total_employees_officers": "sworn_officers",
    "total_employees_civilians": "civilians",
    "total_employees_total": "total_employees",
}
SEX_BREAKDOWN = [f"{sex}_employees_{role}" for sex in ("female", "male") for role in ("civilians", "officers", "total")]
"""Not carried into the table, but part of 'every employee count is 0'."""

RAW_SCHEMA = pa.DataFrameSchema(
    {
        **identity_columns(),
        **{column: count_text_column() for column in [*SEX_BREAKDOWN, *EMPLOYEE_COUNTS]},
    },
    # Every other column (officers killed, assaults on officers by circumstance) is a count too.
    checks=[count_text_columns(r"^(?!(?:agency|year|state|population|ORI)$).+$")],
    name="ucr_police_raw",
)

PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "agency_slug": pa.Column(str, checks=pa.Check.isin(agency_slugs())),
        "year": pa.Column("int64", checks=pa.Check.in_range(*YEAR_RANGE)),
        "sworn_officers": pa.Column("Int64", checks=pa.Check.ge(0), nullable=True),
        "civilians": pa.Column("Int64", checks=pa.Check.ge(0), nullable=True),
        "total_employees": pa.Column("Int64", checks=pa.Check.gt(0), nullable=True),
        "population": pa.Column("Int64", checks=pa.Check.gt(0), nullable=True),
        "officers_per_1000": pa.Column(float, checks=pa.Check.ge(0), nullable=True),
        "reported": pa.Column(bool),
    },
    checks=[
        pa.Check(
            lambda df: (
                df["total_employees"].isna()
                | df["total_employees"].eq(df["sworn_officers"] + df["civilians"]).fillna(False)
            ),
            error="total_employees = sworn_officers + civilians",
        ),
        pa.Check(
            lambda df: df["reported"] | df[list(EMPLOYEE_COUNTS.values())].isna().all(axis=1),
            error="a year the agency did not report has no counts",
        ),
    ],
    unique=["agency_slug", "year"],
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

COLUMNS = {
    "agency_slug": "Agency id from resources/ucr_agency_crosswalk.csv (e.g. 'ferguson').",
    "year": "Year of the count (the FBI counts employees as of 31 October).",
    "sworn_officers": "Full-time sworn officers (raw total_employees_officers).",
    "civilians": "Full-time civilian employees (raw total_employees_civilians).",
    "total_employees": "sworn_officers + civilians (raw total_employees_total).",
    "population": "Population the FBI assigns to the agency's jurisdiction that year (kept in gap years).",
    "officers_per_1000": "sworn_officers / population x 1000 (missing without both).",
    "reported": "False for a year without a report (empty row or every employee count 0): counts are <NA>.",
}


def load_raw(raw_root: Path | None = None) -> dict[str, pd.DataFrame]:
    """Every agency file under <raw_root>/ucr/police/, as published (text), keyed by ucr_file_stem."""
    return read_agency_files(RAW_SUBFOLDER, lambda header, display: RAW_SCHEMA, raw_root)


def clean(raw: dict[str, pd.DataFrame], log: MissingnessLog) -> pd.DataFrame:
    """One row per (agency_slug, year) with sworn officers, civilians and officers per 1,000 residents."""
    table = clean_agency_files(raw, _clean_file, log)
    table = mark_reporting_gaps(table, list(EMPLOYEE_COUNTS.values()), TABLE_NAME, log, also_counts=SEX_BREAKDOWN)
    table = _drop_inconsistent_totals(table, log)
    table["population"] = clean_population(table, TABLE_NAME, log)
    table["officers_per_1000"] = per_1000(table["sworn_officers"], table["population"])
    return finish_table(table, PROCESSED_SCHEMA, ["agency_slug", "year"])


def _clean_file(frame: pd.DataFrame, stem: str, slug: str, log: MissingnessLog) -> pd.DataFrame:
    frame = one_row_per_year(frame, RAW_SUBFOLDER, stem, TABLE_NAME, slug, log)
    return agency_year_counts(frame, slug, {**EMPLOYEE_COUNTS, **{column: column for column in SEX_BREAKDOWN}})


def _drop_inconsistent_totals(table: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    """A published total that is not officers + civilians is kept out rather than guessed at."""
    expected = table["sworn_officers"] + table["civilians"]
    differs = table["total_employees"].notna() & expected.notna() & table["total_employees"].ne(expected).fillna(False)
    for index in table.index[differs]:
        log.add(
            TABLE_NAME,
            row_key(table.at[index, "agency_slug"], int(table.at[index, "year"])),
            "total_employees",
            "published total_employees_total is not officers + civilians; set missing",
            table.at[index, "total_employees"],
        )
    table = table.copy()
    table.loc[differs, "total_employees"] = pd.NA
    return table
