"""Crime analysis: an interrupted time series on counts built from known rate ratios, the report
functions, and the notebook."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import (
    build_processed_tables,
    first_agency_outside_ucr,
    read_clean_notebook,
    run_notebook,
)

from heartbeats_analysis.analysis import NoData, crime
from heartbeats_analysis.analysis.stats import poisson_rate_ci, rate_ratio
from heartbeats_analysis.paths import NOTEBOOKS_DIR
from heartbeats_analysis.report.notebook_io import NotebookContext

YEARS = list(range(2000, 2024))
COUNT_COLUMNS = [
    "violent",
    "property",
    "murder",
    "rape",
    "robbery",
    "aggravated_assault",
    "burglary",
    "larceny",
    "motor_vehicle_theft",
]


def _expected(year: int, base: float, trend: float, level: float, slope: float, nibrs: float = 1.0) -> float:
    """A segmented series: trend per year, then from 2015 a level change and a slope change per year after 2014."""
    value = base * trend ** (year - 2014)
    if year >= 2015:
        value *= level * slope ** (year - 2014)
    if year >= 2021:
        value *= nibrs
    return value


def _agency(slug: str, population: int, violent: list, property_: list, years=YEARS) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "agency_slug": slug,
            "year": list(years),
            "population": pd.array([population] * len(years), dtype="Int64"),
            "violent": pd.array(violent, dtype="Int64"),
            "property": pd.array(property_, dtype="Int64"),
        }
    )
    for column in COUNT_COLUMNS[2:]:
        frame[column] = pd.array([pd.NA] * len(years), dtype="Int64")
    for outcome in ("violent", "property"):
        frame[f"{outcome}_per_1000"] = (frame[outcome].astype("Float64") / frame["population"] * 1000).astype("float64")
    frame["reported"] = frame["violent"].notna()
    frame["nibrs_era"] = frame["year"] >= 2021
    frame["small_cell_violent"] = (frame["violent"] < 10).fillna(False).astype(bool)
    return frame


@pytest.fixture
def crime_table() -> pd.DataFrame:
    # Town: violent trend 1% a year, x1.5 from 2015 and the trend x0.95 a year after 2014; NIBRS years
    # tripled (must not leak in). Peers: x1.2 from 2015, no slope change, so the contrast is 1.25 and 0.95.
    violent = [round(_expected(y, 400, 1.01, 1.5, 0.95, nibrs=3.0)) for y in YEARS]
    property_ = [round(_expected(y, 2000, 0.98, 1.0, 1.0, nibrs=0.5)) for y in YEARS]
    rng = np.random.default_rng(4)
    peers = []
    for index, slug in enumerate(["p1", "p2", "p3", "p4"]):
        base = 100 * (index + 1)
        peers.append(
            _agency(
                slug,
                10_000 * (index + 1),
                [int(rng.poisson(_expected(y, base, 1.02, 1.2, 1.0))) for y in YEARS],
                [int(rng.poisson(_expected(y, base * 5, 0.97, 1.0, 1.0))) for y in YEARS],
            )
        )
    small = _agency("small", 900, [3] * 15, [20] * 15, years=range(2000, 2015))  # stops reporting in 2014
    table = pd.concat([_agency("town", 20_000, violent, property_), *peers, small], ignore_index=True)
    gap = (table["agency_slug"] == "town") & (table["year"] == 2001)
    table.loc[gap, ["violent", "property", "violent_per_1000", "property_per_1000"]] = pd.NA
    table.loc[gap, "reported"] = False
    return table


@pytest.fixture
def state_table() -> pd.DataFrame:
    years = list(range(2000, 2020))
    return pd.DataFrame(
        {
            "state_abbr": ["MO"] * len(years) + ["US"],
            "year": years + [2019],
            "population": pd.array([6_000_000] * len(years) + [328_000_000], dtype="Int64"),
            "violent": pd.array([30_000] * len(years) + [1_200_000], dtype="Int64"),
            "property": pd.array([180_000] * len(years) + [7_000_000], dtype="Int64"),
            "violent_per_1000": [5.0] * len(years) + [1_200_000 / 328_000],
            "property_per_1000": [30.0] * len(years) + [7_000_000 / 328_000],
        }
    )


@pytest.fixture
def agencies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency_slug": ["town", "p1", "small", "vsr-only"],
            "display_name": ["Townsville", "Peer One", "Smallville", "Sheriff Only"],
        }
    )


@pytest.fixture
def analysis(crime_table, state_table, agencies):
    return crime.analyse_crime(crime_table, state_table, agencies, "town", ["p1", "p2", "p3", "p4", "town"])


@pytest.fixture
def ctx(tmp_path) -> NotebookContext:
    return NotebookContext.for_notebook(tmp_path, "03-crime")


def test_event_indicators_follow_the_majority_of_the_year(crime_table):
    frame = crime.its_frame(crime.agency_series(crime_table, "town")).set_index("year")
    assert frame.loc[2014, "post_2014"] == 0 and frame.loc[2015, "post_2014"] == 1
    assert frame.loc[2014, "years_after_2014"] == 0 and frame.loc[2015, "years_after_2014"] == 1
    assert frame.loc[2010, "years_after_2014"] == 0 and frame.loc[2020, "years_after_2014"] == 6
    assert frame.loc[2014, "years_since_2014"] == 0
    assert frame.index.max() == 2020  # NIBRS years left out by default
    assert 2001 in frame.index and math.isnan(frame.loc[2001, "violent"])  # a gap, not a zero
    assert crime.its_frame(crime.agency_series(crime_table, "town"), include_nibrs_years=True).year.max() == 2023


def test_model_recovers_known_rate_ratios_and_ignores_nibrs_years(analysis):
    violent = analysis.models["violent"]
    assert violent.family == "poisson" and violent.dispersion < 1.5  # rounded exact counts: no overdispersion
    assert violent.n == 20  # 2000-2020 without the 2001 gap
    assert violent.term("post_2014").value == pytest.approx(1.5, rel=0.02)
    assert violent.term("years_after_2014").value == pytest.approx(0.95, abs=0.003)
    assert violent.term("years_since_2014").value == pytest.approx(1.01, abs=0.002)
    by_2020 = crime.weighted_change(violent, {"post_2014": 1.0, "years_after_2014": 6.0})
    assert by_2020.value == pytest.approx(1.5 * 0.95**6, rel=0.02)
    assert by_2020.lower < by_2020.value < by_2020.upper
    prop = analysis.models["property"]
    assert prop.term("post_2014").lower < 1 < prop.term("post_2014").upper
    assert prop.term("years_since_2014").value == pytest.approx(0.98, abs=0.002)


def test_including_nibrs_years_adds_a_level_term(crime_table, state_table):
    result = crime.analyse_crime(crime_table, state_table, None, "town", ["p1"], include_nibrs_years=True)
    violent = result.models["violent"]
    assert violent.n == 23
    assert "nibrs_era" in set(violent.table["term"])
    assert violent.term("nibrs_era").value == pytest.approx(3.0, rel=0.02)
    assert violent.term("post_2014").value == pytest.approx(1.5, rel=0.02)


def test_model_refuses_when_the_years_cannot_anchor_the_changes(crime_table):
    without_2015 = crime_table[~((crime_table["agency_slug"] == "town") & (crime_table["year"] == 2015))]
    frame = crime.its_frame(crime.agency_series(without_2015, "town"))
    result = crime.fit_its(frame, "violent", "town")
    assert isinstance(result, NoData) and "2015" in result.reason
    only_2015 = crime_table[~((crime_table["agency_slug"] == "town") & (crime_table["year"] > 2015))]
    one_after = crime.fit_its(crime.its_frame(crime.agency_series(only_2015, "town")), "violent", "town")
    assert isinstance(one_after, NoData) and "at least 2 needed for a slope" in one_after.reason
    short = crime.its_frame(crime.agency_series(crime_table, "town"), start_year=2013)
    assert "only 2 reported year(s) before 2015" in crime.fit_its(short, "violent", "town").reason
    small = crime.its_frame(crime.agency_series(crime_table, "small"))
    assert "no report for 2015" in crime.fit_its(small, "violent", "small").reason


def test_overdispersed_agency_counts_use_negative_binomial(crime_table):
    rng = np.random.default_rng(8)
    noisy = [int(rng.negative_binomial(3, 3 / (3 + _expected(y, 300, 1.0, 1.0, 1.0)))) for y in YEARS]
    table = pd.concat(
        [crime_table[crime_table["agency_slug"] != "town"], _agency("town", 20_000, noisy, noisy)], ignore_index=True
    )
    model = crime.analyse_crime(table, None, None, "town", ["p1"]).models["violent"]
    assert model.dispersion > 1.5 and model.family == "negative_binomial"
    assert set(model.table["model"]) == {"poisson", "negative_binomial"}


def test_peer_model_pools_peers_with_their_own_levels(analysis):
    peers = analysis.peer_models["violent"]
    assert peers.n == 4 * 21  # four peers, 2000-2020
    assert peers.term("post_2014").value == pytest.approx(1.2, rel=0.1)
    assert peers.term("years_after_2014").lower < 1 < peers.term("years_after_2014").upper
    assert int(peers.poisson.model.data.frame["agency_slug"].nunique()) == 4


def test_contrast_is_a_difference_in_differences_against_the_peers(analysis):
    contrast = analysis.contrasts["violent"]
    assert contrast.n == 20 + 4 * 21  # the town without 2001, four peers 2000-2020
    assert int(contrast.poisson.model.data.frame["agency_slug"].nunique()) == 5
    assert contrast.term("treated:post_2014").value == pytest.approx(1.5 / 1.2, rel=0.1)
    assert contrast.term("treated:years_after_2014").value == pytest.approx(0.95, abs=0.02)
    same = analysis.contrasts["property"]  # neither the town nor the peers changed
    assert same.term("treated:post_2014").lower < 1 < same.term("treated:post_2014").upper


def test_contrast_needs_two_peers_with_enough_years(crime_table):
    result = crime.fit_contrast(crime_table, "town", ["p1", "small"], "violent", 2000, False)
    assert isinstance(result, NoData) and "fewer than two peer departments" in result.reason


def test_residual_autocorrelation_is_measured_in_year_order(analysis):
    check = analysis.autocorrelation["violent"]
    assert check.n == 20 and check.lags == 2
    assert 0 <= check.ljung_box_p <= 1 and 0 <= check.durbin_watson <= 4


def test_residual_autocorrelation_detects_a_wave():
    years = np.arange(2000, 2021)
    wave = 1 + 0.3 * np.sin(2 * np.pi * (years - 2000) / 8)  # a slow cycle: neighbouring years alike
    frame = pd.DataFrame(
        {
            "year": years,
            "population": 10_000.0,
            "violent": np.round(500 * wave),
            "years_since_2014": (years - 2014).astype(float),
            "post_2014": (years >= 2015).astype(float),
            "years_after_2014": np.clip(years - 2014, 0, None).astype(float),
        }
    )
    model = crime.fit_its(frame, "violent", "wave")
    check = crime.residual_autocorrelation(model, frame)
    assert check.detected and check.durbin_watson < 1.0


def test_peer_rates_are_medians_of_reporting_peers(crime_table):
    rates = crime.peer_rates(crime_table, ["p1", "p2", "small"]).set_index("year")
    p1, p2, small = (
        crime_table[(crime_table.agency_slug == s) & (crime_table.year == 2010)]["violent_per_1000"].iloc[0]
        for s in ("p1", "p2", "small")
    )
    assert rates.loc[2010, "violent_median"] == pytest.approx(np.median([p1, p2, small]))
    assert rates.loc[2010, "violent_peers_reporting"] == 3
    assert rates.loc[2020, "violent_peers_reporting"] == 2  # small stopped reporting


def test_latest_rate_is_exact_and_marks_nibrs(analysis, crime_table):
    latest = analysis.latest["violent"]
    row = crime_table[(crime_table.agency_slug == "town") & (crime_table.year == 2023)].iloc[0]
    assert latest.year == 2023 and latest.nibrs_era and latest.count == int(row["violent"])
    expected = poisson_rate_ci(int(row["violent"]), 20_000, per=1000)
    assert (latest.rate.value, latest.rate.lower, latest.rate.upper) == pytest.approx(
        (expected.value, expected.lower, expected.upper)
    )


def test_state_comparison_uses_the_last_common_year(analysis, crime_table):
    year, ratio = analysis.versus_state["violent"]
    assert year == 2019
    count = int(crime_table[(crime_table.agency_slug == "town") & (crime_table.year == 2019)]["violent"].iloc[0])
    expected = rate_ratio(count, 20_000, 30_000, 6_000_000)
    assert (ratio.value, ratio.lower, ratio.upper) == pytest.approx((expected.value, expected.lower, expected.upper))


def test_report_functions_record_claims(ctx, analysis):
    levels = crime.report_levels(ctx, analysis)
    latest = levels["crime.violent_rate_latest"]
    assert latest.flags == ["nibrs_era"] and "NIBRS" in latest.sentence
    assert latest.interval_kind == "95% CI (exact Garwood)"
    assert levels["crime.violent_rr_vs_missouri"].interval_kind == "95% CI (exact conditional)"
    assert levels["crime.latest_year"].value == 2023

    models = crime.report_models(ctx, analysis)
    after_2014 = models["crime.violent_rr_post2014"]
    assert after_2014.value == pytest.approx(1.5, rel=0.02)
    assert after_2014.interval[0] < 1.5 < after_2014.interval[1]
    assert after_2014.n == 20
    assert "association" in after_2014.sentence and "20 years" in after_2014.sentence
    assert "50% higher" in after_2014.sentence or "49% higher" in after_2014.sentence
    assert "region's August 2014 events" in after_2014.sentence and "Consent Decree" not in after_2014.sentence
    assert models["crime.violent_slope_change_2015"].value == pytest.approx(0.95, abs=0.003)
    assert models["crime.violent_rr_2016_on_vs_trend"].value == pytest.approx(1.5 * 0.95**6, rel=0.02)
    assert "crime.violent_rr_post2016" not in models.ids()
    assert models["crime.violent_residual_autocorrelation"].n == 20
    assert "no verdict" in models["crime.verdict_relevance"].sentence
    assert "Poisson model is the one reported" in models["crime.violent_dispersion"].sentence
    assert models["crime.model_years"].value == 20
    assert "left out" in models["crime.model_years"].sentence

    peers = crime.report_peer_models(ctx, analysis)
    assert peers["crime.peer_violent_rr_post2014"].value == pytest.approx(1.2, rel=0.1)
    assert peers["crime.violent_did_level_2015"].value == pytest.approx(1.25, rel=0.1)
    assert peers["crime.violent_did_slope_2015"].value == pytest.approx(0.95, abs=0.02)
    assert "cannot be told apart" in peers["crime.property_did_slope_2015"].sentence

    saved = {c["id"]: c for c in json.loads(ctx.save_claims().read_text())}
    assert saved["crime.violent_rr_post2014"]["function"] == "heartbeats_analysis.analysis.crime.fit_its"


def test_small_counts_are_flagged(ctx, crime_table, state_table, agencies):
    result = crime.analyse_crime(crime_table, state_table, agencies, "small", ["p1"])
    levels = crime.report_levels(ctx, result)
    claim = levels["crime.violent_rate_latest"]
    assert "small_cell" in claim.flags and "too few" in claim.sentence
    assert "small_cell" in levels["crime.violent_rr_vs_missouri"].flags
    models = crime.report_models(ctx, result)
    assert models["crime.violent_rr_post2014"].value is None
    assert models["crime.violent_rr_post2014"].flags == ["insufficient_data"]
    assert "crime.model_years" not in models.ids()


def test_no_data_agency(ctx, crime_table, state_table, agencies):
    result = crime.analyse_crime(crime_table, state_table, agencies, "vsr-only", ["p1"])
    assert isinstance(result, NoData)
    for report in (crime.report_levels, crime.report_models, crime.report_peer_models):
        assert report(ctx, result).ids() == ["crime.no_data"]
    assert [c.id for c in ctx.claims] == ["crime.no_data"]
    assert "Sheriff Only" in ctx.claims["crime.no_data"].sentence
    assert crime.figure_rates(ctx, result).path is None
    assert crime.figure_its(ctx, result).path is None
    assert "note" in crime.model_table(result).columns and "note" in crime.rates_table(result).columns


def test_figures_and_tables(ctx, analysis):
    rates = crime.figure_rates(ctx, analysis)
    data = pd.read_csv(ctx.figures_dir / rates.record.data_csv)
    town = data[(data["series"] == "Townsville") & (data["outcome"] == "violent")].set_index("year")["per_1000"]
    assert math.isnan(town[2001])
    assert data[data["series"] == "Missouri"]["year"].max() == 2019
    assert "2001" in rates.record.alt_text and "NIBRS" in rates.record.alt_text

    model = crime.figure_its(ctx, analysis)
    fitted = pd.read_csv(ctx.figures_dir / model.record.data_csv)
    violent = fitted[fitted["outcome"] == "violent"].set_index("year")
    assert math.isnan(violent.loc[2010, "pre_trend_per_1000"])
    expected = violent.loc[2020, "pre_trend_per_1000"] * 1.5 * 0.95**6
    assert violent.loc[2020, "model_per_1000"] == pytest.approx(expected, rel=0.02)
    assert "higher" in model.record.alt_text

    table = crime.model_table(analysis)
    assert set(table["scope"]) == {"agency", "peers pooled", "agency vs peers (difference-in-differences)"}
    assert not table["term"].str.contains("C(", regex=False).any()
    rates_table = crime.rates_table(analysis)
    assert rates_table["year"].tolist() == YEARS
    assert rates_table.set_index("year").loc[2019, "missouri_violent_per_1000"] == 5.0


# --- the notebook ----------------------------------------------------------------------------

NOTEBOOK = NOTEBOOKS_DIR / "03-crime.ipynb"


def test_notebook_is_stored_clean_with_a_parameters_cell():
    nb = read_clean_notebook(NOTEBOOK)
    assert nb.metadata["kernelspec"]["name"] == "heartbeats"
    assert "include_nibrs_years = False" in nb.cells[1].source


@pytest.fixture(scope="module")
def processed_tables(tmp_path_factory, raw_data):
    """The processed tables the notebook reads, built from the raw files by the source modules."""
    return build_processed_tables(
        tmp_path_factory.mktemp("processed"), ("ucr_offenses", "fbi_state", "agencies", "acs")
    )


def _run_notebook(processed, build_dir, monkeypatch, **parameters):
    return run_notebook(NOTEBOOK, build_dir, monkeypatch, processed, **parameters)


@pytest.mark.slow
def test_notebook_for_ferguson(processed_tables, tmp_path, monkeypatch):
    claims = _run_notebook(processed_tables, tmp_path, monkeypatch, agency="ferguson")
    latest = claims["crime.violent_rate_latest"]
    assert latest["value"] == pytest.approx(136 / 18350 * 1000, abs=1e-3)  # 2023, NIBRS era; ACS 2019-23
    assert "nibrs_era" in latest["flags"]
    after_2014 = claims["crime.violent_rr_post2014"]
    assert after_2014["value"] > 1 and after_2014["n"] == 20  # 2000-2020 without 2001
    assert "association" in after_2014["sentence"]
    assert claims["crime.violent_dispersion"]["value"] > 1.5
    assert claims["crime.violent_rr_vs_missouri"]["interval"] is not None
    assert "Consent Decree" in after_2014["sentence"]
    assert claims["crime.violent_did_level_2015"]["interval"] is not None
    for name in ("03-crime-crime-rates", "03-crime-crime-model"):
        assert (tmp_path / "figures" / f"{name}.png").is_file()


@pytest.mark.slow
def test_notebook_for_florissant(processed_tables, tmp_path, monkeypatch):
    claims = _run_notebook(processed_tables, tmp_path, monkeypatch, agency="florissant")
    assert "Florissant" in claims["crime.violent_rate_latest"]["sentence"]
    assert claims["crime.property_rr_post2014"]["interval"] is not None


@pytest.mark.slow
def test_notebook_for_an_agency_without_ucr_data(processed_tables, tmp_path, monkeypatch):
    agencies = pd.read_csv(processed_tables / "agencies.csv")
    vsr_only = first_agency_outside_ucr(agencies)
    claims = _run_notebook(processed_tables, tmp_path, monkeypatch, agency=vsr_only)
    assert list(claims) == ["crime.no_data"]
    assert claims["crime.no_data"]["value"] is None
