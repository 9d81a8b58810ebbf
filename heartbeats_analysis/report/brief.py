"""The council brief, rendered as HTML fragments by the 90-brief notebook.

Every number shown comes from the claims registry: a claim's value is printed inside
``<span class="claim" data-claim="ID">`` and its sentence inside ``<span class="claim-sentence"
data-claim="ID">``, so a test can check each against claims.json. Provenance blocks (checksums,
versions, parameters, the data behind each chart) are marked ``class="provenance"``: they are
traceable data rather than findings. Text that comes from data is always escaped.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from IPython.display import HTML

from heartbeats_analysis.build.manifest import read_manifest
from heartbeats_analysis.ingest.registry import load_registry
from heartbeats_analysis.report.claims import Claim, ClaimsRegistry
from heartbeats_analysis.report.html_page import CONTENT_SECURITY_POLICY, CSS_PATH
from heartbeats_analysis.report.notebook_io import NotebookContext
from heartbeats_analysis.report.readability import flesch_kincaid_grade
from heartbeats_analysis.report.style import FigureRecord, load_figure_records

MAX_TABLE_ROWS = 40

SECTIONS = [
    ("staffing", "Staffing", "02-staffing"),
    ("crime", "Crime", "03-crime"),
    ("stops", "Vehicle stops and racial disparities", "04-stops"),
    ("force", "Use of force", "05-force"),
    ("calls", "Calls for service", "06-calls"),
    ("model", "The program model: scenarios and sensitivity", "07-program-model"),
]

FERGUSON_SLUG = "ferguson"
# A source about Ferguson itself (not an author of that name, as in "Koziarski, J., Ferguson, L.")
FERGUSON_SOURCE = re.compile(r"Ferguson(?!, [A-Z]\.)|Consent Decree")
FERGUSON_ONLY_INPUTS = ("doj_", "ferguson_")


def section_intro(ctx: BriefContext, topic: str) -> str:
    """A section's opening paragraph, with the agency's name and only its own history."""
    name = ctx.display_name
    doj = ctx.agency == FERGUSON_SLUG
    intros = {
        "staffing": "How many sworn officers the department has had, compared with similar departments nearby and "
        "with the strength it is authorised to have. Years in which the department sent no report to the FBI are "
        "shown as gaps, not as zero.",
        "crime": "Crimes reported to police, as counts and as rates per thousand residents, compared with "
        "neighbouring departments and the state. The trend models describe changes in reported crime over time; "
        "they show association, not cause.",
        "stops": "Who is stopped, searched, cited and arrested, by race: stops per resident of each group and the "
        "ratio between groups, measured the same way for the department, its neighbours and the state, with "
        "intervals that allow for the census estimates' own error. Residents are not drivers, so these ratios "
        "measure a gap, not its cause."
        + (
            " Published figures from the Justice Department's 2015 report are shown beside our own "
            "calculations, never mixed with them."
            if doj
            else ""
        ),
        "force": "Fatal police force from two national databases. Counts for one small city are very small, so "
        f"rates are shown with wide intervals or not at all. No public count of non-fatal force by {name} police "
        "was found.",
        "calls": f"No call-for-service data was found for {name}. As a stand-in, this section uses 911 call types "
        "from five other US cities to estimate how many calls fall in areas where social-work training matters.",
        "model": "A simulation of the proposal itself: how many officers it could add, what it would cost, and "
        "what outcomes the research supports. The model is run many thousands of times with different plausible "
        "inputs, so each result is a range rather than a single number.",
    }
    return intros[topic]


MICHAEL_BROWN = (
    "In August 2014 Michael Brown, an unarmed Black eighteen-year-old, was shot and killed by a Ferguson police "
    "officer. His death, and the protests that followed, led to the Justice Department's investigation of the "
    "department and to the Consent Decree under which it works today. Mapping Police Violence, which begins in "
    "2013, counts his death among its records; the Washington Post's database begins in 2015. The rates below "
    "are context, not a measure of that loss."
)


# The findings each section leads with; the rest sit under "More findings" (and in the appendix).
SECTION_HEADLINES = {
    "staffing": [
        "latest_sworn",
        "peak_sworn",
        "officers_per_1000_latest",
        "trend_annual_change",
        "gap_to_authorised",
        "missing_years",
    ],
    "crime": [
        "latest_year",
        "violent_rate_latest",
        "property_rate_latest",
        "violent_rr_vs_missouri",
        "property_rr_vs_missouri",
        "violent_rr_post2014",
        "violent_rr_2016_on_vs_trend",
        "peer_violent_rr_post2014",
    ],
    "stops": [
        # the per-resident rate ratios lead when the stops analysis records them (absent ids are skipped)
        "black_white_rate_ratio_latest",
        "hispanic_white_rate_ratio_latest",
        "black_share_stops_latest",
        "black_white_rate_ratio_with_population_error",
        "black_white_rate_ratio_series",
        "peer_black_white_rate_ratio_median",
        "state_black_white_rate_ratio",
        "volume_change",
        "anomaly_count",
        "black_disparity_latest",
        "black_citation_rate_ratio",
        "black_arrest_rate_ratio",
        "black_share_arrests_latest",
        "search_rate_ratio",
        "hit_rate_ratio",
        # the threshold test (08-threshold): the plain explanation with the agency's finding, the state's gap and
        # how far both move across model versions (the agency's gap with its interval and the per-race thresholds
        # are among the section's other findings and on the notebook's appendix page)
        "threshold_explained",
        "threshold_state_black_white_diff",
        "threshold_model_sensitivity",
        "outcome_heterogeneity_p",
        "tests_not_run",
    ],
    "force": [
        "agency_incidents_wapo",
        "agency_incidents_mpv",
        "county_rate_wapo",
        "state_rate_wapo",
        "state_black_white_ratio_wapo",
        "mi_share_mo_wapo_2015_2020",
        "mi_share_us_wapo_2015_2020",
        "mi_share_us_wapo_2021_2023",
        "nonfatal_data",
    ],
    "calls": ["agency_data", "relevant_share_central", "relevant_share_narrow", "relevant_share_broad"],
    "model": [
        "salary_ratio",
        "program_recruits_per_year",
        "added_officers_year5",
        "p_close_gap_year5",
        "p_close_gap_year10",
        "sw_officers_year10",
        "workload_officers_needed",
        "net_cost_per_year_status_quo",
        "incremental_cost_per_year_heartbeats",
        "incremental_cost_per_year_civilian_responder",
        "force_change_heartbeats",
        "force_change_civilian_responder",
        "referrals_change_heartbeats",
        "top_sensitivity",
    ],
}
# Notebooks whose charts join a section besides its own; their diagnostic charts stay in their appendix page.
SECTION_EXTRA_NOTEBOOKS = {"stops": ("08-threshold",)}
APPENDIX_ONLY_FIGURES = {"08-threshold-ppc"}
SECTION_REFERENCES = {
    "stops": [
        "doj_black_population_share",
        "doj_black_stop_share",
        "doj_black_citation_share",
        "doj_black_arrest_share",
        "doj_black_search_ratio",
        "doj_black_contraband_less_likely",
    ],
    "force": ["doj_black_force_share", "bjs_nonfatal_force_share"],
    "calls": [
        "denver_star_eligible_share",
        "cahoots_diversion_share",
        "cahoots_handled_share",
        "stl_bhr_divertible_share",
    ],
}


def proposal_text(ctx: BriefContext) -> str:
    mandate = "the officer shortage the 2016 Consent Decree demands" if ctx.is_ferguson else "officer shortages"
    proposers = "Its backers (Flourishing Ferguson)" if ctx.is_ferguson else "Its backers"
    return (
        "Project Heartbeats proposes to recruit graduates of the University of Missouri-St. Louis School of "
        "Social Work into the police academy, so that trained social workers serve as sworn public safety "
        f"officers. {proposers} say it would fill {mandate}, nearly double a social worker's starting pay, "
        "prevent excessive force, send people in crisis to services instead of fines and jail, reduce the "
        "targeting of Black residents, build trust, and free other officers for other work."
    )


RECOMMENDATIONS = [
    "Treat Heartbeats as one recruiting channel among several, not as the answer to the officer shortage: "
    "set a yearly hiring target and measure it.",
    "Compare it, before funding it, with a civilian crisis-response team of the kind used in Eugene, Oregon and "
    "Denver, which the research supports more directly for calls about mental health, addiction and "
    "homelessness.",
    "Ask the department to publish the data this brief could not find: calls for service by type, non-fatal use "
    "of force, and its starting salary and authorised strength, so that any program can be evaluated.",
    "If the council proceeds, fund it as a pilot with an independent evaluation from the start, with outcomes "
    "defined in advance: use of force, arrests, referrals to services, officer retention and resident trust.",
]

QUESTIONS_FOR_PROPOSERS = [
    "How many University of Missouri-St. Louis social-work graduates have said they would enter the police "
    "academy, and how was that measured?",
    "What would the program cost the city beyond officers' salaries: recruiting, academy sponsorship, "
    "stipends, supervision and licensing?",
    "How would dual roles be supervised, when an officer is both a licensed social worker and sworn to enforce "
    "the law? Who decides which duty comes first on a call?",
    "What outcomes would show that the program works or does not, and who would evaluate it?",
]

QUESTIONS_FOR_DEPARTMENT = [
    "What is the department's current starting salary for a new officer, and its current authorised strength?",
    "How many officers does it serve with today, and how many has it hired and lost in each of the last three years?",
    "Which data will it publish each year so the program can be judged: calls for service by type, non-fatal "
    "use of force, arrests and referrals to services, by race?",
    "How are calls about mental health, addiction and homelessness handled today, and by whom?",
]


def limitations_list(ctx: BriefContext) -> list[str]:
    name = ctx.display_name
    return [
        f"{name} is a small city. Counts of rare events (fatal force, searches of some groups, violent crime in a "
        "single year) are too small to support firm conclusions; intervals are shown and small numbers flagged.",
        "FBI crime and staffing data end several years ago, at different years for each series (see the dates "
        "under the title), and the FBI's 2021 move to a new reporting system breaks comparisons across that year.",
        "Population shares come from the American Community Survey and count residents of all ages; drivers "
        f"stopped in {name} need not live there. Disparity ratios are a screening measure, not proof of bias.",
        "No evaluation of sworn police officers holding social-work degrees was found. The model borrows "
        "effect sizes from crisis intervention training and co-responder studies, which may not transfer.",
        "Several model inputs, including the number of graduates interested in policing, have no published "
        "source and are labelled as assumptions with wide ranges.",
    ]


@dataclass
class BriefContext:
    agency: str
    display_name: str
    build_dir: Path
    claims: ClaimsRegistry
    figures: list[FigureRecord]
    manifest: dict
    shown_tables: list[tuple[FigureRecord, str]] = field(default_factory=list)

    @classmethod
    def load(cls, build_dir: str | Path, agency: str) -> BriefContext:
        notebook = NotebookContext.for_notebook(build_dir, "90-brief", agency)
        claims = ClaimsRegistry()
        for path in sorted(notebook.claims_dir.glob("*.json")):
            if path.stem != "90-brief":  # the brief's own claims from an earlier run
                claims.merge(ClaimsRegistry.load(path))
        manifest_path = notebook.build_dir / "manifest.json"
        manifest = read_manifest(manifest_path) if manifest_path.is_file() else {}
        display_name = manifest.get("agency_display_name", agency)
        return cls(
            agency, display_name, notebook.build_dir, claims, load_figure_records(notebook.figures_dir), manifest
        )

    @property
    def is_ferguson(self) -> bool:
        return self.agency == FERGUSON_SLUG

    def get(self, claim_id: str) -> Claim | None:
        return self.claims[claim_id] if claim_id in self.claims else None  # noqa: SIM401 (no .get)

    def number(self, claim_id: str) -> Claim | None:
        """The claim, if it exists and has a value (an agency without the data gets a claim with value None)."""
        claim = self.get(claim_id)
        return claim if claim is not None and claim.value is not None else None

    def with_prefix(self, prefix: str) -> list[Claim]:
        return [c for c in sorted(self.claims, key=lambda c: c.id) if c.id.startswith(prefix + ".")]


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def format_number(value: float | int | str | None, unit: str = "") -> str:
    """The one way a claim's number is printed (the brief test formats claims.json the same way)."""
    if value is None:
        return "not available"
    if isinstance(value, str):
        return value
    unit = unit.lower()
    if unit in {"percent", "%"}:
        return f"{value:.1f}%" if abs(value) < 10 else f"{value:.0f}%"
    if unit.startswith(("share", "proportion", "probability")):
        return f"{100 * value:.0f}%"
    if unit in {"usd", "dollars", "$"} or unit.startswith("usd"):
        if abs(value) >= 1e6:
            return f"${value / 1e6:.2f} million"
        # Model costs are estimates: three significant figures, as the sentences give them.
        return f"${round(value, -3):,.0f}" if abs(value) >= 1e4 else f"${value:,.0f}"
    if isinstance(value, int) or float(value).is_integer() or "officers" in unit:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def claim_value_html(claim: Claim) -> str:
    text = format_number(claim.value, claim.unit)
    return f'<span class="claim" data-claim="{esc(claim.id)}">{esc(text)}</span>'


def claim_sentence_html(claim: Claim) -> str:
    flag = ""
    if "small_cell" in claim.flags:
        flag = ' <span class="flag">(small numbers: read with caution)</span>'
    return f'<span class="claim-sentence" data-claim="{esc(claim.id)}">{esc(claim.sentence)}</span>{flag}'


def claim_bound_html(claim: Claim, index: int) -> str:
    """One end of a claim's interval, printed the way the value is (checked against claims.json)."""
    assert claim.interval is not None
    text = format_number(claim.interval[index], claim.unit)
    bound = "low" if index == 0 else "high"
    return f'<span class="claim-bound" data-claim="{esc(claim.id)}" data-bound="{bound}">{esc(text)}</span>'


def interval_words(claim: Claim) -> str:
    """The interval in words a council member reads: which kind it is and what it spans."""
    if claim.interval is None:
        return ""
    low, high = claim_bound_html(claim, 0), claim_bound_html(claim, 1)
    kind = (claim.interval_kind or "").lower()
    if "simulation" in kind or "draws" in kind:
        return f"90% of model runs: {low} to {high}"
    if "ci" in kind.split() or "confidence" in kind:
        return f"95% confidence interval from the data: {low} to {high}"
    return f"range {low} to {high}"


# Where a model change has a claim for today's level, the brief prints it beside the change.
BASELINE_IDS = {
    "model.force_change_heartbeats": ("model.force_status_quo_per_year", "model.force_baseline_per_year"),
    "model.force_change_civilian_responder": ("model.force_status_quo_per_year", "model.force_baseline_per_year"),
    "model.referrals_change_heartbeats": ("model.referrals_status_quo_per_year", "model.referrals_baseline_per_year"),
    "model.referrals_change_civilian_responder": (
        "model.referrals_status_quo_per_year",
        "model.referrals_baseline_per_year",
    ),
    "model.arrests_change_heartbeats": ("model.arrests_status_quo_per_year", "model.arrests_baseline_per_year"),
}


def change_with_baseline(ctx: BriefContext, claim_id: str, what: str, counted: str) -> str:
    """'Use of force: -0.52 incidents a year, out of about N a year today (90% of model runs: L to H)' (the baseline
    only when a claim gives it, the range when the claim has one);
    `counted` names what the number counts, which the claims' unit ('per year') does not."""
    claim = ctx.number(claim_id)
    if claim is None:
        return ""
    base = next((ctx.number(i) for i in BASELINE_IDS.get(claim_id, ()) if ctx.number(i) is not None), None)
    tail = f", out of about {claim_value_html(base)} a year today" if base is not None else " against today's level"
    words = interval_words(claim)  # a modelled change is read with its range, never as a point alone
    return f"{what} {claim_value_html(claim)} {counted} a year{tail}" + (f" ({words})" if words else "")


def value_with_interval(ctx: BriefContext, claim_id: str) -> str:
    claim = ctx.number(claim_id)
    if claim is None:
        return ""
    words = interval_words(claim)
    return claim_value_html(claim) + (f" ({words})" if words else "")


def _html(fragment: str) -> HTML:
    return HTML(fragment)


# ---------------------------------------------------------------- page 1: bottom line, options, verdicts

SOURCE_GROUPS = [
    # (registry path prefix, what the council calls it)
    ("vsr/", "vehicle stops"),
    ("ucr/police/", "FBI staffing"),
    ("ucr/offenses", "FBI crime"),
    ("ucr/arrests/", "FBI arrests"),
    ("acs/", "population"),
    ("force/wapo", "fatal shootings"),
    ("force/mapping", "police killings"),
    ("force/Missouri", "county use of force"),
    ("cfs/", "911 calls (other cities)"),
    ("bls/", "wages"),
]


def data_as_of_by_source() -> list[tuple[str, str]]:
    """Each source's latest period, from the data registry's data_through (one date is wrong for most sources)."""
    latest: dict[str, str] = {}
    for entry in load_registry():
        for prefix, label in SOURCE_GROUPS:
            if entry.path.startswith(prefix) and entry.data_through:
                latest[label] = max(latest.get(label, ""), str(entry.data_through)[:7])  # year or year-month
                break
    return [(label, latest[label]) for _, label in SOURCE_GROUPS if label in latest]


def title_block(ctx: BriefContext) -> HTML:
    dates = "; ".join(f"{esc(label)} {esc(period)}" for label, period in data_as_of_by_source())
    return _html(
        f"<h1>Project Heartbeats: what the evidence says</h1>"
        f'<p class="subtitle">An evidence brief for the City Council of {esc(ctx.display_name)}, Missouri.</p>'
        f'<p class="as-of provenance">Data as of: {dates}.</p>'
    )


VERDICT_DEFINITIONS = [
    ("supported", "local data or good research show the claim holds."),
    ("partly supported", "the evidence backs part of the claim, or backs it weakly."),
    ("not supported", "the evidence shows the claim does not hold."),
    ("unproven", "it may hold, but no good study or local data shows it."),
    ("no evidence either way", "nothing found speaks to the claim, for or against."),
]

BASIS_WORDS = {
    "local data": "local data",
    "research evidence": "research",
    "model assumption": "model assumption",
}


def verdict_counts(ctx: BriefContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    for claim in _in_proposal_order(ctx, "scorecard_summary"):
        counts[str(claim.value)] = counts.get(str(claim.value), 0) + 1
    return counts


NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _in_words(n: int) -> str:
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)


def bottom_line_html(ctx: BriefContext) -> str:
    """Two or three sentences on the proposal as a whole; each clause needs its claims, or is left out."""
    sentences = []
    counts = verdict_counts(ctx)
    total = sum(counts.values())
    if total:
        strong = counts.get("supported", 0)
        partly = counts.get("partly supported", 0)
        against = counts.get("not supported", 0)
        open_ = total - strong - partly - against
        parts = [
            f"{_in_words(n)} {'is' if n == 1 else 'are'} {label}"
            for n, label in (
                (partly, "partly supported"),
                (against, "not supported"),
                (open_, "unproven or without evidence either way"),
            )
            if n
        ]
        lead = (
            f"{_in_words(strong)} {'is' if strong == 1 else 'are'} supported" if strong else "none is fully supported"
        )
        listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + (parts[-1] if parts else "")
        sentences.append(f"Of the proposal's {_in_words(total)} claims, {lead}; {listed}.")
    added, gap, cost = (
        ctx.number("model.added_officers_year5"),
        ctx.number("staffing.gap_to_authorised"),
        ctx.number("model.incremental_cost_per_year_heartbeats"),
    )
    if added is not None and cost is not None:
        against_gap = f", against {claim_value_html(gap)} vacant posts" if gap is not None else ""
        sentences.append(
            f"As a way to recruit, it could add about {claim_value_html(added)} officers by year 5"
            f"{against_gap}. It would cost about {claim_value_html(cost)} a year more than today."
        )
    sentences.append(
        "No study has tested sworn officers with social-work degrees. So its effect on force, arrests, racial "
        "gaps and trust is not known. A pilot with an independent evaluation, or a civilian crisis team, would "
        "be the surer way to learn."
    )
    return " ".join(sentences)


def bottom_line(ctx: BriefContext) -> HTML:
    return _html(f'<h2 id="bottom-line">The bottom line</h2><p class="bottom-line">{bottom_line_html(ctx)}</p>')


def _option_rows(ctx: BriefContext) -> list[tuple[str, str, str, str]]:
    """(option, extra cost a year, what it would deliver, how sure we are) from the claims at hand."""
    rows = []
    gap = ctx.number("staffing.gap_to_authorised")
    gap_text = f", against {claim_value_html(gap)} vacant posts" if gap is not None else ""
    added = value_with_interval(ctx, "model.added_officers_year5")
    effects = [
        change_with_baseline(ctx, "model.force_change_heartbeats", "Use of force:", "incidents"),
        change_with_baseline(ctx, "model.referrals_change_heartbeats", "referrals to services:", "referrals"),
    ]
    effects_text = "; ".join(e for e in effects if e)
    rows.append(
        (
            "Fund as proposed",
            value_with_interval(ctx, "model.incremental_cost_per_year_heartbeats") or "Not estimated",
            (_added_officers_text(ctx) + gap_text + "." if added else "Officers added: not estimated.")
            + (f" {effects_text}." if effects_text else ""),
            "Low. No study of this kind of program exists; officer numbers rest on a guess about graduates' interest.",
        )
    )
    rows.append(
        (
            "Pilot with an evaluation",
            "Part of the full cost: a first small group and an evaluator (not costed here)",
            "Real numbers on interest, hiring, retention, force and referrals before a long commitment.",
            "High that it answers the open questions; it fills few vacancies by itself.",
        )
    )
    civ = [
        change_with_baseline(ctx, "model.force_change_civilian_responder", "Use of force:", "incidents"),
        change_with_baseline(ctx, "model.referrals_change_civilian_responder", "referrals to services:", "referrals"),
    ]
    civ_text = "; ".join(e for e in civ if e)
    rows.append(
        (
            "Civilian crisis team",
            value_with_interval(ctx, "model.incremental_cost_per_year_civilian_responder") or "Not estimated",
            "Trained civilians answer calls about mental health, addiction and homelessness; no new officers."
            + (f" {civ_text[0].upper() + civ_text[1:]}." if civ_text else ""),
            "Moderate. Such teams in Eugene, Oregon and Denver have been studied, but in large cities.",
        )
    )
    sq_close = ctx.number("model.p_close_gap_year5_status_quo")
    rows.append(
        (
            "Decline",
            "None beyond today's spending",
            "Hiring goes on at today's pace"
            + gap_text
            + (
                f"; full strength by year 5 in {claim_value_html(sq_close)} of model runs."
                if sq_close is not None
                else "."
            ),
            "As sure as today's hiring record; the open questions stay open.",
        )
    )
    return rows


def _added_officers_text(ctx: BriefContext) -> str:
    claim = ctx.number("model.added_officers_year5")
    words = interval_words(claim)
    return f"About {claim_value_html(claim)} more officers by year 5" + (f" ({words})" if words else "")


def options(ctx: BriefContext) -> HTML:
    rows = "".join(
        f"<tr><th scope='row'>{esc(name)}</th><td>{cost}</td><td>{delivers}</td><td>{esc(sure)}</td></tr>"
        for name, cost, delivers, sure in _option_rows(ctx)
    )
    return _html(
        '<h2 id="options">The options before the council</h2>'
        '<p class="small">Costs are extra spending a year over today\'s, averaged over ten years. The model was run '
        'thousands of times with different plausible inputs; "90% of model runs" gives the range where nine runs in '
        "ten fell.</p>"
        '<table class="options"><thead><tr><th>Option</th><th>Extra cost a year</th><th>What it would deliver</th>'
        f"<th>How sure we are</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def verdict_basis(ctx: BriefContext, slug: str) -> str:
    """What a verdict rests on, as the model recorded it (a basis claim, or a 'basis:' flag), else ''."""
    for claim_id in (f"scorecard_basis.{slug}", f"scorecard.{slug}_basis"):
        claim = ctx.get(claim_id)
        if claim is not None and claim.value:
            return str(claim.value)
    for prefix in ("scorecard", "scorecard_summary"):
        claim = ctx.get(f"{prefix}.{slug}")
        if claim is None:
            continue
        for flag in claim.flags:
            if flag.startswith("basis:"):
                return flag.split(":", 1)[1].strip()
    return _basis_from_sources(ctx, slug)


def _basis_from_sources(ctx: BriefContext, slug: str) -> str:
    """Until the model records a basis, read it off the sources the verdict cites: the brief's own analysis is
    local data, a register row graded 'assumption' is a model assumption, a graded row is research."""
    from heartbeats_analysis.paths import RESOURCES_DIR

    claim = ctx.get(f"scorecard.{slug}")
    path = RESOURCES_DIR / "assumptions.csv"
    if claim is None or not path.is_file():
        return ""
    with open(path, newline="", encoding="utf-8") as fh:
        register = [(row["source"].strip(), row["quality"].strip()) for row in csv.DictReader(fh)]
    kinds: list[str] = []
    grades: list[str] = []
    for source in claim.source:
        if source.startswith("claim "):
            kinds.append("local data")
            continue
        quality = next((q for text, q in register if text and source.startswith(text)), "")
        if quality.lower() == "assumption":
            kinds.append("model assumption")
        elif quality:
            kinds.append("research")
            grades.append(quality[0].upper())
    words = []
    if "research" in kinds:
        words.append(f"research ({min(grades)})")
    words += [k for k in ("local data", "model assumption") if k in kinds]
    return "; ".join(words)


def _claim_text(slug: str) -> str:
    from heartbeats_analysis.model.scorecard import PROPOSAL_CLAIMS

    return next((c.text for c in PROPOSAL_CLAIMS if c.slug == slug), slug.replace("_", " ").capitalize())


def verdict_definitions_html() -> str:
    return "; ".join(
        f'<strong class="verdict {esc(_verdict_css_word(word))}">{esc(word)}</strong>: {esc(meaning[:-1])}'
        for word, meaning in VERDICT_DEFINITIONS
    )


def verdicts(ctx: BriefContext) -> HTML:
    """Page 1: each claim's verdict and what it rests on, with the verdict words defined."""
    rows = []
    for claim in _in_proposal_order(ctx, "scorecard_summary"):
        slug = claim.id.split(".", 1)[1]
        rows.append(
            f"<tr><td>{esc(_claim_text(slug))}</td>"
            f'<td class="verdict {esc(_verdict_css(claim))}">{claim_value_html(claim)}</td>'
            f"<td>{esc(verdict_basis(ctx, slug) or 'not recorded in this build')}</td></tr>"
        )
    table = (
        '<table class="verdicts glance"><thead><tr><th>What the backers claim</th><th>Verdict</th>'
        f"<th>Rests on</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>The claims were not judged in this build.</p>"
    )
    return _html(
        '<h2 id="verdicts">The claims, one by one</h2>'
        f'<p class="small">{verdict_definitions_html()}. "Rests on": <strong>local data</strong>, '
        "<strong>research</strong> from elsewhere (grade A, strongest, to D), or a <strong>model assumption</strong> "
        'where no source was found; an assumption alone never earns "supported".</p>' + table
    )


# Model words a claim sentence may use, explained where they first appear (pages 1-3 carry no unexplained jargon).
GLOSSARY = {
    "simulated future": "one run of the model with one plausible set of inputs",
    "simulated draws": "runs of the model, each with one plausible set of inputs",
    "officer equivalents": "the working hours of that many full-time officers",
    "COPS Office method": "the workload-based staffing method published by the US Justice Department's community "
    "policing office",
    "status quo": "the city going on as today, without the program",
    "rate ratio": "how many times one group's rate is another's",
}


def glossary_note(sentences: list[str]) -> str:
    """A small note explaining the glossary terms these sentences use, or ''."""
    text = " ".join(sentences)
    used = [(term, meaning) for term, meaning in GLOSSARY.items() if term.lower() in text.lower()]
    if not used:
        return ""
    items = "; ".join(f"<em>{esc(term)}</em>: {esc(meaning)}" for term, meaning in used)
    return f'<p class="small glossary">Words used here: {items}.</p>'


def findings(ctx: BriefContext) -> HTML:
    """Page 2: what was found for each claim, in a sentence or two."""
    claims = _in_proposal_order(ctx, "scorecard_summary")
    if not claims:
        return _html("")
    items = "".join(f"<li>{claim_sentence_html(c)}</li>" for c in claims)
    note = glossary_note([c.sentence for c in claims])
    return _html(f'<h2 id="findings">What we found, claim by claim</h2>{note}<ul class="findings">{items}</ul>')


def recommendations(ctx: BriefContext) -> HTML:
    items = "".join(f"<li>{esc(r)}</li>" for r in RECOMMENDATIONS)
    return _html(f'<h2 id="recommendations">Recommendations</h2><ol>{items}</ol>')


def questions(ctx: BriefContext) -> HTML:
    proposers = "the proposers (Flourishing Ferguson)" if ctx.is_ferguson else "the proposers"
    return _html(
        '<h2 id="questions">Questions to ask before a vote</h2>'
        f"<h3>For {esc(proposers)}</h3><ul>"
        + "".join(f"<li>{esc(q)}</li>" for q in QUESTIONS_FOR_PROPOSERS)
        + f"</ul><h3>For the {esc(ctx.display_name)} Police Department</h3><ul>"
        + "".join(f"<li>{esc(q)}</li>" for q in QUESTIONS_FOR_DEPARTMENT)
        + "</ul>"
    )


def executive_summary(ctx: BriefContext) -> HTML:
    """The proposal in its backers' words, and what it would take and cost (the detail behind page 1)."""
    take_ids = ["model.p_close_gap_year5", "model.sw_officers_year10", "model.workload_officers_needed"]
    cost_ids = ["model.incremental_cost_per_year_heartbeats", "model.incremental_cost_per_year_civilian_responder"]
    shown = [ctx.get(i).sentence for i in take_ids + cost_ids if ctx.get(i) is not None]
    return _html(
        '<h2 id="summary">The proposal in detail</h2>'
        f"<h3>What the proposal claims</h3><p>{esc(proposal_text(ctx))}</p>"
        f"{glossary_note(shown)}"
        f"<h3>What it would take</h3>{_sentences(ctx, take_ids)}"
        f"<h3>What it would cost</h3>{_sentences(ctx, cost_ids)}"
    )


def executive_summary_text(ctx: BriefContext) -> str:
    """Plain text of the summary (bottom line, proposal, verdicts), for the readability score."""
    bottom = re.sub(r"<[^>]+>", "", bottom_line_html(ctx))
    parts = [html.unescape(bottom), proposal_text(ctx)]
    parts += [c.sentence for c in _in_proposal_order(ctx, "scorecard_summary")]
    return " ".join(parts)


def readability(ctx: BriefContext, notebook: NotebookContext | None = None) -> HTML:
    """Flesch-Kincaid grade of the summary, recorded as a claim and printed by the build."""
    grade = round(flesch_kincaid_grade(executive_summary_text(ctx)), 1)
    claim = Claim(
        id="brief.readability_grade",
        value=grade,
        unit="grade level",
        sentence=f"The summary reads at about US school grade {grade:.1f} on a standard reading-ease formula "
        "(Flesch-Kincaid).",
        source=["brief summary text"],
        function="heartbeats_analysis.report.brief.readability",
        notebook="90-brief",
    )
    ctx.claims.add(claim)
    if notebook is not None:
        notebook.claims.add(claim)
    return _html(f'<p class="note">{claim_sentence_html(claim)}</p>')


KEY_NUMBER_IDS = [
    "staffing.latest_sworn",
    "staffing.gap_to_authorised",
    "model.salary_ratio",
    "model.p_close_gap_year5",
    "calls.relevant_share_central",
    "stops.black_white_rate_ratio_latest",
    "stops.black_share_stops_latest",
    "model.workload_officers_needed",
    "model.incremental_cost_per_year_heartbeats",
]
# A newer headline measure replaces an older one when both are present.
KEY_NUMBER_SUPERSEDES = {"stops.black_white_rate_ratio_latest": "stops.black_share_stops_latest"}


def key_number_ids(ctx: BriefContext) -> list[str]:
    present = [i for i in KEY_NUMBER_IDS if ctx.get(i) is not None]
    dropped = {old for new, old in KEY_NUMBER_SUPERSEDES.items() if new in present}
    return [i for i in present if i not in dropped]


def key_numbers(ctx: BriefContext) -> HTML:
    boxes = []
    for claim_id in key_number_ids(ctx):
        claim = ctx.get(claim_id)
        value = claim_value_html(claim).replace('class="claim"', 'class="claim value"', 1)
        boxes.append(f'<div class="key-number">{value}<span class="label">{claim_sentence_html(claim)}</span></div>')
    body = "".join(boxes) or "<p>No key numbers were produced in this build.</p>"
    return _html(f'<h2 id="key-numbers">Key numbers</h2><div class="key-numbers">{body}</div>')


def scorecard(ctx: BriefContext) -> HTML:
    sources: list[str] = []
    rows = []
    for claim in _scorecard_claims(ctx):
        numbers = []
        for source in claim.source:
            source = _public_source(source)
            if source not in sources:
                sources.append(source)
            if sources.index(source) + 1 not in numbers:  # two claims from one analysis share one source
                numbers.append(sources.index(source) + 1)
        refs = ", ".join(f"[{n}]" for n in numbers)
        rows.append(
            f"<tr><td>{esc(_claim_title(claim))}</td>"
            f'<td class="verdict {esc(_verdict_css(claim))}">{claim_value_html(claim)}</td>'
            f'<td>{claim_sentence_html(claim)} <span class="provenance refs">Sources: {esc(refs)}</span></td></tr>'
        )
    if not rows:
        return _html('<h2 id="scorecard">Claims scorecard</h2><p>The scorecard was not produced in this build.</p>')
    listing = "".join(f"<li>{esc(source)}</li>" for source in sources)
    return _html(
        '<h2 id="scorecard">Claims scorecard</h2><p>Each claim made for the proposal, the verdict the evidence '
        "supports (the words are defined on the first page), and the numbers behind it.</p>"
        '<table class="scorecard"><thead><tr><th>Claim</th><th>Verdict</th><th>What the evidence shows</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<details class="provenance sources" open><summary>Sources for the scorecard</summary>'
        f"<ol>{listing}</ol></details>"
    )


def section(ctx: BriefContext, topic: str) -> HTML:
    """Headline findings, published reference figures (kept apart), the charts, and the other findings."""
    title, notebook = next((t, nb) for key, t, nb in SECTIONS if key == topic)
    claims = [c for c in ctx.with_prefix(topic) if not c.id.startswith("scorecard")]
    wanted = [f"{topic}.{name}" for name in SECTION_HEADLINES.get(topic, [])]
    headline = [ctx.get(i) for i in wanted if ctx.get(i) is not None] or claims
    # Where each model input came from is provenance for reviewers (it names internal claim ids), not a finding.
    inputs = [c for c in claims if c not in headline and c.unit == "source"]
    others = [c for c in claims if c not in headline and c not in inputs]
    parts = [f'<h2 id="{esc(topic)}">{esc(title)}</h2>', f"<p>{esc(section_intro(ctx, topic))}</p>"]
    if topic == "force" and ctx.is_ferguson:
        parts.append(f'<p class="remembrance">{esc(MICHAEL_BROWN)}</p>')
    if headline:
        parts.append("<ul>" + "".join(f"<li>{claim_sentence_html(c)}</li>" for c in headline) + "</ul>")
    else:
        parts.append('<p class="note">This part of the analysis did not run for this agency.</p>')
    references = [ctx.get(f"reference.{name}") for name in SECTION_REFERENCES.get(topic, [])]
    references = [c for c in references if c is not None]
    if references:
        parts.append(
            '<div class="note"><strong>Published figures for comparison</strong> (cited, not computed here):<ul>'
            + "".join(f"<li>{claim_sentence_html(c)}</li>" for c in references)
            + "</ul></div>"
        )
    notebooks = {notebook, *SECTION_EXTRA_NOTEBOOKS.get(topic, ())}
    for record in (r for r in ctx.figures if r.notebook in notebooks and r.name not in APPENDIX_ONLY_FIGURES):
        parts.append(figure_html(ctx, record))
    if others:
        parts.append(
            '<details class="screen-only"><summary>More findings from this analysis</summary><ul>'
            + "".join(f"<li>{claim_sentence_html(c)}</li>" for c in others)
            + "</ul></details>"
        )
    if inputs:
        parts.append(
            '<details class="screen-only provenance"><summary>Where the model\'s inputs come from</summary><ul>'
            + "".join(f"<li>{claim_sentence_html(c)}</li>" for c in inputs)
            + "</ul></details>"
        )
    return _html("".join(parts))


def figure_html(ctx: BriefContext, record: FigureRecord) -> str:
    image = (ctx.build_dir / "figures" / record.png).read_bytes()
    encoded = base64.b64encode(image).decode("ascii")
    table = data_table_html(ctx.build_dir / "figures" / record.data_csv, record.data_csv)
    ctx.shown_tables.append((record, table))
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{esc(record.alt_text)}">'
        f'<figcaption>{esc(record.title)}. <span class="provenance">Made by '
        f'<a href="appendix/{esc(record.notebook)}.html">{esc(record.notebook)}</a>, '
        f"<code>{esc(record.function)}</code>; data: appendix/figures/{esc(record.data_csv)}.</span>"
        f"</figcaption></figure>"
        f'<details class="screen-only provenance"><summary>Data behind this chart</summary>{table}</details>'
    )


def data_table_html(path: Path, name: str) -> str:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return "<p>(no data)</p>"
    header, body = rows[0], rows[1:]
    shown = body[:MAX_TABLE_ROWS]
    head = "".join(f"<th>{esc(readable_column(h))}</th>" for h in header)
    lines = "".join("<tr>" + "".join(f"<td>{esc(print_cell(v))}</td>" for v in row) + "</tr>" for row in shown)
    note = ""
    if len(body) > len(shown):
        note = f"<p>First {len(shown)} of {len(body)} rows; all rows are in appendix/figures/{esc(name)}.</p>"
    return f'<table class="figure-data"><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>{note}'


def limitations(ctx: BriefContext) -> HTML:
    items = "".join(f"<li>{esc(r)}</li>" for r in limitations_list(ctx))
    return _html(f"<h2>Limitations</h2><ul>{items}</ul>")


def methods_and_sources(ctx: BriefContext) -> HTML:
    rows = "".join(
        f'<tr><td>{esc(e.path)}<br><code class="hash">sha256 {esc(e.sha256)}</code></td><td>{esc(e.publisher)}</td>'
        f"<td>{esc(e.license)}</td><td>{esc(_years(e))}</td></tr>"
        for e in load_registry()
    )
    literature = _literature_rows(ctx)
    return _html(
        '<h2 id="methods">Methods and sources</h2><div class="provenance">'
        "<p>Every raw file is fetched from its upstream address (pinned to a commit) or a local mirror and "
        "checked against the checksum below before anything is built. Processed tables, figure data and the "
        "executed notebooks with their code are in the technical appendix (the <code>appendix/</code> folder "
        "beside this brief).</p>"
        '<h3>Datasets</h3><table class="sources-table datasets"><thead><tr><th>File and checksum</th><th>Publisher</th>'
        f"<th>Licence</th><th>Covers to</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<h3>Research literature and published figures</h3>{literature}</div>"
    )


def how_made(ctx: BriefContext) -> HTML:
    m = ctx.manifest
    versions = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in sorted(m.get("package_versions", {}).items())
    )
    params = esc(json.dumps(m.get("parameters", {}), indent=2, sort_keys=True))
    return _html(
        '<h2>How this report was made</h2><div class="provenance">'
        f"<p>Git commit: <code>{esc(m.get('git_commit', 'unknown'))}</code><br>"
        f"Data registry sha256: <code>{esc(m.get('data_registry_sha256', 'unknown'))}</code><br>"
        f"Build command: <code>{esc(m.get('build_command', ''))}</code></p>"
        f'<h3>Parameters</h3><pre class="code">{params}</pre>'
        f"<h3>Package versions</h3><table><tbody>{versions}</tbody></table></div>"
    )


def chart_data_appendix(ctx: BriefContext) -> HTML:
    """In print, the collapsible data tables move here, after the main text."""
    parts = [f"<h3>{esc(record.title)}</h3>{table}" for record, table in ctx.shown_tables]
    return _html(
        '<section class="print-only provenance"><h2 class="page-break">Appendix: data behind each chart</h2>'
        + "".join(parts)
        + "</section>"
    )


# ---------------------------------------------------------------- helpers


def _scorecard_claims(ctx: BriefContext) -> list[Claim]:
    return _in_proposal_order(ctx, "scorecard")


def _in_proposal_order(ctx: BriefContext, prefix: str) -> list[Claim]:
    """The proposal's claims in the order its backers make them (the model's scorecard order)."""
    from heartbeats_analysis.model.scorecard import PROPOSAL_CLAIMS

    order = {f"{prefix}.{claim.slug}": i for i, claim in enumerate(PROPOSAL_CLAIMS)}
    return sorted(ctx.with_prefix(prefix), key=lambda c: (order.get(c.id, len(order)), c.id))


def _verdict_css(claim: Claim) -> str:
    return _verdict_css_word(str(claim.value))


def _verdict_css_word(word: str) -> str:
    return "verdict-" + word.lower().replace(" ", "-")


def _public_source(source: str) -> str:
    """A source as the council reads it: no internal claim ids, no notes files outside the project."""
    # "compiled in ../notes/NOTES.md section 6", "(NOTES.md sections 5 and 9)": research notes a clone does not have
    outside_note = r";?\s*(?:compiled in |see )?[\w./-]*\b[A-Z][A-Z_]+\.md(?: sections?(?:,? (?:and )?\d+)+)?"
    source = re.sub(outside_note, "", source)
    source = re.sub(r"\(\s*[;,]?\s*\)", "", source)
    source = re.sub(r"\s+([.;,])", r"\1", re.sub(r"\s{2,}", " ", source))
    if source.startswith("claim "):
        topic = source.split()[1].split(".")[0]
        title = next((t for key, t, _ in SECTIONS if key == topic), topic)
        return f"This brief's own analysis: see the {title.lower()} section"
    return source.strip()


def _claim_title(claim: Claim) -> str:
    return claim.id.split(".", 1)[1].replace("_", " ").capitalize()


def _sentences(ctx: BriefContext, ids: list[str]) -> str:
    found = [ctx.get(i) for i in ids]
    items = "".join(f"<li>{claim_sentence_html(c)}</li>" for c in found if c is not None)
    return f"<ul>{items}</ul>" if items else "<p>Not estimated in this build.</p>"


def _years(entry) -> str:
    return entry.data_through


def _literature_rows(ctx: BriefContext) -> str:
    """The project's literature register, then the model inputs with the source each rests on."""
    from heartbeats_analysis.paths import RESOURCES_DIR

    parts = []
    literature = RESOURCES_DIR / "literature.csv"
    if literature.is_file():
        with open(literature, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not ctx.is_ferguson:  # sources about Ferguson itself belong in Ferguson's brief
            rows = [r for r in rows if not FERGUSON_SOURCE.search(r["citation"] + " " + r["figure"])]
        body = "".join(
            f"<tr><td>{esc(r['citation'])} {esc(r['url'])}</td>"
            f"<td>{esc(r['figure'])}</td><td>{esc(r['grade'])}: {esc(r['grade_reason'])}</td></tr>"
            for r in rows
        )
        parts.append(
            '<table class="sources-table literature"><thead><tr><th>Source</th><th>What it gives</th>'
            f"<th>Quality</th></tr></thead><tbody>{body}</tbody></table>"
        )
    # the inputs this run used (agency facts filled in or left blank when unknown), else the register
    used = ctx.build_dir / "tables" / "model_assumptions_used.csv"
    path = used if used.is_file() else RESOURCES_DIR / "assumptions.csv"
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not ctx.is_ferguson:  # the DOJ's findings and Ferguson's budgets are Ferguson facts
            rows = [r for r in rows if not r.get("id", "").startswith(FERGUSON_ONLY_INPUTS)]
        notes = _input_notes(ctx.build_dir / "tables" / "model_input_provenance.csv")
        body = "".join(
            f"<tr><td>{esc(r.get('description', r.get('id', '')))}</td>"
            f"<td>{esc(_input_value(r))}</td>"
            f"<td>{esc(_public_source(r.get('source', '')))} {esc(r.get('url', ''))}"
            + (f"<br><em>In this build:</em> {esc(notes[r.get('id', '')])}" if notes.get(r.get("id", "")) else "")
            + f"</td><td>{esc(r.get('quality', ''))}</td></tr>"
            for r in rows
        )
        parts.append(
            "<h3>Model inputs and their sources</h3>"
            '<table class="sources-table inputs"><thead><tr><th>Input</th><th>Central (low to high)</th>'
            f"<th>Source</th><th>Quality</th></tr></thead><tbody>{body}</tbody></table>"
        )
    return "".join(parts) or "<p>The literature register is not available in this build.</p>"


def _input_value(row: dict) -> str:
    """A model input as the inputs table prints it: central (low to high) unit, or "unknown" for an agency fact
    this build has no value for (the run blanks its numbers)."""
    if not row.get("central", "").strip():
        return "unknown"
    low, central, high = (print_cell(row.get(column, "")) for column in ("low", "central", "high"))
    return f"{central} ({low} to {high}) {row.get('unit', '')}".strip()


def _input_notes(path: Path) -> dict[str, str]:
    """What the run did with each agency fact (model_input_provenance.csv): the value's origin when it was scaled
    or is unknown, so that a reader sees why a number differs from its source's."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        notes = {row["parameter"]: row["note"].strip() for row in csv.DictReader(fh)}
    return {parameter: note[:1].upper() + note[1:] for parameter, note in notes.items() if note}


# ---------------------------------------------------------------- print helpers for data tables


def readable_column(name: str) -> str:
    """A CSV column name as a reader would write it: 'p_reached_full_strength' -> 'p reached full strength'."""
    return name.replace("_", " ").strip()


def print_cell(value: str) -> str:
    """A CSV cell rounded for print (full precision stays in the CSV): three significant digits below 1."""
    try:
        number = float(value)
    except ValueError:
        return _public_source(value) if ".md" in value else value
    if "." not in value or not math.isfinite(number):
        return value
    if number == 0:
        return "0"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:.2f}".rstrip("0").rstrip(".")
    return f"{number:.3g}"


# ---------------------------------------------------------------- the two-page summary for the council packet

SUMMARY_FILE = "summary.html"


def summary_document(ctx: BriefContext, css: str) -> str:
    """The council-packet summary as one self-contained HTML page (printed to summary.pdf by the build)."""
    verdict_rows = "".join(
        f'<tr><td class="verdict {esc(_verdict_css(c))}">{claim_value_html(c)}</td>'
        f"<td>{claim_sentence_html(c)}</td>"
        f"<td>{esc(verdict_basis(ctx, c.id.split('.', 1)[1]) or 'not recorded')}</td></tr>"
        for c in _in_proposal_order(ctx, "scorecard_summary")
    )
    option_rows = "".join(
        f"<tr><th scope='row'>{esc(name)}</th><td>{cost}</td><td>{delivers}</td><td>{esc(sure)}</td></tr>"
        for name, cost, delivers, sure in _option_rows(ctx)
    )
    words = verdict_definitions_html()
    proposers = "the proposers (Flourishing Ferguson)" if ctx.is_ferguson else "the proposers"
    asks = "".join(f"<li>{esc(q)}</li>" for q in QUESTIONS_FOR_PROPOSERS[:3])
    asks_department = "".join(f"<li>{esc(q)}</li>" for q in QUESTIONS_FOR_DEPARTMENT[:3])
    dates = "; ".join(f"{esc(label)} {esc(period)}" for label, period in data_as_of_by_source())
    title = f"Project Heartbeats: two-page summary for {ctx.display_name}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<title>{esc(title)}</title><style>{css}</style></head>"
        '<body class="summary-page"><main class="brief summary">'
        f"<h1>Project Heartbeats: what the evidence says</h1>"
        f'<p class="subtitle">Two-page summary for the City Council of {esc(ctx.display_name)}, Missouri.</p>'
        f'<h2>The bottom line</h2><p class="bottom-line">{bottom_line_html(ctx)}</p>'
        "<h2>The options</h2>"
        '<table class="options"><thead><tr><th>Option</th><th>Extra cost a year</th><th>What it would deliver</th>'
        f"<th>How sure we are</th></tr></thead><tbody>{option_rows}</tbody></table>"
        "<h2>The claims, one by one</h2>"
        f'<p class="small">{words}.</p>'
        '<table class="verdicts"><thead><tr><th>Verdict</th><th>The claim and what we found</th><th>Rests on</th>'
        f"</tr></thead><tbody>{verdict_rows}</tbody></table>"
        f"<h2>Questions to ask</h2><div class='two-columns'><div><h3>For {esc(proposers)}</h3><ul>{asks}</ul></div>"
        f"<div><h3>For the police department</h3><ul>{asks_department}</ul></div></div>"
        "<h2>Where to read more</h2><p>The full evidence brief beside this summary gives every finding with its "
        "chart, range and source: staffing, crime, vehicle stops, use of force, calls for service and the program "
        "model, then the recommendations, the limits of the evidence and the list of sources. Its technical appendix "
        "holds the code and data behind every number.</p>"
        f'<p class="as-of provenance">Data as of: {dates}.</p>'
        "</main></body></html>"
    )


def write_summary(ctx: BriefContext) -> Path:
    """Write summary.html into the build folder; the build's publish step prints it to summary.pdf."""
    path = ctx.build_dir / SUMMARY_FILE
    path.write_text(summary_document(ctx, CSS_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    return path
