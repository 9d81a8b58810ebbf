"""Agency names for the build and the CLI: resolve what a user typed to a canonical slug."""

from __future__ import annotations

import csv

from heartbeats_analysis.errors import TableMissingError
from heartbeats_analysis.paths import processed_dir


def _rows() -> list[dict[str, str]]:
    path = processed_dir() / "agencies.csv"
    if not path.is_file():
        raise TableMissingError(f"{path} does not exist. Run `heartbeats clean` (or `make report`) first.")
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def resolve_agency(query: str) -> str:
    """An exact slug is looked up directly (no pandas import: keeps a no-op rebuild fast);
    anything else goes through the fuzzy resolver with suggestions."""
    if any(row["agency_slug"] == query for row in _rows()):
        return query
    from heartbeats_analysis.ingest.sources.agencies import resolve_agency as resolve
    from heartbeats_analysis.ingest.tables import load_table

    return resolve(query, load_table("agencies"))


def display_name(slug: str) -> str:
    return next((row["display_name"] for row in _rows() if row["agency_slug"] == slug), slug)
