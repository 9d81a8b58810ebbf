"""Shared test fixtures: the raw-data mirror, temporary output folders, and the built Ferguson report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import (
    AGENCY,
    PARAMS_FILE,
    assert_complete_report,
    build_report,
    copy_raw_tree,
    environment,
    fresh_processed_copy,
    run_cli,
)

from heartbeats_analysis.paths import MIRROR_ENV_VAR, PROCESSED_DIR, PROJECT_ROOT, RAW_DIR

DEFAULT_MIRROR = PROJECT_ROOT.parent / "shared" / "data"


def mirror_path() -> Path | None:
    configured = os.environ.get(MIRROR_ENV_VAR)
    candidate = Path(configured).resolve() if configured else DEFAULT_MIRROR
    return candidate if (candidate / "MANIFEST.csv").is_file() else None


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mirror_path()
    if path is None:
        pytest.skip(f"No raw-data mirror: set {MIRROR_ENV_VAR} to a folder laid out like ../shared/data")
    return path


@pytest.fixture(scope="session")
def raw_data() -> Path:
    """The project's fetched raw data (make test fetches it before running pytest)."""
    if not (RAW_DIR / "ucr").is_dir():
        pytest.skip("data/raw is empty: run `make data` (or `heartbeats fetch`) first")
    return RAW_DIR


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """Point raw, processed and reports folders at a temporary tree."""
    dirs = {name: tmp_path / name for name in ("raw", "processed", "reports")}
    for path in dirs.values():
        path.mkdir()
    monkeypatch.setenv("HEARTBEATS_RAW_DIR", str(dirs["raw"]))
    monkeypatch.setenv("HEARTBEATS_PROCESSED_DIR", str(dirs["processed"]))
    monkeypatch.setenv("HEARTBEATS_REPORTS_DIR", str(dirs["reports"]))
    return dirs


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory, raw_data) -> Path:
    """The Ferguson brief built once per test session into a temporary reports folder (read-only use)."""
    reports = tmp_path_factory.mktemp("reports")
    result = build_report(reports)
    assert result.returncode == 0, result.stderr + result.stdout
    return reports


# Shared by the end-to-end fault tests (tests/test_faults_*.py): copies of the data, and one published
# Ferguson report (built once per session, without the PDF) that tests copy before changing anything.


@pytest.fixture(scope="session")
def raw_tree(tmp_path_factory, raw_data) -> Path:
    """A private copy of data/raw (verified against the registry by every command that reads it)."""
    return copy_raw_tree(raw_data, tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="session")
def processed_tree(tmp_path_factory, raw_tree) -> Path:
    """A private, up-to-date copy of the processed tables (copied from data/processed, then cleaned)."""
    folder = tmp_path_factory.mktemp("work") / "processed"
    if PROCESSED_DIR.is_dir():
        return fresh_processed_copy(PROCESSED_DIR, folder, raw_tree)
    result = run_cli("clean", env=environment(raw_tree, folder, folder.parent / "unused-reports"))
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="session")
def published(tmp_path_factory, raw_tree, processed_tree) -> Path:
    """A reports folder holding a complete, published Ferguson report (built once, without the PDF)."""
    reports = tmp_path_factory.mktemp("published") / "reports"
    result = run_cli(
        "build", "--params", str(PARAMS_FILE), "--no-pdf", env=environment(raw_tree, processed_tree, reports)
    )
    assert result.returncode == 0, result.stderr
    assert_complete_report(reports / AGENCY)
    return reports
