"""A notebook that raises: the failed copy is kept, the message quotes the failing cell, the published brief is
untouched.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from helpers import (
    AGENCY,
    PARAMS_FILE,
    copy_reports,
    environment,
    fresh_processed_copy,
    no_traceback,
    report_state,
    rewrite_csv,
    run_cli,
)


@pytest.fixture(scope="module")
def failed_build(tmp_path_factory, raw_tree, processed_tree, published):
    """A rebuild over the published report from processed tables in which staffing.csv lacks its
    sworn_officers column, so 02-staffing raises (KeyError) while the other notebooks run.

    Route: no parameter that passes validation makes a notebook raise, and a notebook cannot be
    monkeypatched from outside its kernel; a table missing a column the analysis needs is an honest,
    realistic fault (a header-only staffing.csv does not do: the staffing notebook reports 'no data'
    and the build succeeds). The clean step is brought up to date first so the tampered table is used."""
    work = tmp_path_factory.mktemp("failed")
    processed = fresh_processed_copy(processed_tree, work / "processed", raw_tree)

    def drop_sworn(header, rows):
        at = header.index("sworn_officers")
        return [c for i, c in enumerate(header) if i != at], [[c for i, c in enumerate(r) if i != at] for r in rows]

    rewrite_csv(processed / "staffing.csv", drop_sworn)
    reports = copy_reports(published, work / "reports")
    before = report_state(reports)
    result = run_cli("build", "--params", str(PARAMS_FILE), "--no-pdf", env=environment(raw_tree, processed, reports))
    return result, reports, before


@pytest.mark.slow
def test_failed_notebook_is_kept_and_the_published_brief_is_untouched(failed_build):
    result, reports, before = failed_build
    message = result.stderr
    assert result.returncode == 5, message
    assert re.search(r"Notebook 02-staffing\.ipynb failed in cell \d+", message), message
    assert "KeyError" in message and "sworn_officers" in message
    kept = reports / AGENCY / "_failed" / "02-staffing.ipynb"
    assert str(kept) in message
    notebook = nbformat.read(kept, as_version=4)
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert len(errors) == 1 and errors[0]["ename"] == "KeyError" and errors[0]["traceback"]
    assert report_state(reports) == before  # same version, byte-identical brief, claims and manifest
    no_traceback(result)


@pytest.mark.slow
def test_failed_notebook_message_quotes_the_failing_cell(failed_build):
    result, reports, _ = failed_build
    notebook = nbformat.read(reports / AGENCY / "_failed" / "02-staffing.ipynb", as_version=4)
    failing = next(
        c
        for c in notebook.cells
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))
    )
    assert f"failed in cell {failing.execution_count} " in result.stderr
    assert failing.source.strip().splitlines()[0][:80] in result.stderr, result.stderr
