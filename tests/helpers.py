"""Plain helpers the test modules share (fixtures stay in the modules that use them):

* the processed tables a notebook reads, built from the raw files or found in data/processed, and
  the first agency in them that has no FBI UCR data;
* running an analysis notebook with papermill and reading back its claims;
* writing a raw text fixture and cleaning a source from raw files;
* the checks on a notebook as it is stored, and on a source's processed schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import nbformat
import pandas as pd
import pandera.pandas as pa
import pytest

from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
    validate,
)
from heartbeats_analysis.paths import PROJECT_ROOT


def build_processed_tables(folder: Path, source_names: Sequence[str]) -> Path:
    """Clean the raw files with the named source modules and write their tables into ``folder``.

    Skips the test when a source module does not exist yet.
    """
    from heartbeats_analysis.ingest import clean

    modules = [
        pytest.importorskip(
            f"heartbeats_analysis.ingest.sources.{name}", reason=f"source module {name} not written yet"
        )
        for name in source_names
    ]
    outputs = [
        clean.TableOutput(m.TABLE_NAME, clean_source(m)[0], m.PROCESSED_SCHEMA, m.COLUMNS, m.__name__.rsplit(".", 1)[1])
        for m in modules
    ]
    clean.write_tables(outputs, folder)
    return folder


def processed_folder(needed: Sequence[str]) -> Path:
    """The processed-data folder (data/processed or HEARTBEATS_PROCESSED_DIR); skips the test unless
    every ``needed`` table is there."""
    from heartbeats_analysis.paths import processed_dir

    folder = processed_dir()
    if not all((folder / f"{name}.csv").is_file() for name in needed):
        pytest.skip(f"processed tables {tuple(needed)} not in {folder}: run `heartbeats clean` first")
    return folder


def run_notebook(notebook: Path, build_dir: Path, monkeypatch, processed: Path, **parameters) -> dict[str, dict]:
    """Execute ``notebook`` with papermill into ``build_dir`` (passed as the build_dir parameter, with
    ``parameters``), reading the processed tables in ``processed``; returns its claims by id."""
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("HEARTBEATS_PROCESSED_DIR", str(processed))
    papermill.execute_notebook(
        str(notebook),
        str(build_dir / "executed.ipynb"),
        parameters=dict(build_dir=str(build_dir), **parameters),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=300,
        start_timeout=120,
        cwd=str(PROJECT_ROOT),
    )
    return {c["id"]: c for c in json.loads((build_dir / "claims" / f"{notebook.stem}.json").read_text())}


def first_agency_outside_ucr(agencies: pd.DataFrame) -> str:
    """The first agency slug (sorted) that only the Vehicle Stops Report knows: no FBI UCR files."""
    return agencies.loc[~agencies["in_ucr"].astype(bool), "agency_slug"].sort_values().iloc[0]


def read_clean_notebook(notebook: Path) -> nbformat.NotebookNode:
    """The notebook as stored, after checking the layout every analysis notebook shares: no outputs
    or execution counts, the parameters cell second (after the title), ``ctx.save_claims()`` last."""
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[1].metadata.get("tags") == ["parameters"]
    assert nb.cells[-1].source == "ctx.save_claims()"
    return nb


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    """A raw text fixture: one line each, ending in a newline; missing folders are created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def agencies_inputs(raw_root: Path | None = None) -> dict[str, pd.DataFrame]:
    """The cleaned tables agencies.clean receives in the pipeline (VSR names, ACS population), cleaned
    here from the raw files under ``raw_root`` (default data/raw)."""
    from heartbeats_analysis.ingest.sources import acs, vsr

    log = MissingnessLog()
    return {
        vsr.NAMES_TABLE_NAME: vsr.clean_names(vsr.load_raw(raw_root), log),
        acs.TABLE_NAME: acs.clean(acs.load_raw(raw_root), log),
    }


def clean_source(module, raw_root: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A source module's processed table from the raw files under ``raw_root`` (default data/raw), with
    its missingness log as a frame. The agencies source also gets the tables it builds on."""
    from heartbeats_analysis.ingest.sources import agencies

    log = MissingnessLog()
    raw = module.load_raw(raw_root=raw_root)
    table = module.clean(raw, log, agencies_inputs(raw_root)) if module is agencies else module.clean(raw, log)
    return table, log.to_frame()


def assert_processed_schema_names_column(
    table: pd.DataFrame, schema: pa.DataFrameSchema, file: str, dropped: str, text_column: str, text: str
) -> None:
    """The processed schema fails on a dropped column and on text in a numeric column, and the error
    names the file and the column."""
    with pytest.raises(SchemaValidationError, match=rf"{re.escape(file)}.*\n.*'{dropped}'"):
        validate(table.drop(columns=dropped), schema, file)
    broken = table.astype({text_column: object})
    broken.loc[0, text_column] = text
    with pytest.raises(SchemaValidationError) as error:
        validate(broken, schema, file)
    assert file in str(error.value) and f"'{text_column}'" in str(error.value)
