"""The claims registry: every number the brief shows, with where it came from.

Analysis notebooks record claims; the brief reads them back. A claim's value is the single source
of truth for the number wherever it is printed, so no number is typed by hand into prose.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_.]+$")
    value: float | int | str | None
    unit: str
    sentence: str
    interval: tuple[float, float] | None = None
    interval_kind: str | None = None  # e.g. "95% CI (exact binomial)", "90% simulation interval"
    n: int | None = None
    source: list[str] = Field(default_factory=list)  # processed tables, raw keys or citations
    function: str | None = None  # dotted path of the function that computed the value
    notebook: str | None = None
    flags: list[str] = Field(default_factory=list)  # e.g. "small_cell"

    @field_validator("value")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v


class ClaimsRegistry:
    """An ordered collection of claims with unique ids."""

    def __init__(self, claims: list[Claim] | None = None):
        self._claims: dict[str, Claim] = {}
        for claim in claims or []:
            self.add(claim)

    def add(self, claim: Claim) -> Claim:
        if claim.id in self._claims and self._claims[claim.id] != claim:
            raise ValueError(f"Claim {claim.id!r} recorded twice with different contents")
        self._claims[claim.id] = claim
        return claim

    def record(self, id: str, value: Any, unit: str, sentence: str, **kwargs: Any) -> Claim:
        return self.add(Claim(id=id, value=value, unit=unit, sentence=sentence, **kwargs))

    def __getitem__(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            raise KeyError(f"No claim {claim_id!r} in the registry") from None

    def get(self, claim_id: str) -> Claim | None:
        """The claim, or None when no notebook recorded it (as dict.get)."""
        return self._claims.get(claim_id)

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self._claims

    def __iter__(self):
        return iter(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def merge(self, other: ClaimsRegistry) -> ClaimsRegistry:
        for claim in other:
            self.add(claim)
        return self

    def to_json(self) -> str:
        payload = [c.model_dump(mode="json") for c in sorted(self, key=lambda c: c.id)]
        return json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> ClaimsRegistry:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls([Claim.model_validate(item) for item in data])

    @classmethod
    def load_all(cls, folder: Path, pattern: str = "*.json") -> ClaimsRegistry:
        merged = cls()
        for path in sorted(Path(folder).glob(pattern)):
            merged.merge(cls.load(path))
        return merged
