"""Provenance of a build: git commit, data registry hash, parameters, package versions, command."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from heartbeats_analysis.ingest.registry import data_as_of, registry_hash
from heartbeats_analysis.paths import PROJECT_ROOT

REPORTED_PACKAGES = [
    "heartbeats-analysis",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "pandera",
    "pydantic",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "pooch",
    "playwright",
]


def git_commit() -> str:
    """The commit the code was built from, with '-dirty' when tracked files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_manifest(parameters: dict[str, Any], command: str, display_name: str) -> dict[str, Any]:
    return {
        "agency_display_name": display_name,
        "git_commit": git_commit(),
        "data_registry_sha256": registry_hash(),
        "data_as_of": data_as_of(),
        "parameters": parameters,
        "package_versions": package_versions(),
        "build_command": command,
    }


def write_manifest(manifest: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
