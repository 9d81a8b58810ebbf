"""Notebook 07: stored clean with a literal parameters cell, and executes end to end with papermill."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest

from heartbeats_analysis.paths import NOTEBOOKS_DIR
from heartbeats_analysis.report.claims import ClaimsRegistry

NOTEBOOK = NOTEBOOKS_DIR / "07-program-model.ipynb"
FIGURES = ("model_staffing_fan", "model_salary", "model_outcomes", "model_tornado", "model_scenarios")


def test_notebook_is_stored_clean_with_a_literal_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "heartbeats"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    parameters = code[0]
    assert parameters.metadata.get("tags") == ["parameters"]
    values = {}
    for statement in ast.parse(parameters.source).body:
        assert isinstance(statement, ast.Assign), "parameters cell holds literal assignments only"
        values[statement.targets[0].id] = ast.literal_eval(statement.value)
    assert values == {
        "agency": "ferguson",
        "build_dir": "",
        "seed": 20161,
        "draws": 10000,
        "horizon_years": 10,
        "overrides": {},
        "agency_facts": {},
    }
    assert nb.cells[0].cell_type == "markdown" and nb.cells[-2].source.startswith("## Limitations")
    assert nb.cells[-1].source.strip() == "ctx.save_claims()"


def execute(tmp_path, **parameters):
    papermill = pytest.importorskip("papermill")
    build_dir = tmp_path / "build"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "executed.ipynb"),
        parameters=dict(build_dir=str(build_dir), **parameters),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=300,
        start_timeout=120,
    )
    return build_dir


@pytest.mark.slow
def test_notebook_runs_and_records_the_model_and_scorecard(tmp_path):
    build_dir = execute(
        tmp_path,
        draws=2000,
        overrides={"attrition_rate": {"central": 0.15}},
        agency_facts={"authorised_strength": 42, "authorised_strength_source": "St. Louis Post-Dispatch 2023-07-05"},
    )
    claims = ClaimsRegistry.load(build_dir / "claims" / "07-program-model.json")
    assert claims["model.salary_ratio"].interval is not None
    assert claims["scorecard.nearly_doubles_salary"].value == "not supported"
    assert len([c for c in claims if c.id.startswith("scorecard.")]) == 8
    # no staffing claims in this build: the FBI count is not there, and no other agency's count stands in
    assert claims["model.input_source_current_sworn"].value == "unknown"
    assert claims["model.input_source_authorized_strength"].value == "params"
    for name in FIGURES:
        meta = json.loads((build_dir / "figures" / f"{name}.json").read_text())
        assert meta["alt_text"]
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    assert not [
        o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"
    ]


@pytest.mark.slow
def test_notebook_stops_on_a_bad_override_with_the_problem_named(tmp_path):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as caught:
        execute(tmp_path, draws=100, overrides={"atrition_rate": 0.2})
    assert "ParameterError" in caught.value.ename
    assert "did you mean attrition_rate" in caught.value.evalue
