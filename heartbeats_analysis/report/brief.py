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
from dataclasses import dataclass, field
from pathlib import Path

from IPython.display import HTML

from heartbeats_analysis.build.manifest import read_manifest
from heartbeats_analysis.ingest.registry import load_registry
from heartbeats_analysis.report.claims import Claim, ClaimsRegistry
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

SECTION_INTROS = {
    "staffing": "How many sworn officers the department has had, compared with similar departments nearby and "
    "with the strength it is authorised to have. Years in which the department sent no report to the FBI are "
    "shown as gaps, not as zero.",
    "crime": "Crimes reported to police, as counts and as rates per thousand residents, compared with "
    "neighbouring departments and the state. The models describe changes in reported crime around August "
    "2014 and the 2016 Consent Decree; they show association, not cause.",
    "stops": "Who is stopped, searched, cited and arrested, by race: stops per resident of each group and the "
    "ratio between groups, measured the same way for the department, its neighbours and the state, with "
    "intervals that allow for the census estimates' own error. Residents are not drivers, so these ratios "
    "measure a gap, not its cause. Published figures from the 2015 Department of Justice report are shown "
    "beside our own calculations, never mixed with them.",
    "force": "Fatal police force from two national databases. Counts for one small city are very small, so "
    "rates are shown with wide intervals or not at all. No public data exists on non-fatal force in "
    "Ferguson since the 2015 Department of Justice report.",
    "calls": "No call-for-service data is public for Ferguson. As a proxy, this section uses 911 call types "
    "from five other cities to estimate how many calls fall in areas where social-work training matters.",
    "model": "A simulation of the proposal itself: how many officers it could add, what it would cost, and "
    "what outcomes the research literature supports, each as a range rather than a single number.",
}

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
        "black_white_rate_ratio_latest",
        "black_white_rate_ratio_with_population_error",
        "black_white_rate_ratio_series",
        "hispanic_white_rate_ratio_latest",
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

PROPOSAL_CLAIMS_TEXT = (
    "Project Heartbeats proposes to recruit graduates of the University of Missouri-St. Louis School of "
    "Social Work into the police academy, so that trained social workers serve as sworn public safety "
    "officers. Its backers say it would fill the officer shortage the 2016 Consent Decree demands, nearly "
    "double a social worker's starting pay, prevent excessive force, send people in crisis to services "
    "instead of fines and jail, reduce the targeting of Black residents, build trust, and free other "
    "officers for other work."
)

RECOMMENDATIONS = [
    "Treat Heartbeats as one recruiting channel among several, not as the answer to the officer shortage: "
    "set a yearly hiring target and measure it.",
    "Compare it, before funding it, with a civilian crisis-response option of the kind used in Eugene and "
    "Denver, which the evidence supports more directly for calls about mental health, addiction and "
    "homelessness.",
    "Publish the data this brief could not find: calls for service by type, non-fatal use of force, and "
    "the department's starting salary and authorised strength, so that any program can be evaluated.",
    "If the council proceeds, fund an independent evaluation from the start, with outcomes defined in "
    "advance: use of force, arrests, referrals to services, officer retention and resident trust.",
]

LIMITATIONS = [
    "Ferguson is small. Counts of rare events (fatal force, searches of some groups, violent crime in a "
    "single year) are too small to support firm conclusions; intervals are shown and small cells flagged.",
    "FBI crime and staffing data end in 2021 to 2023 depending on the series, and the FBI's 2021 move to "
    "a new reporting system breaks comparisons across that year.",
    "The vehicle stops report has no Ferguson row for 2021, and before 2020 it gives only stops by race.",
    "Population shares come from the American Community Survey and count residents of all ages; drivers "
    "stopped in Ferguson need not live there. Disparity ratios are a screening measure, not proof of bias.",
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

    def get(self, claim_id: str) -> Claim | None:
        return self.claims.get(claim_id)

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


def _html(fragment: str) -> HTML:
    return HTML(fragment)


# ---------------------------------------------------------------- sections, in the brief's order


def title_block(ctx: BriefContext) -> HTML:
    as_of = ctx.manifest.get("data_as_of", "")
    return _html(
        f"<h1>Project Heartbeats: what the evidence says</h1>"
        f'<p class="subtitle">An evidence brief for the City Council of {esc(ctx.display_name)}, Missouri. '
        f'<span class="provenance">Data as of {esc(as_of)} (the latest period covered by any source).</span></p>'
    )


def executive_summary(ctx: BriefContext) -> HTML:
    items = (
        "".join(f"<li>{claim_sentence_html(c)}</li>" for c in _in_proposal_order(ctx, "scorecard_summary"))
        or "<li>The claims scorecard was not produced in this build.</li>"
    )
    take = _sentences(ctx, ["model.p_close_gap_year5", "model.sw_officers_year10", "model.workload_officers_needed"])
    cost = _sentences(
        ctx, ["model.incremental_cost_per_year_heartbeats", "model.incremental_cost_per_year_civilian_responder"]
    )
    return _html(
        "<h2>Summary</h2>"
        f"<h3>What the proposal claims</h3><p>{esc(PROPOSAL_CLAIMS_TEXT)}</p>"
        f"<h3>What the evidence says</h3><ul>{items}</ul>"
        f"<h3>What it would take</h3>{take}"
        f"<h3>What it would cost</h3>{cost}"
    )


def executive_summary_text(ctx: BriefContext) -> str:
    """Plain text of the summary, for the readability score."""
    parts = [PROPOSAL_CLAIMS_TEXT]
    parts += [c.sentence for c in _in_proposal_order(ctx, "scorecard_summary")]
    return " ".join(parts)


def readability(ctx: BriefContext, notebook: NotebookContext | None = None) -> HTML:
    """Flesch-Kincaid grade of the summary, recorded as a claim and printed by the build."""
    grade = round(flesch_kincaid_grade(executive_summary_text(ctx)), 1)
    claim = Claim(
        id="brief.readability_grade",
        value=grade,
        unit="grade level",
        sentence=f"The summary reads at about US school grade {grade:.1f} (Flesch-Kincaid).",
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
    "model.workload_officers_needed",
    "model.incremental_cost_per_year_heartbeats",
]


def key_numbers(ctx: BriefContext) -> HTML:
    boxes = []
    for claim_id in KEY_NUMBER_IDS:
        claim = ctx.get(claim_id)
        if claim is None:
            continue
        value = claim_value_html(claim).replace('class="claim"', 'class="claim value"', 1)
        boxes.append(f'<div class="key-number">{value}<span class="label">{claim_sentence_html(claim)}</span></div>')
    body = "".join(boxes) or "<p>No key numbers were produced in this build.</p>"
    return _html(f'<h2>Key numbers</h2><div class="key-numbers">{body}</div>')


def scorecard(ctx: BriefContext) -> HTML:
    sources: list[str] = []
    rows = []
    for claim in _scorecard_claims(ctx):
        numbers = []
        for source in claim.source:
            if source not in sources:
                sources.append(source)
            numbers.append(sources.index(source) + 1)
        refs = ", ".join(f"[{n}]" for n in numbers)
        rows.append(
            f"<tr><td>{esc(_claim_title(claim))}</td>"
            f'<td class="verdict {esc(_verdict_css(claim))}">{claim_value_html(claim)}</td>'
            f'<td>{claim_sentence_html(claim)} <span class="provenance refs">Sources: {esc(refs)}</span></td></tr>'
        )
    if not rows:
        return _html("<h2>Claims scorecard</h2><p>The scorecard was not produced in this build.</p>")
    listing = "".join(f"<li>{esc(source)}</li>" for source in sources)
    return _html(
        "<h2>Claims scorecard</h2><p>Each claim made for the proposal, the verdict the evidence supports "
        "(supported, partly supported, not supported, or no evidence either way), and the numbers behind it.</p>"
        '<table class="scorecard"><thead><tr><th>Claim</th><th>Verdict</th><th>What the evidence shows</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<details class="provenance sources" open><summary>Sources for the '
        f"scorecard</summary><ol>{listing}</ol></details>"
    )


def section(ctx: BriefContext, topic: str) -> HTML:
    """Headline findings, published reference figures (kept apart), the charts, and the other findings."""
    title, notebook = next((t, nb) for key, t, nb in SECTIONS if key == topic)
    claims = [c for c in ctx.with_prefix(topic) if not c.id.startswith("scorecard")]
    wanted = [f"{topic}.{name}" for name in SECTION_HEADLINES.get(topic, [])]
    headline = [ctx.get(i) for i in wanted if ctx.get(i) is not None] or claims
    others = [c for c in claims if c not in headline]
    parts = [f'<h2 id="{esc(topic)}">{esc(title)}</h2>', f"<p>{esc(SECTION_INTROS[topic])}</p>"]
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
    for record in (r for r in ctx.figures if r.notebook == notebook):
        parts.append(figure_html(ctx, record))
    if others:
        parts.append(
            '<details class="screen-only"><summary>More findings from this analysis</summary><ul>'
            + "".join(f"<li>{claim_sentence_html(c)}</li>" for c in others)
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
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    lines = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in shown)
    note = ""
    if len(body) > len(shown):
        note = f"<p>First {len(shown)} of {len(body)} rows; all rows are in appendix/figures/{esc(name)}.</p>"
    return f'<table class="figure-data"><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>{note}'


def recommendations(ctx: BriefContext) -> HTML:
    items = "".join(f"<li>{esc(r)}</li>" for r in RECOMMENDATIONS)
    return _html(f"<h2>Recommendations the evidence supports</h2><ol>{items}</ol>")


def limitations(ctx: BriefContext) -> HTML:
    items = "".join(f"<li>{esc(r)}</li>" for r in LIMITATIONS)
    return _html(f"<h2>Limitations</h2><ul>{items}</ul>")


def methods_and_sources(ctx: BriefContext) -> HTML:
    rows = "".join(
        f'<tr><td>{esc(e.path)}<br><code class="hash">sha256 {esc(e.sha256)}</code></td><td>{esc(e.publisher)}</td>'
        f"<td>{esc(e.license)}</td><td>{esc(_years(e))}</td></tr>"
        for e in load_registry()
    )
    literature = _literature_rows(ctx)
    return _html(
        '<h2 class="page-break">Methods and sources</h2><div class="provenance">'
        "<p>Every raw file is fetched from its upstream address (pinned to a commit) or a local mirror and "
        "checked against the checksum below before anything is built. Processed tables, figure data and the "
        "executed notebooks with their code are in the technical appendix (the <code>appendix/</code> folder "
        "beside this brief).</p>"
        '<h3>Datasets</h3><table class="sources-table"><thead><tr><th>File and checksum</th><th>Publisher</th>'
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
    return "verdict-" + str(claim.value).lower().replace(" ", "-")


def _claim_title(claim: Claim) -> str:
    return claim.id.split(".", 1)[1].replace("_", " ").capitalize()


def _sentences(ctx: BriefContext, ids: list[str]) -> str:
    found = [ctx.get(i) for i in ids]
    items = "".join(f"<li>{claim_sentence_html(c)}</li>" for c in found if c is not None)
    return f"<ul>{items}</ul>" if items else "<p>Not estimated in this build.</p>"


def _years(entry) -> str:
    return entry.data_through


def _literature_rows(ctx: BriefContext) -> str:
    from heartbeats_analysis.paths import RESOURCES_DIR

    path = RESOURCES_DIR / "assumptions.csv"
    if not path.is_file():
        return "<p>The assumptions register is not available in this build.</p>"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    body = "".join(
        f"<tr><td>{esc(r.get('description', r.get('id', '')))}</td>"
        f"<td>{esc(r.get('central', ''))} ({esc(r.get('low', ''))} to {esc(r.get('high', ''))}) "
        f"{esc(r.get('unit', ''))}</td>"
        f"<td>{esc(r.get('source', ''))} {esc(r.get('url', ''))}</td><td>{esc(r.get('quality', ''))}</td></tr>"
        for r in rows
    )
    return (
        '<table class="sources-table literature"><thead><tr><th>Assumption</th><th>Central (low to high)</th>'
        f"<th>Source</th><th>Quality</th></tr></thead><tbody>{body}</tbody></table>"
    )
