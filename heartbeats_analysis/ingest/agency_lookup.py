"""Agency names for the build and the CLI: resolve what a user typed (slug, name, older spelling, ORI) to
the canonical agency slug, with the closest matches when nothing fits."""

from __future__ import annotations

import csv
from collections import defaultdict
from typing import TYPE_CHECKING

from heartbeats_analysis.errors import AgencyNotFoundError, TableMissingError
from heartbeats_analysis.paths import processed_dir

if TYPE_CHECKING:
    import pandas as pd


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
    from heartbeats_analysis.ingest.tables import load_table

    return resolve_in_table(query, load_table("agencies"))


def display_name(slug: str) -> str:
    return next((row["display_name"] for row in _rows() if row["agency_slug"] == slug), slug)


def _normalise_query(text: str) -> str:
    return " ".join(str(text).casefold().split())


def _lookup(agencies: pd.DataFrame) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = defaultdict(set)
    for row in agencies.itertuples():
        aliases = row.vsr_aliases.split("; ") if isinstance(row.vsr_aliases, str) else []
        for value in [row.agency_slug, row.display_name, row.vsr_name, row.ucr_name, row.ori, row.ori9, *aliases]:
            if isinstance(value, str) and value:
                keys[_normalise_query(value)].add(row.agency_slug)
    return keys


def resolve_in_table(query: str, agencies: pd.DataFrame) -> str:
    """The agency_slug for a slug, VSR name (or older spelling), UCR name, display name or ORI (7 or 9
    characters), case-insensitive. Unknown or ambiguous queries raise AgencyNotFoundError listing the
    closest agencies (its ``suggestions`` attribute holds their slugs)."""
    from rapidfuzz import fuzz, process

    from heartbeats_analysis.ingest.sources.base import agency_slug

    keys = _lookup(agencies)
    wanted = _normalise_query(query)
    slugs = keys.get(wanted) or ({agency_slug(query)} & set(agencies["agency_slug"]) if wanted else set())
    if len(slugs) == 1:
        return next(iter(slugs))

    display = agencies.set_index("agency_slug")["display_name"]
    if slugs:
        suggestions = sorted(slugs)
        message = f"{query!r} names more than one agency: "
    else:
        # Compare slug forms so that the words every name shares ("Police Dept") do not drive the score.
        forms: dict[str, set[str]] = defaultdict(set)
        for key, owners in keys.items():
            forms[agency_slug(key)] |= owners
        scored = process.extract(agency_slug(query), list(forms), scorer=fuzz.WRatio, limit=None)
        suggestions = []
        for form, _score, _ in sorted(scored, key=lambda match: (-match[1], match[0])):
            for slug in sorted(forms[form]):
                if slug not in suggestions:
                    suggestions.append(slug)
            if len(suggestions) >= 5:
                break
        suggestions = suggestions[:5]
        message = f"No agency matches {query!r}. Closest: "
    error = AgencyNotFoundError(
        message + ", ".join(f"{display[s]} ({s})" for s in suggestions) + ". Pass the agency_slug from agencies.csv."
    )
    error.suggestions = suggestions
    raise error
