"""A model of Project Heartbeats: what the council can and cannot expect from it.

Every input is a row of the assumptions register (``resources/assumptions.csv``) with a range and a
source; every result is a distribution over seeded Monte Carlo draws and is reported as an interval.

Modules, in the order the model runs:
``assumptions`` (register, overrides, model parameters) -> ``sampling`` (draws) -> ``inputs``
(values from earlier analysis notebooks) -> ``pipeline`` (staffing) -> ``workload`` (COPS-style
officers needed) -> ``salary`` -> ``outcomes`` -> ``costs`` -> ``scenarios`` (runs all of them) ->
``sensitivity`` -> ``scorecard`` -> ``report`` (figures and claims for notebook 07).
"""

from heartbeats_analysis.model.assumptions import (
    ModelParameters,
    apply_overrides,
    load_register,
    validate_model_parameters,
)
from heartbeats_analysis.model.scenarios import ModelRun, run_model

__all__ = [
    "ModelParameters",
    "ModelRun",
    "apply_overrides",
    "load_register",
    "run_model",
    "validate_model_parameters",
]
