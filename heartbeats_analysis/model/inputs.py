"""Inputs the data analysis can supply: current sworn count, population, relevant share of calls.

The model's functions take them as arguments with defaults from the register. Notebook 07 looks for
claims recorded earlier in the same build; when a claim is missing (or unusable) the register value is
used, and the provenance table says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from heartbeats_analysis.model.assumptions import apply_overrides
from heartbeats_analysis.report.claims import Claim, ClaimsRegistry

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
        return apply_overrides(register, self.overrides(register), origin="analysis")

    def provenance_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.provenance, columns=["parameter", "used", "value", "source", "note"])


def _as_number(claim: Claim) -> float | None:
    if isinstance(claim.value, bool) or not isinstance(claim.value, (int, float)):
        return None
    scale = 0.01 if claim.unit.strip().lower() in PERCENT_UNITS else 1.0
    return float(claim.value) * scale


def inputs_from_claims(claims: ClaimsRegistry, register: pd.DataFrame) -> AnalysisInputs:
    """Pick up analysis values from earlier claims; fall back to the register and say so."""
    rows = register.set_index("id")
    result = AnalysisInputs()
    for key, candidates in CLAIM_SOURCES.items():
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
