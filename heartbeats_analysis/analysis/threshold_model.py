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

Observed counts are binomial: searches | stops and contraband finds | searches. Parameters follow the Open
Policing Project's Stan code (stanford-policylab/opp, ``threshold_test.stan``): phi_rd = logistic(phi_r + phi_d)
and delta_rd = exp(lambda_r + lambda_d), with agency effects phi_d and lambda_d shared by the agency's races, of
fixed prior scale, summing to zero over agencies (the race terms carry the mean; OPP pins one agency to 0
instead). The agency term of delta has OPP's scale, 0.1; a larger one (0.3) did not converge, and leaving it out
changes the answer (docs/decisions.md). Two departures: OPP's hierarchy is on the signal cutoff, ours on the
logit risk threshold, logit(t_rd) ~ N(t_r, sigma_t[r]) (cutoffs of cells with different phi and delta are not
on one scale), with the sampler moving each cell's cutoff c_rd and the prior entering with its Jacobian; and the
agency scale of phi is 0.5 (OPP 0.1: Missouri's agencies differ more than one city's districts). Computations run
in float64 with log-space normal tails.

The statewide fit is one build step (``heartbeats_analysis.build.threshold_fit``), run in a process of its own
(``python -m heartbeats_analysis.analysis.threshold_model <folder>``); its summaries are read back by every agency
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
"""Convergence rule: the thresholds Vehtari et al. (2021) recommend (R-hat below 1.01, effective sample size above
400 for four chains), applied to NumPyro's split R-hat and effective sample size (the classic estimators, not
their rank-normalised versions); a single divergent transition also fails the fit, since it can mean a biased
posterior."""


@dataclass(frozen=True)
class Priors:
    """The model's priors (docs/decisions.md, "The threshold test"): race terms with informative priors of their
    own and agency effects with FIXED scales, as in the Open Policing Project's code, and logit thresholds normal
    around a race mean with a per-race spread. :data:`PRIOR_VARIANTS` holds the alternatives of the sensitivity
    check."""

    phi_race: tuple[float, float] = (-2.5, 0.5)
    """logit(phi_r): phi is the share of stopped drivers carrying contraband. Missouri's searches find contraband in
    2.1-2.4% of all stops (a lower bound on phi); the prior's central 95% runs from 3% to 18%."""
    lambda_race: tuple[float, float] = (0.5, 0.5)
    """log(delta_r): the separation of the two signal distributions, central 95% from 0.6 to 4.4 standard
    deviations (with search rates of a few percent and hit rates of 20-35%, a cell alone implies about 1.5-2.5)."""
    phi_agency_scale: float = 0.5
    """Fixed prior scale of an agency's logit(phi) effect (shared by its races): agencies' contraband prevalence
    within a factor of about e (x2.7) of the race term either way."""
    lambda_agency_scale: float = 0.1
    """Fixed prior scale of an agency's log(delta) effect, the Open Policing Project's 0.1. 0 leaves it out (one
    signal separation per race in every agency), a version the sensitivity check fits."""
    threshold_race: tuple[float, float] = (-1.5, 1.0)
    """t_r, the race mean of the logit risk thresholds: centre 18%, central 95% from 3% to 61%."""
    threshold_spread_scale: float = 0.5
    """sigma_t[r] ~ half-N(0, 0.5): the spread of agencies' logit thresholds around the race mean."""


PRIORS = Priors()
PRIOR_VARIANTS = {
    "main": PRIORS,
    "wider race priors": Priors(phi_race=(-2.5, 1.0), lambda_race=(0.5, 1.0), threshold_race=(-1.5, 2.0)),
    "wider agency and spread scales": Priors(phi_agency_scale=1.0, threshold_spread_scale=1.0),
    "lower threshold centre (5%)": Priors(threshold_race=(-2.9, 1.0)),
    "one signal quality for every agency": Priors(lambda_agency_scale=0.0),
}
"""The sensitivity check (``python -m heartbeats_analysis.analysis.threshold_model --sensitivity``): each version
refits the statewide model; three change priors, the last the model's structure. docs/decisions.md records the
results."""

FIT_SETTINGS = {"chains": 4, "warmup": 1000, "samples": 1500, "seed": 20180101, "target_accept": 0.9}
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


def threshold_model(
    agency_index, race_index, stops, searches=None, hits=None, *, n_agencies: int, n_races: int, priors: Priors = PRIORS
):
    """The fast threshold test's hierarchical model (NumPyro).

    Race terms have informative priors of their own and agency effects fixed prior scales (no estimated scale, so
    no funnel), as in the Open Policing Project's Stan model. The risk thresholds are normal on the logit scale
    around a race mean, logit(t_rd) ~ N(t_r, sigma_t[r]) (OPP puts this hierarchy on the cutoffs). The sampler
    moves each cell's signal cutoff c_rd, from which logit(t_rd) = logit(phi_rd) + delta_rd * c_rd -
    delta_rd^2 / 2, and the threshold prior enters with the Jacobian |d logit(t) / d c| = delta: the same
    posterior, a better geometry (a cell's search rate pins its own coordinate, about 30 leapfrog steps per draw
    instead of 500)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from jax.nn import sigmoid

    with numpyro.plate("races", n_races):
        phi_r = numpyro.sample("phi_r", dist.Normal(*priors.phi_race))
        lambda_r = numpyro.sample("lambda_r", dist.Normal(*priors.lambda_race))
        t_r = numpyro.sample("t_r", dist.Normal(*priors.threshold_race))
        sigma_t = numpyro.sample("sigma_t", dist.HalfNormal(priors.threshold_spread_scale))
    # Agency effects sum to zero over agencies: otherwise a shift of every agency's effect and the opposite shift
    # of the race terms leave the likelihood unchanged, a ridge the sampler crawls along.
    phi_d = priors.phi_agency_scale * numpyro.sample("phi_d_raw", dist.ZeroSumNormal(1.0, event_shape=(n_agencies,)))
    logit_phi = phi_r[race_index] + phi_d[agency_index]
    log_delta = lambda_r[race_index]
    if priors.lambda_agency_scale > 0:
        lambda_d = numpyro.sample("lambda_d_raw", dist.ZeroSumNormal(1.0, event_shape=(n_agencies,)))
        log_delta = log_delta + priors.lambda_agency_scale * lambda_d[agency_index]
    delta = jnp.exp(log_delta)
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


def initial_values(cells: pd.DataFrame, chains: int, seed: int, priors: Priors = PRIORS) -> dict[str, np.ndarray]:
    """Unconstrained starting values, one row per chain: race terms at their prior means, agency effects at 0,
    each cutoff where a signal N(0, 1) would give the cell's observed search rate, all jittered per chain by
    :data:`INIT_JITTER`. (The cutoffs have no proper prior to draw a start from; uniform starts in (-2, 2) left a
    large agency's cutoffs in a corner the chain did not leave within the warm-up.)"""
    from scipy.stats import norm

    n_agencies = int(cells["agency_index"].max()) + 1
    search_rate = (cells["searches"].to_numpy() + 0.5) / (cells["stops"].to_numpy() + 1.0)
    centre = {
        "phi_r": np.full(len(RACES), priors.phi_race[0]),
        "lambda_r": np.full(len(RACES), priors.lambda_race[0]),
        "t_r": np.full(len(RACES), priors.threshold_race[0]),
        "sigma_t": np.full(len(RACES), np.log(0.3)),  # unconstrained: log of the spread
        "phi_d_raw": np.zeros(n_agencies - 1),  # unconstrained: a zero-sum vector has one coordinate fewer
        "cutoff": norm.isf(search_rate),
    }
    if priors.lambda_agency_scale > 0:
        centre["lambda_d_raw"] = np.zeros(n_agencies - 1)
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


def fit(
    cells: pd.DataFrame,
    chains: int,
    warmup: int,
    samples: int,
    seed: int,
    target_accept: float = 0.9,
    priors: Priors = PRIORS,
) -> Fit:
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
        NUTS(threshold_model, target_accept_prob=target_accept, dense_mass=[("phi_r", "lambda_r", "t_r")]),
        num_warmup=warmup,
        num_samples=samples,
        num_chains=chains,
        chain_method=method,
        progress_bar=bool(os.environ.get("HEARTBEATS_PROGRESS")),
    )
    init = {k: jnp.asarray(v) for k, v in initial_values(cells, chains, seed, priors).items()}
    if chains == 1:
        init = {k: v[0] for k, v in init.items()}
    started = time.perf_counter()
    mcmc.run(
        jax.random.PRNGKey(seed),
        **data,
        n_agencies=n_agencies,
        n_races=len(RACES),
        priors=priors,
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
    whites = cells[cells["race"] == "white"]
    white_cell = dict(zip(whites["agency_index"], whites.index, strict=True))
    state_rows = []
    for race in RACES:
        idx = cells.index[cells["race"] == race]
        if not len(idx):
            continue
        agency = cells.loc[idx, "agency_index"]
        w = weights.loc[agency].to_numpy(dtype=float)
        m, lo_, hi_ = _interval((t[:, idx] * w).sum(axis=1) / w.sum())
        row = {"race": race, "threshold": m, "threshold_lower": lo_, "threshold_upper": hi_, "agencies": len(idx)}
        paired = [(i, white_cell[a]) for i, a in zip(idx, agency, strict=True) if a in white_cell]
        if race != "white" and paired:
            # Like with like: the gap is averaged over the agencies that have both cells, with the same weights.
            mine, white = (np.array(side) for side in zip(*paired, strict=True))
            pw = weights.loc[cells.loc[mine, "agency_index"]].to_numpy(dtype=float)
            gap = ((t[:, mine] - t[:, white]) * pw).sum(axis=1) / pw.sum()
            dm, dlo, dhi = _interval(gap)
            row |= {"difference": dm, "difference_lower": dlo, "difference_upper": dhi}
        state_rows.append(row)
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
    diagnostics = {
        **result.diagnostics,
        "ppc": ppc_summary(tables["ppc"]),
        "min_searches": MIN_SEARCHES,
        "stops_fingerprint": stops_fingerprint(stops),
        "model_fingerprint": model_fingerprint(),
    }
    diagnostics["ppc"]["passes"] = ppc_passes(diagnostics["ppc"])
    diagnostics["converged"] = not convergence_problems(diagnostics)
    (folder / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2) + "\n")
    check_convergence(diagnostics)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    included.to_csv(folder / "inclusion.csv", index=False, lineterminator="\n")
    inconsistent_rows(stops).to_csv(folder / "inconsistent.csv", index=False, lineterminator="\n")
    return diagnostics


SENSITIVITY_FILE = "threshold_sensitivity.csv"
"""The prior-sensitivity results, kept with the package's resources (a run takes about ten minutes, too long for
every build); the notebook shows them and says when they were computed on other stops data."""


def stops_fingerprint(stops: pd.DataFrame) -> str:
    """The sha256 of the counts the model reads (pooled, consistent rows): ties a stored sensitivity run to them."""
    import hashlib

    pooled = pooled_counts(stops).sort_values(["agency_slug", "race"])
    return hashlib.sha256(pooled.to_csv(index=False, lineterminator="\n").encode()).hexdigest()


def model_fingerprint() -> str:
    """The sha256 of this module's source: ties a stored sensitivity run to the model (priors, likelihood and
    sampler settings) it was run with, as the fit step's cache key does."""
    import hashlib

    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def prior_sensitivity(stops: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """Refit the statewide model under each of :data:`PRIOR_VARIANTS`: one row per variant and quantity (Missouri's
    average thresholds and Black-white gap, every agency's Black-white gap) with its 95% credible interval and
    the variant's convergence. A result that moves with the priors by more than its interval is prior-driven."""
    settings = {**FIT_SETTINGS, **(settings or {})}
    pooled = pooled_counts(stops)
    cells = model_cells(pooled, inclusion(pooled))
    fingerprint = stops_fingerprint(stops)
    frames = []
    for variant, priors in PRIOR_VARIANTS.items():
        print(f"  prior variant {variant!r} ...", file=sys.stderr, flush=True)
        result = fit(cells, **settings, priors=priors)
        tables = summarise(result)
        state = tables["state"]
        gaps = tables["differences"]
        gaps = gaps[gaps["race"] == "black"]
        d = result.diagnostics
        frame = pd.concat(
            [
                pd.DataFrame(
                    {
                        "scope": "missouri",
                        "quantity": state["race"] + " threshold",
                        "estimate": state["threshold"],
                        "lower": state["threshold_lower"],
                        "upper": state["threshold_upper"],
                    }
                ),
                pd.DataFrame(
                    {
                        "scope": "missouri",
                        "quantity": state["race"] + " minus white",
                        "estimate": state.get("difference"),
                        "lower": state.get("difference_lower"),
                        "upper": state.get("difference_upper"),
                    }
                ).dropna(subset=["estimate"]),
                pd.DataFrame(
                    {
                        "scope": gaps["agency_slug"],
                        "quantity": "black minus white",
                        "estimate": gaps["difference"],
                        "lower": gaps["difference_lower"],
                        "upper": gaps["difference_upper"],
                    }
                ),
            ],
            ignore_index=True,
        )
        frame.insert(0, "variant", variant)
        frame["max_rhat"] = round(d["max_rhat"], 3)
        frame["min_ess_bulk"] = round(d["min_ess_bulk"])
        frame["divergences"] = d["divergences"]
        frame["stops_fingerprint"] = fingerprint
        frame["model_fingerprint"] = model_fingerprint()
        frames.append(frame)
        print(f"    R-hat {d['max_rhat']:.3f}, ESS {d['min_ess_bulk']:.0f}, {d['seconds']:.0f} s", file=sys.stderr)
    return pd.concat(frames, ignore_index=True)


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


def main(argv: list[str]) -> int:
    """``python -m heartbeats_analysis.analysis.threshold_model <folder> [processed_dir]``: the statewide fit.
    ``... --sensitivity <file.csv> [processed_dir]``: the prior-sensitivity check (about 2 minutes a variant; the
    project keeps its result as ``heartbeats_analysis/resources/threshold_sensitivity.csv``)."""
    chains = FIT_SETTINGS["chains"]
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={chains}"
    from heartbeats_analysis.ingest.tables import load_table

    sensitivity = argv[:1] == ["--sensitivity"]
    argv = argv[1:] if sensitivity else argv
    if not argv:
        print(main.__doc__, file=sys.stderr)
        return 2
    processed = Path(argv[1]) if len(argv) > 1 else None
    stops = load_table("stops", processed)
    if sensitivity:
        table = prior_sensitivity(stops)
        table.to_csv(argv[0], index=False, lineterminator="\n", float_format="%.5f")
        state = table[table["scope"] == "missouri"]
        print(state.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return 0
    diagnostics = fit_statewide(stops, Path(argv[0]))
    print(json.dumps(diagnostics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
