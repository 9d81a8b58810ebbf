"""The council brief, built end to end from the real data: traceable, accessible, offline, deterministic."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import build_report

from heartbeats_analysis.report.brief import format_number

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def report(built_reports) -> Path:
    return built_reports / "ferguson"


@pytest.fixture(scope="session")
def claims(report) -> dict:
    return {c["id"]: c for c in json.loads((report / "claims.json").read_text())}


@pytest.fixture(scope="session")
def html_text(report) -> str:
    return (report / "brief.html").read_text(encoding="utf-8")


class ClaimSpans(HTMLParser):
    """Collects the text of claim spans, and the text outside claims and provenance blocks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, bool]] = []
        self.values: list[tuple[str, str]] = []
        self.sentences: list[tuple[str, str]] = []
        self.bounds: list[tuple[str, str, str]] = []  # (claim id, "low" or "high", text)
        self.free_text: list[str] = []
        self.visible_text: list[str] = []  # everything a reader sees outside provenance blocks, claims included
        self._buffer: list[str] | None = None

    VOID = {"img", "br", "meta", "hr", "input", "link"}

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        kind = (
            "value"
            if "claim" in classes
            else "sentence"
            if "claim-sentence" in classes
            else "bound"
            if "claim-bound" in classes
            else None
        )
        self._bound = attrs.get("data-bound")
        hidden = "provenance" in classes or tag in {"style", "title", "code", "pre"}
        self.stack.append((tag, kind and attrs.get("data-claim"), hidden))
        if kind:
            self._buffer = []
            self._kind = kind

    def handle_endtag(self, tag):
        if tag in self.VOID or not self.stack:
            return
        _, claim_id, _ = self.stack.pop()
        if claim_id is not None and self._buffer is not None:
            text = "".join(self._buffer)
            if self._kind == "bound":
                self.bounds.append((claim_id, self._bound, text))
            else:
                target = self.values if self._kind == "value" else self.sentences
                target.append((claim_id, text))
            self._buffer = None

    def handle_data(self, data):
        if not any(hidden for _, _, hidden in self.stack):
            self.visible_text.append(data)
        if self._buffer is not None:
            self._buffer.append(data)
        elif not any(hidden for _, _, hidden in self.stack):
            self.free_text.append(data)


@pytest.fixture(scope="session")
def spans(html_text) -> ClaimSpans:
    parser = ClaimSpans()
    parser.feed(html_text)
    return parser


def test_every_shown_claim_matches_claims_json(spans, claims):
    assert spans.values and spans.sentences and spans.bounds
    for claim_id, bound, text in spans.bounds:
        low, high = claims[claim_id]["interval"]
        assert text == format_number(low if bound == "low" else high, claims[claim_id]["unit"]), claim_id
    for claim_id, text in spans.values:
        assert claim_id in claims, claim_id
        assert text == format_number(claims[claim_id]["value"], claims[claim_id]["unit"]), claim_id
    for claim_id, text in spans.sentences:
        assert text == claims[claim_id]["sentence"], claim_id


def test_no_number_outside_the_claims_registry(spans):
    text = " ".join(spans.free_text)
    text = re.sub(r"\b(19|20)\d{2}\b", " ", text)  # years
    text = re.sub(r"\b\d{2}-[a-z-]+\b", " ", text)  # notebook names such as 02-staffing
    # Names and units, not findings: the 911 line, "per 1,000 residents", "by year 5" of a projection.
    text = re.sub(r"\b911\b|\bper 1,000\b|\byear \d{1,2}\b", " ", text)
    # The kind of an interval, in words: "90% of model runs", "95% confidence interval".
    text = re.sub(r"\b90% of model runs\b|\b95% confidence interval\b", " ", text)
    stray = re.findall(r"\d[\d,.]*%?", text)
    assert stray == [], f"numbers in the brief that are not claims: {stray[:20]}"


def test_brief_has_every_section_in_order(html_text):
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html_text)
    expected = [
        "The bottom line",
        "The options before the council",
        "The claims, one by one",
        "What we found, claim by claim",
        "Recommendations",
        "Questions to ask before a vote",
        "The proposal in detail",
        "Key numbers",
        "Claims scorecard",
        "Staffing",
        "Crime",
        "Vehicle stops",
        "Use of force",
        "Calls for service",
        "The program model",
        "Limitations",
        "Methods and sources",
        "How this report was made",
    ]
    positions = [next(i for i, h in enumerate(headings) if h.startswith(e)) for e in expected]
    assert positions == sorted(positions)


def test_brief_shows_each_sources_data_date_and_the_commit(html_text, report):
    from heartbeats_analysis.report.brief import data_as_of_by_source

    manifest = json.loads((report / "manifest.json").read_text())
    dates = "; ".join(f"{label} {period}" for label, period in data_as_of_by_source())
    assert f"Data as of: {dates}." in html_text
    assert "vehicle stops 2024" in dates and "FBI staffing 2021" in dates
    assert manifest["git_commit"] in html_text and manifest["data_registry_sha256"] in html_text


def test_brief_shows_no_internal_labels_or_outside_files(html_text, spans):
    assert not re.search(r"\b[A-Z][A-Z_]+\.md\b", html_text)  # research notes outside the project
    assert "../" not in html_text
    seen = " ".join(spans.visible_text)  # provenance blocks may name claim ids for reviewers
    assert not re.search(r"\bclaims? [a-z_]+\.[a-z0-9_]+", seen)
    assert not re.search(r"\bsection \d", seen)


def test_fergusons_brief_names_michael_browns_death(html_text):
    assert "Michael Brown, an unarmed Black eighteen-year-old, was shot and killed" in html_text


def test_brief_has_no_code_prompts_stderr_or_parameters(html_text):
    for marker in (
        "In&nbsp;[",
        "input_prompt",
        "injected-parameters",
        "Traceback",
        "build_dir =",
        "import heartbeats",
        "ctx = ",
        "output_stderr",
        "Warning:",
    ):
        assert marker not in html_text, marker


def test_brief_is_offline_and_locked_down(html_text):
    assert "<script" not in html_text.lower()
    policy = re.search(r'<meta[^>]*http-equiv="Content-Security-Policy"[^>]*>', html_text)
    assert policy and "content=\"default-src 'none';" in policy.group(0)
    for attribute in re.findall(r'(?:src|href)="([^"]+)"', html_text):
        assert attribute.startswith(("data:", "#", "appendix/")), attribute
    assert "@import" not in html_text and "url(http" not in html_text


def test_every_image_is_embedded_with_alt_text(html_text):
    images = re.findall(r"<img [^>]*>", html_text)
    assert len(images) >= 5
    for image in images:
        assert 'src="data:image/png;base64,' in image
        alt = re.search(r'alt="([^"]*)"', image)
        assert alt and alt.group(1).strip()


def test_every_chart_has_its_data_table(html_text):
    figures = html_text.count("<figure>")
    assert html_text.count("Data behind this chart") == figures
    assert html_text.count('class="figure-data"') >= 2 * figures  # on screen and in the print appendix


def test_readability_is_recorded(claims):
    grade = claims["brief.readability_grade"]["value"]
    assert 5 <= grade <= 10


def test_appendix_has_every_notebook_with_code_and_the_data(report, html_text):
    appendix = report / "appendix"
    for name in re.findall(r'href="appendix/([0-9]{2}-[a-z-]+)\.html"', html_text):
        assert (appendix / f"{name}.html").is_file(), name
    staffing = (appendix / "02-staffing.html").read_text()
    assert "NotebookContext" in staffing  # code is shown to reviewers
    assert (appendix / "processed" / "staffing.csv").is_file()
    assert list((appendix / "figures").glob("*.csv"))


@pytest.fixture(scope="session")
def pdf_path(report) -> Path:
    if not shutil.which("pdfinfo"):
        pytest.skip("poppler-utils is not installed: run `make system-deps`")
    return report / "brief.pdf"


def test_pdf_is_us_letter_with_page_numbers(pdf_path):
    info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True).stdout
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text


def test_pdf_text_holds_the_headline_numbers(pdf_path, claims):
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True).stdout
    text = " ".join(text.split())
    from heartbeats_analysis.report.brief import KEY_NUMBER_IDS, KEY_NUMBER_SUPERSEDES

    shown = [i for i in KEY_NUMBER_IDS if i in claims]
    shown = [i for i in shown if not any(new in claims and old == i for new, old in KEY_NUMBER_SUPERSEDES.items())]
    assert len(shown) >= 4
    for claim_id in shown:
        claim = claims[claim_id]
        assert format_number(claim["value"], claim["unit"]) in text, claim_id


def test_pdf_pages_render(pdf_path, tmp_path):
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf_path), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) >= 3


def test_brief_in_a_real_browser(report):
    from playwright.sync_api import sync_playwright

    from heartbeats_analysis.build.pdf import launch_browser

    page_url = (report / "brief.html").resolve().as_uri()
    errors, requests = [], []
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_url, wait_until="load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => ({ok: e.complete && e.naturalWidth > 0, alt: e.getAttribute('alt')}))"
        )
        browser.close()
    assert errors == []
    assert images and all(i["ok"] and i["alt"].strip() for i in images)
    assert all(url == page_url or url.startswith("data:") for url in requests), requests


def test_two_builds_give_identical_html_and_claims(report, tmp_path):
    again = build_report(tmp_path, "--force", "--no-pdf")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "ferguson" / "brief.html").read_bytes() == (report / "brief.html").read_bytes()
    assert (tmp_path / "ferguson" / "claims.json").read_bytes() == (report / "claims.json").read_bytes()


# ---------------------------------------------------------------- print quality and the two-page summary

ARTIFACTS_ENV = "HEARTBEATS_TEST_ARTIFACTS"


@pytest.fixture(scope="session")
def pdf_pages(pdf_path):
    from heartbeats_analysis.build.pdf_checks import read_pages

    return read_pages(pdf_path)


def test_pdf_page_one_carries_bottom_line_options_and_verdicts(pdf_pages):
    page_one = pdf_pages[0].text
    for heading in ("The bottom line", "The options before the council", "The claims, one by one"):
        assert heading in page_one, heading
    for verdict in ("supported", "Fund as proposed", "Decline", "Rests on"):
        assert verdict in page_one, verdict
    first_two = page_one + " " + pdf_pages[1].text
    assert "Recommendations" in first_two or "Recommendations" in pdf_pages[2].text


def test_pdf_words_stay_inside_the_page(pdf_pages):
    from heartbeats_analysis.build.pdf_checks import words_outside_page

    outside = [(w.page, w.text) for w in words_outside_page(pdf_pages)]
    assert outside == []


def test_pdf_prints_no_raw_precision_numbers(pdf_pages):
    from heartbeats_analysis.build.pdf_checks import long_decimals

    assert long_decimals(pdf_pages) == []


def test_pdf_pages_before_the_appendix_are_not_half_empty(pdf_path, pdf_pages):
    from heartbeats_analysis.build.pdf_checks import empty_fractions, first_page_with

    appendix = first_page_with(pdf_pages, "Appendix: data behind each chart")
    assert appendix is not None
    fractions = empty_fractions(pdf_path)
    # The page just before the appendix may end early: the appendix starts on a new page.
    too_empty = [(n, round(f, 2)) for n, f in enumerate(fractions[: appendix - 2], start=1) if f > 0.6]
    assert too_empty == []


def test_pdf_list_numbers_are_not_cut(pdf_pages):
    """A list number of two digits whose first digit is cut off prints as '.0', '.1' (the old source list did)."""
    words = [w.text for p in pdf_pages for w in p.words]
    assert not [w for w in words if re.fullmatch(r"\.\d", w)]
    assert "10." in words  # the scorecard's source list runs past nine


def test_first_pages_render_for_review(pdf_path, tmp_path):
    from heartbeats_analysis.build.pdf_checks import render_pages

    out = Path(os.environ.get(ARTIFACTS_ENV, tmp_path)) / "brief-pages"
    images = render_pages(pdf_path, out, first=1, last=3)
    assert len(images) == 3 and all(i.stat().st_size > 10_000 for i in images)


@pytest.fixture(scope="session")
def summary_pdf(report) -> Path:
    if not shutil.which("pdfinfo"):
        pytest.skip("poppler-utils is not installed: run `make system-deps`")
    return report / "summary.pdf"


def test_summary_pdf_is_two_us_letter_pages(summary_pdf):
    info = subprocess.run(["pdfinfo", str(summary_pdf)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792 pts (letter)" in info
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == 2


def test_summary_shows_the_same_numbers_as_the_claims(report, summary_pdf, claims):
    from heartbeats_analysis.build.pdf_checks import long_decimals, read_pages, words_outside_page

    parser = ClaimSpans()
    parser.feed((report / "summary.html").read_text(encoding="utf-8"))
    assert parser.values and parser.sentences and parser.bounds
    for claim_id, text in parser.values:
        assert text == format_number(claims[claim_id]["value"], claims[claim_id]["unit"]), claim_id
    for claim_id, text in parser.sentences:
        assert text == claims[claim_id]["sentence"], claim_id
    pages = read_pages(summary_pdf)
    printed = " ".join(" ".join(p.text for p in pages).split())
    for claim_id, text in parser.values:
        assert text in printed, claim_id
    assert words_outside_page(pages) == [] and long_decimals(pages) == []
    for heading in ("The bottom line", "The options", "The claims, one by one", "Questions to ask", "read more"):
        assert heading in printed, heading


def test_scorecard_rows_name_each_source_once(html_text):
    """Two findings from one analysis share a source: the row cites it once."""
    rows = re.findall(r'class="provenance refs">Sources: ([^<]*)<', html_text)
    assert rows
    for refs in rows:
        numbers = re.findall(r"\d+", refs)
        assert len(numbers) == len(set(numbers)), refs
