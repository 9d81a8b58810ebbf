"""The claims scorecard: verdict rules on hand-made numbers, sentences, sources and recorded claims."""

from __future__ import annotations

import pandas as pd
import pytest

from heartbeats_analysis.analysis.stats import SIMULATION, Estimate
from heartbeats_analysis.model.assumptions import ModelParameters, apply_overrides, load_register
from heartbeats_analysis.model.inputs import AgencyFacts, Fact, agency_register
from heartbeats_analysis.model.scenarios import run_model
from heartbeats_analysis.model.scorecard import (
    ASSUMPTION,
    LOCAL_DATA,
    NO_EVIDENCE,
    NOT_SUPPORTED,
    PARTLY,
    PROPOSAL_CLAIMS,
    RESEARCH,
    SUPPORTED,
    UNPROVEN,
    VERDICTS,
    Basis,
    Context,
    apply_rules,
    build_scorecard,
    record_scorecard,
)
from heartbeats_analysis.model.summary import headline_numbers
from heartbeats_analysis.report.claims import ClaimsRegistry


def est(median: float, low: float, high: float) -> Estimate:
    return Estimate(median, low, high, 0.9, SIMULATION, n=1000, mean=median)


def survey(ratios: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A tiny survey_ratios table: (proxy, occupation) -> ratio, with officer pay 60,000."""
    labels = {"annual_p10": "10th percentile", "annual_p25": "25th percentile", "annual_median": "median"}
    return pd.DataFrame(
        [
            {
                "area_level": "metro",
                "area_name": "St. Louis, MO-IL",
                "proxy": proxy,
                "proxy_label": labels[proxy],
                "social_work_occupation": code,
                "social_work_label": f"occupation {code}",
                "officer_pay": 60_000.0,
                "social_worker_pay": 60_000.0 / ratio,
                "ratio": ratio,
            }
            for (proxy, code), ratio in ratios.items()
        ]
    )


ST_LOUIS = survey(
    {
        ("annual_p10", "21-1021"): 1.156,
        ("annual_p25", "21-1021"): 1.286,
        ("annual_p25", "21-1023"): 1.392,
        ("annual_median", "21-1023"): 1.479,
    }
)


def numbers(**changes) -> dict:
    base = {
        "headline_year": 5.0,
        "horizon_years": 10.0,
        "salary_ratio": est(1.25, 1.04, 1.47),
        "salary_ratio_first_year": est(1.05, 0.93, 1.18),
        "p_salary_nearly_doubles": 0.0,
        "p_full_strength_sq_y5": 0.03,
        "p_full_strength_hb_y5": 0.13,
        "p_full_strength_sq_final": 0.05,
        "p_full_strength_hb_final": 0.19,
        "added_officers_y5": est(4.3, 0, 11),
        "vacancies_sq_y5": est(14, 2, 25),
        "vacancies_hb_y5": est(10, 0, 21),
        "program_recruits_per_year": est(1.4, 0.2, 3.5),
        "central_program_recruits_per_year": 0.74,
        "workload_officers_needed": est(34, 17, 57),
        "civilian_officer_equivalents_freed": est(0.6, 0.3, 1.1),
        "heartbeats_officer_equivalents_freed": est(0.05, 0, 0.16),
        "force_change_heartbeats": est(-2.2, -7.5, 0.0),
        "force_change_civilian_responder": est(-8, -19, -2),
        "arrests_change_heartbeats": est(0.0, -10.5, 11.1),
        "arrests_change_civilian_responder": est(-28, -68, -6),
        "referrals_change_heartbeats": est(52, 3.5, 164),
        "referrals_change_civilian_responder": est(113, 21, 275),
    }
    base.update(changes)
    return base


@pytest.fixture(scope="module")
def register():
    return load_register()


def verdicts(table) -> dict[str, str]:
    return dict(zip(table["slug"], table["verdict"], strict=True))


def test_one_row_per_proposal_claim_with_a_known_verdict_and_basis(register):
    table = build_scorecard(numbers(), register)
    assert list(table["slug"]) == [c.slug for c in PROPOSAL_CLAIMS]
    assert len(table) == 8
    assert set(table["verdict"]) <= set(VERDICTS)
    assert set(table["basis"]) <= {LOCAL_DATA, RESEARCH, ASSUMPTION}
    assert table["would_settle"].str.len().min() > 20
    assert table["sources"].map(len).min() >= 1
    assert table["claim_id"].str.startswith("scorecard.").all()


def test_verdicts_for_the_central_case(register):
    table = build_scorecard(numbers(), register, context=Context("Testville", ST_LOUIS))
    assert verdicts(table) == {
        "fills_officer_shortage": UNPROVEN,
        "nearly_doubles_salary": NOT_SUPPORTED,
        "prevents_excessive_force": UNPROVEN,
        "routes_to_services": PARTLY,
        "reduces_racial_targeting": NO_EVIDENCE,
        "builds_trust": NO_EVIDENCE,
        "frees_officers": UNPROVEN,
        "reduces_crime_at_root": NO_EVIDENCE,
    }
    basis = dict(zip(table["slug"], table["basis_label"], strict=True))
    assert basis["fills_officer_shortage"] == "model assumption"
    assert basis["nearly_doubles_salary"] == "local data (grade A)"
    assert basis["prevents_excessive_force"] == "research evidence (grade A, no effect found)"
    assert basis["routes_to_services"] == "research evidence (grade B)"
    assert basis["builds_trust"] == "research evidence (none found)"


@pytest.mark.parametrize(
    ("proposed", "basis", "expected"),
    [
        (SUPPORTED, Basis(ASSUMPTION), UNPROVEN),
        (PARTLY, Basis(ASSUMPTION), UNPROVEN),
        (NOT_SUPPORTED, Basis(ASSUMPTION), UNPROVEN),
        (SUPPORTED, Basis(RESEARCH, "A", "null"), UNPROVEN),
        (PARTLY, Basis(RESEARCH, "C", "for"), UNPROVEN),
        (PARTLY, Basis(RESEARCH, "D", "for"), UNPROVEN),
        (PARTLY, Basis(RESEARCH, "B", "for"), PARTLY),
        (SUPPORTED, Basis(LOCAL_DATA, "A", "for"), SUPPORTED),
        (NOT_SUPPORTED, Basis(LOCAL_DATA, "A", "against"), NOT_SUPPORTED),
        (NOT_SUPPORTED, Basis(RESEARCH, "C", "against"), NOT_SUPPORTED),
        (NO_EVIDENCE, Basis(RESEARCH), NO_EVIDENCE),
    ],
)
def test_the_verdict_rules(proposed, basis, expected):
    assert apply_rules(proposed, basis) == expected


def test_an_unknown_verdict_or_basis_is_refused():
    with pytest.raises(ValueError, match="unknown verdict"):
        apply_rules("proven", Basis(ASSUMPTION))
    with pytest.raises(ValueError, match="unknown basis"):
        Basis("hunch")


@pytest.mark.parametrize(
    ("p_hb", "added"),
    [(0.9, est(10, 5, 15)), (0.2, est(3, 0, 8)), (0.03, est(0.2, 0, 1))],
)
def test_the_shortage_verdict_stays_unproven_whatever_the_assumed_pipeline_gives(register, p_hb, added):
    table = build_scorecard(numbers(p_full_strength_hb_y5=p_hb, added_officers_y5=added), register)
    assert verdicts(table)["fills_officer_shortage"] == UNPROVEN
    assert verdicts(table)["frees_officers"] == UNPROVEN


def test_a_large_simulated_force_reduction_is_still_unproven(register):
    strong = numbers(force_change_heartbeats=est(-20, -30, -10), referrals_change_heartbeats=est(300, 200, 400))
    got = verdicts(build_scorecard(strong, register))
    assert got["prevents_excessive_force"] == UNPROVEN
    assert got["routes_to_services"] == PARTLY


@pytest.mark.parametrize(
    ("ratios", "expected"),
    [
        ({("annual_p25", "21-1021"): 1.29, ("annual_median", "21-1023"): 1.48}, NOT_SUPPORTED),
        ({("annual_p25", "21-1021"): 1.6, ("annual_median", "21-1023"): 1.9}, PARTLY),
        ({("annual_p25", "21-1021"): 1.85, ("annual_median", "21-1023"): 2.1}, SUPPORTED),
    ],
)
def test_salary_verdict_follows_the_survey_range(register, ratios, expected):
    table = build_scorecard(numbers(), register, context=Context("Testville", survey(ratios)))
    assert verdicts(table)["nearly_doubles_salary"] == expected


def test_without_the_survey_the_salary_verdict_is_a_bound_over_the_register_ranges(register):
    row = build_scorecard(numbers(), register).set_index("slug").loc["nearly_doubles_salary"]
    assert row["verdict"] == NOT_SUPPORTED
    # 72,280 / 42,280 = 1.7096: the highest officer pay over the lowest social-worker pay
    assert "No plausible combination of the pay figures reaches 1.8 times; the highest is 1.71" in row["numbers"]
    wide = apply_overrides(register, {"officer_starting_salary": {"high": 90_000}})
    row = build_scorecard(numbers(), wide).set_index("slug").loc["nearly_doubles_salary"]
    assert row["verdict"] == UNPROVEN  # 90,000 / 42,280 = 2.13: the bound no longer settles it


def test_sentences_carry_the_numbers_and_the_kind_of_range(register):
    context = Context("Testville", ST_LOUIS)
    table = build_scorecard(numbers(), register, context=context).set_index("slug")
    salary = table.loc["nearly_doubles_salary", "numbers"]
    assert "1.16 to 1.48 times a social worker at the same percentile" in salary
    assert "the highest is 1.48 (median, occupation 21-1023)" in salary
    assert "Closest to a new graduate's entry pay is the 25th percentile: 1.29 to 1.39 times" in salary
    assert "No salary schedule for Testville's own officers was found" in salary
    assert "$57,616" in salary and "$47,100" in salary and "1.22 times" in salary
    shortage = table.loc["fills_officer_shortage", "numbers"]
    assert "1.4 (90% of simulations between 0.2 and 3.5) sworn recruits a year for Testville" in shortage
    assert "with every input at its central value, 0.74" in shortage
    assert "13% of simulated futures with the program and 3% without it" in shortage
    assert (
        "arrest change, 0.0 a year (90% of simulations between -10.5 and +11.1)"
        in table.loc["routes_to_services", "numbers"]
    )


def test_scorecard_text_takes_every_agency_word_from_its_inputs(register):
    table = build_scorecard(numbers(), register, context=Context("Testville", ST_LOUIS))
    text = " ".join(table["numbers"]) + " ".join(table["headline"]) + " ".join(table["proposal_claim"])
    assert "Ferguson" not in text and "Consent Decree" not in text and "DOJ" not in text
    assert "Testville" in text
    doj = build_scorecard(numbers(), register, context=Context("Testville", ST_LOUIS, doj_investigated=True))
    racial = doj.set_index("slug").loc["reduces_racial_targeting", "numbers"]
    assert "67% of Testville's population but 93% of arrests" in racial


def test_analysis_claims_are_added_when_present(register):
    claims = ClaimsRegistry()
    claims.record("stops.black_disparity_latest", 1.6, "ratio", "Black drivers were stopped at 1.6 times their share.")
    table = build_scorecard(numbers(), register, claims).set_index("slug")
    row = table.loc["reduces_racial_targeting"]
    assert "From the data analysis: Black drivers were stopped at 1.6 times their share." in row["numbers"]
    assert "claim stops.black_disparity_latest" in row["sources"]


def test_recorded_claims_hold_the_verdict_and_the_basis(register):
    claims = ClaimsRegistry()
    table = build_scorecard(numbers(), register, context=Context("Testville", ST_LOUIS))
    record_scorecard(claims, table, notebook="07-program-model")
    salary = claims["scorecard.nearly_doubles_salary"]
    assert salary.value == NOT_SUPPORTED
    assert salary.unit == "verdict"
    assert salary.sentence.startswith(
        "Nearly doubles social workers' entry salary: not supported (basis: local data (grade A))."
    )
    assert salary.flags == ["basis:local data", "grade:A"]
    assert any("bls.gov" in s for s in salary.source)
    basis = claims["scorecard_basis.prevents_excessive_force"]
    assert basis.value == "research evidence (grade A, no effect found)"
    assert "What would settle it: An evaluation comparing force" in basis.sentence
    assert claims["scorecard.fills_officer_shortage"].flags == ["basis:model assumption"]
    assert len([c for c in claims if c.id.startswith("scorecard.")]) == 8
    assert len([c for c in claims if c.id.startswith("scorecard_basis.")]) == 8


# ------------------------------------------------ moving an assumption never buys a verdict


def _assumption_moves(register: pd.DataFrame) -> list[tuple[str, str]]:
    rows = register[(register["quality"] == "assumption") & (register["low"] < register["high"])]
    return [(key, end) for key in rows["id"] for end in ("low", "high")]


def _scorecard_for(register: pd.DataFrame) -> pd.DataFrame:
    run = run_model(ModelParameters(seed=7, draws=300, horizon_years=10), register)
    return build_scorecard(headline_numbers(run), run.register, context=Context("Testville", ST_LOUIS))


@pytest.fixture(scope="module")
def baseline(register):
    return _scorecard_for(register)


def test_moving_an_assumption_centre_never_turns_unproven_into_supported(register, baseline):
    unproven = set(baseline.loc[baseline["verdict"] == UNPROVEN, "slug"])
    assert unproven, "the central case has unproven claims"
    for key, end in _assumption_moves(register):
        value = float(register.set_index("id").loc[key, end])
        moved = apply_overrides(register, {key: {"central": value}})
        table = _scorecard_for(moved)
        got = dict(zip(table["slug"], table["verdict"], strict=True))
        for slug in unproven:
            assert got[slug] not in (SUPPORTED, PARTLY), f"{key} centre at its {end} made {slug} {got[slug]}"
        assumed = table[table["basis"] == ASSUMPTION]
        assert not assumed["verdict"].isin([SUPPORTED, PARTLY]).any(), (key, end)


# ---- every agency-specific word comes from the inputs (an invented agency, "Testville")

OTHER_AGENCIES = ("Ferguson", "Florissant", "Pine Lawn", "Consent Decree", "DOJ", "Michael Brown")


def make_testville(**facts: float) -> AgencyFacts:
    given = {key: Fact(key, float(value), "params", f"Testville budget {key}") for key, value in facts.items()}
    return AgencyFacts("testville", "Testville", given)


def scorecard_text(table) -> str:
    return " ".join(table["proposal_claim"]) + " " + " ".join(table["numbers"]) + " " + " ".join(table["headline"])


def test_testville_scorecard_names_testville_and_no_other_agency(register):
    facts = make_testville(current_sworn=12, authorized_strength=15, population=5000)
    used, _ = agency_register(register, facts)
    text = scorecard_text(build_scorecard(numbers(), used, context=_context(facts)))
    assert "Testville" in text
    for other in OTHER_AGENCIES:
        assert other not in text, other


def test_testville_without_authorised_strength_invents_no_target(register):
    facts = make_testville(current_sworn=12, population=5000)
    used, provenance = agency_register(register, facts)
    assert {r["parameter"]: r["used"] for r in provenance}["authorized_strength"] == "unknown"
    table = build_scorecard(numbers(), used, context=_context(facts)).set_index("slug")
    row = table.loc["fills_officer_shortage"]
    assert "Testville's authorised (budgeted) sworn strength is not in its parameters or data" in row["numbers"]
    assert "full authorised strength" not in row["numbers"] and "full strength" not in row["headline"]
    assert "42" not in row["numbers"] + row["headline"]
    assert row["proposal_claim"] == "Fills the officer shortage"


def test_testville_without_a_sworn_count_says_staffing_cannot_be_projected(register):
    facts = make_testville(population=5000)
    used, _ = agency_register(register, facts)
    row = build_scorecard(numbers(), used, context=_context(facts)).set_index("slug").loc["fills_officer_shortage"]
    assert row["verdict"] == NO_EVIDENCE
    assert row["numbers"].startswith("Testville's sworn officers serving today is not in its parameters or data")
    assert "29" not in row["numbers"]


def test_ferguson_keeps_its_doj_context_and_other_agencies_do_not(register):
    ferguson = scorecard_text(
        build_scorecard(numbers(), register, context=_context(AgencyFacts("ferguson", "Ferguson")))
    )
    assert "DOJ found" in ferguson
    other = scorecard_text(build_scorecard(numbers(), register, context=_context(make_testville(current_sworn=12))))
    assert "DOJ" not in other and "Consent Decree" not in other


def test_other_agencies_do_not_cite_the_doj_ferguson_report(register):
    table = build_scorecard(numbers(), register, context=_context(make_testville(current_sworn=12))).set_index("slug")
    sources = " ".join(table.loc["reduces_racial_targeting", "sources"])
    assert "Ferguson" not in sources


def _context(facts: AgencyFacts) -> Context:
    return Context(facts.display_name, None, facts.is_ferguson, facts)
