"""Arrests by race: group sums, per-1,000 rates, the Black:white ratio and the claims, on a tiny table
worked out by hand (a zero-count group, a year not reported, a year before the ACS)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from heartbeats_analysis.analysis import NoData
from heartbeats_analysis.analysis import arrests as A
from heartbeats_analysis.report.notebook_io import NotebookContext


def arrests_table() -> pd.DataFrame:
    rows = []

    def add(slug, year, offense, group, counts, reported=True):
        for race, n in counts.items():
            rows.append(
                {
                    "agency_slug": slug,
                    "year": year,
                    "offense": offense,
                    "offense_group": group,
                    "race": race,
                    "arrests": n if reported else pd.NA,
                    "population": 1100,
                    "reported": reported,
                    "races_add_up": True if race != "total" or slug == "town" else pd.NA,
                }
            )

    for year in (2013, 2014):
        add("town", year, "drug_possession", "minor", {"total": 35, "white": 5, "black": 30})
        add("town", year, "robbery", "serious", {"total": 6, "white": 0, "black": 6})  # zero-count group
    add("town", 2015, "drug_possession", "minor", {"total": 0, "white": 0, "black": 0}, reported=False)
    add("town", 2015, "robbery", "serious", {"total": 0, "white": 0, "black": 0}, reported=False)
    add("no-race", 2014, "robbery", "serious", {"total": 9})
    frame = pd.DataFrame(rows)
    frame["arrests"] = frame["arrests"].astype("Int64")
    frame["races_add_up"] = frame["races_add_up"].astype("boolean")
    return frame


def population_table() -> pd.DataFrame:
    rows = []
    for geoid in ("2900001", "2900002"):
        for race, n in {"total": 1100, "white": 300, "black": 600, "hispanic": 100}.items():
            rows.append(
                {
                    "geography": "x",
                    "geoid": geoid,
                    "geo_type": "place",
                    "year": 2014,
                    "race": race,
                    "population": n,
                    "survey": "acs5",
                }
            )
    return pd.DataFrame(rows)


def agencies_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency_slug": ["town", "no-race", "elsewhere"],
            "display_name": ["Town", "No Race", "Elsewhere"],
            "geoid": ["2900001", "2900002", "2900003"],
            "geo_type": ["place", "place", "place"],
        }
    )


def inputs() -> A.ArrestInputs:
    return A.ArrestInputs(arrests_table(), population_table(), agencies_table())


def test_rates_and_ratio_by_hand():
    rates = A.arrest_rates(arrests_table(), population_table(), "2900001", "town")
    # Only 2014 has an ACS count; 2013 is counts only and 2015 was not reported.
    assert sorted(rates["year"].unique()) == [2014]
    minor = rates[rates["offense_group"].eq("minor")].iloc[0]
    assert minor["black_per_1000"] == pytest.approx(30 / 600 * 1000)  # 50
    assert minor["white_per_1000"] == pytest.approx(5 / 300 * 1000)  # 16.67
    assert minor["rate_ratio"] == pytest.approx(3.0)
    assert minor["lower"] < 3.0 < minor["upper"]
    assert minor["lower_with_population_error"] < minor["lower"]
    serious = rates[rates["offense_group"].eq("serious")].iloc[0]
    assert serious["white_arrests"] == 0 and math.isinf(serious["rate_ratio"]) and math.isinf(serious["upper"])


def test_group_is_missing_when_the_year_is_not_reported():
    counts = A.group_counts(arrests_table(), "town")
    gap = counts[counts["year"].eq(2015)]
    assert gap["arrests"].isna().all()
    years, gaps, has_race = A.reported_years(arrests_table(), "town")
    assert years == [2013, 2014] and gaps == [2015] and has_race


def test_report_claims_for_town(tmp_path):
    ctx = NotebookContext.for_notebook(str(tmp_path), "04-stops", "town")
    A.report_arrests(ctx, inputs(), "town")
    claims = {c.id: c for c in ctx.claims}
    assert claims["arrests.years_reported"].value == 2
    assert "2015 (missing, not zero)" in claims["arrests.years_reported"].sentence
    assert claims["arrests.black_white_minor_rate_ratio_latest"].value == pytest.approx(3.0)
    assert claims["arrests.black_minor_per_1000_latest"].value == pytest.approx(50.0)
    assert claims["arrests.black_white_serious_rate_ratio_latest"].value is None  # no white arrests
    assert "small_cell" in claims["arrests.black_white_serious_rate_ratio_latest"].flags
    assert "2013" in claims["arrests.black_white_minor_rate_ratio_series"].sentence


def test_agency_without_race_columns_gets_no_data_claims(tmp_path):
    ctx = NotebookContext.for_notebook(str(tmp_path), "04-stops", "no-race")
    result = A.report_arrests(ctx, inputs(), "no-race")
    assert isinstance(result, NoData)
    claims = {c.id: c for c in ctx.claims}
    assert claims["arrests.years_reported"].value == 1
    assert claims["arrests.black_white_minor_rate_ratio_latest"].flags == ["no_data"]
    assert "no race columns" in claims["arrests.black_white_minor_rate_ratio_latest"].sentence


def test_agency_without_arrest_file_gets_no_data_claims(tmp_path):
    ctx = NotebookContext.for_notebook(str(tmp_path), "04-stops", "elsewhere")
    assert isinstance(A.report_arrests(ctx, inputs(), "elsewhere"), NoData)
    claims = {c.id: c for c in ctx.claims}
    assert all(c.value is None and c.flags == ["no_data"] for c in claims.values())
    assert set(claims) == {claim_id for claim_id, _ in A.ARREST_CLAIMS}


def test_peer_comparison_names_agencies_without_race(tmp_path):
    ctx = NotebookContext.for_notebook(str(tmp_path), "04-stops", "elsewhere")
    A.report_peer_arrests(ctx, inputs(), "elsewhere")
    claim = {c.id: c for c in ctx.claims}["arrests.peer_black_white_minor_rate_ratio"]
    assert claim.value == pytest.approx(3.0)
    assert "No Race" in claim.sentence


def test_jumps_in_arrest_counts_are_flagged(tmp_path):
    frame = arrests_table()
    # 2014 minor arrests of Black residents jump from 30 to 300: more than 5-fold, above 20.
    frame.loc[
        frame["year"].eq(2014) & frame["offense"].eq("drug_possession") & frame["race"].eq("black"), "arrests"
    ] = 300
    frame.loc[
        frame["year"].eq(2014) & frame["offense"].eq("drug_possession") & frame["race"].eq("total"), "arrests"
    ] = 305
    jumps = A.arrest_jumps(frame, "town")
    assert jumps[["offense_group", "race", "from_count", "to_count"]].values.tolist() == [
        ["minor", "black", 30, 300],
        ["minor", "total", 35, 305],
    ]
    ctx = NotebookContext.for_notebook(str(tmp_path), "04-stops", "town")
    A.report_arrests(ctx, A.ArrestInputs(frame, population_table(), agencies_table()), "town")
    claims = {c.id: c for c in ctx.claims}
    assert "implausible_jump" in claims["arrests.years_reported"].flags
    assert "35 (2013) to 305 (2014)" in claims["arrests.years_reported"].sentence
    assert "implausible_jump" in claims["arrests.black_white_minor_rate_ratio_series"].flags
