"""Sampling, workload, salary, outcomes and costs against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from heartbeats_analysis.model.assumptions import ModelParameters, apply_overrides, load_register
from heartbeats_analysis.model.costs import (
    civilian_program_cost,
    heartbeats_program_cost,
    program_years,
    scenario_costs,
)
from heartbeats_analysis.model.outcomes import (
    civilian_changes,
    civilian_share_by_year,
    heartbeats_changes,
    no_change,
    relevant_calls,
)
from heartbeats_analysis.model.pipeline import StaffingPath
from heartbeats_analysis.model.salary import salary_ratios, share_nearly_doubling
from heartbeats_analysis.model.sampling import (
    point_values,
    sample_parameters,
    varied_parameters,
)
from heartbeats_analysis.model.scenarios import run_model
from heartbeats_analysis.model.workload import hours_to_officers, officers_needed


def one_row(
    distribution: str, low: float, central: float, high: float, min_allowed=-1e9, max_allowed=1e9
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": "x",
                "low": low,
                "central": central,
                "high": high,
                "distribution": distribution,
                "min_allowed": min_allowed,
                "max_allowed": max_allowed,
            }
        ]
    )


@pytest.mark.parametrize(
    ("distribution", "low", "central", "high", "expected_mean"),
    [
        ("uniform", 2.0, 3.0, 6.0, 4.0),
        ("triangular", 0.0, 1.0, 5.0, 2.0),
        ("pert", 0.0, 1.0, 5.0, (0 + 4 * 1 + 5) / 6),
    ],
)
def test_sampled_means_match_the_distribution(distribution, low, central, high, expected_mean):
    draws = sample_parameters(one_row(distribution, low, central, high), 200_000, seed=1)["x"]
    assert draws.mean() == pytest.approx(expected_mean, abs=0.02)
    assert draws.min() >= low and draws.max() <= high


def test_lognormal_has_the_central_value_as_median_and_low_high_as_5th_95th_percentiles():
    draws = sample_parameters(one_row("lognormal", 5_000, 17_500, 100_000), 400_000, seed=2)["x"]
    assert np.median(draws) == pytest.approx(17_500, rel=0.01)
    assert np.quantile(draws, 0.05) == pytest.approx(5_000, rel=0.02)
    assert np.quantile(draws, 0.95) == pytest.approx(100_000, rel=0.03)


def test_degenerate_ranges_and_fixed_rows_sample_a_constant():
    assert (sample_parameters(one_row("triangular", 3, 3, 3), 10, seed=1)["x"] == 3).all()
    assert (sample_parameters(one_row("fixed", 4, 4, 4), 10, seed=1)["x"] == 4).all()


def test_draws_are_clipped_to_the_allowed_range():
    draws = sample_parameters(one_row("lognormal", 0.5, 0.9, 1.5, min_allowed=0, max_allowed=1), 10_000, seed=3)["x"]
    assert draws.max() <= 1.0


def test_a_parameters_draws_do_not_depend_on_the_other_rows():
    register = load_register()
    everything = sample_parameters(register, 100, seed=9)
    alone = sample_parameters(register[register["id"] == "attrition_rate"], 100, seed=9)
    np.testing.assert_array_equal(everything["attrition_rate"], alone["attrition_rate"])


def test_varied_parameters_skip_fixed_rows():
    register = load_register()
    varied = varied_parameters(register)
    assert "attrition_rate" in varied and "doj_black_share_arrests" not in varied


def base_params(**values: float) -> dict[str, np.ndarray]:
    params = point_values(load_register(), "central", 1)
    for key, value in values.items():
        params[key] = np.array([float(value)])
    return params


def test_workload_estimate_matches_hand_computation():
    params = base_params(
        population=10_000,
        calls_per_resident=1.0,
        minutes_per_unit_call=60,
        units_per_call=1.5,
        available_hours_per_officer=1_500,
        proactive_time_share=0.5,
        patrol_share_of_sworn=0.5,
    )
    needed = officers_needed(params)
    # 10,000 calls x 1.5 officer-hours = 15,000 hours; 1,500 x 0.5 = 750 hours per officer -> 20 patrol, 40 sworn
    assert needed["patrol"][0] == pytest.approx(20)
    assert needed["sworn"][0] == pytest.approx(40)
    assert officers_needed(params, 0.1)["sworn"][0] == pytest.approx(36)
    assert hours_to_officers(np.array([3_000.0]), params)[0] == pytest.approx(2)


def test_salary_ratios_match_hand_computation():
    params = base_params(sw_entry_salary=50_000, officer_starting_salary=60_000, academy_recruit_salary=40_000)
    ratios = salary_ratios(params)
    assert ratios["probationary"][0] == pytest.approx(1.2)
    assert ratios["academy"][0] == pytest.approx(0.8)
    assert ratios["first_year"][0] == pytest.approx(1.0)
    assert share_nearly_doubling(np.array([1.2, 1.9, 2.0, 1.79]), np.full(4, 1.8)) == 0.5


def path_of(
    sworn: list[float], sw: list[float], authorised: float = 40.0, hires: list[float] | None = None
) -> StaffingPath:
    sworn_a, sw_a = np.array([sworn], dtype=float), np.array([sw], dtype=float)
    years = len(sworn) - 1
    flows = np.array([hires if hires is not None else [0.0] * years], dtype=float)
    return StaffingPath(sworn_a, sw_a, np.array([authorised]), flows, np.zeros((1, years)), np.zeros((1, years)))


def test_heartbeats_outcomes_match_hand_computation():
    params = base_params(
        population=10_000,
        calls_per_resident=1.0,
        relevant_share_of_calls=0.2,
        sw_dispatch_preference=2.0,
        base_force_rate=0.02,
        force_rr_sw_officer=0.5,
        base_arrest_rate=0.1,
        arrest_rr_sw_officer=1.0,
        base_referral_rate=0.1,
        referral_rr_sw_officer=1.5,
        repeat_call_reduction=0.1,
        minutes_per_unit_call=60,
        units_per_call=1,
    )
    changes = heartbeats_changes(params, path_of([30, 30, 40], [0, 3, 30]))
    # 2,000 relevant calls; share taken min(1, 3/30 x 2) = 0.2 then min(1, 30/40 x 2) = 1
    np.testing.assert_allclose(changes.calls_handled[0], [400, 2_000])
    np.testing.assert_allclose(changes.force[0], [-4, -20])  # handled x 0.02 x (0.5 - 1)
    np.testing.assert_allclose(changes.arrests[0], [0, 0])  # relative risk 1: no effect
    np.testing.assert_allclose(changes.referrals[0], [20, 100])
    np.testing.assert_allclose(changes.officer_hours_freed[0], [40, 200])


def test_civilian_outcomes_match_hand_computation():
    params = base_params(
        population=10_000,
        calls_per_resident=1.0,
        civilian_diversion_share=0.05,
        diverted_call_risk_ratio=0.5,
        civilian_police_backup_share=0.0,
        base_force_rate=0.02,
        base_arrest_rate=0.1,
        base_referral_rate=0.1,
        civilian_referral_rr=2.0,
        minutes_per_unit_call=30,
        units_per_call=2,
        relevant_share_of_calls=0.15,
        program_lag_years=1,
        civilian_rampup_years=1,
    )
    changes = civilian_changes(params, 3)
    np.testing.assert_allclose(changes.calls_handled[0], [500] * 3)
    np.testing.assert_allclose(changes.force[0], [-5] * 3)  # 500 x 0.02 x (0 backup - 0.5)
    np.testing.assert_allclose(changes.arrests[0], [-25] * 3)
    np.testing.assert_allclose(changes.referrals[0], [50] * 3)
    np.testing.assert_allclose(changes.officer_hours_freed[0], [500] * 3)


def test_civilian_team_starts_with_the_program_and_ramps_up():
    params = base_params(
        population=10_000,
        calls_per_resident=1.0,
        civilian_diversion_share=0.04,
        relevant_share_of_calls=0.15,
        program_lag_years=2,
        civilian_rampup_years=2,
    )
    # starts in year 2 (the year Heartbeats starts recruiting), half the steady share, full from year 3
    np.testing.assert_allclose(civilian_share_by_year(params, 4)[0], [0, 0.02, 0.04, 0.04])
    np.testing.assert_allclose(civilian_changes(params, 4).calls_handled[0], [0, 200, 400, 400])
    cost = civilian_program_cost(params, civilian_changes(params, 4))
    assert cost[0, 0] == 0  # nothing to pay before it starts


def test_police_backup_brings_residual_force_on_diverted_calls():
    params = base_params(
        population=10_000,
        calls_per_resident=1.0,
        civilian_diversion_share=0.05,
        relevant_share_of_calls=0.15,
        diverted_call_risk_ratio=0.3,
        civilian_police_backup_share=0.02,
        base_force_rate=0.01,
        program_lag_years=1,
        civilian_rampup_years=1,
    )
    changes = civilian_changes(params, 1)
    # police would have used force on 500 x 0.3 x 0.01 = 1.5 calls; backup calls keep 500 x 0.02 x 0.01 = 0.1
    assert changes.force[0, 0] == pytest.approx(-1.4)
    assert changes.officer_hours_freed[0, 0] == pytest.approx(
        500 * 0.98 * params["minutes_per_unit_call"][0] / 60 * params["units_per_call"][0]
    )


def test_civilian_calls_never_exceed_the_relevant_call_pool_in_any_draw():
    register = apply_overrides(
        load_register(), {"relevant_share_of_calls": {"low": 0.03, "central": 0.042, "high": 0.06}}
    )
    run = run_model(ModelParameters(seed=3, draws=4_000), register)
    pool = relevant_calls(run.params)[:, None]
    handled = run.outcomes["civilian_responder"].calls_handled
    assert (handled <= pool + 1e-9).all()
    wanted = (run.params["civilian_diversion_share"] > run.params["relevant_share_of_calls"]).mean()
    assert wanted > 0.2  # the cap binds in many draws, so the check above is not vacuous
    assert np.isclose(handled[:, -1], pool[:, 0], rtol=1e-12)[
        run.params["civilian_diversion_share"] > run.params["relevant_share_of_calls"]
    ].all()


def test_costs_match_hand_computation():
    params = base_params(
        officer_average_salary=50_000,
        benefits_load=1.5,
        cost_per_hire=60_000,
        vacancy_overtime_cover_share=0.2,
        jail_days_per_arrest=2,
        jail_day_cost=100,
        claim_probability_per_force=0.1,
        claim_cost=20_000,
        heartbeats_program_cost_per_year=10_000,
        program_lag_years=1,
        civilian_min_cost_per_year=100_000,
        civilian_cost_per_call=150,
    )
    path = path_of([30, 32], [0, 1], authorised=40, hires=[4])
    changes = no_change(1, 1)
    changes = type(changes)(
        force=np.array([[-2.0]]),
        arrests=np.array([[-5.0]]),
        referrals=np.zeros((1, 1)),
        calls_handled=np.array([[1_000.0]]),
        officer_hours_freed=np.zeros((1, 1)),
    )
    program = heartbeats_program_cost(params, 1)
    one_program_hire = StaffingPath(
        np.array([[30.0, 32.0]]),
        np.array([[0.0, 1.0]]),
        np.array([40.0]),
        np.array([[4.0]]),
        np.ones((1, 1)),
        np.zeros((1, 1)),
    )
    stipend = {**params, "program_stipend_per_recruit": np.array([2_000.0])}
    assert heartbeats_program_cost(stipend, 1, one_program_hire)[0, 0] == pytest.approx(10_000 + 2_000)
    cost = scenario_costs(params, path, changes, program)
    assert cost.payroll[0, 0] == pytest.approx(32 * 50_000 * 1.5)
    assert cost.hiring[0, 0] == pytest.approx(4 * 60_000)
    assert cost.overtime[0, 0] == pytest.approx(8 * 0.2 * 1.5 * 50_000)
    assert cost.program[0, 0] == pytest.approx(10_000)
    assert cost.avoided_jail[0, 0] == pytest.approx(5 * 2 * 100)
    assert cost.avoided_claims[0, 0] == pytest.approx(2 * 0.1 * 20_000)
    assert cost.net[0, 0] == pytest.approx(2_400_000 + 240_000 + 120_000 + 10_000 - 1_000 - 4_000)
    assert civilian_program_cost(params, changes)[0, 0] == pytest.approx(150_000)  # 1,000 calls x $150 > $100,000


def test_program_costs_start_the_year_recruiting_starts():
    params = base_params(program_lag_years=2)
    assert program_years(params, 4).tolist() == [[0, 1, 1, 1]]
    params = base_params(program_lag_years=0)
    assert program_years(params, 3).tolist() == [[1, 1, 1]]
