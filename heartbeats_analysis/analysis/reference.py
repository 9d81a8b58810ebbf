"""Published figures the brief shows beside its own computations, each with its citation.

These numbers come from reports, not from our data. They are kept here as constants so that a
notebook can print them next to a computed figure (never folded into it) and record them as
``reference.*`` claims that name their source. Values are proportions (0.67 = 67%) or ratios.
Each figure names its row in the project's literature register (``resources/literature.csv``, described in
``docs/evidence.md``): the citation, the stable primary address and the quality grade come from that row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from heartbeats_analysis.report.claims import Claim, ClaimsRegistry

LITERATURE_PATH = Path(__file__).resolve().parents[1] / "resources" / "literature.csv"


@lru_cache(maxsize=1)
def literature_register() -> pd.DataFrame:
    """The project's literature register: one row per source (citation, year, figure, grade, stable URL)."""
    register = pd.read_csv(LITERATURE_PATH, dtype=str, keep_default_na=False)
    if not register["id"].is_unique:
        raise ValueError(f"{LITERATURE_PATH.name}: duplicate source ids")
    return register.set_index("id")


def cite(literature_id: str) -> dict[str, str]:
    """citation, url and quality of one register row, for a ReferenceFigure."""
    row = literature_register().loc[literature_id]
    return {
        "literature_id": literature_id,
        "citation": row["citation"],
        "url": row["url"],
        "quality": f"{row['grade']} ({row['grade_reason']})",
    }


@dataclass(frozen=True)
class ReferenceFigure:
    """One published figure: a point value, a published range, or both."""

    id: str
    label: str
    unit: str
    value: float | None
    citation: str
    url: str
    years: str
    quality: str
    sentence: str
    literature_id: str = ""  # row of resources/literature.csv
    low: float | None = None
    high: float | None = None
    note: str = ""

    @property
    def range(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)


def _doj(
    id: str,
    label: str,
    unit: str,
    value: float,
    years: str,
    sentence: str,
    note: str = "",
) -> ReferenceFigure:
    return ReferenceFigure(
        id=id,
        label=label,
        unit=unit,
        value=value,
        years=years,
        sentence=sentence,
        note=note,
        **cite("doj_2015_ferguson"),
    )


REFERENCE_FIGURES: dict[str, ReferenceFigure] = {
    fig.id: fig
    for fig in [
        _doj(
            "doj_black_population_share",
            "Black share of Ferguson's population (DOJ 2015)",
            "proportion",
            0.67,
            "2010 census, as used in the report",
            "The US Justice Department reported in 2015 that Black residents were 67% of Ferguson's population.",
        ),
        _doj(
            "doj_black_stop_share",
            "Black share of Ferguson PD vehicle stops (DOJ 2015)",
            "proportion",
            0.85,
            "2012-2014",
            "The Justice Department found that 85% of the people Ferguson police stopped in 2012-2014 were Black.",
        ),
        _doj(
            "doj_black_citation_share",
            "Black share of Ferguson PD citations (DOJ 2015)",
            "proportion",
            0.90,
            "2012-2014",
            "The Justice Department found that 90% of citations Ferguson police issued in 2012-2014 went to Black "
            "people.",
        ),
        _doj(
            "doj_black_arrest_share",
            "Black share of Ferguson PD arrests (DOJ 2015)",
            "proportion",
            0.93,
            "2012-2014",
            "The Justice Department found that 93% of people Ferguson police arrested in 2012-2014 were Black.",
        ),
        _doj(
            "doj_black_force_share",
            "Black share of Ferguson PD reported force incidents (DOJ 2015)",
            "proportion",
            0.88,
            "2010-2014 (to August 2014)",
            "The Justice Department found that 88% of the force incidents Ferguson police reported from 2010 to "
            "August 2014 were against Black people; these are the last published figures on non-fatal force in "
            "Ferguson.",
        ),
        _doj(
            "doj_black_search_ratio",
            "Black vs white drivers: likelihood of being searched after a stop (DOJ 2015)",
            "ratio",
            2.07,
            "2012-2014",
            "The Justice Department found that Black drivers stopped by Ferguson police were 2.07 times as likely as "
            "white drivers to be searched.",
        ),
        _doj(
            "doj_black_contraband_less_likely",
            "How much less likely searches of Black drivers were to find contraband (DOJ 2015)",
            "proportion",
            0.26,
            "2012-2014",
            "The Justice Department found that searches of Black drivers in Ferguson were 26% less likely than "
            "searches of white drivers to find contraband.",
        ),
        ReferenceFigure(
            id="bjs_nonfatal_force_share",
            label="US residents with police contact who faced threat or use of force",
            unit="proportion",
            value=0.02,
            years="2018 and 2020",
            **cite("tapp_davis_2022_ppcs"),
            sentence="Nationally, about 2% of residents who had contact with police experienced the threat or use of "
            "non-fatal force (Bureau of Justice Statistics, 2018 and 2020).",
        ),
        ReferenceFigure(
            id="cahoots_diversion_share",
            label="CAHOOTS (Eugene): calls police would otherwise have handled",
            unit="proportion",
            value=None,
            low=0.03,
            high=0.08,
            years="2017-2021",
            **cite("cahoots_eugene"),
            sentence="In Eugene, Oregon, the CAHOOTS crisis teams diverted an estimated 3% to 8% of calls that police "
            "would otherwise have handled.",
        ),
        ReferenceFigure(
            id="cahoots_handled_share",
            label="CAHOOTS (Eugene): share of police call volume handled",
            unit="proportion",
            value=None,
            low=0.15,
            high=0.17,
            years="2017-2021",
            **cite("cahoots_eugene"),
            sentence="CAHOOTS handled 15% to 17% of Eugene police call volume, but most of those calls would not "
            "otherwise have needed an officer.",
        ),
        ReferenceFigure(
            id="denver_star_eligible_share",
            label="Denver STAR: share of 911 calls eligible for a civilian response",
            unit="proportion",
            value=0.028,
            years="2020-2021",
            **cite("denver_star_eligible"),
            sentence="About 2.8% of Denver's 911 calls were eligible for its civilian STAR crisis team.",
        ),
        ReferenceFigure(
            id="stl_bhr_divertible_share",
            label="St. Louis City: 911 calls projected divertible to behavioural health",
            unit="proportion",
            value=0.007,
            years="2020",
            **cite("stl_bhr_2020"),
            sentence="St. Louis City projected that up to 5,000 of its roughly 700,000 yearly 911 calls, about 0.7%, "
            "could be diverted to behavioural-health responders.",
        ),
    ]
}

STOPS_REFERENCE_IDS = (
    "doj_black_population_share",
    "doj_black_stop_share",
    "doj_black_citation_share",
    "doj_black_arrest_share",
    "doj_black_search_ratio",
    "doj_black_contraband_less_likely",
)
FORCE_REFERENCE_IDS = ("doj_black_force_share", "bjs_nonfatal_force_share")
CALLS_REFERENCE_IDS = (
    "cahoots_diversion_share",
    "cahoots_handled_share",
    "denver_star_eligible_share",
    "stl_bhr_divertible_share",
)


def get(ref_id: str) -> ReferenceFigure:
    try:
        return REFERENCE_FIGURES[ref_id]
    except KeyError:
        raise KeyError(f"No reference figure {ref_id!r}; known: {sorted(REFERENCE_FIGURES)}") from None


def reference_table(ids: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The published figures as a table, for display beside (never merged into) our numbers."""
    rows = []
    for ref_id in ids:
        fig = get(ref_id)
        rows.append(
            {
                "id": fig.id,
                "figure": fig.label,
                "value": fig.value,
                "low": fig.low,
                "high": fig.high,
                "unit": fig.unit,
                "years": fig.years,
                "source": fig.citation,
                "url": fig.url,
                "quality": fig.quality,
            }
        )
    return pd.DataFrame(
        rows, columns=["id", "figure", "value", "low", "high", "unit", "years", "source", "url", "quality"]
    )


def reference_claim(ref_id: str, notebook: str | None = None) -> Claim:
    fig = get(ref_id)
    return Claim(
        id=f"reference.{fig.id}",
        value=fig.value,
        unit=fig.unit,
        sentence=fig.sentence,
        interval=fig.range,
        interval_kind="published range" if fig.range else None,
        source=[f"{fig.citation}, {fig.url}"],
        function=f"{__name__}.REFERENCE_FIGURES",
        notebook=notebook,
        flags=["reference"],
    )


def record_references(claims: ClaimsRegistry, ids: tuple[str, ...] | list[str], notebook: str | None = None) -> None:
    """Record published figures as ``reference.*`` claims, flagged so the brief never mixes them with ours."""
    for ref_id in ids:
        claims.add(reference_claim(ref_id, notebook))
