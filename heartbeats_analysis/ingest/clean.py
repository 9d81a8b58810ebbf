"""Clean every raw source into validated tidy tables in data/processed/ (the build's first step).

All tables are computed and validated before any file is written, so a schema failure stops the
build with the previous processed tables intact. Each table is documented in datapackage.json and
README.md (the data dictionary), and every gap the cleaning found or created is in missingness.csv.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import MissingnessLog
from heartbeats_analysis.paths import processed_dir

SOURCE_MODULES = (
    "acs",
    "vsr",
    "ucr_police",
    "ucr_offenses",
    "ucr_arrests",
    "fbi_state",
    "fatal_force",
    "stl_county_force",
    "calls",
    "movsr",
    "agencies",
    "bls_oews",
)
MISSINGNESS_COLUMNS = {
    "table": "Processed table the gap is in",
    "key": "Row key (e.g. agency and year)",
    "column": "Column left missing",
    "reason": "Why the value is missing",
    "raw_value": "What the raw file held, if anything",
}


@dataclass(frozen=True)
class TableOutput:
    name: str
    frame: pd.DataFrame
    schema: pa.DataFrameSchema | None
    columns: dict[str, str]
    module: str


def _modules():
    """Every source module in SOURCE_MODULES; a listed module that does not exist stops the cleaning
    (a table silently left out would surface much later as a notebook's missing table)."""
    for name in SOURCE_MODULES:
        module_name = f"heartbeats_analysis.ingest.sources.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            raise ModuleNotFoundError(
                f"SOURCE_MODULES in heartbeats_analysis/ingest/clean.py lists {name!r}, but there is no module "
                f"{module_name}: write heartbeats_analysis/ingest/sources/{name}.py or remove it from the list.",
                name=module_name,
            ) from exc
        yield name, module


def build_tables(raw_root: Path | None = None, progress: Callable[[str], None] | None = None) -> list[TableOutput]:
    """Run load_raw and clean for every source; nothing is written here."""
    log = MissingnessLog()
    outputs: list[TableOutput] = []
    cleaned: dict[str, pd.DataFrame] = {}
    for name, module in _modules():
        if progress:
            progress(name)
        raw = module.load_raw(raw_root)
        frame = _call_clean(module.clean, raw, log, cleaned)
        outputs.append(TableOutput(module.TABLE_NAME, frame, module.PROCESSED_SCHEMA, module.COLUMNS, name))
        cleaned[module.TABLE_NAME] = frame
        for extra_name, (schema, columns, function) in getattr(module, "EXTRA_TABLES", {}).items():
            extra = _call_clean(function, raw, log, cleaned)
            outputs.append(TableOutput(extra_name, extra, schema, columns, name))
            cleaned[extra_name] = extra
    outputs.append(TableOutput("missingness", log.to_frame(), None, MISSINGNESS_COLUMNS, "base"))
    return outputs


def _call_clean(function, raw, log, cleaned):
    """clean(raw, log), or clean(raw, log, tables) for sources that need earlier tables (agencies)."""
    if len(inspect.signature(function).parameters) >= 3:
        return function(raw, log, cleaned)
    return function(raw, log)


def write_tables(outputs: list[TableOutput], folder: Path | None = None) -> list[Path]:
    """Write every table, then the data dictionary; each file appears atomically."""
    folder = folder or processed_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for output in outputs:
        written.append(_atomic_csv(output.frame, folder / f"{output.name}.csv"))
    _write_text(folder / "datapackage.json", json.dumps(datapackage(outputs), indent=2, sort_keys=True) + "\n")
    _write_text(folder / "README.md", data_dictionary_markdown(outputs))
    return written


def _atomic_csv(frame: pd.DataFrame, path: Path) -> Path:
    partial = path.with_name(path.name + ".partial")
    frame.to_csv(partial, index=False, lineterminator="\n")
    os.replace(partial, path)
    return path


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _field_type(frame: pd.DataFrame, column: str) -> str:
    dtype = str(frame[column].dtype) if column in frame else "unknown"
    if dtype.startswith("datetime64"):
        return "datetime"
    return {
        "Int64": "integer",
        "int64": "integer",
        "float64": "number",
        "Float64": "number",
        "bool": "boolean",
        "boolean": "boolean",
        "str": "string",
        "object": "string",
    }.get(dtype, dtype)


def datapackage(outputs: list[TableOutput]) -> dict:
    resources = []
    for output in outputs:
        key = list(output.schema.unique) if output.schema is not None and output.schema.unique else []
        resources.append(
            {
                "name": output.name,
                "path": f"{output.name}.csv",
                "rows": int(len(output.frame)),
                "source_module": f"heartbeats_analysis.ingest.sources.{output.module}",
                "schema": {
                    "fields": [
                        {"name": c, "type": _field_type(output.frame, c), "description": output.columns.get(c, "")}
                        for c in output.frame.columns
                    ],
                    "primaryKey": key,
                },
            }
        )
    return {"name": "heartbeats-processed", "resources": resources}


def data_dictionary_markdown(outputs: list[TableOutput]) -> str:
    lines = [
        "# Processed tables (data dictionary)",
        "",
        "Rebuilt by `heartbeats clean` from the raw files in data/raw/; never edited by hand.",
        "",
    ]
    for output in outputs:
        lines += [
            f"## {output.name}.csv ({len(output.frame)} rows; from heartbeats_analysis.ingest.sources.{output.module})",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        lines += [
            f"| {c} | {_field_type(output.frame, c)} | {output.columns.get(c, '')} |" for c in output.frame.columns
        ]
        lines.append("")
    return "\n".join(lines)


def run(raw_root: Path | None = None, folder: Path | None = None, progress: Callable[[str], None] | None = None):
    outputs = build_tables(raw_root, progress)
    write_tables(outputs, folder)
    return outputs


def summary(outputs: list[TableOutput]) -> pd.DataFrame:
    """Rows, columns and missing values per table written."""
    return pd.DataFrame(
        [
            {
                "table": o.name,
                "rows": len(o.frame),
                "columns": o.frame.shape[1],
                "missing_values": int(o.frame.isna().sum().sum()),
            }
            for o in outputs
        ]
    )
