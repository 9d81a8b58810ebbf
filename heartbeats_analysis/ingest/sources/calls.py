"""911 calls for service by call type in five cities (Vera Institute / Two Sigma Data Clinic), and which
of them a Heartbeats officer-social-worker might plausibly take.

``cfs/CallTypes_TS.xlsx`` (sheet CallTypes) lists, per city and per CAD column ("source_column"), every
raw call type with its count (all years pooled) and Vera's harmonised category. Seattle (Initial and
Final Call Type) and New Orleans (InitialTypeText, TypeText) list the same calls twice, and Dallas lists
its 911 problem codes beside two offence-report columns, so a share is only meaningful within one
(city, source_column). The columns do not even cover the same years: New Orleans TypeText has
2011-2019 (3.83 million calls), InitialTypeText 2014-2019 (2.35 million). ``PRIMARY_SOURCE_COLUMNS``
names, per city, the column that records what the caller reported.

Categories are harmonised by spelling only: whitespace trimmed and collapsed, case ignored, and a few
variants folded into Vera's own names (``CATEGORY_ALIASES``: 'Assist the Public' -> 'Assisting the
Public', 'Call Related Isuues', 'Warrant', Seattle's 'Medical', Charleston's 'Traffic'). A blank
category is 'Uncategorised'.

Heartbeats mapping rule (resources/call_category_mapping.csv)
-------------------------------------------------------------
Each row of the mapping is a rule with a scope (central or broad), a category ('*' for any), an
optional call-type pattern (a case-insensitive regular expression searched in the raw call type), a
group, and a one-line rationale. A call type gets the group of the FIRST rule that matches it, trying
every keyword rule (those with a pattern) in file order before any category rule (those without);
a call type no rule matches is "none". Keyword rules come first because Vera's categories are mixed:
overdoses sit in Behavioral Health, domestic disturbances in Complaints, welfare checks in Statuses.
Rules whose group is "none" are exclusions (death investigations, warrant service, impaired driving,
officer-initiated stops, catch-all codes of unknown content such as New Orleans 'COMPLAINT OTHER'...).

- central mapping (the ``heartbeats_group`` column): the central rules only.
- narrow mapping: the central groups behavioural_health and substance only.
- broad mapping: central and broad rules together; the broad rules add the borderline categories
  (``broad_candidates()``: Assisting the Public, Missing Persons, Status Offenses, Medical Emergencies,
  Drugs, Liquor Violations, Complaints/Environmental Conditions, Suspicion) and borderline keywords
  (trespass, loitering, nuisance, disorderly; runaways, truancy, curfew).

The counts pool officer-initiated and community-initiated events (the CallTypes sheet has no
initiation split). ``calls_initiation`` (from ``cfs/CityOfficerInitiatedSummary.xlsx``) gives the split
by city and year for New Orleans, Detroit and Seattle, so the analysis can rescale a share to
community-initiated calls. That workbook's New Orleans columns are labelled the wrong way round: their
all-year totals equal CallTypes_TS's SelfInitiated counts with 'self_initiated' and 'other' swapped
(Y, i.e. officer-initiated, = 1,679,216), and officer-initiated call types alone (traffic stops, area and
business checks, warrant stops) exceed the 675,592 calls the header calls self-initiated. Seattle's
third column holds its 911 calls, which Vera's mapping missed (the number 911 did not match the text
'911'). ``INITIATION_COLUMN_LABELS`` records both decisions; ``initiation_reconciliation`` checks them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from python_calamine import CalamineWorkbook

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.ingest.sources.acs import count_text_check
from heartbeats_analysis.ingest.sources.base import (
    SMALL_CELL_THRESHOLD,
    MissingnessLog,
    SchemaValidationError,
    finish_table,
    raw_root_dir,
    to_int64,
    validate,
)
from heartbeats_analysis.paths import RESOURCES_DIR

TABLE_NAME = "calls_for_service"
INITIATION_TABLE_NAME = "calls_initiation"

CALL_TYPES_KEY = "cfs_calltypes_ts"
INITIATION_KEY = "cfs_cityofficerinitiatedsummary"
CALL_TYPES_SHEET = "CallTypes"
SELF_INITIATED_SHEET = "SelfInitiated"
MAPPING_CSV = RESOURCES_DIR / "call_category_mapping.csv"
OFFICER_INITIATED_CSV = RESOURCES_DIR / "officer_initiated_call_types.csv"

GROUPS = ("behavioural_health", "welfare_assist", "domestic", "homelessness_quality_of_life", "substance")
NONE = "none"
NARROW_GROUPS = ("behavioural_health", "substance")
MAPPINGS = ("narrow", "central", "broad")

PRIMARY_SOURCE_COLUMNS = {
    "Charleston": "Problem",
    "Dallas": "Call (911) Problem",
    "Detroit": "Call Description",
    "New Orleans": "InitialTypeText",
    "Seattle": "Initial Call Type",
}
"""Per city, the column that records what the caller reported (Dallas's other two columns are offence
reports; Seattle's and New Orleans's other columns are the type after police arrived)."""

UNCATEGORISED = "Uncategorised"
CATEGORIES = (
    "Accidents/Traffic Safety",
    "Alarms",
    "Assisting the Public",
    "Behavioral Health",
    "Call Related Issues",
    "Callback",
    "Complaints/Environmental Conditions",
    "Domestic Violence",
    "Drugs",
    "Fire",
    "Liquor Violations",
    "Medical Emergencies",
    "Missing Persons",
    "Officer Needs Help",
    "Other (Not Crime)",
    "Other Crimes",
    "Property Crime",
    "Sex Offenses",
    "Status Offenses",
    "Statuses",
    "Suspicion",
    "Training Academy",
    "Violent Crime",
    "Warrants",
    UNCATEGORISED,
)
CATEGORY_ALIASES = {
    "assist the public": "Assisting the Public",
    "call related isuues": "Call Related Issues",
    "warrant": "Warrants",
    "medical": "Medical Emergencies",
    "traffic": "Accidents/Traffic Safety",
}

INITIATED_BY = ("officer", "community", "unknown")
INITIATION_HEADERS = {
    "New Orleans": ("year", "other", "self_initiated", "other", "total", "percent_other", "pecent_self_initaited"),
    "Detroit": ("year", "other", "self_initiated", "total", "percent_other", "pecent_self_initaited"),
    "Seattle": ("year", "other", "self_initiated", "other", "total", "percent_other", "pecent_self_initaited"),
}
INITIATION_COLUMN_LABELS = {
    "New Orleans": ("officer", "community", "unknown"),  # header swapped; third = years without the flag
    "Detroit": ("community", "officer"),
    "Seattle": ("community", "officer", "community"),  # third = 911 calls Vera's mapping missed
}

# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------

_NON_EMPTY = pa.Check.str_length(min_value=1)
RAW_SCHEMA = pa.DataFrameSchema(
    {
        "City": pa.Column(str, _NON_EMPTY),
        "Column_name": pa.Column(str, _NON_EMPTY),
        "Field 1": pa.Column(str, _NON_EMPTY),
        "Count": pa.Column(object, count_text_check(), nullable=True),
        "Category": pa.Column(str, nullable=True),
    },
    name="vera_call_types_raw",
)

SELF_INITIATED_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "City": pa.Column(str, _NON_EMPTY),
        "Field1": pa.Column(str),
        "Count": pa.Column(object, count_text_check(), nullable=True),
        "Self initiated": pa.Column(str, pa.Check.isin(["Yes", "No"])),
    },
    name="vera_self_initiated_raw",
)

INITIATION_RAW_SCHEMA = pa.DataFrameSchema(
    {
        "city": pa.Column(str, pa.Check.isin(list(INITIATION_HEADERS))),
        "year": pa.Column(object, count_text_check()),
        "position": pa.Column("int64", pa.Check.ge(0)),
        "header": pa.Column(str, pa.Check.isin(["other", "self_initiated"])),
        "count": pa.Column(object, count_text_check(), nullable=True),
    },
    unique=["city", "year", "position"],
    name="vera_officer_initiated_summary_raw",
)

PROCESSED_SCHEMA = pa.DataFrameSchema(
    {
        "city": pa.Column(str, _NON_EMPTY),
        "source_column": pa.Column(str, _NON_EMPTY),
        "call_type": pa.Column(str, _NON_EMPTY),
        "category_raw": pa.Column(str, nullable=True),
        "category": pa.Column(str, pa.Check.isin(CATEGORIES)),
        "count": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "small_cell": pa.Column(bool),
        "heartbeats_group": pa.Column(str, pa.Check.isin([*GROUPS, NONE])),
        "heartbeats_relevant": pa.Column(bool),
        "listed_officer_initiated": pa.Column(bool),
    },
    checks=[
        pa.Check(
            lambda df: df["heartbeats_relevant"] == df["heartbeats_group"].ne(NONE),
            error="heartbeats_relevant is heartbeats_group != 'none'",
        ),
        pa.Check(
            lambda df: ~(df["heartbeats_relevant"] & df["listed_officer_initiated"]),
            error="a call type listed as officer-initiated cannot be a relevant call",
        ),
    ],
    unique=["city", "source_column", "call_type"],
    strict=True,
    ordered=True,
    name=TABLE_NAME,
)

COLUMNS = {
    "city": "Charleston, Dallas, Detroit, New Orleans or Seattle",
    "source_column": "CAD column the call type comes from (trimmed: New Orleans's is published as "
    "'InitialTypeText '); compute shares within one (city, source_column)",
    "call_type": "Raw call type exactly as published (plain text)",
    "category_raw": "Vera's category as published (inconsistent spelling; blank for some call types)",
    "category": "Vera's category with spelling harmonised; 'Uncategorised' where Vera left it blank",
    "count": "Calls of this type, all years pooled (New Orleans TypeText 2011-2019, InitialTypeText 2014-2019)",
    "small_cell": f"count below {SMALL_CELL_THRESHOLD}",
    "heartbeats_group": "Central mapping: behavioural_health, welfare_assist, domestic, "
    "homelessness_quality_of_life, substance or none (rules in call_category_mapping.csv)",
    "heartbeats_relevant": "heartbeats_group is not 'none'",
    "listed_officer_initiated": "The call type is on the project's list of officer-initiated call types for this "
    "city and column (resources/officer_initiated_call_types.csv; stops, patrol checks, details, warrant "
    "service); only each city's primary column is listed, so False elsewhere means 'not listed'",
}

INITIATION_SCHEMA = pa.DataFrameSchema(
    {
        "city": pa.Column(str, pa.Check.isin(list(INITIATION_HEADERS))),
        "year": pa.Column("int64", pa.Check.in_range(2000, 2030)),
        "initiated_by": pa.Column(str, pa.Check.isin(INITIATED_BY)),
        "count": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "small_cell": pa.Column(bool),
    },
    unique=["city", "year", "initiated_by"],
    strict=True,
    ordered=True,
    name=INITIATION_TABLE_NAME,
)

INITIATION_COLUMNS = {
    "city": "New Orleans, Detroit or Seattle (Charleston and Dallas do not record who initiated a call)",
    "year": "Calendar year; first and last years are part-years (Seattle 2009, Detroit 2016, all 2019)",
    "initiated_by": "officer (self-initiated / on-view), community (911, other phone lines, alarms) or "
    "unknown (New Orleans 2011-2013, before its data carried the flag). New Orleans labels are "
    "the reverse of the workbook header (see calls.py)",
    "count": "CAD events; blank where the city's data did not record initiation that year",
    "small_cell": f"count below {SMALL_CELL_THRESHOLD}",
}

# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallsRaw:
    call_types: pd.DataFrame
    self_initiated: pd.DataFrame
    initiation: pd.DataFrame


def _as_text(value: object) -> object:
    """Cell text as published; numbers stored as numbers (Seattle's 911) become their digits."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_rows(workbook: CalamineWorkbook, sheet: str, file: str) -> list[tuple]:
    """The sheet's non-empty rows, each cell as openpyxl reads it: None when empty, a whole number as an int. (The
    calamine reader, in Rust, reads the workbook about ten times faster; it gives '' for an empty cell and a float
    for every number, and keeps leading empty rows and columns, as openpyxl does, only when told to.)"""
    if sheet not in workbook.sheet_names:
        raise SchemaValidationError(f"{file} does not match the schema: no sheet {sheet!r}")
    rows = (
        tuple(_openpyxl_value(v) for v in row)
        for row in workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    )
    return [row for row in rows if any(v is not None for v in row)]


def _openpyxl_value(value: object) -> object:
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sheet_frame(workbook: CalamineWorkbook, sheet: str, file: str, text_columns: Sequence[str]) -> pd.DataFrame:
    header, *rows = _sheet_rows(workbook, sheet, file)
    names = [str(h) for h in header]
    # a row shorter than the header (trailing empty cells): those are missing values.
    frame = pd.DataFrame([dict(zip(names, row, strict=False)) for row in rows], columns=names, dtype=object)
    for column in text_columns:
        if column in frame:
            frame[column] = frame[column].map(_as_text).astype("str")
    return frame


def _initiation_frame(path: Path, file: str) -> pd.DataFrame:
    workbook = CalamineWorkbook.from_path(str(path))
    records = []
    for city, expected in INITIATION_HEADERS.items():
        header, *rows = _sheet_rows(workbook, city, file)
        if tuple(str(h) for h in header) != expected:
            raise SchemaValidationError(
                f"{file} does not match the schema: sheet {city!r} header is {header}, expected {expected}"
            )
        for row in rows:
            for position in range(1, len(INITIATION_COLUMN_LABELS[city]) + 1):
                records.append(
                    {
                        "city": city,
                        "year": row[0],
                        "position": position,
                        "header": expected[position],
                        "count": row[position],
                    }
                )
    frame = pd.DataFrame(records, columns=["city", "year", "position", "header", "count"])
    return frame.astype({"city": "str", "header": "str", "position": "int64", "year": object, "count": object})


def load_raw(raw_root: Path | None = None) -> CallsRaw:
    root = raw_root_dir(raw_root)
    call_types_file = registry.get(CALL_TYPES_KEY).path
    initiation_file = registry.get(INITIATION_KEY).path
    text = ("City", "Column_name", "Field 1", "Field1", "Category", "Self initiated")
    workbook = CalamineWorkbook.from_path(str(root / call_types_file))
    call_types = _sheet_frame(workbook, CALL_TYPES_SHEET, call_types_file, text)
    self_initiated = _sheet_frame(workbook, SELF_INITIATED_SHEET, call_types_file, text)
    return CallsRaw(
        call_types=validate(call_types, RAW_SCHEMA, f"{call_types_file} (sheet {CALL_TYPES_SHEET})"),
        self_initiated=validate(
            self_initiated, SELF_INITIATED_RAW_SCHEMA, f"{call_types_file} (sheet {SELF_INITIATED_SHEET})"
        ),
        initiation=validate(
            _initiation_frame(root / initiation_file, initiation_file), INITIATION_RAW_SCHEMA, initiation_file
        ),
    )


# ---------------------------------------------------------------------------------------------
# Categories and the Heartbeats mapping
# ---------------------------------------------------------------------------------------------

_CANONICAL = {c.casefold(): c for c in CATEGORIES}


def harmonise_category(raw: object) -> str:
    """Vera's category with spelling harmonised; unknown labels come back trimmed (the schema rejects them)."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or not str(raw).strip():
        return UNCATEGORISED
    text = re.sub(r"\s+", " ", str(raw)).strip()
    key = text.casefold()
    return _CANONICAL.get(key) or CATEGORY_ALIASES.get(key) or text


@dataclass(frozen=True)
class Rule:
    scope: str
    category: str
    pattern: re.Pattern | None
    group: str
    rationale: str

    def matches(self, call_type: str, category: str) -> bool:
        if self.category != "*" and self.category != category:
            return False
        return self.pattern is None or bool(self.pattern.search(call_type))


@lru_cache(maxsize=4)
def load_mapping(path: Path = MAPPING_CSV) -> tuple[Rule, ...]:
    """The mapping rules, checked: known scopes, categories and groups, valid patterns, a rationale each,
    and at most one category rule per category."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rules, problems, category_rules = [], [], set()
    for number, row in enumerate(rows, start=2):
        where = f"{path.name} line {number}"
        if row["scope"] not in ("central", "broad"):
            problems.append(f"{where}: scope {row['scope']!r} is not central or broad")
        if row["category"] != "*" and row["category"] not in CATEGORIES:
            problems.append(f"{where}: unknown category {row['category']!r}")
        if row["heartbeats_group"] not in (*GROUPS, NONE):
            problems.append(f"{where}: unknown group {row['heartbeats_group']!r}")
        if not row["rationale"].strip():
            problems.append(f"{where}: no rationale")
        pattern = None
        if row["call_type_pattern"]:
            try:
                pattern = re.compile(row["call_type_pattern"], re.IGNORECASE)
            except re.error as exc:
                problems.append(f"{where}: bad pattern ({exc})")
        elif row["category"] == "*":
            problems.append(f"{where}: a rule for every category needs a call_type_pattern")
        elif row["category"] in category_rules:
            problems.append(f"{where}: a second category rule for {row['category']!r}")
        else:
            category_rules.add(row["category"])
        rules.append(Rule(row["scope"], row["category"], pattern, row["heartbeats_group"], row["rationale"]))
    if problems:
        raise SchemaValidationError("The call category mapping is invalid:\n  - " + "\n  - ".join(problems))
    return tuple(rules)


def _ordered_rules(mapping: str, rules: Sequence[Rule]) -> list[Rule]:
    scopes = ("central",) if mapping in ("central", "narrow") else ("central", "broad")
    chosen = [r for r in rules if r.scope in scopes]
    return [r for r in chosen if r.pattern is not None] + [r for r in chosen if r.pattern is None]


def group_of(call_type: str, category: str, mapping: str = "central", rules: Sequence[Rule] | None = None) -> str:
    """The Heartbeats group of one call type under the narrow, central or broad mapping."""
    if mapping not in MAPPINGS:
        raise ValueError(f"mapping must be one of {MAPPINGS}, not {mapping!r}")
    for rule in _ordered_rules(mapping, load_mapping() if rules is None else rules):
        if rule.matches(call_type, category):
            group = rule.group
            break
    else:
        group = NONE
    return group if mapping != "narrow" or group in NARROW_GROUPS else NONE


@lru_cache(maxsize=8)
def _groups_found(mapping: str, rules: tuple[Rule, ...]) -> dict[tuple[str, str], str]:
    """The group of each (call type, category) already worked out under one mapping and set of rules, filled in
    by assign_groups: the calls notebook asks for the same 1,700 call types a dozen times, and matching them
    against every rule took over half its time."""
    return {}


def assign_groups(calls: pd.DataFrame, mapping: str = "central", rules: Sequence[Rule] | None = None) -> pd.Series:
    """heartbeats_group for every row of a calls table (needs call_type and category)."""
    rules = tuple(load_mapping() if rules is None else rules)
    found = _groups_found(mapping, rules)
    pairs = calls[["call_type", "category"]].drop_duplicates()
    lookup = {}
    for pair in pairs.itertuples(index=False, name=None):
        if pair not in found:
            found[pair] = group_of(*pair, mapping, rules)
        lookup[pair] = found[pair]
    return pd.Series(
        [lookup[(t, c)] for t, c in zip(calls["call_type"], calls["category"], strict=True)],
        index=calls.index,
        dtype="str",
    )


def broad_candidates(rules: Sequence[Rule] | None = None) -> list[str]:
    """The borderline categories and call-type patterns that only the broad mapping counts."""
    rules = load_mapping() if rules is None else rules
    return [
        r.category if r.pattern is None else f"call types matching {r.pattern.pattern}"
        for r in rules
        if r.scope == "broad"
    ]


@dataclass(frozen=True)
class OfficerInitiatedRule:
    city: str
    source_column: str
    pattern: re.Pattern
    reason: str


@lru_cache(maxsize=4)
def load_officer_initiated(path: Path = OFFICER_INITIATED_CSV) -> tuple[OfficerInitiatedRule, ...]:
    """The documented list of officer-initiated call types (stops, patrol checks, details, warrant service),
    per city and CAD column; checked: known cities and primary columns, valid patterns, a reason each."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rules, problems = [], []
    for number, row in enumerate(rows, start=2):
        where = f"{path.name} line {number}"
        if PRIMARY_SOURCE_COLUMNS.get(row["city"]) != row["source_column"]:
            problems.append(f"{where}: {row['city']!r} / {row['source_column']!r} is not a city's primary column")
        if not row["reason"].strip():
            problems.append(f"{where}: no reason")
        try:
            pattern = re.compile(row["call_type_pattern"], re.IGNORECASE)
        except re.error as exc:
            problems.append(f"{where}: bad pattern ({exc})")
            continue
        rules.append(OfficerInitiatedRule(row["city"], row["source_column"], pattern, row["reason"]))
    if problems:
        raise SchemaValidationError("The officer-initiated call-type list is invalid:\n  - " + "\n  - ".join(problems))
    return tuple(rules)


def officer_initiated_reason(
    city: str, source_column: str, call_type: str, rules: Sequence[OfficerInitiatedRule] | None = None
) -> str | None:
    """Why a call type counts as officer-initiated, or None when it is not on the list."""
    for rule in load_officer_initiated() if rules is None else rules:
        if rule.city == city and rule.source_column == source_column and rule.pattern.search(call_type):
            return rule.reason
    return None


def listed_officer_initiated(calls: pd.DataFrame, rules: Sequence[OfficerInitiatedRule] | None = None) -> pd.Series:
    """listed_officer_initiated for every row of a calls table (needs city, source_column and call_type)."""
    return pd.Series(
        [
            officer_initiated_reason(c, s, t, rules) is not None
            for c, s, t in zip(calls["city"], calls["source_column"], calls["call_type"], strict=True)
        ],
        index=calls.index,
        dtype=bool,
    )


# ---------------------------------------------------------------------------------------------
# Cleaning
# ---------------------------------------------------------------------------------------------


def _key(row) -> str:
    return f"{row.city}|{row.source_column}|{row.call_type}"


def _merge_repeated_call_types(table: pd.DataFrame, log: MissingnessLog, file: str) -> pd.DataFrame:
    """One row per call type: rows repeating a (city, column, call type) are distinct raw codes sharing one
    description (their totals reconcile with the city totals), so their counts are summed."""
    key = ["city", "source_column", "call_type"]
    repeated = table[table.duplicated(key, keep=False)]
    conflicting = repeated.groupby(key)["category"].nunique()
    if (conflicting > 1).any():
        city, column, call_type = conflicting[conflicting > 1].index[0]
        raise SchemaValidationError(
            f"{file} does not match the schema: call type {call_type!r} ({city}, {column}) appears in two "
            f"different categories"
        )
    for (city, column, call_type), rows in repeated.groupby(key):
        log.add(
            TABLE_NAME,
            f"{city}|{column}|{call_type}",
            "count",
            f"{len(rows)} raw rows with this call type summed",
            ";".join(map(str, rows["raw_count"])),
        )
    groups = table.groupby(key, sort=False, dropna=False)
    merged = groups.agg(category_raw=("category_raw", "first"), category=("category", "first"))
    # A call type's count is the sum of its rows, or missing when any row's count is missing.
    merged["count"] = groups["count"].sum().astype("Int64").mask(groups["count"].count() < groups.size())
    return merged.reset_index()


def clean(raw: CallsRaw, log: MissingnessLog) -> pd.DataFrame:
    file = f"{TABLE_NAME}.csv"
    table = raw.call_types.rename(
        columns={
            "City": "city",
            "Column_name": "source_column",
            "Field 1": "call_type",
            "Category": "category_raw",
            "Count": "raw_count",
        }
    )
    table = table[["city", "source_column", "call_type", "category_raw", "raw_count"]].copy()
    # Labels lose stray spaces (New Orleans's column is published as 'InitialTypeText '); call types do not.
    for column in ("city", "source_column"):
        table[column] = table[column].str.strip()
    table["count"] = to_int64(table["raw_count"])
    for row in table[table["count"].isna()].itertuples(index=False):
        log.add(TABLE_NAME, _key(row), "count", "blank in the raw file", row.raw_count)
    table["category"] = table["category_raw"].map(harmonise_category).astype("str")
    for row in table[table["category_raw"].isna()].itertuples(index=False):
        log.add(TABLE_NAME, _key(row), "category_raw", f"blank in the raw file; category set to {UNCATEGORISED}")
    table = _merge_repeated_call_types(table, log, file)
    table["small_cell"] = table["count"].lt(SMALL_CELL_THRESHOLD).fillna(False).astype(bool)
    table["heartbeats_group"] = assign_groups(table, "central")
    table["heartbeats_relevant"] = table["heartbeats_group"].ne(NONE)
    table["listed_officer_initiated"] = listed_officer_initiated(table)
    return finish_table(table, PROCESSED_SCHEMA, ["city", "source_column", "call_type"])


# ---------------------------------------------------------------------------------------------
# Who initiated the call
# ---------------------------------------------------------------------------------------------


def calls_initiation(raw: CallsRaw, log: MissingnessLog) -> pd.DataFrame:
    """CAD events per city, year and initiator (officer / community / unknown)."""
    cells = raw.initiation.copy()
    cells["year"] = to_int64(cells["year"]).astype("int64")
    cells["count"] = to_int64(cells["count"])
    cells["initiated_by"] = [
        INITIATION_COLUMN_LABELS[c][p - 1] for c, p in zip(cells["city"], cells["position"], strict=True)
    ]
    published = cells[cells["count"].notna()]
    table = published.groupby(["city", "year", "initiated_by"], as_index=False)["count"].sum()
    # Years with only an 'unknown' total: the city's data had no initiation flag, so the split is missing.
    unflagged = table.groupby(["city", "year"])["initiated_by"].agg(set)
    gaps = []
    for (city, year), labels in unflagged.items():
        if labels == {"unknown"}:
            for label in ("officer", "community"):
                gaps.append({"city": city, "year": year, "initiated_by": label, "count": pd.NA})
                log.add(
                    INITIATION_TABLE_NAME,
                    f"{city}|{year}|{label}",
                    "count",
                    "the city's data for this year has no self-initiated flag; every call is 'unknown'",
                )
    if gaps:
        table = pd.concat([table, pd.DataFrame(gaps)], ignore_index=True)
    table["count"] = table["count"].astype("Int64")
    table["small_cell"] = table["count"].lt(SMALL_CELL_THRESHOLD).fillna(False).astype(bool)
    order = {label: i for i, label in enumerate(INITIATED_BY)}
    return finish_table(
        table,
        INITIATION_SCHEMA,
        ["city", "year", "initiated_by"],
        key=lambda s: s.map(order) if s.name == "initiated_by" else s,
    )


def initiation_reconciliation(raw: CallsRaw) -> pd.DataFrame:
    """All-year officer and community totals from the summary workbook (as relabelled here) beside the
    pooled Yes/No counts of CallTypes_TS's SelfInitiated sheet: equal for New Orleans and Seattle."""
    table = calls_initiation(raw, MissingnessLog())
    summary = table[table["initiated_by"].ne("unknown")].groupby(["city", "initiated_by"])["count"].sum()
    pooled = (
        raw.self_initiated.assign(
            initiated_by=raw.self_initiated["Self initiated"].map({"Yes": "officer", "No": "community"}),
            count=to_int64(raw.self_initiated["Count"]),
        )
        .groupby(["City", "initiated_by"])["count"]
        .sum()
    )
    pooled.index = pooled.index.set_names(["city", "initiated_by"])
    out = pd.DataFrame({"summary_total": summary, "pooled_total": pooled}).dropna(how="all").reset_index()
    out["equal"] = out["summary_total"].eq(out["pooled_total"]).fillna(False).astype(bool)
    return out


EXTRA_TABLES = {INITIATION_TABLE_NAME: (INITIATION_SCHEMA, INITIATION_COLUMNS, calls_initiation)}
