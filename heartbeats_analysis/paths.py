"""Every path in the project resolves from PROJECT_ROOT, never from the working directory."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT_ENV_VAR = "HEARTBEATS_PROJECT_ROOT"


def _project_root() -> Path:
    """The project folder: HEARTBEATS_PROJECT_ROOT if set, else the folder holding this package (an
    editable install, the supported way; see require_project_root for any other install)."""
    configured = os.environ.get(PROJECT_ROOT_ENV_VAR, "").strip()
    return Path(configured).expanduser().resolve() if configured else Path(__file__).resolve().parent.parent


PROJECT_ROOT = _project_root()

DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PARAMS_DIR = PROJECT_ROOT / "params"
REPORTS_DIR = PROJECT_ROOT / "reports"
DOCS_DIR = PROJECT_ROOT / "docs"
PACKAGE_DIR = Path(__file__).resolve().parent
SCRATCH_DIR = PROJECT_ROOT / ".scratch"  # hand runs of a notebook: outside reports/, never published
RESOURCES_DIR = PACKAGE_DIR / "resources"

MIRROR_ENV_VAR = "HEARTBEATS_DATA_MIRROR"
KERNEL_NAME = "heartbeats"
FOLDER_ENV_VARS = (
    "HEARTBEATS_RAW_DIR",
    "HEARTBEATS_PROCESSED_DIR",
    "HEARTBEATS_REPORTS_DIR",
    "HEARTBEATS_SCRATCH_DIR",
    MIRROR_ENV_VAR,
)


def require_project_root() -> Path:
    """PROJECT_ROOT, after checking it is the project folder (notebooks/ and pyproject.toml beside the
    package). A non-editable install puts the package in site-packages, where data/, notebooks/ and
    reports/ do not exist: stop with the fix rather than write into site-packages."""
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "notebooks").is_dir():
        return PROJECT_ROOT
    from heartbeats_analysis.errors import ProjectNotFoundError

    raise ProjectNotFoundError(
        f"{PROJECT_ROOT} is not the Heartbeats project folder (no pyproject.toml and notebooks/ there): the "
        "package seems installed without -e. Install it editable from the project folder (`make setup`, or "
        f"`pip install -e .`), or set {PROJECT_ROOT_ENV_VAR} to the project folder."
    )


def scratch_dir() -> Path:
    return Path(os.environ.get("HEARTBEATS_SCRATCH_DIR", SCRATCH_DIR))


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
