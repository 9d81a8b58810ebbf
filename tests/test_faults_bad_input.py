"""Unknown or ambiguous agencies and bad parameters: every problem listed at once, with the closest matches.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import (
    AGENCY,
    environment,
    no_traceback,
    run_cli,
)


@pytest.mark.parametrize(
    "query, first, also",
    [("Furguson", "ferguson", []), ("St. Louis", None, ["st-louis-county", "st-louis-city"])],
    ids=["misspelled", "ambiguous"],
)
def test_unknown_or_ambiguous_agency_lists_the_closest_matches(query, first, also, tmp_path, raw_tree, processed_tree):
    """`heartbeats build --agency <query>`: an error listing the closest agencies (slug and name), no
    analysis step run, nothing written for the agency."""
    reports = tmp_path / "reports"
    result = run_cli("build", "--agency", query, "--no-pdf", env=environment(raw_tree, processed_tree, reports))
    message = result.stderr
    assert result.returncode == 2, message
    listed = re.findall(r"\(([a-z0-9-]+)\)", message.split("Closest:", 1)[-1])
    assert f"{query!r}" in message and len(listed) >= 3, message
    if first:
        assert listed[0] == first, listed
    for slug in also:
        assert slug in listed, listed
    assert not re.search(r"running\s+0[2-9]", message)
    assert not (reports / AGENCY).exists() and not (reports / query).exists()
    assert not (reports / ".work").exists() or not any((reports / ".work").iterdir())
    no_traceback(result)


BAD_SETS = [
    "colour=blue",  # unknown parameter
    "horizon_years=many",  # wrong type
    "draws=0",  # draws < 1
    "authorised_strength=-5",  # negative count
    "authorised_strength_source=test",
    "assumptions.atrition_rate=0.1",  # unknown assumption id (typo)
    "assumptions.attrition_rate=1.5",  # probability outside [0, 1]
    "assumptions.screening_pass_rate={low: 0.9, high: 0.1}",  # low > high
    "assumptions.status_quo_hires_per_year=-3",  # negative count
    "assumptions.sw_entry_salary={central: lots}",  # wrong type inside an assumption
]
TOP_LEVEL_PROBLEMS = [
    "colour: unknown parameter",
    "horizon_years:",
    "draws:",
    "authorised_strength:",
]
ASSUMPTION_PROBLEMS = [
    "unknown parameter 'atrition_rate'; did you mean attrition_rate",
    "attrition_rate: value = 1.5 is outside the allowed range [0, 1]",
    "screening_pass_rate: low (0.9) >",
    "status_quo_hires_per_year: value = -3 is outside the allowed range",
    "sw_entry_salary: central must be a number",
]


def _params_file(folder: Path, sets: list[str]) -> Path:
    """The same overrides as a YAML parameters file."""
    import yaml

    data: dict = {}
    for option in sets:
        name, value = option.split("=", 1)
        keys = name.split(".")
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = yaml.safe_load(value)
    path = folder / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _check_all_problems_listed(result: subprocess.CompletedProcess, reports: Path, expected: list[str]) -> None:
    message = result.stderr
    assert result.returncode == 2, message
    missing = [text for text in expected if text not in message]
    assert not missing, f"not listed: {missing}\n{message}"
    assert f"{len(re.findall(r'^  - ', message, flags=re.M))} problem" in message
    assert "running" not in message
    assert not reports.exists()  # nothing ran, nothing was written
    no_traceback(result)


@pytest.mark.parametrize("route", ["--set", "params file"])
def test_bad_parameters_are_all_listed_at_once(route, tmp_path, raw_tree, processed_tree):
    """Unknown ids, wrong types, a probability outside [0, 1], low > high, negative counts and
    draws < 1, given together with --set (including --set assumptions.<id>=...) or in a parameters
    file: one error lists every one of them, and the build does not start."""
    reports = tmp_path / "reports"
    result = run_cli(
        "build",
        "--no-pdf",
        *_bad_options(route, BAD_SETS, tmp_path),
        env=environment(raw_tree, processed_tree, reports),
    )
    _check_all_problems_listed(result, reports, TOP_LEVEL_PROBLEMS + ASSUMPTION_PROBLEMS)


def _bad_options(route: str, sets: list[str], tmp_path: Path) -> list[str]:
    """The same NAME=VALUE problems given as --set options or written into a parameters file."""
    if route == "--set":
        return [a for option in sets for a in ("--set", option)]
    return ["--params", str(_params_file(tmp_path, sets))]


@pytest.mark.parametrize("route", ["--set", "params file"])
def test_bad_assumption_overrides_are_all_listed_at_once(route, tmp_path, raw_tree, processed_tree):
    """The assumption overrides alone (every top-level parameter valid): each problem listed, with the
    closest id for a misspelled one, and the build does not start."""
    sets = [s for s in BAD_SETS if s.startswith("assumptions.")]
    reports = tmp_path / "reports"
    result = run_cli(
        "build", "--no-pdf", *_bad_options(route, sets, tmp_path), env=environment(raw_tree, processed_tree, reports)
    )
    _check_all_problems_listed(result, reports, ASSUMPTION_PROBLEMS)
