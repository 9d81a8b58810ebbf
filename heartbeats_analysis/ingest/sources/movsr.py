"""The AGO disparity index for St. Louis County agencies, 2017, as scraped by the movsr R package (SLU).

One R data file (movsr/data2017.rda): per agency, Black drivers' share of stops, Black stops and the
AGO disparity index (share of stops / share of the 16+ population). The package writes agencies by
place name, not VSR name, and misspells Ferguson as 'Furguson'; both are mapped to slugs explicitly.
The index is published, not rebuilt: the ACS table here counts all ages, so it cannot reproduce it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    agency_slug,
    raw_root_dir,
    validate,
)

TABLE_NAME = "disparity_index_2017"
RAW_KEY = "movsr_data2017"
R_OBJECT = "data2017"

MOVSR_SLUGS = {
    "Furguson": "ferguson",  # misspelled in the package's data
    "Calverton": "calverton-park",  # VSR: Calverton Park Police Dept
}
"""movsr names whose slug is not agency_slug(name); every other name is a place name that slugs alike."""

RAW_SCHEMA = pa.DataFrameSchema(
    {
        "agency": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "year": pa.Column("float64", pa.Check.eq(2017)),
        "cat": pa.Column(str, pa.Check.eq("Black")),
        "prop": pa.Column("float64", pa.Check.in_range(0, 1), nullable=True),
        "count": pa.Column("Int32", pa.Check.ge(0), nullable=True),
        "disp": pa.Column("float64", pa.Check.ge(0), nullable=True),
    },
    name="movsr_data2017_raw",
)

PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "agency_slug": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9]+(-[a-z0-9]+)*$"), unique=True),
        "movsr_name": pa.Column(str),
        "black_share_of_stops": pa.Column("float64", pa.Check.in_range(0, 1), nullable=True),
        "black_stops": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "disparity_index": pa.Column("float64", pa.Check.ge(0), nullable=True),
    },
    strict=True,
    ordered=True,
    name="disparity_index_2017",
)

COLUMNS = {
    "agency_slug": "Agency key (see agencies.csv)",
    "movsr_name": "Agency as the movsr package names it (place name; 'Furguson' for Ferguson)",
    "black_share_of_stops": "Black drivers' share of the agency's 2017 stops (0-1)",
    "black_stops": "Stops of Black drivers, 2017",
    "disparity_index": "AGO disparity index, 2017: share of stops / share of the 16+ population (1 = parity)",
}


def load_raw(raw_root: Path | None = None) -> pd.DataFrame:
    # Imported here: rdata (with xarray) takes 0.05 s to import, on the path of the cleaning kernel's start.
    import rdata

    constructors = {
        **rdata.conversion.DEFAULT_CLASS_MAP,
        "tbl_df": rdata.conversion.dataframe_constructor,
        "tbl": rdata.conversion.dataframe_constructor,
    }
    root = raw_root_dir(raw_root)
    file = registry.get(RAW_KEY).path
    frame = rdata.read_rda(root / file, constructor_dict=constructors)[R_OBJECT]
    frame = frame.astype({"agency": "str", "cat": "str"}).reset_index(drop=True)
    return validate(frame, RAW_SCHEMA, file)


def movsr_slug(name: str) -> str:
    return MOVSR_SLUGS.get(name) or agency_slug(name)


def clean(raw: pd.DataFrame, log: MissingnessLog) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "agency_slug": raw["agency"].map(movsr_slug),
            "movsr_name": raw["agency"],
            "black_share_of_stops": raw["prop"].astype("float64"),
            "black_stops": raw["count"].astype("Int64"),  # already R integers (base.parse_count rejects pd.NA)
            "disparity_index": raw["disp"].astype("float64"),
        }
    )
    for column in ["black_share_of_stops", "black_stops", "disparity_index"]:
        for _, row in table[table[column].isna()].iterrows():
            log.add(TABLE_NAME, row["agency_slug"], column, "missing in the movsr data")
    table = table.sort_values("agency_slug", kind="stable").reset_index(drop=True)
    return validate(table, PROCESSED_SCHEMA, f"{TABLE_NAME}.csv")
