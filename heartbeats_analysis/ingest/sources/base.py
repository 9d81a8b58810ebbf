"""Shared pieces of the per-source contract: reading raw files as text, schema validation with
readable errors, finishing a processed table, the missingness log, number parsing and agency slugs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

# SchemaValidationError lives with every other exit-coded error; sources import it from here too.
from heartbeats_analysis.errors import SchemaValidationError as SchemaValidationError
from heartbeats_analysis.paths import raw_dir

SMALL_CELL_THRESHOLD = 10
"""Counts below this are kept but flagged: rates and shares are not read from them."""


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, file: str | Path, max_rows: int = 5):
    """Validate lazily; on failure name the file, each failing column and example rows."""
    try:
        return schema.validate(df, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        cases = _one_cell_per_row(getattr(exc, "failure_cases", None))
        lines = [f"{file} does not match the schema {schema.name or ''}".rstrip() + ":"]
        if cases is not None and len(cases):
            for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
                if str(check).startswith("column_in_dataframe"):
                    missing = ", ".join(repr(v) for v in group["failure_case"])
                    lines.append(f"  - missing column(s): {missing}")
                    continue
                column = "(table)" if column is None or (isinstance(column, float) and math.isnan(column)) else column
                examples = group.head(max_rows)
                shown = ", ".join(
                    f"row {idx}: {_plain(val)!r}" if pd.notna(idx) else repr(_plain(val))
                    for idx, val in zip(examples["index"], examples["failure_case"], strict=True)
                )
                lines.append(f"  - column {column!r} failed {check}: {shown}")
        else:
            lines.append(f"  - {exc}")
        raise SchemaValidationError("\n".join(lines)) from None


def _one_cell_per_row(cases: pd.DataFrame | None) -> pd.DataFrame | None:
    """A table-wide check that returns a frame of booleans (e.g. ``ucr_common.count_text_columns``)
    reports each failing row as {column: value}; spread those into one row per column so that the
    message names the column, as a column's own check would."""
    if cases is None or not len(cases) or not cases["failure_case"].map(lambda v: isinstance(v, dict)).any():
        return cases
    rows = []
    for record in cases.to_dict("records"):
        case = record["failure_case"]
        if isinstance(case, dict):
            rows.extend({**record, "column": column, "failure_case": value} for column, value in case.items())
        else:
            rows.append(record)
    return pd.DataFrame(rows, columns=cases.columns)


def raw_root_dir(raw_root: Path | None) -> Path:
    """The folder ``load_raw`` reads: ``raw_root`` when given, else paths.raw_dir()."""
    return raw_dir() if raw_root is None else Path(raw_root)


def read_text_csv(path: Path) -> pd.DataFrame:
    """A raw CSV as published: every column text and blank cells '' (FIPS codes keep their leading
    zeros; counts are parsed later by parse_count)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_raw_csv(root: Path, file: str, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """``root / file`` read as text and validated against its raw schema (errors name ``file``)."""
    return validate(read_text_csv(Path(root) / file), schema, file)


def finish_table(table: pd.DataFrame, schema: pa.DataFrameSchema, sort_by: list[str], key=None) -> pd.DataFrame:
    """A processed table as it is written: rows in a stable sort by ``sort_by`` (``key`` as in
    DataFrame.sort_values), the schema's columns in its order, a fresh index, validated against
    ``schema`` as '<schema name>.csv' (each processed schema is named after its table)."""
    table = table.sort_values(sort_by, key=key, kind="stable")[list(schema.columns)].reset_index(drop=True)
    return validate(table, schema, f"{schema.name}.csv")


def _plain(value: object) -> object:
    """numpy scalars print as np.int64(4); people want 4."""
    return value.item() if hasattr(value, "item") else value


@dataclass
class MissingnessLog:
    """Every gap the cleaning found or created, with the reason (written to missingness.csv)."""

    rows: list[dict] = field(default_factory=list)

    def add(self, table: str, key: str, column: str, reason: str, raw_value: object = None) -> None:
        self.rows.append(
            {
                "table": table,
                "key": key,
                "column": column,
                "reason": reason,
                "raw_value": None if raw_value is None else str(raw_value),
            }
        )

    def to_frame(self) -> pd.DataFrame:
        columns = ["table", "key", "column", "reason", "raw_value"]
        return pd.DataFrame(self.rows, columns=columns).sort_values(columns[:3], kind="stable").reset_index(drop=True)


def parse_count(value: object) -> float:
    """Parse a published count: '2e3' and '2,000' give 2000; blanks and NA give NaN.

    Returns a float so that NaN can stand for missing; callers convert to nullable Int64.
    Raises ValueError on text that is not a number or on a non-integral value.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return math.nan
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return math.nan
        if not value.is_integer():
            raise ValueError(f"count {value!r} is not a whole number")
        return value
    text = str(value).strip().replace(",", "")
    if text == "" or text.upper() in {"NA", "NAN", "NULL", "NONE"}:
        return math.nan
    number = float(text)
    if not math.isfinite(number) or not number.is_integer():
        raise ValueError(f"count {value!r} is not a whole number")
    return number


def is_count_text(value: object) -> bool:
    """True for text that parse_count reads as a whole non-negative number or a gap ('', '2e3', '1,204')."""
    try:
        number = parse_count(value)
    except (TypeError, ValueError):
        return False
    return number != number or number >= 0  # NaN (a gap) is allowed; negatives are not


def count_text_check() -> pa.Check:
    """Raw-schema check for a count column read as text."""
    return pa.Check(is_count_text, element_wise=True, error="a whole non-negative number or blank")


_ONE_KIND_OF_VALUE = {"string", "integer", "floating", "empty"}


def to_int64(series: pd.Series) -> pd.Series:
    """Nullable integers from raw counts, never turning a gap into zero."""
    if series.dtype == "str" or pd.api.types.infer_dtype(series, skipna=True) in _ONE_KIND_OF_VALUE:
        # A raw column repeats a few hundred values over thousands of cells: each distinct value is parsed once, in
        # order of first appearance, so a bad count raises the same error as cell by cell. (Only a column holding
        # one kind of value: in a mixed one, 1 and True would count as one value.)
        codes, texts = pd.factorize(series)
        parsed = np.append(np.array([parse_count(t) for t in texts], dtype="float64"), math.nan)
        return pd.Series(parsed[codes], index=series.index, dtype="float64").astype("Int64")  # code -1: a gap
    return pd.Series([parse_count(v) for v in series], index=series.index, dtype="float64").astype("Int64")


@lru_cache(maxsize=16384)
def agency_slug(name: str) -> str:
    """A stable, URL-safe id from an agency name: 'Ferguson Police Dept' -> 'ferguson'.

    Sheriff's offices keep 'sheriff' so a county's sheriff and its police differ. Kept per name: the raw files
    repeat a few thousand names over tens of thousands of rows.
    """
    text = name.strip().lower().replace("&", " and ")
    text = text.replace("st.", "st").replace("'", "")
    sheriff = "sheriff" in text
    text = re.sub(r"\b(police|dept|department|office|sheriffs?|of public safety)\b", " ", text)
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return f"{slug}-sheriff" if sheriff else slug
