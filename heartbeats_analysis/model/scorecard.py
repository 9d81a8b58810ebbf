"""The claims scorecard: each claim of the proposal, a verdict, its basis, the numbers behind it and the sources.

Verdicts (the shared vocabulary of the model and the brief):

* ``supported``: the evidence points the claimed way for the claim as worded;
* ``partly supported``: the evidence points that way for part of the claim, or for a weaker form of it;
* ``not supported``: the evidence, or a bound over every plausible input, contradicts the claim;
* ``unproven``: the claim could hold, but what speaks for it is a model assumption, a null result or
  low-quality evidence;
* ``no evidence either way``: no study or data speaks to it.

Every verdict has a **basis**: ``local data`` (a public data set about the place, e.g. the BLS wage
survey), ``research evidence`` (published studies, with a quality grade A-D) or ``model assumption``.
The rules (docs/model.md, "Verdict rules"), applied in :func:`apply_rules` after each claim's own
judgement:

1. ``supported`` or ``partly supported`` needs local data or research evidence of grade A or B that
   points the claimed way; otherwise the verdict becomes ``unproven``. So no assumption range, null
   result or grade C/D study can make a claim (partly) supported, whatever the model's draws say.
2. ``not supported`` needs local data or research evidence against the claim, or a bound over the
   whole plausible input range; a model assumption alone gives ``unproven``.
3. A claim no study or data speaks to is ``no evidence either way``.

Every number in a sentence is formatted from the model results, the register or the wage survey, never
typed; agency names come from the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from heartbeats_analysis.analysis.stats import Estimate
from heartbeats_analysis.model.inputs import AgencyFacts
from heartbeats_analysis.model.salary import closest_to_entry_pay, highest_possible_ratio
from heartbeats_analysis.model.summary import fmt
from heartbeats_analysis.report.claims import ClaimsRegistry

SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
UNPROVEN = "unproven"
NO_EVIDENCE = "no evidence either way"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, UNPROVEN, NO_EVIDENCE)

LOCAL_DATA = "local data"
RESEARCH = "research evidence"
ASSUMPTION = "model assumption"
BASES = (LOCAL_DATA, RESEARCH, ASSUMPTION)
STRONG_GRADES = ("A", "B")

FOR, AGAINST, NULL, NONE = "for", "against", "null", "none"
"""Which way the evidence behind a verdict points."""

Numbers = Mapping[str, "Estimate | float"]

# Analysis claims whose sentence, when the claim exists, is added to a row.
ANALYSIS_CONTEXT: dict[str, tuple[str, ...]] = {
    "fills_officer_shortage": ("staffing.gap_to_authorised",),
    "reduces_racial_targeting": (
        "stops.black_disparity_latest",
        "stops.search_rate_ratio",
        "stops.threshold_black_white_diff",
    ),
    "prevents_excessive_force": ("force.agency_incidents_wapo",),
}


@dataclass(frozen=True)
class Basis:
    """What a verdict rests on, how good it is, which way it points and what would settle the claim."""

    kind: str
    grade: str = ""
    direction: str = NONE
    summary: str = ""
    would_settle: str = ""

    def __post_init__(self) -> None:
        if self.kind not in BASES:
            raise ValueError(f"unknown basis {self.kind!r}; use one of {', '.join(BASES)}")

    @property
    def can_support(self) -> bool:
        """Rule 1: only strong local data or research evidence pointing the claimed way supports a claim."""
        return self.kind != ASSUMPTION and self.grade in STRONG_GRADES and self.direction == FOR

    @property
    def can_refute(self) -> bool:
        """Rule 2: a claim is refuted by data, research or a bound, never by an assumption alone."""
        return self.kind != ASSUMPTION and self.direction == AGAINST

    @property
    def label(self) -> str:
        """E.g. 'local data (grade A)', 'research evidence (grade A, no effect found)', 'model assumption'."""
        if self.kind == RESEARCH and not self.grade:
            return f"{RESEARCH} (none found)"
        if not self.grade:
            return self.kind
        direction = ", no effect found" if self.direction == NULL else ""
        return f"{self.kind} (grade {self.grade}{direction})"


def apply_rules(proposed: str, basis: Basis) -> str:
    """The verdict the evidence allows, given the verdict a claim's own judgement proposes."""
    if proposed not in VERDICTS:
        raise ValueError(f"unknown verdict {proposed!r}")
    if proposed in (SUPPORTED, PARTLY) and not basis.can_support:
        return UNPROVEN
    if proposed == NOT_SUPPORTED and not basis.can_refute:
        return UNPROVEN
    return proposed


@dataclass(frozen=True)
class Verdict:
    verdict: str
    sentence: str
    register_ids: tuple[str, ...]
    headline: str = ""  # one plain sentence for the brief's summary
    basis: Basis = field(default_factory=lambda: Basis(ASSUMPTION))


@dataclass(frozen=True)
class Context:
    """What the scorecard needs beyond the model numbers: names and local data for the agency in hand."""

    agency_name: str = "the department"
    salary_survey: pd.DataFrame | None = None  # model.salary.survey_ratios for the metro area
    doj_investigated: bool = False  # the agency is the one the DOJ's 2015 investigation covers
    facts: AgencyFacts | None = None  # which agency facts are known; a result needing an unknown one is not computed


def _sim(est: Estimate, spec: str = "{:.0f}") -> str:
    """Median with the range of the simulations, labelled."""
    return f"{fmt(est.value, spec)} (90% of simulations between {fmt(est.lower, spec)} and {fmt(est.upper, spec)})"


def _signed(est: Estimate, spec: str = "{:+.1f}") -> str:
    return (
        f"{fmt(est.value, spec)} a year (90% of simulations between {fmt(est.lower, spec)} and {fmt(est.upper, spec)})"
    )


def _value(register: pd.DataFrame, key: str, column: str = "central") -> float:
    return float(register.loc[register["id"] == key, column].iloc[0])


def _weakest_grade(register: pd.DataFrame, ids: tuple[str, ...]) -> str:
    """The lowest quality among register rows ('assumption' below D)."""
    order = ("A", "B", "C", "D", "assumption")
    grades = register.set_index("id").loc[list(ids), "quality"]
    return max(grades, key=order.index)


def _pipeline_basis(register: pd.DataFrame, ids: tuple[str, ...], summary: str, would_settle: str) -> Basis:
    """Model assumption when any deciding register row is an assumption; else research evidence of the
    weakest grade among them (its direction is the model's, so it never counts as support by itself)."""
    grade = _weakest_grade(register, ids)
    if grade == "assumption":
        return Basis(ASSUMPTION, "", NONE, summary, would_settle)
    return Basis(RESEARCH, grade, NONE, summary, would_settle)


def _unknown_fact(context: Context, key: str) -> str:
    """The sentence saying what cannot be computed when an agency fact is unknown, else ''."""
    if context.facts is None or context.facts.known(key):
        return ""
    return context.facts.missing_sentence(key)


def _officer_shortage(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    added, p_hb, p_sq = n["added_officers_y5"], n["p_full_strength_hb_y5"], n["p_full_strength_sq_y5"]
    year, horizon = int(n["headline_year"]), int(n["horizon_years"])
    unknown = _unknown_fact(context, "current_sworn") or _unknown_fact(context, "authorized_strength")
    if unknown:
        # without the sworn count or the target, no shortage can be measured and none is invented
        basis = Basis(ASSUMPTION, "", NONE, unknown, "The department's sworn count and authorised strength.")
        return Verdict(NO_EVIDENCE, unknown, ("current_sworn", "authorized_strength"), unknown, basis)
    if p_hb >= 0.8:
        proposed = SUPPORTED
    elif added.value >= 1:
        proposed = PARTLY
    else:
        proposed = NOT_SUPPORTED
    deciding = ("umsl_sw_graduates_per_year", "sw_grad_interest_share", "screening_pass_rate")
    basis = _pipeline_basis(
        register,
        deciding,
        "How many graduates would apply, pass screening and join is not reported anywhere; the model's "
        "pipeline inputs are assumptions with wide ranges.",
        "UMSL's yearly social-work completions (IPEDS) and a recruiting pilot that counts how many graduates "
        "apply, pass screening, finish the academy and join.",
    )
    sentence = (
        f"The program would yield {_sim(n['program_recruits_per_year'], '{:.1f}')} sworn recruits a year for "
        f"{context.agency_name}; with every input at its central value, "
        f"{fmt(n.get('central_program_recruits_per_year', float('nan')), '{:.2f}')}. "
        f"By year {year} it adds {_sim(added)} officers over status-quo hiring; the department is at its full "
        f"authorised strength in {p_hb:.0%} of simulated futures with the program and {p_sq:.0%} without it "
        f"(year {horizon}: {n['p_full_strength_hb_final']:.0%} and {n['p_full_strength_sq_final']:.0%}). "
        f"Vacancies in year {year}: {_sim(n['vacancies_hb_y5'])} with the program, {_sim(n['vacancies_sq_y5'])} "
        "without. These numbers follow from assumed pipeline inputs, so they cannot show the claim true or false."
    )
    headline = (
        f"It would add about {fmt(added.value, '{:.0f}')} officers by year {year} (90% of simulations between "
        f"{fmt(added.lower, '{:.0f}')} and {fmt(added.upper, '{:.0f}')}), a result resting on assumed recruiting "
        "rates: unproven until a pilot counts real recruits."
    )
    ids = (
        "current_sworn",
        "authorized_strength",
        "attrition_rate",
        "status_quo_hires_per_year",
        *deciding,
        "academy_completion_rate",
    )
    return Verdict(proposed, sentence, ids, headline, basis)


def _salary(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    threshold = _value(register, "nearly_double_threshold")
    bound = highest_possible_ratio(register)
    county, msw = _value(register, "officer_starting_salary"), _value(register, "sw_entry_salary")
    alternatives = (
        f"Alternatives: the St. Louis County pay scale (${county:,.0f}) against the national survey of new MSWs "
        f"(${msw:,.0f}) gives {county / msw:.2f} times; across every combination of the register's pay ranges the "
        f"highest possible ratio is {bound:.2f}. No salary schedule for {context.agency_name}'s own officers was found."
    )
    survey = context.salary_survey
    if survey is not None and not survey.empty:
        low, high = survey.loc[survey["ratio"].idxmin()], survey.loc[survey["ratio"].idxmax()]
        entry = closest_to_entry_pay(survey, county, msw)
        at_entry = survey[survey["proxy"] == entry]
        proposed = NOT_SUPPORTED if high["ratio"] < threshold else SUPPORTED if low["ratio"] >= threshold else PARTLY
        direction = AGAINST if proposed == NOT_SUPPORTED else FOR
        basis = Basis(
            LOCAL_DATA,
            "A",
            direction,
            f"BLS Occupational Employment and Wage Statistics, May 2025, {low['area_name']} metro area.",
            "A salary schedule for the agency's own officers, and the starting pay offered to new MSW graduates "
            "in the region.",
        )
        sentence = (
            f"In the BLS wage survey for the {low['area_name']} metro area (May 2025), a patrol officer earns "
            f"{low['ratio']:.2f} to {high['ratio']:.2f} times a social worker at the same percentile (10th, 25th "
            f"or median; child and family, healthcare, or mental-health social workers). No combination reaches "
            f"{threshold:.1f} times ('nearly doubling'); the highest is {high['ratio']:.2f} "
            f"({high['proxy_label']}, {high['social_work_label']}). Closest to a new graduate's entry pay is the "
            f"{at_entry['proxy_label'].iloc[0]}: {at_entry['ratio'].min():.2f} to {at_entry['ratio'].max():.2f} "
            f"times. {alternatives}"
        )
        headline = (
            f"A new officer earns {at_entry['ratio'].min():.2f} to {at_entry['ratio'].max():.2f} times a new social "
            f"worker at entry pay (BLS, {low['area_name']}); no definition of pay reaches {threshold:.1f} times, the "
            f"highest is {high['ratio']:.2f}."
        )
    else:
        proposed = NOT_SUPPORTED if bound < threshold else PARTLY
        grade = _weakest_grade(register, ("sw_entry_salary", "officer_starting_salary"))
        basis = Basis(
            RESEARCH,
            grade,
            AGAINST if bound < threshold else NONE,
            "Pay surveys and the St. Louis County pay scale (the BLS wage survey table was not available).",
            "A salary schedule for the agency's own officers.",
        )
        sentence = (
            f"No plausible combination of the pay figures reaches {threshold:.1f} times; the highest is "
            f"{bound:.2f}. A probationary officer earns {_sim(n['salary_ratio'], '{:.2f}')} times a new social "
            f"worker's entry salary. {alternatives}"
        )
        headline = (
            f"No plausible combination of the pay figures reaches {threshold:.1f} times a social worker's entry "
            f"pay; the highest is {bound:.2f}."
        )
    return Verdict(
        proposed, sentence, ("sw_entry_salary", "officer_starting_salary", "academy_recruit_salary"), headline, basis
    )


def _force(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    change = n["force_change_heartbeats"]
    low, central, high = (_value(register, "force_rr_sw_officer", c) for c in ("low", "central", "high"))
    proposed = PARTLY if change.value < 0 else NO_EVIDENCE
    basis = Basis(
        RESEARCH,
        _weakest_grade(register, ("force_rr_sw_officer",)),
        NULL,
        "Meta-analyses of crisis-intervention training find no effect on objective force measures; the favourable "
        "studies (officer education, one matched co-responder study) are indirect.",
        "An evaluation comparing force by officers with social-work degrees with other officers at comparable "
        "calls, or the agency's own use-of-force records by officer training.",
    )
    sentence = (
        "No evaluation of sworn officers with social-work degrees exists. The proxies disagree: more-educated "
        f"officers used force less often, one matched co-responder study found "
        f"{abs(_value(register, 'coresponder_force_ate')) * 100:.0f} percentage points less force, and meta-analyses "
        f"of CIT training found no significant effect on objective force measures. The model assumes a relative "
        f"risk of {central:.2f} ({low:.2f} to {high:.2f}), so its expected change, {_signed(change)} use-of-force "
        f"incidents, reflects that assumption rather than evidence of prevention. A civilian responder: "
        f"{_signed(n['force_change_civilian_responder'])}."
    )
    headline = (
        "No study of sworn social workers exists and crisis-training studies find no effect on force: "
        "the claim is unproven."
    )
    return Verdict(
        proposed,
        sentence,
        ("force_rr_sw_officer", "base_force_rate", "coresponder_force_ate", "relevant_share_of_calls"),
        headline,
        basis,
    )


def _services(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    referrals, arrests = n["referrals_change_heartbeats"], n["arrests_change_heartbeats"]
    basis = Basis(
        RESEARCH,
        "B",
        FOR,
        "Observational studies of CIT-trained officers find more referrals to services (a proxy, graded one step "
        "down from the studies themselves); the CIT meta-analysis finds no effect on arrests.",
        "Referral, citation and arrest outcomes of calls handled by the program's officers against comparable "
        "calls, in a pilot with a comparison group.",
    )
    sentence = (
        f"CIT-trained officers refer more people to services, mainly where services exist, but the meta-analysis of "
        f"CIT found no significant effect on arrests (p = {_value(register, 'cit_arrest_meta_p'):.3f}), so the "
        f"'instead of fines and jail' part has no support. The model's referral change, {_signed(referrals)}, and "
        f"arrest change, {_signed(arrests)}, only restate these inputs. A civilian responder: referrals "
        f"{_signed(n['referrals_change_civilian_responder'])}, arrests "
        f"{_signed(n['arrests_change_civilian_responder'])}. Fewer fines would also cut court revenue."
    )
    headline = (
        "Crisis-trained officers refer more people to services, but the research finds no effect on arrests: "
        "partly supported, by evidence on a proxy."
    )
    return Verdict(
        PARTLY,
        sentence,
        ("referral_rr_sw_officer", "arrest_rr_sw_officer", "base_referral_rate", "civilian_referral_rr"),
        headline,
        basis,
    )


def _racial(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    basis = Basis(
        RESEARCH,
        "",
        NONE,
        "No study of CIT, co-responders or officers with social-work degrees measures racial disparities.",
        "Stop, search and arrest rates by race (with outcome and threshold tests) before and after officers with "
        "social-work training join, in this or a comparable department.",
    )
    doj = (
        f"The DOJ found Black residents were {_value(register, 'doj_black_share_population'):.0%} of "
        f"{context.agency_name}'s population but {_value(register, 'doj_black_share_arrests'):.0%} of arrests "
        "(2012-14). "
        if context.doj_investigated
        else ""
    )
    sentence = doj + (
        "No study was found showing that CIT, co-responders or officers with social-work degrees change racial "
        f"disparities in stops, arrests or jailing. The model's overall arrest change is "
        f"{_signed(n['arrests_change_heartbeats'])}; it has no basis to say how that would fall by race."
    )
    headline = (
        "No study shows that officers with social-work training change racial disparities in stops, arrests or jail."
    )
    ids = ("doj_black_share_population", "doj_black_share_arrests") if context.doj_investigated else ()
    return Verdict(NO_EVIDENCE, sentence, (*ids, "arrest_rr_sw_officer"), headline, basis)


def _trust(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    basis = Basis(
        RESEARCH,
        "",
        NONE,
        "No study of CIT, co-responders or sworn social workers measures trust.",
        "Repeated resident surveys of trust in the police, by race, before and after the program.",
    )
    distrust = f", and the DOJ found great distrust of the department in {context.agency_name}"
    sentence = (
        f"Only {_value(register, 'gallup_black_confidence_2021'):.0%} of Black adults nationally had a great deal or "
        f"quite a lot of confidence in police (Gallup 2021){distrust if context.doj_investigated else ''}. No study "
        "was found that CIT, co-responders or sworn social workers raise trust; the model does not estimate it."
    )
    headline = "No study shows that crisis training, co-responders or sworn social workers raise trust in police."
    return Verdict(NO_EVIDENCE, sentence, ("gallup_black_confidence_2021",), headline, basis)


def _frees_officers(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    freed, added = n["heartbeats_officer_equivalents_freed"], n["added_officers_y5"]
    proposed = PARTLY if added.value >= 1 or freed.value >= 1 else NOT_SUPPORTED
    basis = _pipeline_basis(
        register,
        ("repeat_call_reduction", "sw_grad_interest_share"),
        "Extra patrol time comes from officers the program adds (assumed recruiting rates) and from fewer repeat "
        "calls (one anecdotal report, grade D).",
        "The agency's call records (time per call, repeat calls at the same address) before and after a pilot.",
    )
    sentence = (
        f"Heartbeats adds patrol time mainly by adding officers, {_sim(added)} more by year "
        f"{int(n['headline_year'])}, as any successful hiring would. Fewer repeat calls free "
        f"{_sim(freed, '{:.2f}')} officer equivalents. A civilian responder frees "
        f"{_sim(n['civilian_officer_equivalents_freed'], '{:.1f}')} officer equivalents by taking calls off police. "
        f"The call workload needs {_sim(n['workload_officers_needed'])} sworn officers."
    )
    headline = (
        "Extra patrol time would come mainly from hiring more officers, at assumed recruiting rates; a civilian "
        f"responder would free {_sim(n['civilian_officer_equivalents_freed'], '{:.1f}')} officer equivalents."
    )
    return Verdict(
        proposed,
        sentence,
        ("repeat_call_reduction", "civilian_diversion_share", "calls_per_resident", "minutes_per_unit_call"),
        headline,
        basis,
    )


def _crime(n: Numbers, register: pd.DataFrame, context: Context) -> Verdict:
    basis = Basis(
        RESEARCH,
        "",
        NONE,
        "No study of sworn social workers and crime; the one quasi-experimental estimate concerns a civilian "
        "program (Denver STAR) and is contested.",
        "Crime trends in a department that hired officers with social-work degrees against comparable departments.",
    )
    sentence = (
        f"The only quasi-experimental estimate is for a civilian program: Denver STAR areas saw "
        f"{abs(_value(register, 'star_low_level_crime_effect')):.0%} fewer reports of the targeted low-level crimes, "
        "an estimate others contest, and no change in serious crime. No study of sworn social workers and crime was "
        "found; the model does not estimate crime."
    )
    headline = "No study links sworn social workers to crime; the one estimate for a civilian program is contested."
    return Verdict(NO_EVIDENCE, sentence, ("star_low_level_crime_effect",), headline, basis)


@dataclass(frozen=True)
class ProposalClaim:
    slug: str
    text: str
    judge: Callable[[Numbers, pd.DataFrame, Context], Verdict]


PROPOSAL_CLAIMS: tuple[ProposalClaim, ...] = (
    ProposalClaim("fills_officer_shortage", "Fills the officer shortage", _officer_shortage),
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


SURVEY_SOURCE = (
    "BLS Occupational Employment and Wage Statistics, May 2025 (occupation_wages.csv) https://www.bls.gov/oes/"
)


def build_scorecard(
    numbers: Numbers,
    register: pd.DataFrame,
    analysis_claims: ClaimsRegistry | None = None,
    context: Context | None = None,
) -> pd.DataFrame:
    """One row per proposal claim: verdict (after the rules), basis, the numbers behind it and its sources."""
    context = context or Context()
    rows = []
    for claim in PROPOSAL_CLAIMS:
        judged = claim.judge(numbers, register, context)
        verdict = apply_rules(judged.verdict, judged.basis)
        sentence, extra_sources = judged.sentence, []
        for claim_id in ANALYSIS_CONTEXT.get(claim.slug, ()):
            if analysis_claims is not None and claim_id in analysis_claims:
                sentence += f" From the data analysis: {analysis_claims[claim_id].sentence}"
                extra_sources.append(f"claim {claim_id}")
        if judged.basis.kind == LOCAL_DATA and claim.slug == "nearly_doubles_salary":
            extra_sources.insert(0, SURVEY_SOURCE)
        rows.append(
            {
                "claim_id": f"scorecard.{claim.slug}",
                "slug": claim.slug,
                "proposal_claim": claim.text,
                "verdict": verdict,
                "proposed_verdict": judged.verdict,
                "basis": judged.basis.kind,
                "basis_grade": judged.basis.grade,
                "basis_label": judged.basis.label,
                "basis_summary": judged.basis.summary,
                "would_settle": judged.basis.would_settle,
                "numbers": sentence,
                "headline": judged.headline,
                "sources": _sources(register, judged.register_ids) + extra_sources,
                "register_ids": list(judged.register_ids),
            }
        )
    return pd.DataFrame(rows)


def record_scorecard(claims: ClaimsRegistry, scorecard: pd.DataFrame, notebook: str | None = None) -> None:
    """``scorecard.<slug>`` (verdict and numbers; flags ``basis:<kind>`` and ``grade:<grade>``),
    ``scorecard_summary.<slug>`` (one sentence) and ``scorecard_basis.<slug>`` (basis and what would settle it)."""
    function = "heartbeats_analysis.model.scorecard.build_scorecard"
    for row in scorecard.to_dict("records"):
        flags = [f"basis:{row['basis']}"] + ([f"grade:{row['basis_grade']}"] if row["basis_grade"] else [])
        claims.record(
            row["claim_id"],
            row["verdict"],
            "verdict",
            f"{row['proposal_claim']}: {row['verdict']} (basis: {row['basis_label']}). {row['numbers']}",
            source=row["sources"],
            function=function,
            notebook=notebook,
            flags=flags,
        )
        claims.record(
            f"scorecard_summary.{row['slug']}",
            row["verdict"],
            "verdict",
            f"{row['proposal_claim']}: {row['verdict']}. {row['headline']}",
            source=row["sources"],
            function=function,
            notebook=notebook,
            flags=flags,
        )
        claims.record(
            f"scorecard_basis.{row['slug']}",
            row["basis_label"],
            "basis",
            f"Basis: {row['basis_label']}. {row['basis_summary']} What would settle it: {row['would_settle']}",
            source=row["sources"],
            function=function,
            notebook=notebook,
            flags=flags,
        )
