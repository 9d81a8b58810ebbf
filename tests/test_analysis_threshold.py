"""The threshold test: data preparation, the tail integrals, convergence checks and a synthetic recovery."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from heartbeats_analysis.analysis import threshold_model as threshold


@pytest.fixture(autouse=True)
def float64():
    """The fit runs in float64 (it enables it itself); the closed forms are checked in float64 too."""
    import numpyro

    numpyro.enable_x64()


def _stops(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["agency_slug", "year", "race", "stops", "searches", "contraband"]).astype(
        {"stops": "Int64", "searches": "Int64", "contraband": "Int64"}
    )


def test_pooled_counts_leave_out_gaps_inconsistent_rows_and_other_years():
    stops = _stops(
        [
            ("a", 2019, "white", 100, 50, 5),  # before 2020: not pooled
            ("a", 2020, "white", 100, 10, 4),
            ("a", 2022, "white", 200, 20, 6),
            ("a", 2023, "white", 50, pd.NA, 1),  # a gap: left out, not zero
            ("a", 2024, "white", 60, 3, 9),  # more finds than searches: left out
            ("a", 2020, "black", 300, 30, 10),
            ("a", 2020, "asian", 10, 1, 0),  # not a modelled race
        ]
    )
    pooled = threshold.pooled_counts(stops).set_index(["agency_slug", "race"])
    assert pooled.loc[("a", "white")].tolist() == [300, 30, 10]
    assert pooled.loc[("a", "black")].tolist() == [300, 30, 10]
    assert len(pooled) == 2
    bad = threshold.inconsistent_rows(stops)
    assert bad[["agency_slug", "year", "race"]].values.tolist() == [["a", 2024, "white"]]


def test_inclusion_needs_enough_white_and_black_searches_and_not_every_one_a_hit():
    pooled = pd.DataFrame(
        {
            "agency_slug": ["a", "a", "b", "b", "c", "d", "d"],
            "race": ["white", "black", "white", "black", "black", "white", "black"],
            "stops": [100, 100, 100, 100, 100, 100, 100],
            "searches": [10, 12, 9, 50, 40, 20, 15],
            "contraband": [1, 1, 1, 1, 1, 20, 3],
        }
    )
    table = threshold.inclusion(pooled, min_searches=10).set_index("agency_slug")
    assert table["included"].to_dict() == {"a": True, "b": False, "c": False, "d": False}
    assert table.loc["d", "every_search_found_contraband"]
    assert not table.loc["a", "every_search_found_contraband"]
    assert table.loc["c", "white_searches"] == 0
    cells = threshold.model_cells(pooled, table.reset_index())
    assert cells["agency_slug"].tolist() == ["a", "a"]
    assert cells["race"].tolist() == ["white", "black"]


@pytest.mark.parametrize(("phi", "delta", "t"), [(0.05, 2.0, 0.2), (0.02, 1.5, 0.1), (0.1, 1.0, 0.5), (0.3, 3.0, 0.6)])
def test_closed_form_rates_match_a_direct_integration_of_the_signal_model(phi, delta, t):
    """Search and hit rates from the closed forms against numerical integrals over the signal's mixture density."""
    cutoff = float(threshold.signal_cutoff(np.array(t), np.array(phi), np.array(delta)))
    # The cutoff is where the risk curve reaches the threshold.
    risk = special.expit(special.logit(phi) + delta * cutoff - delta**2 / 2)
    assert risk == pytest.approx(t, rel=1e-9)
    assert float(threshold.risk_threshold(np.array(cutoff), np.array(phi), np.array(delta))) == pytest.approx(t)
    found = integrate.quad(lambda x: phi * stats.norm.pdf(x, delta, 1), cutoff, np.inf)[0]
    empty = integrate.quad(lambda x: (1 - phi) * stats.norm.pdf(x, 0, 1), cutoff, np.inf)[0]
    search, hit = threshold.rates(np.array(cutoff), np.array(phi), np.array(delta))
    assert float(search) == pytest.approx(found + empty, rel=1e-6)
    assert float(hit) == pytest.approx(found / (found + empty), rel=1e-6)
    # The hit rate exceeds the threshold: searched drivers are all riskier than the bar.
    assert float(hit) > t


def test_rates_stay_finite_far_in_the_tail():
    search, hit = threshold.rates(np.array(9.0), np.array(0.01), np.array(2.0))
    assert 0 < float(search) < 1e-9
    assert 0 < float(hit) <= 1


def _diagnostics(**changes) -> dict:
    return {"max_rhat": 1.01, "min_ess_bulk": 400.0, "divergences": 0, "draws": 2000, **changes}


def test_convergence_check_passes_a_good_fit_and_fails_loudly_otherwise():
    threshold.check_convergence(_diagnostics())
    with pytest.raises(threshold.ThresholdConvergenceError, match="R-hat 1.200"):
        threshold.check_convergence(_diagnostics(max_rhat=1.2))
    with pytest.raises(threshold.ThresholdConvergenceError, match="effective sample size 40"):
        threshold.check_convergence(_diagnostics(min_ess_bulk=40.0))
    with pytest.raises(threshold.ThresholdConvergenceError, match="1 divergent"):
        threshold.check_convergence(_diagnostics(divergences=1))
    with pytest.raises(threshold.ThresholdConvergenceError, match="R-hat 1.011"):
        threshold.check_convergence(_diagnostics(max_rhat=1.011))
    with pytest.raises(threshold.ThresholdConvergenceError, match="R-hat nan"):
        threshold.check_convergence(_diagnostics(max_rhat=float("nan")))


SYNTHETIC_AGENCIES = 30
PHI_R = {"white": -3.0, "black": -2.6}
LAMBDA_R = {"white": 0.7, "black": 0.8}


def _truth() -> dict:
    """Known parameters for 30 agencies (seeded): agency effects at the model's prior scales, thresholds 10-35%."""
    rng = np.random.default_rng(7)
    return {
        "phi_d": rng.normal(0, 0.3, SYNTHETIC_AGENCIES),
        "lambda_d": rng.normal(0, 0.1, SYNTHETIC_AGENCIES),
        "t": {race: rng.uniform(0.10, 0.35, SYNTHETIC_AGENCIES) for race in PHI_R},
    }


def _synthetic(truth: dict) -> pd.DataFrame:
    """Counts at their expected values under the signal model, 5,000 stops per agency and race. (Fewer agencies
    leave the race terms too loosely tied for the agency term of delta: six agencies gave divergences.)"""
    rows = []
    for d in range(SYNTHETIC_AGENCIES):
        for race in PHI_R:
            phi = special.expit(PHI_R[race] + truth["phi_d"][d])
            delta = np.exp(LAMBDA_R[race] + truth["lambda_d"][d])
            cutoff = (special.logit(truth["t"][race][d]) - special.logit(phi)) / delta + delta / 2
            found = phi * stats.norm.sf(cutoff - delta)
            search = found + (1 - phi) * stats.norm.sf(cutoff)
            searches = round(5000 * search)
            rows.append((f"agency-{d:02d}", race, 5000, searches, round(searches * found / search)))
    cells = pd.DataFrame(rows, columns=["agency_slug", "race", "stops", "searches", "contraband"])
    included = threshold.inclusion(cells)
    return threshold.model_cells(cells, included)


def test_sampler_recovers_known_thresholds_within_its_intervals():
    truth = _truth()
    cells = _synthetic(truth)
    assert len(cells) == 2 * SYNTHETIC_AGENCIES
    result = threshold.fit(cells, chains=2, warmup=500, samples=1000, seed=1)
    threshold.check_convergence(result.diagnostics)
    tables = threshold.summarise(result)
    got = tables["thresholds"]
    expected = np.array(
        [truth["t"][r][int(a.split("-")[1])] for a, r in zip(got["agency_slug"], got["race"], strict=True)]
    )
    inside = (got["threshold_lower"] <= expected) & (expected <= got["threshold_upper"])
    assert inside.all(), got.assign(truth=expected)
    # The posterior predictive check reproduces the observed rates.
    summary = threshold.ppc_summary(tables["ppc"])
    assert threshold.ppc_passes(summary), summary
    assert summary["search_rate_mae_pp"] < 0.5
    # Differences and the statewide average come out for the two modelled races (equal stops: a plain mean).
    assert set(tables["differences"]["race"]) == {"black"}
    state = tables["state"].set_index("race")
    white = truth["t"]["white"].mean()
    assert state.loc["white", "threshold_lower"] <= white <= state.loc["white", "threshold_upper"]
    json.dumps(result.diagnostics)  # diagnostics are written as JSON by the build step


def test_the_statewide_fit_step_reruns_only_when_stops_or_the_model_change(tmp_path, monkeypatch):
    from heartbeats_analysis.build import threshold_fit
    from heartbeats_analysis.build.steps import BuildResult

    processed = tmp_path / "processed"
    processed.mkdir()
    (processed / "stops.csv").write_text("agency_slug,year\na,2020\n")
    (processed / "crime.csv").write_text("x\n1\n")
    fits = []

    def fake_fit(folder, processed_dir):
        fits.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in threshold.FIT_FILES:
            (folder / name).write_text("x\n")

    monkeypatch.setattr(threshold_fit, "run_fit", fake_fit)

    monkeypatch.setenv("HEARTBEATS_PROCESSED_DIR", str(processed))

    def run() -> list:
        result = BuildResult("a", tmp_path)
        threshold_fit.run_threshold_fit(False, None, result)
        return [status for _, status, _ in result.steps]

    assert run() == ["ran"]
    assert run() == ["skipped"]
    (processed / "crime.csv").write_text("x\n2\n")  # another table: the fit is reused
    assert run() == ["skipped"]
    (processed / "stops.csv").write_text("agency_slug,year\na,2021\n")
    assert run() == ["ran"]
    (threshold.fit_dir(processed) / "ppc.csv").unlink()  # an output gone: rerun
    assert run() == ["ran"]
    assert len(fits) == 3


def test_a_failed_fit_stops_the_build_with_its_reason(tmp_path, monkeypatch):
    from heartbeats_analysis.build import threshold_fit

    class Done:
        returncode = 1
        stdout = ""
        stderr = "Traceback\nThresholdConvergenceError: The threshold model did not converge: largest R-hat 1.3"

    monkeypatch.setattr(threshold_fit.subprocess, "run", lambda *a, **k: Done())
    with pytest.raises(threshold_fit.ThresholdFitError, match="R-hat 1.3"):
        threshold_fit.run_fit(tmp_path / "fit", tmp_path)


def test_the_build_step_names_the_models_own_files():
    from heartbeats_analysis.build import threshold_fit

    assert threshold_fit.FIT_FILES == threshold.FIT_FILES
    assert Path(threshold.__file__).resolve() == threshold_fit.MODEL_FILE
    assert threshold.__name__ == threshold_fit.MODEL_MODULE
    assert threshold.fit_dir(Path("p")) == Path("p") / threshold_fit.FIT_FOLDER


def test_the_state_gap_averages_each_agencys_own_gap_over_agencies_with_both_cells():
    """Hand-computed: the Hispanic gap covers only the agency with a Hispanic cell (like with like), and each
    race's average weights an agency by its stops of all races."""
    cells = pd.DataFrame(
        {
            "agency_slug": ["a", "a", "a", "b", "b"],
            "race": ["white", "black", "hispanic", "white", "black"],
            "stops": [100, 100, 100, 200, 300],
            "searches": [10, 10, 10, 10, 10],
            "contraband": [3, 3, 3, 3, 3],
            "agency_index": [0, 0, 0, 1, 1],
            "race_index": [0, 1, 2, 0, 1],
        }
    )
    t = np.array([[0.20, 0.10, 0.05, 0.30, 0.40]] * 4)  # four identical draws: intervals collapse to the value
    rates = np.full_like(t, 0.1)
    fit = threshold.Fit(cells, {"t": t, "search_rate": rates, "hit_rate": rates}, {})
    state = threshold.summarise(fit)["state"].set_index("race")
    # Weights: agency a 300 stops, agency b 500.
    assert state.loc["white", "threshold"] == pytest.approx((300 * 0.20 + 500 * 0.30) / 800)
    assert state.loc["black", "threshold"] == pytest.approx((300 * 0.10 + 500 * 0.40) / 800)
    assert state.loc["black", "difference"] == pytest.approx((300 * -0.10 + 500 * 0.10) / 800)
    assert state.loc["hispanic", "difference"] == pytest.approx(0.05 - 0.20)  # agency a alone
    assert np.isnan(state.loc["white", "difference"])


def test_the_agency_signal_term_gets_a_start_of_its_own_unless_a_version_leaves_it_out():
    cells = _synthetic(_truth())
    main = threshold.initial_values(cells, chains=2, seed=0)
    assert main["phi_d_raw"].shape == main["lambda_d_raw"].shape == (2, 29)  # 30 agencies, zero-sum: 29 free
    one_separation = threshold.PRIOR_VARIANTS["one signal quality for every agency"]
    assert "lambda_d_raw" not in threshold.initial_values(cells, chains=2, seed=0, priors=one_separation)
    assert threshold.PRIOR_VARIANTS["main"] == threshold.PRIORS
    assert threshold.PRIORS.lambda_agency_scale == 0.1  # the Open Policing Project's scale


def _sensitivity_runs(fingerprint: str, bad_rhat: float = 1.002) -> pd.DataFrame:
    rows = []
    for variant, rhat, state_gap, agency_gap in (("main", 1.002, -0.02, 0.09), ("wide", bad_rhat, -0.05, 0.03)):
        for scope, gap in (("missouri", state_gap), ("ferguson", agency_gap)):
            rows.append(
                {
                    "variant": variant,
                    "scope": scope,
                    "quantity": "black minus white",
                    "estimate": gap,
                    "lower": gap - 0.01,
                    "upper": gap + 0.01,
                    "max_rhat": rhat,
                    "min_ess_bulk": 900,
                    "divergences": 0,
                    "stops_fingerprint": fingerprint,
                    "model_fingerprint": "model",
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("fingerprint", "bad_rhat", "expected", "flags"),
    [
        (
            "abc",
            1.002,
            "Refitted under 2 versions of the model (2 converged), Missouri's average Black-white gap in search "
            "thresholds ranged from -5.0 to -2.0 points (below zero in every version), and Ferguson's from +3.0 to "
            "+9.0 points (above zero in every version); the version that moved the state's gap most was "
            "\u201cwide\u201d.",
            [],
        ),
        (
            "abc",
            1.2,
            "ranged from -2.0 to -2.0 points (below zero in every version), and Ferguson's from +9.0 to +9.0 points "
            "(above zero in every version); the version that moved the state's gap most was \u201cmain\u201d. Not "
            "converged, so not counted: wide.",
            [],
        ),
        ("old", 1.002, "run on other stops data or another version of the model; rerun the check.", ["stale"]),
    ],
)
def test_the_sensitivity_claim_reports_the_range_drops_unconverged_refits_and_flags_stale_ones(
    tmp_path, monkeypatch, fingerprint, bad_rhat, expected, flags
):
    from heartbeats_analysis.analysis import threshold as report
    from heartbeats_analysis.report.notebook_io import NotebookContext

    monkeypatch.setattr(report, "load_sensitivity", lambda: _sensitivity_runs(fingerprint, bad_rhat))
    ctx = NotebookContext.for_notebook(tmp_path, "08-threshold", "ferguson")
    fit = threshold.ThresholdFit(*([pd.DataFrame()] * 6), {"stops_fingerprint": "abc", "model_fingerprint": "model"})
    agencies = pd.DataFrame({"agency_slug": ["ferguson"], "display_name": ["Ferguson"]})
    report.report_sensitivity(ctx, fit, agencies, "ferguson")
    claim = ctx.claims["stops.threshold_model_sensitivity"]
    assert expected in claim.sentence
    assert claim.flags == flags


def _gap(estimate: float, lower: float, upper: float) -> pd.Series:
    return pd.Series({"difference": estimate, "difference_lower": lower, "difference_upper": upper})


@pytest.mark.parametrize(
    ("gap", "robust", "kind", "words"),
    [
        # A direction is stated only when the interval excludes zero AND every model version agrees.
        ((-0.05, -0.08, -0.02), (-0.15, -0.05, True, False, True), "lower", "lower search bar for Black"),
        ((0.05, 0.02, 0.08), (0.03, 0.09, False, True, True), "higher", "higher search bar for Black"),
        # Versions that exclude zero on different sides: the model decides, not the data.
        ((0.13, 0.11, 0.15), (-0.11, 0.13, False, False, True), "model-dependent", "cannot settle"),
        ((-0.05, -0.08, -0.02), (-0.15, 0.01, False, False, True), "model-dependent", "cannot settle"),
        ((0.09, -0.01, 0.18), (-0.15, 0.09, False, False, True), "model-dependent", "versions of the model disagree"),
        # No version excludes zero: too little data.
        ((0.09, -0.01, 0.18), (-0.02, 0.09, False, False, False), "unclear", "no version of the model can tell"),
    ],
)
def test_a_gap_states_a_direction_only_when_every_model_version_agrees(gap, robust, kind, words):
    from heartbeats_analysis.analysis import threshold as report

    verdict = report.gap_verdict(_gap(*gap), report.Robustness(*robust), "in Town")
    assert verdict.kind == kind
    assert words in verdict.text
    assert ("model_dependent" in verdict.flags) == (kind == "model-dependent")


def test_without_a_check_on_the_same_data_the_verdict_says_it_is_unchecked(monkeypatch):
    from heartbeats_analysis.analysis import threshold as report

    monkeypatch.setattr(report, "load_sensitivity", lambda: _sensitivity_runs("old"))
    fit = threshold.ThresholdFit(*([pd.DataFrame()] * 6), {"stops_fingerprint": "abc", "model_fingerprint": "model"})
    assert report.robustness(fit, "ferguson") is None
    verdict = report.gap_verdict(_gap(-0.05, -0.08, -0.02), None, "in Town")
    assert verdict.kind == "lower" and verdict.flags == ["unchecked"]
    assert "was not run on this data and model" in verdict.text
    monkeypatch.setattr(report, "load_sensitivity", lambda: _sensitivity_runs("abc"))
    assert report.robustness(fit, "ferguson") == report.Robustness(0.03, 0.09, False, True, True)
    # Another model version (its code changed) makes the stored check stale too.
    other_model = threshold.ThresholdFit(
        *([pd.DataFrame()] * 6), {"stops_fingerprint": "abc", "model_fingerprint": "new"}
    )
    assert report.robustness(other_model, "ferguson") is None
