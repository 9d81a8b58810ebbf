"""Use-of-force analysis: rates per million with exact Poisson intervals, race ratios, the mental-illness
share split at the Post's 2021 coding change, and the notebook, on tiny tables with hand-worked answers."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import (
    first_agency_outside_ucr,
    processed_folder,
    read_clean_notebook,
    run_notebook,
)
from scipy import stats as sps

from heartbeats_analysis.analysis import force as F
from heartbeats_analysis.paths import PROJECT_ROOT
from heartbeats_analysis.report.notebook_io import NotebookContext

NOTEBOOK = PROJECT_ROOT / "notebooks" / "05-force.ipynb"
YEARS = range(2013, 2025)


def agencies_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency_slug": ["town", "county-pd", "quiet"],
            "display_name": ["Town", "County Police Department", "Quiet"],
            "geoid": ["2900001", "29189", "2900003"],
            "geo_type": ["place", "county", "place"],
        }
    ).astype("str")


def population_table() -> pd.DataFrame:
    """ACS years 2014-2023 only (2013 falls back to 2014). Town: 10,000 (6,000 Black, 3,000 white) every
    year; the county 100,000 (30,000 / 60,000); the state 1,000,000 (100,000 / 800,000)."""
    sizes = {
        ("2900001", "place"): {"total": 10_000, "black": 6_000, "white": 3_000, "hispanic": 500},
        ("2900003", "place"): {"total": 5_000, "black": 1_000, "white": 3_500, "hispanic": 200},
        ("29189", "county"): {"total": 100_000, "black": 30_000, "white": 60_000, "hispanic": 5_000},
        ("29", "state"): {"total": 1_000_000, "black": 100_000, "white": 800_000, "hispanic": 50_000},
    }
    rows = [
        (f"geo {geoid}", geoid, geo_type, year, race, n)
        for (geoid, geo_type), races in sizes.items()
        for year in range(2014, 2024)
        for race, n in races.items()
    ]
    frame = pd.DataFrame(rows, columns=["geography", "geoid", "geo_type", "year", "race", "population"])
    return frame.astype({"population": "Int64"})


def incident(i, source, year, race, slugs="", county=False, mental=None):
    return {
        "incident_id": f"{source}-{i}",
        "source": source,
        "year": year,
        "race": race,
        "agency_slugs": slugs,
        "in_st_louis_county": county,
        "mental_illness": mental,
        "armed_status": "armed",
    }


def fatal_force_table() -> pd.DataFrame:
    rows = [
        incident(1, "mpv", 2014, "black", "town", county=True, mental=False),
        incident(2, "mpv", 2016, "black", "county-pd;town", county=True, mental=True),
        incident(3, "mpv", 2017, "white", "county-pd", county=True),
        incident(4, "mpv", 2018, "white", "", county=False),
        incident(5, "mpv", 2020, "black", "town", county=True),  # partial year: never counted
        incident(6, "wapo", 2016, "black", "county-pd", county=True, mental=False),
        incident(7, "wapo", 2021, "white", "", county=False, mental=True),
        incident(8, "wapo", 2024, "black", "town", county=True, mental=False),  # partial year
    ]
    frame = pd.DataFrame(rows)
    frame["mental_illness"] = frame["mental_illness"].astype("boolean")
    return frame


def summary_table() -> pd.DataFrame:
    rows = []
    for source, first, last in (("mpv", 2013, 2020), ("wapo", 2015, 2024)):
        for year in range(first, last + 1):
            complete = year < last
            rows.append(
                {
                    "source": source,
                    "year": year,
                    "state": "MO",
                    "incidents": 10,
                    "mental_illness_yes": 2,
                    "mental_illness_known": 8,
                    "unarmed": 1,
                    "black": 4,
                    "complete_year": complete,
                }
            )
            rows.append(
                {
                    "source": source,
                    "year": year,
                    "state": "US",
                    "incidents": 1000,
                    "mental_illness_yes": 250 if year < 2021 else 150,
                    "mental_illness_known": 1000,
                    "unarmed": 60,
                    "black": 250,
                    "complete_year": complete,
                }
            )
    frame = pd.DataFrame(rows)
    for column in ("incidents", "mental_illness_yes", "mental_illness_known", "unarmed", "black"):
        frame[column] = frame[column].astype("Int64")
    return frame


@pytest.fixture
def data() -> F.ForceInputs:
    return F.ForceInputs(
        fatal_force_table(),
        summary_table(),
        population_table(),
        agencies_table(),
        linked=frozenset({"town", "county-pd", "quiet"}),
    )


@pytest.fixture
def ctx(tmp_path) -> NotebookContext:
    return NotebookContext.for_notebook(tmp_path, "05-force")


def garwood(k, exposure):
    lower = 0.0 if k == 0 else sps.chi2.ppf(0.025, 2 * k) / 2
    upper = sps.chi2.ppf(0.975, 2 * k + 2) / 2
    return lower / exposure * 1e6, upper / exposure * 1e6


def test_full_years_from_the_complete_year_flag(data):
    assert F.full_years(data.summary) == {"mpv": (2013, 2019), "wapo": (2015, 2023)}
    assert F.full_years(data.summary.drop(columns="complete_year")) == F.SOURCE_YEARS


def test_agency_incidents_match_whole_slugs(data):
    assert list(F.agency_incidents(data.fatal_force, "town")["incident_id"]) == ["mpv-1", "mpv-2", "mpv-5", "wapo-8"]
    assert F.agency_incidents(data.fatal_force, "tow").empty


def test_person_years_use_the_nearest_acs_year(data):
    from heartbeats_analysis.analysis.population import population_for

    pop = population_for(data.population, "2900001")
    exposure, used = F.person_years(pop, range(2013, 2020))
    assert exposure == 70_000  # seven years of 10,000; 2013 borrows 2014
    assert used == list(range(2014, 2020))


def test_rates_by_hand(data):
    rates = F.fatal_force_rates(data.fatal_force, data.summary, data.population, data.agencies, "town")
    town = rates[(rates["level"] == "agency") & (rates["source"] == "mpv") & (rates["race"] == "total")].iloc[0]
    # 2 deaths in 2013-2019 (2020 is a partial year), over 70,000 person-years
    assert town["incidents"] == 2 and town["person_years"] == 70_000
    assert town["rate_per_million"] == pytest.approx(2 / 70_000 * 1e6)
    assert (town["lower"], town["upper"]) == pytest.approx(garwood(2, 70_000))
    assert town["small_cell"]
    wapo = rates[(rates["level"] == "agency") & (rates["source"] == "wapo") & (rates["race"] == "total")].iloc[0]
    assert wapo["incidents"] == 0 and wapo["lower"] == 0  # the 2024 death is in a partial year
    county = rates[(rates["level"] == "county") & (rates["source"] == "mpv") & (rates["race"] == "total")].iloc[0]
    assert county["incidents"] == 3 and county["person_years"] == 700_000
    state_black = rates[(rates["level"] == "state") & (rates["source"] == "mpv") & (rates["race"] == "black")].iloc[0]
    assert state_black["incidents"] == 2 and state_black["person_years"] == 700_000


def test_county_police_get_counts_but_no_city_rate(data):
    rates = F.fatal_force_rates(data.fatal_force, data.summary, data.population, data.agencies, "county-pd")
    assert "agency" not in set(rates["level"])


def test_state_counts_from_summary_when_incidents_cover_only_the_county(data):
    county_only = data.fatal_force[data.fatal_force["in_st_louis_county"]]
    rates = F.fatal_force_rates(county_only, data.summary, data.population, data.agencies, "town")
    state = rates[rates["level"] == "state"]
    total = state[(state["source"] == "mpv") & (state["race"] == "total")].iloc[0]
    assert total["incidents"] == 70  # 10 a year in the summary, 2013-2019
    assert set(state["race"]) == {"total", "black"}  # the summary has no white count


def test_race_rate_ratios(data):
    rates = F.fatal_force_rates(data.fatal_force, data.summary, data.population, data.agencies, "town")
    ratios = F.race_rate_ratios(rates)
    county = ratios[(ratios["level"] == "county") & (ratios["source"] == "mpv")].iloc[0]
    # 2 Black deaths over 210,000 person-years vs 1 white over 420,000
    assert county["rate_ratio"] == pytest.approx((2 / 210_000) / (1 / 420_000))
    assert county["small_cell"]


def test_mental_illness_split_at_coding_change(data):
    shares = F.mental_illness_shares(data.summary)
    assert list(zip(shares["source"], shares["period"], shares["state"], strict=True)) == [
        ("mpv", "2013-2019", "MO"),
        ("mpv", "2013-2019", "US"),
        ("wapo", "2015-2020", "MO"),
        ("wapo", "2015-2020", "US"),
        ("wapo", "2021-2023", "MO"),
        ("wapo", "2021-2023", "US"),
    ]
    mo = shares.iloc[0]
    assert (mo["mental_illness_yes"], mo["mental_illness_known"]) == (14, 56)
    ci = sps.binomtest(14, 56).proportion_ci(method="exact")
    assert (mo["lower"], mo["upper"]) == pytest.approx((ci.low, ci.high))
    us_late = shares.iloc[-1]
    assert us_late["share"] == pytest.approx(0.15)


def test_incident_summary_has_no_names(data):
    summary = F.agency_incident_summary(data.fatal_force, "town")
    assert list(summary.columns) == ["source", "year", "race", "mental_illness", "armed_status", "incidents"]
    assert summary["incidents"].sum() == 4


def test_report_claims(ctx, data):
    F.report_rates(ctx, data, "town")
    F.report_race_ratios(ctx, data, "town")
    F.report_mental_illness(ctx, data)
    F.report_nonfatal(ctx, data, "town")
    claims = ctx.claims
    rate = claims["force.agency_rate_mpv"]
    assert rate.value == pytest.approx(2 / 70_000 * 1e6) and rate.flags == ["small_cell"]
    assert "too few to read a rate" in rate.sentence
    assert claims["force.agency_incidents_mpv"].value == 2
    wapo = claims["force.agency_incidents_wapo"]
    assert wapo.value == 0 and "no_data" in wapo.flags and "no deaths" in wapo.sentence
    assert claims["force.county_rate_mpv"].value == pytest.approx(3 / 700_000 * 1e6)
    assert claims["force.mi_share_us_wapo_2021_2023"].value == pytest.approx(0.15)
    assert "coding" in claims["force.mi_share_us_wapo_2021_2023"].sentence
    assert claims["force.nonfatal_data"].flags == ["no_data"]
    assert "reference.bjs_nonfatal_force_share" in claims
    assert "reference.doj_black_force_share" not in claims  # Ferguson only


def test_report_for_county_police(ctx, data):
    F.report_rates(ctx, data, "county-pd")
    claim = ctx.claims["force.agency_incidents_mpv"]
    assert claim.value == 2 and "no rate is given" in claim.sentence
    assert "the County Police Department" in claim.sentence
    assert "force.agency_rate_mpv" not in ctx.claims


def test_report_for_an_agency_with_no_incidents(ctx, data):
    F.report_rates(ctx, data, "quiet")
    for source in ("mpv", "wapo"):
        claim = ctx.claims[f"force.agency_incidents_{source}"]
        assert claim.value == 0 and "no_data" in claim.flags


def test_agency_the_incident_table_does_not_link(ctx, data):
    """Deaths are linked to crosswalk agencies only: for any other agency a zero would be false."""
    data.linked = frozenset({"county-pd"})
    rates = F.fatal_force_rates(
        data.fatal_force, data.summary, data.population, data.agencies, "town", linked=data.linked
    )
    assert "agency" not in set(rates["level"])
    F.report_rates(ctx, data, "town")
    claim = ctx.claims["force.agency_incidents_mpv"]
    assert claim.value is None and claim.flags == ["no_data"] and "not one of them" in claim.sentence
    assert "force.agency_rate_mpv" not in ctx.claims
    assert ctx.claims["force.county_rate_mpv"].value == pytest.approx(3 / 700_000 * 1e6)


def test_figures(ctx, data):
    for figure in (F.figure_rates(ctx, data, "town"), F.figure_mental_illness(ctx, data)):
        assert (ctx.figures_dir / figure.png).is_file()
        assert figure.name.startswith("05-force-") and figure.alt_text


def test_notebook_is_stored_clean():
    nb = read_clean_notebook(NOTEBOOK)
    assert "Limitations" in nb.cells[-2].source


def _run_notebook(tmp_path, monkeypatch, agency):
    folder = processed_folder(("fatal_force", "fatal_force_us_summary", "population", "agencies", "stl_county_force"))
    return run_notebook(NOTEBOOK, tmp_path, monkeypatch, folder, agency=agency)


@pytest.mark.slow
def test_notebook_for_ferguson(tmp_path, monkeypatch):
    claims = _run_notebook(tmp_path, monkeypatch, "ferguson")
    assert claims["force.agency_incidents_mpv"]["value"] == 1  # 2014
    assert "small_cell" in claims["force.agency_rate_mpv"]["flags"]
    assert claims["force.agency_incidents_wapo"]["value"] == 0
    assert claims["reference.doj_black_force_share"]["value"] == 0.88
    assert claims["force.state_rate_wapo"]["n"] > 100


@pytest.mark.slow
def test_notebook_for_florissant(tmp_path, monkeypatch):
    claims = _run_notebook(tmp_path, monkeypatch, "florissant")
    assert "Florissant" in claims["force.agency_incidents_wapo"]["sentence"]
    assert "reference.doj_black_force_share" not in claims


@pytest.mark.slow
def test_notebook_for_an_agency_outside_the_crosswalk(tmp_path, monkeypatch):
    from heartbeats_analysis.ingest.tables import load_table

    agencies = load_table("agencies")
    other = first_agency_outside_ucr(agencies)
    claims = _run_notebook(tmp_path, monkeypatch, other)
    assert claims["force.agency_incidents_mpv"]["value"] is None
    assert claims["force.agency_incidents_mpv"]["flags"] == ["no_data"]
    assert claims["force.state_rate_mpv"]["value"] > 0


# --- St. Louis County Police non-fatal force ---------------------------------------------------------


def county_force_table() -> pd.DataFrame:
    # incident, year, person?, race, force type: A has two rows (two kinds of force), one pre-2018 incident
    rows = [
        ("UOF18-1", 2018, True, "black", "Taser"),
        ("UOF18-1", 2018, True, "black", "Physical Restraint"),
        ("UOF18-2", 2018, True, "white", "Physical Restraint"),
        ("UOF18-3", 2017, True, "black", "Firearm"),
        ("UOF19-1", 2019, True, "black", "Physical Restraint"),
        ("UOF19-2", 2019, True, None, "Canine"),
        ("UOF20-1", 2020, True, "black", "Taser"),
        ("UOF20-2", 2020, False, None, "Firearm"),
        ("UOF21-1", 2021, True, "white", None),
    ]
    return pd.DataFrame(rows, columns=["incident_id", "year", "subject_is_person", "subject_race", "force_type"])


def test_county_force_incidents_one_row_per_incident_with_its_race_and_kinds_of_force():
    rows = [
        ("A", 2019, True, "black", "Taser"),
        ("A", 2019, True, "black", "Physical Restraint"),
        ("A", 2019, True, "black", "Taser"),  # the same kind of force twice: listed once
        ("B", 2020, True, "white", "Canine"),
        ("B", 2020, True, "black", None),  # two recorded races: 'multiple'
        ("C", 2020, False, None, None),  # no person, no kind of force recorded
        ("D", 2021, True, None, "Firearm"),  # a person whose race is not recorded
        ("D", 2021, False, "white", "Firearm"),  # not a person: its race does not count
    ]
    force = pd.DataFrame(rows, columns=["incident_id", "year", "subject_is_person", "subject_race", "force_type"])
    table = F.county_force_incidents(force).set_index("incident_id")
    assert table["force_types"].to_dict() == {"A": "Physical Restraint;Taser", "B": "Canine", "C": "", "D": "Firearm"}
    assert table.loc[["A", "B"], "subject_race"].tolist() == ["black", "multiple"]
    assert table.loc[["C", "D"], "subject_race"].isna().all()
    assert table["any_person"].tolist() == [True, True, False, True]
    assert table["year"].tolist() == [2019, 2020, 2020, 2021]


def test_county_force_by_year_counts_incidents_once():
    table = F.county_force_by_year(county_force_table()).set_index("year")
    assert table["incidents"].to_dict() == {2017: 1, 2018: 2, 2019: 2, 2020: 2, 2021: 1}
    assert table["partial_year"].to_dict() == {2017: True, 2018: False, 2019: False, 2020: False, 2021: True}


def test_county_force_by_type_and_race():
    force = county_force_table()
    by_type = F.county_force_by_type(force).set_index("force_type")
    # 7 incidents from 2018 on; restraint in 3 of them, the pre-2018 firearm not counted
    assert by_type.loc["Physical Restraint", "incidents"] == 3
    assert by_type.loc["Physical Restraint", "share_of_incidents"] == pytest.approx(3 / 7)
    assert by_type.loc["Firearm", "incidents"] == 1
    by_race = F.county_force_by_race(force).set_index("subject_race")
    # persons from 2018 on: 6 incidents, 5 with a race (3 black, 2 white), one unknown
    assert by_race.loc["black", "incidents"] == 3 and by_race.loc["black", "known"] == 5
    assert by_race.loc["black", "share"] == pytest.approx(0.6)
    assert by_race.loc["black", "lower"] < 0.6 < by_race.loc["black", "upper"]


def test_county_force_claims_say_neighbour_for_other_agencies(ctx, data):
    data.county_force = county_force_table()
    F.report_county_force(ctx, data, "town")
    per_year = ctx.claims["force.stl_county_incidents_per_year"]
    assert per_year.value == pytest.approx(2.0) and per_year.interval == (2.0, 2.0)
    assert "neighbouring" in per_year.sentence and per_year.flags == ["context"]
    share = ctx.claims["force.stl_county_black_share_subjects"]
    assert share.value == pytest.approx(0.6) and "No population share" in share.sentence
    F.report_nonfatal(ctx, data, "town")
    nonfatal = ctx.claims["force.nonfatal_data"].sentence
    assert "was found" in nonfatal and "No public data" not in nonfatal and "neighbouring" in nonfatal


def test_county_force_claims_for_the_county_itself(ctx, data):
    data.county_force = county_force_table()
    F.report_county_force(ctx, data, F.COUNTY_FORCE_SLUG)
    assert ctx.claims["force.stl_county_incidents_per_year"].sentence.startswith("This department")
    F.report_nonfatal(ctx, data, F.COUNTY_FORCE_SLUG)
    assert ctx.claims["force.nonfatal_data"].flags == []


def test_county_force_missing_is_no_data(ctx, data):
    assert isinstance(F.report_county_force(ctx, data, "town"), F.NoData)
