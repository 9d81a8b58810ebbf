"""Staffing pipeline: hand-computed results for degenerate inputs, and the counting helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from heartbeats_analysis.model.pipeline import (
    binomial_from_uniform,
    expected_program_recruits,
    poisson_from_uniform,
    simulate_staffing,
)
from heartbeats_analysis.model.sampling import generator


def staffing_params(draws: int = 1, **values: float) -> dict[str, np.ndarray]:
    base = dict(
        current_sworn=30,
        authorized_strength=40,
        attrition_rate=0.1,
        status_quo_hires_per_year=3,
        umsl_sw_graduates_per_year=100,
        sw_grad_interest_share=0.05,
        screening_pass_rate=0.5,
        academy_completion_rate=0.8,
        agency_capture_share=0.5,
        sw_officer_attrition_rate=0.2,
        program_lag_years=0,
    )
    base.update(values)
    return {key: np.full(draws, float(value)) for key, value in base.items()}


def test_expected_program_recruits_multiplies_the_funnel():
    # 100 graduates x 5% x 50% x 80% x 50% = 1 recruit a year
    assert expected_program_recruits(staffing_params())[0] == pytest.approx(1.0)


def test_zero_variance_expected_path_matches_hand_computation():
    path = simulate_staffing(staffing_params(), 3, program=True, process_noise=False)
    # year 1: 30 - 3 leavers = 27; vacancies 13; 1 recruit + 3 hires -> 31, of whom 1 is a program recruit
    # year 2: others 30 lose 3, the recruit loses 0.2 -> 27.8; +1 +3 -> 31.8; program officers 1.8
    # year 3: others 30 lose 3, program 1.8 loses 0.36 -> 28.44; +1 +3 -> 32.44; program officers 2.44
    np.testing.assert_allclose(path.sworn[0], [30, 31, 31.8, 32.44])
    np.testing.assert_allclose(path.sw_officers[0], [0, 1, 1.8, 2.44])
    np.testing.assert_allclose(path.hires[0], [4, 4, 4])
    np.testing.assert_allclose(path.program_hires[0], [1, 1, 1])
    np.testing.assert_allclose(path.separations[0], [3, 3.2, 3.36])
    np.testing.assert_allclose(path.gap()[0], [10, 9, 8.2, 7.56])


def test_status_quo_has_no_program_officers():
    path = simulate_staffing(staffing_params(), 3, program=False, process_noise=False)
    np.testing.assert_allclose(path.sworn[0], [30, 30, 30, 30])  # 3 leave, 3 join each year
    assert (path.sw_officers == 0).all()


def test_zero_attrition_fills_up_to_the_cap_and_stops():
    params = staffing_params(attrition_rate=0, sw_officer_attrition_rate=0, umsl_sw_graduates_per_year=0)
    path = simulate_staffing(params, 5, program=True, process_noise=False)
    np.testing.assert_allclose(path.sworn[0], [30, 33, 36, 39, 40, 40])  # min(authorised, 30 + 3t)
    assert path.p_at_strength().tolist() == [0, 0, 0, 0, 1, 1]
    assert path.p_reached_by().tolist() == [0, 0, 0, 0, 1, 1]


def test_program_lag_delays_the_first_recruits():
    params = staffing_params(
        attrition_rate=0, sw_officer_attrition_rate=0, status_quo_hires_per_year=0, program_lag_years=2
    )
    path = simulate_staffing(params, 4, program=True, process_noise=False)
    np.testing.assert_allclose(path.sw_officers[0], [0, 0, 0, 1, 2])


def test_zero_graduates_makes_heartbeats_identical_to_the_status_quo_even_with_noise():
    params = staffing_params(draws=2_000, umsl_sw_graduates_per_year=0)
    status_quo = simulate_staffing(params, 10, program=False, rng=generator(1, "process:staffing"))
    heartbeats = simulate_staffing(params, 10, program=True, rng=generator(1, "process:staffing"))
    np.testing.assert_array_equal(status_quo.sworn, heartbeats.sworn)
    assert (heartbeats.sw_officers == 0).all()


def test_nothing_moves_without_attrition_hiring_or_graduates():
    params = staffing_params(draws=500, attrition_rate=0, status_quo_hires_per_year=0, umsl_sw_graduates_per_year=0)
    path = simulate_staffing(params, 10, program=True, rng=generator(3, "process:staffing"))
    assert (path.sworn == 30).all()
    assert path.p_at_strength().max() == 0
    at_strength = simulate_staffing(
        staffing_params(draws=5, current_sworn=40, attrition_rate=0, status_quo_hires_per_year=0),
        3,
        program=True,
        rng=generator(3, "process:staffing"),
    )
    assert at_strength.p_at_strength().tolist() == [1, 1, 1, 1]


def test_noisy_counts_are_whole_people_and_never_exceed_the_cap():
    params = staffing_params(draws=5_000, umsl_sw_graduates_per_year=400, sw_grad_interest_share=0.1)
    path = simulate_staffing(params, 10, program=True, rng=generator(5, "process:staffing"))
    for array in (path.sworn, path.sw_officers, path.hires, path.separations):
        np.testing.assert_array_equal(array, np.round(array))
    assert (path.sworn <= 40).all()
    assert (path.sw_officers <= path.sworn).all() and (path.sw_officers >= 0).all()


def test_noisy_mean_is_close_to_the_expected_path_when_the_cap_does_not_bind():
    params = staffing_params(draws=20_000, authorized_strength=1_000)
    noisy = simulate_staffing(params, 5, program=True, rng=generator(11, "process:staffing"))
    expected = simulate_staffing(staffing_params(authorized_strength=1_000), 5, program=True, process_noise=False)
    np.testing.assert_allclose(noisy.sworn.mean(axis=0), expected.sworn[0], atol=0.1)


def test_process_noise_needs_a_generator():
    with pytest.raises(ValueError, match="random generator"):
        simulate_staffing(staffing_params(), 2, program=True)


@settings(max_examples=60, deadline=None)
@given(u=st.floats(1e-9, 1 - 1e-9), n=st.integers(0, 60), p=st.floats(0, 1))
def test_binomial_from_uniform_matches_scipy(u, n, p):
    expected = max(stats.binom.ppf(u, n, p), 0)
    got = binomial_from_uniform(np.array([u]), np.array([float(n)]), np.array([p]))[0]
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(u=st.floats(1e-9, 1 - 1e-9), mean=st.floats(0, 40))
def test_poisson_from_uniform_matches_scipy(u, mean):
    expected = max(stats.poisson.ppf(u, mean), 0)
    got = poisson_from_uniform(np.array([u]), np.array([mean]))[0]
    assert got == expected
