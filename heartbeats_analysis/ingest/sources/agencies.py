"""The agency crosswalk: one row per agency across the VSR, the UCR files and the census.

Identity. An agency's key is ``agency_slug``, decided once in ``agency_identity`` and written by the vsr
source as the ``agency_names`` table (every VSR spelling and its slug), which ``clean`` receives with the
cleaned ``population`` table. Looking an agency up by what a user typed: ``ingest.agency_lookup``.

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

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources import acs, vsr
from heartbeats_analysis.ingest.sources.agency_identity import AGENCY_TYPES, SLUG_PATTERN, ucr_crosswalk
from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    count_text_check,
    raw_root_dir,
    read_raw_csv,
    validate,
)

TABLE_NAME = "agencies"

CENSUS_CROSSWALK_KEY = "vsr_agency_census_crosswalk"
AGENCY_POPULATION_KEY = "vsr_agency_population_acs2024"

GEO_TYPES = ["place", "county", "state"]

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


@dataclass(frozen=True)
class AgenciesRaw:
    """The crosswalk's own inputs. The VSR names and the ACS geographies come from the tables the vsr and
    acs sources already cleaned (``clean``'s ``tables``), not from a second read of their raw files."""

    census_crosswalk: pd.DataFrame
    agency_population: pd.DataFrame
    ucr: pd.DataFrame


def load_raw(raw_root: Path | None = None) -> AgenciesRaw:
    root = raw_root_dir(raw_root)
    return AgenciesRaw(
        census_crosswalk=read_raw_csv(root, registry.get(CENSUS_CROSSWALK_KEY).path, RAW_SCHEMA),
        agency_population=read_raw_csv(root, registry.get(AGENCY_POPULATION_KEY).path, AGENCY_POPULATION_RAW_SCHEMA),
        ucr=ucr_crosswalk(),
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


READS_TABLES = (vsr.NAMES_TABLE_NAME, acs.TABLE_NAME)
"""The processed tables clean reads: the cleaning starts it as soon as these two are there."""


def clean(raw: AgenciesRaw, log: MissingnessLog, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """tables: the processed tables cleaned before this one; it reads ``agency_names`` (vsr) and
    ``population`` (acs)."""
    names = tables[vsr.NAMES_TABLE_NAME]
    census = _CensusIndex(tables[acs.TABLE_NAME])
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
