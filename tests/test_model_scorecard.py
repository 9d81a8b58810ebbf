"""The claims scorecard: verdict rules on hand-made numbers, sentences, sources and recorded claims."""

from __future__ import annotations

import pytest

from heartbeats_analysis.model.assumptions import load_register
from heartbeats_analysis.model.inputs import AgencyFacts, Fact, agency_register
from heartbeats_analysis.model.scorecard import (
    NO_EVIDENCE,
    NOT_SUPPORTED,
    PARTLY,
    PROPOSAL_CLAIMS,
    SUPPORTED,
    VERDICTS,
    build_scorecard,
    record_scorecard,
)
from heartbeats_analysis.model.summary import Estimate
from heartbeats_analysis.report.claims import ClaimsRegistry


def est(mean: float, low: float, high: float) -> Estimate:
    return Estimate(mean, mean, low, high, 0.9)


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


def test_one_row_per_proposal_claim_with_a_known_verdict(register):
    table = build_scorecard(numbers(), register)
    assert list(table["slug"]) == [c.slug for c in PROPOSAL_CLAIMS]
    assert len(table) == 8
    assert set(table["verdict"]) <= set(VERDICTS)
    assert table["sources"].map(len).min() >= 1
    assert table["claim_id"].str.startswith("scorecard.").all()


def test_verdicts_for_the_central_case(register):
    got = verdicts(build_scorecard(numbers(), register))
    assert got == {
        "fills_officer_shortage": PARTLY,
        "nearly_doubles_salary": NOT_SUPPORTED,
        "prevents_excessive_force": PARTLY,
        "routes_to_services": PARTLY,
        "reduces_racial_targeting": NO_EVIDENCE,
        "builds_trust": NO_EVIDENCE,
        "frees_officers": PARTLY,
        "reduces_crime_at_root": NO_EVIDENCE,
    }


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [(est(1.25, 1.04, 1.47), NOT_SUPPORTED), (est(1.7, 1.5, 1.95), PARTLY), (est(2.0, 1.85, 2.2), SUPPORTED)],
)
def test_salary_verdict_follows_the_ratio_interval(register, ratio, expected):
    assert verdicts(build_scorecard(numbers(salary_ratio=ratio), register))["nearly_doubles_salary"] == expected


@pytest.mark.parametrize(
    ("p_hb", "added", "expected"),
    [(0.9, est(10, 5, 15), SUPPORTED), (0.2, est(3, 0, 8), PARTLY), (0.03, est(0.2, 0, 1), NOT_SUPPORTED)],
)
def test_shortage_verdict_follows_staffing_results(register, p_hb, added, expected):
    table = build_scorecard(numbers(p_full_strength_hb_y5=p_hb, added_officers_y5=added), register)
    assert verdicts(table)["fills_officer_shortage"] == expected


def test_no_outcome_claim_is_better_than_partly_supported_without_direct_evidence(register):
    strong = numbers(force_change_heartbeats=est(-20, -30, -10), referrals_change_heartbeats=est(300, 200, 400))
    got = verdicts(build_scorecard(strong, register))
    assert got["prevents_excessive_force"] == PARTLY
    assert got["routes_to_services"] == PARTLY


def test_no_reduction_in_force_means_no_evidence_either_way(register):
    table = build_scorecard(numbers(force_change_heartbeats=est(0.5, -1, 2)), register)
    assert verdicts(table)["prevents_excessive_force"] == NO_EVIDENCE


def test_no_added_capacity_means_freeing_officers_is_not_supported(register):
    table = build_scorecard(numbers(added_officers_y5=est(0.3, 0, 1)), register)
    assert verdicts(table)["frees_officers"] == NOT_SUPPORTED


def test_sentences_carry_the_numbers(register):
    ferguson = AgencyFacts("ferguson", "Ferguson")
    table = build_scorecard(numbers(), register, facts=ferguson).set_index("slug")
    salary = table.loc["nearly_doubles_salary", "numbers"]
    assert "1.25 (1.04 to 1.47) times" in salary
    assert "Ferguson's own starting salary was not found" in salary
    assert "$57,616" in salary and "$47,100" in salary
    assert (
        "13% of simulated futures with the program and 3% without it" in table.loc["fills_officer_shortage", "numbers"]
    )
    assert "67%" in table.loc["reduces_racial_targeting", "numbers"]
    assert "93%" in table.loc["reduces_racial_targeting", "numbers"]
    assert "arrests: 0.0 a year (-10.5 to +11.1)" in table.loc["routes_to_services", "numbers"]


def test_analysis_claims_are_added_when_present(register):
    claims = ClaimsRegistry()
    claims.record("stops.black_disparity_latest", 1.6, "ratio", "Black drivers were stopped at 1.6 times their share.")
    table = build_scorecard(numbers(), register, claims).set_index("slug")
    row = table.loc["reduces_racial_targeting"]
    assert "From the data analysis: Black drivers were stopped at 1.6 times their share." in row["numbers"]
    assert "claim stops.black_disparity_latest" in row["sources"]


def test_recorded_claims_hold_the_verdict_as_value(register):
    claims = ClaimsRegistry()
    record_scorecard(claims, build_scorecard(numbers(), register), notebook="07-program-model")
    salary = claims["scorecard.nearly_doubles_salary"]
    assert salary.value == NOT_SUPPORTED
    assert salary.unit == "verdict"
    assert salary.sentence.startswith("Nearly doubles social workers' entry salary: not supported.")
    assert any("socialworkers.org" in s for s in salary.source)
    assert len([c for c in claims if c.id.startswith("scorecard.")]) == 8


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
    text = scorecard_text(build_scorecard(numbers(), used, facts=facts))
    assert "Testville" in text
    for other in OTHER_AGENCIES:
        assert other not in text, other


def test_testville_without_authorised_strength_invents_no_target(register):
    facts = make_testville(current_sworn=12, population=5000)
    used, provenance = agency_register(register, facts)
    assert {r["parameter"]: r["used"] for r in provenance}["authorized_strength"] == "unknown"
    table = build_scorecard(numbers(), used, facts=facts).set_index("slug")
    row = table.loc["fills_officer_shortage"]
    assert "Testville's authorised (budgeted) sworn strength is not in its parameters or data" in row["numbers"]
    assert "full authorised strength" not in row["numbers"] and "full strength" not in row["headline"]
    assert "42" not in row["numbers"] + row["headline"]
    assert row["proposal_claim"] == "Fills the department's officer shortage"


def test_testville_without_a_sworn_count_says_staffing_cannot_be_projected(register):
    facts = make_testville(population=5000)
    used, _ = agency_register(register, facts)
    row = build_scorecard(numbers(), used, facts=facts).set_index("slug").loc["fills_officer_shortage"]
    assert row["verdict"] == NO_EVIDENCE
    assert row["numbers"].startswith("Testville's sworn officers serving today is not in its parameters or data")
    assert "29" not in row["numbers"]


def test_ferguson_keeps_its_doj_context_and_other_agencies_do_not(register):
    ferguson = scorecard_text(build_scorecard(numbers(), register, facts=AgencyFacts("ferguson", "Ferguson")))
    assert "DOJ found" in ferguson and "Consent Decree" in ferguson
    other = scorecard_text(build_scorecard(numbers(), register, facts=make_testville(current_sworn=12)))
    assert "DOJ" not in other and "Consent Decree" not in other


def test_other_agencies_do_not_cite_the_doj_ferguson_report(register):
    table = build_scorecard(numbers(), register, facts=make_testville(current_sworn=12)).set_index("slug")
    sources = " ".join(table.loc["reduces_racial_targeting", "sources"])
    assert "Ferguson" not in sources
