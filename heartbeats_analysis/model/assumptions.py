"""The assumptions register: one row per model input, with its range, distribution and source.

Overrides (the notebook's ``overrides`` parameter, filled by the build from ``assumptions:`` in
``params/<agency>.yaml``, or values recorded by earlier analysis notebooks) change a row, never the file:

* a number fixes the parameter: low = central = high = the number, distribution ``fixed``;
* a dict with any of ``low``, ``central``, ``high``, ``distribution`` replaces those fields and keeps
  the rest (so ``{"central": 0.2}`` moves the central value inside the existing range).

Every problem found is reported at once in a single :class:`~heartbeats_analysis.errors.ParameterError`:
unknown ids (with the closest known ids), wrong types, values outside the declared
``[min_allowed, max_allowed]``, ``low > central`` or ``central > high``, unknown distributions and
bad model settings (``draws < 1`` ...).
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heartbeats_analysis.errors import ParameterError
from heartbeats_analysis.paths import RESOURCES_DIR

REGISTER_PATH = RESOURCES_DIR / "assumptions.csv"
REGISTER_VERSION = "1.0"
"""Bump when a row's value, range or source changes; the brief prints it beside the model results."""

COLUMNS = [
    "id",
    "group",
    "description",
    "low",
    "central",
    "high",
    "distribution",
    "unit",
    "min_allowed",
    "max_allowed",
    "source",
    "url",
    "quality",
    "note",
]
DISTRIBUTIONS = ("fixed", "uniform", "triangular", "pert", "lognormal")
QUALITY_GRADES = ("A", "B", "C", "D", "assumption")
OVERRIDE_FIELDS = ("low", "central", "high", "distribution")
GROUPS = ("staffing", "workload", "salary", "outcomes", "civilian", "costs", "evidence")


class Assumption(BaseModel):
    """One validated row of the register."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    group: str
    description: str = Field(min_length=1)
    low: float
    central: float
    high: float
    distribution: str
    unit: str = Field(min_length=1)
    min_allowed: float
    max_allowed: float
    source: str = Field(min_length=1)
    url: str = ""
    quality: str
    note: str = ""


def _row_problems(row: Mapping[str, Any], where: str) -> list[str]:
    """Range, distribution and grade problems of one row (values already numeric)."""
    problems: list[str] = []
    low, central, high = row["low"], row["central"], row["high"]
    lo_ok, hi_ok = row["min_allowed"], row["max_allowed"]
    not_finite = [name for name in ("low", "central", "high") if not math.isfinite(row[name])]
    if not_finite:
        return [f"{where}: {', '.join(not_finite)} must be finite numbers, got {row[not_finite[0]]!r}"]
    named = [("value", central)] if low == central == high else [("low", low), ("central", central), ("high", high)]
    for name, value in named:
        if not lo_ok <= value <= hi_ok:
            problems.append(
                f"{where}: {name} = {value:g} is outside the allowed range [{lo_ok:g}, {hi_ok:g}] ({row['unit']})"
            )
    if low > central:
        problems.append(f"{where}: low ({low:g}) > central ({central:g})")
    if central > high:
        problems.append(f"{where}: central ({central:g}) > high ({high:g})")
    distribution = row["distribution"]
    if distribution not in DISTRIBUTIONS:
        problems.append(f"{where}: unknown distribution {distribution!r}; use one of {', '.join(DISTRIBUTIONS)}")
    elif distribution == "fixed" and not low == central == high:
        problems.append(f"{where}: a fixed parameter needs low = central = high, got {low:g} / {central:g} / {high:g}")
    elif distribution == "lognormal" and low <= 0:
        problems.append(f"{where}: a lognormal parameter needs low > 0, got {low:g}")
    return problems


def load_register(path: Path | None = None) -> pd.DataFrame:
    """Read and validate the register; one row per parameter in file order, ``id`` unique."""
    path = Path(path or REGISTER_PATH)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems: list[str] = []
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ParameterError(f"{path.name} lacks the column(s) {', '.join(missing)}")
    rows = []
    for position, raw in enumerate(frame[COLUMNS].to_dict("records"), start=2):
        where = f"{path.name} line {position} ({raw['id'] or 'no id'})"
        try:
            row = Assumption.model_validate(raw).model_dump()
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(f"{where}: column {'.'.join(map(str, err['loc']))}: {err['msg']}")
            continue
        if row["group"] not in GROUPS:
            problems.append(f"{where}: unknown group {row['group']!r}")
        if row["quality"] not in QUALITY_GRADES:
            problems.append(f"{where}: quality must be one of {', '.join(QUALITY_GRADES)}, got {row['quality']!r}")
        problems.extend(_row_problems(row, where))
        rows.append(row)
    ids = [r["id"] for r in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"{path.name}: duplicate id(s) {', '.join(duplicates)}")
    if problems:
        raise _parameter_error(f"The assumptions register {path.name} is invalid", problems)
    register = pd.DataFrame(rows, columns=COLUMNS)
    register["origin"] = "register"
    return register


def register_fingerprint(path: Path | None = None) -> str:
    """Short sha256 of the register file, printed with results so a reader can tell versions apart."""
    return hashlib.sha256(Path(path or REGISTER_PATH).read_bytes()).hexdigest()[:12]


def _parameter_error(headline: str, problems: list[str]) -> ParameterError:
    noun = "problem" if len(problems) == 1 else "problems"
    error = ParameterError(f"{headline} ({len(problems)} {noun}):\n" + "\n".join(f"  - {p}" for p in problems))
    error.problems = problems  # type: ignore[attr-defined]
    return error


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _override_problems(register: pd.DataFrame, overrides: Mapping[str, Any]) -> tuple[list[str], dict[str, dict]]:
    """Check every override; return the problems and the new row contents of the valid ones."""
    problems: list[str] = []
    updates: dict[str, dict] = {}
    known = list(register["id"])
    rows = register.set_index("id", drop=False)
    if not isinstance(overrides, Mapping):
        return [f"overrides must be a dict of parameter id -> value, got {type(overrides).__name__}"], {}
    for key, value in overrides.items():
        if key not in rows.index:
            close = difflib.get_close_matches(str(key), known, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            problems.append(f"unknown parameter {key!r}{hint}")
            continue
        row = rows.loc[key].to_dict()
        where = f"override {key}"
        if _is_number(value):
            row.update(low=float(value), central=float(value), high=float(value), distribution="fixed")
        elif isinstance(value, Mapping):
            extra = sorted(set(value) - set(OVERRIDE_FIELDS))
            if extra:
                problems.append(
                    f"{where}: unknown field(s) {', '.join(map(str, extra))}; use {', '.join(OVERRIDE_FIELDS)}"
                )
                continue
            bad_type = False
            for name, field_value in value.items():
                if name == "distribution":
                    if not isinstance(field_value, str):
                        problems.append(f"{where}: distribution must be a string, got {field_value!r}")
                        bad_type = True
                elif not _is_number(field_value):
                    problems.append(
                        f"{where}: {name} must be a number, got {type(field_value).__name__} {field_value!r}"
                    )
                    bad_type = True
            if bad_type:
                continue
            row.update({k: (v if k == "distribution" else float(v)) for k, v in value.items()})
            if row["low"] == row["central"] == row["high"] and "distribution" not in value:
                row["distribution"] = "fixed"
        else:
            problems.append(
                f"{where}: expected a number or a dict with {', '.join(OVERRIDE_FIELDS)}, "
                f"got {type(value).__name__} {value!r}"
            )
            continue
        row_problems = _row_problems(row, where)
        problems.extend(row_problems)
        if not row_problems:
            updates[key] = row
    return problems, updates


def apply_overrides(
    register: pd.DataFrame, overrides: Mapping[str, Any] | None, origin: str = "override"
) -> pd.DataFrame:
    """Return a copy of the register with the overrides applied; raise ParameterError listing every problem."""
    overrides = overrides or {}
    problems, updates = _override_problems(register, overrides)
    if problems:
        raise _parameter_error("The model parameter overrides are invalid", problems)
    result = register.copy()
    for key, row in updates.items():
        position = result.index[result["id"] == key][0]
        for name in OVERRIDE_FIELDS:
            result.at[position, name] = row[name]
        result.at[position, "origin"] = origin
    return result


def overrides_from_params_file(path: Path, key: str = "assumptions") -> dict[str, Any]:
    """Read the ``assumptions`` mapping of a params YAML file (e.g. params/ferguson.yaml); {} if absent."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, Mapping):
        raise ParameterError(f"{Path(path).name} must hold a mapping at the top level")
    found = data.get(key) or {}
    if not isinstance(found, Mapping):
        raise ParameterError(f"{Path(path).name}: {key} must be a mapping of parameter id -> value")
    return dict(found)


class ModelParameters(BaseModel):
    """The notebook's model settings (the build can reuse this model to validate its params file)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=20161, ge=0, description="Seed of the PCG64 generator")
    draws: int = Field(default=10_000, ge=1, le=2_000_000, description="Monte Carlo draws")
    horizon_years: int = Field(default=10, ge=1, le=50, description="Years projected")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Parameter id -> number or {low, central, high}"
    )
    process_noise: bool = Field(
        default=True,
        description="Draw hires and separations as whole people (binomial/Poisson); False gives expected values",
    )
    interval_level: float = Field(default=0.90, gt=0, lt=1, description="Coverage of the reported intervals")


def validate_model_parameters(
    seed: Any = 20161,
    draws: Any = 10_000,
    horizon_years: Any = 10,
    overrides: Any = None,
    register: pd.DataFrame | None = None,
    **settings: Any,
) -> ModelParameters:
    """Validate the model settings and the overrides together; raise one ParameterError naming every problem."""
    problems: list[str] = []
    try:
        params = ModelParameters(
            seed=seed,
            draws=draws,
            horizon_years=horizon_years,
            overrides=overrides if isinstance(overrides, Mapping) else {},
            **settings,
        )
    except ValidationError as exc:
        params = None
        for err in exc.errors():
            field = ".".join(map(str, err["loc"])) or "(model parameters)"
            problems.append(f"{field}: {err['msg']} (got {err.get('input')!r})")
    if overrides is not None and not isinstance(overrides, Mapping):
        problems.append(f"overrides must be a dict of parameter id -> value, got {type(overrides).__name__}")
    elif overrides:
        override_problems, _ = _override_problems(register if register is not None else load_register(), overrides)
        problems.extend(override_problems)
    if problems or params is None:
        raise _parameter_error("The model parameters are invalid", problems)
    return params
