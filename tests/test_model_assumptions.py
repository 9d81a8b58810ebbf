"""The assumptions register, overrides and model settings: valid rows load, bad ones fail with every problem listed."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from heartbeats_analysis.errors import ParameterError
from heartbeats_analysis.model.assumptions import (
    COLUMNS,
    DISTRIBUTIONS,
    QUALITY_GRADES,
    REGISTER_PATH,
    ModelParameters,
    apply_overrides,
    load_register,
    overrides_from_params_file,
    register_fingerprint,
    validate_model_parameters,
)
from heartbeats_analysis.model.inputs import agency_fact_rules


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    return load_register()


def test_register_loads_with_unique_ids_and_valid_ranges(register):
    assert list(register.columns[: len(COLUMNS)]) == COLUMNS
    assert register["id"].is_unique
    assert (register["low"] <= register["central"]).all()
    assert (register["central"] <= register["high"]).all()
    assert (register["min_allowed"] <= register["low"]).all()
    assert (register["high"] <= register["max_allowed"]).all()
    assert set(register["distribution"]) <= set(DISTRIBUTIONS)
    assert set(register["quality"]) <= set(QUALITY_GRADES)


def test_every_row_has_a_source_and_sourced_rows_have_a_url(register):
    assert (register["source"].str.len() > 0).all()
    # agency facts take their source from the agency's params file or data, not from the register row
    facts = set(agency_fact_rules().index)
    sourced = register[(register["quality"] != "assumption") & ~register["id"].isin(facts)]
    assert (sourced["url"].str.startswith("http")).all(), sourced.loc[
        ~sourced["url"].str.startswith("http"), "id"
    ].tolist()


def test_register_carries_the_evidence_figures(register):
    rows = register.set_index("id")
    # agency facts are never read from the register as an agency's value: the rows say so
    for key in ("current_sworn", "authorized_strength", "population"):
        assert rows.loc[key, "source"].startswith("Agency fact"), key
        assert "Ferguson" not in rows.loc[key, "description"]
    # section 5: MSW mean starting salary and St. Louis County probationary pay (Ferguson's own was not found)
    assert rows.loc["sw_entry_salary", "central"] == 47_100
    assert rows.loc["officer_starting_salary", "central"] == 57_616
    assert "NOT FOUND" in rows.loc["officer_starting_salary", "source"]
    # unsourced pipeline inputs are marked as assumptions with wide ranges
    for key in ("umsl_sw_graduates_per_year", "sw_grad_interest_share", "agency_capture_share"):
        assert rows.loc[key, "quality"] == "assumption"
        assert rows.loc[key, "high"] >= 3 * rows.loc[key, "low"]
    # where the literature finds no effect the register is centred on none
    assert rows.loc["arrest_rr_sw_officer", "central"] == 1.0


def test_fixed_rows_have_no_spread(register):
    fixed = register[register["distribution"] == "fixed"]
    assert (fixed["low"] == fixed["high"]).all()


def test_a_broken_register_file_lists_every_problem(tmp_path, register):
    bad = register[COLUMNS].copy()
    bad.loc[0, "low"] = 100.0  # low > central
    bad.loc[1, "distribution"] = "gamma"
    bad.loc[2, "quality"] = "E"
    bad.loc[3, "id"] = bad.loc[4, "id"]  # duplicate
    path = tmp_path / "assumptions.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ParameterError) as caught:
        load_register(path)
    message = str(caught.value)
    assert "low (100) > central" in message
    assert "unknown distribution 'gamma'" in message
    assert "quality must be one of" in message
    assert "duplicate id" in message
    assert len(caught.value.problems) >= 4


def test_a_register_with_text_in_a_numeric_column_names_line_and_column(tmp_path, register):
    bad = register[COLUMNS].astype(str)
    bad.loc[0, "central"] = "about 29"
    path = tmp_path / "assumptions.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ParameterError, match=r"line 2 \(current_sworn\): column central"):
        load_register(path)


def test_a_number_override_fixes_the_parameter(register):
    used = apply_overrides(register, {"attrition_rate": 0.2})
    row = used.set_index("id").loc["attrition_rate"]
    assert (row["low"], row["central"], row["high"], row["distribution"]) == (0.2, 0.2, 0.2, "fixed")
    assert row["origin"] == "override"
    assert register.set_index("id").loc["attrition_rate", "central"] == 0.14  # the input is not changed


def test_a_dict_override_replaces_only_the_given_fields(register):
    used = apply_overrides(register, {"sw_grad_interest_share": {"central": 0.03}})
    row = used.set_index("id").loc["sw_grad_interest_share"]
    assert (row["low"], row["central"], row["high"]) == (0.002, 0.03, 0.08)
    assert row["distribution"] == "triangular"
    widened = apply_overrides(register, {"sw_grad_interest_share": {"low": 0.0, "high": 0.2, "distribution": "pert"}})
    row = widened.set_index("id").loc["sw_grad_interest_share"]
    assert (row["low"], row["central"], row["high"], row["distribution"]) == (0.0, 0.02, 0.2, "pert")


def test_bad_overrides_are_all_reported_at_once(register):
    overrides = {
        "atrition_rate": 0.2,  # misspelt
        "sw_grad_interest_share": 1.5,  # a probability above 1
        "current_sworn": "thirty",  # wrong type
        "authorized_strength": {"low": 45, "central": 42},  # low > central
        "attrition_rate": {"centre": 0.1},  # unknown field
        "population": True,  # a bool is not a number
        "calls_per_resident": {"distribution": "gamma"},
        "units_per_call": math.nan,
    }
    with pytest.raises(ParameterError) as caught:
        apply_overrides(register, overrides)
    message = str(caught.value)
    assert "8 problems" in message
    assert "unknown parameter 'atrition_rate'; did you mean attrition_rate" in message
    assert "sw_grad_interest_share: value = 1.5 is outside the allowed range [0, 1]" in message
    assert "current_sworn: expected a number" in message
    assert "authorized_strength: low (45) > central (42)" in message
    assert "attrition_rate: unknown field(s) centre" in message
    assert "override population: expected a number" in message
    assert "unknown distribution 'gamma'" in message
    assert "units_per_call: low, central, high must be finite numbers" in message


def test_model_settings_and_overrides_are_validated_together():
    with pytest.raises(ParameterError) as caught:
        validate_model_parameters(seed=-1, draws=0, horizon_years=0, overrides={"no_such_thing": 1})
    message = str(caught.value)
    assert "4 problems" in message
    assert "seed" in message and "draws" in message and "horizon_years" in message
    assert "unknown parameter 'no_such_thing'" in message


def test_overrides_must_be_a_mapping():
    with pytest.raises(ParameterError, match="overrides must be a dict"):
        validate_model_parameters(overrides=["attrition_rate", 0.2])


def test_valid_settings_pass_and_default_to_the_notebook_values():
    settings = validate_model_parameters(seed=7, draws=500, horizon_years=5, overrides={"attrition_rate": 0.2})
    assert settings == ModelParameters(seed=7, draws=500, horizon_years=5, overrides={"attrition_rate": 0.2})
    assert ModelParameters() == ModelParameters(seed=20161, draws=10_000, horizon_years=10, overrides={})


def test_overrides_are_read_from_the_assumptions_key_of_a_params_file(tmp_path):
    path = tmp_path / "ferguson.yaml"
    path.write_text(
        "agency: ferguson\nassumptions:\n  attrition_rate: 0.2\n  sw_grad_interest_share: {central: 0.03}\n"
    )
    assert overrides_from_params_file(path) == {"attrition_rate": 0.2, "sw_grad_interest_share": {"central": 0.03}}
    path.write_text("agency: ferguson\n")
    assert overrides_from_params_file(path) == {}


def test_fingerprint_is_stable():
    assert register_fingerprint() == register_fingerprint(REGISTER_PATH)
    assert len(register_fingerprint()) == 12


def test_the_ferguson_params_file_holds_valid_assumption_overrides():
    from heartbeats_analysis.paths import PARAMS_DIR

    path = PARAMS_DIR / "ferguson.yaml"
    if not path.is_file():
        pytest.skip("params/ferguson.yaml is not in this tree")
    overrides = overrides_from_params_file(path)
    assert validate_model_parameters(overrides=overrides).overrides == overrides
