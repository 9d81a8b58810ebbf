"""Agency names for the build and the CLI: resolve what a user typed to a canonical slug."""

from __future__ import annotations

from .tables import load_table


def resolve_agency(query: str) -> str:
    from .sources.agencies import resolve_agency as resolve

    return resolve(query, load_table("agencies"))


def display_name(slug: str) -> str:
    agencies = load_table("agencies")
    match = agencies.loc[agencies["agency_slug"] == slug, "display_name"]
    return str(match.iloc[0]) if len(match) else slug
