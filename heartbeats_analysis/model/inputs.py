"""Inputs the data analysis and the build parameters supply: agency facts and the relevant share of calls.

Two kinds of register rows (``scope`` column, from ``resources/agency_facts.csv``):

* **agency facts** (current sworn count, authorised strength, population, the share of program
  completers who join the department): they describe one agency, so they come from that agency's
  build parameters (``params/<agency>.yaml``) or its processed data (FBI sworn count, ACS population).
  The register's own numbers for these rows are never used as the agency's value. A fact found in
  neither is *unknown*: the parts of the model that need it say so, the others still run. Facts whose
  ``when_missing`` is ``general assumption`` (no agency has a measured value) keep the register range
  and are labelled as such in the provenance table.
* **general evidence** (effect sizes, attrition, costs): shared by every agency.

Notebook 07 looks for claims recorded earlier in the same build; when a claim is missing (or unusable) the
register value is used for general rows, and the provenance table says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from heartbeats_analysis.model.assumptions import apply_overrides
from heartbeats_analysis.paths import RESOURCES_DIR
from heartbeats_analysis.report.claims import Claim, ClaimsRegistry

AGENCY_FACTS_PATH = RESOURCES_DIR / "agency_facts.csv"
UNKNOWN = "unknown"
GENERAL_ASSUMPTION = "general assumption"
PER_OFFICER_FACTS = ("status_quo_hires_per_year",)
"""General-assumption facts whose register range is for a department the size of the register's reference
count (``current_sworn`` central): scaled to the agency's sworn count when it has none of its own."""

# register id -> claim ids to try, in order of preference
CLAIM_SOURCES: dict[str, tuple[str, ...]] = {
    "current_sworn": ("staffing.latest_sworn",),
    "population": ("population.latest_total", "staffing.latest_population", "acs.population_latest"),
    "relevant_share_of_calls": ("calls.relevant_share_central", "calls.relevant_share"),
}
PERCENT_UNITS = ("%", "percent", "percentage points")


@dataclass(frozen=True)
class AnalysisInput:
    """A value from the analysis for one register parameter; ``interval`` replaces the range when given."""

    value: float
    interval: tuple[float, float] | None = None
    source: str = "argument"


@dataclass
class AnalysisInputs:
    values: dict[str, AnalysisInput] = field(default_factory=dict)
    provenance: list[dict] = field(default_factory=list)
    facts: AgencyFacts | None = None  # the agency's facts; None in library use without an agency

    def overrides(self, register: pd.DataFrame) -> dict[str, dict[str, float]]:
        """Register overrides: central = the value; range = the claim's interval, else the register's
        range widened to include the value."""
        rows = register.set_index("id")
        result: dict[str, dict[str, float]] = {}
        for key, given in self.values.items():
            row = rows.loc[key]
            if given.interval is not None:
                low, high = given.interval
            else:
                low, high = row["low"], row["high"]
            result[key] = {
                "low": float(min(low, given.value)),
                "central": float(given.value),
                "high": float(max(high, given.value)),
            }
        return result

    def set(self, key: str, value: float, source: str, interval: tuple[float, float] | None = None) -> None:
        """Use ``value`` for register parameter ``key`` (replacing any earlier choice in the provenance)."""
        self.values[key] = AnalysisInput(value, interval, source)
        self.provenance = [row for row in self.provenance if row["parameter"] != key]
        self.provenance.append({"parameter": key, "used": "analysis", "value": value, "source": source, "note": ""})

    def apply(self, register: pd.DataFrame) -> pd.DataFrame:
        """The register with the agency's facts (when given) and the analysis values applied."""
        if self.facts is not None:
            register, _ = agency_register(register, self.facts)
        return apply_overrides(register, self.overrides(register), origin="analysis")

    def provenance_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.provenance, columns=["parameter", "used", "value", "source", "note"])


def _as_number(claim: Claim) -> float | None:
    if isinstance(claim.value, bool) or not isinstance(claim.value, (int, float)):
        return None
    scale = 0.01 if claim.unit.strip().lower() in PERCENT_UNITS else 1.0
    return float(claim.value) * scale


def inputs_from_claims(
    claims: ClaimsRegistry, register: pd.DataFrame, facts: AgencyFacts | None = None
) -> AnalysisInputs:
    """Pick up analysis values from earlier claims; fall back to the register and say so.

    With ``facts``, agency-fact rows come from the facts only (see :func:`agency_register`)."""
    rows = register.set_index("id")
    result = AnalysisInputs(facts=facts)
    if facts is not None:
        result.provenance.extend(agency_register(register, facts)[1])
    skip = set(agency_fact_rules().index) if facts is not None else set()
    for key, candidates in CLAIM_SOURCES.items():
        if key in skip:
            continue
        row = rows.loc[key]
        chosen, note = None, f"no claim among {', '.join(candidates)}"
        for claim_id in candidates:
            if claim_id not in claims:
                continue
            claim = claims[claim_id]
            value = _as_number(claim)
            if value is None or not row["min_allowed"] <= value <= row["max_allowed"]:
                note = f"claim {claim_id} unusable (value {claim.value!r} {claim.unit})"
                continue
            interval = None
            if claim.interval is not None:
                scale = value / float(claim.value) if claim.value else 1.0
                lo, hi = (float(x) * scale for x in claim.interval)
                if row["min_allowed"] <= lo <= hi <= row["max_allowed"]:
                    interval = (lo, hi)
            chosen = AnalysisInput(value, interval, f"claim {claim_id}")
            note = claim.sentence
            break
        if chosen is None:
            result.provenance.append(
                {
                    "parameter": key,
                    "used": "register",
                    "value": float(row["central"]),
                    "source": row["source"],
                    "note": note,
                }
            )
        else:
            result.values[key] = chosen
            result.provenance.append(
                {"parameter": key, "used": "analysis", "value": chosen.value, "source": chosen.source, "note": note}
            )
    return result


def inputs_from_arguments(register: pd.DataFrame, **values: float | None) -> AnalysisInputs:
    """Analysis inputs passed directly (e.g. ``current_sworn=30``); ``None`` keeps the register value."""
    unknown = sorted(set(values) - set(CLAIM_SOURCES))
    if unknown:
        raise TypeError(f"not an analysis input: {', '.join(unknown)}; use {', '.join(CLAIM_SOURCES)}")
    result = AnalysisInputs()
    rows = register.set_index("id")
    for key in CLAIM_SOURCES:
        value = values.get(key)
        if value is None:
            result.provenance.append(
                {
                    "parameter": key,
                    "used": "register",
                    "value": float(rows.loc[key, "central"]),
                    "source": rows.loc[key, "source"],
                    "note": "not given",
                }
            )
        else:
            result.values[key] = AnalysisInput(float(value))
            result.provenance.append(
                {"parameter": key, "used": "analysis", "value": float(value), "source": "argument", "note": ""}
            )
    return result


# ----------------------------------------------------------------------------------------- agency facts


def agency_fact_rules(path: Path | None = None) -> pd.DataFrame:
    """Which register rows are agency facts, where each comes from and what happens without it."""
    return pd.read_csv(path or AGENCY_FACTS_PATH, dtype=str, keep_default_na=False).set_index("id")


def with_scope(register: pd.DataFrame) -> pd.DataFrame:
    """The register with a ``scope`` column: ``agency`` for agency facts, ``general`` for shared evidence."""
    facts = set(agency_fact_rules().index)
    return register.assign(scope=np.where(register["id"].isin(facts), "agency", "general"))


@dataclass(frozen=True)
class Fact:
    """One agency fact as the build found it. ``origin`` is ``params``, ``proxy (params)``, ``data``,
    ``general assumption`` or ``unknown``."""

    id: str
    value: float | None
    origin: str
    source: str = ""
    year: int | None = None
    interval: tuple[float, float] | None = None

    @property
    def known(self) -> bool:
        return self.value is not None and bool(np.isfinite(self.value))


@dataclass(frozen=True)
class AgencyFacts:
    """Everything agency-specific the model and its sentences use: the name and the facts."""

    agency: str
    display_name: str
    facts: dict[str, Fact] = field(default_factory=dict)

    @property
    def is_ferguson(self) -> bool:
        """Ferguson-only context (DOJ 2015 report, Consent Decree) is shown only in Ferguson's brief."""
        return self.agency == "ferguson"

    def fact(self, key: str) -> Fact:
        if key in self.facts:
            return self.facts[key]
        rules = agency_fact_rules()
        general = key in rules.index and rules.at[key, "when_missing"] == GENERAL_ASSUMPTION
        return Fact(key, None, GENERAL_ASSUMPTION if general else UNKNOWN)

    def known(self, key: str) -> bool:
        return self.fact(key).known

    def value(self, key: str) -> float | None:
        return self.fact(key).value

    def missing_sentence(self, key: str) -> str:
        """One sentence: which fact is missing for this agency and what the model cannot say without it."""
        rule = agency_fact_rules().loc[key]
        return (
            f"{self.display_name}'s {rule['fact']} is not in its parameters or data, so {rule['without_it']} "
            f"(give it as {rule['params_field']} in params/{self.agency}.yaml, with its source)."
        )

    def table(self) -> pd.DataFrame:
        """One row per agency fact: value, year, origin and source (for the notebook and the batch index)."""
        rows = []
        for key in agency_fact_rules().index:
            fact = self.fact(key)
            rows.append(
                {
                    "fact": key,
                    "value": fact.value,
                    "year": fact.year,
                    "origin": fact.origin,
                    "source": fact.source,
                }
            )
        return pd.DataFrame(rows, columns=["fact", "value", "year", "origin", "source"])


def display_name_for(agency: str, agencies: pd.DataFrame | None) -> str:
    """The agency's name as the brief prints it (agencies table), else its slug in title case."""
    if agencies is not None and "display_name" in agencies:
        row = agencies[agencies["agency_slug"].astype(str) == agency]
        if not row.empty and str(row["display_name"].iloc[0]).strip():
            return str(row["display_name"].iloc[0]).strip()
    return agency.replace("-", " ").title()


def acs_population(agency: str, agencies: pd.DataFrame | None, population: pd.DataFrame | None) -> Fact | None:
    """The latest ACS total population of the agency's census geography, or None when not matched."""
    if agencies is None or population is None:
        return None
    row = agencies[agencies["agency_slug"].astype(str) == agency]
    if row.empty or pd.isna(row["geoid"].iloc[0]):
        return None
    geoid = str(row["geoid"].iloc[0])
    rows = population[(population["geoid"].astype(str) == geoid) & (population["race"] == "total")]
    rows = rows.dropna(subset=["population"])
    if rows.empty:
        return None
    latest = rows.sort_values("year").iloc[-1]
    survey = str(latest.get("survey", "acs")).upper().replace("ACS", "ACS ").replace("  ", " ").strip()
    source = f"US Census Bureau {survey}-year estimate, {latest['geography']}, {int(latest['year'])}"
    return Fact("population", float(latest["population"]), "data", source, int(latest["year"]))


def _claim_number(claims: ClaimsRegistry | None, claim_id: str) -> Claim | None:
    if claims is None or claim_id not in claims:
        return None
    claim = claims[claim_id]
    return claim if _as_number(claim) is not None else None


def resolve_agency_facts(
    agency: str,
    params: dict[str, Any] | None = None,
    claims: ClaimsRegistry | None = None,
    agencies: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
) -> AgencyFacts:
    """Each agency fact from the build parameters first, then the agency's data, else unknown.

    ``params`` holds the build's agency facts (``display_name``, ``authorised_strength`` with
    ``_year``, ``_source`` and ``_is_proxy``, ``current_sworn``..., ``population``...). Nothing falls
    back to another agency's value.
    """
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    name = params.get("display_name") or display_name_for(agency, agencies)
    facts: dict[str, Fact] = {}
    for key, field_name in (
        ("authorized_strength", "authorised_strength"),
        ("current_sworn", "current_sworn"),
        ("population", "population"),
    ):
        if field_name in params:
            proxy = bool(params.get(f"{field_name}_is_proxy"))
            facts[key] = Fact(
                key,
                float(params[field_name]),
                "proxy (params)" if proxy else "params",
                str(params.get(f"{field_name}_source", "")),
                params.get(f"{field_name}_year"),
            )
    if "current_sworn" not in facts:
        claim = _claim_number(claims, "staffing.latest_sworn")
        if claim is not None:
            year_claim = _claim_number(claims, "staffing.latest_sworn_year")
            year = int(year_claim.value) if year_claim is not None else None
            source = f"FBI police employee data{f', {year}' if year else ''} (claim staffing.latest_sworn)"
            facts["current_sworn"] = Fact("current_sworn", float(claim.value), "data", source, year)
    if "population" not in facts:
        found = acs_population(agency, agencies, population)
        if found is not None:
            facts["population"] = found
    return AgencyFacts(agency, str(name), facts)


def agency_register(register: pd.DataFrame, facts: AgencyFacts) -> tuple[pd.DataFrame, list[dict]]:
    """The register for one agency: each agency-fact row set from the agency's facts.

    A known fact becomes the central value; its range is the register's relative range around the
    register's central (so a count keeps its uncertainty), unless the fact carries its own interval.
    An unknown fact keeps a placeholder row with ``origin = unknown``; the run replaces its draws
    (see :func:`unknown_draws`). Returns the register and the provenance rows.
    """
    rules = agency_fact_rules()
    result = with_scope(register)
    provenance = []
    for key, rule in rules.iterrows():
        if key not in set(result["id"]):
            continue
        position = result.index[result["id"] == key][0]
        fact = facts.fact(key)
        if fact.known:
            central = float(result.at[position, "central"])
            if fact.interval is not None:
                low, high = fact.interval
            elif central > 0:
                low = fact.value * float(result.at[position, "low"]) / central
                high = fact.value * float(result.at[position, "high"]) / central
            else:
                low = high = fact.value
            if key in ("current_sworn", "authorized_strength", "population"):
                low, high = round(low), round(high)
            result.at[position, "low"] = min(low, fact.value)
            result.at[position, "central"] = fact.value
            result.at[position, "high"] = max(high, fact.value)
            result.at[position, "origin"] = fact.origin
            result.at[position, "source"] = fact.source
            provenance.append(
                {"parameter": key, "used": fact.origin, "value": fact.value, "source": fact.source, "note": ""}
            )
        elif rule["when_missing"] == GENERAL_ASSUMPTION:
            note = f"no value for {facts.display_name} in its parameters: the register's general range is used"
            if key in PER_OFFICER_FACTS and facts.known("current_sworn"):
                # a count that grows with the department: the register's range is per reference officer
                reference = float(register.loc[register["id"] == "current_sworn", "central"].iloc[0])
                scale = float(facts.value("current_sworn")) / reference
                for column in ("low", "central", "high"):
                    result.at[position, column] = float(result.at[position, column]) * scale
                note = (
                    f"no value for {facts.display_name} in its parameters: the register's range, derived for a "
                    f"department of {reference:.0f} officers, scaled to {facts.display_name}'s "
                    f"{facts.value('current_sworn'):.0f} (the same hires per officer)"
                )
            result.at[position, "origin"] = GENERAL_ASSUMPTION
            provenance.append(
                {
                    "parameter": key,
                    "used": GENERAL_ASSUMPTION,
                    "value": float(result.at[position, "central"]),
                    "source": str(result.at[position, "source"]),
                    "note": note,
                }
            )
        else:
            central = result.at[position, "central"]
            result.loc[position, ["low", "high"]] = central
            result.at[position, "distribution"] = "fixed"  # a placeholder: the run replaces its draws
            result.at[position, "origin"] = UNKNOWN
            result.at[position, "source"] = f"unknown for {facts.display_name}"
            provenance.append(
                {
                    "parameter": key,
                    "used": UNKNOWN,
                    "value": float("nan"),
                    "source": "",
                    "note": facts.missing_sentence(key),
                }
            )
    return result, provenance


def unknown_draws(params: dict[str, np.ndarray], register: pd.DataFrame) -> dict[str, np.ndarray]:
    """Replace the draws of unknown facts: no authorised strength means no cap on hiring (infinity);
    any other unknown fact is not a number, so every result that needs it is not a number either."""
    unknown = register.loc[register["origin"] == UNKNOWN, "id"]
    result = dict(params)
    for key in unknown:
        draws = len(result[key])
        result[key] = np.full(draws, np.inf if key == "authorized_strength" else np.nan)
    return result


def blank_unknown_rows(register: pd.DataFrame) -> pd.DataFrame:
    """The register as the brief prints it: unknown facts show no numbers."""
    result = register.copy()
    unknown = result["origin"] == UNKNOWN
    result.loc[unknown, ["low", "central", "high"]] = np.nan
    return result
