"""Schema drift in a raw file: the error names file, column and rows, and no table is written.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from helpers import (
    BUILD_TIMEOUT_S,
    FERGUSON_POLICE_FILE,
    copy_raw_tree,
    environment,
    no_traceback,
    processed_tables,
    rewrite_csv,
    snapshot,
)

from heartbeats_analysis.paths import PROJECT_ROOT


def _rename_officers(header, rows):
    header[header.index("total_employees_officers")] = "total_employees_sworn"


def _drop_population(header, rows):
    at = header.index("population")
    return [c for i, c in enumerate(header) if i != at], [[c for i, c in enumerate(r) if i != at] for r in rows]


def _text_in_officers(header, rows):
    at = header.index("total_employees_officers")
    next(r for r in rows if r[1] == "2015")[at] = "forty"


def _conflicting_duplicate_year(header, rows):
    at = header.index("total_employees_officers")
    duplicate = list(next(r for r in rows if r[1] == "2015"))
    duplicate[at] = str(int(duplicate[at]) + 1)
    rows.append(duplicate)


def _year_out_of_range(header, rows):
    next(r for r in rows if r[1] == "2012")[1] = "1850"


DRIFTS = {
    "renamed column": (_rename_officers, ["missing column(s): 'total_employees_officers'"]),
    "missing column": (_drop_population, ["missing column(s): 'population'"]),
    "text in a numeric column": (_text_in_officers, ["column 'total_employees_officers'", "row 6: 'forty'"]),
    "duplicated key": (_conflicting_duplicate_year, ["different rows for the same year", "[2015]"]),
    "year out of range": (_year_out_of_range, ["column 'year'", "a year from 1930 to 2100", "row 9: '1850'"]),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_schema_drift_names_file_column_and_rows_and_writes_no_table(drift, tmp_path, raw_tree, processed_tree):
    """Drift in Ferguson's UCR police employees file stops the cleaning with a message naming the
    file, the column and example rows, before any processed table is written.

    Route: raw files are checksummed, so drift in a registered file is first caught by verification
    (tested above). The schemas are the second line of defence, for when the registry itself is
    updated to a new upstream file. This test calls the cleaning step itself,
    ``heartbeats_analysis.ingest.clean.run(raw_root=..., folder=...)`` (what notebooks/01-clean runs), on a
    drifted copy of the raw tree, writing into a copy of the processed folder; the next test runs the
    same drift through the real `heartbeats clean` command.
    """
    from heartbeats_analysis.ingest import clean
    from heartbeats_analysis.ingest.sources.base import SchemaValidationError

    change, expected = DRIFTS[drift]
    raw = copy_raw_tree(raw_tree, tmp_path / "raw")
    rewrite_csv(raw / FERGUSON_POLICE_FILE, change)
    processed = shutil.copytree(processed_tree, tmp_path / "processed")
    before = snapshot(processed)

    with pytest.raises(SchemaValidationError) as caught:
        clean.run(raw_root=raw, folder=processed)

    message = str(caught.value)
    assert FERGUSON_POLICE_FILE in message
    for text in expected:
        assert text in message, message
    assert snapshot(processed) == before


def test_schema_drift_met_while_cleaning_in_parallel_is_raised_as_it_is(tmp_path, raw_tree, processed_tree):
    """The same drift with a worker process cleaning beside this one (as the build does): whichever process met
    it, the error is the schema's own, naming the file and the row, and no table is written."""
    from heartbeats_analysis.ingest import clean
    from heartbeats_analysis.ingest.sources.base import SchemaValidationError

    raw = copy_raw_tree(raw_tree, tmp_path / "raw")
    rewrite_csv(raw / FERGUSON_POLICE_FILE, _text_in_officers)
    processed = shutil.copytree(processed_tree, tmp_path / "processed")
    before = snapshot(processed)

    with pytest.raises(SchemaValidationError) as caught:
        clean.run(raw_root=raw, folder=processed, workers=1)

    assert FERGUSON_POLICE_FILE in str(caught.value) and "row 6: 'forty'" in str(caught.value)
    assert snapshot(processed) == before


@pytest.mark.slow
def test_schema_drift_stops_heartbeats_clean_before_any_table_is_written(tmp_path, raw_tree, processed_tree):
    """The real `heartbeats clean --force` on a raw file with text in a count column: the command
    fails naming the notebook (01-clean), the file, the column and the row, and the processed tables
    are byte-identical afterwards.

    Route: the drifted file's checksum no longer matches the registry, so verification would stop the
    command first (tested above). To reach the schema check, the command runs in a wrapper that gives
    the registry, in memory only, the drifted file's checksum: exactly what a maintainer recording a
    new upstream version in data_registry.csv would do. Everything after that is the real command and
    notebook. --force because the registry file's own hash (the clean step's key) did not change.
    Only the step's bookkeeping (.stamps, .executed, _failed) may change; the tables may not.
    """
    raw = copy_raw_tree(raw_tree, tmp_path / "raw")
    rewrite_csv(raw / FERGUSON_POLICE_FILE, _text_in_officers)
    processed = shutil.copytree(processed_tree, tmp_path / "processed")
    before = processed_tables(processed)
    wrapper = (
        "import dataclasses, sys\n"
        "from heartbeats_analysis.ingest import fetch, registry\n"
        "entries = tuple(dataclasses.replace(e, sha256=registry.sha256_of(e.local_path))\n"
        "                if e.path == sys.argv[1] else e for e in registry.load_registry())\n"
        "fetch.load_registry = lambda: entries\n"
        "from heartbeats_analysis.cli import app\n"
        "app(['clean', '--force'], prog_name='heartbeats')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, FERGUSON_POLICE_FILE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=environment(raw, processed, tmp_path / "reports"),
        timeout=BUILD_TIMEOUT_S,
    )
    message = result.stderr
    assert result.returncode != 0, message
    assert "01-clean" in message and "SchemaValidationError" in message
    assert FERGUSON_POLICE_FILE in message and "column 'total_employees_officers'" in message
    assert "row 6: 'forty'" in message
    assert (processed / "_failed" / "01-clean.ipynb").is_file()
    assert processed_tables(processed) == before
    no_traceback(result)
