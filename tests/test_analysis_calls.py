"""Calls-for-service analysis: shares by city under three mappings, the median and range across cities,
the published figures beside them, and the notebook, on a tiny table with hand-worked answers."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import processed_folder, read_clean_notebook, run_notebook

from heartbeats_analysis.analysis import NoData
from heartbeats_analysis.analysis import calls as C
from heartbeats_analysis.ingest.sources.calls import Rule
from heartbeats_analysis.paths import PROJECT_ROOT
from heartbeats_analysis.report.notebook_io import NotebookContext

NOTEBOOK = PROJECT_ROOT / "notebooks" / "06-calls.ipynb"

RULES = (
    Rule("central", "*", re.compile("WELFARE", re.I), "welfare_assist", "welfare checks"),
    Rule("central", "Behavioral Health", None, "behavioural_health", "mental health"),
    Rule("broad", "Assisting the Public", None, "welfare_assist", "assists are borderline"),
)

# (city, source column, call type, category, count, central group)
ROWS = [
    ("Charleston", "Problem", "MENTAL", "Behavioral Health", 10, "behavioural_health"),
    ("Charleston", "Problem", "WELFARE CHECK", "Statuses", 20, "welfare_assist"),
    ("Charleston", "Problem", "ASSIST", "Assisting the Public", 30, "none"),
    ("Charleston", "Problem", "BURGLARY", "Property Crime", 40, "none"),
    ("Dallas", "Call (911) Problem", "MENTAL", "Behavioral Health", 5, "behavioural_health"),
    ("Dallas", "Call (911) Problem", "BURGLARY", "Property Crime", 95, "none"),
    # a second column of the same city lists the same calls again: it must never be counted
    ("Dallas", "Type of Incident", "MENTAL", "Behavioral Health", 1000, "behavioural_health"),
    ("Detroit", "Call Description", "WELFARE CHECK", "Statuses", 10, "welfare_assist"),
    ("Detroit", "Call Description", "ASSIST", "Assisting the Public", 10, "none"),
    ("Detroit", "Call Description", "BURGLARY", "Property Crime", 80, "none"),
]


@pytest.fixture
def calls() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["city", "source_column", "call_type", "category", "count", "heartbeats_group"])
    frame["count"] = frame["count"].astype("Int64")
    frame["heartbeats_relevant"] = frame["heartbeats_group"].ne("none")
    return frame


@pytest.fixture
def ctx(tmp_path) -> NotebookContext:
    return NotebookContext.for_notebook(tmp_path, "06-calls")


def test_primary_column_only(calls):
    primary = C.primary_calls(calls)
    assert "Type of Incident" not in set(primary["source_column"])
    padded = calls.assign(source_column=calls["source_column"] + " ")  # a header with a trailing space
    assert len(C.primary_calls(padded)) == len(primary)


def test_city_shares_under_each_mapping(calls):
    shares = C.city_mapping_shares(calls, RULES).set_index(["city", "mapping"])["share"].astype(float)
    assert shares[("Charleston", "narrow")] == pytest.approx(0.10)
    assert shares[("Charleston", "central")] == pytest.approx(0.30)
    assert shares[("Charleston", "broad")] == pytest.approx(0.60)
    assert shares[("Dallas", "central")] == pytest.approx(0.05)
    assert shares[("Detroit", "narrow")] == 0
    assert shares[("Detroit", "broad")] == pytest.approx(0.20)


def test_across_cities_median_and_range(calls):
    summary = C.across_cities(C.city_mapping_shares(calls, RULES))
    central = summary["central"]
    assert (central.median, central.low, central.high, central.cities) == pytest.approx((0.10, 0.05, 0.30, 3))
    assert (central.low_city, central.high_city) == ("Dallas", "Charleston")
    assert summary["narrow"].median == pytest.approx(0.05)
    assert summary["broad"].median == pytest.approx(0.20)


def test_group_shares_use_the_central_groups(calls):
    groups = C.city_group_shares(calls)
    welfare = groups[(groups["city"] == "Charleston") & (groups["heartbeats_group"] == "welfare_assist")].iloc[0]
    assert welfare["share"] == pytest.approx(0.20)
    relevant = groups[(groups["city"] == "Detroit") & (groups["heartbeats_group"] == "relevant")].iloc[0]
    assert relevant["share"] == pytest.approx(0.10)


def test_report_claims(ctx, calls):
    table = C.report_shares(ctx, calls, RULES)
    claims = ctx.claims
    central = claims["calls.relevant_share_central"]
    assert central.value == pytest.approx(0.10) and central.interval == pytest.approx((0.05, 0.30))
    assert central.n == 3 and central.flags == ["proxy"]
    assert "10.0%" in central.sentence and "Dallas" in central.sentence and "Charleston" in central.sentence
    assert claims["calls.relevant_share_narrow"].value == pytest.approx(0.05)
    assert claims["calls.relevant_share_broad"].value == pytest.approx(0.20)
    assert claims["calls.cities"].value == 3
    assert claims["calls.group_share_behavioural_health"].value == pytest.approx(0.05)
    assert list(table.columns) == ["city", "narrow", "central", "broad", "calls"]
    assert (ctx.tables_dir / "calls_mapping_sensitivity.csv").is_file()


def test_no_agency_data_claim(ctx):
    agencies = pd.DataFrame({"agency_slug": ["ferguson"], "display_name": ["Ferguson"]})
    result = C.report_agency_data(ctx, "ferguson", agencies)
    assert isinstance(result, NoData)
    claim = ctx.claims["calls.agency_data"]
    assert claim.value is None and claim.flags == ["no_data"] and "Ferguson" in claim.sentence


def test_references_kept_apart(ctx, calls):
    C.report_shares(ctx, calls, RULES)
    table = C.report_references(ctx)
    assert set(table["id"]) == {
        "cahoots_diversion_share",
        "cahoots_handled_share",
        "denver_star_eligible_share",
        "stl_bhr_divertible_share",
    }
    diversion = ctx.claims["reference.cahoots_diversion_share"]
    assert diversion.interval == (0.03, 0.08) and diversion.flags == ["reference"]
    assert ctx.claims["reference.denver_star_eligible_share"].value == 0.028
    assert ctx.claims["calls.relevant_share_central"].value == pytest.approx(0.10)  # ours untouched


def test_figure(ctx, calls):
    figure = C.figure_shares(ctx, calls, RULES)
    assert figure.name == "06-calls-relevant-share"
    assert "Charleston 30.0%" in figure.alt_text and "Denver STAR" in figure.alt_text
    plotted = pd.read_csv(ctx.figures_dir / figure.data_csv)
    assert set(plotted["series"].str.split(":").str[0]) == {"ours", "reference"}


def test_notebook_is_stored_clean():
    nb = read_clean_notebook(NOTEBOOK)
    assert "Limitations" in nb.cells[-2].source


def _run_notebook(tmp_path, monkeypatch, agency):
    folder = processed_folder(("calls_for_service", "calls_initiation", "agencies"))
    return run_notebook(NOTEBOOK, tmp_path, monkeypatch, folder, agency=agency)


@pytest.mark.slow
def test_notebook_for_ferguson(tmp_path, monkeypatch):
    claims = _run_notebook(tmp_path, monkeypatch, "ferguson")
    assert claims["calls.cities"]["value"] == 5
    central = claims["calls.relevant_share_central"]
    assert central["interval"][0] <= central["value"] <= central["interval"][1]
    narrow, broad = claims["calls.relevant_share_narrow"]["value"], claims["calls.relevant_share_broad"]["value"]
    assert narrow <= central["value"] <= broad
    assert claims["calls.agency_data"]["flags"] == ["no_data"]


@pytest.mark.slow
def test_notebook_for_florissant(tmp_path, monkeypatch):
    claims = _run_notebook(tmp_path, monkeypatch, "florissant")
    assert "Florissant" in claims["calls.agency_data"]["sentence"]


# --- community-generated calls -------------------------------------------------------------------------


@pytest.fixture
def with_officer(calls) -> pd.DataFrame:
    """Charleston gains 100 traffic stops (listed officer-initiated); Detroit's total is split by its flag."""
    stops = pd.DataFrame(
        [("Charleston", "Problem", "Traffic Stop", "Accidents/Traffic Safety", 100, "none")],
        columns=["city", "source_column", "call_type", "category", "count", "heartbeats_group"],
    ).astype({"count": "Int64"})
    frame = pd.concat([calls, stops.assign(heartbeats_relevant=False)], ignore_index=True)
    frame["listed_officer_initiated"] = frame["call_type"].eq("Traffic Stop")
    return frame


@pytest.fixture
def initiation() -> pd.DataFrame:
    # Detroit: 200 flagged events (150 officer, 50 community) for 100 call-type records: fraction 0.25
    return pd.DataFrame(
        {
            "city": ["Detroit", "Detroit"],
            "year": [2018, 2018],
            "initiated_by": ["officer", "community"],
            "count": pd.array([150, 50], dtype="Int64"),
        }
    )


def test_community_totals(with_officer, initiation):
    totals = C.community_totals(with_officer, initiation).set_index("city")
    assert totals.loc["Charleston", "records"] == 200
    assert totals.loc["Charleston", "community_total"] == 100  # 200 records minus 100 stops
    assert totals.loc["Charleston", "denominator_basis"] == "records minus listed officer-initiated types"
    assert totals.loc["Detroit", "community_total"] == 25  # 100 records x 50/200
    assert totals.loc["Detroit", "denominator_basis"].startswith("Vera initiation flag")
    assert totals.loc["Dallas", "community_total"] == 100


def test_community_shares_and_old_shares(with_officer, initiation):
    shares = C.city_mapping_shares(with_officer, RULES, initiation).set_index(["city", "mapping"])
    assert shares.loc[("Charleston", "central"), "share"] == pytest.approx(30 / 100)
    assert shares.loc[("Charleston", "central"), "share_all_records"] == pytest.approx(30 / 200)
    assert shares.loc[("Detroit", "central"), "share"] == pytest.approx(10 / 25)


def test_claim_says_how_officer_records_were_treated(ctx, with_officer, initiation):
    C.report_shares(ctx, with_officer, RULES, initiation)
    sentence = ctx.claims["calls.relevant_share_central"].sentence
    assert "community-generated" in sentence and "initiation flag for Detroit" in sentence
    assert "list of officer-initiated call types for Charleston and Dallas" in sentence


def test_mapping_audit_flags_unexplained_types(calls):
    audit = C.mapping_audit(calls, rules=RULES).set_index(["city", "call_type"])
    assert audit.loc[("Charleston", "WELFARE CHECK"), "status"] == "counted"
    assert audit.loc[("Charleston", "ASSIST"), "status"] == "broad mapping only"
    assert audit.loc[("Charleston", "BURGLARY"), "status"] == "not relevant"
    assert "Property Crime" in audit.loc[("Charleston", "BURGLARY"), "reason"]
    odd = calls.assign(category=calls["category"].replace("Property Crime", "Statuses"))
    assert (C.mapping_audit(odd, rules=RULES)["status"] == "unreviewed").sum() == 3


def test_real_mapping_audit_leaves_nothing_unreviewed():
    folder = processed_folder(("calls_for_service", "calls_initiation"))
    audit = C.mapping_audit(C.load_inputs(folder), C.load_initiation(folder))
    assert not audit["status"].eq("unreviewed").any()
    dallas = audit.set_index(["city", "call_type"]).loc[("Dallas", "6X - MAJOR DIST (VIOLENCE)")]
    assert (dallas["central_group"], dallas["broad_group"]) == ("none", "domestic")


def test_census_population_interpolates():
    population = pd.DataFrame({"city": ["X", "X"], "year": [2010, 2020], "population": [100, 200]})
    assert C.census_population(population, "X", 2015) == pytest.approx(150)
    with pytest.raises(KeyError):
        C.census_population(population, "Y", 2015)


def test_calls_per_resident_drops_part_years(ctx):
    population = pd.DataFrame({"city": ["Detroit"] * 2, "year": [2010, 2020], "population": [1000, 1000]})
    initiation = pd.DataFrame(
        {
            "city": ["Detroit"] * 3,
            "year": [2016, 2017, 2018],
            "initiated_by": ["community"] * 3,
            "count": pd.array([100, 400, 600], dtype="Int64"),
        }
    )
    table = C.report_calls_per_resident(ctx, initiation, population)
    assert list(table["year"]) == [2017, 2018]  # 2016 is a part-year
    claim = ctx.claims["calls.community_calls_per_resident"]
    assert claim.value == pytest.approx(0.5) and claim.interval == pytest.approx((0.4, 0.6))
