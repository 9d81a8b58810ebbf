"""People killed by police in Missouri: Washington Post Fatal Force (v2) and Mapping Police Violence.

One row per incident and source. The two databases overlap (2015 to August 2020, when both were
collecting) and are never added together: every statistic is computed within one ``source``. Fatal
Force counts fatal shootings by on-duty officers (2015-01-02 to 2024-04-04); Mapping Police Violence
counts every police killing, including deaths after Tasers and restraint (2013-01-01 to 2020-08-22).

No names leave this module: the raw files carry the names of the dead (and MPV a photo URL, street
address and narrative that name them), and ``clean`` selects only the columns in ``COLUMNS``.

Harmonised fields
-----------------
race
    Fatal Force codes W, B, H, A, N, O (v2 allows several, e.g. "B;H": several codes that include H
    become hispanic, Hispanic being of any race; other combinations become other). MPV labels: White,
    Black, Hispanic, Asian, Native American; Pacific Islander becomes other; "Unknown race" unknown.
age_group
    <18, 18-24, 25-34, 35-44, 45-54, 55+ from the recorded age; blank, "Unknown" or a decade such as
    MPV's "40s" (which straddles two groups) is unknown.
mental_illness
    Fatal Force ``was_mental_illness_related`` (True/False, never blank: False includes "not reported").
    MPV "Symptoms of mental illness?": Yes is True; No and "Drug or alcohol use" are False (MPV records
    substance use as an alternative answer, not as mental illness); Unknown (any spelling) is <NA>.
    Nationally the Fatal Force share marked True falls gradually from 26.2 % (2015) to 21.7 % (2020),
    then steps down to 14.6 % in 2021 and stays at 14-15 %: treat 2021+ Fatal Force values as a
    different measure (the field was redefined with the 2022 v2 schema; ``mental_illness_by_year``
    shows it). MPV ends in 2020 and cannot confirm or refute the step. Missouri's own numbers (about 25
    incidents a year) are too small to show it.
armed_status
    armed: the source records a weapon or an object used as one, including vehicles, replica guns
    (Fatal Force "replica") and Fatal Force "unknown" ("there was a weapon, but we do not know what
    kind"); MPV "Allegedly Armed" and "Vehicle". unarmed: Fatal Force "unarmed"; MPV
    "Unarmed/Did Not Have an Actual Weapon" (which also counts toy weapons: MPV's unarmed is wider
    than Fatal Force's). undetermined: the source looked and could not tell (Fatal Force
    "undetermined", MPV "Unclear"). unknown: the field is blank.
in_st_louis_county
    True when the incident is in St. Louis County (not the independent City of St. Louis), by the first
    rule that applies: (1) a county field naming any other county means False; (2) "St. Louis City"
    means False unless the city is a named municipality other than St. Louis (MPV codes University City,
    a county municipality, as "St. Louis City"); (3) "St. Louis County" means True; (4) an involved
    agency's ORI beginning MO095, Missouri's code for St. Louis County (all 16 crosswalk agencies follow
    it), means True; (5) county "St. Louis" with a city other than St. Louis means True; (6) a crosswalk
    municipality as the city means True. Otherwise False. Both sources code mailing-address cities and
    MPV writes county "St. Louis" for most shootings by the city's Metropolitan Police, so neither field
    is enough on its own; and Fatal Force attributes five 2016-2017 shootings that its own county field
    places in the City (and MPV attributes to the Metropolitan Police) to the St. Louis County Police,
    which is why an explicit county field outranks the agency.
agency_slugs
    Slugs from ``resources/ucr_agency_crosswalk.csv`` for involved agencies, matched by ORI (7- or
    9-character form) first and by name (``base.agency_slug``) only for agencies whose ORIs matched none.
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources.base import (
    SMALL_CELL_THRESHOLD,
    MissingnessLog,
    agency_slug,
    finish_table,
    raw_root_dir,
    read_raw_csv,
    validate,
)
from heartbeats_analysis.ingest.sources.ucr_common import load_crosswalk

TABLE_NAME = "fatal_force"
US_SUMMARY_TABLE_NAME = "fatal_force_us_summary"

WAPO_KEY = "force_wapo_fatal_police_shootings_v2"
WAPO_AGENCIES_KEY = "force_wapo_fatal_police_shootings_v2_agencies"
MPV_KEY = "force_mapping_police_violence_2013_2020"
MPV_SHEET = "2013-2020 Police Killings"

SOURCES = ("wapo", "mpv")
RACES = ("white", "black", "hispanic", "asian", "native_american", "other", "unknown")
AGE_GROUPS = ("<18", "18-24", "25-34", "35-44", "45-54", "55+", "unknown")
ARMED_STATUSES = ("armed", "unarmed", "undetermined", "unknown")
STATE = "MO"
ST_LOUIS_COUNTY_ORI_PREFIX = "MO095"

# MPV column names, as published.
MPV_AGE = "Victim's age"
MPV_RACE = "Victim's race"
MPV_DATE = "Date of Incident (month/day/year)"
MPV_AGENCY = "Agency responsible for death"
MPV_ORI = "ORI Agency Identifier (if available)"
MPV_MENTAL = "Symptoms of mental illness?"
MPV_ARMED = "Unarmed/Did Not Have an Actual Weapon"
MPV_ID = "MPV ID"
MPV_WAPO_ID = "WaPo ID (If included in WaPo database)"

WAPO_RACE = {"W": "white", "B": "black", "H": "hispanic", "A": "asian", "N": "native_american", "O": "other"}
MPV_RACE_LABELS = {
    "white": "white",
    "black": "black",
    "hispanic": "hispanic",
    "asian": "asian",
    "native american": "native_american",
    "pacific islander": "other",
    "unknown race": "unknown",
}
WAPO_WEAPONS = {"gun", "knife", "blunt_object", "other", "replica", "vehicle", "unknown"}
MPV_ARMED_LABELS = {
    "allegedly armed": "armed",
    "vehicle": "armed",
    "unarmed/did not have an actual weapon": "unarmed",
    "unclear": "undetermined",
}
MPV_MENTAL_LABELS = {"yes": True, "no": False, "drug or alcohol use": False, "unknown": None, "unkown": None}

ORI_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{5}(?:[A-Z0-9]{2})?$")
CITY_OF_ST_LOUIS = {"st louis", "north st louis"}
ST_LOUIS_COUNTY_LABELS = {"st louis", "st louis county", "st louis city"}

# ---------------------------------------------------------------------------------------------
# Raw schemas
# ---------------------------------------------------------------------------------------------

_WAPO_RACE_TEXT = r"^([WBHANO](;[WBHANO])*)?$"
_WAPO_ARMED_TEXT = r"^(\w+(;\w+)*)?$"

WAPO_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "id": pa.Column(str, pa.Check.str_matches(r"^\d+$"), unique=True),
        "date": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "city": pa.Column(str),
        "county": pa.Column(str),
        "state": pa.Column(str, pa.Check.str_matches(r"^[A-Z]{2}$")),
        "age": pa.Column(str, pa.Check.str_matches(r"^\d{0,3}$")),
        "race": pa.Column(str, pa.Check.str_matches(_WAPO_RACE_TEXT)),
        "was_mental_illness_related": pa.Column(str, pa.Check.isin(["True", "False"])),
        "armed_with": pa.Column(str, pa.Check.str_matches(_WAPO_ARMED_TEXT)),
        "agency_ids": pa.Column(str, pa.Check.str_matches(r"^(\d+(;\d+)*)?$")),
    },
    name="wapo_fatal_police_shootings_raw",
)
RAW_SCHEMA = WAPO_RAW_SCHEMA

WAPO_AGENCIES_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "id": pa.Column(str, pa.Check.str_matches(r"^\d+$"), unique=True),
        "name": pa.Column(str),
        "state": pa.Column(str),
        "oricodes": pa.Column(str),
    },
    name="wapo_fatal_police_shootings_agencies_raw",
)


def _is_whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, float) and value.is_integer())


def _is_text_or_blank(value: object) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, float) and pd.isna(value))


def _is_age(value: object) -> bool:
    return _is_whole_number(value) or _is_text_or_blank(value)


_TEXT_COLUMN = pa.Column(object, pa.Check(_is_text_or_blank, element_wise=True, error="text or blank"), nullable=True)
MPV_RAW_SCHEMA = pa.DataFrameSchema(
    {
        MPV_ID: pa.Column(object, pa.Check(_is_whole_number, element_wise=True, error="a whole number"), unique=True),
        MPV_DATE: pa.Column(object, pa.Check(lambda v: isinstance(v, datetime), element_wise=True, error="a date")),
        "State": pa.Column(
            object,
            pa.Check(lambda v: isinstance(v, str) and len(v) == 2, element_wise=True, error="a two-letter state code"),
        ),
        "City": _TEXT_COLUMN,
        "County": _TEXT_COLUMN,
        MPV_AGE: pa.Column(
            object, pa.Check(_is_age, element_wise=True, error="a whole number, text or blank"), nullable=True
        ),
        MPV_RACE: _TEXT_COLUMN,
        MPV_AGENCY: _TEXT_COLUMN,
        MPV_ORI: _TEXT_COLUMN,
        MPV_MENTAL: _TEXT_COLUMN,
        MPV_ARMED: _TEXT_COLUMN,
    },
    name="mapping_police_violence_raw",
)

# ---------------------------------------------------------------------------------------------
# Processed schemas
# ---------------------------------------------------------------------------------------------

_SLUG_LIST = r"^([a-z0-9]+(-[a-z0-9]+)*(;[a-z0-9]+(-[a-z0-9]+)*)*)?$"
PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "incident_id": pa.Column(str, pa.Check.str_matches(r"^(wapo|mpv)-\d+$"), unique=True),
        "source": pa.Column(str, pa.Check.isin(SOURCES)),
        "date": pa.Column("datetime64[ns]"),
        "year": pa.Column("int64", pa.Check.in_range(2013, 2030)),
        "city": pa.Column(str, nullable=True),
        "county": pa.Column(str, nullable=True),
        "agency_names": pa.Column(str),
        "agency_oris": pa.Column(str, pa.Check.str_matches(r"^([A-Z0-9]+(;[A-Z0-9]+)*)?$")),
        "agency_slugs": pa.Column(str, pa.Check.str_matches(_SLUG_LIST)),
        "race": pa.Column(str, pa.Check.isin(RACES)),
        "age_group": pa.Column(str, pa.Check.isin(AGE_GROUPS)),
        "mental_illness": pa.Column("boolean", nullable=True),
        "armed_status": pa.Column(str, pa.Check.isin(ARMED_STATUSES)),
        "in_st_louis_county": pa.Column(bool),
    },
    checks=[
        pa.Check(lambda df: df["year"] == df["date"].dt.year, error="year is the year of date"),
        pa.Check(
            lambda df: df["incident_id"].str.split("-").str[0] == df["source"],
            error="incident_id carries the source prefix",
        ),
    ],
    unique=["incident_id"],
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

COLUMNS = {
    "incident_id": "Source-prefixed id: 'wapo-<Fatal Force id>' or 'mpv-<MPV ID>'",
    "source": "wapo (Washington Post Fatal Force, shootings 2015-01-02 to 2024-04-04) or mpv (Mapping Police "
    "Violence, all killings 2013-01-01 to 2020-08-22); the same death can appear under both: never "
    "add the sources together",
    "date": "Date of the incident",
    "year": "Calendar year of the incident (2024 for wapo and 2020 for mpv are part-years)",
    "city": "City as the source records it (often the mailing-address city)",
    "county": "County as the source records it; blank in about half the Fatal Force rows",
    "agency_names": "Involved agencies, ';'-joined, as the source names them",
    "agency_oris": "ORI codes of the involved agencies, ';'-joined, where the source gives them",
    "agency_slugs": "agency_slug of involved agencies that are in ucr_agency_crosswalk.csv (ORI match first, "
    "then name); empty otherwise",
    "race": "white, black, hispanic, asian, native_american, other or unknown (see module docstring)",
    "age_group": "<18, 18-24, 25-34, 35-44, 45-54, 55+ or unknown",
    "mental_illness": "Source's mental-illness flag; blank when MPV says unknown. Fatal Force 2021+ values are "
    "coded differently (US share steps from 21.7% in 2020 to 14.6% in 2021)",
    "armed_status": "armed, unarmed, undetermined (source could not tell) or unknown (blank); MPV's unarmed "
    "includes toy weapons, Fatal Force's does not",
    "in_st_louis_county": "Incident in St. Louis County (not the City of St. Louis), from the county field when "
    "explicit, else an agency ORI MO095*, else the city (rule in fatal_force.py)",
}

_COUNT = pa.Column("Int64", pa.Check.ge(0))
US_SUMMARY_SCHEMA = pa.DataFrameSchema(
    {
        "source": pa.Column(str, pa.Check.isin(SOURCES)),
        "year": pa.Column("int64", pa.Check.in_range(2013, 2030)),
        "state": pa.Column(str, pa.Check.isin([STATE, "US"])),
        "incidents": _COUNT,
        "mental_illness_yes": _COUNT,
        "mental_illness_known": _COUNT,
        "unarmed": _COUNT,
        "black": _COUNT,
        "complete_year": pa.Column(bool),
        "small_cell": pa.Column(bool),
    },
    checks=[
        pa.Check(
            lambda df: df["mental_illness_yes"] <= df["mental_illness_known"],
            error="mental_illness_yes <= mental_illness_known",
        ),
        pa.Check(lambda df: df["mental_illness_known"] <= df["incidents"], error="known <= incidents"),
        pa.Check(
            lambda df: (df["unarmed"] <= df["incidents"]) & (df["black"] <= df["incidents"]),
            error="unarmed and black <= incidents",
        ),
    ],
    unique=["source", "year", "state"],
    strict=True,
    ordered=True,
    name=US_SUMMARY_TABLE_NAME,
)

US_SUMMARY_COLUMNS = {
    "source": "wapo or mpv (never add the two)",
    "year": "Calendar year",
    "state": "MO (Missouri incidents) or US (every state and DC, Missouri included)",
    "incidents": "People killed",
    "mental_illness_yes": "Incidents with mental_illness True",
    "mental_illness_known": "Incidents with mental_illness known (Fatal Force: all of them)",
    "unarmed": "Incidents with armed_status unarmed",
    "black": "Incidents with race black",
    "complete_year": "False for the part-year at the end of each source (wapo 2024, mpv 2020)",
    "small_cell": f"incidents below {SMALL_CELL_THRESHOLD}: shares from this row are not reliable",
}

# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FatalForceRaw:
    wapo: pd.DataFrame
    wapo_agencies: pd.DataFrame
    mpv: pd.DataFrame
    # The harmonised incidents, built once for clean and us_summary.
    cache: dict = field(default_factory=dict, compare=False, repr=False)


def _read_mpv(path: Path) -> pd.DataFrame:
    # The calamine engine (Rust) reads this 3.5 MB workbook ten times faster than openpyxl.
    frame = pd.read_excel(path, sheet_name=MPV_SHEET, engine="calamine", dtype=object)
    # The sheet carries unnamed, empty columns to the right of the data, and blank rows.
    frame = frame.loc[:, [not str(c).startswith("Unnamed:") for c in frame.columns]]
    frame = frame.dropna(how="all").reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)


def load_raw(raw_root: Path | None = None) -> FatalForceRaw:
    root = raw_root_dir(raw_root)
    mpv_file = registry.get(MPV_KEY).path
    return FatalForceRaw(
        wapo=read_raw_csv(root, registry.get(WAPO_KEY).path, WAPO_RAW_SCHEMA),
        wapo_agencies=read_raw_csv(root, registry.get(WAPO_AGENCIES_KEY).path, WAPO_AGENCIES_RAW_SCHEMA),
        mpv=validate(_read_mpv(root / mpv_file), MPV_RAW_SCHEMA, mpv_file),
    )


# ---------------------------------------------------------------------------------------------
# Field harmonisation
# ---------------------------------------------------------------------------------------------


def _blank(value: object) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or (isinstance(value, str) and not value.strip())
    )


def wapo_race(code: str) -> str:
    codes = [c for c in code.split(";") if c]
    if not codes:
        return "unknown"
    if len(set(codes)) == 1:
        return WAPO_RACE[codes[0]]
    return "hispanic" if "H" in codes else "other"


def mpv_race(label: object) -> str:
    if _blank(label):
        return "unknown"
    return MPV_RACE_LABELS.get(str(label).strip().lower(), "other")


def age_group(value: object) -> str:
    """The age band of a recorded age; anything that is not a whole number of years is unknown."""
    if _blank(value):
        return "unknown"
    try:
        age = float(str(value).strip())
    except ValueError:
        return "unknown"
    if not age.is_integer() or age < 0:
        return "unknown"
    for upper, label in ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54")):
        if age < upper:
            return label
    return "55+"


def wapo_armed(armed_with: str) -> str:
    tokens = {t for t in armed_with.split(";") if t}
    if not tokens:
        return "unknown"
    if tokens & WAPO_WEAPONS:
        return "armed"
    if tokens == {"unarmed"}:
        return "unarmed"
    return "undetermined"


def mpv_armed(label: object) -> str:
    if _blank(label):
        return "unknown"
    return MPV_ARMED_LABELS.get(str(label).strip().lower(), "undetermined")


def mpv_mental_illness(label: object) -> bool | None:
    if _blank(label):
        return None
    return MPV_MENTAL_LABELS.get(str(label).strip().lower())


@lru_cache(maxsize=16384)
def normalise_ori(code: str) -> str:
    """The 7-character ORI: 9-character forms ending in '00' ('MO0952800') lose the suffix."""
    code = code.strip().upper()
    return code[:7] if len(code) == 9 and code.endswith("00") else code


@lru_cache(maxsize=16384)
def _place_key(text: object) -> str:
    if _blank(text):
        return ""
    lowered = str(text).lower().replace("saint ", "st ").replace(".", " ")
    return re.sub(r"\s+", " ", lowered).strip()


def in_st_louis_county(city: object, county: object, oris: list[str], peer_cities: set[str]) -> bool:
    """The rule in the module docstring: the county field when it is explicit, then agency ORI, then city."""
    county_key, city_key = _place_key(county), _place_key(city)
    if county_key and county_key not in ST_LOUIS_COUNTY_LABELS:
        return False
    if county_key == "st louis city" and (not city_key or city_key in CITY_OF_ST_LOUIS):
        return False
    if county_key == "st louis county":
        return True
    if any(normalise_ori(o).startswith(ST_LOUIS_COUNTY_ORI_PREFIX) for o in oris):
        return True
    if county_key == "st louis" and city_key and city_key not in CITY_OF_ST_LOUIS:
        return True
    return city_key in peer_cities


@dataclass(frozen=True)
class _Crosswalk:
    by_ori: dict[str, str]
    by_name: dict[str, str]
    peer_cities: set[str]


def _crosswalk() -> _Crosswalk:
    frame = load_crosswalk()
    by_ori: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for row in frame.itertuples(index=False):
        for code in (row.ori, row.ori9):
            if code:
                by_ori[normalise_ori(code)] = row.agency_slug
        for name in (row.display_name, row.ucr_name, row.vsr_name):
            if name:
                by_name[agency_slug(name)] = row.agency_slug
    peers = {
        _place_key(row.display_name) for row in frame.itertuples(index=False) if row.agency_type == "municipal_police"
    }
    return _Crosswalk(by_ori, by_name, peers)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def match_slugs(agencies: list[tuple[str, list[str]]], crosswalk: _Crosswalk) -> list[str]:
    """Crosswalk slugs for (name, ORIs) pairs: by ORI first, by name only when no ORI of it matched."""
    slugs = []
    for name, oris in agencies:
        by_ori = [crosswalk.by_ori[normalise_ori(o)] for o in oris if normalise_ori(o) in crosswalk.by_ori]
        if by_ori:
            slugs += by_ori
        elif name and agency_slug(name) in crosswalk.by_name:
            slugs.append(crosswalk.by_name[agency_slug(name)])
    return sorted(set(slugs))


# ---------------------------------------------------------------------------------------------
# Incidents (every state; clean keeps Missouri)
# ---------------------------------------------------------------------------------------------


def _text_or_na(value: object) -> object:
    return pd.NA if _blank(value) else str(value).strip()


WAPO_INCIDENT_COLUMNS = (
    "id", "agency_ids", "date", "state", "city", "county", "race", "age", "was_mental_illness_related", "armed_with"
)  # fmt: skip
MPV_INCIDENT_COLUMNS = (
    MPV_AGENCY, MPV_ORI, MPV_ID, MPV_DATE, "State", "City", "County", MPV_RACE, MPV_AGE, MPV_MENTAL, MPV_ARMED
)  # fmt: skip
"""The raw columns an incident is built from: the rows are walked one by one, so over these only (the MPV sheet has 29
columns, and boxing every cell of the 18 unused ones was a third of the walk)."""


def _records(frame: pd.DataFrame, columns: tuple[str, ...]):
    """The rows of ``frame``'s ``columns`` as named tuples of plain values (as itertuples gives them, read from each
    column's array at once rather than cell by cell)."""
    values = [frame[column].to_numpy(dtype=object) for column in columns]
    row = namedtuple("Row", columns)
    return (row._make(cells) for cells in zip(*values, strict=True))


def _wapo_incidents(raw: FatalForceRaw, crosswalk: _Crosswalk) -> pd.DataFrame:
    agencies = {
        row.id: (row.name.strip(), _unique([o.strip() for o in row.oricodes.split(";")]))
        for row in raw.wapo_agencies.itertuples(index=False)
    }
    rows = []
    for record in _records(raw.wapo, WAPO_INCIDENT_COLUMNS):
        incident_id = f"wapo-{record.id}"
        ids = _unique(record.agency_ids.split(";"))
        pairs = [agencies[i] for i in ids if i in agencies]
        issues = [("agency_names", "agency id not in the agencies file", i) for i in ids if i not in agencies]
        oris = _unique([o for _, os in pairs for o in os])
        rows.append(
            {
                "incident_id": incident_id,
                "source": "wapo",
                "date": record.date,
                "state": record.state,
                "city": _text_or_na(record.city),
                "county": _text_or_na(record.county),
                "agency_names": ";".join(_unique([n for n, _ in pairs])),
                "agency_oris": ";".join(oris),
                "agency_slugs": ";".join(match_slugs(pairs, crosswalk)),
                "race": wapo_race(record.race),
                "age_group": age_group(record.age),
                "mental_illness": record.was_mental_illness_related == "True",
                "armed_status": wapo_armed(record.armed_with),
                "in_st_louis_county": in_st_louis_county(record.city, record.county, oris, crosswalk.peer_cities),
                "raw_race": record.race,
                "raw_age": record.age,
                "raw_mental": record.was_mental_illness_related,
                "raw_armed": record.armed_with,
                "issues": issues,
            }
        )
    return pd.DataFrame(rows)


def _mpv_agencies(names: object, oris: object, issues: list) -> list[tuple[str, list[str]]]:
    """(name, ORIs) pairs from MPV's ', '-joined names and ';'-joined ORIs, paired by position when
    the counts agree; otherwise the names carry no ORIs and the ORIs form one unnamed agency."""
    # Split on commas between agencies, not the one in "Kansas City, KS Police Department".
    name_list = [] if _blank(names) else [n.strip() for n in re.split(r",\s+(?![A-Z]{2}\b)", str(names)) if n.strip()]
    tokens = [] if _blank(oris) else [t.strip() for t in str(oris).split(";") if t.strip()]
    valid = [t.upper() for t in tokens if ORI_PATTERN.match(t.upper())]
    issues += [
        ("agency_oris", "not an ORI code in the raw ORI field; dropped", t)
        for t in tokens
        if not ORI_PATTERN.match(t.upper())
    ]
    if len(name_list) == len(tokens) and len(valid) == len(tokens):
        return [(name, [ori]) for name, ori in zip(name_list, valid, strict=True)]
    return [(name, []) for name in name_list] + ([("", valid)] if valid else [])


def _mpv_incidents(raw: FatalForceRaw, crosswalk: _Crosswalk) -> pd.DataFrame:
    rows = []
    for record in raw.mpv[list(MPV_INCIDENT_COLUMNS)].to_dict("records"):
        issues: list = []
        pairs = _mpv_agencies(record[MPV_AGENCY], record[MPV_ORI], issues)
        oris = _unique([o for _, os in pairs for o in os])
        rows.append(
            {
                "incident_id": f"mpv-{int(record[MPV_ID])}",
                "source": "mpv",
                "date": record[MPV_DATE],
                "state": str(record["State"]).strip(),
                "city": _text_or_na(record["City"]),
                "county": _text_or_na(record["County"]),
                "agency_names": ";".join(_unique([n for n, _ in pairs])),
                "agency_oris": ";".join(oris),
                "agency_slugs": ";".join(match_slugs(pairs, crosswalk)),
                "race": mpv_race(record[MPV_RACE]),
                "age_group": age_group(record[MPV_AGE]),
                "mental_illness": mpv_mental_illness(record[MPV_MENTAL]),
                "armed_status": mpv_armed(record[MPV_ARMED]),
                "in_st_louis_county": in_st_louis_county(record["City"], record["County"], oris, crosswalk.peer_cities),
                "raw_race": record[MPV_RACE],
                "raw_age": record[MPV_AGE],
                "raw_mental": record[MPV_MENTAL],
                "raw_armed": record[MPV_ARMED],
                "issues": issues,
            }
        )
    return pd.DataFrame(rows)


def incidents(raw: FatalForceRaw) -> pd.DataFrame:
    """Every incident in both sources (all states), harmonised; raw_* columns keep the source values and
    ``issues`` lists (column, reason, raw value) for agency ids and ORI tokens that could not be used."""
    if "incidents" not in raw.cache:
        crosswalk = _crosswalk()
        frame = pd.concat([_wapo_incidents(raw, crosswalk), _mpv_incidents(raw, crosswalk)], ignore_index=True)
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
        frame["year"] = frame["date"].dt.year.astype("int64")
        frame["mental_illness"] = frame["mental_illness"].astype("boolean")
        for column in ("city", "county"):
            frame[column] = frame[column].astype("str")
        raw.cache["incidents"] = frame
    return raw.cache["incidents"].copy()


_GAPS = (
    ("race", "unknown", "raw_race", "race not recorded"),
    ("age_group", "unknown", "raw_age", "age blank or not a single age"),
    ("armed_status", "unknown", "raw_armed", "armed status blank"),
)


def _log_gaps(table: pd.DataFrame, log: MissingnessLog) -> None:
    for row in table.itertuples(index=False):
        for column, reason, raw_value in row.issues:
            log.add(TABLE_NAME, row.incident_id, column, reason, raw_value)
    for column, value, raw_column, reason in _GAPS:
        for row in table[table[column].eq(value)].itertuples(index=False):
            log.add(TABLE_NAME, row.incident_id, column, reason, getattr(row, raw_column))
    for row in table[table["mental_illness"].isna()].itertuples(index=False):
        log.add(TABLE_NAME, row.incident_id, "mental_illness", "source says unknown or blank", row.raw_mental)


def clean(raw: FatalForceRaw, log: MissingnessLog) -> pd.DataFrame:
    everything = incidents(raw)
    missouri = everything[everything["state"].eq(STATE)]
    _log_gaps(missouri, log)
    return finish_table(missouri, PROCESSED_SCHEMA, ["date", "incident_id"])


def _complete_year(frame: pd.DataFrame) -> pd.Series:
    last_date = frame.groupby("source")["date"].transform("max")
    return (frame["year"] < last_date.dt.year) | ((last_date.dt.month == 12) & (last_date.dt.day == 31))


def us_summary(raw: FatalForceRaw, log: MissingnessLog) -> pd.DataFrame:
    """Counts per source, year and MO-vs-US, so Missouri can be compared with the whole country."""
    frame = incidents(raw)
    frame["complete_year"] = _complete_year(frame)
    parts = []
    for state, subset in (("US", frame), (STATE, frame[frame["state"].eq(STATE)])):
        grouped = (
            subset.groupby(["source", "year"])
            .agg(
                incidents=("incident_id", "size"),
                mental_illness_yes=("mental_illness", lambda s: int(s.fillna(False).sum())),
                mental_illness_known=("mental_illness", lambda s: int(s.notna().sum())),
                unarmed=("armed_status", lambda s: int(s.eq("unarmed").sum())),
                black=("race", lambda s: int(s.eq("black").sum())),
                complete_year=("complete_year", "all"),
            )
            .reset_index()
        )
        parts.append(grouped.assign(state=state))
    table = pd.concat(parts, ignore_index=True)
    for column in ("incidents", "mental_illness_yes", "mental_illness_known", "unarmed", "black"):
        table[column] = table[column].astype("Int64")
    table["complete_year"] = table["complete_year"].astype(bool)
    table["small_cell"] = (table["incidents"] < SMALL_CELL_THRESHOLD).astype(bool)
    return finish_table(table, US_SUMMARY_SCHEMA, ["source", "state", "year"])


def mental_illness_by_year(summary: pd.DataFrame) -> pd.DataFrame:
    """Share of incidents flagged mentally ill by source, state and year (shows the 2021 coding break)."""
    out = summary[["source", "state", "year", "mental_illness_yes", "mental_illness_known"]].copy()
    out["share"] = out["mental_illness_yes"].astype("Float64") / out["mental_illness_known"].astype("Float64")
    return out


EXTRA_TABLES = {US_SUMMARY_TABLE_NAME: (US_SUMMARY_SCHEMA, US_SUMMARY_COLUMNS, us_summary)}
