"""Every path in the project resolves from PROJECT_ROOT, never from the working directory."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PARAMS_DIR = PROJECT_ROOT / "params"
REPORTS_DIR = PROJECT_ROOT / "reports"
DOCS_DIR = PROJECT_ROOT / "docs"
PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"

MIRROR_ENV_VAR = "HEARTBEATS_DATA_MIRROR"
KERNEL_NAME = "heartbeats"
FOLDER_ENV_VARS = ("HEARTBEATS_RAW_DIR", "HEARTBEATS_PROCESSED_DIR", "HEARTBEATS_REPORTS_DIR", MIRROR_ENV_VAR)


def raw_dir() -> Path:
    """The raw-data folder; HEARTBEATS_RAW_DIR relocates it (tests build in temporary folders)."""
    return Path(os.environ.get("HEARTBEATS_RAW_DIR", RAW_DIR))


def processed_dir() -> Path:
    return Path(os.environ.get("HEARTBEATS_PROCESSED_DIR", PROCESSED_DIR))


def reports_dir() -> Path:
    return Path(os.environ.get("HEARTBEATS_REPORTS_DIR", REPORTS_DIR))


def absolutise_folder_variables(base: Path | None = None) -> None:
    """Make relative folder variables absolute, against the folder the command was started in.

    Notebook kernels run in PROJECT_ROOT and inherit these variables: a relative path would otherwise
    name one folder in the command and another in its notebooks.
    """
    base = base or Path.cwd()
    for name in FOLDER_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value and not Path(value).expanduser().is_absolute():
            os.environ[name] = str((base / value).resolve())
