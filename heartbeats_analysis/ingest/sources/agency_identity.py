"""Agency identity: which VSR name spellings are one agency, and the slug every table keys it by.

For the 16 UCR agencies the slug is fixed by resources/ucr_agency_crosswalk.csv; every other VSR agency
gets ``base.agency_slug(vsr_name)``. VSR names change between report years ("Cass County Sheriff's Office"
to "... Dept", "Bourbon - Dept of Public Safety" to "Bourbon-Dept of Public Safety"), so names that share
a slug are one agency when they never appear in the same file for the same year, and distinct agencies
when they do; distinct agencies keep the slug in name order and the later ones get "-2", "-3"
(``assign_slugs``). Both the stops source (vsr) and the agency crosswalk (agencies) use this module, so
neither imports the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import agency_slug, read_text_csv, validate
from heartbeats_analysis.paths import RESOURCES_DIR

UCR_CROSSWALK_CSV = RESOURCES_DIR / "ucr_agency_crosswalk.csv"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
AGENCY_TYPES = [
    "municipal_police",
    "county_police",
    "county_sheriff",
    "university",
    "park_ranger",
    "state_patrol",
    "other",
]

UCR_SCHEMA = pa.DataFrameSchema(
    {
        "agency_slug": pa.Column(str, pa.Check.str_matches(SLUG_PATTERN), unique=True),
        "display_name": pa.Column(str, pa.Check.str_length(min_value=1)),
        "ucr_name": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "ori": pa.Column(str, pa.Check.str_matches(r"^MO\d{5}$"), unique=True),
        "ori9": pa.Column(str, pa.Check.str_matches(r"^MO\d{7}$"), unique=True),
        "vsr_name": pa.Column(str),
        "census_name": pa.Column(str, pa.Check.str_length(min_value=1)),
        "county": pa.Column(str),
        "agency_type": pa.Column(str, pa.Check.isin(AGENCY_TYPES)),
        "note": pa.Column(str),
    },
    checks=[pa.Check(lambda df: df["ori9"].str[:7] == df["ori"], error="ori9 extends ori")],
    name="ucr_agency_crosswalk",
)


def ucr_crosswalk(path: Path = UCR_CROSSWALK_CSV) -> pd.DataFrame:
    """The explicit crosswalk of the 16 UCR agencies (blank cells are empty strings)."""
    return validate(read_text_csv(path), UCR_SCHEMA, path.name)


def assign_slugs(observed: pd.DataFrame, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Give every VSR name an agency slug.

    ``observed`` has one row per (vsr_name, file, year) seen; ``overrides`` maps a VSR name to a fixed
    slug (the UCR crosswalk). Names sharing a slug are one renamed agency if no file lists two of them in
    the same year; otherwise each is its own agency: an overridden name keeps the slug, the rest follow
    in name order with "-2", "-3", ... (skipping slugs already in use). Returns vsr_name, agency_slug,
    first_year, last_year and is_primary (the name to show: latest year, then the JSON, then name order).
    """
    overrides = dict(overrides or {})
    spans = (
        observed.assign(in_json=observed["file"].eq("json"))
        .groupby("vsr_name")
        .agg(first_year=("year", "min"), last_year=("year", "max"), in_json=("in_json", "any"))
    )
    seen_in: dict[str, set] = defaultdict(set)
    for name, file, year in zip(observed["vsr_name"], observed["file"], observed["year"], strict=True):
        seen_in[name].add((file, year))
    base = {name: overrides.get(name) or agency_slug(name) for name in spans.index}

    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(base):
        groups[base[name]].append(name)
    taken = set(groups)
    slug_of: dict[str, str] = {}
    for slug in sorted(groups):
        names = groups[slug]
        overlapping = any(seen_in[a] & seen_in[b] for i, a in enumerate(names) for b in names[i + 1 :])
        if not overlapping:
            slug_of.update({name: slug for name in names})
            continue
        ordered = sorted(names, key=lambda n: (overrides.get(n) != slug, n))
        slug_of[ordered[0]] = slug
        suffix = 2
        for name in ordered[1:]:
            while f"{slug}-{suffix}" in taken:
                suffix += 1
            slug_of[name] = f"{slug}-{suffix}"
            taken.add(slug_of[name])

    table = spans.reset_index().assign(agency_slug=lambda t: t["vsr_name"].map(slug_of))
    table = table.sort_values(
        ["agency_slug", "last_year", "in_json", "vsr_name"], ascending=[True, False, False, True], kind="stable"
    )
    table["is_primary"] = ~table.duplicated("agency_slug")
    return table[["vsr_name", "agency_slug", "first_year", "last_year", "is_primary"]].reset_index(drop=True)


VSR_RENAMES = {
    "California Police Dept": "City of California Police Dept",
    "Kansas City Int'l Airport PD": "Kansas City Int'l Airport Police",
    "Metropolitan Comm College PD": "Metropolitan Community College Police Dept",
    "Missouri Dept Ntl Res-Park Ranger": "Missouri Dept Natural Resources-Park Rangers",
    "Missouri Dept of Conservation": "Missouri Dept of Conservation Protection Branch",
    "Missouri Southern St Univ PD": "Missouri Southern State University",
    "Missouri Univ of Sci and Tech PD": "Missouri Univ SandT Police Dept",
    "Missouri Western St Univ PD": "Missouri Western State University Police Dept",
    "NW MO St Univ PD": "NW MO State University Police Dept",
    "SE MO St Univ - DPS": "SE MO State University-Dept of Public Safety",
    "Springfield-Branson Ntl Airport PD": "Springfield-Branson National Airport Police",
    "St Charles City Parks & Rec Dept": "St Charles City Parks and Recreation Dept",
    "St Charles Comm College PD": "St Charles Community College Police Dept",
    "Univ of Missouri-Columbia PD": "University of Missouri-Columbia Police Dept",
    "Univ of Missouri-Kansas City PD": "University of Missouri-Kansas City Police Dept",
    "Univ of Missouri-St Louis PD": "University of Missouri-St Louis Police Dept",
}
"""Pre-2020 abbreviations in the per-race stops files -> the agency's name in the 2020-2024 JSON. Only
unmistakable renames; look-alike towns (Camden Point / Camden, Hayti Heights / Hayti) stay apart."""


def vsr_slug_table(observed: pd.DataFrame) -> pd.DataFrame:
    """assign_slugs with the UCR crosswalk's slugs fixed for its VSR names and the known renames joined."""
    ucr = ucr_crosswalk()
    overrides = {row.vsr_name: row.agency_slug for row in ucr.itertuples() if row.vsr_name}
    for old, new in VSR_RENAMES.items():
        overrides[old] = overrides.get(new) or agency_slug(new)
    return assign_slugs(observed, overrides)
