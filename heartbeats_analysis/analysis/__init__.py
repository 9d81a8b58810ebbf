"""Analysis functions behind the notebooks: pure functions over processed tables, plus small
``report_*`` functions that draw the figures and record the claims.

This module holds the few result types every analysis shares:

* :class:`NoData`, the explicit result when an agency has nothing to analyse in a table (most
  agencies that appear only in the Vehicle Stops Report have no FBI UCR rows), so that a notebook
  records a "no data" claim instead of failing;
* :class:`Findings` and :class:`ShownFigure`, what ``report_*`` functions return so that a notebook
  cell shows the recorded sentences or the saved chart;
* :func:`display_name`, the agency's name as the brief prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..claims import Claim
from ..style import FigureRecord


@dataclass(frozen=True)
class NoData:
    """An analysis could not run for this agency; ``reason`` is written for a reader of the brief."""

    agency: str
    table: str
    reason: str
    name: str = ""  # display name; empty when the agency is unknown

    @property
    def label(self) -> str:
        return self.name or self.agency.replace("-", " ").title()

    def __bool__(self) -> bool:  # lets callers write ``if not result:``
        return False


@dataclass(frozen=True)
class Findings:
    """The claims one report function recorded; a notebook shows their sentences."""

    claims: tuple[Claim, ...]

    def __getitem__(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(f"No claim {claim_id!r} among {[c.id for c in self.claims]}")

    def __len__(self) -> int:
        return len(self.claims)

    def ids(self) -> list[str]:
        return [c.id for c in self.claims]

    def _repr_markdown_(self) -> str:
        return "\n".join(f"- {claim.sentence}" for claim in self.claims)

    def __repr__(self) -> str:
        return "\n".join(f"{claim.id}: {claim.sentence}" for claim in self.claims)


@dataclass(frozen=True)
class ShownFigure:
    """A saved figure; a notebook cell shows the PNG."""

    record: FigureRecord | None
    path: Path | None
    message: str = ""

    def _repr_png_(self) -> bytes | None:
        return self.path.read_bytes() if self.path is not None else None

    def _repr_markdown_(self) -> str | None:
        return f"*{self.message}*" if self.path is None else None

    def __repr__(self) -> str:
        if self.record is None:
            return self.message
        return f"Figure {self.record.name}: {self.record.title}"


def display_name(agencies: pd.DataFrame | None, agency: str) -> str:
    """The display name in agencies.csv, or the slug in title case when the agency is not there."""
    if agencies is not None and "agency_slug" in agencies and "display_name" in agencies:
        match = agencies.loc[agencies["agency_slug"] == agency, "display_name"].dropna()
        if len(match) and str(match.iloc[0]).strip():
            return str(match.iloc[0])
    return agency.replace("-", " ").title()


__all__ = ["NoData", "Findings", "ShownFigure", "display_name"]
