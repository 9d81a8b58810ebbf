"""The threshold test over Missouri agencies, from the vehicle stops report's counts.

Outcome tests compare hit rates, which can mislead when groups carry different risk distributions
(infra-marginality). The threshold test (Simoiu, Corbett-Davies and Goel 2017, doi:10.1214/17-AOAS1058) infers,
per agency and race, the evidence threshold officers apply when they decide to search. This module fits its fast
version (Pierson, Corbett-Davies and Goel 2018, "Fast threshold tests for detecting discrimination", AISTATS,
arXiv:1702.08536), the one the Stanford Open Policing Project used (Pierson et al. 2020,
doi:10.1038/s41562-020-0858-1): the beta risk distribution is replaced by the "discriminant distribution", whose
search and hit rates have closed forms.

Each stopped driver carries a signal x. With probability phi they carry contraband and x ~ N(delta, 1); otherwise
x ~ N(0, 1). A driver's risk is then p(x) = logistic(logit(phi) + delta * x - delta^2 / 2), increasing in x, so
searching above a risk threshold t is searching above the signal cutoff c = (logit(t) - logit(phi)) / delta +
delta / 2, and

    search rate = phi * (1 - Phi(c - delta)) + (1 - phi) * (1 - Phi(c)),
    hit rate    = phi * (1 - Phi(c - delta)) / search rate.

Observed counts are binomial: searches | stops and contraband finds | searches. Parameters follow the papers:
phi_rd = logistic(phi_r + phi_d), delta_rd = exp(lambda_r + lambda_d), with agency effects phi_d, lambda_d ~
N(0, sigma) (non-centred), and a cutoff c_rd = c_r + sigma_c[r] * z_rd free per agency and race under a
hierarchical prior, as in the Open Policing Project's Stan code (the cutoff, not the risk threshold, is sampled:
the search rate depends on it directly, which keeps the posterior well conditioned). The risk threshold t_rd
follows from c_rd, phi_rd and delta_rd. Computations run in float64 with log-space normal tails.

The statewide fit is one build step (``heartbeats_analysis.build.threshold_fit``), run in a process of its own
(``python -m heartbeats_analysis.analysis.threshold <folder>``); its summaries are read back by every agency
brief. The fit fails loudly (:class:`ThresholdConvergenceError`) when the chains have not converged.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from heartbeats_analysis.ingest.sources.base import SMALL_CELL_THRESHOLD

RACES = ("white", "black", "hispanic")
RACE_WORDS = {"white": "white", "black": "Black", "hispanic": "Hispanic"}
FIRST_YEAR, LAST_YEAR = 2020, 2024
MIN_SEARCHES = SMALL_CELL_THRESHOLD
"""Inclusion rule: an agency enters the model with at least this many searches of white drivers AND of Black
drivers, pooled 2020-2024. Its Hispanic cell enters whenever it stopped any Hispanic driver."""

STATE_PATROL = "missouri-state-highway-patrol"
"""Left out of the model: a statewide highway patrol, not a local department (the Open Policing Project studies
state patrols apart from city departments), whose 190,000 stops of Black drivers would alone decide the race
terms; with it the chains settle in two different modes."""

RHAT_MAX = 1.01
ESS_MIN = 400.0
DIVERGENCES_MAX = 0
"""Convergence rule (Vehtari et al. 2021 recommend R-hat below 1.01 and a bulk effective sample size above 400
for four chains); a single divergent transition also fails the fit, since it can mean a biased posterior."""

# Priors (see docs/decisions.md, "The threshold test"). The structure is the Open Policing Project's (race terms
# with informative priors of their own, agency effects with FIXED scales, logit thresholds normal around a race
# mean with a per-race spread), translated to the discriminant distribution and to Missouri's rates.
PHI_RACE_PRIOR = (-2.5, 0.5)
"""logit(phi_r): phi is the share of stopped drivers carrying contraband. Missouri's searches find contraband in
2.1-2.4% of all stops (a lower bound on phi); the prior's central 95% runs from 3% to 18%."""
LAMBDA_RACE_PRIOR = (0.5, 0.5)
"""log(delta_r): the separation of the two signal distributions, central 95% from 0.6 to 4.4 standard deviations
(with search rates of a few percent and hit rates of 20-35%, a cell alone implies delta of about 1.5-2.5)."""
PHI_AGENCY_SCALE = 0.5
"""Fixed prior scale of an agency's logit(phi) effect (shared by its races): agencies' contraband prevalence
within a factor of about e (x2.7) of the race term either way."""
LAMBDA_AGENCY_SCALE = 0.3
"""Fixed prior scale of an agency's log(delta) effect: its signal separation within a factor of 1.8 either way."""
THRESHOLD_RACE_PRIOR = (-1.5, 1.0)
"""t_r, the race mean of the logit risk thresholds: centre 18%, central 95% from 3% to 61%."""
THRESHOLD_SPREAD_SCALE = 0.5
"""sigma_t[r] ~ half-N(0, 0.5): the spread of agencies' logit thresholds around the race mean."""

FIT_SETTINGS = {"chains": 4, "warmup": 1000, "samples": 500, "seed": 20180101, "target_accept": 0.9}
INIT_JITTER = 0.3
"""Each chain starts at its own point: the data-informed start (:func:`initial_values`) plus N(0, 0.3) noise on
every unconstrained coordinate, so the chains' agreement (R-hat) still tests that they found the same mode."""
FIT_FILES = (
    "thresholds.csv",
    "differences.csv",
    "state.csv",
    "ppc.csv",
    "inclusion.csv",
    "inconsistent.csv",
    "diagnostics.json",
)


class ThresholdConvergenceError(RuntimeError):
    """The sampler did not converge: the threshold estimates must not be reported."""


# --- data ---------------------------------------------------------------------------------------------------


def inconsistent_rows(stops: pd.DataFrame) -> pd.DataFrame:
    """Agency-year-race rows whose counts contradict each other (more finds than searches, or more searches than
    stops): a reporting error the model cannot read, so the row is left out of the pooled counts."""
    rows = stops[stops["year"].between(FIRST_YEAR, LAST_YEAR) & stops["race"].isin(RACES)]
    rows = rows.dropna(subset=["stops", "searches", "contraband"])
    bad = (rows["searches"] > rows["stops"]) | (rows["contraband"] > rows["searches"])
    return rows.loc[bad, ["agency_slug", "year", "race", "stops", "searches", "contraband"]].reset_index(drop=True)


def pooled_counts(stops: pd.DataFrame) -> pd.DataFrame:
    """Stops, searches and contraband finds per agency and race, pooled 2020-2024. A year enters an agency-race
    cell only when all three counts are reported for it (a gap is left out, never read as zero) and agree with
    each other (see :func:`inconsistent_rows`)."""
    rows = stops[stops["year"].between(FIRST_YEAR, LAST_YEAR) & stops["race"].isin(RACES)]
    rows = rows.dropna(subset=["stops", "searches", "contraband"])
    rows = rows[(rows["searches"] <= rows["stops"]) & (rows["contraband"] <= rows["searches"])]
    return (
        rows.groupby(["agency_slug", "race"], as_index=False)[["stops", "searches", "contraband"]]
        .sum()
        .astype({"stops": "int64", "searches": "int64", "contraband": "int64"})
    )


def inclusion(pooled: pd.DataFrame, min_searches: int = MIN_SEARCHES) -> pd.DataFrame:
    """One row per agency: its white and Black searches and whether it meets the inclusion rule (at least
    ``min_searches`` of each, and not every one of them finding contraband: a 100% hit rate, for searches that
    include consent and inventory searches, is a reporting pattern the model can only place on its boundary)."""
    wide = pooled.pivot_table(index="agency_slug", columns="race", values=["searches", "contraband"], aggfunc="sum")
    searches = wide["searches"].reindex(columns=list(RACES)).fillna(0).astype("int64")
    finds = wide["contraband"].reindex(columns=list(RACES)).fillna(0).astype("int64")
    table = pd.DataFrame(
        {
            "agency_slug": searches.index,
            "white_searches": searches["white"].to_numpy(),
            "black_searches": searches["black"].to_numpy(),
        }
    )
    every_search_hit = ((finds["white"] == searches["white"]) | (finds["black"] == searches["black"])).to_numpy()
    table["every_search_found_contraband"] = every_search_hit & (table[["white_searches", "black_searches"]] > 0).all(
        axis=1
    )
    enough = (table["white_searches"] >= min_searches) & (table["black_searches"] >= min_searches)
    table["state_patrol"] = table["agency_slug"] == STATE_PATROL
    table["included"] = enough & ~table["every_search_found_contraband"] & ~table["state_patrol"]
    return table.reset_index(drop=True)


def model_cells(pooled: pd.DataFrame, included: pd.DataFrame) -> pd.DataFrame:
    """The agency-race cells the model fits: included agencies, races with at least one stop."""
    agencies = sorted(included.loc[included["included"], "agency_slug"])
    cells = pooled[pooled["agency_slug"].isin(agencies) & (pooled["stops"] > 0)].copy()
    cells["agency_index"] = cells["agency_slug"].map({a: i for i, a in enumerate(agencies)}).astype("int64")
    cells["race_index"] = cells["race"].map({r: i for i, r in enumerate(RACES)}).astype("int64")
    return cells.sort_values(["agency_index", "race_index"]).reset_index(drop=True)


# --- model --------------------------------------------------------------------------------------------------
# --- model --------------------------------------------------------------------------------------------------


def signal_cutoff(threshold, phi, delta):
    """The signal cutoff c at which a driver's risk equals ``threshold``: inverse of the risk curve."""
    import jax.numpy as jnp

    logit = lambda p: jnp.log(p) - jnp.log1p(-p)  # noqa: E731
    return (logit(threshold) - logit(phi)) / delta + delta / 2


def risk_threshold(cutoff, phi, delta):
    """The risk (chance of contraband) of a driver whose signal sits exactly at ``cutoff``."""
    import jax.numpy as jnp
    from jax.nn import sigmoid

    return sigmoid(jnp.log(phi) - jnp.log1p(-phi) + delta * cutoff - delta**2 / 2)


def log_rates(cutoff, phi, delta):
    """Log search rate and log hit rate for searching every driver whose signal exceeds ``cutoff``.

    log(1 - Phi(z)) = log_ndtr(-z) keeps the far tails accurate; the sum of the two search terms is a
    log-sum-exp."""
    import jax.numpy as jnp
    from jax.scipy.special import log_ndtr, logsumexp

    log_found = jnp.log(phi) + log_ndtr(delta - cutoff)
    log_empty = jnp.log1p(-phi) + log_ndtr(-cutoff)
    log_search = logsumexp(jnp.stack([log_found, log_empty]), axis=0)
    return log_search, log_found - log_search


def rates(cutoff, phi, delta):
    """Search rate and hit rate (see :func:`log_rates`)."""
    import jax.numpy as jnp

    log_search, log_hit = log_rates(cutoff, phi, delta)
    return jnp.exp(log_search), jnp.exp(log_hit)


def rate_logits(cutoff, logit_phi, delta):
    """Log odds of the search rate and of the hit rate, each side of both odds from log-space normal tails: the
    searched drivers with and without contraband against the unsearched ones (search odds) and against each other
    (hit odds), so neither rate is ever rounded to 0 or 1."""
    import jax.numpy as jnp
    from jax.scipy.special import log_ndtr

    log_phi = -jnp.logaddexp(0.0, -logit_phi)
    log_not_phi = -jnp.logaddexp(0.0, logit_phi)
    found = log_phi + log_ndtr(delta - cutoff)  # searched, carrying contraband
    empty = log_not_phi + log_ndtr(-cutoff)  # searched, not carrying
    missed = log_phi + log_ndtr(cutoff - delta)  # not searched, carrying
    passed = log_not_phi + log_ndtr(cutoff)  # not searched, not carrying
    return jnp.logaddexp(found, empty) - jnp.logaddexp(missed, passed), found - empty


def threshold_model(agency_index, race_index, stops, searches=None, hits=None, *, n_agencies: int, n_races: int):
    """The fast threshold test's hierarchical model (NumPyro).

    Race terms have informative priors of their own and agency effects fixed prior scales (no estimated scale, so
    no funnel), as in the Open Policing Project's Stan model. The risk thresholds are normal on the logit scale
    around a race mean, logit(t_rd) ~ N(t_r, sigma_t[r]), as there; but the sampler moves each cell's signal
    cutoff c_rd, from which logit(t_rd) = logit(phi_rd) + delta_rd * c_rd - delta_rd^2 / 2, and the threshold
    prior enters with the Jacobian |d logit(t) / d c| = delta. The posterior is the same; the geometry is not: a
    cell's search rate pins its cutoff directly, so moving the race terms no longer drags all 866 thresholds
    along (about 100 leapfrog steps per draw instead of 500)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from jax.nn import sigmoid

    with numpyro.plate("races", n_races):
        phi_r = numpyro.sample("phi_r", dist.Normal(*PHI_RACE_PRIOR))
        lambda_r = numpyro.sample("lambda_r", dist.Normal(*LAMBDA_RACE_PRIOR))
        t_r = numpyro.sample("t_r", dist.Normal(*THRESHOLD_RACE_PRIOR))
        sigma_t = numpyro.sample("sigma_t", dist.HalfNormal(THRESHOLD_SPREAD_SCALE))
    with numpyro.plate("agencies", n_agencies):
        phi_d = PHI_AGENCY_SCALE * numpyro.sample("phi_d_raw", dist.Normal(0.0, 1.0))
        lambda_d = LAMBDA_AGENCY_SCALE * numpyro.sample("lambda_d_raw", dist.Normal(0.0, 1.0))
    logit_phi = phi_r[race_index] + phi_d[agency_index]
    delta = jnp.exp(lambda_r[race_index] + lambda_d[agency_index])
    n_cells = agency_index.shape[0]
    with numpyro.plate("cells", n_cells):
        cutoff = numpyro.sample("cutoff", dist.ImproperUniform(dist.constraints.real, (), ()))
    logit_t = logit_phi + delta * cutoff - delta**2 / 2
    threshold_prior = dist.Normal(t_r[race_index], sigma_t[race_index]).log_prob(logit_t) + jnp.log(delta)
    numpyro.factor("threshold_prior", threshold_prior.sum())
    numpyro.deterministic("t", sigmoid(logit_t))
    search_logit, hit_logit = rate_logits(cutoff, logit_phi, delta)
    numpyro.deterministic("search_rate", sigmoid(search_logit))
    numpyro.deterministic("hit_rate", sigmoid(hit_logit))
    with numpyro.plate("cells_obs", n_cells):
        numpyro.sample("searches", dist.Binomial(stops, logits=search_logit), obs=searches)
        numpyro.sample("hits", dist.Binomial(searches, logits=hit_logit), obs=hits)


def initial_values(cells: pd.DataFrame, chains: int, seed: int) -> dict[str, np.ndarray]:
    """Unconstrained starting values, one row per chain: race terms at their prior means, agency effects at 0,
    each cutoff where a signal N(0, 1) would give the cell's observed search rate, all jittered per chain by
    :data:`INIT_JITTER`. (The cutoffs have no proper prior to draw a start from; uniform starts in (-2, 2) left a
    large agency's cutoffs in a corner the chain did not leave within the warm-up.)"""
    from scipy.stats import norm

    n_agencies = int(cells["agency_index"].max()) + 1
    search_rate = (cells["searches"].to_numpy() + 0.5) / (cells["stops"].to_numpy() + 1.0)
    centre = {
        "phi_r": np.full(len(RACES), PHI_RACE_PRIOR[0]),
        "lambda_r": np.full(len(RACES), LAMBDA_RACE_PRIOR[0]),
        "t_r": np.full(len(RACES), THRESHOLD_RACE_PRIOR[0]),
        "sigma_t": np.full(len(RACES), np.log(0.3)),  # unconstrained: log of the spread
        "phi_d_raw": np.zeros(n_agencies),
        "lambda_d_raw": np.zeros(n_agencies),
        "cutoff": norm.isf(search_rate),
    }
    rng = np.random.default_rng(seed)
    return {
        name: np.stack([value + INIT_JITTER * rng.standard_normal(value.shape) for _ in range(chains)])
        for name, value in centre.items()
    }


@dataclass
class Fit:
    cells: pd.DataFrame
    draws: dict[str, np.ndarray]  # flattened over chains: (draws, ...)
    diagnostics: dict


DERIVED = ("t", "search_rate", "hit_rate")


def fit(cells: pd.DataFrame, chains: int, warmup: int, samples: int, seed: int, target_accept: float = 0.9) -> Fit:
    """NUTS on the threshold model in float64; chains run in parallel when the process has that many devices."""
    import jax
    import jax.numpy as jnp
    import numpyro
    from numpyro.diagnostics import summary
    from numpyro.infer import MCMC, NUTS

    numpyro.enable_x64()
    n_agencies = int(cells["agency_index"].max()) + 1
    data = {
        "agency_index": jnp.asarray(cells["agency_index"].to_numpy()),
        "race_index": jnp.asarray(cells["race_index"].to_numpy()),
        "stops": jnp.asarray(cells["stops"].to_numpy(dtype="float64")),
        "searches": jnp.asarray(cells["searches"].to_numpy(dtype="float64")),
        "hits": jnp.asarray(cells["contraband"].to_numpy(dtype="float64")),
    }
    method = "parallel" if jax.local_device_count() >= chains else "sequential"
    mcmc = MCMC(
        NUTS(threshold_model, target_accept_prob=target_accept),
        num_warmup=warmup,
        num_samples=samples,
        num_chains=chains,
        chain_method=method,
        progress_bar=bool(os.environ.get("HEARTBEATS_PROGRESS")),
    )
    init = {k: jnp.asarray(v) for k, v in initial_values(cells, chains, seed).items()}
    if chains == 1:
        init = {k: v[0] for k, v in init.items()}
    started = time.perf_counter()
    mcmc.run(
        jax.random.PRNGKey(seed),
        **data,
        n_agencies=n_agencies,
        n_races=len(RACES),
        extra_fields=("diverging", "num_steps"),
        init_params=init,
    )
    # JAX dispatches asynchronously: wait for the draws, or the clock stops before the sampling does.
    grouped = {k: np.asarray(v) for k, v in jax.block_until_ready(mcmc.get_samples(group_by_chain=True)).items()}
    seconds = time.perf_counter() - started
    # Convergence is judged on every sampled parameter and on the thresholds the brief reports.
    checked = {k: v for k, v in grouped.items() if k not in ("search_rate", "hit_rate")}
    stats = summary(checked, group_by_chain=True)
    rhat = max(float(np.nanmax(s["r_hat"])) for s in stats.values())
    ess = min(float(np.nanmin(s["n_eff"])) for s in stats.values())
    extra = mcmc.get_extra_fields(group_by_chain=True)
    divergences = int(np.asarray(extra["diverging"]).sum())
    diagnostics = {
        "max_rhat": rhat,
        "min_ess_bulk": ess,
        "divergences": divergences,
        "draws": chains * samples,
        "chains": chains,
        "warmup": warmup,
        "samples": samples,
        "seed": seed,
        "target_accept": target_accept,
        "chain_method": method,
        "mean_steps_per_draw": float(np.asarray(extra["num_steps"]).mean()),
        "seconds": round(seconds, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "agencies": n_agencies,
        "cells": len(cells),
        "library": "numpyro " + numpyro.__version__ + ", jax " + jax.__version__,
    }
    draws = {k: v.reshape(-1, *v.shape[2:]) for k, v in grouped.items()}
    return Fit(cells, draws, diagnostics)


def convergence_problems(diagnostics: dict) -> list[str]:
    """What is wrong with a fit's diagnostics (empty when it converged)."""
    problems = []
    if not diagnostics["max_rhat"] <= RHAT_MAX:
        problems.append(f"largest R-hat {diagnostics['max_rhat']:.3f} exceeds {RHAT_MAX}")
    if not diagnostics["min_ess_bulk"] >= ESS_MIN:
        problems.append(f"smallest effective sample size {diagnostics['min_ess_bulk']:.0f} is below {ESS_MIN:.0f}")
    if diagnostics["divergences"] > DIVERGENCES_MAX:
        problems.append(f"{diagnostics['divergences']} divergent transitions in {diagnostics['draws']} draws")
    return problems


def check_convergence(diagnostics: dict) -> None:
    problems = convergence_problems(diagnostics)
    if problems:
        raise ThresholdConvergenceError("The threshold model did not converge: " + "; ".join(problems) + ".")


# --- summaries ----------------------------------------------------------------------------------------------


def _interval(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return values.mean(axis=axis), np.quantile(values, 0.025, axis=axis), np.quantile(values, 0.975, axis=axis)


def summarise(result: Fit) -> dict[str, pd.DataFrame]:
    """Posterior summaries: per cell thresholds, per agency Black-white and Hispanic-white differences,
    statewide stop-weighted average thresholds, and the posterior predictive check."""
    cells, draws = result.cells, result.draws
    t = draws["t"]  # (draws, cells)
    mean, lo, hi = _interval(t)
    thresholds = cells[["agency_slug", "race", "stops", "searches", "contraband"]].assign(
        threshold=mean, threshold_lower=lo, threshold_upper=hi
    )
    rows = []
    for slug, group in cells.groupby("agency_slug", sort=True):
        by_race = dict(zip(group["race"], group.index, strict=True))
        for race in ("black", "hispanic"):
            if race in by_race and "white" in by_race:
                diff = t[:, by_race[race]] - t[:, by_race["white"]]
                m, lo_, hi_ = _interval(diff)
                rows.append(
                    {
                        "agency_slug": slug,
                        "race": race,
                        "difference": m,
                        "difference_lower": lo_,
                        "difference_upper": hi_,
                        "prob_lower_than_white": float((diff < 0).mean()),
                    }
                )
    differences = pd.DataFrame(rows)
    # Statewide: each race's thresholds averaged over agencies, weighted by the agency's stops of all three races
    # (the paper's department weighting).
    weights = cells.groupby("agency_index")["stops"].sum()
    state_rows = []
    for race in RACES:
        idx = cells.index[cells["race"] == race]
        if not len(idx):
            continue
        w = weights.loc[cells.loc[idx, "agency_index"]].to_numpy(dtype=float)
        avg = (t[:, idx] * w).sum(axis=1) / w.sum()
        m, lo_, hi_ = _interval(avg)
        state_rows.append(
            {"race": race, "threshold": m, "threshold_lower": lo_, "threshold_upper": hi_, "agencies": len(idx)}
        )
    state = pd.DataFrame(state_rows)
    # Posterior predictive check: replicated counts from each draw's rates, against the observed ones.
    rng = np.random.default_rng(0)
    stops = cells["stops"].to_numpy()
    rep_searches = rng.binomial(stops, np.clip(draws["search_rate"], 0, 1))
    rep_hits = rng.binomial(rep_searches, np.clip(draws["hit_rate"], 0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rep_search_rate = rep_searches / stops
        rep_hit_rate = np.where(rep_searches > 0, rep_hits / np.maximum(rep_searches, 1), np.nan)
    ppc = cells[["agency_slug", "race", "stops", "searches", "contraband"]].copy()
    ppc["observed_search_rate"] = cells["searches"] / cells["stops"]
    ppc["observed_hit_rate"] = (cells["contraband"] / cells["searches"]).where(cells["searches"] > 0)
    ppc["predicted_search_rate"] = draws["search_rate"].mean(axis=0)
    ppc["predicted_hit_rate"] = draws["hit_rate"].mean(axis=0)
    ppc["search_rate_lower"] = np.quantile(rep_search_rate, 0.025, axis=0)
    ppc["search_rate_upper"] = np.quantile(rep_search_rate, 0.975, axis=0)
    ppc["hit_rate_lower"] = np.nanquantile(rep_hit_rate, 0.025, axis=0)
    ppc["hit_rate_upper"] = np.nanquantile(rep_hit_rate, 0.975, axis=0)
    ppc["search_covered"] = ppc["observed_search_rate"].between(ppc["search_rate_lower"], ppc["search_rate_upper"])
    ppc["hit_covered"] = ppc["observed_hit_rate"].isna() | ppc["observed_hit_rate"].between(
        ppc["hit_rate_lower"], ppc["hit_rate_upper"]
    )
    return {"thresholds": thresholds, "differences": differences, "state": state, "ppc": ppc}


def ppc_summary(ppc: pd.DataFrame) -> dict:
    """Share of observed rates inside their 95% posterior predictive intervals, and the stop-weighted mean
    absolute error of predicted rates (in percentage points)."""
    searched = ppc["searches"] > 0
    return {
        "search_coverage": float(ppc["search_covered"].mean()),
        "hit_coverage": float(ppc.loc[searched, "hit_covered"].mean()),
        "search_rate_mae_pp": float(
            100 * np.average((ppc["predicted_search_rate"] - ppc["observed_search_rate"]).abs(), weights=ppc["stops"])
        ),
        "hit_rate_mae_pp": float(
            100
            * np.average(
                (ppc.loc[searched, "predicted_hit_rate"] - ppc.loc[searched, "observed_hit_rate"]).abs(),
                weights=ppc.loc[searched, "searches"],
            )
        ),
    }


PPC_COVERAGE_MIN = 0.8
"""The check passes when at least this share of observed search rates and of hit rates fall inside their 95%
posterior predictive intervals (the paper's check is visual; this makes it a number a build can test)."""


def ppc_passes(summary: dict) -> bool:
    return summary["search_coverage"] >= PPC_COVERAGE_MIN and summary["hit_coverage"] >= PPC_COVERAGE_MIN


# --- the cached statewide fit -------------------------------------------------------------------------------


def fit_statewide(stops: pd.DataFrame, folder: Path, settings: dict | None = None) -> dict:
    """Fit the model to every included Missouri agency and write the summaries to ``folder``; raises
    :class:`ThresholdConvergenceError` (after writing diagnostics.json for the record) if it did not converge."""
    settings = {**FIT_SETTINGS, **(settings or {})}
    pooled = pooled_counts(stops)
    included = inclusion(pooled)
    cells = model_cells(pooled, included)
    result = fit(cells, **settings)
    folder.mkdir(parents=True, exist_ok=True)
    tables = summarise(result)
    diagnostics = {**result.diagnostics, "ppc": ppc_summary(tables["ppc"]), "min_searches": MIN_SEARCHES}
    diagnostics["ppc"]["passes"] = ppc_passes(diagnostics["ppc"])
    diagnostics["converged"] = not convergence_problems(diagnostics)
    (folder / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2) + "\n")
    check_convergence(diagnostics)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    included.to_csv(folder / "inclusion.csv", index=False, lineterminator="\n")
    inconsistent_rows(stops).to_csv(folder / "inconsistent.csv", index=False, lineterminator="\n")
    return diagnostics


@dataclass
class ThresholdFit:
    thresholds: pd.DataFrame
    differences: pd.DataFrame
    state: pd.DataFrame
    ppc: pd.DataFrame
    inclusion: pd.DataFrame
    inconsistent: pd.DataFrame
    diagnostics: dict


def fit_dir(processed: Path | None = None) -> Path:
    from heartbeats_analysis.paths import processed_dir

    return (processed or processed_dir()) / "threshold_fit"


def load_fit(folder: Path | None = None) -> ThresholdFit:
    folder = folder or fit_dir()
    missing = [name for name in FIT_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"The statewide threshold fit is missing {missing} in {folder}: run the build.")
    read = lambda name: pd.read_csv(folder / f"{name}.csv")  # noqa: E731
    return ThresholdFit(
        read("thresholds"),
        read("differences"),
        read("state"),
        read("ppc"),
        read("inclusion"),
        read("inconsistent"),
        json.loads((folder / "diagnostics.json").read_text()),
    )


# --- notebook report: claims, tables, chart -----------------------------------------------------------------

NOTEBOOK = "08-threshold"
SOURCE = ["stops.csv", "threshold_fit/thresholds.csv", "threshold_fit/diagnostics.json"]
SOURCE_LINE = (
    "Missouri AGO Vehicle Stops Report 2020-2024 (via Recovered Factory); threshold model of Simoiu et al. 2017"
)
INTERVAL_KIND = "95% credible interval (posterior)"
YEARS_LABEL = f"{FIRST_YEAR}-{LAST_YEAR}"


def _fn(name: str) -> str:
    return f"{__name__}.{name}"


def _pct(value: float) -> str:
    from heartbeats_analysis.analysis.stats import format_number

    return format_number(value, 1, True)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _points(value: float) -> str:
    return f"{abs(value) * 100:.1f} percentage points"


def diagnostics_table(result: ThresholdFit) -> pd.DataFrame:
    """Convergence and posterior predictive check, one row per quantity, for the appendix."""
    d = result.diagnostics
    ppc = d["ppc"]
    rows = [
        ("Largest R-hat (all parameters)", f"{d['max_rhat']:.3f}", f"at most {RHAT_MAX}"),
        ("Smallest effective sample size", f"{d['min_ess_bulk']:.0f}", f"at least {ESS_MIN:.0f}"),
        ("Divergent transitions", f"{d['divergences']} of {d['draws']}", f"at most {DIVERGENCES_MAX}"),
        ("Observed search rates inside 95% predictive interval", f"{ppc['search_coverage']:.0%}", ">= 80%"),
        ("Observed hit rates inside 95% predictive interval", f"{ppc['hit_coverage']:.0%}", ">= 80%"),
        ("Mean absolute error, search rate (stop-weighted)", f"{ppc['search_rate_mae_pp']:.2f} pp", ""),
        ("Mean absolute error, hit rate (search-weighted)", f"{ppc['hit_rate_mae_pp']:.2f} pp", ""),
        ("Agencies / agency-race cells", f"{d['agencies']} / {d['cells']}", f">= {d['min_searches']} searches"),
        ("Chains x draws (after warm-up)", f"{d['chains']} x {d['samples']} ({d['warmup']} warm-up)", ""),
        ("Sampling time", f"{d['seconds']:.0f} s on {d['cores']} cores (load {d['load_average'][0]})", ""),
        ("Library", d["library"], ""),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value", "criterion"])


def report_diagnostics(ctx, result: ThresholdFit) -> pd.DataFrame:
    """The convergence table; raises if the cached fit did not converge or fails its predictive check."""
    from heartbeats_analysis.analysis import save_table

    check_convergence(result.diagnostics)
    if not result.diagnostics["ppc"]["passes"]:
        raise ThresholdConvergenceError(f"The posterior predictive check failed: {result.diagnostics['ppc']}")
    table = diagnostics_table(result)
    save_table(ctx, table, "threshold_diagnostics")
    return table


def report_state(ctx, result: ThresholdFit) -> pd.DataFrame:
    """Missouri's stop-weighted average threshold by race: stops.threshold_state_<race>."""
    from heartbeats_analysis.analysis import save_table

    n = int(result.diagnostics["agencies"])
    for row in result.state.itertuples():
        ctx.claims.record(
            f"stops.threshold_state_{row.race}",
            float(row.threshold),
            "probability",
            f"Across the {n} Missouri agencies with at least {MIN_SEARCHES} searches each of white and of Black "
            f"drivers ({YEARS_LABEL}), officers searched {RACE_WORDS[row.race]} drivers once the estimated chance "
            f"of finding contraband passed about {_pct(row.threshold)} on average (95% credible interval "
            f"{_pct(row.threshold_lower)} to {_pct(row.threshold_upper)}; agencies weighted by their stops).",
            interval=(float(row.threshold_lower), float(row.threshold_upper)),
            interval_kind=INTERVAL_KIND,
            n=n,
            source=SOURCE,
            function=_fn("summarise"),
            notebook=ctx.notebook,
        )
    save_table(ctx, result.state, "threshold_state")
    return result.state


EXPLAIN_METHOD = (
    "The threshold test estimates how sure officers had to be that a driver carried contraband before they searched; "
    "a lower bar for Black drivers than for white drivers would be a sign of bias that comparing search rates or "
    "hit rates alone can miss."
)


def explain(ctx, result: ThresholdFit, name: str, difference: pd.Series | None, searches: str, common: dict) -> None:
    """stops.threshold_explained: the result in two plain sentences (how the test works; what it found here)."""
    state = result.state.set_index("race")
    if difference is None:
        finding = (
            f"The test could not be run for {name} ({searches}); across Missouri the average bar was about "
            f"{_pct(state.loc['black', 'threshold'])} for Black drivers and {_pct(state.loc['white', 'threshold'])} "
            "for white drivers."
        )
    elif difference["difference_upper"] < 0:
        finding = (
            f"In {name} the bar for Black drivers was lower, by about {_points(difference['difference'])} (95% "
            "credible interval entirely below zero)."
        )
    elif difference["difference_lower"] > 0:
        finding = (
            f"In {name} the bar for Black drivers was higher, by about {_points(difference['difference'])}, so "
            "this test finds no sign that Black drivers were searched on less evidence."
        )
    else:
        finding = (
            f"In {name} the estimated bars for Black and white drivers differ by about "
            f"{_points(difference['difference'])}, but the 95% credible interval runs from "
            f"{difference['difference_lower'] * 100:+.1f} to {difference['difference_upper'] * 100:+.1f} points, so "
            "the data cannot say which group faced the lower bar."
        )
    ctx.claims.record(
        "stops.threshold_explained",
        "no data" if difference is None else "estimated",
        "text",
        f"{EXPLAIN_METHOD} {finding}",
        function=_fn("explain"),
        flags=["no_data"] if difference is None else [],
        **common,
    )


def report_agency(ctx, result: ThresholdFit, agencies: pd.DataFrame, agency: str) -> pd.DataFrame:
    """The agency's thresholds and its Black-white difference, or why it is not in the model."""
    from heartbeats_analysis.analysis import listed_name, police_of, save_table

    name = listed_name(agencies, agency)
    row = result.inclusion[result.inclusion["agency_slug"] == agency]
    white_n = int(row["white_searches"].iloc[0]) if len(row) else 0
    black_n = int(row["black_searches"].iloc[0]) if len(row) else 0
    included = bool(row["included"].iloc[0]) if len(row) else False
    searches = f"{black_n:,} searches of Black and {white_n:,} of white drivers in {YEARS_LABEL}"
    all_hits = bool(row["every_search_found_contraband"].iloc[0]) if len(row) else False
    state_patrol = bool(row["state_patrol"].iloc[0]) if len(row) else False
    reason = (
        "the model covers local departments, not the statewide highway patrol"
        if state_patrol
        else "every search of white or of Black drivers was reported as finding contraband, which the model cannot "
        "estimate from"
        if all_hits
        else f"the model needs at least {MIN_SEARCHES} of each"
    )
    common = dict(source=SOURCE, notebook=ctx.notebook)
    ctx.claims.record(
        "stops.threshold_agency_included",
        "yes" if included else "no",
        "yes/no",
        (
            f"{name} is in the threshold model ({searches}; the rule is at least {MIN_SEARCHES} of each)."
            if included
            else f"{name} is not in the threshold model: it reported {searches}, and {reason}, so no threshold is "
            "estimated for it."
        ),
        n=white_n + black_n,
        function=_fn("inclusion"),
        **common,
    )
    ids = ["stops.threshold_agency_white", "stops.threshold_agency_black", "stops.threshold_black_white_diff"]
    if not included:
        for claim_id in ids:
            ctx.claims.record(
                claim_id,
                None,
                "probability",
                f"Not available for {name}: the threshold test could not be run ({searches}; {reason}).",
                function=_fn("inclusion"),
                flags=["no_data"],
                **common,
            )
        explain(ctx, result, name, None, f"{searches}; {reason}", common)
        return row
    small = min(white_n, black_n) < 3 * MIN_SEARCHES
    flags = ["small_cell"] if small else []
    cells = result.thresholds[result.thresholds["agency_slug"] == agency].set_index("race")
    for race in ("white", "black"):
        cell = cells.loc[race]
        ctx.claims.record(
            f"stops.threshold_agency_{race}",
            float(cell["threshold"]),
            "probability",
            f"{_capitalised(police_of(name))} searched {RACE_WORDS[race]} drivers once the "
            f"estimated chance of finding contraband passed about {_pct(cell['threshold'])} (95% credible interval "
            f"{_pct(cell['threshold_lower'])} to {_pct(cell['threshold_upper'])}; {int(cell['searches']):,} searches "
            f"in {YEARS_LABEL}).",
            interval=(float(cell["threshold_lower"]), float(cell["threshold_upper"])),
            interval_kind=INTERVAL_KIND,
            n=int(cell["searches"]),
            function=_fn("summarise"),
            flags=flags,
            **common,
        )
    diff = result.differences[(result.differences["agency_slug"] == agency) & (result.differences["race"] == "black")]
    d = diff.iloc[0]
    lower_or_higher = "lower" if d["difference"] < 0 else "higher"
    if d["difference_upper"] < 0:
        verdict = "officers needed less evidence to search Black drivers than white drivers, a sign of bias"
    elif d["difference_lower"] > 0:
        verdict = "officers needed more evidence to search Black drivers than white drivers"
    else:
        verdict = "the data cannot tell whether officers held Black and white drivers to different standards"
    sentence = (
        f"In {name}, the estimated bar for searching Black drivers was {_points(d['difference'])} {lower_or_higher} "
        f"than for white drivers (95% credible interval {d['difference_lower'] * 100:+.1f} to "
        f"{d['difference_upper'] * 100:+.1f} points): {verdict}."
    )
    if small:
        sentence += (
            f" The estimate rests on only {min(white_n, black_n)} searches of "
            f"{'white' if white_n <= black_n else 'Black'} drivers, so the interval is wide and leans on the "
            "statewide model."
        )
    ctx.claims.record(
        "stops.threshold_black_white_diff",
        float(d["difference"]),
        "difference in probability",
        sentence,
        interval=(float(d["difference_lower"]), float(d["difference_upper"])),
        interval_kind=INTERVAL_KIND,
        n=white_n + black_n,
        function=_fn("summarise"),
        flags=flags,
        **common,
    )
    explain(ctx, result, name, d, searches, common)
    table = cells.reset_index()
    save_table(ctx, table, "threshold_agency")
    return table


def report_peers(ctx, result: ThresholdFit, agencies: pd.DataFrame, peers: list[str]) -> pd.DataFrame:
    """The peers' Black-white threshold differences (those in the model), as a table."""
    from heartbeats_analysis.analysis import listed_name, save_table

    diffs = result.differences[(result.differences["race"] == "black") & result.differences["agency_slug"].isin(peers)]
    table = diffs.assign(name=[listed_name(agencies, a) for a in diffs["agency_slug"]])
    missing = [p for p in peers if p not in set(diffs["agency_slug"])]
    table = pd.concat(
        [table, pd.DataFrame({"agency_slug": missing, "name": [listed_name(agencies, a) for a in missing]})],
        ignore_index=True,
    )
    save_table(ctx, table, "threshold_peers")
    return table


def figure_thresholds(ctx, result: ThresholdFit, agencies: pd.DataFrame, agency: str):
    """The paper's chart: each agency's white threshold (x) against its Black threshold (y), sized by stops."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.analysis import listed_name
    from heartbeats_analysis.report.style import AGENCY_COLOUR, PEER_COLOUR, apply_style, save_figure

    wide = result.thresholds.pivot_table(index="agency_slug", columns="race", values=["threshold", "stops"])
    data = pd.DataFrame(
        {
            "agency_slug": wide.index,
            "white_threshold": wide[("threshold", "white")].to_numpy(),
            "black_threshold": wide[("threshold", "black")].to_numpy(),
            "stops": wide["stops"].sum(axis=1).to_numpy(),
        }
    )
    apply_style()
    fig, ax = plt.subplots(figsize=(6, 6))
    size = 10 + 190 * np.sqrt(data["stops"] / data["stops"].max())
    ax.scatter(data["white_threshold"], data["black_threshold"], s=size, color=PEER_COLOUR, alpha=0.45, lw=0)
    top = float(max(data["white_threshold"].max(), data["black_threshold"].max())) * 1.05
    ax.plot([0, top], [0, top], color="black", lw=0.8, ls="--")
    name = listed_name(agencies, agency)
    here = data[data["agency_slug"] == agency]
    if len(here):
        ax.scatter(here["white_threshold"], here["black_threshold"], s=90, color=AGENCY_COLOUR, zorder=3)
        ax.annotate(
            name,
            (here["white_threshold"].iloc[0], here["black_threshold"].iloc[0]),
            xytext=(6, 6),
            textcoords="offset points",
            color=AGENCY_COLOUR,
        )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("Search threshold, white drivers")
    ax.set_ylabel("Search threshold, Black drivers")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    below = int((data["black_threshold"] < data["white_threshold"]).sum())
    alt = (
        f"Scatter of {len(data)} Missouri agencies' estimated search thresholds ({YEARS_LABEL}), white drivers "
        f"across, Black drivers up; {below} of them lie below the diagonal (a lower bar for Black drivers)."
        + (f" {name} is highlighted." if len(here) else f" {name} is not in the model.")
    )
    return save_figure(
        fig,
        f"{ctx.notebook}-thresholds",
        title="Search thresholds by agency, white vs Black drivers",
        data=data,
        alt_text=alt,
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_thresholds"),
        out_dir=ctx.figures_dir,
    )


def figure_ppc(ctx, result: ThresholdFit):
    """Posterior predictive check: predicted against observed search and hit rates, one dot per agency-race."""
    import matplotlib.pyplot as plt

    from heartbeats_analysis.report.style import PEER_COLOUR, apply_style, save_figure

    ppc = result.ppc
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
    for ax, rate in zip(axes, ("search", "hit"), strict=True):
        obs, pred = ppc[f"observed_{rate}_rate"], ppc[f"predicted_{rate}_rate"]
        ax.scatter(obs, pred, s=8, color=PEER_COLOUR, alpha=0.5, lw=0)
        top = float(np.nanmax([obs.max(), pred.max()])) * 1.05
        ax.plot([0, top], [0, top], color="black", lw=0.8, ls="--")
        ax.set_xlabel(f"Observed {rate} rate")
        ax.set_ylabel(f"Predicted {rate} rate")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    summary = result.diagnostics["ppc"]
    return save_figure(
        fig,
        f"{ctx.notebook}-ppc",
        title="Posterior predictive check: the model reproduces observed search and hit rates",
        data=ppc,
        alt_text=(
            f"Two scatters of predicted against observed rates for {len(ppc)} agency-race cells; "
            f"{summary['search_coverage']:.0%} of search rates and {summary['hit_coverage']:.0%} of hit rates fall "
            "inside their 95% predictive intervals."
        ),
        source_line=SOURCE_LINE,
        notebook=ctx.notebook,
        function=_fn("figure_ppc"),
        out_dir=ctx.figures_dir,
    )


def main(argv: list[str]) -> int:
    """``python -m heartbeats_analysis.analysis.threshold <folder> [processed_dir]``: the statewide fit."""
    chains = FIT_SETTINGS["chains"]
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={chains}"
    from heartbeats_analysis.ingest.tables import load_table

    folder = Path(argv[0])
    processed = Path(argv[1]) if len(argv) > 1 else None
    stops = load_table("stops", processed)
    diagnostics = fit_statewide(stops, folder)
    print(json.dumps(diagnostics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
