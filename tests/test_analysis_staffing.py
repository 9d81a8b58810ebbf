"""Staffing analysis: fixtures with known answers, the report functions, and the notebook."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from helpers import (
    build_processed_tables,
    first_agency_outside_ucr,
    read_clean_notebook,
    run_notebook,
)

from heartbeats_analysis.analysis import NoData, staffing
from heartbeats_analysis.paths import NOTEBOOKS_DIR
from heartbeats_analysis.report.notebook_io import NotebookContext

SOURCE = "St. Louis Post-Dispatch, 2023-07-05"


def _rows(slug: str, years, sworn, population) -> pd.DataFrame:
    sworn = pd.array(sworn, dtype="Int64")
    population = pd.array(population if isinstance(population, list) else [population] * len(years), dtype="Int64")
    frame = pd.DataFrame(
        {
            "agency_slug": slug,
            "year": list(years),
            "sworn_officers": sworn,
            "civilians": pd.array([5] * len(years), dtype="Int64"),
            "population": population,
        }
    )
    frame["total_employees"] = frame["sworn_officers"] + frame["civilians"]
    frame["officers_per_1000"] = (frame["sworn_officers"].astype("Float64") / frame["population"] * 1000).astype(
        "float64"
    )
    frame["reported"] = frame["sworn_officers"].notna()
    return frame[
        [
            "agency_slug",
            "year",
            "sworn_officers",
            "civilians",
            "total_employees",
            "population",
            "officers_per_1000",
            "reported",
        ]
    ]


@pytest.fixture
def staffing_table() -> pd.DataFrame:
    years = list(range(2012, 2022))
    town = [52, 54, 53, 47, 39, 41, 40, None, 34, 30]  # 2019 did not report
    parts = [
        _rows("town", years, town, 20_000),
        _rows("p1", years, [20] * 10, 10_000),  # 2.0 per 1,000
        _rows("p2", years, [30] * 9 + [None], 10_000),  # 3.0 per 1,000, no 2021 report
        _rows("p3", years, [50] * 10, 10_000),  # 5.0 per 1,000
        _rows("cut", years, [None] * 10, 5_000),  # never reported
    ]
    table = pd.concat(parts, ignore_index=True)
    return table[~((table["agency_slug"] == "town") & (table["year"] == 2017))].reset_index(drop=True)  # row absent


@pytest.fixture
def agencies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency_slug": ["town", "p1", "p2", "p3", "vsr-only"],
            "display_name": ["Townsville", "Peer One", "Peer Two", "Peer Three", "Sheriff Only"],
        }
    )


@pytest.fixture
def analysis(staffing_table, agencies):
    return staffing.analyse_staffing(
        staffing_table, agencies, "town", ["p1", "p2", "p3", "town"], trend_start_year=2014, chart_start_year=2012
    )


@pytest.fixture
def ctx(tmp_path) -> NotebookContext:
    return NotebookContext.for_notebook(tmp_path, "02-staffing")


def test_agency_series_keeps_gaps_as_missing_and_fills_absent_years(staffing_table):
    series = staffing.agency_series(staffing_table, "town")
    assert list(series["year"]) == list(range(2012, 2022))
    by_year = series.set_index("year")["sworn_officers"]
    assert by_year[2019] is pd.NA and by_year[2017] is pd.NA  # reported as a gap; row absent
    assert by_year[2021] == 30
    assert series["sworn_officers"].dtype == "Int64"


def test_agency_without_reports_is_no_data(staffing_table):
    for slug in ("cut", "vsr-only"):
        result = staffing.agency_series(staffing_table, slug)
        assert isinstance(result, NoData) and not result
        assert "no staffing reports" in result.reason


def test_peer_median_uses_only_reporting_peers(staffing_table):
    medians = staffing.peer_median_per_1000(staffing_table, ["p1", "p2", "p3"]).set_index("year")
    assert medians.loc[2015, "peer_median_per_1000"] == pytest.approx(3.0)
    assert medians.loc[2015, "peers_reporting"] == 3
    assert medians.loc[2021, "peer_median_per_1000"] == pytest.approx(3.5)  # median of 2.0 and 5.0
    assert medians.loc[2021, "peers_reporting"] == 2
    assert (medians.loc[2021, "peer_min"], medians.loc[2021, "peer_max"]) == pytest.approx((2.0, 5.0))


def test_levels_and_peak(analysis):
    assert (analysis.latest.value, analysis.latest.year) == (30, 2021)
    assert (analysis.peak.value, analysis.peak.year) == (54, 2013)
    assert analysis.missing_years == [2017, 2019]
    assert analysis.name == "Townsville"
    assert "town" not in analysis.peers


def test_peak_tie_takes_latest_year():
    series = pd.DataFrame({"year": [2010, 2011, 2012], "sworn_officers": pd.array([5, 7, 7], dtype="Int64")})
    assert staffing.peak_value(series, "sworn_officers", 2010) == staffing.YearValue(7, 2012)


def test_per_1000_compared_in_the_same_year(analysis):
    comparison = analysis.per_1000
    assert comparison.year == 2021
    assert comparison.agency_value == pytest.approx(1.5)
    assert comparison.peer_median == pytest.approx(3.5)
    assert comparison.peers_reporting == 2


def test_trend_recovers_a_known_yearly_decline():
    years = list(range(2014, 2022))
    counts = [round(50 * 0.9**i) for i in range(8)]  # 50, 45, 40, 36, 33, 30, 27, 24
    series = _rows("x", years, counts, 20_000).drop(columns="agency_slug")
    model = staffing.sworn_trend(series, 2014)
    slope = model.term("years_since")
    assert slope.value == pytest.approx(0.9, abs=0.005)
    assert slope.lower < 0.9 < slope.upper
    assert model.n == 8 and model.offset is None


def test_trend_needs_three_reported_years():
    series = _rows("x", [2019, 2020, 2021], [None, 34, 30], 20_000).drop(columns="agency_slug")
    assert staffing.sworn_trend(series, 2019) is None


def test_trend_skips_gap_years(analysis):
    assert analysis.trend.n == 6  # 2014-2021 without 2017 and 2019
    assert analysis.trend.term("years_since").value < 1


def test_gap_to_authorised(analysis):
    gap = staffing.gap_to_authorised(analysis, 42, 2023, SOURCE)
    assert gap.gap == 12 and gap.sworn_year == 2021
    assert gap.vacancy_share == pytest.approx(12 / 42)
    assert staffing.gap_to_authorised(analysis, None, None, "") is None


def test_report_functions_record_claims(ctx, analysis):
    levels = staffing.report_levels(ctx, analysis)
    assert levels["staffing.latest_sworn"].value == 30
    assert (
        "2021" in levels["staffing.latest_sworn"].sentence
        and "30 sworn officers" in levels["staffing.latest_sworn"].sentence
    )
    assert levels["staffing.peak_sworn"].value == 54
    assert levels["staffing.missing_years"].value == 2
    assert "2017, 2019" in levels["staffing.missing_years"].sentence

    per_1000 = staffing.report_per_1000(ctx, analysis)
    assert per_1000["staffing.officers_per_1000_latest"].value == pytest.approx(1.5)
    assert "1.50" in per_1000["staffing.officers_per_1000_latest"].sentence
    peer = per_1000["staffing.peer_median_per_1000_latest"]
    assert peer.value == pytest.approx(3.5) and peer.interval == (2.0, 5.0) and peer.n == 2

    trend = staffing.report_trend(ctx, analysis)["staffing.trend_annual_change"]
    assert trend.value < 1 and trend.interval[1] < 1
    assert trend.interval_kind == "95% CI (Poisson GLM, Wald)"
    assert trend.n == 6 and "lower" in trend.sentence

    gap = staffing.report_gap(ctx, analysis, 42, 2023, SOURCE)
    claim = gap["staffing.gap_to_authorised"]
    assert claim.value == 12 and SOURCE in claim.source and SOURCE in claim.sentence
    assert "different years" in claim.sentence
    assert gap["staffing.vacancy_share"].value == pytest.approx(round(12 / 42, 4))

    path = ctx.save_claims()
    saved = {c["id"]: c for c in json.loads(path.read_text())}
    assert saved["staffing.latest_sworn"]["notebook"] == "02-staffing"
    assert saved["staffing.latest_sworn"]["function"] == "heartbeats_analysis.analysis.staffing.latest_value"


def test_gap_without_a_parameter_is_flagged(ctx, analysis):
    claim = staffing.report_gap(ctx, analysis, None, None, "")["staffing.gap_to_authorised"]
    assert claim.value is None and claim.flags == ["no_parameter"]


def test_no_data_agency_records_one_claim_and_no_figure(ctx, staffing_table, agencies):
    result = staffing.analyse_staffing(staffing_table, agencies, "vsr-only", ["p1", "p2"])
    assert isinstance(result, NoData)
    for report in (staffing.report_levels, staffing.report_per_1000, staffing.report_trend):
        findings = report(ctx, result)
        assert findings.ids() == ["staffing.no_data"]
    staffing.report_gap(ctx, result, 42, 2023, SOURCE)
    assert [c.id for c in ctx.claims] == ["staffing.no_data"]
    claim = ctx.claims["staffing.no_data"]
    assert claim.value is None and claim.flags == ["no_data"] and "Sheriff Only" in claim.sentence
    shown = staffing.figure_sworn(ctx, result)
    assert shown.path is None and "No chart" in shown._repr_html_()
    assert "note" in staffing.staffing_table(result).columns


def test_figures_are_saved_with_gaps_not_zeros(ctx, analysis, agencies):
    sworn = staffing.figure_sworn(ctx, analysis, 42, 2023)
    assert sworn.path.is_file() and sworn._repr_png_()[:4] == b"\x89PNG"
    data = pd.read_csv(ctx.figures_dir / sworn.record.data_csv)
    town = data[data["series"].str.startswith("Townsville")].set_index("year")["value"]
    assert math.isnan(town[2019]) and math.isnan(town[2017]) and town[2021] == 30
    assert data[data["series"] == "authorised strength"]["value"].tolist() == [42]
    assert "2017, 2019" in sworn.record.alt_text and "54 in 2013" in sworn.record.alt_text

    per_1000 = staffing.figure_per_1000(ctx, analysis, agencies)
    meta = json.loads((ctx.figures_dir / "02-staffing-officers-per-1000.json").read_text())
    assert "peer median of 3.50" in meta["alt_text"]
    assert set(pd.read_csv(ctx.figures_dir / per_1000.record.data_csv)["series"]) >= {
        "Peer One",
        "peer median",
        "Townsville",
    }


POINTS = pd.DataFrame(
    {
        "agency_slug": ["town", "town", "town"],
        "date": ["2014-08-01", "2016-09-01", "2023-07-05"],
        "serving": [53, 36, 29],
        "authorised": [None, 49, 42],
        "source": ["AP 2016", "AP 2016", SOURCE],
        "url": ["u1", "u1", "u2"],
        "note": ["", "", ""],
    }
)


@pytest.fixture
def points_csv(tmp_path):
    path = tmp_path / "points.csv"
    POINTS.to_csv(path, index=False)
    return path


def test_staffing_points_load_per_agency_with_fractional_years(points_csv):
    points = staffing.load_staffing_points("town", points_csv)
    assert points["serving"].tolist() == [53, 36, 29]
    assert pd.isna(points.loc[0, "authorised"])
    assert points.loc[2, "year"] == pytest.approx(2023 + 185 / 365.25)
    assert staffing.load_staffing_points("elsewhere", points_csv).empty  # other agencies simply have none


def test_staffing_points_need_a_source_and_a_figure(tmp_path):
    path = tmp_path / "bad.csv"
    POINTS.assign(source=["AP", "", "x"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="needs a source"):
        staffing.load_staffing_points("town", path)
    POINTS.assign(serving=[None, 36, 29], authorised=[None, 49, 42]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="serving or an authorised"):
        staffing.load_staffing_points("town", path)


def test_the_resource_holds_ferguson_july_2023():
    points = staffing.load_staffing_points("ferguson").set_index("date")
    july_2023 = points.loc[pd.Timestamp("2023-07-05")]
    assert (july_2023["serving"], july_2023["authorised"]) == (29, 42)
    assert points["source"].str.len().gt(10).all()


def test_authorised_against_actual_claim_and_chart(ctx, staffing_table, agencies, points_csv):
    points = staffing.load_staffing_points("town", points_csv)
    result = staffing.analyse_staffing(staffing_table, agencies, "town", ["p1"], chart_start_year=2012, points=points)
    claim = staffing.report_points(ctx, result)["staffing.sourced_strengths"]
    assert claim.value == 2  # the 2014 point has no authorised figure
    assert "36 serving of 49 authorised" in claim.sentence and "from 13 to 13" in claim.sentence
    figure = staffing.figure_sworn(ctx, result, 42, 2023)
    data = pd.read_csv(ctx.figures_dir / figure.record.data_csv)
    assert data[data["series"] == "serving (cited)"]["value"].tolist() == [53, 36, 29]
    assert data[data["series"] == "authorised (cited)"]["value"].tolist() == [49, 42]
    assert "authorised strength" not in set(data["series"])  # the 2023 parameter is already a cited point
    assert "shortfall" in figure.record.alt_text
    assert "staffing_points.csv" in figure.record.source_line


def test_no_points_means_a_plain_claim(ctx, analysis):
    claim = staffing.report_points(ctx, analysis)["staffing.sourced_strengths"]
    assert claim.value == 0 and "No dated, cited figures" in claim.sentence


def test_off_scale_peers_are_named():
    peers = pd.DataFrame(
        {"agency_slug": ["tiny", "tiny", "p1"], "year": [2015, 2016, 2015], "officers_per_1000": [24.4, 24.7, 2.0]}
    )
    assert staffing._off_scale(peers, 10, None) == "Tiny 2015-2016 (up to 24.7)"


def test_staffing_table_keeps_gaps(analysis):
    table = staffing.staffing_table(analysis)
    assert table["year"].tolist() == list(range(2012, 2022))
    assert table.set_index("year")["sworn_officers"].isna().loc[[2017, 2019]].all()
    assert table.set_index("year").loc[2021, "peer_median_per_1000"] == pytest.approx(3.5)


# --- the notebook ----------------------------------------------------------------------------

NOTEBOOK = NOTEBOOKS_DIR / "02-staffing.ipynb"


def test_notebook_is_stored_clean_with_a_parameters_cell():
    nb = read_clean_notebook(NOTEBOOK)
    assert nb.metadata["kernelspec"]["name"] == "heartbeats"
    assert "Limitations" in nb.cells[-2].source


@pytest.fixture(scope="module")
def processed_tables(tmp_path_factory, raw_data):
    """The processed tables the notebook reads, built from the raw files by the source modules."""
    return build_processed_tables(tmp_path_factory.mktemp("processed"), ("ucr_police", "agencies", "acs"))


def _run_notebook(processed, build_dir, monkeypatch, **parameters):
    return run_notebook(NOTEBOOK, build_dir, monkeypatch, processed, **parameters)


@pytest.mark.slow
def test_notebook_for_ferguson(processed_tables, tmp_path, monkeypatch):
    claims = _run_notebook(processed_tables, tmp_path, monkeypatch, agency="ferguson")
    assert claims["staffing.latest_sworn"]["value"] == 30
    assert claims["staffing.latest_sworn_year"]["value"] == 2021
    assert claims["staffing.peak_sworn"]["value"] == 54
    assert claims["staffing.gap_to_authorised"]["value"] == 12
    assert "2019" in claims["staffing.missing_years"]["sentence"]
    # 2021 on the ACS 2017-21 population (2020-census basis), not the FBI's 20,386 (2010 basis)
    assert claims["staffing.officers_per_1000_latest"]["value"] == pytest.approx(30 / 18826 * 1000, abs=1e-3)
    assert claims["staffing.officers_per_1000_latest_fbi_population"]["value"] == pytest.approx(
        30 / 20386 * 1000, abs=1e-3
    )
    points = claims["staffing.sourced_strengths"]
    assert points["value"] == 3 and "29 serving of 42 authorised" in points["sentence"]
    trend = claims["staffing.trend_annual_change"]
    assert trend["value"] < 1 and trend["interval"][1] < 1
    for name in ("02-staffing-sworn-officers", "02-staffing-officers-per-1000"):
        assert (tmp_path / "figures" / f"{name}.png").is_file()


@pytest.mark.slow
def test_notebook_for_florissant_without_an_authorised_strength(processed_tables, tmp_path, monkeypatch):
    claims = _run_notebook(
        processed_tables,
        tmp_path,
        monkeypatch,
        agency="florissant",
        authorised_strength=None,
        authorised_strength_year=None,
        authorised_strength_source="",
    )
    assert claims["staffing.latest_sworn"]["value"] > 0
    assert "Florissant" in claims["staffing.latest_sworn"]["sentence"]
    assert claims["staffing.gap_to_authorised"]["flags"] == ["no_parameter"]


@pytest.mark.slow
def test_notebook_for_an_agency_without_ucr_data(processed_tables, tmp_path, monkeypatch):
    agencies = pd.read_csv(processed_tables / "agencies.csv")
    vsr_only = first_agency_outside_ucr(agencies)
    claims = _run_notebook(processed_tables, tmp_path, monkeypatch, agency=vsr_only)
    assert list(claims) == ["staffing.no_data"]
    assert claims["staffing.no_data"]["value"] is None
