"""FBI UCR offenses known to police, by agency and year -> the ``crime`` table.

Raw: data/raw/ucr/offenses/<ucr_file_stem>.csv, one file per agency (Jacob Kaplan's exports of the
FBI Return A data), and data/raw/ucr/offenses-2023/<offenses_2023_file_stem>.csv, newer exports for five
agencies that replace their older-layout files (the crosswalk column ``offenses_2023_file_stem`` says
which). Three layouts:

* current (70 columns; 11 agencies incl. Ferguson, through 2023): ``actual_*`` and ``unfounded_*``
  counts plus the published totals ``actual_index_violent`` / ``actual_index_property``;
* older (116 columns; Bel-Ridge, Overland, St. Ann, St. John, St. Louis County PD, through 2016/17):
  ``act_*``, ``clr_*`` (or ``tot_clr_*``), ``clr_18_*`` and ``unfound_*`` counts in varying column
  orders, no published totals, some 'NA' cells and values in scientific notation ('2e3', even a year).
  Kaplan built these from months_reported == "december is the last month reported", so a year
  missing from the file is a year without a full report;
* newer (132 columns; offenses-2023/: Bel-Ridge to 2020, Overland, St. Ann, St. John, St. Louis County
  PD to 2023): ``actual_*``, ``total_cleared_*``, ``cleared_18_*`` and ``unfounded_*`` with published
  totals, like the current layout but with ``actual_burglary_total``. These files carry years that
  were reported for only part of the year (Overland 2019: 76 index offences against about 650 a year
  around it). Such a year is blanked and flagged ``partial_year`` (see PARTIAL_YEAR_SHARE): a partial
  count is missing, not a low count.

Definitions (FBI Part I offences, as counted on Return A, net of unfounded reports):
violent = murder and non-negligent manslaughter + rape + robbery + aggravated assault;
property = burglary + larceny-theft + motor vehicle theft (arson excluded, as in the FBI totals).
Negligent manslaughter and simple assault are not Part I and are left out. ``rape`` is the published
rape total: the legacy definition (forcible rape of a female) through 2012 and the revised, broader
definition that Return A collects from 2013, so rape and violent counts step up in 2013 (St. Louis
County PD: 50 in 2012, 113 in 2013). Both totals are the sums of their parts in both layouts; in the
current layout the sums equal the published ``actual_index_*`` totals (any difference is logged).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import (
    SMALL_CELL_THRESHOLD,
    MissingnessLog,
    SchemaValidationError,
    finish_table,
    to_int64,
)
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
from heartbeats_analysis.paths import raw_dir

TABLE_NAME = "crime"
RAW_SUBFOLDER = "offenses"
NEWER_SUBFOLDER = "offenses-2023"
NEWER_STEM_COLUMN = "offenses_2023_file_stem"

PARTIAL_YEAR_SHARE = 1 / 3
"""A reported year whose index total (violent + property) is below this share of the median of the
reported years around it (up to PARTIAL_YEAR_WINDOW on each side) is taken as a partial-year report."""
PARTIAL_YEAR_WINDOW = 3
REASON_PARTIAL_YEAR = "partial-year report: index total below 1/3 of the median of the surrounding years"

NIBRS_FIRST_YEAR = 2021
"""From 2021 the FBI takes agency counts from NIBRS only (converted to Return A categories)."""

MAX_NEGATIVE_NET_COUNT = 10
"""Counts are net of unfounded reports, so a year can come out slightly negative (Bel-Ridge 1995 and
St. John 2014 show rape = -1). Such values pass through; a larger negative would be a data error."""

VIOLENT_PARTS = ["murder", "rape", "robbery", "aggravated_assault"]
PROPERTY_PARTS = ["burglary", "larceny", "motor_vehicle_theft"]
OFFENSES = VIOLENT_PARTS + PROPERTY_PARTS

CURRENT_LAYOUT_COUNTS = {
    "actual_murder": "murder",
    "actual_rape_total": "rape",
    "actual_robbery_total": "robbery",
    "actual_assault_aggravated": "aggravated_assault",
    "actual_burg_total": "burglary",
    "actual_theft_total": "larceny",
    "actual_motor_vehicle_theft_total": "motor_vehicle_theft",
}
CURRENT_LAYOUT_TOTALS = {"actual_index_violent": "violent", "actual_index_property": "property"}
NEWER_LAYOUT_COUNTS = {**CURRENT_LAYOUT_COUNTS, "actual_burglary_total": "burglary"}
del NEWER_LAYOUT_COUNTS["actual_burg_total"]
OLDER_LAYOUT_COUNTS = {
    "act_murder": "murder",
    "act_rape_total": "rape",
    "act_robbery_total": "robbery",
    "act_aggravated_assault": "aggravated_assault",
    "act_burglary_total": "burglary",
    "act_theft_total": "larceny",
    "act_mtr_vhc_theft_total": "motor_vehicle_theft",
}


RAW_SCHEMA = pa.DataFrameSchema(
    {
        **identity_columns(),
        **{column: count_text_column() for column in [*CURRENT_LAYOUT_COUNTS, *CURRENT_LAYOUT_TOTALS]},
    },
    checks=[count_text_columns(r"^(actual|unfounded|officers)_.+$")],
    name="ucr_offenses_raw",
)
"""The current 70-column layout (e.g. Ferguson); columns beyond those named are checked as counts."""

RAW_SCHEMA_OLDER_LAYOUT = pa.DataFrameSchema(
    {
        **identity_columns(),
        **{column: count_text_column() for column in OLDER_LAYOUT_COUNTS},
        # Clearances appear as clr_* or tot_clr_*, in either order with clr_18_*: all are counts.
    },
    checks=[count_text_columns(r"^(act|clr|clr_18|tot_clr|unfound|officers)_.+$")],
    name="ucr_offenses_raw_older_layout",
)
"""The older 116-column layout (Bel-Ridge, Overland, St. Ann, St. John, St. Louis County PD)."""

RAW_SCHEMA_NEWER_LAYOUT = pa.DataFrameSchema(
    {
        **identity_columns(),
        **{column: count_text_column() for column in [*NEWER_LAYOUT_COUNTS, *CURRENT_LAYOUT_TOTALS]},
    },
    checks=[count_text_columns(r"^(actual|unfounded|total_cleared|cleared_18|officers)_.+$")],
    name="ucr_offenses_raw_newer_layout",
)
"""The newer 132-column layout of ucr/offenses-2023/ (to 2023; Bel-Ridge to 2020)."""


def _count_column(floor: int = 0) -> pa.Column:
    return pa.Column("Int64", checks=pa.Check.ge(floor), nullable=True)


PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "agency_slug": pa.Column(str, checks=pa.Check.isin(agency_slugs())),
        "year": pa.Column("int64", checks=pa.Check.in_range(*YEAR_RANGE)),
        "population": pa.Column("Int64", checks=pa.Check.gt(0), nullable=True),
        "violent": _count_column(),
        "property": _count_column(),
        **{offense: _count_column(-MAX_NEGATIVE_NET_COUNT) for offense in OFFENSES},
        "violent_per_1000": pa.Column(float, checks=pa.Check.ge(0), nullable=True),
        "property_per_1000": pa.Column(float, checks=pa.Check.ge(0), nullable=True),
        "reported": pa.Column(bool),
        "partial_year": pa.Column(bool),
        "nibrs_era": pa.Column(bool),
        "small_cell_violent": pa.Column(bool),
    },
    checks=[
        pa.Check(
            lambda df: df["violent"].isna() | df["violent"].eq(df[VIOLENT_PARTS].sum(axis=1)).fillna(False),
            error="violent is the sum of murder, rape, robbery and aggravated_assault",
        ),
        pa.Check(
            lambda df: df["property"].isna() | df["property"].eq(df[PROPERTY_PARTS].sum(axis=1)).fillna(False),
            error="property is the sum of burglary, larceny and motor_vehicle_theft",
        ),
        pa.Check(
            lambda df: df["reported"] | df[["violent", "property", *OFFENSES]].isna().all(axis=1),
            error="a year the agency did not report has no counts",
        ),
    ],
    unique=["agency_slug", "year"],
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

_NET = " Net of unfounded reports, so a year can come out slightly negative (e.g. -1)."

COLUMNS = {
    "agency_slug": "Agency id from resources/ucr_agency_crosswalk.csv (e.g. 'ferguson').",
    "year": "Calendar year of the counts.",
    "population": "Population the FBI assigns to the agency's jurisdiction that year (census-based; "
    "its basis changes with each census, e.g. Ferguson 2022).",
    "violent": "Violent crimes known to police: murder + rape + robbery + aggravated_assault (FBI Part I).",
    "property": "Property crimes known to police: burglary + larceny + motor_vehicle_theft (FBI Part I, no arson).",
    "murder": "Murder and non-negligent manslaughter." + _NET,
    "rape": "Rape as published: legacy definition through 2012, revised (broader) definition from 2013." + _NET,
    "robbery": "Robbery." + _NET,
    "aggravated_assault": "Aggravated assault." + _NET,
    "burglary": "Burglary (breaking or entering)." + _NET,
    "larceny": "Larceny-theft (except motor vehicle theft)." + _NET,
    "motor_vehicle_theft": "Motor vehicle theft." + _NET,
    "violent_per_1000": "violent / population x 1000 (missing without both).",
    "property_per_1000": "property / population x 1000 (missing without both).",
    "reported": "False for a year without a full report (no row, an empty row, every count 0, or a partial "
    "year): counts are <NA>.",
    "partial_year": "True for a year reported for only part of the year (index total below 1/3 of the median of "
    "the surrounding years): counts are <NA> and reported is False.",
    "nibrs_era": f"True from {NIBRS_FIRST_YEAR}, when the FBI switched to NIBRS-only collection: compare across "
    "it with care.",
    "small_cell_violent": f"True when violent < {SMALL_CELL_THRESHOLD} (SMALL_CELL_THRESHOLD): do not read rates "
    "or changes from it. False when violent is missing.",
}


def _schema_for(header: list[str], display: str) -> pa.DataFrameSchema:
    if "actual_burglary_total" in header:
        return RAW_SCHEMA_NEWER_LAYOUT
    if any(column.startswith("actual_") for column in header):
        return RAW_SCHEMA
    if any(column.startswith("act_") for column in header):
        return RAW_SCHEMA_OLDER_LAYOUT
    raise SchemaValidationError(
        f"{display} is in neither UCR offenses layout: no 'actual_*' (current) or 'act_*' (older) columns"
    )


def load_raw(raw_root: Path | None = None) -> dict[str, pd.DataFrame]:
    """Every agency file as published (text), keyed by ucr_file_stem: ucr/offenses-2023/ where the
    crosswalk names a newer file for the agency, else ucr/offenses/ (the older file is then unused)."""
    frames = read_agency_files(RAW_SUBFOLDER, _schema_for, raw_root)
    newer_folder = Path(raw_root or raw_dir()) / "ucr" / NEWER_SUBFOLDER
    if newer_folder.is_dir() and any(newer_folder.glob("*.csv")):
        frames.update(read_agency_files(NEWER_SUBFOLDER, _schema_for, raw_root, stem_column=NEWER_STEM_COLUMN))
    return dict(sorted(frames.items()))


def clean(raw: dict[str, pd.DataFrame], log: MissingnessLog) -> pd.DataFrame:
    """One row per (agency_slug, year), both layouts giving the same columns; see the module docstring."""
    table = clean_agency_files(raw, _clean_file, log)
    table = mark_reporting_gaps(table, ["violent", "property", *OFFENSES], TABLE_NAME, log)
    table = mark_partial_years(table, log)
    _log_blank_counts(table, log)
    table["population"] = clean_population(table, TABLE_NAME, log)
    table["violent_per_1000"] = per_1000(table["violent"], table["population"])
    table["property_per_1000"] = per_1000(table["property"], table["population"])
    table["nibrs_era"] = table["year"] >= NIBRS_FIRST_YEAR

    table["small_cell_violent"] = table["violent"].lt(SMALL_CELL_THRESHOLD).fillna(False).astype(bool)
    return finish_table(table, PROCESSED_SCHEMA, ["agency_slug", "year"])


def partial_years(table: pd.DataFrame) -> pd.Series:
    """True for reported years whose index total is below PARTIAL_YEAR_SHARE of the median of the
    reported years within PARTIAL_YEAR_WINDOW on each side (other years of the same agency)."""
    total = (table["violent"].astype("Float64") + table["property"].astype("Float64")).astype("float64")
    years = pd.DataFrame(
        {
            "row": table.index,
            "agency_slug": table["agency_slug"].to_numpy(),
            "year": table["year"].astype("int64").to_numpy(),
            "total": total.to_numpy(),
        }
    )[table["reported"].astype(bool).to_numpy() & total.notna().to_numpy()]
    # Every pair of usable years of one agency that are 1 to PARTIAL_YEAR_WINDOW years apart.
    pairs = years.merge(years, on="agency_slug", suffixes=("", "_near"))
    pairs = pairs[(pairs["year"] - pairs["year_near"]).abs().between(1, PARTIAL_YEAR_WINDOW)]
    around = pairs.groupby("row").agg(
        total=("total", "first"), n=("total_near", "size"), median=("total_near", "median")
    )
    partial = around.index[(around["n"] >= 2) & (around["total"] < PARTIAL_YEAR_SHARE * around["median"])]
    return pd.Series(table.index.isin(partial), index=table.index)


def mark_partial_years(table: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    """Blank and log partial-year reports (see partial_years); add the ``partial_year`` column."""
    out = table.copy()
    partial = partial_years(out)
    counts = ["violent", "property", *OFFENSES]
    for index in out.index[partial]:
        key = row_key(out.at[index, "agency_slug"], int(out.at[index, "year"]))
        total = int(out.at[index, "violent"]) + int(out.at[index, "property"])
        log.add(TABLE_NAME, key, "(row)", REASON_PARTIAL_YEAR, total)
    out.loc[partial, counts] = pd.NA
    out.loc[partial, "reported"] = False
    out["partial_year"] = partial.astype(bool)
    return out


def _clean_file(frame: pd.DataFrame, stem: str, slug: str, log: MissingnessLog) -> pd.DataFrame:
    subfolder = str(frame.attrs.get("raw_path", f"ucr/{RAW_SUBFOLDER}/")).split("/")[1]
    frame = one_row_per_year(frame, subfolder, stem, TABLE_NAME, slug, log)
    current = "actual_murder" in frame.columns
    newer = "actual_burglary_total" in frame.columns
    layout = NEWER_LAYOUT_COUNTS if newer else CURRENT_LAYOUT_COUNTS if current else OLDER_LAYOUT_COUNTS
    out = agency_year_counts(frame, slug, layout)
    out["violent"] = out[VIOLENT_PARTS].sum(axis=1, skipna=False)
    out["property"] = out[PROPERTY_PARTS].sum(axis=1, skipna=False)
    if current:
        _log_published_total_differences(frame, out, log)
    return out


def _log_published_total_differences(frame: pd.DataFrame, out: pd.DataFrame, log: MissingnessLog) -> None:
    """The current layout publishes totals; where they differ from the sum of parts, the sum is kept."""
    for raw_column, column in CURRENT_LAYOUT_TOTALS.items():
        published = to_int64(frame[raw_column])
        differs = published.notna() & out[column].notna() & published.ne(out[column]).fillna(False)
        for index in out.index[differs]:
            log.add(
                TABLE_NAME,
                row_key(out.at[index, "agency_slug"], int(out.at[index, "year"])),
                column,
                f"published {raw_column} differs from the sum of its parts; the sum is used",
                published[index],
            )


def _log_blank_counts(table: pd.DataFrame, log: MissingnessLog) -> None:
    """A reported year with a blank or 'NA' offence count: that count and its total stay missing."""
    for offense in OFFENSES:
        for index in table.index[table["reported"] & table[offense].isna()]:
            key = row_key(table.at[index, "agency_slug"], int(table.at[index, "year"]))
            log.add(TABLE_NAME, key, offense, "blank or NA in the raw file for a year the agency reported")
    for column, parts in (("violent", VIOLENT_PARTS), ("property", PROPERTY_PARTS)):
        incomplete = table["reported"] & table[column].isna()
        for index in table.index[incomplete]:
            missing = [part for part in parts if pd.isna(table.at[index, part])]
            log.add(
                TABLE_NAME,
                row_key(table.at[index, "agency_slug"], int(table.at[index, "year"])),
                column,
                f"total not computed: {', '.join(missing)} missing in the raw file",
            )
