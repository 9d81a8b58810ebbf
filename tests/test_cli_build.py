"""The CLI's build, incremental rebuilds, batch mode and listings, driven as a user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import build_report, environment, run_cli

from heartbeats_analysis.paths import PROJECT_ROOT


def cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "heartbeats_analysis.cli", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def ran_steps(output: str) -> list[str]:
    return re.findall(r"done\s+(\S+) in", output)


@pytest.fixture
def reports_copy(built_reports, tmp_path):
    """A private copy of the built reports (links kept), so a test may rebuild it."""
    target = tmp_path / "reports"
    shutil.copytree(built_reports, target, symlinks=True)
    return target


@pytest.mark.slow
def test_noop_rebuild_skips_every_step(reports_copy, tmp_path, monkeypatch):
    """Nothing runs, and no browser is launched (a browser that notes each launch stands in for Chromium)."""
    launches = tmp_path / "launches"
    browser = tmp_path / "browser"
    browser.write_text(f"#!/bin/sh\necho launched >> {launches}\nexit 1\n")
    browser.chmod(0o755)
    monkeypatch.setenv("HEARTBEATS_CHROMIUM", str(browser))
    before = (reports_copy / "ferguson" / "brief.html").read_bytes()
    result = build_report(reports_copy)
    assert result.returncode == 0, result.stderr
    assert ran_steps(result.stderr) == []
    assert "(0 step(s) ran, 11 unchanged)" in " ".join(result.stdout.split())
    assert (reports_copy / "ferguson" / "brief.html").read_bytes() == before
    assert not launches.exists()


@pytest.mark.slow
def test_changing_an_assumption_reruns_only_the_model_and_brief(reports_copy):
    result = build_report(reports_copy, "--set", "assumptions.attrition_rate=0.2", "--no-pdf")
    assert result.returncode == 0, result.stderr
    assert ran_steps(result.stderr) == ["07-program-model", "90-brief", "publish"]
    manifest = json.loads((reports_copy / "ferguson" / "manifest.json").read_text())
    assert manifest["parameters"]["assumptions"] == {"attrition_rate": 0.2}
    assert "--set assumptions.attrition_rate=0.2" in manifest["build_command"]


@pytest.mark.slow
def test_force_reruns_everything_but_the_statewide_threshold_fit(reports_copy):
    result = build_report(reports_copy, "--force", "--no-pdf")
    assert result.returncode == 0, result.stderr
    ran = ran_steps(result.stderr)
    assert len(ran) == 10
    assert "threshold-fit" not in ran


def test_unknown_agency_suggests_the_closest(raw_data):
    result = cli("build", "--agency", "Furguson", "--no-pdf")
    assert result.returncode == 2
    assert "ferguson" in result.stderr.lower() and "Traceback" not in result.stderr


def test_agency_by_ori_and_by_name_resolve_to_the_slug(raw_data):
    from heartbeats_analysis.ingest.agency_lookup import resolve_agency

    assert resolve_agency("MO09528") == "ferguson"
    assert resolve_agency("MO0952800") == "ferguson"
    assert resolve_agency("Ferguson Police Dept") == "ferguson"
    assert resolve_agency("Ferguson Police Department") == "ferguson"


def test_list_agencies(raw_data):
    result = cli("list-agencies")
    assert result.returncode == 0, result.stderr
    assert "ferguson" in result.stdout and "MO09528" in result.stdout
    assert re.search(r"16 agencies with FBI data", result.stdout)
    everything = cli("list-agencies", "--all")
    assert int(re.search(r"(\d+) agencies", everything.stdout).group(1)) > 600


def test_params_shows_values_and_where_they_came_from():
    result = cli("params", "--params", "params/ferguson.yaml", "--set", "draws=500")
    assert result.returncode == 0, result.stderr
    lines = _param_lines(result)
    assert "--set" in lines["draws"] and "500" in lines["draws"]
    assert "ferguson.yaml" in lines["authorised_strength"] and "42" in lines["authorised_strength"]
    assert "default" in lines["seed"] or "ferguson.yaml" in lines["seed"]


def _param_lines(result) -> dict[str, str]:
    return {line.split()[1]: line for line in result.stdout.splitlines() if line.count("│") >= 3}


@pytest.mark.parametrize("agency", ["ferguson", "Ferguson Police Dept", "MO09528"])
def test_an_agency_without_params_uses_its_own_parameters_file(agency, raw_data):
    """`--agency` (by slug, name or ORI) finds params/<slug>.yaml as `heartbeats batch` does: every command gives
    the agency the same facts, so `build --agency ferguson` and `make report` build the same brief."""
    option = "--ori" if agency.startswith("MO") else "--agency"
    result = cli("params", option, agency)
    assert result.returncode == 0, result.stderr
    assert "Using params/ferguson.yaml" in " ".join((result.stdout + result.stderr).split())
    lines = _param_lines(result)
    assert "ferguson.yaml" in lines["authorised_strength"] and "42" in lines["authorised_strength"]
    assert "ferguson" in lines["agency"]


def test_an_agency_without_a_parameters_file_keeps_the_defaults(raw_data):
    result = cli("params", "--agency", "florissant")
    assert result.returncode == 0, result.stderr
    assert "Using params/" not in result.stdout + result.stderr
    lines = _param_lines(result)
    assert "null" in lines["authorised_strength"] and "default" in lines["authorised_strength"]
    assert "command line" in lines["agency"]


def test_an_explicit_parameters_file_is_never_replaced(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text("agency: ferguson\ndraws: 700\n")
    result = cli("params", "--params", str(own), "--agency", "ferguson")
    assert result.returncode == 0, result.stderr
    lines = _param_lines(result)
    assert "700" in lines["draws"] and "null" in lines["authorised_strength"]


def test_the_parameters_file_is_looked_up_by_slug_before_the_agency_table_exists(monkeypatch, tmp_path):
    """On a fresh clone nothing is cleaned yet: a slug still finds its file; a name that needs the agency table
    goes on without one (the build cleans first and resolves the name then)."""
    from heartbeats_analysis import cli as cli_module
    from heartbeats_analysis import params

    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "testville.yaml").write_text("agency: testville\n")
    monkeypatch.setattr(params, "PARAMS_DIR", tmp_path / "params")
    monkeypatch.setenv("HEARTBEATS_PROCESSED_DIR", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    assert cli_module._agency_params_file(None, "testville", None) == (Path("params/testville.yaml"), None, None)
    assert cli_module._agency_params_file(None, "Testville Police Dept", None) == (None, "Testville Police Dept", None)


@pytest.mark.slow
def test_batch_builds_what_it_can_and_reports_each_failure(tmp_path, raw_data):
    env = {"HEARTBEATS_REPORTS_DIR": str(tmp_path)}
    result = cli("batch", "florissant", "no-such-agency", "--no-pdf", env=env)
    assert result.returncode == 1  # one agency failed
    assert (tmp_path / "florissant" / "brief.html").is_file()
    index = (tmp_path / "index.html").read_text()
    assert 'href="florissant/brief.html"' in index and "no-such-agency" in index and "failed" in index
    summary = " ".join(result.stdout.split())
    assert "1 of 2 briefs built" in summary and "florissant" in summary and "no-such-agency" in summary


@pytest.mark.parametrize("jobs", ["two", "0", "-1"])
def test_a_bad_job_count_is_refused_before_any_work(jobs, tmp_path):
    result = cli(
        "build", "--agency", "ferguson", env={"HEARTBEATS_JOBS": jobs, "HEARTBEATS_REPORTS_DIR": str(tmp_path)}
    )
    assert result.returncode == 2, result.stderr
    assert f"HEARTBEATS_JOBS={jobs!r} must be a whole number of at least 1" in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []


def test_verbose_names_skipped_steps_and_quiet_prints_only_the_result(raw_tree, processed_tree, tmp_path):
    """--verbose and --quiet reach the commands (Typer runs on a click of its own: the level must not be
    read from `import click`'s context, which is always empty there)."""
    env = environment(raw_tree, processed_tree, tmp_path / "reports")
    verbose = run_cli("--verbose", "clean", env=env)
    assert verbose.returncode == 0, verbose.stderr
    assert "skipped 01-clean (inputs unchanged)" in verbose.stderr
    quiet = run_cli("--quiet", "clean", env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and "Processed tables in" in quiet.stdout


def test_the_command_line_validates_notebooks_without_compiling_the_iri_grammar():
    """The CLI hides rfc3987_syntax (2 s of grammar compiling on import) from jsonschema: nbformat still validates a
    notebook, and a bad one is still refused; only the "iri" string format goes unchecked."""
    probe = (
        "import sys\n"
        "import heartbeats_analysis.cli  # first, as the heartbeats command does\n"
        "import nbformat\n"
        "nb = nbformat.read('notebooks/07-program-model.ipynb', as_version=4)\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'no-such-type'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('refused')\n"
        "import jsonschema\n"
        "print(sys.modules['rfc3987_syntax'], 'iri' in jsonschema.FormatChecker().checkers)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["refused", "None False"]
