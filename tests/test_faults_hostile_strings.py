"""Hostile strings (an agency name or finding holding HTML or script) are rendered as text everywhere.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    AGENCY,
    PARAMS_FILE,
    Markup,
    environment,
    fresh_processed_copy,
    rewrite_csv,
    run_cli,
)

HOSTILE_NAME = 'Ferguson <script>alert("name")</script><img src=x onerror=alert(1)>'
HOSTILE_TEXT = '<iframe src="javascript:alert(2)"></iframe> & <b onmouseover=alert(3)>bold</b>'


def test_brief_functions_render_hostile_strings_as_text(tmp_path):
    """Unit route: every brief section built from a context whose agency name, claim sentences and
    values, sources, figure title, alt text, chart data and build command hold HTML and script."""
    from heartbeats_analysis.report import brief
    from heartbeats_analysis.report.claims import Claim, ClaimsRegistry
    from heartbeats_analysis.report.style import FigureRecord

    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (figures / "x.csv").write_text(f'call_type,count\n"{HOSTILE_TEXT}",3\n')
    record = FigureRecord(
        name="x",
        title=HOSTILE_TEXT,
        alt_text=HOSTILE_TEXT,
        source_line=HOSTILE_TEXT,
        notebook="02-staffing",
        function=HOSTILE_TEXT,
        png="x.png",
        data_csv="x.csv",
    )
    claims = ClaimsRegistry(
        [
            Claim(
                id="staffing.latest_sworn",
                value=30,
                unit="sworn officers",
                sentence=f"{HOSTILE_NAME} had 30.",
                source=[HOSTILE_TEXT],
            ),
            Claim(
                id="staffing.extra", value=HOSTILE_TEXT, unit=HOSTILE_TEXT, sentence=HOSTILE_TEXT, flags=["small_cell"]
            ),
            Claim(
                id="scorecard.fills_shortage",
                value=HOSTILE_TEXT,
                unit="verdict",
                sentence=HOSTILE_TEXT,
                source=[HOSTILE_TEXT],
            ),
            Claim(id="scorecard_summary.fills_shortage", value="supported", unit="verdict", sentence=HOSTILE_TEXT),
            Claim(id="model.p_close_gap_year5", value=0.2, unit="probability", sentence=HOSTILE_TEXT),
        ]
    )
    manifest = {
        "agency_display_name": HOSTILE_NAME,
        "data_as_of": HOSTILE_TEXT,
        "git_commit": HOSTILE_TEXT,
        "data_registry_sha256": HOSTILE_TEXT,
        "build_command": f"heartbeats build --agency '{HOSTILE_NAME}'",
        "parameters": {"agency": HOSTILE_NAME},
        "package_versions": {HOSTILE_TEXT: HOSTILE_TEXT},
    }
    ctx = brief.BriefContext(AGENCY, HOSTILE_NAME, tmp_path, claims, [record], manifest)

    parts = [
        brief.title_block(ctx),
        brief.executive_summary(ctx),
        brief.key_numbers(ctx),
        brief.scorecard(ctx),
        brief.section(ctx, "staffing"),
        brief.how_made(ctx),
        brief.chart_data_appendix(ctx),
    ]
    document = "".join(part.data for part in parts)
    markup = Markup.of(document)
    assert markup.injected() == []
    text = "".join(markup.text)
    assert HOSTILE_NAME in text and HOSTILE_TEXT in text
    # attribute values are escaped too (alt text, data-claim)
    assert any(attrs.get("alt") == HOSTILE_TEXT for tag, attrs in markup.tags if tag == "img")


def test_notebook_findings_render_hostile_strings_as_text():
    """Unit route for the technical appendix: what a notebook cell showing Findings puts in the
    executed notebook (its rich display formats), rendered the way nbconvert renders them (HTML as
    it is, Markdown through markdown2html): a sentence holding HTML must come out as text."""
    from IPython.core.formatters import DisplayFormatter
    from nbconvert.filters import markdown2html

    from heartbeats_analysis.analysis import Findings
    from heartbeats_analysis.report.claims import Claim

    findings = Findings(
        (
            Claim(
                id="staffing.latest_sworn",
                value=30,
                unit="sworn officers",
                sentence=f"{HOSTILE_NAME} had {HOSTILE_TEXT} 30 officers.",
            ),
        )
    )
    formats, _ = DisplayFormatter().format(findings)
    rendered = {
        "text/html": formats.get("text/html"),
        "text/markdown": markdown2html(formats["text/markdown"]) if "text/markdown" in formats else None,
    }
    rendered = {kind: page for kind, page in rendered.items() if page}
    assert rendered, formats
    for kind, page in rendered.items():
        markup = Markup.of(page)
        assert markup.injected() == [], (kind, page)
        assert HOSTILE_NAME in "".join(markup.text), (kind, page)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, raw_tree, processed_tree) -> Path:
    """A first build from processed tables in which Ferguson's display name and some call types hold
    HTML and script.

    Route: the raw files are checksummed, so hostile text cannot honestly enter through them; the
    processed tables are where every notebook reads names from, so the text is put there (agencies.csv
    display_name; calls_for_service.csv call_type), after an up-to-date clean so the build uses them."""
    work = tmp_path_factory.mktemp("hostile")
    processed = fresh_processed_copy(processed_tree, work / "processed", raw_tree)

    def rename_ferguson(header, rows):
        slug, name = header.index("agency_slug"), header.index("display_name")
        next(r for r in rows if r[slug] == AGENCY)[name] = HOSTILE_NAME

    def hostile_call_types(header, rows):
        at = header.index("call_type")
        for row in rows[::50]:
            row[at] = f"{row[at]} {HOSTILE_TEXT}"

    rewrite_csv(processed / "agencies.csv", rename_ferguson)
    rewrite_csv(processed / "calls_for_service.csv", hostile_call_types)
    reports = work / "reports"
    result = run_cli("build", "--params", str(PARAMS_FILE), "--no-pdf", env=environment(raw_tree, processed, reports))
    assert result.returncode == 0, result.stderr
    return reports / AGENCY


@pytest.mark.slow
def test_hostile_agency_name_is_text_in_the_built_brief(hostile_report):
    """End to end: the brief shows the hostile name as text (title, claim sentences) and holds no
    markup that came from the data."""
    document = (hostile_report / "brief.html").read_text(encoding="utf-8")
    markup = Markup.of(document)
    assert markup.injected() == []
    text = "".join(markup.text)
    assert f"City Council of {HOSTILE_NAME}, Missouri" in text
    assert text.count(HOSTILE_NAME) >= 5  # the name reaches the claim sentences too


@pytest.mark.slow
def test_hostile_agency_name_is_text_in_the_published_appendix(hostile_report):
    """End to end: the technical appendix published with the brief holds no markup from the data."""
    injected = {
        page.name: Markup.of(page.read_text(encoding="utf-8")).injected()
        for page in sorted((hostile_report / "appendix").glob("*.html"))
    }
    assert injected and all(found == [] for found in injected.values()), injected
