import pytest

from heartbeats_analysis.errors import ParameterError
from heartbeats_analysis.params import BuildParams, load_params, parse_set_option
from heartbeats_analysis.paths import PARAMS_DIR


def test_ferguson_params_file_is_valid(tmp_path):
    params, origin = load_params(PARAMS_DIR / "ferguson.yaml")
    assert params.agency == "ferguson"
    assert params.authorised_strength == 42 and "2023" in params.authorised_strength_source
    # the peers come from the one list in params.py; the agency itself is dropped before any notebook
    assert origin["peers"] == "default"
    assert "ferguson" not in params.notebook_parameters(tmp_path)["peers"]
    assert origin["agency"].endswith("ferguson.yaml") and origin["horizon_years"].endswith("ferguson.yaml")


def test_set_overrides_file_and_records_origin(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("agency: florissant\ndraws: 500\n")
    params, origin = load_params(path, ["draws=2000", "assumptions.attrition_rate=0.15"])
    assert params.draws == 2000 and params.agency == "florissant"
    assert params.assumptions == {"attrition_rate": 0.15}
    assert origin["draws"] == "--set" and origin["agency"] == str(path) and origin["seed"] == "default"


def test_every_problem_is_listed_at_once(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("agency: ferguson\ndraws: 0\nseed: -1\nhorizon_years: many\ncolour: blue\n")
    with pytest.raises(ParameterError) as caught:
        load_params(path, ["nonsense"])
    message = str(caught.value)
    for expected in ("draws", "seed", "horizon_years", "colour: unknown parameter", "nonsense", "5 problem"):
        assert expected in message


def test_authorised_strength_needs_a_citation():
    with pytest.raises(ParameterError, match="authorised_strength_source"):
        load_params(None, ["authorised_strength=40"])


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ParameterError, match="mapping"):
        load_params(bad)


def test_set_option_parses_yaml_values():
    assert parse_set_option("draws=500") == (["draws"], 500)
    assert parse_set_option("peers=[a, b]") == (["peers"], ["a", "b"])
    assert parse_set_option("assumptions.x=0.5") == (["assumptions", "x"], 0.5)


def test_notebook_parameters_exclude_the_agency_from_its_peers(tmp_path):
    params = BuildParams(agency="florissant")
    passed = params.notebook_parameters(tmp_path)
    assert "florissant" not in passed["peers"] and "ferguson" in passed["peers"]
    assert passed["build_dir"] == str(tmp_path)


def test_command_line_agency_overrides_the_file_but_not_its_authorised_strength():
    with pytest.raises(ParameterError, match="authorised_strength in .*ferguson.yaml is ferguson's"):
        load_params(PARAMS_DIR / "ferguson.yaml", base={"agency": "florissant"})
    params, origin = load_params(
        PARAMS_DIR / "ferguson.yaml",
        ["authorised_strength=null", "current_sworn=null", "display_name=null"],
        base={"agency": "florissant"},
    )
    assert params.agency == "florissant" and origin["agency"] == "command line"
    assert params.authorised_strength is None


def test_assumption_overrides_are_checked_against_the_register_before_any_notebook():
    with pytest.raises(ParameterError) as caught:
        load_params(
            None,
            [
                "assumptions.attrition_rate=1.5",
                "assumptions.no_such_thing=3",
                "assumptions.sw_grad_interest_share={low: 0.5, central: 0.1, high: 0.9}",
            ],
        )
    message = str(caught.value)
    assert "attrition_rate" in message and "no_such_thing" in message and "sw_grad_interest_share" in message
    params, _ = load_params(None, ["assumptions.attrition_rate=0.2"])
    assert params.assumptions == {"attrition_rate": 0.2}
