"""Notebook 07's functions: figures with alt text and data, claims for the brief, tables, documentation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from heartbeats_analysis.errors import ParameterError
from heartbeats_analysis.model import load_register, report
from heartbeats_analysis.paths import DOCS_DIR
from heartbeats_analysis.report.claims import ClaimsRegistry
from heartbeats_analysis.report.notebook_io import NotebookContext

FIGURES = ("model_staffing_fan", "model_salary", "model_outcomes", "model_tornado", "model_scenarios")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("build")
    earlier = ClaimsRegistry()
    earlier.record("staffing.latest_sworn", 30, "sworn officers", "Ferguson had 30 sworn officers in 2021.")
    earlier.record(
        "calls.community_calls_per_resident",
        0.35,
        "calls per resident per year",
        "New Orleans residents made 0.35 community-generated calls each a year.",
        interval=(0.3, 0.4),
    )
    earlier.save(build_dir / "claims" / "02-staffing.json")
    ctx = NotebookContext.for_notebook(build_dir, "07-program-model")
    settings = report.model_settings(20161, 800, 10, {"attrition_rate": {"central": 0.15}})
    inputs = report.analysis_inputs(ctx, 42, "St. Louis Post-Dispatch 2023-07-05")
    run = report.run(ctx, settings, inputs)
    records = {
        r.name: r
        for r in (
            report.figure_staffing(ctx, run),
            report.figure_salary(ctx, run),
            report.figure_outcomes(ctx, run),
            report.figure_scenarios(ctx, run),
        )
    }
    sensitivity = report.sensitivity(ctx, run)
    records["model_tornado"] = report.figure_tornado(ctx, run, sensitivity)
    claims_table = report.record_model_claims(ctx, run, sensitivity)
    scorecard = report.scorecard(ctx, run)
    report.save_summary_tables(ctx, run)
    path = ctx.save_claims()
    return ctx, run, records, claims_table, scorecard, path


def test_every_figure_is_saved_with_data_and_alt_text(built):
    ctx, _, records, *_ = built
    for name in FIGURES:
        for ext in ("png", "csv", "json"):
            assert (ctx.figures_dir / f"{name}.{ext}").is_file(), f"{name}.{ext}"
        meta = json.loads((ctx.figures_dir / f"{name}.json").read_text())
        assert meta["notebook"] == "07-program-model"
        assert len(meta["alt_text"]) > 80
        assert any(ch.isdigit() for ch in meta["alt_text"])


def test_alt_text_is_built_from_the_numbers(built):
    _, run, records, *_ = built
    staffing = records["model_staffing_fan"].alt_text
    assert "authorised strength of 42 (range 40 to 47)" in staffing
    assert "starting from about 30 today" in staffing  # the analysis claim replaced the register's 29
    salary = records["model_salary"].alt_text
    assert "$57,616" in salary and "own figure was not found" in salary
    tornado = records["model_tornado"].alt_text
    assert "share of those graduates who apply to the police academy" in tornado  # plain words, not code ids
    assert "sw grad interest share" not in tornado and "sw_grad_interest_share" not in tornado


def test_model_claims_use_the_ids_the_brief_reads(built):
    ctx, run, *_ = built
    for claim_id in (
        "model.salary_ratio",
        "model.p_close_gap_year5",
        "model.p_close_gap_year5_status_quo",
        "model.p_close_gap_year10",
        "model.sw_officers_year10",
        "model.workload_officers_needed",
        "model.net_cost_per_year_status_quo",
        "model.net_cost_per_year_heartbeats",
        "model.net_cost_per_year_civilian_responder",
        "model.incremental_cost_per_year_heartbeats",
        "model.force_change_heartbeats",
        "model.arrests_change_heartbeats",
        "model.referrals_change_civilian_responder",
        "model.top_sensitivity",
        "model.input_source_current_sworn",
        "model.register_version",
        "model.central_case_program_recruits_per_year",
        "model.central_case_incremental_cost_heartbeats",
        "model.cost_split_program_own",
        "model.cost_split_filling_vacancies",
        "model.cost_split_overtime_saved",
        "model.cost_split_incremental",
        "model.cost_per_added_officer",
        "model.options_year5",
        "model.options_year10",
        "model.civilian_capped_share",
    ):
        assert claim_id in ctx.claims, claim_id
    ratio = ctx.claims["model.salary_ratio"]
    assert ratio.interval is not None and ratio.interval[0] < ratio.value < ratio.interval[1]
    assert ratio.interval_kind.startswith("90% range of simulations (5th to 95th percentile of 800 draws)")
    assert ratio.value == pytest.approx(float(np.median(run.salary["probationary"])))
    assert ctx.claims["model.input_source_current_sworn"].value == "data"  # the FBI count recorded earlier
    assert "claim staffing.latest_sworn" in ctx.claims["model.input_source_current_sworn"].sentence
    assert ctx.claims["model.input_source_authorized_strength"].value == "params"
    assert "St. Louis Post-Dispatch 2023-07-05" in ctx.claims["model.input_source_authorized_strength"].sentence


def test_scorecard_claims_are_saved_with_the_model_claims(built):
    ctx, _, _, _, scorecard, path = built
    saved = ClaimsRegistry.load(path)
    verdicts = [c for c in saved if c.id.startswith("scorecard.")]
    assert len(verdicts) == 8
    assert saved["scorecard.nearly_doubles_salary"].value == "not supported"
    assert list(scorecard.columns) == ["proposal_claim", "verdict", "basis_label", "numbers", "would_settle"]
    assert all(f"scorecard_basis.{slug}" in saved for slug in (c.id.split(".")[1] for c in verdicts))
    assert (ctx.tables_dir / "model_scorecard.csv").is_file()


def test_tables_are_written(built):
    ctx, *_ = built
    for name in (
        "assumptions_used",
        "input_provenance",
        "sensitivity_oat",
        "sensitivity_rank",
        "staffing",
        "salary",
        "workload",
        "outcomes",
        "costs",
        "cost_split",
        "options_side_by_side",
        "scorecard",
    ):
        assert (ctx.tables_dir / f"model_{name}.csv").is_file(), name


def test_the_user_override_reaches_the_run(built):
    _, run, *_ = built
    row = run.register.set_index("id").loc["attrition_rate"]
    assert row["central"] == 0.15 and row["origin"] == "override"


def test_bad_notebook_parameters_stop_with_every_problem():
    with pytest.raises(ParameterError) as caught:
        report.model_settings(20161, 0, 10, {"attrition": 0.2, "sw_grad_interest_share": 2})
    message = str(caught.value)
    assert "3 problems" in message
    assert "draws" in message and "did you mean attrition_rate" in message and "outside the allowed range" in message


def test_docs_list_every_assumption_as_in_the_register():
    text = (DOCS_DIR / "model.md").read_text(encoding="utf-8")
    assert report.docs_with_register(text, load_register()) == text, (
        "docs/model.md is out of date: run `make model-docs`"
    )
    for key in load_register()["id"]:
        assert f"`{key}`" in text


# ---- an invented agency with a sworn count but no authorised strength: its own words, no target invented


@pytest.fixture(scope="module")
def testville(tmp_path_factory):
    from heartbeats_analysis.model.inputs import AgencyFacts, Fact

    build_dir = tmp_path_factory.mktemp("testville")
    ctx = NotebookContext.for_notebook(build_dir, "07-program-model", "testville")
    facts = AgencyFacts(
        "testville",
        "Testville",
        {
            "current_sworn": Fact("current_sworn", 12.0, "data", "FBI police employee data, 2021", 2021),
            "population": Fact("population", 6000.0, "data", "ACS 5-year, 2024", 2024),
        },
    )
    run = report.run(ctx, report.model_settings(7, 300, 10, {}), report.analysis_inputs(ctx, facts=facts))
    records = [report.figure_staffing(ctx, run), report.figure_salary(ctx, run)]
    report.record_model_claims(ctx, run, report.sensitivity(ctx, run))
    report.scorecard(ctx, run)
    return ctx, run, records


def test_testville_model_text_names_testville_and_no_other_agency(testville):
    ctx, run, records = testville
    text = " ".join(c.sentence for c in ctx.claims) + " ".join(r.alt_text for r in records)
    assert "Testville" in text
    for other in ("Ferguson", "Florissant", "Consent Decree", "DOJ"):
        assert other not in text, other
    assert "42" not in ctx.claims["model.workload_officers_needed"].sentence
    assert ctx.claims["model.workload_officers_needed"].sentence.endswith("against 12 serving.")


def test_testville_without_authorised_strength_says_so_once_and_the_rest_runs(testville):
    ctx, run, _ = testville
    missing = "Testville's authorised (budgeted) sworn strength is not in its parameters or data"
    assert ctx.claims["model.p_close_gap_year5"].sentence.startswith(missing)
    assert ctx.claims["model.p_close_gap_year5"].value is None
    assert ctx.claims["model.input_source_authorized_strength"].value == "unknown"
    added = ctx.claims["model.added_officers_year5"]
    assert added.value is not None and "Testville's police department" in added.sentence
    assert ctx.claims["model.input_source_agency_capture_share"].value == "general assumption"
    shown = report.assumptions_table(run).set_index("id")
    assert shown.loc["authorized_strength", "origin"] == "unknown"


def test_the_saved_assumptions_table_is_what_the_run_drew_from(built):
    """The brief prints model_assumptions_used.csv: it must hold the run's effective inputs."""
    ctx, run, *_ = built
    saved = pd.read_csv(ctx.tables_dir / "model_assumptions_used.csv").set_index("id")
    assert saved.loc["current_sworn", "central"] == 30  # the analysis claim, not the register's 29
    assert saved.loc["current_sworn", "origin"] == "data"  # an agency fact: the FBI count this build recorded
    assert saved.loc["calls_per_resident", "central"] == 0.35  # the calls analysis, not the register's 0.6
    assert (saved.loc["calls_per_resident", "low"], saved.loc["calls_per_resident", "high"]) == (0.3, 0.4)
    assert saved.loc["attrition_rate", "central"] == 0.15 and saved.loc["attrition_rate", "origin"] == "override"
    bounded = saved[saved["distribution"] != "lognormal"]  # a lognormal's low/high are its 5th/95th percentiles
    for key in bounded.index:
        values = run.params[key]
        assert saved.loc[key, "low"] - 1e-9 <= values.min() and values.max() <= saved.loc[key, "high"] + 1e-9, key
    assert ctx.claims["model.input_source_calls_per_resident"].value == "claim calls.community_calls_per_resident"


def test_without_the_calls_claim_the_register_value_is_used_and_said(tmp_path):
    ctx = NotebookContext.for_notebook(tmp_path, "07-program-model")
    inputs = report.analysis_inputs(ctx)
    row = inputs.provenance_table().set_index("parameter").loc["calls_per_resident"]
    assert row["used"] == "register" and row["value"] == 0.6
    assert row["note"] == "claim calls.community_calls_per_resident not recorded"


def test_the_cost_split_adds_up_and_budgets_appear_only_for_their_agency(built, tmp_path):
    _, run, *_ = built
    from heartbeats_analysis.model.summary import cost_split_arrays

    split = cost_split_arrays(run.evaluation)
    net = run.costs["heartbeats"].mean_per_year() - run.costs["status_quo"].mean_per_year()
    np.testing.assert_allclose(split["incremental"], net)
    ctx = NotebookContext.for_notebook(tmp_path, "07-program-model")
    report.record_cost_split(ctx, run, "ferguson")
    police = ctx.claims["model.cost_share_of_police_budget"]
    assert police.value == pytest.approx(float(np.median(split["incremental"])) / 9_573_300)
    assert "quality grade D, low quality" in police.sentence
    assert "model.cost_share_of_city_operating_budget" in ctx.claims
    other = NotebookContext.for_notebook(tmp_path / "other", "07-program-model")
    report.record_cost_split(other, run, "florissant")
    assert not [c for c in other.claims if c.id.startswith("model.cost_share_of")]
