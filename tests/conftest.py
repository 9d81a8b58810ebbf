"""Shared test fixtures: the raw-data mirror, temporary output folders, and the built Ferguson report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from heartbeats_analysis.paths import MIRROR_ENV_VAR, PROJECT_ROOT, RAW_DIR

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


def copy_raw_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("MANIFEST.csv", "README.md"))
    return target


def build_report(reports: Path, *extra: str, params: str = "params/ferguson.yaml") -> subprocess.CompletedProcess:
    """Run `heartbeats build` as a user would, writing into the given reports folder."""
    env = {**os.environ, "HEARTBEATS_REPORTS_DIR": str(reports)}
    command = [sys.executable, "-m", "heartbeats_analysis.cli", "build"]
    if params:
        command += ["--params", str(PROJECT_ROOT / params)]
    return subprocess.run([*command, *extra], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory, raw_data) -> Path:
    """The Ferguson brief built once per test session into a temporary reports folder (read-only use)."""
    reports = tmp_path_factory.mktemp("reports")
    result = build_report(reports)
    assert result.returncode == 0, result.stderr + result.stdout
    return reports
