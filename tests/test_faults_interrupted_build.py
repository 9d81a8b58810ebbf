"""A killed or interrupted build: the old report or none, never half of one; Ctrl-C starts no further step and
leaves no kernel running.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from helpers import (
    AGENCY,
    BUILD_TIMEOUT_S,
    PARAMS_FILE,
    LiveBuild,
    _start_time,
    assert_complete_report,
    assert_complete_report_of,
    copy_reports,
    environment,
    report_state,
    run_cli,
)

# A rebuild with other peers: every analysis notebook declares `peers`, so all of them rerun (and the
# new report differs from the old one).
NEW_PEERS = ["florissant", "hazelwood", "berkeley"]
NEW_PEERS_OPTION = f"peers=[{', '.join(NEW_PEERS)}]"
ANALYSIS_STEP_STARTED = r"running\s+0[2-6]-"

KILLS = {
    # name: (existing report?, build options, wait for this stderr line (None: from the start), then seconds, signal)
    "first build, Ctrl-C after 2 s": (False, ["--no-pdf"], None, 2.0, signal.SIGINT),
    "first build, SIGKILL during the notebooks": (False, ["--no-pdf"], ANALYSIS_STEP_STARTED, 4.0, signal.SIGKILL),
    "rebuild, Ctrl-C during the notebooks": (
        True,
        ["--no-pdf", "--set", NEW_PEERS_OPTION],
        ANALYSIS_STEP_STARTED,
        4.0,
        signal.SIGINT,
    ),
    "rebuild, SIGKILL when publishing starts": (True, [], r"running\s+publish", 0.0, signal.SIGKILL),
    "rebuild, Ctrl-C when publishing starts": (True, [], r"running\s+publish", 0.0, signal.SIGINT),
}


@pytest.mark.slow
@pytest.mark.parametrize("moment", list(KILLS))
def test_a_killed_build_leaves_the_old_report_or_none(moment, tmp_path, raw_tree, processed_tree, published):
    """A build interrupted at several moments leaves reports/ferguson either absent (first build) or
    the old complete report (same version, byte-identical brief, claims and manifest), never a mix.

    Rebuilds that must reach the publish step quickly add the PDF to a report published without it:
    every notebook step is unchanged, so only publishing (with the slow PDF print) runs."""
    existing, options, pattern, delay, sig = KILLS[moment]
    reports = copy_reports(published, tmp_path / "reports") if existing else tmp_path / "reports"
    before = report_state(reports) if existing else None
    env = environment(raw_tree, processed_tree, reports)
    with LiveBuild(["build", "--params", str(PARAMS_FILE), *options], env) as build:
        if pattern is not None:
            assert build.wait_for(pattern, timeout=BUILD_TIMEOUT_S), build.stderr
        time.sleep(delay)
        assert build.process.poll() is None, f"the build ended before the kill:\n{build.stderr}"
        build.interrupt() if sig == signal.SIGINT else build.kill()
        code = build.finish()
    assert code != 0, build.stderr
    state = report_state(reports)
    if state is not None and state != before:
        # The signal landed after the atomic swap: then the new report must be complete.
        assert_complete_report(reports / AGENCY)
    else:
        assert state == before


@pytest.mark.slow
def test_a_rerun_after_a_killed_build_publishes_the_new_report(tmp_path, raw_tree, processed_tree, published):
    """SIGKILL a rebuild with other peers in the middle of its notebooks; rerunning the same command
    succeeds and publishes the new complete report, and no version from the killed build is left."""
    reports = copy_reports(published, tmp_path / "reports")
    before = report_state(reports)
    args = ["build", "--params", str(PARAMS_FILE), "--no-pdf", "--set", NEW_PEERS_OPTION]
    env = environment(raw_tree, processed_tree, reports)
    with LiveBuild(args, env) as build:
        assert build.wait_for(ANALYSIS_STEP_STARTED, timeout=BUILD_TIMEOUT_S), build.stderr
        time.sleep(4.0)
        build.kill()
        build.finish()
    assert report_state(reports) == before

    rerun = run_cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert_complete_report(reports / AGENCY)
    manifest = json.loads((reports / AGENCY / "manifest.json").read_text())
    assert manifest["parameters"]["peers"] == NEW_PEERS
    assert [p.name for p in (reports / ".published").iterdir()] == [Path(os.readlink(reports / AGENCY)).name]


@pytest.mark.slow
def test_ctrl_c_starts_no_further_step(tmp_path, raw_tree, processed_tree):
    """Ctrl-C while the analysis notebooks run: the notebooks already running may finish, but no
    further step starts, and the command ends with 'Interrupted' and exit code 130."""
    env = environment(raw_tree, processed_tree, tmp_path / "reports")
    with LiveBuild(["build", "--params", str(PARAMS_FILE), "--no-pdf"], env) as build:
        assert build.wait_for(ANALYSIS_STEP_STARTED, timeout=BUILD_TIMEOUT_S), build.stderr
        time.sleep(1.0)
        interrupted = time.monotonic()
        build.interrupt()
        code = build.finish()
    # Lines written just before the signal may be read a little after it.
    started_after = [
        line
        for line, when in zip(build.lines, build.arrived, strict=True)
        if when > interrupted + 0.5 and re.search(r"running\s", line)
    ]
    assert started_after == [], build.stderr
    assert code == 130 and "Interrupted" in build.stderr, build.stderr
    assert report_state(tmp_path / "reports") is None


@pytest.mark.slow
def test_ctrl_c_stops_a_batch_and_leaves_no_kernel_running(tmp_path, raw_tree, processed_tree):
    """Ctrl-C while a batch's builds share warm kernels: the command ends promptly with 'Interrupted'
    and exit code 130, every process it started (kernels, browsers) has ended, and each agency's
    report is absent or complete."""
    reports = tmp_path / "reports"
    env = environment(raw_tree, processed_tree, reports)
    agencies = ["ferguson", "florissant", "hazelwood"]
    with LiveBuild(["batch", *agencies, "--no-pdf"], env) as batch:
        assert batch.wait_for(r"Building 3 briefs", timeout=BUILD_TIMEOUT_S), batch.stderr
        deadline = time.monotonic() + 60
        while not any(_is_kernel(pid) for pid in batch.seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2.0)
        assert batch.process.poll() is None, f"the batch ended before the interrupt:\n{batch.stderr}"
        interrupted = time.monotonic()
        batch.interrupt()
        code = batch.finish(timeout=90)
        ended_in = time.monotonic() - interrupted
        still_running = [pid for pid, start in batch.seen.items() if _start_time(pid) == start]
    assert code == 130 and "Interrupted" in batch.stderr, batch.stderr
    assert ended_in < 60, f"the batch took {ended_in:.0f} s to stop"
    assert still_running == [], [_command_line(pid) for pid in still_running]
    published = [agency for agency in agencies if (reports / agency).is_symlink()]
    for agency in published:
        assert_complete_report_of(reports / agency, agency)
    versions = {p.name for p in (reports / ".published").iterdir()} if (reports / ".published").is_dir() else set()
    assert versions == {Path(os.readlink(reports / agency)).name for agency in published}  # no half-written version


def _is_kernel(pid: int) -> bool:
    """A kernel, or the template kernels are forked from (their command line is the template's): the pool has
    started."""
    command = _command_line(pid)
    return "ipykernel" in command or "kernel_template" in command


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
