"""BLS Occupational Employment and Wage Statistics, May 2025 -> the ``occupation_wages`` table.

Raw: data/raw/bls/oews-2025.sqlite.gz (registry key ``bls_oews_2025``), the BLS estimates as packaged in
a PyPI wheel: a gzipped SQLite file with tables ``area``, ``occupation``, ``datatype`` and ``cell``. A
``cell`` key is ``OEU`` + area type (N national, S state, M metro) + 7-digit area code + 6-digit industry
code + 6-digit SOC code; columns ``v01``-``v17`` hold the values of datatypes 01-17 (``v11``-``v15`` the
annual 10th, 25th, 50th, 75th and 90th percentile wages, ``v04`` the annual mean, ``v01`` employment)
and ``f01``-``f17`` their footnote codes.

Kept: all industries (industry 000000), for the St. Louis MO-IL metro area, Missouri and the US, and
the four occupations the salary comparison needs (police and sheriff's patrol officers; child and
family, healthcare, and mental-health and substance-abuse social workers). Values BLS did not release
("-", footnote 8) are missing, never zero; a wage BLS top-codes ("#", footnote 5) is missing and
flagged, since only its floor is known.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    finish_table,
    raw_root_dir,
    validate,
)

TABLE_NAME = "occupation_wages"
RAW_FILE = Path("bls") / "oews-2025.sqlite.gz"
ALL_INDUSTRIES = "000000"
AREAS = {
    "0041180": ("M", "metro"),  # St. Louis, MO-IL metropolitan statistical area
    "2900000": ("S", "state"),  # Missouri
    "0000000": ("N", "national"),
}
OCCUPATIONS = ("333051", "211021", "211022", "211023")
STATISTICS = {
    "v04": "annual_mean",
    "v11": "annual_p10",
    "v12": "annual_p25",
    "v13": "annual_median",
    "v14": "annual_p75",
    "v15": "annual_p90",
}
NOT_RELEASED, TOP_CODED = "-", "#"
REFERENCE_YEAR = 2025


def cell_key(area_code: str, occupation_code: str, industry: str = ALL_INDUSTRIES) -> str:
    """The ``cell`` table's key for one area, industry and occupation."""
    return f"OEU{AREAS[area_code][0]}{area_code}{industry}{occupation_code}"


RAW_SCHEMA = pa.DataFrameSchema(
    {
        "key": pa.Column(str, checks=pa.Check.str_matches(r"^OEU[NSM]\d{7}\d{6}\d{6}$")),
        "area_code": pa.Column(str, checks=pa.Check.isin(sorted(AREAS))),
        "area_name": pa.Column(str),
        "occupation_code": pa.Column(str, checks=pa.Check.isin(list(OCCUPATIONS))),
        "occupation_name": pa.Column(str),
        "v01": pa.Column(str, nullable=True),
        **{column: pa.Column(str, nullable=True) for column in STATISTICS},
        **{"f" + column[1:]: pa.Column(str, nullable=True) for column in ("v01", *STATISTICS)},
    },
    unique=["key"],
    name="bls_oews_raw",
)

PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "area_code": pa.Column(str, checks=pa.Check.isin(sorted(AREAS))),
        "area_name": pa.Column(str),
        "area_level": pa.Column(str, checks=pa.Check.isin(["metro", "state", "national"])),
        "occupation_code": pa.Column(str, checks=pa.Check.str_matches(r"^\d{2}-\d{4}$")),
        "occupation_name": pa.Column(str),
        "statistic": pa.Column(str, checks=pa.Check.isin(list(STATISTICS.values()))),
        "annual_wage": pa.Column("Int64", checks=pa.Check.gt(0), nullable=True),
        "employment": pa.Column("Int64", checks=pa.Check.ge(0), nullable=True),
        "top_coded": pa.Column(bool),
        "year": pa.Column("int64", checks=pa.Check.eq(REFERENCE_YEAR)),
    },
    unique=["area_code", "occupation_code", "statistic"],
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

COLUMNS = {
    "area_code": "BLS area code: 0041180 St. Louis MO-IL metro, 2900000 Missouri, 0000000 national.",
    "area_name": "BLS area name.",
    "area_level": "'metro', 'state' or 'national'.",
    "occupation_code": "SOC 2018 code (33-3051 patrol officers; 21-1021/1022/1023 social workers).",
    "occupation_name": "BLS occupation title.",
    "statistic": "annual_mean, or annual_p10/p25/median/p75/p90: annual wage percentiles, all industries.",
    "annual_wage": "US dollars a year (BLS: hourly x 2,080); missing when not released or top-coded.",
    "employment": "Employment estimate for the area and occupation (missing when not released).",
    "top_coded": "True when BLS publishes only a floor ('#': at least $239,200 a year).",
    "year": "Reference period: May of this year.",
}


def _query(database: Path) -> pd.DataFrame:
    keys = [cell_key(area, occupation) for area in AREAS for occupation in OCCUPATIONS]
    values = ", ".join(["v01", *STATISTICS, "f01", *("f" + c[1:] for c in STATISTICS)])
    sql = (
        f"SELECT c.key, {values}, a.area_code, a.area_name, o.occupation_code, o.occupation_name "
        "FROM cell c JOIN area a ON a.area_code = substr(c.key, 5, 7) "
        "JOIN occupation o ON o.occupation_code = substr(c.key, 18, 6) "
        f"WHERE c.key IN ({', '.join('?' * len(keys))})"
    )
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return pd.read_sql_query(sql, connection, params=keys, dtype=str)


def load_raw(raw_root: Path | None = None) -> pd.DataFrame:
    """The published cells (text, as in the file) for the kept areas and occupations, with their names."""
    path = raw_root_dir(raw_root) / RAW_FILE
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "oews.sqlite"
        with gzip.open(path, "rb") as source, database.open("wb") as target:
            shutil.copyfileobj(source, target)
        raw = _query(database)
    return validate(raw, RAW_SCHEMA, RAW_FILE.as_posix())


def _number(text: object) -> float | None:
    if text is None or pd.isna(text):
        return None
    text = str(text).replace(",", "").strip()
    if text in ("", NOT_RELEASED, TOP_CODED, "*", "**"):
        return None
    return float(text)


def clean(raw: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    """One row per area, occupation and wage statistic; unreleased values missing and logged."""
    published = set(raw["key"])
    for area in AREAS:
        for occupation in OCCUPATIONS:
            if cell_key(area, occupation) not in published:
                log.add(TABLE_NAME, f"area={area}, occupation={occupation}", "(row)", "no estimate published by BLS")
    rows = []
    for record in raw.to_dict("records"):
        area_level = AREAS[record["area_code"]][1]
        occupation = f"{record['occupation_code'][:2]}-{record['occupation_code'][2:]}"
        employment = _number(record["v01"])
        for column, statistic in STATISTICS.items():
            text = record[column]
            value = _number(text)
            top_coded = str(text).strip() == TOP_CODED
            if value is None:
                reason = "top-coded by BLS (at least $239,200)" if top_coded else "not released by BLS"
                log.add(TABLE_NAME, f"area={record['area_code']}, occupation={occupation}", statistic, reason, text)
            rows.append(
                {
                    "area_code": record["area_code"],
                    "area_name": record["area_name"],
                    "area_level": area_level,
                    "occupation_code": occupation,
                    "occupation_name": record["occupation_name"],
                    "statistic": statistic,
                    "annual_wage": value,
                    "employment": employment,
                    "top_coded": top_coded,
                    "year": REFERENCE_YEAR,
                }
            )
    table = pd.DataFrame(rows, columns=list(PROCESSED_SCHEMA.columns))
    table["annual_wage"] = table["annual_wage"].astype("Float64").round().astype("Int64")
    table["employment"] = table["employment"].astype("Float64").round().astype("Int64")
    table["year"] = table["year"].astype("int64")
    table["top_coded"] = table["top_coded"].astype(bool)
    order = {level: i for i, (_, level) in enumerate(AREAS.values())}
    stats = {name: i for i, name in enumerate(STATISTICS.values())}
    return finish_table(
        table,
        PROCESSED_SCHEMA,
        ["area_level", "occupation_code", "statistic"],
        key=lambda column: (
            column.map(order)
            if column.name == "area_level"
            else column.map(stats)
            if column.name == "statistic"
            else column
        ),
    )
