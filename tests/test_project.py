"""Project-level guarantees: paths, the conda file, the CLI's behaviour from any folder."""

import os
import subprocess
import sys
from pathlib import Path

from heartbeats_analysis.build import envfile
from heartbeats_analysis.paths import PROJECT_ROOT, RAW_DIR


def test_project_root_is_the_repository():
    assert (PROJECT_ROOT / "pyproject.toml").is_file()
    assert RAW_DIR == PROJECT_ROOT / "data" / "raw"


def test_environment_yml_matches_pyproject():
    assert (PROJECT_ROOT / "environment.yml").read_text() == envfile.render(), (
        "environment.yml is stale: run `make env-file`"
    )


def test_environment_yml_lists_every_dependency():
    text = (PROJECT_ROOT / "environment.yml").read_text()
    for requirement in ("pandas>=3.0", "statsmodels>=0.14.6", "papermill", "pandera", "pytest"):
        assert requirement in text


def test_raw_and_processed_data_are_ignored_by_git():
    for path in ("data/raw/x.csv", "data/processed/x.csv", "reports/example-agency/brief.html", ".venv/x"):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_ROOT)
        assert result.returncode == 0, f"{path} is not git-ignored"


def run_cli(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "heartbeats_analysis.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_cli_works_from_any_folder(tmp_path, raw_data):
    result = run_cli("verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "match the data registry" in result.stdout


def test_cli_verify_reports_a_corrupted_file_and_exits_non_zero(tmp_path, raw_data):
    raw = tmp_path / "raw"
    import shutil

    shutil.copytree(raw_data, raw)
    target = raw / "acs" / "missouri_statewide_population_2014_2024.csv"
    target.write_bytes(target.read_bytes().replace(b"2014", b"2015", 1))
    result = run_cli("verify", cwd=tmp_path, env={"HEARTBEATS_RAW_DIR": str(raw)})
    assert result.returncode == 3
    assert "acs/missouri_statewide_population_2014_2024.csv" in result.stderr
    assert "expected sha256" in result.stderr and "Traceback" not in result.stderr


def test_cli_bad_parameters_list_every_problem(tmp_path):
    result = run_cli("params", "--set", "draws=0", "--set", "colour=blue", cwd=tmp_path)
    assert result.returncode == 2
    assert "draws" in result.stderr and "colour" in result.stderr and "Traceback" not in result.stderr


def test_relative_folder_variables_are_made_absolute_against_the_starting_folder(tmp_path, monkeypatch):
    """Kernels run in the project folder: a relative folder must mean the same folder to them."""
    from heartbeats_analysis.paths import absolutise_folder_variables, reports_dir

    monkeypatch.setenv("HEARTBEATS_REPORTS_DIR", "out/reports")
    monkeypatch.setenv("HEARTBEATS_PROCESSED_DIR", "/already/absolute")
    monkeypatch.setenv("HEARTBEATS_DATA_MIRROR", "~/mirror")
    monkeypatch.delenv("HEARTBEATS_RAW_DIR", raising=False)
    absolutise_folder_variables(base=tmp_path)
    assert reports_dir() == tmp_path / "out" / "reports"
    assert os.environ["HEARTBEATS_PROCESSED_DIR"] == "/already/absolute"
    assert os.environ["HEARTBEATS_DATA_MIRROR"] == "~/mirror"  # expanded where it is read
    assert "HEARTBEATS_RAW_DIR" not in os.environ
