"""Concurrent builds: a second build of the same agency is refused, and two builds give identical claims.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

import re

import pytest
from helpers import (
    AGENCY,
    BUILD_TIMEOUT_S,
    PARAMS_FILE,
    LiveBuild,
    assert_complete_report,
    environment,
    fresh_processed_copy,
    no_traceback,
    run_cli,
)


@pytest.fixture(scope="module")
def second_build(tmp_path_factory, raw_tree, processed_tree, published):
    """A second, independent Ferguson build (A), made differently from `published`: a new reports folder
    at another path, its own copy of the processed tables, notebooks one at a time (HEARTBEATS_JOBS=1),
    another hash seed and working folder. While A runs its notebooks a second build of the same agency
    (B) is started in the same reports folder."""
    work = tmp_path_factory.mktemp("second")
    processed = fresh_processed_copy(processed_tree, work / "processed", raw_tree)
    reports = work / "reports"
    env = environment(raw_tree, processed, reports, HEARTBEATS_JOBS="1", PYTHONHASHSEED="4242")
    args = ["build", "--params", str(PARAMS_FILE), "--no-pdf"]
    with LiveBuild(args, env, cwd=work) as first:
        assert first.wait_for(r"running\s+02-staffing", timeout=BUILD_TIMEOUT_S), first.stderr
        second = run_cli(*args, env=env, cwd=work)
        first_running_when_refused = first.process.poll() is None
        code = first.finish()
    return {
        "code": code,
        "stderr": first.stderr,
        "reports": reports,
        "second": second,
        "first_running": first_running_when_refused,
    }


@pytest.mark.slow
def test_a_second_build_of_the_same_agency_is_refused_while_one_runs(second_build):
    second = second_build["second"]
    assert second_build["first_running"], "build A ended before B tried: the test proves nothing"
    assert second.returncode == 7, second.stderr
    assert "Another build of 'ferguson' is running" in second.stderr
    assert str(second_build["reports"] / ".locks" / "ferguson.lock") in second.stderr
    assert not re.search(r"running\s+0[2-9]", second.stderr)  # B ran no notebook
    no_traceback(second)
    assert second_build["code"] == 0, second_build["stderr"]
    assert_complete_report(second_build["reports"] / AGENCY)


@pytest.mark.slow
def test_two_builds_give_identical_claims(second_build, published):
    """The claims do not depend on where, how fast or in what order the notebooks ran (test_brief.py
    compares the HTML of a --force rebuild made the same way)."""
    assert second_build["code"] == 0, second_build["stderr"]
    ours = (second_build["reports"] / AGENCY / "claims.json").read_bytes()
    assert ours == (published / AGENCY / "claims.json").read_bytes()
