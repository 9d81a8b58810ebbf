"""Missouri Vehicle Stops Report (VSR): stops, searches, contraband, arrests and citations by driver race.

Two views of the same AGO reports, extracted by Recovered Factory / The Marshall Project:

- ``metric_year_subset_2020_2024.json``: every agency, 2020-2024, seven race columns (Total, White, Black,
  Hispanic, Native American, Asian, Other) and five counts. This is the source of record for 2020-2024.
- ``stops_<race>_by_agency_2014_2024.csv`` (White, Black, Hispanic): stops only, 2014-2024, and only for
  agencies with a 2014 baseline for that race. These supply 2014-2019; their 2020-2024 rows are not used
  but compared with the JSON (``per_race_agreement``), which they matched cell for cell when written.

An agency-year absent from every file (Ferguson 2021) gets no row; a gap inside an agency's reporting span
is written to the missingness log. Blank cells in the JSON become <NA>, never zero. Pre-2020 rows carry
<NA> for every count except stops: the per-race files do not report them.

Agency names change between report years ("Camden County Sheriff's Office" before 2020, "... Dept"
after); ``agency_identity.assign_slugs`` decides which spellings are one agency, and ``clean_names``
writes that decision as the ``agency_names`` table.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources.agency_identity import SLUG_PATTERN, vsr_slug_table
from heartbeats_analysis.ingest.sources.base import (
    SMALL_CELL_THRESHOLD,
    MissingnessLog,
    SchemaValidationError,
    count_text_check,
    finish_table,
    raw_root_dir,
    read_raw_csv,
    to_int64,
    validate,
)

TABLE_NAME = "stops"
STATEWIDE_TABLE_NAME = "stops_statewide"
NAMES_TABLE_NAME = "agency_names"

METRICS_KEY = "vsr_metric_year_subset_2020_2024"
PER_RACE_KEYS = {
    "white": "vsr_stops_white_by_agency_2014_2024",
    "black": "vsr_stops_black_by_agency_2014_2024",
    "hispanic": "vsr_stops_hispanic_by_agency_2014_2024",
}
STATEWIDE_BY_RACE_KEY = "vsr_statewide_by_race_2014_2024"
STATEWIDE_HIT_RATES_KEY = "vsr_statewide_contraband_hit_rates_2014_2024"

SOURCE_JSON = "vsr_2020_2024"
SOURCE_PER_RACE = "vsr_stops_by_race_2014_2024"

RACES = {
    "Total": "total",
    "White": "white",
    "Black": "black",
    "Hispanic": "hispanic",
    "Native American": "native_american",
    "Asian": "asian",
    "Other": "other",
}
COUNT_METRICS = {
    "rates-by-race--totals--all-stops": "stops",
    "rates-by-race--totals--searches": "searches",
    "rates-by-race--totals--contraband": "contraband",
    "rates-by-race--totals--arrests": "arrests",
    "rates-by-race--totals--citations": "citations",
}
COUNTS = list(COUNT_METRICS.values())


def _whole_counts(df: pd.DataFrame) -> pd.Series:
    counts = df[df["metric"].isin(list(COUNT_METRICS))][list(RACES)]
    return (counts.isna() | (counts % 1 == 0)).all(axis=1).reindex(df.index, fill_value=True)


METRICS_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "agency": pa.Column(str, pa.Check.str_length(min_value=1)),
        "year": pa.Column("int64", pa.Check.in_range(2000, 2030)),
        "metric": pa.Column(str),
        **{race: pa.Column("float64", pa.Check.ge(0), nullable=True) for race in RACES},
    },
    checks=[
        pa.Check(
            lambda df: pd.Series(list(COUNT_METRICS)).isin(df["metric"]).all(),
            error=f"the JSON carries every count metric: {', '.join(COUNT_METRICS)}",
        ),
        pa.Check(_whole_counts, error="count metrics hold whole numbers"),
    ],
    unique=["agency", "year", "metric"],
    name="vsr_metric_year_subset_raw",
)

PER_RACE_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "Agency": pa.Column(str, pa.Check.str_length(min_value=1)),
        "Region": pa.Column(str),
        "Year": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "Stops": pa.Column(str, count_text_check()),
        "Indexed": pa.Column(str, pa.Check.str_matches(r"^\s*(\d+(\.\d*)?)?\s*$")),
    },
    name="vsr_stops_by_race_by_agency_raw",
)
RAW_SCHEMA = METRICS_RAW_SCHEMA

_RATE_TEXT = pa.Check.str_matches(r"^\s*(\d+(\.\d*)?)?\s*$")
STATEWIDE_BY_RACE_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "race": pa.Column(str, pa.Check.isin(["White", "Black", "Hispanic"])),
        "year": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "total_stops": pa.Column(str, count_text_check()),
        "search_rate_pct": pa.Column(str, _RATE_TEXT),
        "arrest_count": pa.Column(str, count_text_check()),
    },
    unique=["race", "year"],
    name="vsr_statewide_by_race_raw",
)
STATEWIDE_HIT_RATES_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column(str, pa.Check.str_matches(r"^\d{4}$")),
        "race": pa.Column(str, pa.Check.isin(["White", "Black", "Hispanic"])),
        "searches": pa.Column(str, count_text_check()),
        "contraband": pa.Column(str, count_text_check()),
        "hit_rate": pa.Column(str, _RATE_TEXT),
    },
    unique=["race", "year"],
    name="vsr_statewide_contraband_hit_rates_raw",
)

_COUNT = pa.Column("Int64", pa.Check.ge(0), nullable=True)
PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "agency_slug": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9]+(-[a-z0-9]+)*$")),
        "vsr_name": pa.Column(str, pa.Check.str_length(min_value=1)),
        "year": pa.Column("int64", pa.Check.in_range(2000, 2030)),
        "race": pa.Column(str, pa.Check.isin(list(RACES.values()))),
        **{count: _COUNT for count in COUNTS},
        "source": pa.Column(str, pa.Check.isin([SOURCE_JSON, SOURCE_PER_RACE])),
        "small_cell_searches": pa.Column(bool),
    },
    checks=[
        pa.Check(
            lambda df: df["source"].ne(SOURCE_PER_RACE) | df["race"].isin(["white", "black", "hispanic"]),
            error="the per-race files only carry white, black and hispanic",
        ),
    ],
    unique=["agency_slug", "year", "race"],
    strict=True,
    ordered=True,
    name="stops",
)

STATEWIDE_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column("int64", pa.Check.in_range(2000, 2030)),
        "race": pa.Column(str, pa.Check.isin(["white", "black", "hispanic"])),
        "stops": _COUNT,
        "searches": _COUNT,
        "contraband": _COUNT,
        "arrests": _COUNT,
        "search_rate_pct": pa.Column("Float64", pa.Check.in_range(0, 100), nullable=True),
        "hit_rate_pct": pa.Column("Float64", pa.Check.in_range(0, 100), nullable=True),
    },
    unique=["year", "race"],
    strict=True,
    ordered=True,
    name="stops_statewide",
)

COLUMNS = {
    "agency_slug": "Agency key (see agencies.csv); spellings of one agency across report years share it",
    "vsr_name": "Agency name exactly as the VSR file writes it for this row (whitespace normalised)",
    "year": "Report year (calendar year of the stops)",
    "race": "Driver race as the AGO reports it: total, white, black, hispanic, native_american, asian, other",
    "stops": "Vehicle stops",
    "searches": "Searches (of driver or property); <NA> before 2020 (not in the per-race files)",
    "contraband": "Searches that found contraband, as published (a few agencies report more than searches); "
    "<NA> before 2020",
    "arrests": "Stops ending in an arrest; <NA> before 2020",
    "citations": "Citations issued (can exceed stops); <NA> before 2020",
    "source": f"{SOURCE_JSON} (metric_year_subset JSON, 2020-2024) or {SOURCE_PER_RACE} "
    "(stops_<race>_by_agency CSVs, 2014-2019)",
    "small_cell_searches": f"True when searches < {SMALL_CELL_THRESHOLD} or missing: do not read search or "
    "hit rates from this row",
}

NAMES_SCHEMA = pa.DataFrameSchema(
    {
        "vsr_name": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "agency_slug": pa.Column(str, pa.Check.str_matches(SLUG_PATTERN)),
        "first_year": pa.Column("int64"),
        "last_year": pa.Column("int64"),
        "is_primary": pa.Column(bool),
    },
    checks=[pa.Check(lambda df: df["first_year"] <= df["last_year"], error="first_year <= last_year")],
    name=NAMES_TABLE_NAME,
)

NAMES_COLUMNS = {
    "vsr_name": "An agency name as the VSR files spell it (whitespace normalised)",
    "agency_slug": "The agency it belongs to (see agencies.csv); spellings of one renamed agency share it",
    "first_year": "First report year any VSR file lists this spelling",
    "last_year": "Last report year any VSR file lists this spelling",
    "is_primary": "True for the spelling agencies.csv shows (latest year, then the 2020-2024 JSON, then name)",
}

STATEWIDE_COLUMNS = {
    "year": "Report year",
    "race": "white, black or hispanic (the only races the statewide files give)",
    "stops": "Statewide vehicle stops (statewide_by_race total_stops)",
    "searches": "Statewide searches (contraband hit-rate file)",
    "contraband": "Statewide searches that found contraband",
    "arrests": "Statewide arrests (statewide_by_race arrest_count)",
    "search_rate_pct": "Searches per 100 stops, as published",
    "hit_rate_pct": "Contraband found per 100 searches, as published",
}


@dataclass(frozen=True)
class VsrRaw:
    metrics: pd.DataFrame
    """The JSON flattened: one row per (agency, year, metric) with the seven race columns as published."""
    stops_by_race: pd.DataFrame
    """The three per-race CSVs stacked, with the race taken from the file (column file_race)."""
    statewide_by_race: pd.DataFrame
    statewide_hit_rates: pd.DataFrame

    def observed_names(self) -> pd.DataFrame:
        """Every (vsr_name, file, year) the agency files show: the evidence for agency identity."""
        json_names = self.metrics[["agency", "year"]].drop_duplicates().assign(file="json")
        per_race = self.stops_by_race.assign(year=self.stops_by_race["Year"].astype("int64"))
        per_race = per_race[["Agency", "year", "file_race"]].rename(columns={"Agency": "agency", "file_race": "file"})
        names = pd.concat([json_names, per_race], ignore_index=True).rename(columns={"agency": "vsr_name"})
        names["vsr_name"] = names["vsr_name"].map(normalise_name)
        return names.drop_duplicates().reset_index(drop=True)


def normalise_name(name: str) -> str:
    return " ".join(str(name).split())


def _flatten_metrics(document: object, file: str) -> pd.DataFrame:
    """The compact JSON layout (agencies[], years[], columns, rows{metric: [[agency_idx, year_idx, ...]]})
    as a flat frame; structural faults are reported against the file, like schema faults."""

    def fail(problem: str) -> SchemaValidationError:
        return SchemaValidationError(f"{file} does not match the expected layout: {problem}")

    if not isinstance(document, dict) or not {"agencies", "years", "columns", "rows"} <= set(document):
        raise fail("expected an object with agencies, years, columns and rows")
    agencies, years, columns = document["agencies"], document["years"], document["columns"]
    if list(columns) != list(RACES):
        raise fail(f"columns are {columns!r}, expected {list(RACES)!r}")
    records = []
    for metric, rows in document["rows"].items():
        for row in rows:
            if len(row) != 2 + len(columns):
                raise fail(f"metric {metric!r} row {row!r} does not hold agency, year and {len(columns)} values")
            agency_idx, year_idx = row[0], row[1]
            if not (0 <= agency_idx < len(agencies) and 0 <= year_idx < len(years)):
                raise fail(f"metric {metric!r} row {row[:2]!r} points outside agencies[] or years[]")
            records.append([agencies[agency_idx], years[year_idx], metric, *row[2:]])
    frame = pd.DataFrame(records, columns=["agency", "year", "metric", *RACES]).astype({"year": "int64"})
    for race in RACES:
        # Text in a count is left as it is, for the schema to report with its column.
        with contextlib.suppress(TypeError, ValueError):
            frame[race] = frame[race].astype("float64")
    return frame


def load_raw(raw_root: Path | None = None) -> VsrRaw:
    root = raw_root_dir(raw_root)
    metrics_file = registry.get(METRICS_KEY).path
    with open(root / metrics_file, encoding="utf-8") as fh:
        document = json.load(fh)
    metrics = validate(_flatten_metrics(document, metrics_file), METRICS_RAW_SCHEMA, metrics_file)

    per_race = []
    for race, key in PER_RACE_KEYS.items():
        per_race.append(read_raw_csv(root, registry.get(key).path, PER_RACE_RAW_SCHEMA).assign(file_race=race))

    return VsrRaw(
        metrics=metrics,
        stops_by_race=pd.concat(per_race, ignore_index=True),
        statewide_by_race=read_raw_csv(root, registry.get(STATEWIDE_BY_RACE_KEY).path, STATEWIDE_BY_RACE_RAW_SCHEMA),
        statewide_hit_rates=read_raw_csv(
            root, registry.get(STATEWIDE_HIT_RATES_KEY).path, STATEWIDE_HIT_RATES_RAW_SCHEMA
        ),
    )


def _slugs(raw: VsrRaw) -> pd.Series:
    table = vsr_slug_table(raw.observed_names())
    return table.set_index("vsr_name")["agency_slug"]


def clean_names(raw: VsrRaw, log: MissingnessLog) -> pd.DataFrame:
    """Every VSR spelling with the agency slug it was given: the identity the agencies table builds on."""
    return finish_table(vsr_slug_table(raw.observed_names()), NAMES_SCHEMA, ["agency_slug", "vsr_name"])


def _json_rows(raw: VsrRaw, slugs: pd.Series, log: MissingnessLog) -> pd.DataFrame:
    counts = raw.metrics[raw.metrics["metric"].isin(list(COUNT_METRICS))]
    long = counts.melt(id_vars=["agency", "year", "metric"], value_vars=list(RACES), var_name="race_label")
    wide = long.pivot(index=["agency", "year", "race_label"], columns="metric", values="value")
    wide = wide.reindex(columns=list(COUNT_METRICS)).rename(columns=COUNT_METRICS).reset_index()
    wide.columns.name = None
    wide["vsr_name"] = wide["agency"].map(normalise_name)
    wide["agency_slug"] = wide["vsr_name"].map(slugs)
    wide["race"] = wide["race_label"].map(RACES)
    for count in COUNTS:
        wide[count] = to_int64(wide[count])
        for _, row in wide[wide[count].isna()].iterrows():
            log.add(
                TABLE_NAME,
                f"{row['agency_slug']}|{row['year']}|{row['race']}",
                count,
                "blank in the VSR JSON (not reported for this race)",
            )
    return wide.assign(source=SOURCE_JSON)


def _per_race_rows(raw: VsrRaw, slugs: pd.Series, json_rows: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    json_years = set(json_rows["year"])
    json_agency_years = pd.MultiIndex.from_frame(json_rows[["agency_slug", "year"]].drop_duplicates())
    rows = raw.stops_by_race.assign(
        vsr_name=raw.stops_by_race["Agency"].map(normalise_name),
        year=raw.stops_by_race["Year"].astype("int64"),
        race=raw.stops_by_race["file_race"],
    )
    rows["agency_slug"] = rows["vsr_name"].map(slugs)
    repeated = rows.duplicated(["agency_slug", "year", "race", "Stops"])
    for _, row in rows[repeated].iterrows():
        log.add(
            TABLE_NAME,
            f"{row['agency_slug']}|{row['year']}|{row['race']}",
            "stops",
            "exact duplicate row in the per-race stops file; dropped",
            row["Stops"],
        )
    rows = rows[~repeated]
    covered_by_json = rows["year"].isin(json_years)
    in_json = pd.MultiIndex.from_frame(rows[["agency_slug", "year"]]).isin(json_agency_years)
    for _, row in rows[covered_by_json & ~in_json].iterrows():
        log.add(
            TABLE_NAME,
            f"{row['agency_slug']}|{row['year']}|{row['race']}",
            "stops",
            "per-race file has a row the JSON (source of record for this year) lacks; not used",
            row["Stops"],
        )
    rows = rows[~covered_by_json].copy()
    rows["stops"] = to_int64(rows["Stops"])
    for _, row in rows[rows["stops"].isna()].iterrows():
        log.add(
            TABLE_NAME,
            f"{row['agency_slug']}|{row['year']}|{row['race']}",
            "stops",
            "blank in the per-race stops file",
            row["Stops"],
        )
    for count in COUNTS[1:]:
        rows[count] = pd.array([pd.NA] * len(rows), dtype="Int64")
    return rows.assign(source=SOURCE_PER_RACE)


def _log_interior_gaps(table: pd.DataFrame, log: MissingnessLog) -> None:
    """An agency-year inside an agency's reporting span with no row in any file is a reporting gap."""
    for slug, years in table.groupby("agency_slug")["year"]:
        present = set(years)
        for year in range(min(present), max(present) + 1):
            if year not in present:
                log.add(TABLE_NAME, f"{slug}|{year}", "(all)", "agency-year absent from every VSR file")


def clean(raw: VsrRaw, log: MissingnessLog) -> pd.DataFrame:
    slugs = _slugs(raw)
    json_rows = _json_rows(raw, slugs, log)
    per_race = _per_race_rows(raw, slugs, json_rows, log)
    table = pd.concat([json_rows, per_race], ignore_index=True)
    table["small_cell_searches"] = (table["searches"].isna() | (table["searches"] < SMALL_CELL_THRESHOLD)).astype(bool)
    _log_interior_gaps(table, log)

    race_order = {race: i for i, race in enumerate(RACES.values())}
    return finish_table(
        table.assign(_race_order=table["race"].map(race_order)),
        PROCESSED_SCHEMA,
        ["agency_slug", "year", "_race_order"],
    )


def per_race_agreement(raw: VsrRaw) -> pd.DataFrame:
    """Compare the per-race stops files with the JSON wherever both cover an (agency, year, race).

    One row per race with the number of cells compared, the number that agree and the agreement rate;
    the per-race rows the JSON lacks are counted as json_missing.
    """
    slugs = _slugs(raw)
    json_stops = _json_rows(raw, slugs, MissingnessLog())[["agency_slug", "year", "race", "stops"]]
    per_race = raw.stops_by_race.assign(
        agency_slug=raw.stops_by_race["Agency"].map(normalise_name).map(slugs),
        year=raw.stops_by_race["Year"].astype("int64"),
        race=raw.stops_by_race["file_race"],
        per_race_stops=to_int64(raw.stops_by_race["Stops"]),
    )
    per_race = per_race[per_race["year"].isin(set(json_stops["year"]))]
    both = per_race.merge(json_stops, on=["agency_slug", "year", "race"], how="left", indicator=True)
    both["compared"] = both["_merge"].eq("both")
    both["agree"] = both["compared"] & (both["per_race_stops"] == both["stops"]).fillna(False).astype(bool)
    summary = both.groupby("race").agg(
        compared=("compared", "sum"), agree=("agree", "sum"), json_missing=("compared", lambda c: int((~c).sum()))
    )
    summary.loc["all"] = summary.sum()
    summary["agreement_rate"] = summary["agree"] / summary["compared"]
    return summary.reset_index()


def clean_statewide(raw: VsrRaw, log: MissingnessLog) -> pd.DataFrame:
    by_race = raw.statewide_by_race.assign(
        stops=to_int64(raw.statewide_by_race["total_stops"]),
        arrests=to_int64(raw.statewide_by_race["arrest_count"]),
        search_rate_pct=pd.to_numeric(raw.statewide_by_race["search_rate_pct"].str.strip().replace("", None)),
    )[["year", "race", "stops", "arrests", "search_rate_pct"]]
    hits = raw.statewide_hit_rates.assign(
        searches=to_int64(raw.statewide_hit_rates["searches"]),
        contraband=to_int64(raw.statewide_hit_rates["contraband"]),
        hit_rate_pct=pd.to_numeric(raw.statewide_hit_rates["hit_rate"].str.strip().replace("", None)),
    )[["year", "race", "searches", "contraband", "hit_rate_pct"]]
    table = by_race.merge(hits, on=["year", "race"], how="outer")
    table["year"] = table["year"].astype("int64")
    table["race"] = table["race"].str.lower()
    for column in ["search_rate_pct", "hit_rate_pct"]:
        table[column] = table[column].astype("Float64")
    for column in STATEWIDE_SCHEMA.columns:
        for _, row in table[table[column].isna()].iterrows():
            log.add(
                STATEWIDE_TABLE_NAME,
                f"{row['year']}|{row['race']}",
                column,
                "blank in, or absent from, the statewide file",
            )
    race_order = {"white": 0, "black": 1, "hispanic": 2}
    return finish_table(
        table, STATEWIDE_SCHEMA, ["year", "race"], key=lambda s: s.map(race_order) if s.name == "race" else s
    )


EXTRA_TABLES = {
    STATEWIDE_TABLE_NAME: (STATEWIDE_SCHEMA, STATEWIDE_COLUMNS, clean_statewide),
    NAMES_TABLE_NAME: (NAMES_SCHEMA, NAMES_COLUMNS, clean_names),
}
"""Extra tables built from the same raw: name -> (schema, columns, function(raw, log) -> DataFrame)."""
