"""Agency facts: from the parameters, then the data, else unknown; never another agency's value."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from heartbeats_analysis.errors import ParameterError
from heartbeats_analysis.model.assumptions import load_register
from heartbeats_analysis.model.inputs import (
    agency_fact_rules,
    agency_register,
    resolve_agency_facts,
)
from heartbeats_analysis.params import load_params, params_template
from heartbeats_analysis.paths import PARAMS_DIR
from heartbeats_analysis.report.claims import ClaimsRegistry

AGENCIES = pd.DataFrame(
    {
        "agency_slug": ["testville", "nowhere"],
        "display_name": ["Testville", "Nowhere Heights"],
        "geoid": ["2999999", None],
    }
)
POPULATION = pd.DataFrame(
    {
        "geography": ["Testville city, Missouri"] * 3,
        "geoid": ["2999999"] * 3,
        "year": [2023, 2024, 2024],
        "race": ["total", "total", "black"],
        "population": [6100, 6000, 1500],
        "survey": ["acs5"] * 3,
    }
)


def fbi_claims(count: int = 12, year: int = 2021) -> ClaimsRegistry:
    claims = ClaimsRegistry()
    claims.record("staffing.latest_sworn", count, "sworn officers", f"{count} sworn officers in {year}.")
    claims.record("staffing.latest_sworn_year", year, "year", f"The data end in {year}.")
    return claims


def test_the_register_marks_agency_facts_and_renames_the_ferguson_capture_share():
    register = load_register()
    assert "ferguson_capture_share" not in set(register["id"])
    assert set(agency_fact_rules().index) <= set(register["id"])
    for key in ("current_sworn", "authorized_strength", "population", "agency_capture_share"):
        assert "Ferguson" not in register.set_index("id").at[key, "description"], key


def test_facts_come_from_the_data_when_the_parameters_give_none():
    facts = resolve_agency_facts("testville", {}, fbi_claims(), AGENCIES, POPULATION)
    assert facts.display_name == "Testville"
    sworn, population = facts.fact("current_sworn"), facts.fact("population")
    assert (sworn.value, sworn.year, sworn.origin) == (12.0, 2021, "data")
    assert (population.value, population.year, population.origin) == (6000.0, 2024, "data")
    assert "Testville city, Missouri, 2024" in population.source
    assert facts.fact("authorized_strength").origin == "unknown"
    assert facts.fact("agency_capture_share").origin == "general assumption"


def test_parameters_win_over_the_data_and_a_proxy_is_labelled():
    given = {
        "current_sworn": 14,
        "current_sworn_year": 2024,
        "current_sworn_source": "Testville budget 2024",
        "authorised_strength": 20,
        "authorised_strength_source": "PROXY: FBI 2014 count",
        "authorised_strength_is_proxy": True,
    }
    facts = resolve_agency_facts("testville", given, fbi_claims(), AGENCIES, POPULATION)
    assert (facts.value("current_sworn"), facts.fact("current_sworn").origin) == (14.0, "params")
    assert facts.fact("authorized_strength").origin == "proxy (params)"


def test_an_agency_with_no_data_has_unknown_facts_and_no_ferguson_values():
    facts = resolve_agency_facts("nowhere", {}, ClaimsRegistry(), AGENCIES, POPULATION)
    assert facts.display_name == "Nowhere Heights"
    for key in ("current_sworn", "authorized_strength", "population"):
        assert not facts.known(key), key
    register, provenance = agency_register(load_register(), facts)
    used = {row["parameter"]: row["used"] for row in provenance}
    assert used["current_sworn"] == used["authorized_strength"] == used["population"] == "unknown"
    notes = " ".join(row["note"] for row in provenance)
    assert "Nowhere Heights's sworn officers serving today is not in its parameters or data" in notes
    assert "Ferguson" not in notes


def test_known_facts_keep_the_register_relative_range_and_hires_scale_per_officer():
    facts = resolve_agency_facts("testville", {}, fbi_claims(58), AGENCIES, POPULATION)
    register, _ = agency_register(load_register(), facts)
    rows = register.set_index("id")
    # register current_sworn 26 / 29 / 35: the same relative range around 58 is 52 / 58 / 70
    assert tuple(rows.loc["current_sworn", ["low", "central", "high"]]) == (52, 58, 70)
    assert rows.loc["current_sworn", "origin"] == "data"
    # register hires 2 / 4 / 7 for 29 officers: twice the department, twice the hires
    assert tuple(rows.loc["status_quo_hires_per_year", ["low", "central", "high"]]) == (4, 10, 24)


def test_every_agency_fact_in_the_parameters_needs_its_source():
    with pytest.raises(ParameterError) as caught:
        load_params(None, ["current_sworn=12", "population=5000"])
    assert "current_sworn needs current_sworn_source" in str(caught.value)
    assert "population needs population_source" in str(caught.value)


def test_another_agencys_params_file_cannot_lend_its_facts():
    with pytest.raises(ParameterError) as caught:
        load_params(PARAMS_DIR / "ferguson.yaml", base={"agency": "florissant"})
    for name in ("authorised_strength", "current_sworn", "display_name"):
        assert f"{name} in " in str(caught.value) and "is ferguson's" in str(caught.value)


def test_ferguson_params_carry_its_facts_with_sources():
    params, _ = load_params(PARAMS_DIR / "ferguson.yaml")
    facts = params.agency_facts()
    assert facts["authorised_strength"] == 42 and facts["authorised_strength_year"] == 2023
    assert facts["current_sworn"] == 29 and "Post-Dispatch" in facts["current_sworn_source"]
    assert "../shared" not in (PARAMS_DIR / "ferguson.yaml").read_text()


def test_template_lists_every_fact_and_what_the_data_know(tmp_path):
    data = {"display_name": "Testville", "current_sworn": (12, 2021), "population": (6000, 2024, "ACS 2024")}
    text = params_template("testville", data)
    assert "12 sworn officers in 2021" in text and "6,000 residents (ACS 2024)" in text
    for field in ("authorised_strength", "authorised_strength_source", "authorised_strength_is_proxy"):
        assert f"\n{field}:" in text
    path = tmp_path / "testville.yaml"
    path.write_text(text)
    params, _ = load_params(path)  # the blank template is valid and gives no fact
    assert params.agency == "testville" and params.authorised_strength is None and params.current_sworn is None
    bare = params_template("nowhere", {"display_name": "Nowhere"})
    assert "Not in the FBI police employee data" in bare and "No census population" in bare


def test_cli_init_writes_the_template_once(tmp_path, monkeypatch):
    from heartbeats_analysis import cli, params, paths

    monkeypatch.setattr(paths, "PARAMS_DIR", tmp_path)
    monkeypatch.setattr(params, "_data_facts", lambda slug: {"display_name": "Florissant"})
    monkeypatch.setattr("heartbeats_analysis.ingest.agency_lookup.resolve_agency", lambda query: query)
    runner = CliRunner()
    first = runner.invoke(cli.app, ["params", "--init", "--agency", "florissant"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "florissant.yaml").read_text().startswith("# Build parameters for Florissant")
    again = runner.invoke(cli.app, ["params", "--init", "--agency", "florissant"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_batch_index_shows_sections_and_where_each_fact_came_from(tmp_path):
    import json

    from heartbeats_analysis.build.batch import BatchResult, coverage, write_index

    brief = tmp_path / "testville" / "brief.html"
    brief.parent.mkdir()
    brief.write_text("<html></html>")
    claims = [
        {"id": "staffing.latest_sworn", "value": 12, "flags": []},
        {"id": "crime.no_data", "value": None, "flags": ["no_data"]},
        {"id": "stops.total", "value": 5, "flags": []},
        {"id": "model.input_source_current_sworn", "value": "data", "flags": []},
        {"id": "model.input_source_authorized_strength", "value": "unknown", "flags": []},
        {"id": "model.input_source_population", "value": "params", "flags": []},
        {"id": "model.input_source_agency_capture_share", "value": "general assumption", "flags": []},
    ]
    (brief.parent / "claims.json").write_text(json.dumps(claims))
    found = coverage(brief.parent / "claims.json")
    assert found["sections"] == {
        "staffing": "data",
        "crime": "no data",
        "stops": "data",
        "force": "no data",
        "calls": "no data",
    }
    assert found["facts"]["current_sworn"] == "data" and found["facts"]["authorized_strength"] == "unknown"
    assert found["facts"]["population"] == "params"
    assert found["facts"]["status_quo_hires_per_year"] == "unknown"  # no claim: nothing is assumed
    page = write_index(
        [BatchResult("testville", True, 1.0, str(brief)), BatchResult("nowhere", False, 1.0, "no such agency")],
        tmp_path / "index.html",
    ).read_text()
    assert "<th>authorised strength</th>" in page and '<td class="no">unknown</td>' in page
    assert '<td class="yes">general assumption</td>' in page and "failed: no such agency" in page
