"""The brief's page-1 text, print helpers, literature register and PDF checks, on tiny inputs (fast)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from heartbeats_analysis.analysis import reference
from heartbeats_analysis.report import brief
from heartbeats_analysis.report.claims import Claim, ClaimsRegistry

SIMULATION = "90% simulation interval (5%-95% percentiles of the draws)"


def context(agency: str, claims: list[Claim], display_name: str | None = None) -> brief.BriefContext:
    return brief.BriefContext(
        agency, display_name or agency.replace("-", " ").title(), Path("."), ClaimsRegistry(claims), [], {}
    )


def verdict(slug: str, value: str, sources: list[str] | None = None) -> list[Claim]:
    return [
        Claim(id=f"{prefix}.{slug}", value=value, unit="verdict", sentence=f"{slug}: {value}.", source=sources or [])
        for prefix in ("scorecard", "scorecard_summary")
    ]


MODEL_CLAIMS = [
    Claim(
        id="model.added_officers_year5",
        value=4.3,
        unit="officers",
        sentence="adds 4",
        interval=(0.0, 11.0),
        interval_kind=SIMULATION,
    ),
    Claim(id="staffing.gap_to_authorised", value=12, unit="officers", sentence="gap 12"),
    Claim(
        id="model.incremental_cost_per_year_heartbeats",
        value=375015.0,
        unit="USD per year",
        sentence="costs",
        interval=(86123.7, 860369.4),
        interval_kind=SIMULATION,
    ),
]


def text_of(fragment: str) -> str:
    return re.sub(r"<[^>]+>", "", fragment)


def test_bottom_line_counts_verdicts_in_words_and_reads_model_claims():
    claims = [
        *verdict("fills_officer_shortage", "partly supported"),
        *verdict("nearly_doubles_salary", "not supported"),
        *verdict("builds_trust", "no evidence either way"),
        *verdict("prevents_excessive_force", "unproven"),
        *MODEL_CLAIMS,
    ]
    line = text_of(brief.bottom_line_html(context("ferguson", claims)))
    assert line.startswith(
        "Of the proposal's four claims, none is fully supported; one is partly supported, one is not supported "
        "and two are unproven or without evidence either way."
    )
    assert "add about 4 officers by year 5, against 12 vacant posts" in line
    assert "about $375,000 a year more than today" in line


def test_bottom_line_leaves_out_what_the_claims_do_not_give():
    line = text_of(brief.bottom_line_html(context("ferguson", [])))
    assert "officers by year 5" not in line and "claims," not in line
    assert line.startswith("No study has tested sworn officers with social-work degrees.")


def test_options_print_cost_with_the_kind_of_range_and_a_baseline_when_one_exists():
    baseline = Claim(id="model.force_baseline_per_year", value=6.0, unit="per year", sentence="about 6 a year")
    change = Claim(id="model.force_change_heartbeats", value=-0.52, unit="per year", sentence="-0.5")
    rows = brief._option_rows(context("ferguson", [*MODEL_CLAIMS, change, baseline]))
    name, cost, delivers, _ = rows[0]
    assert name == "Fund as proposed"
    assert text_of(cost) == "$375,000 (90% of model runs: $86,000 to $860,000)"
    assert "Use of force: -0.52 incidents a year, out of about 6 a year today" in text_of(delivers)
    without = brief._option_rows(context("ferguson", [*MODEL_CLAIMS, change]))[0][2]
    assert "Use of force: -0.52 incidents a year against today's level" in text_of(without)
    ranged = Claim(
        id="model.force_change_heartbeats",
        value=-0.17,
        unit="per year",
        sentence="-0.2",
        interval=(-1.06, 0.0),
        interval_kind="90% range of simulations",
    )
    with_range = brief._option_rows(context("ferguson", [*MODEL_CLAIMS, ranged]))[0][2]
    assert "Use of force: -0.17 incidents a year against today's level (90% of model runs: -1.06 to 0" in text_of(
        with_range
    )
    assert [r[0] for r in rows] == ["Fund as proposed", "Pilot with an evaluation", "Civilian crisis team", "Decline"]


def test_interval_words_say_which_kind_of_interval():
    data = Claim(id="x.rate", value=1.3, unit="ratio", sentence="s", interval=(1.28, 1.33), interval_kind="95% CI")
    assert text_of(brief.interval_words(data)) == "95% confidence interval from the data: 1.28 to 1.33"
    assert text_of(brief.interval_words(MODEL_CLAIMS[0])) == "90% of model runs: 0 to 11"
    assert brief.interval_words(MODEL_CLAIMS[1]) == ""


def test_verdict_basis_prefers_what_the_model_recorded():
    recorded = Claim(id="scorecard_basis.builds_trust", value="research evidence (grade A)", unit="text", sentence="")
    ctx = context("ferguson", [*verdict("builds_trust", "unproven"), recorded])
    assert brief.verdict_basis(ctx, "builds_trust") == "research evidence (grade A)"
    flagged = [c.model_copy(update={"flags": ["basis: model assumption"]}) for c in verdict("frees_officers", "x")]
    assert brief.verdict_basis(context("ferguson", flagged), "frees_officers") == "model assumption"
    local = verdict("reduces_racial_targeting", "unproven", ["claim stops.black_share_stops_latest"])
    assert brief.verdict_basis(context("ferguson", local), "reduces_racial_targeting") == "local data"


def test_ferguson_history_only_in_fergusons_brief():
    ferguson = context("ferguson", [], "Ferguson")
    florissant = context("florissant", [], "Florissant")
    assert "Michael Brown" in brief.section(ferguson, "force").data
    other = [
        brief.section(florissant, topic).data for topic in ("staffing", "crime", "stops", "force", "calls", "model")
    ]
    other += [brief.questions(florissant).data, brief.limitations(florissant).data, brief.proposal_text(florissant)]
    other.append(brief.summary_document(florissant, css=""))
    for fragment in other:
        assert "Ferguson" not in fragment and "Michael Brown" not in fragment and "Consent Decree" not in fragment
    assert "Florissant Police Department" in brief.questions(florissant).data
    assert "Flourishing Ferguson" in brief.questions(ferguson).data


def test_public_sources_drop_internal_labels_and_outside_files():
    assert brief._public_source("Wareham 2015; NOTES.md section 7 https://x.org") == "Wareham 2015 https://x.org"
    assert brief._public_source("Post-Dispatch; compiled in ../notes/NOTES.md section 6") == "Post-Dispatch"
    assert brief._public_source("salary NOT FOUND (NOTES.md sections 5 and 9). Central") == "salary NOT FOUND. Central"
    assert brief._public_source("claim staffing.gap_to_authorised") == (
        "This brief's own analysis: see the staffing section"
    )


def test_data_as_of_names_each_sources_latest_period():
    periods = dict(brief.data_as_of_by_source())
    assert periods["vehicle stops"] == "2024"
    assert periods["FBI staffing"] == "2021"


@pytest.mark.parametrize(
    ("cell", "printed"),
    [
        ("0.13429999999999997", "0.134"),
        ("1234.5678", "1,235"),
        ("12.3456", "12.35"),
        ("2.50", "2.5"),
        ("2014", "2014"),
        ("-0.0000123456", "-1.23e-05"),
        ("sw_grad_interest_share", "sw_grad_interest_share"),
        ("", ""),
        ("0.0", "0"),
        ("County pay scale; NOTES.md section 5", "County pay scale"),
    ],
)
def test_print_cell_rounds_for_print(cell, printed):
    assert brief.print_cell(cell) == printed


def test_readable_column():
    assert brief.readable_column("p_reached_full_strength") == "p reached full strength"


def test_literature_register_rows_are_complete_and_primary():
    register = reference.literature_register()
    assert register.index.is_unique and len(register) >= 20
    for source_id, row in register.iterrows():
        for column in ("citation", "year", "figure", "grade", "grade_reason", "url"):
            assert row[column].strip(), (source_id, column)
        assert row["grade"] in {"A", "B", "C", "D"}, source_id
        assert row["url"].startswith(("https://", "http://")), source_id
        assert not re.search(r"docslib|dadospdf|fdocuments|wikimili|documentcloud|officeblues", row["url"]), source_id
        assert 1990 <= int(row["year"]) <= 2026, source_id


def test_every_reference_figure_cites_a_register_row():
    register = reference.literature_register()
    for figure in reference.REFERENCE_FIGURES.values():
        row = register.loc[figure.literature_id]
        assert figure.citation == row["citation"] and figure.url == row["url"]
        assert figure.quality.startswith(row["grade"])


# ---------------------------------------------------------------- PDF checks on tiny PDFs

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")


def _letter_pdf(path: Path, texts: list[tuple[float, float, str]], fill: bool = False) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8.5, 11))
    for x, y, text in texts:
        fig.text(x, y, text, fontsize=12)
    if fill:
        for i in range(60):
            fig.text(0.1, 0.92 - i * 0.014, "A line of body text that fills the page from top to bottom.")
    fig.savefig(path)
    plt.close(fig)
    return path


@needs_poppler
def test_pdf_checks_find_words_past_the_edge_and_raw_decimals(tmp_path):
    from heartbeats_analysis.build import pdf_checks

    texts = [(0.1, 0.9, "inside 0.25"), (0.1, 0.5, "raw 0.134299999997"), (0.97, 0.3, "clippedwordhere")]
    pages = pdf_checks.read_pages(_letter_pdf(tmp_path / "t.pdf", texts))
    assert len(pages) == 1 and (pages[0].width, pages[0].height) == (612.0, 792.0)
    # poppler keeps the visible part of a word cut by the page edge, with its box running past the edge
    outside = pdf_checks.words_outside_page(pages)
    assert len(outside) == 1 and "clippedwordhere".startswith(outside[0].text) and outside[0].x_max > 612
    assert pdf_checks.long_decimals(pages) == [(1, "0.134299999997")]
    assert pdf_checks.first_page_with(pages, "inside  0.25") == 1
    assert pdf_checks.first_page_with(pages, "absent") is None


@needs_poppler
def test_empty_fraction_separates_a_short_page_from_a_full_one(tmp_path):
    from heartbeats_analysis.build import pdf_checks

    short = pdf_checks.empty_fractions(_letter_pdf(tmp_path / "short.pdf", [(0.1, 0.88, "Only a heading")]))
    full = pdf_checks.empty_fractions(_letter_pdf(tmp_path / "full.pdf", [], fill=True))
    assert short[0] > 0.8
    assert full[0] < 0.2


def test_glossary_explains_model_words_where_they_appear():
    note = brief.glossary_note(["It reaches full strength in 13% of simulated futures (COPS Office method)."])
    assert "<em>simulated future</em>: one run of the model" in note and "COPS Office method" in note
    assert brief.glossary_note(["Plain words only."]) == ""


def test_missing_agency_facts_are_left_out_not_printed_as_not_available():
    no_gap = [c for c in MODEL_CLAIMS if c.id != "staffing.gap_to_authorised"]
    no_gap.append(Claim(id="staffing.gap_to_authorised", value=None, unit="officers", sentence="no target"))
    ctx = context("florissant", no_gap)
    line = text_of(brief.bottom_line_html(ctx))
    assert "add about 4 officers by year 5. It would cost" in line
    assert "not available" not in " ".join(text_of(cell) for row in brief._option_rows(ctx) for cell in row)
