"""Every agency's brief is its own: built for Ferguson, Florissant (FBI and stops data, no authorised
strength) and Arnold (stops data only, not in the FBI data), with small draws.

A non-Ferguson brief may name Ferguson only in explicitly marked neighbouring-city context (a sentence that
says "neighbouring") or in the data tables behind a chart, where Ferguson is one of the peer series. The
failure message lists every offending sentence, so the module that wrote it can be found.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from heartbeats_analysis.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

SMALL = ["--set", "draws=500", "--no-pdf"]
FLORISSANT_TARGET_SOURCE = "Test fixture: Florissant FY2024 budget, 95 sworn positions"


def cli(*args: str, reports: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "heartbeats_analysis.cli", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "HEARTBEATS_REPORTS_DIR": str(reports)},
    )


def visible_text(page: str) -> str:
    """The brief as a reader sees it: no scripts, styles or the chart-data tables (peer series)."""
    page = re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", page)
    page = re.sub(r'(?s)<details class="screen-only provenance">.*?</details>', " ", page)
    # the list of raw files the build read (every agency's build reads the peers' FBI files) is provenance
    page = re.sub(r'(?s)<table class="sources-table datasets">.*?</table>', " ", page)
    page = re.sub(r'(?s)<table class="figure-data">.*?</table>', " ", page)  # chart data: Ferguson as a peer
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]


def ferguson_sentences(text: str) -> list[str]:
    """Sentences naming Ferguson or its own history, except those marked as neighbouring-city context."""
    pattern = re.compile(r"Ferguson(?!, [A-Z]\.)|Consent Decree|Michael Brown")  # not an author named Ferguson
    return [s for s in sentences(text) if pattern.search(s) and not re.search(r"neighbou?ring", s, re.I)]


def authorised_42(text: str) -> list[str]:
    near = r"\b42\b[^.;]{0,40}authori[sz]ed|authori[sz]ed[^.;]{0,40}\b42\b"  # 42 said of an authorised strength
    return [s for s in sentences(text) if re.search(near, s, re.I)]


@pytest.fixture(scope="module")
def briefs(tmp_path_factory, raw_data):
    reports = tmp_path_factory.mktemp("reports")
    built = {}
    for name, args in (
        ("ferguson", ["--params", "params/ferguson.yaml"]),
        ("florissant", ["--agency", "florissant"]),
        ("arnold", ["--agency", "arnold"]),
    ):
        result = cli("build", *args, *SMALL, reports=reports)
        assert result.returncode == 0, f"{name}: {result.stderr[-3000:]}"
        built[name] = _read(reports / name)
    params = tmp_path_factory.mktemp("params") / "florissant.yaml"
    params.write_text(
        "agency: florissant\nauthorised_strength: 95\nauthorised_strength_year: 2024\n"
        f'authorised_strength_source: "{FLORISSANT_TARGET_SOURCE}"\n'
    )
    result = cli("build", "--params", str(params), *SMALL, reports=reports)
    assert result.returncode == 0, result.stderr[-3000:]
    built["florissant_with_target"] = _read(reports / "florissant")
    return built


def _read(folder: Path) -> dict:
    page = (folder / "brief.html").read_text(encoding="utf-8")
    claims = {c["id"]: c for c in json.loads((folder / "claims.json").read_text(encoding="utf-8"))}
    return {"page": page, "text": visible_text(page), "claims": claims}


@pytest.mark.parametrize("agency", ["florissant", "arnold"])
def test_other_briefs_never_name_ferguson_outside_neighbouring_context(briefs, agency):
    offending = ferguson_sentences(briefs[agency]["text"])
    assert not offending, f"{agency}: {len(offending)} Ferguson sentence(s):\n" + "\n".join(
        f"  - {s[:300]}" for s in offending
    )


@pytest.mark.parametrize("agency", ["florissant", "arnold"])
def test_other_briefs_never_use_42_as_authorised_strength(briefs, agency):
    assert not authorised_42(briefs[agency]["text"])
    assert briefs[agency]["claims"]["model.input_source_authorized_strength"]["value"] == "unknown"


@pytest.mark.parametrize("agency,name", [("ferguson", "Ferguson"), ("florissant", "Florissant"), ("arnold", "Arnold")])
def test_title_summary_and_model_sentences_name_the_agency(briefs, agency, name):
    brief = briefs[agency]
    title = re.search(r"<title>(.*?)</title>", brief["page"], re.S).group(1)
    assert name in title
    model = [c["sentence"] for c in brief["claims"].values() if c["id"].startswith(("model.", "scorecard_summary."))]
    assert any(name in s for s in model)
    for sentence in model:
        for other in {"Ferguson", "Florissant", "Arnold"} - {name}:
            assert other not in sentence, sentence


def test_florissant_without_authorised_strength_says_so_and_invents_no_target(briefs):
    claims = briefs["florissant"]["claims"]
    missing = "Florissant's authorised (budgeted) sworn strength is not in its parameters or data"
    assert claims["model.p_close_gap_year5"]["sentence"].startswith(missing)
    assert claims["model.p_close_gap_year5"]["value"] is None
    assert missing in claims["scorecard_summary.fills_officer_shortage"]["sentence"]
    assert claims["model.input_source_current_sworn"]["value"] == "data"  # the FBI count
    assert claims["model.added_officers_year5"]["value"] is not None  # the rest runs


def test_the_inputs_table_says_unknown_and_why_a_value_differs_from_its_source(briefs):
    """An unknown fact prints as "unknown" with what the build cannot say (never an empty "( to )"), and a
    register range scaled to the department's size says so beside the source it was derived from."""
    table = re.search(r'(?s)<table class="sources-table inputs">.*?</table>', briefs["florissant"]["page"]).group(0)
    rows = [visible_text(row).strip() for row in table.split("<tr>")[2:]]  # after the header row
    authorised = next(r for r in rows if r.startswith("Authorised (budgeted) sworn strength"))
    assert "( to )" not in table
    assert "reach unknown unknown for Florissant In this build: Florissant's authorised (budgeted) sworn" in authorised
    hires = next(r for r in rows if r.startswith("Officers the department hires in a year"))
    assert "scaled to Florissant's 89 (the same hires per officer)" in hires


def test_arnold_without_fbi_data_says_the_staffing_model_cannot_run(briefs):
    claims = briefs["arnold"]["claims"]
    missing = "Arnold's sworn officers serving today is not in its parameters or data"
    assert claims["model.added_officers_year5"]["sentence"].startswith(missing)
    assert claims["model.input_source_current_sworn"]["value"] == "unknown"
    assert claims["model.input_source_population"]["value"] == "data"
    assert claims["model.salary_ratio"]["value"] is not None  # salary needs no agency fact


def test_a_params_file_with_florissants_authorised_strength_brings_the_target_with_its_source(briefs):
    claims = briefs["florissant_with_target"]["claims"]
    assert (
        "Florissant's police department is at its full authorised strength in year 5"
        in claims["model.p_close_gap_year5"]["sentence"]
    )
    assert claims["model.input_source_authorized_strength"]["value"] == "params"
    assert FLORISSANT_TARGET_SOURCE in claims["model.input_source_authorized_strength"]["sentence"]
    assert "against 95 authorised" in claims["model.workload_officers_needed"]["sentence"]


def test_ferguson_keeps_its_facts_and_context(briefs):
    claims = briefs["ferguson"]["claims"]
    assert "against 42 authorised and 29 serving" in claims["model.workload_officers_needed"]["sentence"]
    assert "St. Louis Post-Dispatch, 2023-07-05" in claims["model.input_source_authorized_strength"]["sentence"]
    assert "Consent Decree" in briefs["ferguson"]["text"]
