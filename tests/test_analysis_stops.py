"""Vehicle stops analysis: disparity ratios, search and hit rates, the outcome test, peers, and the
notebook, checked on tiny tables whose answers are worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import processed_folder, read_clean_notebook, run_notebook
from scipy import stats as sps

from heartbeats_analysis.analysis import NoData, reference
from heartbeats_analysis.analysis import stops as S
from heartbeats_analysis.paths import PROJECT_ROOT
from heartbeats_analysis.report.notebook_io import NotebookContext

NOTEBOOK = PROJECT_ROOT / "notebooks" / "04-stops.ipynb"


# --- fixtures -----------------------------------------------------------------------------------


def agencies_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency_slug": ["town", "village", "no-stops", "no-geo"],
            "display_name": ["Town", "Village", "No Stops", "No Geo"],
            "geoid": ["2900001", "2900002", "2900003", pd.NA],
            "geo_type": ["place", "place", "place", pd.NA],
        }
    ).astype({"geoid": "str", "geo_type": "str"})


def population_table() -> pd.DataFrame:
    rows = []
    # Town: 1,100 residents; White 300, Black 600, Hispanic 100 (100 others) in every year.
    for year in (2019, 2020, 2022):
        for race, n in {"total": 1100, "white": 300, "black": 600, "hispanic": 100}.items():
            rows.append(("Town city, Missouri", "2900001", "place", year, race, n))
    # Village: 2020 only; Black 100 of 1,000, White 850, Hispanic 50.
    for race, n in {"total": 1000, "white": 850, "black": 100, "hispanic": 50}.items():
        rows.append(("Village city, Missouri", "2900002", "place", 2020, race, n))
    for race, n in {"total": 500, "white": 250, "black": 200, "hispanic": 50}.items():
        rows.append(("No Stops city, Missouri", "2900003", "place", 2020, race, n))
    # The state: Black 10% of the three groups in 2020.
    for race, n in {"total": 10_000, "white": 8_500, "black": 1_000, "hispanic": 500}.items():
        rows.append(("Missouri", "29", "state", 2020, race, n))
    frame = pd.DataFrame(rows, columns=["geography", "geoid", "geo_type", "year", "race", "population"])
    return frame.astype({"population": "Int64", "geoid": "str"})


def _row(slug, year, race, stops, searches=pd.NA, contraband=pd.NA, arrests=pd.NA, citations=pd.NA):
    return {
        "agency_slug": slug,
        "vsr_name": f"{slug} Police Dept",
        "year": year,
        "race": race,
        "stops": stops,
        "searches": searches,
        "contraband": contraband,
        "arrests": arrests,
        "citations": citations,
    }


def stops_table() -> pd.DataFrame:
    rows = [
        # 2019: per-race files only (no total, no searches).
        _row("town", 2019, "white", 20),
        _row("town", 2019, "black", 60),
        _row("town", 2019, "hispanic", 20),
        # 2020: full detail with a total; 2021 absent (a gap, like Ferguson's).
        _row("town", 2020, "total", 110, 12, 6, 4, 50),
        _row("town", 2020, "white", 20, 2, 2, 1, 10),
        _row("town", 2020, "black", 80, 10, 4, 3, 38),
        _row("town", 2020, "hispanic", 5, 0, 0, 0, 1),
        _row("town", 2022, "total", 200, 20, 10, 10, 100),
        _row("town", 2022, "white", 50, 8, 6, 1, 20),
        _row("town", 2022, "black", 140, 12, 4, 9, 76),
        # a published row that cannot be right: more finds than searches
        _row("town", 2022, "hispanic", 10, 3, 5, 0, 4),
        _row("village", 2020, "total", 100, 0, 0, 0, 10),
        _row("village", 2020, "white", 80, 0, 0, 0, 8),
        _row("village", 2020, "black", 15, 0, 0, 0, 2),
        _row("village", 2020, "hispanic", 5, 0, 0, 0, 0),
    ]
    frame = pd.DataFrame(rows)
    for column in ("stops", "searches", "contraband", "arrests", "citations"):
        frame[column] = frame[column].astype("Int64")
    return frame


def statewide_table() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "year": [2020, 2020, 2020, 2021, 2021, 2021],
            "race": ["white", "black", "hispanic"] * 2,
            "stops": [8_000, 1_500, 500, 8_000, 1_500, 500],
            "searches": [400, 150, 20, 400, 150, 20],
            "contraband": [120, 30, 5, 100, 30, 5],
        }
    )
    return frame.astype({c: "Int64" for c in ("stops", "searches", "contraband")})


@pytest.fixture
def data() -> S.StopsInputs:
    return S.StopsInputs(stops_table(), statewide_table(), population_table(), agencies_table())


@pytest.fixture
def ctx(tmp_path) -> NotebookContext:
    return NotebookContext.for_notebook(tmp_path, "04-stops")


# --- disparity ------------------------------------------------------------------------------------


def test_the_inputs_compute_each_table_once_and_hand_each_caller_its_own_copy(data):
    direct = S.disparity_table(data.stops, data.population, data.agencies, "town")
    first = data.disparity("town")
    pd.testing.assert_frame_equal(first, direct)
    first["disparity_ratio"] = 0.0  # one caller changing its table changes no other caller's
    pd.testing.assert_frame_equal(data.disparity("town"), direct)
    pd.testing.assert_frame_equal(
        data.statewide_disparity(), S.statewide_disparity_table(data.stops_statewide, data.population)
    )
    assert isinstance(data.disparity("no-stops"), NoData)
    computed = []
    for _ in range(3):
        data.once(("table",), lambda: computed.append(1) or pd.DataFrame({"a": [1]}))
    assert computed == [1]


def test_loaded_inputs_share_their_tables_across_calls_until_a_file_changes(data, tmp_path):
    """A kernel that builds several briefs reads the tables once and computes each agency's tables once; every call
    gets its own copies, and a rewritten file is read again."""
    tables = (data.stops, data.stops_statewide, data.population, data.agencies)
    for name, frame in zip(S.INPUT_TABLES, tables, strict=True):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    first, second = S.load_inputs(tmp_path), S.load_inputs(tmp_path)
    assert first.stops is not second.stops and first.stops.equals(second.stops)
    first.stops.loc[:, "stops"] = 0  # one notebook changing its copy changes no other notebook's
    assert not second.stops["stops"].eq(0).all()
    computed = []
    for inputs in (first, second, S.load_inputs(tmp_path)):
        inputs.once(("table",), lambda: computed.append(1) or pd.DataFrame({"a": [1]}))
    assert computed == [1]
    (tmp_path / "agencies.csv").write_text((tmp_path / "agencies.csv").read_text() + "\n")  # a new version
    S.load_inputs(tmp_path).once(("table",), lambda: computed.append(1) or pd.DataFrame({"a": [1]}))
    assert computed == [1, 1]


def test_disparity_three_groups_before_2020(data):
    table = S.disparity_table(data.stops, data.population, data.agencies, "town")
    row = table[(table["year"] == 2019) & (table["race"] == "black")]
    assert list(row["definition"]) == ["three_groups"]  # no total published: only the three-group ratio
    row = row.iloc[0]
    # stops 60 / 100 = 0.6; residents 600 / 1000 = 0.6 -> ratio 1.0
    assert row["stop_share"] == pytest.approx(0.6)
    assert row["population_share"] == pytest.approx(0.6)
    assert row["disparity_ratio"] == pytest.approx(1.0)
    ci = sps.binomtest(60, 100).proportion_ci(method="exact")
    assert (row["lower"], row["upper"]) == pytest.approx((ci.low / 0.6, ci.high / 0.6))


def test_disparity_all_races_from_2020(data):
    table = S.disparity_table(data.stops, data.population, data.agencies, "town")
    row = table[(table["year"] == 2020) & (table["race"] == "black") & (table["definition"] == "all_races")].iloc[0]
    # 80 / 110 of stops; 600 / 1100 of residents -> (8/11) / (6/11) = 4/3
    assert row["disparity_ratio"] == pytest.approx(4 / 3)
    assert row["stops_denominator"] == 110 and row["population_denominator"] == 1100
    three = table[(table["year"] == 2020) & (table["race"] == "black") & (table["definition"] == "three_groups")]
    # 80 / 105 over 600 / 1000
    assert three.iloc[0]["disparity_ratio"] == pytest.approx((80 / 105) / 0.6)


def test_missing_year_is_not_filled(data):
    table = S.disparity_table(data.stops, data.population, data.agencies, "town")
    assert 2021 not in set(table["year"])
    assert sorted(set(table["year"])) == [2019, 2020, 2022]


def test_population_year_falls_back_to_nearest(data):
    table = S.disparity_table(data.stops, data.population, data.agencies, "town")
    assert set(table.loc[table["year"] == 2022, "population_year"]) == {2022}
    population = data.population[data.population["year"] != 2022]
    table = S.disparity_table(data.stops, population, data.agencies, "town")
    assert set(table.loc[table["year"] == 2022, "population_year"]) == {2020}


def test_headline_is_latest_all_races(data):
    table = S.disparity_table(data.stops, data.population, data.agencies, "town")
    row = S.headline_disparity(table)
    assert row["year"] == 2022 and row["definition"] == "all_races"
    assert row["disparity_ratio"] == pytest.approx((140 / 200) / (600 / 1100))


def test_small_cells_flagged(data):
    table = S.disparity_table(data.stops, data.population, data.agencies, "village")
    black = table[(table["race"] == "black") & (table["definition"] == "all_races")].iloc[0]
    hispanic = table[(table["race"] == "hispanic") & (table["definition"] == "all_races")].iloc[0]
    assert not black["small_cell"]  # 15 stops
    assert hispanic["small_cell"]  # 5 stops


@pytest.mark.parametrize("agency,table", [("no-stops", "stops"), ("nowhere", "agencies"), ("no-geo", "population")])
def test_disparity_no_data(data, agency, table):
    result = S.disparity_table(data.stops, data.population, data.agencies, agency)
    assert isinstance(result, NoData) and not result
    assert result.table == table


def test_statewide_disparity(data):
    table = S.statewide_disparity_table(data.stops_statewide, data.population)
    row = table[(table["year"] == 2020) & (table["race"] == "black")].iloc[0]
    # 1,500 / 10,000 of stops; 1,000 / 10,000 of residents
    assert row["disparity_ratio"] == pytest.approx(1.5)
    assert row["definition"] == "three_groups"
    assert 2021 in set(table["year"])  # population for 2021 falls back to 2020


# --- searches and contraband ----------------------------------------------------------------------


def test_search_outcomes_per_year_and_pooled(data):
    out = S.search_outcomes(data.stops, "town")
    black_2020 = out[(out["period"] == "2020") & (out["race"] == "black")].iloc[0]
    assert black_2020["search_rate"] == pytest.approx(10 / 80)
    assert black_2020["hit_rate"] == pytest.approx(4 / 10)
    assert not black_2020["small_cell_searches"]
    white_2020 = out[(out["period"] == "2020") & (out["race"] == "white")].iloc[0]
    assert white_2020["small_cell_searches"]  # 2 searches
    pooled_black = S.pooled(out, "black")
    assert pooled_black["period"] == "pooled 2020, 2022"
    assert (pooled_black["stops"], pooled_black["searches"], pooled_black["contraband"]) == (220, 22, 8)
    ci = sps.binomtest(8, 22).proportion_ci(method="exact")
    assert (pooled_black["hit_lower"], pooled_black["hit_upper"]) == pytest.approx((ci.low, ci.high))


def test_inconsistent_rows_are_shown_but_not_pooled(data):
    out = S.search_outcomes(data.stops, "town")
    bad = out[(out["period"] == "2022") & (out["race"] == "hispanic")].iloc[0]
    assert bad["inconsistent"] and math.isnan(bad["hit_rate"])
    pooled_hispanic = S.pooled(out, "hispanic")
    assert pooled_hispanic["searches"] == 0 and pooled_hispanic["years"] == "2020"


def test_search_outcomes_no_data_before_2020(data):
    stops = data.stops[data.stops["year"] < 2020]
    assert isinstance(S.search_outcomes(stops, "town"), NoData)


def test_hit_rate_test_on_fixture(data):
    test = S.hit_rate_test(data.stops, "town")
    # Black 4 + 4 of 10 + 12; white 2 + 6 of 2 + 8 (Hispanic 2022 is inconsistent, never tested)
    assert (test.group_successes, test.group_trials) == (8, 22)
    assert (test.reference_successes, test.reference_trials) == (8, 10)
    assert test.small_cell  # 2 white searches without contraband


def test_search_ratio(data):
    out = S.search_outcomes(data.stops, "town")
    ratio = S.search_ratio(out)
    assert ratio.value == pytest.approx((22 / 220) / (10 / 70))


def test_enforcement_shares(data):
    shares = S.enforcement_shares(data.stops, "town")
    row = shares[(shares["year"] == 2022) & (shares["action"] == "citations")].iloc[0]
    assert row["share"] == pytest.approx(76 / 100)
    assert isinstance(S.enforcement_shares(data.stops, "no-stops"), NoData)


def test_peer_comparison_falls_back_to_latest_earlier_year(data):
    table = S.peer_comparison(data, "town", ["village", "no-stops"])
    assert list(table["role"]) == ["agency", "peer", "peer", "state"]
    assert list(table["agency_slug"]) == ["town", "no-stops", "village", "missouri"]
    village = table[table["agency_slug"] == "village"].iloc[0]
    assert village["year"] == 2020  # the agency's year is 2022; the village has only 2020
    assert village["black_disparity"] == pytest.approx((15 / 100) / (100 / 1000))
    assert pd.isna(table[table["agency_slug"] == "no-stops"].iloc[0]["black_disparity"])
    state = table[table["role"] == "state"].iloc[0]
    assert state["black_hit_rate"] == pytest.approx(60 / 300)


# --- report functions -----------------------------------------------------------------------------


def _run_report(ctx, data, agency, peers=("village",)):
    S.report_disparity(ctx, data, agency)
    S.report_search_outcomes(ctx, data, agency)
    S.report_hit_rate_test(ctx, data, agency)
    S.report_enforcement_shares(ctx, data, agency)
    S.report_peers(ctx, data, agency, list(peers))
    return S.report_references(ctx, data, agency)


def test_report_records_claims(ctx, data):
    _run_report(ctx, data, "town")
    claims = ctx.claims
    assert claims["stops.latest_year"].value == 2022
    disparity = claims["stops.black_disparity_latest"]
    assert disparity.value == pytest.approx((140 / 200) / (600 / 1100))
    assert disparity.n == 200 and disparity.interval[0] < disparity.value < disparity.interval[1]
    assert "2022" in disparity.sentence and "Town" in disparity.sentence
    assert claims["stops.black_share_stops_latest"].value == pytest.approx(0.7)
    assert "70%" in claims["stops.black_share_stops_latest"].sentence
    assert claims["stops.white_search_rate"].value == pytest.approx(10 / 70)
    assert claims["stops.hit_rate_white"].value == pytest.approx(0.8)
    # 8 finds in 10 searches: a rate, but from so few searches that the flag and the interval go with it.
    assert claims["stops.hit_rate_white"].flags == ["small_n"]
    assert "Only 10 searches" in claims["stops.hit_rate_white"].sentence
    assert claims["stops.hit_rate_or"].flags == ["small_cell"]
    assert "too few" in claims["stops.hit_rate_or"].sentence
    assert claims["stops.black_share_citations_latest"].value == pytest.approx(0.76)
    assert claims["stops.state_hit_rate_or"].value is not None
    # the DOJ figures belong to Ferguson only
    assert not any(c.id.startswith("reference.") for c in claims)
    for claim in claims:
        assert claim.function.startswith("heartbeats_analysis.analysis.stops.")
        assert claim.notebook == "04-stops"


def test_report_for_an_agency_without_stops(ctx, data):
    _run_report(ctx, data, "no-stops")
    for claim_id in (
        "stops.black_disparity_latest",
        "stops.black_share_stops_latest",
        "stops.hit_rate_or",
        "stops.black_search_rate",
        "stops.black_share_citations_latest",
    ):
        claim = ctx.claims[claim_id]
        assert claim.value is None and claim.flags == ["no_data"]
        assert "No Stops" in claim.sentence
    assert isinstance(S.figure_black_share(ctx, data, "no-stops"), NoData)


def test_figures_written_with_alt_text(ctx, data):
    for figure in (
        S.figure_black_share(ctx, data, "town"),
        S.figure_disparity_peers(ctx, data, "town", ["village"]),
        S.figure_search_outcomes(ctx, data, "town"),
    ):
        assert (ctx.figures_dir / figure.png).is_file()
        assert (ctx.figures_dir / figure.data_csv).is_file()
        assert figure.name.startswith("04-stops-")
        assert "Town" in figure.alt_text or "Missouri" in figure.alt_text
    share = json.loads((ctx.figures_dir / "04-stops-black-share.json").read_text())
    assert "No report for 2021" in share["alt_text"]


def test_references_beside_ours_for_ferguson(ctx, data):
    agencies = pd.concat(
        [
            data.agencies,
            pd.DataFrame(
                {"agency_slug": ["ferguson"], "display_name": ["Ferguson"], "geoid": ["2900001"], "geo_type": ["place"]}
            ),
        ]
    )
    stops = pd.concat([data.stops, data.stops[data.stops["agency_slug"] == "town"].assign(agency_slug="ferguson")])
    data = S.StopsInputs(stops, data.stops_statewide, data.population, agencies)
    table = _run_report(ctx, data, "ferguson")
    doj = ctx.claims["reference.doj_black_stop_share"]
    assert doj.value == 0.85 and doj.flags == ["reference"]
    assert "Justice" in doj.source[0] and "http" in doj.source[0]
    row = table[table["our claim"] == "stops.black_share_stops_latest"].iloc[0]
    assert row["DOJ 2015 (published)"] == 0.85
    assert row["ours (computed)"] == pytest.approx(0.7)  # our number unchanged by the reference
    contraband = table[table["our claim"] == "stops.hit_rate_ratio"].iloc[0]
    assert contraband["ours (computed)"] == pytest.approx(1 - (8 / 22) / (8 / 10))


def test_reference_constants_are_cited():
    for fig in reference.REFERENCE_FIGURES.values():
        assert fig.citation and fig.url.startswith("http") and fig.years
        assert (fig.value is not None) or fig.range
    claim = reference.reference_claim("doj_black_search_ratio")
    assert claim.id == "reference.doj_black_search_ratio" and claim.value == 2.07
    assert reference.reference_claim("cahoots_diversion_share").interval == (0.03, 0.08)
    table = reference.reference_table(reference.STOPS_REFERENCE_IDS)
    assert list(table["value"]) == [0.67, 0.85, 0.90, 0.93, 2.07, 0.26]


# --- the notebook ---------------------------------------------------------------------------------


def test_notebook_is_stored_clean():
    nb = read_clean_notebook(NOTEBOOK)
    assert nb.metadata["kernelspec"]["name"] == "heartbeats"
    assert "agency" in nb.cells[1].source and "peers" in nb.cells[1].source and "build_dir" in nb.cells[1].source
    assert "Limitations" in nb.cells[-2].source


def _run_notebook(tmp_path, monkeypatch, agency):
    folder = processed_folder(("stops", "stops_statewide", "population", "agencies", "arrests", "disparity_index_2017"))
    return run_notebook(NOTEBOOK, tmp_path, monkeypatch, folder, agency=agency)


@pytest.mark.slow
def test_notebook_for_ferguson(tmp_path, monkeypatch):
    claims = _run_notebook(tmp_path, monkeypatch, "ferguson")
    assert claims["stops.latest_year"]["value"] == 2024
    assert claims["stops.black_share_stops_latest"]["value"] == pytest.approx(1265 / 1410)
    assert claims["stops.black_disparity_latest"]["value"] == pytest.approx((1265 / 1410) / (12510 / 18213))
    assert claims["stops.hit_rate_black"]["value"] == pytest.approx(58 / 104)
    assert claims["stops.hit_rate_white"]["value"] == pytest.approx(9 / 12)
    assert "small_n" in claims["stops.hit_rate_white"]["flags"]
    assert "small_cell" in claims["stops.hit_rate_or"]["flags"]
    assert claims["reference.doj_black_stop_share"]["value"] == 0.85
    # The per-resident headline: 2024, 1,265 of 12,510 Black vs 123 of 4,706 white residents.
    assert claims["stops.black_white_rate_ratio_latest"]["value"] == pytest.approx((1265 / 12510) / (123 / 4706))
    assert claims["stops.hispanic_white_rate_ratio_latest"]["value"] == pytest.approx((15 / 235) / (123 / 4706))
    assert (
        "ceiling" in claims["stops.black_disparity_latest"]["sentence"]
        or "exceed" in claims["stops.black_disparity_latest"]["sentence"]
    )
    assert "heterogeneous" in claims["stops.outcome_heterogeneity_p"]["flags"]
    assert "implausible_jump" in claims["stops.black_share_arrests_latest"]["flags"]
    assert "9 (2020), 0 (2022), 50 (2023), 222 (2024)" in claims["stops.black_share_arrests_latest"]["sentence"]
    assert claims["arrests.black_white_minor_rate_ratio_latest"]["value"] == pytest.approx((223 / 14616) / (46 / 4837))
    for name in ("black-share", "disparity-peers", "search-outcomes", "rate-ratios", "arrests"):
        assert (tmp_path / "figures" / f"04-stops-{name}.png").is_file()


@pytest.mark.slow
def test_notebook_for_florissant(tmp_path, monkeypatch):
    claims = _run_notebook(tmp_path, monkeypatch, "florissant")
    assert claims["stops.black_disparity_latest"]["value"] > 1
    assert "Florissant" in claims["stops.black_disparity_latest"]["sentence"]
    assert not any(c.startswith("reference.") for c in claims)


@pytest.mark.slow
def test_notebook_for_an_agency_without_stops(tmp_path, monkeypatch):
    claims = _run_notebook(tmp_path, monkeypatch, "jennings")
    assert claims["stops.black_disparity_latest"]["value"] is None
    assert claims["stops.black_disparity_latest"]["flags"] == ["no_data"]
    assert np.isfinite(claims["stops.state_black_disparity"]["value"])


# --- per-resident rate ratios, population error, jumps, yearly tests, action rates -----------------

from heartbeats_analysis.analysis import outcome_tests as O  # noqa: E402
from heartbeats_analysis.analysis import stop_rates as R  # noqa: E402
from heartbeats_analysis.analysis import stops_benchmarks as B  # noqa: E402


def test_rate_ratios_by_hand_with_a_missing_year(data):
    table = B.agency_rate_table(data, "town")
    black = table[table["race"].eq("black")].set_index("year")
    # 2021 has no report: no row, never a zero.
    assert list(black.index) == [2019, 2020, 2022]
    assert black.loc[2019, "rate_ratio"] == pytest.approx((60 / 600) / (20 / 300))  # 1.5
    assert black.loc[2020, "rate_ratio"] == pytest.approx((80 / 600) / (20 / 300))  # 2.0
    assert black.loc[2022, "rate_ratio"] == pytest.approx((140 / 600) / (50 / 300))  # 1.4
    assert black.loc[2020, "stop_rate_per_1000"] == pytest.approx(80 / 600 * 1000)
    # Share ratio within the three groups, beside its ceiling 1 / (600 / 1000).
    assert black.loc[2020, "share_ratio"] == pytest.approx((80 / 105) / (600 / 1000))
    assert black.loc[2020, "share_ratio_ceiling"] == pytest.approx(1000 / 600)
    hispanic = table[table["race"].eq("hispanic")].set_index("year")
    assert hispanic.loc[2020, "rate_ratio"] == pytest.approx((5 / 100) / (20 / 300))  # 0.75


def test_rate_ratio_with_a_zero_count_group():
    pop = pd.DataFrame({"total": [1000], "white": [500], "black": [400], "hispanic": [100]}, index=[2020])
    counts = pd.DataFrame({"year": [2020] * 3, "race": ["white", "black", "hispanic"], "stops": [50, 40, 0]})
    table = R.rate_ratio_table(counts, pop, "x").set_index("race")
    assert table.loc["hispanic", "rate_ratio"] == 0.0
    assert table.loc["hispanic", "lower"] == 0.0 and table.loc["hispanic", "upper"] > 0
    assert table.loc["hispanic", "small_cell"]
    assert table.loc["black", "rate_ratio"] == pytest.approx(1.0)


def test_acs_cv_and_widening_by_hand():
    # SE = 2 x sqrt(600 x (1 - 600/1100) x 0.92 / 0.08) = 112.006; CV = 0.18668
    assert R.acs_count_cv(600, 1100) == pytest.approx(112.006 / 600, rel=1e-4)
    assert math.isnan(R.acs_count_cv(0, 1100))
    # No population error: the interval is unchanged.
    assert R.widen_for_population(2.0, 1.0, 4.0, 0.0, 0.0) == pytest.approx((1.0, 4.0))
    # No count error: exp(+-1.96 x sqrt(0.3^2 + 0.4^2)) = exp(+-0.98)
    lower, upper = R.widen_for_population(2.0, 2.0, 2.0, 0.3, 0.4)
    assert upper == pytest.approx(2 * math.exp(1.959964 * 0.5), rel=1e-5)
    assert lower == pytest.approx(2 * math.exp(-1.959964 * 0.5), rel=1e-5)


def test_jumps_flag_ferguson_arrests_and_skip_small_counts():
    arrests = pd.Series({2020: 9, 2022: 0, 2023: 50, 2024: 222})
    jumps = R.flag_jumps(arrests)
    assert jumps[["from_year", "to_year"]].values.tolist() == [[2022, 2023]]  # 9->0 too small; 50->222 is 4.4x
    assert math.isinf(jumps.iloc[0]["factor"])
    white = R.flag_jumps(pd.Series({2014: 758, 2015: 127, 2016: 109}))
    assert white[["from_year", "to_year"]].values.tolist() == [[2014, 2015]]
    assert R.flag_jumps(pd.Series({2019: 5, 2020: 0, 2022: 18})).empty
    assert R.series_words(pd.Series({2020: 9, 2021: float("nan"), 2022: 0})) == "9 (2020), 0 (2022)"


def test_yearly_odds_ratios_and_heterogeneity_by_hand(data):
    yearly = O.yearly_odds_ratios(data.stops_statewide)
    assert yearly["odds_ratio"].tolist() == pytest.approx([(30 * 280) / (120 * 120), (30 * 300) / (100 * 120)])
    # Two years with odds ratios 1 and 9: log ORs 0 and ln 9, SEs sqrt(0.4) and sqrt(8/15); Q = 5.17.
    frame = pd.DataFrame(
        {
            "year": [2020, 2021] * 2,
            "race": ["black", "black", "white", "white"],
            "searches": [20, 20, 20, 20],
            "contraband": [10, 15, 10, 5],
        }
    )
    table = O.yearly_odds_ratios(frame)
    assert table["odds_ratio"].tolist() == pytest.approx([1.0, 9.0])
    result = O.heterogeneity(table)
    w = np.array([1 / 0.4, 15 / 8])
    y = np.array([0.0, math.log(9)])
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    assert result["cochran_q"] == pytest.approx(q) and q == pytest.approx(5.17, abs=0.01)
    assert result["cochran_q_p"] == pytest.approx(sps.chi2.sf(q, 1))
    assert result["heterogeneous"] == (result["breslow_day_p"] < 0.05)
    assert math.isnan(O.heterogeneity(table.iloc[:1])["breslow_day_p"])


def test_action_rates_by_hand_with_a_zero_group(data):
    rates = O.action_rates(data.stops, "town")
    pooled = rates[rates["period"].eq("pooled 2020, 2022")].set_index(["action", "race"])
    citations = pooled.loc[("citations", "black")]
    assert citations["rate"] == pytest.approx(114 / 220)
    assert citations["ratio_to_white"] == pytest.approx((114 / 220) / (30 / 70))
    assert pooled.loc[("arrests", "black"), "ratio_to_white"] == pytest.approx((12 / 220) / (2 / 70))
    village = O.action_rates(data.stops, "village").set_index(["period", "action", "race"])
    assert village.loc[("2020", "arrests", "black"), "rate"] == 0.0
    assert math.isnan(village.loc[("2020", "arrests", "black"), "ratio_to_white"])  # 0 vs 0: no ratio


def test_rate_claims_for_town_and_no_data(data, tmp_path):
    ctx = NotebookContext.for_notebook(tmp_path, "04-stops", "town")
    B.report_rate_ratios(ctx, data, "town")
    B.report_peer_rate_ratios(ctx, data, "town", ["village"])
    claims = {c.id: c for c in ctx.claims}
    assert claims["stops.black_white_rate_ratio_latest"].value == pytest.approx(1.4)
    assert "No report for 2021" in claims["stops.black_white_rate_ratio_series"].sentence
    assert (
        claims["stops.black_white_rate_ratio_with_population_error"].interval[0]
        < (claims["stops.black_white_rate_ratio_latest"].interval[0])
    )
    # Village reports 2020 only, so no peer has the town's latest year (2022).
    assert claims["stops.peer_black_white_rate_ratio_median"].flags == ["no_data"]
    assert claims["stops.state_black_white_rate_ratio"].value == pytest.approx((1500 / 1000) / (8000 / 8500))
    empty = NotebookContext.for_notebook(tmp_path / "x", "04-stops", "no-stops")
    B.report_rate_ratios(empty, data, "no-stops")
    assert all(c.flags == ["no_data"] for c in empty.claims)


def test_tests_not_run_are_stated(tmp_path):
    ctx = NotebookContext.for_notebook(tmp_path, "04-stops", "town")
    table = B.report_unrunnable_tests(ctx)
    claim = {c.id: c for c in ctx.claims}["stops.tests_not_run"]
    assert claim.value == len(table) == 2
    assert "veil-of-darkness" in claim.sentence and "time of each stop" in claim.sentence
    assert "threshold" not in claim.sentence  # it is run, across Missouri agencies (08-threshold)
