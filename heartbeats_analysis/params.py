"""Build parameters: validated (pydantic) before any notebook runs, with every problem listed at once."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from heartbeats_analysis.errors import ParameterError
from heartbeats_analysis.paths import PARAMS_DIR, PROJECT_ROOT

DEFAULT_PEERS = [  # the one list of peers: St. Louis County municipal departments with FBI data; the agency is dropped
    "ferguson",
    "florissant",
    "hazelwood",
    "berkeley",
    "bellefontaine-neighbors",
    "normandy",
    "northwoods",
    "country-club-hills",
    "pine-lawn",
    "jennings",
    "cool-valley",
    "bel-ridge",
    "st-ann",
    "st-john",
    "overland",
]

AGENCY_FACT_FIELDS = ("authorised_strength", "current_sworn", "population")

# A number fixes an assumption; a mapping (low/central/high/distribution) replaces its range.
# Ids, types and ranges are checked against the assumptions register by the model (see load_params).
AssumptionOverride = float | dict[str, float | str]


class BuildParams(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    agency: str = Field("ferguson", min_length=1)
    peers: list[str] = Field(default_factory=lambda: list(DEFAULT_PEERS))
    # Agency facts (see resources/agency_facts.csv): each needs its source; none falls back to another
    # agency's value. `*_is_proxy: true` marks a value chosen to stand in for the fact (e.g. an old FBI
    # count as a staffing target): the brief then calls it a proxy.
    display_name: str | None = None
    authorised_strength: int | None = Field(None, ge=0, le=100_000)
    authorised_strength_year: int | None = Field(None, ge=1960, le=2100)
    authorised_strength_source: str = ""
    authorised_strength_is_proxy: bool = False
    current_sworn: int | None = Field(None, ge=0, le=100_000)
    current_sworn_year: int | None = Field(None, ge=1960, le=2100)
    current_sworn_source: str = ""
    population: int | None = Field(None, ge=0, le=100_000_000)
    population_year: int | None = Field(None, ge=1960, le=2100)
    population_source: str = ""
    seed: int = Field(20161, ge=0)
    draws: int = Field(10_000, ge=1, le=1_000_000)
    horizon_years: int = Field(10, ge=1, le=50)
    assumptions: dict[str, AssumptionOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _facts_need_sources(self) -> BuildParams:
        missing = [
            name
            for name in AGENCY_FACT_FIELDS
            if getattr(self, name) is not None and not getattr(self, f"{name}_source").strip()
        ]
        if missing:
            raise ValueError("; ".join(f"{name} needs {name}_source (a citation)" for name in missing))
        return self

    def agency_facts(self) -> dict[str, Any]:
        """The agency facts given in the parameters (for notebook 07 and the batch index)."""
        facts: dict[str, Any] = {"display_name": self.display_name or ""}
        for name in AGENCY_FACT_FIELDS:
            facts.update({f"{name}{suffix}": getattr(self, f"{name}{suffix}") for suffix in ("", "_year", "_source")})
        facts["authorised_strength_is_proxy"] = self.authorised_strength_is_proxy
        return facts

    def notebook_parameters(self, build_dir: Path) -> dict[str, Any]:
        """Everything a notebook may declare; each notebook receives only the names it declares."""
        return {
            "agency": self.agency,
            "peers": [p for p in self.peers if p != self.agency],
            "build_dir": str(build_dir),
            "authorised_strength": self.authorised_strength,
            "authorised_strength_year": self.authorised_strength_year,
            "authorised_strength_source": self.authorised_strength_source,
            "agency_facts": self.agency_facts(),
            "seed": self.seed,
            "draws": self.draws,
            "horizon_years": self.horizon_years,
            "overrides": dict(self.assumptions),
        }


ACCEPTED_OVERRIDE = "a number, or a mapping with low/central/high (and optionally distribution)"


def _format_errors(error: ValidationError) -> list[str]:
    problems = []
    overrides_reported = set()
    for item in error.errors():
        loc = item["loc"]
        if len(loc) > 2 and loc[0] == "assumptions":
            # pydantic reports one line per member of the override union: say once what is accepted.
            if loc[1] not in overrides_reported:
                overrides_reported.add(loc[1])
                problems.append(f"assumptions.{loc[1]}: expected {ACCEPTED_OVERRIDE} (got {item.get('input')!r})")
            continue
        where = ".".join(str(p) for p in loc) or "(parameters)"
        if item["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown parameter")
        else:
            problems.append(f"{where}: {item['msg']} (got {item.get('input')!r})")
    return problems


def _model_problems(params: BuildParams) -> list[str]:
    """Check assumption overrides against the register before any notebook runs."""
    if not params.assumptions:
        return []  # seed, draws and horizon are already checked by BuildParams
    from heartbeats_analysis.model.assumptions import validate_model_parameters

    try:
        validate_model_parameters(params.seed, params.draws, params.horizon_years, params.assumptions)
    except ParameterError as error:
        return [f"assumptions: {p}" for p in getattr(error, "problems", [str(error)])]
    return []


def _accepted_override_problems(assumptions: Any, error: ValidationError) -> list[str]:
    """When another parameter is invalid, still check the overrides pydantic accepted against the
    register, so that every problem is listed at once."""
    if not isinstance(assumptions, dict):
        return []
    rejected = {str(e["loc"][1]) for e in error.errors() if len(e["loc"]) > 1 and e["loc"][0] == "assumptions"}
    accepted = {key: value for key, value in assumptions.items() if key not in rejected}
    return _model_problems(BuildParams(assumptions=accepted)) if accepted else []


def parse_set_option(option: str) -> tuple[list[str], Any]:
    """'draws=500' -> (['draws'], 500); 'assumptions.officer_attrition=0.15' -> nested key."""
    if "=" not in option:
        raise ParameterError(f"--set {option!r}: expected NAME=VALUE")
    name, raw = option.split("=", 1)
    return name.strip().split("."), yaml.safe_load(raw)


def load_params(
    params_file: Path | None = None,
    sets: list[str] | None = None,
    base: dict[str, Any] | None = None,
) -> tuple[BuildParams, dict[str, str]]:
    """Merge defaults < params file < command-line options (base) < --set; validate all at once.

    Returns the parameters and, for each, where its value came from.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {name: "default" for name in BuildParams.model_fields}
    file_agency = None
    if params_file is not None:
        try:
            loaded = yaml.safe_load(Path(params_file).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ParameterError(f"Parameters file {params_file} does not exist.") from None
        except yaml.YAMLError as exc:
            raise ParameterError(f"Parameters file {params_file} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ParameterError(f"Parameters file {params_file} must hold a mapping of name: value.")
        merged.update(loaded)
        origin.update({name: str(params_file) for name in loaded})
        file_agency = loaded.get("agency")
    for name, value in (base or {}).items():
        merged[name] = value
        origin[name] = "command line"
    problems = []
    for option in sets or []:
        try:
            keys, value = parse_set_option(option)
        except ParameterError as exc:
            problems.append(str(exc))
            continue
        target = merged
        for key in keys[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                problems.append(f"--set {option}: {key} is not a mapping")
                break
        else:
            target[keys[-1]] = value
            origin[keys[0]] = "--set"
    try:
        params = BuildParams.model_validate(merged)
    except ValidationError as exc:
        problems.extend(_format_errors(exc))
        params = None
        problems.extend(_accepted_override_problems(merged.get("assumptions"), exc))
    if params is not None:
        problems.extend(_model_problems(params))
    if params is not None and file_agency is not None and params.agency != file_agency:
        for name in (*AGENCY_FACT_FIELDS, "display_name"):
            if origin[name] == str(params_file) and getattr(params, name) not in (None, ""):
                problems.append(
                    f"{name} in {params_file} is {file_agency}'s, but the agency is {params.agency}: "
                    f"use a parameters file for that agency or add --set {name}=null"
                )
    if problems:
        raise ParameterError(
            f"{len(problems)} problem(s) with the build parameters:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return params, origin


def params_file_for(agency: str) -> Path | None:
    """The agency's own parameters file (its facts with sources), when one exists in params/."""
    path = PARAMS_DIR / f"{agency}.yaml"
    return path if path.is_file() else None


def canonical_command(params_file: Path | None, agency: str | None, ori: str | None, sets: list[str] | None) -> str:
    """The build command as recorded in the brief: what decides the content, with no machine paths
    and no flags that only change how the build runs (--force, --quiet, --no-pdf)."""
    parts = ["heartbeats", "build"]
    if params_file is not None:
        path = Path(params_file).resolve()
        shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path.name
        parts += ["--params", str(shown)]
    if agency:
        parts += ["--agency", agency]
    if ori:
        parts += ["--ori", ori]
    for option in sets or []:
        parts += ["--set", option]
    return " ".join(shlex.quote(p) for p in parts)


def _data_facts(slug: str) -> dict[str, Any]:
    """What the processed data say about an agency: its name, latest FBI sworn count, latest ACS population."""
    from heartbeats_analysis.errors import TableMissingError
    from heartbeats_analysis.ingest.tables import load_table
    from heartbeats_analysis.model.inputs import acs_population, display_name_for

    found: dict[str, Any] = {}
    try:
        agencies = load_table("agencies")
    except TableMissingError:
        return found
    found["display_name"] = display_name_for(slug, agencies)
    try:
        staffing = load_table("staffing")
        rows = staffing[staffing["agency_slug"].astype(str) == slug].dropna(subset=["sworn_officers"])
        if not rows.empty:
            latest = rows.sort_values("year").iloc[-1]
            found["current_sworn"] = (int(latest["sworn_officers"]), int(latest["year"]))
    except TableMissingError:
        pass
    try:
        population = acs_population(slug, agencies, load_table("population"))
        if population is not None:
            found["population"] = (int(population.value), population.year, population.source)
    except TableMissingError:
        pass
    return found


def params_template(slug: str, data: dict[str, Any] | None = None) -> str:
    """A commented parameters file for one agency: every agency fact, what the data already give, blanks
    for the rest. Values the data give are left commented out: the build reads them from the data."""
    data = _data_facts(slug) if data is None else data
    name = data.get("display_name") or slug.replace("-", " ").title()
    sworn, population = data.get("current_sworn"), data.get("population")
    sworn_note = (
        f"# Known from the data: {sworn[0]} sworn officers in {sworn[1]} (FBI police employee data); used unless\n"
        "# you give a more recent count with its source.\n"
        if sworn
        else "# Not in the FBI police employee data: without a count the staffing model cannot run.\n"
    )
    population_note = (
        f"# Known from the data: {population[0]:,} residents ({population[2]}).\n"
        if population
        else "# No census population is matched to this agency: without it the workload estimate cannot run.\n"
    )
    return f"""# Build parameters for {name} (`heartbeats build --params params/{slug}.yaml`).
# Written by `heartbeats params --init --agency {slug}`. Every agency fact needs its source (a document,
# a date); a fact left blank is unknown and the brief says what it cannot tell without it. No fact ever
# falls back to another agency's value. See README, "Giving an agency its facts".
agency: {slug}
display_name: {name}

# Authorised (budgeted) sworn strength: from the city budget or the department. Without it the brief cannot
# say whether the department reaches its target or what overtime vacancies cost.
authorised_strength:
authorised_strength_year:
authorised_strength_source: ""
# A stand-in (e.g. the department's 2014 FBI count) is allowed only as a visible choice: set the value,
# say so in the source, and set this to true so the brief calls it a proxy.
authorised_strength_is_proxy: false

# Sworn officers serving today.
{sworn_note}current_sworn:
current_sworn_year:
current_sworn_source: ""

# Residents.
{population_note}population:
population_year:
population_source: ""

# Program assumptions specific to this department (else the register's general range is used, labelled so):
# the share of program completers who join this department, and its hires a year without the program.
assumptions: {{}}
#   agency_capture_share: {{low: 0.3, central: 0.6, high: 1.0}}
#   status_quo_hires_per_year: {{low: 2, central: 4, high: 7}}

seed: 20161
draws: 10000
horizon_years: 10
"""
