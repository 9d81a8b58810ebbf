"""Shared pieces of the two FBI UCR agency sources (offenses known, police employees).

Both come as one CSV per agency (Jacob Kaplan's crimedatatool exports), named by a file stem that
the explicit crosswalk ``resources/ucr_agency_crosswalk.csv`` maps to our ``agency_slug``. Both mark a
year in which an agency did not report either with an empty row or with every count at zero; the
rules that turn those years into missing values live here so that the two tables agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
    agency_slug,
    parse_count,
    read_text_csv,
    to_int64,
    validate,
)
from heartbeats_analysis.paths import RESOURCES_DIR, raw_dir

CROSSWALK_CSV = RESOURCES_DIR / "ucr_agency_crosswalk.csv"

COUNT_TEXT = r"^\s*(?:-?(?:\d[\d,]*)?\.?\d+(?:[eE][+-]?\d+)?|NA|NaN)?\s*$"
"""A published count: digits, commas, a sign, scientific notation ('2e3'), 'NA' or blank."""

YEAR_RANGE = (1930, 2100)

REASON_EMPTY_ROW = "empty row in the raw file (not reported)"
REASON_ABSENT_ROW = "no row in the raw file (no full-year report)"
REASON_ALL_ZERO = "every count 0 in the raw file (a reporting gap, not zero)"
REASON_POPULATION_BLANK = "population blank in the raw file"
REASON_POPULATION_ZERO = "population 0 in the raw file: no rate"


def count_text_column(**kwargs) -> pa.Column:
    """A raw column holding counts as published text (validated here, parsed later by base.to_int64)."""
    return pa.Column(str, checks=pa.Check.str_matches(COUNT_TEXT), **kwargs)


def count_text_columns(pattern: str) -> pa.Check:
    """Every column whose name matches ``pattern`` holds counts as published text: one check over the
    whole block instead of one ``count_text_column`` per column. The UCR files carry hundreds of such
    columns (803 in an arrests file) and pandera's fixed cost per column made raw validation the
    largest part of cleaning; the check tests each distinct value once. A failure is reported per
    column and row, as a column's own check would be (``base.validate`` spreads the cells)."""
    names = re.compile(pattern)
    count = re.compile(COUNT_TEXT)

    def is_count_text(frame: pd.DataFrame) -> bool | pd.DataFrame:
        checked = [column for column in frame.columns if names.match(str(column))]
        values = pd.unique(frame[checked].to_numpy().ravel()) if checked else []
        bad = [v for v in values if not (isinstance(v, str) and count.match(v))]
        if not bad:
            return True  # pandera's handling of a frame-shaped result is slow: pay it only on failure
        # A frame of the input's shape names each failing cell; columns the pattern does not name pass.
        result = pd.DataFrame(True, index=frame.index, columns=frame.columns)
        result[checked] = ~frame[checked].isin(bad)
        return result

    return pa.Check(is_count_text, name="is_count_text", error=f"str_matches('{COUNT_TEXT}')")


def year_text_column() -> pa.Column:
    """The raw year: never blank; may be written in scientific notation ('2e3')."""
    low, high = YEAR_RANGE
    return pa.Column(str, checks=pa.Check(_is_year, element_wise=True, error=f"a year from {low} to {high}"))


def identity_columns() -> dict[str, pa.Column]:
    """The raw columns that say whose file it is and which year and population a row is for; both
    UCR sources (and both offenses layouts) start with them."""
    return {
        "agency": pa.Column(str),
        "year": year_text_column(),
        "state": pa.Column(str),
        "population": count_text_column(),
        "ORI": pa.Column(str),
    }


def _is_year(text: str) -> bool:
    try:
        value = parse_count(text)
    except ValueError:
        return False
    return not np.isnan(value) and YEAR_RANGE[0] <= value <= YEAR_RANGE[1]


@lru_cache(maxsize=1)
def load_crosswalk() -> pd.DataFrame:
    """The 16 UCR agencies: agency_slug, ucr_name, ucr_file_stem, ori and the other crosswalk columns."""
    frame = read_text_csv(CROSSWALK_CSV)
    if frame["agency_slug"].duplicated().any() or frame["ucr_file_stem"].duplicated().any():
        raise SchemaValidationError(f"{CROSSWALK_CSV.name} repeats an agency_slug or a ucr_file_stem")
    return frame


def agency_slugs() -> list[str]:
    return sorted(load_crosswalk()["agency_slug"])


def read_agency_files(
    subfolder: str,
    schema_for: Callable[[list[str], str], pa.DataFrameSchema],
    raw_root: Path | None = None,
    stem_column: str = "ucr_file_stem",
) -> dict[str, pd.DataFrame]:
    """Read every CSV under <raw_root>/ucr/<subfolder>/ as published (all columns as text).

    Each file must be named by the crosswalk's ``stem_column`` (``ucr_file_stem`` by default;
    ``offenses_2023_file_stem`` for the newer offence files); ``schema_for(header, file)`` returns the
    raw schema for that file's layout. Returns {ucr_file_stem: raw frame}, ordered by stem, so that
    files from either folder are keyed the same way.
    """
    folder = Path(raw_root or raw_dir()) / "ucr" / subfolder
    paths = sorted(folder.glob("*.csv"))
    if not paths:
        raise FileNotFoundError(f"No UCR {subfolder} files under {folder}: fetch the raw data first")
    crosswalk = load_crosswalk()
    crosswalk = crosswalk[crosswalk[stem_column].fillna("").str.strip() != ""].set_index(stem_column, drop=False)
    files = []
    for path in paths:
        display = f"ucr/{subfolder}/{path.name}"
        if path.stem not in crosswalk.index:
            known = ", ".join(sorted(crosswalk.index))
            raise SchemaValidationError(
                f"{display} is not in {CROSSWALK_CSV.name} (column {stem_column}); known stems: {known}"
            )
        frame = read_text_csv(path)
        files.append((path, display, frame, schema_for(list(frame.columns), display)))
    valid = _valid_together([(frame, schema) for _, _, frame, schema in files])
    frames: dict[str, pd.DataFrame] = {}
    for index, (path, display, frame, schema) in enumerate(files):
        if index not in valid:
            frame = validate(frame, schema, display)
        agency = crosswalk.loc[path.stem]
        _check_identity(frame, agency, display)
        frame.attrs["raw_path"] = display
        frames[str(agency["ucr_file_stem"])] = frame
    return dict(sorted(frames.items()))


ROW_BY_ROW_CHECKS = frozenset(
    {"str_matches", "str_length", "str_startswith", "str_endswith", "str_contains", "isin", "notin", "in_range"}
    | {"equal_to", "not_equal_to", "greater_than", "greater_than_or_equal_to", "less_than", "less_than_or_equal_to"}
    | {"is_count_text"}
)
"""Checks that pass or fail each cell (or row) on its own: pandera's built-ins above and count_text_columns. A file
passes such a check alone exactly when it passes it stacked with other files."""


def _valid_together(files: list[tuple[pd.DataFrame, pa.DataFrameSchema]]) -> set[int]:
    """The positions of the files that pass their schema, found by validating the files with the same schema and the
    same columns as one table: one pandera call for a layout instead of one per agency file (each call costs about 10
    ms, whatever the table's size). Only schemas whose every check judges rows on their own (ROW_BY_ROW_CHECKS or
    element-wise), with no unique columns and no coercion, are validated so. A table that fails says nothing of which
    file failed: the caller validates the files not returned one by one and raises the first one's own error."""
    groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
    for index, (frame, schema) in enumerate(files):
        if _judges_rows_alone(schema):
            groups.setdefault((id(schema), tuple(map(str, frame.columns))), []).append(index)
    valid: set[int] = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        together = pd.concat([files[i][0] for i in members], ignore_index=True)
        try:
            files[members[0]][1].validate(together, lazy=True)
        except (SchemaError, SchemaErrors):
            continue
        valid.update(members)
    return valid


def _judges_rows_alone(schema: pa.DataFrameSchema) -> bool:
    """No check over a column or a group, no uniqueness, nothing that changes the frame (coercion, parsers, dropped
    rows), no index or table-wide dtype to check."""
    columns = list(schema.columns.values())
    checks = [*schema.checks, *(check for column in columns for check in column.checks)]
    changes_the_frame = schema.coerce or schema.add_missing_columns or schema.drop_invalid_rows or schema.parsers
    return (
        not (schema.unique or schema.ordered or changes_the_frame or schema.index is not None or schema.dtype)
        and not any(column.unique or column.coerce or column.parsers for column in columns)
        and all((check.element_wise or check.name in ROW_BY_ROW_CHECKS) and check.groupby is None for check in checks)
    )


def _check_identity(frame: pd.DataFrame, agency: pd.Series, display: str) -> None:
    """Every row must carry the crosswalk's ORI and agency name: a file saved under the wrong name fails.

    Names are compared through agency_slug, so case, spacing and 'Dept'/'Department' do not matter.
    """
    oris = frame["ORI"].str.strip()
    wrong_ori = frame.loc[(oris != "") & (oris != agency["ori"]), ["year", "ORI"]]
    expected = agency_slug(agency["ucr_name"])
    wrong_name = frame.loc[frame["agency"].map(agency_slug) != expected, ["year", "agency"]]
    problems = []
    if len(wrong_ori):
        problems.append(f"  - column 'ORI' should be {agency['ori']!r}: {wrong_ori.head(5).to_dict('records')}")
    if len(wrong_name):
        shown = wrong_name.head(5).to_dict("records")
        problems.append(f"  - column 'agency' should be {agency['ucr_name']!r}: {shown}")
    if problems:
        raise SchemaValidationError(f"{display} does not belong to {agency['agency_slug']}:\n" + "\n".join(problems))


def clean_agency_files(
    raw: dict[str, pd.DataFrame],
    clean_file: Callable[[pd.DataFrame, str, str, MissingnessLog], pd.DataFrame],
    log: MissingnessLog,
) -> pd.DataFrame:
    """``clean_file(frame, stem, agency_slug, log)`` for every raw file, stacked, with a row added for
    each year missing between an agency's first and last (see fill_absent_years)."""
    slug_of = load_crosswalk().set_index("ucr_file_stem")["agency_slug"]
    tables = [clean_file(frame, stem, slug_of[stem], log) for stem, frame in raw.items()]
    return fill_absent_years(pd.concat(tables, ignore_index=True))


def one_row_per_year(
    frame: pd.DataFrame, subfolder: str, stem: str, table: str, slug: str, log: MissingnessLog
) -> pd.DataFrame:
    """One raw file with its years parsed and exact repeats of a year dropped (see drop_duplicate_years)."""
    frame = frame.assign(year=parse_years(frame))
    return drop_duplicate_years(frame, f"ucr/{subfolder}/{stem}.csv", table, slug, log)


def agency_year_counts(frame: pd.DataFrame, slug: str, columns: dict[str, str]) -> pd.DataFrame:
    """agency_slug, year and population, then the counts of ``columns`` ({raw: processed}, see parse_counts)."""
    out = pd.DataFrame(
        {"agency_slug": slug, "year": frame["year"].astype("int64"), "population": to_int64(frame["population"])},
        index=frame.index,
    )
    return pd.concat([out, parse_counts(frame, columns)], axis=1)


def parse_years(frame: pd.DataFrame) -> pd.Series:
    """Integer years ('2e3' -> 2000); the raw schema has already checked that each one parses."""
    return pd.Series([int(parse_count(v)) for v in frame["year"]], index=frame.index, dtype="int64")


def drop_duplicate_years(frame: pd.DataFrame, display: str, table: str, slug: str, log: MissingnessLog) -> pd.DataFrame:
    """One row per year: exact repeats are dropped (and logged); conflicting repeats are an error."""
    repeated = frame["year"].duplicated(keep=False)
    if not repeated.any():
        return frame
    conflicting = frame[repeated].drop_duplicates().groupby("year").size()
    conflicting = conflicting[conflicting > 1]
    if len(conflicting):
        raise SchemaValidationError(
            f"{display} has different rows for the same year: {sorted(conflicting.index.tolist())}"
        )
    for year in sorted(frame.loc[frame["year"].duplicated(), "year"].unique()):
        log.add(table, row_key(slug, year), "(row)", "exact duplicate row in the raw file dropped", year)
    return frame.drop_duplicates(subset="year", keep="first")


def row_key(slug: str, year: int) -> str:
    return f"agency_slug={slug}, year={year}"


def parse_counts(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Nullable Int64 counts renamed to processed names: {raw column: processed column}."""
    return pd.DataFrame({new: to_int64(frame[old]) for old, new in columns.items()}, index=frame.index)


def fill_absent_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a row for each year missing between an agency's first and last year (marked ``absent``)."""
    pieces = []
    for slug, group in frame.groupby("agency_slug", sort=True):
        years = pd.RangeIndex(group["year"].min(), group["year"].max() + 1, name="year")
        full = group.set_index("year").reindex(years).reset_index()
        full["agency_slug"] = slug
        full["absent"] = ~full["year"].isin(group["year"])
        pieces.append(full)
    out = pd.concat(pieces, ignore_index=True)
    out["year"] = out["year"].astype("int64")
    return out


def mark_reporting_gaps(
    frame: pd.DataFrame,
    count_columns: list[str],
    table: str,
    log: MissingnessLog,
    also_counts: list[str] | tuple[str, ...] = (),
) -> pd.DataFrame:
    """Blank out and log the years in which an agency did not report; add the ``reported`` column.

    A year is a gap when its row is absent (``absent`` column), empty (every count missing) or all
    zero; ``also_counts`` are raw counts that must be empty or zero too but are not kept or logged.
    Every such year becomes <NA> in ``count_columns``, whether or not the agency reported in the
    neighbouring years: a whole year of zeros is how the FBI files show a non-report, and a police
    agency with no employees or no offences at all has nothing to measure. The log says which case
    each gap is (between reported years, before the first, after the last).
    """
    counts = frame[[*count_columns, *also_counts]]
    empty = counts.isna().all(axis=1).astype(bool)
    all_zero = (counts.notna().all(axis=1) & counts.eq(0).fillna(False).all(axis=1)).astype(bool)
    absent = frame["absent"].astype(bool) if "absent" in frame else pd.Series(False, index=frame.index)
    gap = absent | empty | all_zero
    out = frame.copy()
    out["reported"] = ~gap
    out.loc[all_zero, count_columns] = pd.NA
    for index in out.index[gap]:
        slug, year = out.at[index, "agency_slug"], int(out.at[index, "year"])
        reason = REASON_ABSENT_ROW if absent[index] else REASON_EMPTY_ROW if empty[index] else REASON_ALL_ZERO
        reason = f"{reason}; {_gap_position(out, slug, year)}"
        raw = "0" if all_zero[index] else None
        for column in count_columns:
            log.add(table, row_key(slug, year), column, reason, raw)
    return out


def _gap_position(frame: pd.DataFrame, slug: str, year: int) -> str:
    reported_years = frame.loc[(frame["agency_slug"] == slug) & frame["reported"], "year"]
    before, after = (reported_years < year).any(), (reported_years > year).any()
    if before and after:
        return "between reported years"
    if before:
        return "after the agency's last reported year"
    if after:
        return "before the agency's first reported year"
    return "the agency never reported"


def clean_population(frame: pd.DataFrame, table: str, log: MissingnessLog) -> pd.Series:
    """The parsed ``population`` column with a published 0 (no resident population) turned into <NA>.

    Blank populations are logged only for years the agency reported: a gap year is already logged.
    """
    population = frame["population"].astype("Int64")
    for index in frame.index[frame["reported"]]:
        value = population[index]
        key = row_key(frame.at[index, "agency_slug"], int(frame.at[index, "year"]))
        if pd.isna(value):
            log.add(table, key, "population", REASON_POPULATION_BLANK)
        elif value == 0:
            log.add(table, key, "population", REASON_POPULATION_ZERO, 0)
    return population.mask(population.eq(0).fillna(False))


def per_1000(count: pd.Series, population: pd.Series) -> pd.Series:
    """count / population x 1000 as float; missing when either is missing or population is not positive."""
    numerator = count.astype("Float64")
    denominator = population.astype("Float64").where(population.astype("Float64") > 0)
    return (numerator / denominator * 1000).astype("float64")
