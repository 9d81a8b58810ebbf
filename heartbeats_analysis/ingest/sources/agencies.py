"""The agency crosswalk: one row per agency across the VSR, the UCR files and the census.

Identity. An agency's key is ``agency_slug``: for the 16 UCR agencies the slug in
resources/ucr_agency_crosswalk.csv, for every other VSR agency ``base.agency_slug(vsr_name)``. VSR names
change between report years ("Cass County Sheriff's Office" to "... Dept", "Bourbon - Dept of Public
Safety" to "Bourbon-Dept of Public Safety"), so names that share a slug are one agency when they never
appear in the same file for the same year, and distinct agencies when they do; distinct agencies keep
the slug in name order and the later ones get "-2", "-3" (``assign_slugs``).

Census geography. The UCR crosswalk wins for its agencies; otherwise vsr/agency_population_acs2024.csv
(matched to ACS 2024 names), then vsr/agency_census_crosswalk.csv (generated names such as
"St Ann city, Missouri" that the census does not use). A name the ACS table does not hold is matched
on its stem (case, punctuation, "City of" and the city/village/town/CDP/County suffix ignored) when
exactly one ACS geography has that stem; the correction is written in ``note``. Agencies with no census
geography (railway, airport, school and capitol police) keep geoid <NA>.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pandera.pandas as pa
from rapidfuzz import fuzz, process

from heartbeats_analysis.errors import AgencyNotFoundError
from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources import acs
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    agency_slug,
    count_text_check,
    raw_root_dir,
    read_raw_csv,
    read_text_csv,
    validate,
)
from heartbeats_analysis.paths import RESOURCES_DIR

if TYPE_CHECKING:  # vsr imports this module for its slugs; the runtime import is inside load_raw
    from heartbeats_analysis.ingest.sources.vsr import VsrRaw

TABLE_NAME = "agencies"

UCR_CROSSWALK_CSV = RESOURCES_DIR / "ucr_agency_crosswalk.csv"
CENSUS_CROSSWALK_KEY = "vsr_agency_census_crosswalk"
AGENCY_POPULATION_KEY = "vsr_agency_population_acs2024"

AGENCY_TYPES = [
    "municipal_police",
    "county_police",
    "county_sheriff",
    "university",
    "park_ranger",
    "state_patrol",
    "other",
]
GEO_TYPES = ["place", "county", "state"]
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

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

RAW_SCHEMA = pa.DataFrameSchema(
    {
        "agency": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "agency_type": pa.Column(str, pa.Check.isin(AGENCY_TYPES)),
        "census_geo_type": pa.Column(str, pa.Check.isin(GEO_TYPES)),
        "census_match_name": pa.Column(str),
        "needs_manual_review": pa.Column(str, pa.Check.isin(["0", "1"])),
        "census_match_uncertain": pa.Column(str, pa.Check.isin(["0", "1"])),
    },
    name="vsr_agency_census_crosswalk_raw",
)

AGENCY_POPULATION_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "agency": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "agency_type": pa.Column(str, pa.Check.isin(AGENCY_TYPES)),
        "census_geo_type": pa.Column(str, pa.Check.isin(GEO_TYPES)),
        "census_match_name": pa.Column(str, pa.Check.str_length(min_value=1)),
        **{
            column: pa.Column(str, count_text_check())
            for column in ["pop_total", "pop_white", "pop_black", "pop_hispanic"]
        },
    },
    name="vsr_agency_population_acs2024_raw",
)

_TEXT = pa.Column(str, nullable=True)
PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "agency_slug": pa.Column(str, pa.Check.str_matches(SLUG_PATTERN), unique=True),
        "display_name": pa.Column(str, pa.Check.str_length(min_value=1)),
        "vsr_name": _TEXT,
        "vsr_aliases": _TEXT,
        "ucr_name": _TEXT,
        "ori": pa.Column(str, pa.Check.str_matches(r"^MO\d{5}$"), nullable=True),
        "ori9": pa.Column(str, pa.Check.str_matches(r"^MO\d{7}$"), nullable=True),
        "census_name": _TEXT,
        "geoid": pa.Column(str, pa.Check.str_matches(r"^29(\d{3}|\d{5})?$"), nullable=True),
        "geo_type": pa.Column(str, pa.Check.isin(GEO_TYPES), nullable=True),
        "county": _TEXT,
        "agency_type": pa.Column(str, pa.Check.isin(AGENCY_TYPES), nullable=True),
        "in_ucr": pa.Column(bool),
        "in_vsr": pa.Column(bool),
        "has_population": pa.Column(bool),
        "note": _TEXT,
    },
    checks=[
        pa.Check(lambda df: ~df["has_population"] | df["geoid"].notna(), error="has_population needs a geoid"),
        pa.Check(lambda df: ~df["in_ucr"] | df["ori"].notna(), error="UCR agencies carry an ORI"),
        pa.Check(lambda df: ~df["in_vsr"] | df["vsr_name"].notna(), error="VSR agencies carry a VSR name"),
    ],
    strict=True,
    ordered=True,
    name="agencies",
)

COLUMNS = {
    "agency_slug": "Agency key used by every processed table",
    "display_name": "Short name for figures and text",
    "vsr_name": "Name in the most recent VSR file that lists the agency (UCR crosswalk's for UCR agencies)",
    "vsr_aliases": "Other spellings of the agency in the VSR files, '; '-separated",
    "ucr_name": "Agency name in the UCR (Kaplan) files; <NA> outside the 16 UCR agencies",
    "ori": "FBI originating agency identifier, 7 characters",
    "ori9": "ORI, 9-character form",
    "census_name": "Census geography the agency polices, as the ACS table names it",
    "geoid": "GEOID of that geography (text: '29' + place or county FIPS; '29' for statewide agencies)",
    "geo_type": "place, county or state",
    "county": "County of the agency where known (UCR crosswalk; the county itself for county agencies)",
    "agency_type": "municipal_police, county_police, county_sheriff, university, park_ranger, state_patrol, other",
    "in_ucr": "True for the 16 agencies in resources/ucr_agency_crosswalk.csv",
    "in_vsr": "True when the agency has rows in the VSR files",
    "has_population": "True when geoid is in population.csv",
    "note": "Why a value was corrected or is missing; the UCR crosswalk's note",
}


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
    spans = observed.groupby("vsr_name").agg(
        first_year=("year", "min"), last_year=("year", "max"), in_json=("file", lambda f: bool((f == "json").any()))
    )
    seen_in = observed.groupby("vsr_name").apply(
        lambda g: set(zip(g["file"], g["year"], strict=True)), include_groups=False
    )
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


@dataclass(frozen=True)
class AgenciesRaw:
    census_crosswalk: pd.DataFrame
    agency_population: pd.DataFrame
    ucr: pd.DataFrame
    vsr: VsrRaw
    acs: acs.AcsRaw


def load_raw(raw_root: Path | None = None) -> AgenciesRaw:
    from heartbeats_analysis.ingest.sources import (
        vsr,  # here, not at the top: vsr imports this module for vsr_slug_table
    )

    root = raw_root_dir(raw_root)
    return AgenciesRaw(
        census_crosswalk=read_raw_csv(root, registry.get(CENSUS_CROSSWALK_KEY).path, RAW_SCHEMA),
        agency_population=read_raw_csv(root, registry.get(AGENCY_POPULATION_KEY).path, AGENCY_POPULATION_RAW_SCHEMA),
        ucr=ucr_crosswalk(),
        vsr=vsr.load_raw(root),
        acs=acs.load_raw(root),
    )


_LSAD_SUFFIX = re.compile(r"\s+(city|village|town|cdp|county|co)$")


def census_stem(name: str) -> str:
    """'City of Bellerive Acres city, Missouri' and 'Bellerive Acres city, Missouri' -> 'bellerive acres'."""
    text = name.lower().strip()
    text = re.sub(r",\s*missouri$", "", text)
    text = re.sub(r"^city of\s+", "", text)
    while (shorter := _LSAD_SUFFIX.sub("", text)) != text:
        text = shorter
    return re.sub(r"[^a-z0-9]", "", text)


class _CensusIndex:
    """ACS geographies by exact (geo_type, name) and by (geo_type, stem)."""

    def __init__(self, population: pd.DataFrame):
        geos = population.sort_values("year").drop_duplicates(["geo_type", "geography", "geoid"], keep="last")
        self.exact = {(r.geo_type, r.geography): r.geoid for r in geos.itertuples()}
        latest = geos.drop_duplicates(["geoid", "geo_type"], keep="last")
        self.latest_name = {(r.geo_type, r.geoid): r.geography for r in latest.itertuples()}
        stems: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in geos.itertuples():
            stems[(r.geo_type, census_stem(r.geography))].add(r.geoid)
        self.stems = stems
        self.geoids = set(population["geoid"])

    def find(self, geo_type: str, name: str) -> tuple[str, str, str] | None:
        """(census_name, geoid, note) for a crosswalk name, or None when no single geography fits."""
        if (geo_type, name) in self.exact:
            return name, self.exact[(geo_type, name)], ""
        candidates = self.stems.get((geo_type, census_stem(name)), set())
        if len(candidates) != 1:
            return None
        geoid = next(iter(candidates))
        census_name = self.latest_name[(geo_type, geoid)]
        return census_name, geoid, f"census name corrected from {name!r} (not an ACS name) to {census_name!r}"


def _geo_type_of(census_name: str) -> str:
    if census_name == acs.STATE_NAME:
        return "state"
    return "county" if census_name.endswith(" County, Missouri") else "place"


def _display_name(vsr_name: str) -> str:
    return re.sub(r"\s+Police\s+(Dept|Department)$", "", vsr_name)


def _join_notes(*notes: str) -> str | None:
    kept = [n for n in notes if n]
    return "; ".join(kept) if kept else None


def clean(raw: AgenciesRaw, log: MissingnessLog) -> pd.DataFrame:
    names = vsr_slug_table(raw.vsr.observed_names())
    census = _CensusIndex(acs.clean(raw.acs, MissingnessLog()))
    population_match = raw.agency_population.set_index("agency")
    crosswalk_match = raw.census_crosswalk.set_index("agency")
    ucr = raw.ucr.set_index("agency_slug")

    rows = []
    for slug in sorted(set(names["agency_slug"]) | set(ucr.index)):
        own = names[names["agency_slug"].eq(slug)]
        primary = own.loc[own["is_primary"], "vsr_name"].tolist()
        in_ucr = slug in ucr.index
        u = ucr.loc[slug] if in_ucr else None
        vsr_name = (u["vsr_name"] or None) if in_ucr else primary[0]
        aliases = sorted(set(own["vsr_name"]) - {vsr_name})
        notes = [u["note"]] if in_ucr else []
        if in_ucr and u["vsr_name"] and u["vsr_name"] not in set(own["vsr_name"]):
            notes.append(f"UCR crosswalk VSR name {u['vsr_name']!r} is not in the VSR files")

        agency_type, geo_type, census_name = None, None, None
        if in_ucr:
            agency_type, census_name = u["agency_type"], u["census_name"]
            geo_type = _geo_type_of(census_name)
        else:
            # Census match for the current name first, then for older spellings.
            for name in [vsr_name, *sorted(aliases, key=lambda n: -own.set_index("vsr_name").at[n, "last_year"])]:
                for frame in (population_match, crosswalk_match):
                    if name in frame.index:
                        match = frame.loc[name]
                        agency_type, geo_type, census_name = (
                            match["agency_type"],
                            match["census_geo_type"],
                            match["census_match_name"],
                        )
                        if name in crosswalk_match.index and "1" in (
                            crosswalk_match.at[name, "census_match_uncertain"],
                            crosswalk_match.at[name, "needs_manual_review"],
                        ):
                            notes.append("the VSR census crosswalk flags this match as uncertain")
                        break
                if census_name:
                    break

        geoid = None
        if census_name:
            found = census.find(geo_type, census_name)
            if found is None:
                notes.append(f"no census geography for {census_name!r}")
                log.add(TABLE_NAME, slug, "geoid", "crosswalk census name matches no ACS geography", census_name)
                census_name, geo_type = None, None
            else:
                census_name, geoid, correction = found
                notes.append(correction)
        elif not in_ucr:
            notes.append("not in the VSR census crosswalk")
            log.add(TABLE_NAME, slug, "geoid", "agency absent from the VSR census crosswalk", vsr_name)

        county_from_census = census_name if geo_type == "county" else None
        county = (u["county"] or None) if in_ucr else county_from_census
        rows.append(
            {
                "agency_slug": slug,
                "display_name": u["display_name"] if in_ucr else _display_name(vsr_name),
                "vsr_name": vsr_name,
                "vsr_aliases": "; ".join(aliases) or None,
                "ucr_name": u["ucr_name"] if in_ucr else None,
                "ori": u["ori"] if in_ucr else None,
                "ori9": u["ori9"] if in_ucr else None,
                "census_name": census_name,
                "geoid": geoid,
                "geo_type": geo_type,
                "county": county,
                "agency_type": agency_type,
                "in_ucr": in_ucr,
                "in_vsr": not own.empty,
                "has_population": geoid is not None and geoid in census.geoids,
                "note": _join_notes(*notes),
            }
        )
    table = pd.DataFrame(rows, columns=list(PROCESSED_SCHEMA.columns))
    flags = ["in_ucr", "in_vsr", "has_population"]
    table = table.astype({column: bool if column in flags else "str" for column in table.columns})
    return validate(table, PROCESSED_SCHEMA, f"{TABLE_NAME}.csv")


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


def resolve_agency(query: str, agencies: pd.DataFrame) -> str:
    """The agency_slug for a slug, VSR name (or older spelling), UCR name, display name or ORI (7 or 9
    characters), case-insensitive. Unknown or ambiguous queries raise AgencyNotFoundError listing the
    closest agencies (its ``suggestions`` attribute holds their slugs)."""
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
