"""Whole-model runs: reproducibility, speed, degenerate inputs, widening ranges, analysis inputs, sensitivity."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from heartbeats_analysis.model import (
    ModelParameters,
    apply_overrides,
    load_register,
    run_model,
)
from heartbeats_analysis.model.costs import heartbeats_program_cost
from heartbeats_analysis.model.inputs import inputs_from_claims
from heartbeats_analysis.model.sampling import point_values, varied_parameters
from heartbeats_analysis.model.scenarios import evaluate
from heartbeats_analysis.model.sensitivity import (
    one_at_a_time,
    rank_correlations,
    top_drivers,
)
from heartbeats_analysis.model.summary import (
    costs_table,
    estimate,
    headline_numbers,
    outcomes_table,
    salary_table,
    staffing_table,
    workload_table,
)
from heartbeats_analysis.report.claims import ClaimsRegistry


@pytest.fixture(scope="module")
def register():
    return load_register()


@pytest.fixture(scope="module")
def central_run(register):
    return run_model(ModelParameters(draws=4_000), register)


def test_ten_thousand_draws_run_well_under_the_bound(register):
    started = time.perf_counter()
    run = run_model(ModelParameters(draws=10_000), register)
    assert time.perf_counter() - started < 5.0  # generous: about 0.1 s on a 2-core machine
    assert run.staffing["heartbeats"].sworn.shape == (10_000, 11)


def test_same_seed_gives_identical_results_and_another_seed_does_not(register):
    first = run_model(ModelParameters(draws=2_000, seed=42), register)
    second = run_model(ModelParameters(draws=2_000, seed=42), register)
    other = run_model(ModelParameters(draws=2_000, seed=43), register)
    for name, values in first.outputs().items():
        np.testing.assert_array_equal(values, second.outputs()[name])
    assert staffing_table(first).equals(staffing_table(second))
    assert costs_table(first).equals(costs_table(second))
    assert not np.array_equal(first.outputs()["salary_ratio"], other.outputs()["salary_ratio"])


def test_zero_variance_run_reproduces_the_expected_value_model(register):
    fixed = {key: float(value) for key, value in register.set_index("id")["central"].items()}
    run = run_model(ModelParameters(draws=50, overrides=fixed, process_noise=False), register)
    expected = evaluate(point_values(register, "central", 1), 10, process_noise=False).outputs()
    for name, values in run.outputs().items():
        np.testing.assert_allclose(values, expected[name][0])
        est = estimate(values)
        assert est.lower == pytest.approx(est.upper)
    assert varied_parameters(run.register) == []
    # the salary ratio at central values, by hand: $57,616 / $47,100
    assert run.outputs()["salary_ratio"][0] == pytest.approx(57_616 / 47_100)


def test_zero_graduates_means_the_program_adds_nothing_but_its_own_cost(register):
    run = run_model(ModelParameters(draws=3_000, overrides={"umsl_sw_graduates_per_year": 0}), register)
    outputs = run.outputs()
    assert (outputs["heartbeats_added_officers_y5"] == 0).all()
    assert (outputs["heartbeats_sw_officers_final"] == 0).all()
    assert (outputs["heartbeats_force_change"] == 0).all()
    program_only = heartbeats_program_cost(run.params, 10).mean(axis=1)
    np.testing.assert_allclose(outputs["heartbeats_incremental_cost"], program_only)
    numbers = headline_numbers(run)
    assert numbers["p_full_strength_hb_y5"] == numbers["p_full_strength_sq_y5"]


def test_zero_attrition_and_hiring_keep_the_status_quo_flat(register):
    overrides = {"attrition_rate": 0, "status_quo_hires_per_year": 0, "current_sworn": 29, "authorized_strength": 42}
    run = run_model(ModelParameters(draws=1_000, overrides=overrides), register)
    assert (run.staffing["status_quo"].sworn == 29).all()
    assert headline_numbers(run)["p_full_strength_sq_final"] == 0.0


def width(values: np.ndarray) -> float:
    est = estimate(values)
    return est.upper - est.lower


@pytest.mark.parametrize(
    ("parameter", "output"),
    [
        ("officer_starting_salary", "salary_ratio"),
        ("calls_per_resident", "workload_officers_needed"),
        ("sw_grad_interest_share", "heartbeats_added_officers_y5"),
    ],
)
def test_intervals_widen_when_ranges_widen(register, parameter, output):
    row = register.set_index("id").loc[parameter]
    wider = {
        parameter: {"low": max(row["low"] / 2, row["min_allowed"]), "high": min(row["high"] * 2, row["max_allowed"])}
    }
    narrower = {parameter: {"low": (row["low"] + row["central"]) / 2, "high": (row["central"] + row["high"]) / 2}}
    widths = [
        width(run_model(ModelParameters(draws=4_000, overrides=o), register).outputs()[output])
        for o in (narrower, {}, wider)
    ]
    assert widths[0] < widths[1] < widths[2]


def test_analysis_inputs_replace_central_values_and_user_overrides_win(register):
    run = run_model(ModelParameters(draws=200), register, current_sworn=33)
    row = run.register.set_index("id").loc["current_sworn"]
    assert (row["low"], row["central"], row["high"], row["origin"]) == (26, 33, 35, "analysis")
    provenance = run.provenance.set_index("parameter")
    assert provenance.loc["current_sworn", "used"] == "analysis"
    assert provenance.loc["population", "used"] == "register"
    overridden = run_model(ModelParameters(draws=200, overrides={"current_sworn": 40}), register, current_sworn=33)
    assert overridden.register.set_index("id").loc["current_sworn", "central"] == 40


def test_inputs_from_claims_use_values_intervals_and_fall_back(register):
    claims = ClaimsRegistry()
    claims.record("staffing.latest_sworn", 31, "sworn officers", "Ferguson had 31 sworn officers in 2021.")
    claims.record("calls.relevant_share_central", 22.5, "%", "22.5% of calls ...", interval=(18.0, 27.0))
    inputs = inputs_from_claims(claims, register)
    overrides = inputs.overrides(register)
    assert overrides["current_sworn"] == {"low": 26.0, "central": 31.0, "high": 35.0}
    assert overrides["relevant_share_of_calls"] == pytest.approx({"low": 0.18, "central": 0.225, "high": 0.27})
    table = inputs.provenance_table().set_index("parameter")
    assert table.loc["current_sworn", "source"] == "claim staffing.latest_sworn"
    assert table.loc["population", "used"] == "register"
    assert "no claim among" in table.loc["population", "note"]


def test_unusable_claims_are_ignored_with_a_note(register):
    claims = ClaimsRegistry()
    claims.record("staffing.latest_sworn", None, "sworn officers", "No data.")
    claims.record("calls.relevant_share_central", 3.5, "share", "Out of range.")
    inputs = inputs_from_claims(claims, register)
    assert inputs.values == {}
    notes = inputs.provenance_table().set_index("parameter")["note"]
    assert "unusable" in notes["current_sworn"] and "unusable" in notes["relevant_share_of_calls"]


def test_one_at_a_time_swings_only_what_matters(register):
    table = one_at_a_time(register, 10)
    salary = table[table["output"] == "salary_ratio"].set_index("parameter")
    assert top_drivers(table, "salary_ratio", 2) == ["officer_starting_salary", "sw_entry_salary"]
    assert salary.loc["attrition_rate", "swing"] == 0
    row = salary.loc["officer_starting_salary"]
    assert row["output_at_low"] == pytest.approx(45_200 / 47_100)
    assert row["output_at_high"] == pytest.approx(72_280 / 47_100)
    workload = table[table["output"] == "workload_officers_needed"].set_index("parameter")
    assert workload.loc["calls_per_resident", "output_at_high"] == pytest.approx(
        1.5 / 0.6 * workload.loc["calls_per_resident", "output_central"]  # the register's high / central
    )


def test_rank_correlations_match_scipy(central_run):
    table = rank_correlations(central_run).set_index(["output", "parameter"])
    expected = stats.spearmanr(
        central_run.params["officer_starting_salary"], central_run.outputs()["salary_ratio"]
    ).statistic
    assert table.loc[("salary_ratio", "officer_starting_salary"), "spearman"] == pytest.approx(expected)
    assert top_drivers(rank_correlations(central_run), "salary_ratio", 1, measure="abs_spearman") == [
        "officer_starting_salary"
    ]


def test_summary_tables_are_consistent(central_run):
    staffing = staffing_table(central_run)
    assert staffing["p_at_full_strength"].between(0, 1).all()
    assert (staffing["p_reached_full_strength_by"] >= staffing["p_at_full_strength"]).all()
    assert (staffing["sworn_p05"] <= staffing["sworn_median"]).all() and (
        staffing["sworn_median"] <= staffing["sworn_p95"]
    ).all()
    costs = costs_table(central_run).set_index("scenario")
    assert costs.loc["status_quo", "incremental_mean"] == 0
    salary = salary_table(central_run).set_index("comparison")
    assert salary.loc["probationary", "ratio_low"] < salary.loc["probationary", "ratio_high"]
    assert set(outcomes_table(central_run)["scenario"]) == {"heartbeats", "civilian_responder"}
    assert {"sworn", "authorized_strength", "current_sworn"} <= set(workload_table(central_run)["measure"])


def test_the_evidence_does_not_support_nearly_doubling(central_run):
    numbers = headline_numbers(central_run)
    assert numbers["salary_ratio"].upper < 1.8
    assert numbers["p_salary_nearly_doubles"] < 0.01


def test_overrides_applied_twice_keep_their_origin(register):
    once = apply_overrides(register, {"attrition_rate": 0.2})
    twice = apply_overrides(once, {"population": {"central": 18_000}}, origin="analysis")
    rows = twice.set_index("id")
    assert rows.loc["attrition_rate", "origin"] == "override"
    assert rows.loc["population", "origin"] == "analysis"
