"""The claims scorecard: each claim of the proposal, a verdict, the numbers behind it and the sources.

Verdicts:

* ``supported``: the evidence and the model's interval both point the claimed way;
* ``partly supported``: some evidence or part of the interval points that way, but the claim as worded
  goes further than the evidence (e.g. "prevents" where proxies suggest a small reduction);
* ``not supported``: the evidence or the model's interval contradicts the claim;
* ``no evidence either way``: no study or data speaks to it.

No study of sworn officers holding a social-work degree exists, so no outcome claim can be better
than "partly supported". Every number in a sentence is formatted from the model results or the
register, never typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from heartbeats_analysis.model.inputs import AgencyFacts
from heartbeats_analysis.model.summary import Estimate, fmt
from heartbeats_analysis.report.claims import ClaimsRegistry

SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
NO_EVIDENCE = "no evidence either way"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, NO_EVIDENCE)

Numbers = Mapping[str, "Estimate | float"]

# Analysis claims whose sentence, when the claim exists, is added to a row.
ANALYSIS_CONTEXT: dict[str, tuple[str, ...]] = {
    "fills_officer_shortage": ("staffing.gap_to_authorised",),
    "reduces_racial_targeting": (
        "stops.black_white_rate_ratio_latest",
        "stops.black_disparity_latest",
        "stops.search_rate_ratio",
        "arrests.black_minor_per_1000_latest",
    ),
    "prevents_excessive_force": ("force.agency_incidents_wapo",),
}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    sentence: str
    register_ids: tuple[str, ...]
    headline: str = ""  # one plain sentence for the brief's summary


def _range(est: Estimate, spec: str = "{:.0f}") -> str:
    return f"{fmt(est.mean, spec)} ({fmt(est.low, spec)} to {fmt(est.high, spec)})"


def _signed(est: Estimate, spec: str = "{:+.1f}") -> str:
    return f"{fmt(est.mean, spec)} a year ({fmt(est.low, spec)} to {fmt(est.high, spec)})"


def _value(register: pd.DataFrame, key: str, column: str = "central") -> float:
    return float(register.loc[register["id"] == key, column].iloc[0])


def _name(facts: AgencyFacts | None) -> str:
    return facts.display_name if facts is not None else "the department"


def _unknown(register: pd.DataFrame, key: str) -> bool:
    origin = register.loc[register["id"] == key, "origin"] if "origin" in register else pd.Series(dtype=str)
    return bool((origin == "unknown").any())


def _missing(facts: AgencyFacts | None, key: str) -> str:
    if facts is not None:
        return facts.missing_sentence(key)
    return f"The model has no value for {key.replace('_', ' ')}, so the results that need it cannot be computed."


def _officer_shortage(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    added, p_hb, p_sq = n["added_officers_y5"], n["p_full_strength_hb_y5"], n["p_full_strength_sq_y5"]
    year, horizon = int(n["headline_year"]), int(n["horizon_years"])
    name = _name(facts)
    ids = (
        "current_sworn",
        "authorized_strength",
        "attrition_rate",
        "status_quo_hires_per_year",
        "umsl_sw_graduates_per_year",
        "sw_grad_interest_share",
        "academy_completion_rate",
    )
    if _unknown(register, "current_sworn"):
        # without a sworn count nothing about staffing can be projected; no target is invented
        sentence = _missing(facts, "current_sworn")
        return Verdict(NO_EVIDENCE, sentence, ids, sentence)
    no_target = _unknown(register, "authorized_strength")
    if not no_target and p_hb >= 0.8:
        verdict = SUPPORTED
    elif added.mean >= 1:
        verdict = PARTLY
    else:
        verdict = NOT_SUPPORTED
    recruits = _range(n["program_recruits_per_year"], "{:.1f}")
    if no_target:
        sentence = (
            f"The program would yield about {recruits} sworn recruits a year for {name}. By year {year} it adds "
            f"{_range(added)} officers over status-quo hiring. {_missing(facts, 'authorized_strength')}"
        )
        headline = (
            f"It would add about {fmt(added.mean, '{:.0f}')} officers to {name}'s police department by year {year}; "
            f"whether that fills a shortage cannot be said without {name}'s authorised strength."
        )
        return Verdict(verdict, sentence, ids, headline)
    sentence = (
        f"The program would yield about {recruits} sworn recruits a year for {name}. "
        f"By year {year} it adds {_range(added)} officers over status-quo hiring; the department is at its full "
        f"authorised strength in {p_hb:.0%} of simulated futures with the program and {p_sq:.0%} without it "
        f"(year {horizon}: {n['p_full_strength_hb_final']:.0%} and {n['p_full_strength_sq_final']:.0%}). "
        f"Vacancies in year {year}: {_range(n['vacancies_hb_y5'])} with the program, "
        f"{_range(n['vacancies_sq_y5'])} without."
    )
    headline = (
        f"It would add about {fmt(added.mean, '{:.0f}')} officers to {name}'s police department by year {year}; "
        f"the department reaches full strength "
        f"in {p_hb:.0%} of simulated futures with it, against {p_sq:.0%} without it."
    )
    return Verdict(verdict, sentence, ids, headline)


def _salary(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    ratio, first, threshold = (
        n["salary_ratio"],
        n["salary_ratio_first_year"],
        _value(register, "nearly_double_threshold"),
    )
    if ratio.high < threshold:
        verdict = NOT_SUPPORTED
    elif ratio.low >= threshold:
        verdict = SUPPORTED
    else:
        verdict = PARTLY
    sentence = (
        f"A probationary officer earns {_range(ratio, '{:.2f}')} times a new social worker's entry salary; over the first "
        f"year, half of it at academy pay, {_range(first, '{:.2f}')} times. A rise of {threshold:.1f} times or more "
        f"('nearly doubling') occurs in {n['p_salary_nearly_doubles']:.0%} of draws. {_name(facts)}'s own starting salary "
        f"was not found: the officer figures are St. Louis County (${_value(register, 'officer_starting_salary'):,.0f}) and "
        f"national comparators, against a mean MSW starting salary of ${_value(register, 'sw_entry_salary'):,.0f}."
    )
    headline = (
        f"A new officer earns {_range(ratio, '{:.2f}')} times a new social worker's entry pay; a rise of "
        f"{threshold:.1f} times or more occurs in {n['p_salary_nearly_doubles']:.0%} of simulated draws."
    )
    return Verdict(
        verdict, sentence, ("sw_entry_salary", "officer_starting_salary", "academy_recruit_salary"), headline
    )


def _force(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    change = n["force_change_heartbeats"]
    low, central, high = (_value(register, "force_rr_sw_officer", c) for c in ("low", "central", "high"))
    verdict = PARTLY if change.mean < 0 else NO_EVIDENCE
    sentence = (
        "No evaluation of sworn officers with social-work degrees exists. The proxies disagree: more-educated "
        f"officers used force less often, one matched co-responder study found "
        f"{abs(_value(register, 'coresponder_force_ate')) * 100:.0f} percentage points less force, and meta-analyses "
        "of CIT training found no "
        f"significant effect on objective force measures; the model uses a relative risk of {central:.2f} "
        f"({low:.2f} to {high:.2f}). With the share of calls the program's officers would take, it expects "
        f"{_signed(change)} use-of-force incidents against the status quo: a possible small reduction, not prevention. "
        f"A civilian responder: {_signed(n['force_change_civilian_responder'])}."
    )
    headline = (
        f"No study of sworn social workers exists; borrowed estimates suggest {_signed(change)} use-of-force "
        "incidents, a possible small reduction rather than prevention."
    )
    return Verdict(
        verdict,
        sentence,
        ("force_rr_sw_officer", "base_force_rate", "coresponder_force_ate", "relevant_share_of_calls"),
        headline,
    )


def _services(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    referrals, arrests = n["referrals_change_heartbeats"], n["arrests_change_heartbeats"]
    verdict = PARTLY if referrals.low > 0 else NO_EVIDENCE
    sentence = (
        f"Referrals to services: {_signed(referrals)}; arrests: {_signed(arrests)}. CIT-trained officers refer more "
        f"people to services, mainly where services exist, but the meta-analysis of CIT found no significant effect on "
        f"arrests (p = {_value(register, 'cit_arrest_meta_p'):.3f}), so the model's central arrest effect is none. "
        f"A civilian responder: referrals {_signed(n['referrals_change_civilian_responder'])}, arrests "
        f"{_signed(n['arrests_change_civilian_responder'])}. Fewer fines would also cut court revenue."
    )
    headline = f"Referrals to services change by {_signed(referrals)}; the research finds no clear effect on arrests."
    return Verdict(
        verdict,
        sentence,
        ("referral_rr_sw_officer", "arrest_rr_sw_officer", "base_referral_rate", "civilian_referral_rr"),
        headline,
    )


def _racial(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    # the DOJ's findings are Ferguson facts: shown only in Ferguson's brief
    ferguson = facts is None or facts.is_ferguson
    doj = (
        f"The DOJ found Black residents were {_value(register, 'doj_black_share_population'):.0%} of Ferguson's "
        f"population but {_value(register, 'doj_black_share_arrests'):.0%} of arrests (2012-14). "
        if ferguson
        else ""
    )
    sentence = (
        f"{doj}No study was found "
        f"showing that CIT, co-responders or officers with social-work degrees change racial disparities in stops, "
        f"arrests or jailing. The model's overall arrest change is {_signed(n['arrests_change_heartbeats'])}; it has "
        "no basis to say how that would fall by race."
    )
    headline = (
        "No study shows that officers with social-work training change racial disparities in stops, arrests or jail."
    )
    return Verdict(
        NO_EVIDENCE,
        sentence,
        ("doj_black_share_population", "doj_black_share_arrests", "arrest_rr_sw_officer")
        if ferguson
        else ("arrest_rr_sw_officer",),
        headline,
    )


def _trust(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    ferguson = facts is None or facts.is_ferguson  # the DOJ finding is a Ferguson fact
    local = ", and the DOJ found great distrust of the department in Ferguson" if ferguson else ""
    sentence = (
        f"Only {_value(register, 'gallup_black_confidence_2021'):.0%} of Black adults nationally had a great deal or "
        f"quite a lot of confidence in police (Gallup 2021){local}. "
        f"No study was found that CIT, co-responders or sworn social workers raise trust; the model does not estimate it."
    )
    headline = "No study shows that crisis training, co-responders or sworn social workers raise trust in police."
    return Verdict(NO_EVIDENCE, sentence, ("gallup_black_confidence_2021",), headline)


def _frees_officers(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    freed, added = n["heartbeats_officer_equivalents_freed"], n["added_officers_y5"]
    verdict = PARTLY if added.mean >= 1 or freed.mean >= 1 else NOT_SUPPORTED
    sentence = (
        f"Heartbeats adds patrol time mainly by adding officers, {_range(added)} more by year "
        f"{int(n['headline_year'])}, "
        f"as any successful hiring would. Fewer repeat calls from the way its officers handle calls free "
        f"{_range(freed, '{:.2f}')} officer equivalents. A civilian responder frees "
        f"{_range(n['civilian_officer_equivalents_freed'], '{:.1f}')} officer equivalents by taking calls off police. "
        f"The call workload needs {_range(n['workload_officers_needed'])} sworn officers."
    )
    headline = (
        "Extra patrol time would come mainly from hiring more officers; a civilian responder would free "
        f"{_range(n['civilian_officer_equivalents_freed'], '{:.1f}')} officer equivalents."
    )
    return Verdict(
        verdict,
        sentence,
        ("repeat_call_reduction", "civilian_diversion_share", "calls_per_resident", "minutes_per_unit_call"),
        headline,
    )


def _crime(n: Numbers, register: pd.DataFrame, facts: AgencyFacts | None = None) -> Verdict:
    sentence = (
        f"The only quasi-experimental estimate is for a civilian program: Denver STAR areas saw "
        f"{abs(_value(register, 'star_low_level_crime_effect')):.0%} fewer reports of the targeted low-level crimes, "
        "an estimate others contest, and no change in serious crime. No study of sworn social workers and crime was "
        "found; the model does not estimate crime."
    )
    headline = "No study links sworn social workers to crime; the one estimate for a civilian program is contested."
    return Verdict(NO_EVIDENCE, sentence, ("star_low_level_crime_effect",), headline)


@dataclass(frozen=True)
class ProposalClaim:
    slug: str
    text: str
    judge: Callable[[Numbers, pd.DataFrame, AgencyFacts | None], Verdict]
    text_elsewhere: str = ""  # the claim as it applies to an agency other than Ferguson, when it differs

    def text_for(self, facts: AgencyFacts | None) -> str:
        return self.text_elsewhere if self.text_elsewhere and facts is not None and not facts.is_ferguson else self.text


PROPOSAL_CLAIMS: tuple[ProposalClaim, ...] = (
    ProposalClaim(
        "fills_officer_shortage",
        "Fills the officer shortage the Consent Decree requires",
        _officer_shortage,
        "Fills the department's officer shortage",
    ),
    ProposalClaim("nearly_doubles_salary", "Nearly doubles social workers' entry salary", _salary),
    ProposalClaim("prevents_excessive_force", "Prevents excessive force", _force),
    ProposalClaim("routes_to_services", "Routes people to services instead of fines and jail", _services),
    ProposalClaim("reduces_racial_targeting", "Reduces the targeting and incarceration of Black residents", _racial),
    ProposalClaim("builds_trust", "Builds trust", _trust),
    ProposalClaim("frees_officers", "Frees officers for other work, such as speeding enforcement", _frees_officers),
    ProposalClaim("reduces_crime_at_root", "Reduces crime at the root", _crime),
)


def _sources(register: pd.DataFrame, ids: tuple[str, ...]) -> list[str]:
    rows = register.set_index("id")
    cited = []
    for key in ids:
        text = rows.loc[key, "source"]
        url = rows.loc[key, "url"]
        entry = f"{text} {url}".strip() if url else text
        if entry not in cited:
            cited.append(entry)
    return cited


def build_scorecard(
    numbers: Numbers,
    register: pd.DataFrame,
    analysis_claims: ClaimsRegistry | None = None,
    facts: AgencyFacts | None = None,
) -> pd.DataFrame:
    """One row per proposal claim: verdict, the numbers behind it (a sentence) and its sources.

    ``facts`` gives the agency's name and which facts are unknown; Ferguson-only context (the DOJ's
    findings) appears only when the agency is Ferguson (or in library use without facts)."""
    rows = []
    for claim in PROPOSAL_CLAIMS:
        judged = claim.judge(numbers, register, facts)
        sentence, extra_sources = judged.sentence, []
        for claim_id in ANALYSIS_CONTEXT.get(claim.slug, ()):
            if analysis_claims is not None and claim_id in analysis_claims:
                sentence += f" From the data analysis: {analysis_claims[claim_id].sentence}"
                extra_sources.append(f"claim {claim_id}")
        rows.append(
            {
                "claim_id": f"scorecard.{claim.slug}",
                "slug": claim.slug,
                "proposal_claim": claim.text_for(facts),
                "verdict": judged.verdict,
                "numbers": sentence,
                "headline": judged.headline,
                "sources": _sources(register, judged.register_ids) + extra_sources,
                "register_ids": list(judged.register_ids),
            }
        )
    return pd.DataFrame(rows)


def record_scorecard(claims: ClaimsRegistry, scorecard: pd.DataFrame, notebook: str | None = None) -> None:
    for row in scorecard.to_dict("records"):
        claims.record(
            row["claim_id"],
            row["verdict"],
            "verdict",
            f"{row['proposal_claim']}: {row['verdict']}. {row['numbers']}",
            source=row["sources"],
            function="heartbeats_analysis.model.scorecard.build_scorecard",
            notebook=notebook,
        )
        claims.record(
            f"scorecard_summary.{row['slug']}",
            row["verdict"],
            "verdict",
            f"{row['proposal_claim']}: {row['verdict']}. {row['headline']}",
            source=row["sources"],
            function="heartbeats_analysis.model.scorecard.build_scorecard",
            notebook=notebook,
        )
