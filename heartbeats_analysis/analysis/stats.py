"""Statistics shared by every analysis: exact intervals for proportions, rates and rate ratios,
a disparity ratio, odds ratios and ratios of two proportions, a count-regression helper, and
formatters for sentences.

Every estimate comes back as an :class:`Estimate` (value, lower, upper, confidence, method, n) so a
claim can be recorded straight from it: ``interval=est.interval, interval_kind=est.interval_kind``.

Methods (also in docs/decisions.md, "Shared statistics"):

* proportions: exact Clopper-Pearson interval (beta quantiles);
* a count over an exposure: exact Garwood interval (chi-square quantiles);
* ratio of two Poisson rates: exact conditional interval (Clopper-Pearson on the share of events
  that fall in the first group, transformed to the ratio scale);
* disparity ratio (a group's share of stops over its share of the population): the population share
  is treated as fixed and the exact interval of the stop share is divided by it;
* two proportions (:func:`odds_ratio_test`): the binomial-GLM odds ratio with a Wald interval, the
  conditional maximum-likelihood odds ratio with its exact interval and Fisher's test (the sample
  odds ratio with the Woolf interval above EXACT_LIMIT trials), and the ratio of the proportions with
  the Katz log interval (:func:`risk_ratio`);
* :func:`fit_rate_glm`: Poisson GLM with a log-exposure offset; if the Pearson chi-square over the
  residual degrees of freedom exceeds 1.5, the model is refitted as a negative binomial (NB2, alpha by
  maximum likelihood). Both fits are kept; rate ratios are exp(coefficient) with Wald intervals.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import special
from scipy import stats as sps
from scipy.stats import contingency, fisher_exact
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationWarning,
)

from heartbeats_analysis.ingest.sources.base import SMALL_CELL_THRESHOLD

CONFIDENCE = 0.95
SIMULATION = "simulation"  # Estimate.method of a Monte Carlo summary: median and percentile range of the draws
OVERDISPERSION_THRESHOLD = 1.5
"""Pearson chi-square / df above which a Poisson fit is treated as overdispersed and refitted."""

__all__ = [
    "CONFIDENCE",
    "OVERDISPERSION_THRESHOLD",
    "Estimate",
    "RateModel",
    "binomial_ci",
    "poisson_rate_ci",
    "rate_ratio",
    "disparity_ratio",
    "EXACT_LIMIT",
    "MIN_CELL_FOR_WALD",
    "OddsRatioTest",
    "risk_ratio",
    "binomial_glm_odds_ratio",
    "odds_ratio_test",
    "fit_rate_glm",
    "format_number",
    "format_interval",
    "format_estimate",
    "format_ratio_change",
    "years_label",
]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval; ``method`` names how the interval was computed."""

    value: float
    lower: float
    upper: float
    confidence: float = CONFIDENCE
    method: str = ""
    n: int | None = None
    mean: float | None = None  # for a simulation: the mean of the draws (``value`` is their median)

    @property
    def interval(self) -> tuple[float, float] | None:
        """(lower, upper) for a claim, or None when either end is not a finite number."""
        if not (_finite(self.lower) and _finite(self.upper)):
            return None
        return (float(self.lower), float(self.upper))

    @property
    def interval_kind(self) -> str:
        if self.method == SIMULATION:
            tail = (1 - self.confidence) / 2 * 100
            draws = f" of {self.n:,} draws" if self.n else " of the draws"
            return (
                f"{self.confidence:.0%} range of simulations ({tail:g}th to {100 - tail:g}th percentile{draws}), "
                "not a confidence interval"
            )
        return f"{self.confidence:.0%} CI ({self.method})" if self.method else f"{self.confidence:.0%} CI"

    def scaled(self, factor: float) -> Estimate:
        """The same estimate in other units (e.g. a rate per person times 1,000)."""
        return replace(self, value=self.value * factor, lower=self.lower * factor, upper=self.upper * factor)

    def excludes(self, null: float) -> bool:
        """True when the interval lies wholly on one side of ``null`` (e.g. 1 for a ratio)."""
        return bool(self.lower > null or self.upper < null)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(float(x))


def _check_count(name: str, value: float) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        raise ValueError(f"{name} is missing; a gap cannot be turned into a count")
    if value < 0 or float(value) != int(value):
        raise ValueError(f"{name} must be a non-negative whole number, got {value!r}")
    return int(value)


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence!r}")
    return 1 - confidence


def binomial_ci(successes: int, trials: int, confidence: float = CONFIDENCE) -> Estimate:
    """Proportion ``successes / trials`` with the exact Clopper-Pearson interval.

    With no trials the proportion is undefined and every field is NaN.
    """
    alpha = _check_confidence(confidence)
    k, n = _check_count("successes", successes), _check_count("trials", trials)
    if k > n:
        raise ValueError(f"successes ({k}) exceed trials ({n})")
    method = "exact Clopper-Pearson"
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, confidence, method, 0)
    # Beta quantiles, from the function scipy.stats.beta.ppf itself calls: the same numbers to the last bit,
    # without the distribution object's argument checks (about 0.1 ms a call; the peer tables make thousands).
    lower = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha / 2))
    upper = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - alpha / 2))
    return Estimate(k / n, lower, upper, confidence, method, n)


def poisson_rate_ci(count: int, exposure: float = 1.0, per: float = 1.0, confidence: float = CONFIDENCE) -> Estimate:
    """Rate ``count / exposure * per`` with the exact Garwood interval.

    E.g. 120 violent crimes in a town of 20,000 with ``per=1000``: 6.0 per 1,000 residents.
    ``n`` is the count (the information in a Poisson rate is the number of events).
    """
    alpha = _check_confidence(confidence)
    k = _check_count("count", count)
    if not _finite(exposure) or exposure <= 0:
        raise ValueError(f"exposure must be a positive number, got {exposure!r}")
    # chi2.ppf(q, 2k) / 2 is gammaincinv(k, q) (what scipy.stats computes it from), to the last bit
    lower = 0.0 if k == 0 else special.gammaincinv(k, alpha / 2)
    upper = special.gammaincinv(k + 1, 1 - alpha / 2)
    scale = per / exposure
    return Estimate(k * scale, float(lower * scale), float(upper * scale), confidence, "exact Garwood", k)


def rate_ratio(
    count_a: int, exposure_a: float, count_b: int, exposure_b: float, confidence: float = CONFIDENCE
) -> Estimate:
    """Ratio of the rate in group a to the rate in group b, with the exact conditional interval.

    Given the total ``count_a + count_b``, ``count_a`` is binomial with share
    ``p = RR * E_a / (RR * E_a + E_b)``; the Clopper-Pearson limits of ``p`` map to limits of
    ``RR = p / (1 - p) * E_b / E_a``. A zero in group b gives an infinite upper limit (and value).
    """
    a, b = _check_count("count_a", count_a), _check_count("count_b", count_b)
    for name, exposure in (("exposure_a", exposure_a), ("exposure_b", exposure_b)):
        if not _finite(exposure) or exposure <= 0:
            raise ValueError(f"{name} must be a positive number, got {exposure!r}")
    method = "exact conditional"
    if a + b == 0:
        return Estimate(math.nan, math.nan, math.nan, confidence, method, 0)
    share = binomial_ci(a, a + b, confidence)
    exposure_ratio = exposure_b / exposure_a

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * exposure_ratio

    value = math.inf if b == 0 else (a / exposure_a) / (b / exposure_b)
    return Estimate(value, to_ratio(share.lower), to_ratio(share.upper), confidence, method, a + b)


def disparity_ratio(
    group_stops: int,
    total_stops: int,
    group_population: float,
    total_population: float,
    confidence: float = CONFIDENCE,
) -> Estimate:
    """A group's share of stops divided by its share of the population.

    The population share is treated as fixed (an ACS estimate for the whole residential population,
    whose sampling error is ignored here), so the interval is the exact Clopper-Pearson interval of
    the stop share divided by the population share. A ratio of 1 means stops in proportion to
    residents. The residential population is not the driving population: see the stops notebook.
    """
    if not (_finite(group_population) and _finite(total_population)) or total_population <= 0:
        raise ValueError("populations must be finite and the total positive")
    if not 0 < group_population <= total_population:
        raise ValueError(
            f"group population ({group_population!r}) must be positive and at most the total ({total_population!r})"
        )
    share = binomial_ci(group_stops, total_stops, confidence)
    population_share = group_population / total_population
    method = "exact Clopper-Pearson on the stop share; population share fixed"
    return Estimate(
        share.value / population_share,
        share.lower / population_share,
        share.upper / population_share,
        confidence,
        method,
        share.n,
    )


# --- two proportions: odds ratios and the ratio of proportions --------------------------------

EXACT_LIMIT = 20_000
"""Above this many trials the exact conditional odds-ratio interval is replaced by the Woolf interval."""
MIN_CELL_FOR_WALD = 5
"""A 2x2 table with any cell below this is flagged: read the exact interval, not the Wald one."""


@dataclass(frozen=True)
class OddsRatioTest:
    """Odds of an outcome (e.g. contraband found per search) for ``group`` vs ``reference``.

    ``glm`` is the binomial-GLM odds ratio with a Wald interval; ``exact`` the conditional maximum
    likelihood odds ratio with its exact interval (Fisher). ``risk_ratio`` is the ratio of the two
    proportions with a Katz log interval. ``small_cell`` is True when any of the four cells of the
    pooled 2x2 table is below MIN_CELL_FOR_WALD or either group has fewer than
    SMALL_CELL_THRESHOLD trials.
    """

    outcome: str
    group: str
    reference: str
    years: tuple[int, ...]
    group_successes: int
    group_trials: int
    reference_successes: int
    reference_trials: int
    glm: Estimate
    glm_p_value: float
    exact: Estimate
    fisher_p_value: float
    risk_ratio: Estimate
    adjusted_for_year: bool
    small_cell: bool

    @property
    def n(self) -> int:
        return self.group_trials + self.reference_trials

    @property
    def group_rate(self) -> float:
        return self.group_successes / self.group_trials if self.group_trials else math.nan

    @property
    def reference_rate(self) -> float:
        return self.reference_successes / self.reference_trials if self.reference_trials else math.nan

    def as_frame(self) -> pd.DataFrame:
        rows = []
        for label, est, p in (
            (f"odds ratio ({self.glm.method})", self.glm, self.glm_p_value),
            (f"odds ratio ({self.exact.method})", self.exact, self.fisher_p_value),
            (f"ratio of proportions ({self.risk_ratio.method})", self.risk_ratio, math.nan),
        ):
            rows.append(
                {
                    "outcome": self.outcome,
                    "comparison": f"{self.group} vs {self.reference}",
                    "years": years_label(self.years),
                    "measure": label,
                    "value": est.value,
                    "lower": est.lower,
                    "upper": est.upper,
                    "p_value": p,
                    "n": self.n,
                    f"{self.group}_successes": self.group_successes,
                    f"{self.group}_trials": self.group_trials,
                    f"{self.reference}_successes": self.reference_successes,
                    f"{self.reference}_trials": self.reference_trials,
                    "small_cell": self.small_cell,
                }
            )
        return pd.DataFrame(rows)


def risk_ratio(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, confidence: float = CONFIDENCE
) -> Estimate:
    """(a / n_a) / (b / n_b) with the Katz log interval; NaN limits when a success count is zero."""
    if min(trials_a, trials_b) == 0:
        return Estimate(math.nan, math.nan, math.nan, confidence, "Katz log", trials_a + trials_b)
    pa, pb = successes_a / trials_a, successes_b / trials_b
    if successes_a == 0 or successes_b == 0:
        value = math.inf if pb == 0 and pa > 0 else (pa / pb if pb else math.nan)
        return Estimate(value, math.nan, math.nan, confidence, "Katz log", trials_a + trials_b)
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    se = math.sqrt(1 / successes_a - 1 / trials_a + 1 / successes_b - 1 / trials_b)
    ratio = pa / pb
    return Estimate(
        ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se), confidence, "Katz log", trials_a + trials_b
    )


def binomial_glm_odds_ratio(
    data: pd.DataFrame,
    successes: str,
    trials: str,
    group_column: str,
    group: str,
    reference: str,
    by: str | None = None,
    confidence: float = CONFIDENCE,
) -> tuple[Estimate, float]:
    """Odds ratio of ``group`` vs ``reference`` from a binomial GLM (logit link) on aggregated rows.

    ``data`` has one row per (group, stratum) with successes and trials; ``by`` adds stratum fixed
    effects (e.g. year). Returns the Wald-interval Estimate and its p-value; NaN when the model
    cannot be estimated (a group with no trials, or every trial a success or a failure).
    """
    used = data[data[group_column].isin([group, reference])].copy()
    used = used[used[trials] > 0]
    n = int(used[trials].sum())
    method = "binomial GLM, Wald" + (f", adjusted for {by}" if by else "")
    nan = (Estimate(math.nan, math.nan, math.nan, confidence, method, n), math.nan)
    if set(used[group_column]) != {group, reference}:
        return nan
    succ = used[successes].to_numpy(dtype=float)
    tri = used[trials].to_numpy(dtype=float)
    for g in (group, reference):
        mask = used[group_column].eq(g).to_numpy()
        if succ[mask].sum() in (0, tri[mask].sum()):
            return nan
    exog = pd.DataFrame({"const": 1.0, "group": used[group_column].eq(group).astype(float).to_numpy()})
    if by:
        dummies = pd.get_dummies(used[by].astype(str), prefix=by, drop_first=True, dtype=float)
        exog = pd.concat([exog, dummies.reset_index(drop=True)], axis=1)
    endog = np.column_stack([succ, tri - succ])
    with warnings.catch_warnings():
        # A two-group model is saturated (it reproduces the data exactly), which statsmodels reports as
        # "perfect prediction"; true separation was ruled out above (each group has both outcomes).
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sm.GLM(endog, exog, family=sm.families.Binomial()).fit()
    coefficient = float(result.params["group"])
    low, high = result.conf_int(alpha=1 - confidence).loc["group"]
    return (
        Estimate(math.exp(coefficient), math.exp(low), math.exp(high), confidence, method, n),
        float(result.pvalues["group"]),
    )


def odds_ratio_test(
    counts: pd.DataFrame,
    successes: str,
    trials: str,
    outcome: str,
    group: str = "black",
    reference: str = "white",
    adjust_for_year: bool = False,
    confidence: float = CONFIDENCE,
) -> OddsRatioTest:
    """Compare ``successes / trials`` between two races over the years in ``counts``.

    ``counts`` has columns year, race, ``successes`` and ``trials`` (e.g. contraband and searches).
    """
    rows = counts[counts["race"].isin([group, reference])].dropna(subset=[successes, trials])
    totals = rows.groupby("race")[[successes, trials]].sum()
    get = lambda race, col: int(totals.loc[race, col]) if race in totals.index else 0  # noqa: E731
    a, n_a, b, n_b = get(group, successes), get(group, trials), get(reference, successes), get(reference, trials)
    glm, p = binomial_glm_odds_ratio(
        rows, successes, trials, "race", group, reference, by="year" if adjust_for_year else None, confidence=confidence
    )
    if min(n_a, n_b) > 0:
        table = np.array([[a, n_a - a], [b, n_b - b]])
        # The exact interval is what small tables need; on a statewide table (hundreds of thousands of
        # searches) it takes seconds and equals the sample odds ratio's log (Woolf) interval to 4 digits.
        kind = "conditional" if n_a + n_b <= EXACT_LIMIT else "sample"
        result = contingency.odds_ratio(table, kind=kind)
        ci = result.confidence_interval(confidence_level=confidence)
        exact = Estimate(
            float(result.statistic),
            float(ci.low),
            float(ci.high),
            confidence,
            "conditional MLE, exact" if kind == "conditional" else "sample odds ratio, Woolf log",
            n_a + n_b,
        )
        fisher_p = float(fisher_exact(table).pvalue)
        cells = table.ravel()
    else:
        exact = Estimate(math.nan, math.nan, math.nan, confidence, "conditional MLE, exact", 0)
        fisher_p, cells = math.nan, np.array([0])
    small = bool(cells.min() < MIN_CELL_FOR_WALD or min(n_a, n_b) < SMALL_CELL_THRESHOLD)
    return OddsRatioTest(
        outcome=outcome,
        group=group,
        reference=reference,
        years=tuple(sorted(int(y) for y in rows["year"].unique())),
        group_successes=a,
        group_trials=n_a,
        reference_successes=b,
        reference_trials=n_b,
        glm=glm,
        glm_p_value=p,
        exact=exact,
        fisher_p_value=fisher_p,
        risk_ratio=risk_ratio(a, n_a, b, n_b, confidence),
        adjusted_for_year=adjust_for_year,
        small_cell=small,
    )


# --- count regression -------------------------------------------------------------------------

_MODEL_LABELS = {"poisson": "Poisson GLM, Wald", "negative_binomial": "negative binomial (NB2) regression, Wald"}
TIDY_COLUMNS = ["model", "selected", "term", "coefficient", "std_error", "rate_ratio", "lower", "upper", "p_value"]


@dataclass
class RateModel:
    """A count model with a log-exposure offset; both the Poisson fit and (if needed) the NB refit.

    ``table`` has one row per (model, term): rate_ratio = exp(coefficient) with Wald limits, and
    ``selected`` marks the model the analysis reports (negative binomial when the Poisson fit is
    overdispersed). ``dispersion`` is the Poisson fit's Pearson chi-square over residual df.
    """

    formula: str
    count: str
    offset: str | None
    n: int
    df_resid: float
    dispersion: float
    family: str  # "poisson" or "negative_binomial": the selected model
    family_note: str
    alpha: float | None  # NB2 overdispersion parameter (variance = mu + alpha * mu^2)
    confidence: float
    table: pd.DataFrame
    poisson: object = field(repr=False)
    negative_binomial: object | None = field(default=None, repr=False)
    fitted: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"), repr=False)

    @property
    def overdispersed(self) -> bool:
        return self.family == "negative_binomial"

    def selected_table(self) -> pd.DataFrame:
        return self.table[self.table["selected"]].reset_index(drop=True)

    def result(self, model: str | None = None):
        """The statsmodels results object of the selected (or named) model."""
        model = model or self.family
        result = self.poisson if model == "poisson" else self.negative_binomial
        if result is None:
            raise KeyError(f"no {model} fit: the Poisson fit was not overdispersed")
        return result

    def predict(self, data: pd.DataFrame, model: str | None = None) -> pd.Series:
        """Expected counts for ``data`` (with its own exposure): pass counterfactual covariates here,
        e.g. ``data.assign(post_2014=0)`` for the pre-event trend carried forward."""
        offset = np.log(data[self.offset].to_numpy(dtype=float)) if self.offset else None
        frame = data.copy()
        for column in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]):
                frame[column] = frame[column].astype("float64")
        values = (
            self.result(model).predict(frame, offset=offset)
            if offset is not None
            else self.result(model).predict(frame)
        )
        return pd.Series(np.asarray(values, dtype=float), index=data.index, name="expected")

    def combination(self, terms: list[str], model: str | None = None) -> Estimate:
        """exp(sum of the coefficients of ``terms``) with a Wald interval from their covariance, e.g.
        the level after two successive level changes relative to the trend before both."""
        result = self.result(model)
        missing = [t for t in terms if t not in result.params.index]
        if missing:
            raise KeyError(f"terms {missing} not in the model")
        weights = pd.Series(0.0, index=result.params.index)
        weights[terms] = 1.0
        estimate = float(weights @ result.params)
        se = float(np.sqrt(weights @ result.cov_params() @ weights))
        z = sps.norm.ppf(1 - (1 - self.confidence) / 2)
        return Estimate(
            math.exp(estimate),
            math.exp(estimate - z * se),
            math.exp(estimate + z * se),
            self.confidence,
            _MODEL_LABELS[model or self.family],
            self.n,
        )

    def term(self, name: str, model: str | None = None) -> Estimate:
        """The rate ratio of one term as an Estimate (from the selected model unless named)."""
        model = model or self.family
        rows = self.table[(self.table["model"] == model) & (self.table["term"] == name)]
        if rows.empty:
            raise KeyError(f"term {name!r} not in the {model} model; terms: {sorted(set(self.table['term']))}")
        row = rows.iloc[0]
        return Estimate(
            float(row["rate_ratio"]),
            float(row["lower"]),
            float(row["upper"]),
            self.confidence,
            _MODEL_LABELS[model],
            self.n,
        )


def _count_column(formula: str) -> str:
    lhs = formula.split("~", 1)[0].strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", lhs):
        raise ValueError(f"the left-hand side of {formula!r} must be a single column name")
    return lhs


def _tidy(result, model: str, confidence: float, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    params = result.params.drop(list(drop), errors="ignore")
    ci = result.conf_int(alpha=1 - confidence).loc[params.index]
    return pd.DataFrame(
        {
            "model": model,
            "selected": False,
            "term": params.index.astype(str),
            "coefficient": params.to_numpy(dtype=float),
            "std_error": result.bse.loc[params.index].to_numpy(dtype=float),
            "rate_ratio": np.exp(params.to_numpy(dtype=float)),
            "lower": np.exp(ci.iloc[:, 0].to_numpy(dtype=float)),
            "upper": np.exp(ci.iloc[:, 1].to_numpy(dtype=float)),
            "p_value": result.pvalues.loc[params.index].to_numpy(dtype=float),
        }
    )


def _moment_alpha(y: np.ndarray, mu: np.ndarray) -> float:
    """Cameron-Trivedi auxiliary-regression estimate of the NB2 alpha (used if ML fails)."""
    return max(float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2)), 1e-8)


def _fit_negative_binomial(
    formula: str, data: pd.DataFrame, offset: np.ndarray | None, poisson
) -> tuple[object, float, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", HessianInversionWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            ml = smf.negativebinomial(formula, data, offset=offset, loglike_method="nb2").fit(
                start_params=np.append(poisson.params.to_numpy(), 0.1), method="bfgs", maxiter=2000, disp=False
            )
            alpha = float(ml.params["alpha"])
            if (
                ml.mle_retvals.get("converged", False)
                and math.isfinite(alpha)
                and alpha > 0
                and np.all(np.isfinite(ml.bse))
            ):
                return ml, alpha, "negative binomial (NB2), alpha by maximum likelihood"
        except (np.linalg.LinAlgError, ValueError):
            pass
    y = poisson.model.endog
    alpha = _moment_alpha(y, poisson.fittedvalues.to_numpy())
    glm = smf.glm(formula, data, offset=offset, family=sm.families.NegativeBinomial(alpha=alpha)).fit()
    return glm, alpha, "negative binomial (NB2), alpha by moments because maximum likelihood did not converge"


def fit_rate_glm(
    data: pd.DataFrame,
    formula: str,
    offset: str | None = "population",
    overdispersion_threshold: float = OVERDISPERSION_THRESHOLD,
    confidence: float = CONFIDENCE,
) -> RateModel:
    """Fit ``formula`` (e.g. ``"violent ~ year_c + post_2014"``) as a Poisson GLM with
    ``log(data[offset])`` as offset (no offset if ``offset`` is None), check overdispersion by the
    Pearson chi-square over residual df, and refit as negative binomial if it exceeds the threshold.

    Rows with a missing count, offset or covariate are dropped (gaps are not zeros); ``n`` is the
    number of rows used. Both fits are kept in ``table``; ``selected`` marks the one to report.
    """
    count = _count_column(formula)
    columns = [c for c in data.columns if re.search(rf"\b{re.escape(c)}\b", formula.split("~", 1)[1])]
    needed = [count, *columns] + ([offset] if offset else [])
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the data")
    used = data.dropna(subset=needed).copy()
    used[count] = used[count].astype("float64")
    for column in columns:
        if pd.api.types.is_numeric_dtype(used[column]):
            used[column] = used[column].astype("float64")
    if offset:
        if (used[offset] <= 0).any():
            raise ValueError(f"offset column {offset!r} must be positive")
        offset_values = np.log(used[offset].to_numpy(dtype=float))
    else:
        offset_values = None
    n_terms = 1 + len(columns)
    if len(used) <= n_terms:
        raise ValueError(f"{len(used)} complete rows are too few to fit {formula!r}")

    poisson = smf.glm(formula, used, offset=offset_values, family=sm.families.Poisson()).fit()
    dispersion = float(poisson.pearson_chi2 / poisson.df_resid) if poisson.df_resid > 0 else math.nan
    table = _tidy(poisson, "poisson", confidence)
    negative_binomial, alpha, family, note = None, None, "poisson", "Poisson GLM"
    fitted = poisson.fittedvalues
    if math.isfinite(dispersion) and dispersion > overdispersion_threshold:
        negative_binomial, alpha, note = _fit_negative_binomial(formula, used, offset_values, poisson)
        family = "negative_binomial"
        table = pd.concat([table, _tidy(negative_binomial, family, confidence, drop=("alpha",))], ignore_index=True)
        fitted = pd.Series(negative_binomial.predict(used, offset=offset_values), index=used.index, dtype="float64")
    table["selected"] = table["model"] == family
    return RateModel(
        formula=formula,
        count=count,
        offset=offset,
        n=len(used),
        df_resid=float(poisson.df_resid),
        dispersion=dispersion,
        family=family,
        family_note=note,
        alpha=alpha,
        confidence=confidence,
        table=table[TIDY_COLUMNS],
        poisson=poisson,
        negative_binomial=negative_binomial,
        fitted=pd.Series(fitted, index=used.index, dtype="float64").rename("fitted"),
    )


# --- formatting for sentences ---------------------------------------------------------------


def format_number(value: float, digits: int = 1, percent: bool = False) -> str:
    """'1,234', '6.1', '85%': thousands separators; ``percent`` multiplies by 100."""
    if value is None or not _finite(value):
        return "not available"
    if percent:
        return f"{value * 100:,.{digits}f}%"
    return f"{value:,.{digits}f}"


def format_interval(
    lower: float, upper: float, digits: int = 1, percent: bool = False, confidence: float = CONFIDENCE
) -> str:
    """'95% CI 1.1 to 1.4' ("to", not a dash, reads unambiguously with negative numbers)."""
    return f"{confidence:.0%} CI {format_number(lower, digits, percent)} to {format_number(upper, digits, percent)}"


def format_estimate(estimate: Estimate, digits: int = 1, percent: bool = False) -> str:
    """'1.2 (95% CI 1.1 to 1.4)'."""
    interval = format_interval(estimate.lower, estimate.upper, digits, percent, estimate.confidence)
    return f"{format_number(estimate.value, digits, percent)} ({interval})"


def years_label(years: list[int] | tuple[int, ...] | np.ndarray) -> str:
    """[2020, 2022, 2023, 2024] -> '2020, 2022-2024' (a missing year stays visible)."""
    years = sorted({int(y) for y in years})
    if not years:
        return ""
    runs, start, prev = [], years[0], years[0]
    for year in years[1:]:
        if year != prev + 1:
            runs.append((start, prev))
            start = year
        prev = year
    runs.append((start, prev))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _change_words(ratio: float, digits: int) -> str:
    if not _finite(ratio):
        return "not available"
    change = (ratio - 1) * 100
    if change == 0:
        return "no change"
    while round(abs(change), digits) == 0 and digits < 2:
        digits += 1  # '0.3% higher' says more than '0% higher'
    return f"{abs(change):.{digits}f}% {'higher' if change > 0 else 'lower'}"


def format_ratio_change(estimate: Estimate, digits: int = 0) -> str:
    """A rate ratio as a percentage change: 0.78 (0.70 to 0.87) -> '22% lower (95% CI 30% lower to
    13% lower)'. The interval is written from the lower to the upper ratio."""
    return (
        f"{_change_words(estimate.value, digits)} ({estimate.confidence:.0%} CI "
        f"{_change_words(estimate.lower, digits)} to {_change_words(estimate.upper, digits)})"
    )
