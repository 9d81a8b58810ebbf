"""Analysis functions behind the notebooks: pure functions over processed tables, plus small
``report_*`` functions that draw the figures and record the claims.

This module holds the few result types and notebook helpers every analysis shares:

* :class:`NoData`, the explicit result when an agency has nothing to analyse in a table (most
  agencies that appear only in the Vehicle Stops Report have no FBI UCR rows), so that a notebook
  records a "no data" claim instead of failing;
* :class:`Findings` and :class:`ShownFigure`, what ``report_*`` functions return so that a notebook
  cell shows the recorded sentences or the saved chart (staffing and crime); :func:`show`, what a
  notebook cell displays for a figure function that returns the saved record (stops, force, calls);
* :func:`record_claim`, a claim recorded with the function that computed it;
* :func:`save_table`, a report table written beside the notebook's figures; :func:`every_year` and
  :func:`plot_values`, an agency's yearly series with its gaps kept, as tables and as chart values;
* :func:`display_name`, :func:`listed_name` and :func:`police_of`, the agency's name as the brief
  prints it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from heartbeats_analysis.report.claims import Claim
from heartbeats_analysis.report.style import FigureRecord


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

    def _repr_html_(self) -> str:
        # Sentences carry names from the data (agency names): escape them, never render them as markup.
        items = "".join(f"<li>{html.escape(claim.sentence)}</li>" for claim in self.claims)
        return f"<ul>{items}</ul>"

    def __repr__(self) -> str:
        return "\n".join(f"{claim.id}: {claim.sentence}" for claim in self.claims)


@dataclass(frozen=True)
class ShownFigure:
    """A saved figure; a notebook cell shows the PNG."""

    record: FigureRecord | None
    path: Path | None
    message: str = ""

    @classmethod
    def saved(cls, ctx, record: FigureRecord) -> ShownFigure:
        """A figure save_figure wrote to the notebook's figures folder."""
        return cls(record, ctx.figures_dir / record.png)

    @classmethod
    def no_chart(cls, reason: str) -> ShownFigure:
        """No chart, and why: 'No chart: <reason>.'"""
        return cls(None, None, f"No chart: {reason}.")

    def _repr_png_(self) -> bytes | None:
        return self.path.read_bytes() if self.path is not None else None

    def _repr_html_(self) -> str | None:
        return f"<p><em>{html.escape(self.message)}</em></p>" if self.path is None else None

    def __repr__(self) -> str:
        if self.record is None:
            return self.message
        return f"Figure {self.record.name}: {self.record.title}"


def record_claim(
    ctx, claim_id: str, value, unit: str, sentence: str, function: str, *, module: str, source: list[str], **kw
) -> Claim:
    """Record a claim in the notebook's registry, naming ``module.function`` as where it was computed.

    A module binds its own name and default sources once:
    ``_record = partial(record_claim, module=MODULE, source=SOURCE)``; a call may still pass ``source=``.
    """
    return ctx.claims.record(
        claim_id, value, unit, sentence, source=source, function=f"{module}.{function}", notebook=ctx.notebook, **kw
    )


def show(ctx, figure: FigureRecord | NoData):
    """What a notebook cell displays for a figure function's result: the saved PNG, or the reason
    there is no figure. (Shared by the stops, force and calls notebooks.)"""
    from IPython.display import Image, Markdown

    if isinstance(figure, NoData):
        return Markdown(f"**No figure:** {figure.reason}.")
    return Image(filename=str(ctx.figures_dir / figure.png))


def save_table(ctx, frame: pd.DataFrame, name: str, float_format: str | None = None) -> Path:
    """Write ``frame`` as <tables_dir>/<name>.csv (no index, Unix line ends); returns the path."""
    ctx.tables_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.tables_dir / f"{name}.csv"
    frame.to_csv(path, index=False, lineterminator="\n", float_format=float_format)
    return path


def every_year(rows: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """One agency's rows with a row for every year from its first to ``last_year`` (``agency_slug``
    dropped); a year it did not report is all <NA>, so a gap stays a gap in tables and charts."""
    years = pd.Index(range(int(rows["year"].min()), int(last_year) + 1), name="year")
    return rows.drop(columns="agency_slug").set_index("year").sort_index().reindex(years).reset_index()


def plot_values(series: pd.Series) -> np.ndarray:
    """Values as float64 for matplotlib, a missing value as NaN (a break in a line)."""
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def display_name(agencies: pd.DataFrame | None, agency: str) -> str:
    """The display name in agencies.csv, or the slug in title case when the agency is not there."""
    if agencies is not None and "agency_slug" in agencies and "display_name" in agencies:
        match = agencies.loc[agencies["agency_slug"] == agency, "display_name"].dropna()
        if len(match) and str(match.iloc[0]).strip():
            return str(match.iloc[0])
    return agency.replace("-", " ").title()


def listed_name(agencies: pd.DataFrame, agency: str) -> str:
    """The display name in agencies.csv, or the slug itself when the agency is not there."""
    rows = agencies.loc[agencies["agency_slug"].eq(agency), "display_name"]
    return str(rows.iloc[0]) if len(rows) else agency


def police_of(name: str) -> str:
    """'Ferguson' -> 'Ferguson police'; 'St. Louis County Police Department' -> 'the St. Louis County
    Police Department' (display names of departments already say what they are)."""
    lowered = name.lower()
    if any(word in lowered for word in ("police", "sheriff", "patrol", "department", "dept")):
        return f"the {name}"
    return f"{name} police"


__all__ = [
    "NoData",
    "Findings",
    "ShownFigure",
    "record_claim",
    "show",
    "save_table",
    "every_year",
    "plot_values",
    "display_name",
    "listed_name",
    "police_of",
]
