"""Shared statistics: checked against scipy/statsmodels and numbers computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st_
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson, confint_poisson_2indep

from heartbeats_analysis.analysis import stats as st

# --- binomial ----------------------------------------------------------------------------------


@pytest.mark.parametrize("k,n", [(1, 10), (5, 10), (85, 100), (3, 7), (240, 1000)])
def test_binomial_ci_matches_statsmodels_and_scipy(k, n):
    est = st.binomial_ci(k, n)
    lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
    scipy_ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert est.value == pytest.approx(k / n)
    assert (est.lower, est.upper) == pytest.approx((lo, hi), rel=1e-10)
    assert (est.lower, est.upper) == pytest.approx((scipy_ci.low, scipy_ci.high), rel=1e-10)
    assert est.n == n
    assert est.interval_kind == "95% CI (exact Clopper-Pearson)"


def test_binomial_ci_edges_by_hand():
    none = st.binomial_ci(0, 10)
    # Upper limit for 0 of n: 1 - (alpha/2)^(1/n).
    assert none.lower == 0.0
    assert none.upper == pytest.approx(1 - 0.025 ** (1 / 10))
    assert none.upper == pytest.approx(0.3084971, abs=1e-7)
    everything = st.binomial_ci(10, 10)
    assert everything.upper == 1.0
    assert everything.lower == pytest.approx(0.025 ** (1 / 10))
    empty = st.binomial_ci(0, 0)
    assert math.isnan(empty.value) and empty.interval is None and empty.n == 0


def test_binomial_ci_other_confidence():
    est = st.binomial_ci(5, 10, confidence=0.90)
    lo, hi = proportion_confint(5, 10, alpha=0.10, method="beta")
    assert (est.lower, est.upper) == pytest.approx((lo, hi))
    assert est.interval_kind.startswith("90% CI")


@pytest.mark.parametrize("k,n", [(11, 10), (-1, 10), (2.5, 10), (math.nan, 10)])
def test_binomial_ci_rejects_impossible_counts(k, n):
    with pytest.raises(ValueError):
        st.binomial_ci(k, n)


def test_binomial_ci_rejects_pandas_missing():
    with pytest.raises(ValueError, match="missing"):
        st.binomial_ci(pd.NA, 10)


@settings(max_examples=60, deadline=None)
@given(n=st_.integers(min_value=1, max_value=5000), frac=st_.floats(min_value=0, max_value=1))
def test_binomial_ci_contains_the_estimate(n, frac):
    k = int(round(frac * n))
    est = st.binomial_ci(k, n)
    assert 0 <= est.lower <= est.value <= est.upper <= 1


# --- Poisson rate ------------------------------------------------------------------------------


@pytest.mark.parametrize("k,exposure", [(0, 1.0), (1, 1.0), (7, 2.5), (120, 20_000), (1500, 300_000)])
def test_poisson_rate_ci_matches_statsmodels_exact(k, exposure):
    est = st.poisson_rate_ci(k, exposure)
    lo, hi = confint_poisson(k, exposure, method="exact-c", alpha=0.05)
    assert est.value == pytest.approx(k / exposure)
    assert est.lower == pytest.approx(lo, abs=1e-12)
    assert est.upper == pytest.approx(hi, rel=1e-10)
    assert est.n == k


def test_poisson_rate_ci_by_hand():
    zero = st.poisson_rate_ci(0)
    assert zero.lower == 0.0
    assert zero.upper == pytest.approx(-math.log(0.025))  # 3.689
    per_1000 = st.poisson_rate_ci(120, exposure=20_000, per=1000)
    assert per_1000.value == pytest.approx(6.0)
    # Garwood limits for 120 events (chi-square quantiles) are 99.49 and 143.49.
    assert per_1000.lower == pytest.approx(99.49 / 20, abs=0.01)
    assert per_1000.upper == pytest.approx(143.49 / 20, abs=0.01)
    assert per_1000.scaled(1 / 1000).value == pytest.approx(0.006)


@pytest.mark.parametrize("exposure", [0, -5, math.nan])
def test_poisson_rate_ci_rejects_bad_exposure(exposure):
    with pytest.raises(ValueError, match="exposure"):
        st.poisson_rate_ci(5, exposure)


# --- rate ratio --------------------------------------------------------------------------------


def test_rate_ratio_exact_conditional_by_hand():
    est = st.rate_ratio(30, 1000, 15, 1000)
    assert est.value == pytest.approx(2.0)
    share = sps.binomtest(30, 45).proportion_ci(method="exact")
    assert est.lower == pytest.approx(share.low / (1 - share.low))
    assert est.upper == pytest.approx(share.high / (1 - share.high))
    assert est.n == 45
    assert est.interval_kind == "95% CI (exact conditional)"


def test_rate_ratio_accounts_for_exposure():
    est = st.rate_ratio(30, 2000, 15, 1000)
    assert est.value == pytest.approx(1.0)
    # Equal rates: the interval is the equal-exposure interval scaled by the exposure ratio.
    base = st.rate_ratio(30, 1000, 15, 1000)
    assert (est.lower, est.upper) == pytest.approx((base.lower / 2, base.upper / 2))


def test_rate_ratio_symmetric_when_counts_equal():
    est = st.rate_ratio(40, 500, 40, 500)
    assert est.value == pytest.approx(1.0)
    assert est.lower * est.upper == pytest.approx(1.0)


def test_rate_ratio_close_to_score_interval_for_large_counts():
    est = st.rate_ratio(900, 100_000, 600, 100_000)
    lo, hi = confint_poisson_2indep(900, 100_000, 600, 100_000, method="score", compare="ratio")
    assert est.value == pytest.approx(1.5)
    assert (est.lower, est.upper) == pytest.approx((lo, hi), rel=0.01)


def test_rate_ratio_zero_counts():
    assert st.rate_ratio(0, 10, 5, 10).value == 0.0
    assert st.rate_ratio(0, 10, 5, 10).lower == 0.0
    no_reference = st.rate_ratio(5, 10, 0, 10)
    assert math.isinf(no_reference.value) and math.isinf(no_reference.upper)
    assert no_reference.interval is None
    assert math.isnan(st.rate_ratio(0, 10, 0, 10).value)


# --- disparity ratio ---------------------------------------------------------------------------


def test_disparity_ratio_by_hand():
    # DOJ 2015 figures: 85% of stops, 67% of residents.
    est = st.disparity_ratio(850, 1000, 67, 100)
    assert est.value == pytest.approx(0.85 / 0.67)
    lo, hi = proportion_confint(850, 1000, method="beta")
    assert (est.lower, est.upper) == pytest.approx((lo / 0.67, hi / 0.67))
    assert "population share fixed" in est.interval_kind
    assert est.n == 1000
    assert est.excludes(1.0)


def test_disparity_ratio_of_one_when_proportional():
    est = st.disparity_ratio(50, 100, 5000, 10_000)
    assert est.value == pytest.approx(1.0)
    assert not est.excludes(1.0)


@pytest.mark.parametrize("group,total", [(0, 100), (200, 100), (10, 0), (math.nan, 100)])
def test_disparity_ratio_rejects_bad_population(group, total):
    with pytest.raises(ValueError):
        st.disparity_ratio(5, 10, group, total)


# --- two proportions: odds ratios and the ratio of proportions -----------------------------


def test_odds_ratio_test_by_hand():
    counts = pd.DataFrame(
        {"year": [2020, 2020], "race": ["black", "white"], "contraband": [20, 30], "searches": [100, 100]}
    )
    test = st.odds_ratio_test(counts, "contraband", "searches", "contraband found per search")
    # (20 * 70) / (80 * 30); a two-group GLM is saturated, so its odds ratio is the sample odds ratio
    assert test.glm.value == pytest.approx(1400 / 2400)
    se = math.sqrt(1 / 20 + 1 / 80 + 1 / 30 + 1 / 70)
    z = sps.norm.ppf(0.975)
    assert (test.glm.lower, test.glm.upper) == pytest.approx(
        (math.exp(math.log(1400 / 2400) - z * se), math.exp(math.log(1400 / 2400) + z * se)), rel=1e-6
    )
    assert test.glm_p_value == pytest.approx(2 * sps.norm.sf(abs(math.log(1400 / 2400)) / se), rel=1e-4)
    assert test.fisher_p_value == pytest.approx(sps.fisher_exact([[20, 80], [30, 70]]).pvalue)
    assert test.risk_ratio.value == pytest.approx(0.2 / 0.3)
    assert test.n == 200 and not test.small_cell
    assert test.group_rate == pytest.approx(0.2) and test.reference_rate == pytest.approx(0.3)


def test_odds_ratio_small_cell_flag_and_separation():
    counts = pd.DataFrame(
        {"year": [2020, 2020], "race": ["black", "white"], "contraband": [58, 3], "searches": [104, 3]}
    )
    test = st.odds_ratio_test(counts, "contraband", "searches", "x")
    assert test.small_cell
    # every white search found contraband: the GLM cannot estimate an odds ratio, the exact method can
    assert math.isnan(test.glm.value)
    assert test.exact.lower == 0 or test.exact.lower < 1


def test_year_adjusted_glm_matches_statsmodels():
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    counts = pd.DataFrame(
        {
            "year": [2020, 2020, 2021, 2021],
            "race": ["black", "white", "black", "white"],
            "contraband": [30, 120, 30, 100],
            "searches": [150, 400, 150, 400],
        }
    )
    test = st.odds_ratio_test(counts, "contraband", "searches", "x", adjust_for_year=True)
    long = counts.assign(failures=counts["searches"] - counts["contraband"], black=(counts["race"] == "black") * 1.0)
    fit = smf.glm("contraband + failures ~ black + C(year)", long, family=sm.families.Binomial()).fit()
    assert test.glm.value == pytest.approx(math.exp(fit.params["black"]), rel=1e-8)
    assert test.adjusted_for_year


def test_risk_ratio_katz_interval_by_hand():
    est = st.risk_ratio(20, 100, 30, 100)
    se = math.sqrt(1 / 20 - 1 / 100 + 1 / 30 - 1 / 100)
    z = sps.norm.ppf(0.975)
    assert est.value == pytest.approx(0.2 / 0.3)
    assert (est.lower, est.upper) == pytest.approx((0.2 / 0.3 * math.exp(-z * se), 0.2 / 0.3 * math.exp(z * se)))
    assert est.n == 200 and est.method == "Katz log"


def test_risk_ratio_without_successes_has_no_interval():
    est = st.risk_ratio(5, 10, 0, 10)
    assert est.value == math.inf and math.isnan(est.lower) and math.isnan(est.upper)
    assert math.isnan(st.risk_ratio(1, 0, 1, 10).value)


# --- count regression --------------------------------------------------------------------------


def _simulated_counts(seed: int, negative_binomial: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2020)
    frame = pd.DataFrame(
        {
            "year": np.tile(years, 6),
            "group": np.repeat([0, 1, 0, 1, 0, 1], len(years)),
            "population": np.repeat([20_000, 25_000, 30_000, 15_000, 40_000, 22_000], len(years)),
        }
    )
    mean = frame["population"] / 1000 * 8.0 * np.exp(np.log(1.5) * frame["group"] - 0.02 * (frame["year"] - 2000))
    if negative_binomial:
        size = 4.0
        frame["crimes"] = rng.negative_binomial(size, size / (size + mean))
    else:
        frame["crimes"] = rng.poisson(mean)
    frame["year_c"] = frame["year"] - 2000
    return frame


def test_poisson_glm_recovers_rate_ratio():
    model = st.fit_rate_glm(_simulated_counts(7), "crimes ~ year_c + group")
    assert model.family == "poisson"
    assert model.dispersion < st.OVERDISPERSION_THRESHOLD
    group = model.term("group")
    assert group.lower < 1.5 < group.upper
    assert group.value == pytest.approx(1.5, rel=0.05)
    trend = model.term("year_c")
    assert trend.value == pytest.approx(math.exp(-0.02), abs=0.005)
    assert model.n == 120
    assert set(model.table["model"]) == {"poisson"}
    assert model.table["selected"].all()
    assert group.interval_kind == "95% CI (Poisson GLM, Wald)"


def test_poisson_glm_matches_statsmodels_directly():
    data = _simulated_counts(3)
    model = st.fit_rate_glm(data, "crimes ~ year_c + group")
    exog = sm.add_constant(data[["year_c", "group"]].astype(float))
    direct = sm.GLM(data["crimes"], exog, family=sm.families.Poisson(), offset=np.log(data["population"])).fit()
    assert model.table.set_index("term").loc["group", "coefficient"] == pytest.approx(direct.params["group"])
    assert model.dispersion == pytest.approx(direct.pearson_chi2 / direct.df_resid)
    lo, hi = np.exp(direct.conf_int().loc["group"])
    assert (model.term("group").lower, model.term("group").upper) == pytest.approx((lo, hi))


def test_overdispersed_counts_are_refitted_as_negative_binomial():
    model = st.fit_rate_glm(_simulated_counts(11, negative_binomial=True), "crimes ~ year_c + group")
    assert model.dispersion > st.OVERDISPERSION_THRESHOLD
    assert model.family == "negative_binomial" and model.overdispersed
    assert set(model.table["model"]) == {"poisson", "negative_binomial"}
    assert set(model.selected_table()["model"]) == {"negative_binomial"}
    assert "alpha" not in set(model.table["term"])
    assert model.alpha == pytest.approx(1 / 4.0, rel=0.6)
    nb, poisson = model.term("group"), model.term("group", model="poisson")
    assert nb.lower < 1.5 < nb.upper
    # The NB interval is wider: the Poisson one is too narrow under overdispersion.
    assert (nb.upper - nb.lower) > (poisson.upper - poisson.lower)


def test_glm_drops_gap_rows_instead_of_treating_them_as_zero():
    data = _simulated_counts(5)
    data["crimes"] = data["crimes"].astype("Int64")
    data.loc[[0, 1, 2], "crimes"] = pd.NA
    model = st.fit_rate_glm(data, "crimes ~ year_c + group")
    assert model.n == 117
    assert model.fitted.index.equals(data.index[3:])


def test_glm_without_offset_models_counts():
    data = pd.DataFrame({"officers": [50, 48, 47, 45, 44, 41, 40, 38], "year_c": range(8)})
    model = st.fit_rate_glm(data, "officers ~ year_c", offset=None)
    assert model.offset is None
    assert model.term("year_c").value < 1
    assert model.fitted.iloc[0] == pytest.approx(model.poisson.fittedvalues.iloc[0])


def test_glm_errors_are_explicit():
    data = _simulated_counts(1)
    with pytest.raises(KeyError, match="not in the data"):
        st.fit_rate_glm(data.drop(columns="population"), "crimes ~ year_c")
    with pytest.raises(ValueError, match="too few"):
        st.fit_rate_glm(data.head(2), "crimes ~ year_c + group")
    with pytest.raises(KeyError, match="term"):
        st.fit_rate_glm(data, "crimes ~ year_c").term("post_2014")


# --- formatting --------------------------------------------------------------------------------


def test_years_label_shows_gaps():
    assert st.years_label([2020, 2022, 2023, 2024]) == "2020, 2022-2024"
    assert st.years_label([2014]) == "2014"
    assert st.years_label([]) == ""


@given(st_.sets(st_.integers(2000, 2030), min_size=1))
def test_years_label_names_every_year_once(years):
    label = st.years_label(sorted(years))
    named = set()
    for part in label.split(", "):
        first, _, last = part.partition("-")
        named.update(range(int(first), int(last or first) + 1))
    assert named == years


def test_formatters():
    est = st.Estimate(1.2345, 1.05, 1.44, method="x")
    assert st.format_number(12345.678, 0) == "12,346"
    assert st.format_number(0.853, 0, percent=True) == "85%"
    assert st.format_number(math.nan) == "not available"
    assert st.format_interval(1.05, 1.44, 2) == "95% CI 1.05 to 1.44"
    assert st.format_estimate(est, 2) == "1.23 (95% CI 1.05 to 1.44)"
    assert st.format_ratio_change(st.Estimate(0.78, 0.70, 0.87)) == "22% lower (95% CI 30% lower to 13% lower)"
    assert st.format_ratio_change(st.Estimate(0.9, 0.7, 1.1)) == "10% lower (95% CI 30% lower to 10% higher)"
    assert st.format_ratio_change(st.Estimate(1.0, 0.9, 1.1)) == "no change (95% CI 10% lower to 10% higher)"
    assert st.format_ratio_change(st.Estimate(1.003, 0.9, 1.1)) == "0.3% higher (95% CI 10% lower to 10% higher)"


def test_combination_of_one_term_equals_the_term():
    model = st.fit_rate_glm(_simulated_counts(7), "crimes ~ year_c + group")
    one = model.combination(["group"])
    assert (one.value, one.lower, one.upper) == pytest.approx(
        (model.term("group").value, model.term("group").lower, model.term("group").upper)
    )


def test_combination_of_two_terms_uses_their_covariance():
    data = _simulated_counts(9)
    model = st.fit_rate_glm(data, "crimes ~ year_c + group")
    both = model.combination(["year_c", "group"])
    result = model.poisson
    variance = (
        result.cov_params().loc["year_c", "year_c"]
        + result.cov_params().loc["group", "group"]
        + 2 * result.cov_params().loc["year_c", "group"]
    )
    centre = result.params["year_c"] + result.params["group"]
    assert both.value == pytest.approx(math.exp(centre))
    assert both.upper == pytest.approx(math.exp(centre + 1.959964 * math.sqrt(variance)), rel=1e-6)
    with pytest.raises(KeyError):
        model.combination(["post_2016"])


def test_predict_uses_the_rows_own_exposure():
    data = _simulated_counts(7)
    model = st.fit_rate_glm(data, "crimes ~ year_c + group")
    assert model.predict(data).to_numpy() == pytest.approx(model.fitted.to_numpy())
    doubled = model.predict(data.assign(population=data["population"] * 2))
    assert doubled.to_numpy() == pytest.approx(2 * model.fitted.to_numpy())
    counterfactual = model.predict(data.assign(group=0))
    assert counterfactual[data["group"] == 1].to_numpy() == pytest.approx(
        model.fitted[data["group"] == 1].to_numpy() / model.term("group").value
    )


def test_predict_with_negative_binomial_model():
    data = _simulated_counts(11, negative_binomial=True)
    model = st.fit_rate_glm(data, "crimes ~ year_c + group")
    assert model.family == "negative_binomial"
    assert model.predict(data).to_numpy() == pytest.approx(model.fitted.to_numpy(), rel=1e-6)
    with pytest.raises(KeyError):
        st.fit_rate_glm(_simulated_counts(7), "crimes ~ year_c + group").result("negative_binomial")
