"""Which assumptions move the headline results most.

* One at a time (the tornado): every parameter at its central value, one moved to its low and then its
  high value, in the expected-value model (no process noise, so the swings are exact and smooth). All
  configurations are evaluated in one vectorised call.
* Global: Spearman rank correlation between each parameter's Monte Carlo draws and each output over
  the run's draws, when all parameters vary together (process noise included).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from heartbeats_analysis.model.inputs import unknown_draws
from heartbeats_analysis.model.sampling import point_values, varied_parameters
from heartbeats_analysis.model.scenarios import OUTPUT_LABELS, ModelRun, evaluate

TORNADO_OUTPUTS = (
    "heartbeats_added_officers_y5",
    "heartbeats_incremental_cost",
    "salary_ratio",
    "workload_officers_needed",
)


def one_at_a_time(register: pd.DataFrame, horizon_years: int) -> pd.DataFrame:
    """Swing of every output when each varied parameter goes from its low to its high value."""
    varied = varied_parameters(register)
    rows = register.set_index("id")
    configs = 1 + 2 * len(varied)
    params = unknown_draws(point_values(register, "central", configs), register)
    for position, key in enumerate(varied):
        params[key][1 + 2 * position] = rows.loc[key, "low"]
        params[key][2 + 2 * position] = rows.loc[key, "high"]
    outputs = evaluate(params, horizon_years, process_noise=False).outputs()
    records = []
    for output, values in outputs.items():
        central = float(values[0])
        for position, key in enumerate(varied):
            at_low, at_high = float(values[1 + 2 * position]), float(values[2 + 2 * position])
            records.append(
                {
                    "output": output,
                    "output_label": OUTPUT_LABELS[output],
                    "parameter": key,
                    "description": rows.loc[key, "description"],
                    "unit": rows.loc[key, "unit"],
                    "low_value": float(rows.loc[key, "low"]),
                    "high_value": float(rows.loc[key, "high"]),
                    "output_central": central,
                    "output_at_low": at_low,
                    "output_at_high": at_high,
                    "swing": abs(at_high - at_low),
                }
            )
    # an output that needs an unknown agency fact is not a number: it has no drivers to rank
    table = pd.DataFrame(records).dropna(subset=["swing"]).reset_index(drop=True)
    table["rank"] = table.groupby("output")["swing"].rank(ascending=False, method="first").astype(int)
    return table.sort_values(["output", "rank"]).reset_index(drop=True)


def rank_correlations(run: ModelRun) -> pd.DataFrame:
    """Spearman correlation of each varied parameter with each output across the run's draws."""
    varied = varied_parameters(run.register)
    outputs = run.outputs()
    if not varied or run.settings.draws < 3:
        return pd.DataFrame(columns=["output", "output_label", "parameter", "spearman", "abs_spearman", "rank"])
    parameter_ranks = stats.rankdata(np.column_stack([run.params[k] for k in varied]), axis=0)
    parameter_ranks = (parameter_ranks - parameter_ranks.mean(axis=0)) / parameter_ranks.std(axis=0)
    records = []
    for output, values in outputs.items():
        ranks = stats.rankdata(values)
        spread = ranks.std()
        rho = (
            np.zeros(len(varied)) if spread == 0 else parameter_ranks.T @ ((ranks - ranks.mean()) / spread) / len(ranks)
        )
        for key, value in zip(varied, rho, strict=True):
            records.append(
                {
                    "output": output,
                    "output_label": OUTPUT_LABELS[output],
                    "parameter": key,
                    "spearman": float(value),
                    "abs_spearman": float(abs(value)),
                }
            )
    # an output that needs an unknown agency fact is not a number: it has no drivers to rank
    table = pd.DataFrame(records).dropna(subset=["abs_spearman"]).reset_index(drop=True)
    table["rank"] = table.groupby("output")["abs_spearman"].rank(ascending=False, method="first").astype(int)
    return table.sort_values(["output", "rank"]).reset_index(drop=True)


# Rank correlations below this are sampling noise at 10,000 draws, not a driver worth naming.
MIN_RANK_CORRELATION = 0.05


def top_drivers(table: pd.DataFrame, output: str, n: int = 3, measure: str = "swing") -> list[str]:
    """The ``n`` parameters with the largest effect on ``output`` (ignoring those with none, and rank
    correlations too small to tell from noise)."""
    floor = MIN_RANK_CORRELATION if measure == "abs_spearman" else 0
    part = table[(table["output"] == output) & (table[measure] > floor)]
    return list(part.sort_values(measure, ascending=False)["parameter"].head(n))
