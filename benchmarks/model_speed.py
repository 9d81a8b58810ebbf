"""How long the Heartbeats program model takes: sampling and all scenarios, and the sensitivity analysis.

Run: ``.venv/bin/python benchmarks/model_speed.py [draws ...]`` (default 1,000 10,000 100,000).
"""

from __future__ import annotations

import functools
import sys
import time

from heartbeats_analysis.model import ModelParameters, load_register, run_model
from heartbeats_analysis.model.sensitivity import one_at_a_time, rank_correlations


def best_of(repeats: int, action) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main(draw_counts: list[int]) -> None:
    register = load_register()
    run_model(ModelParameters(draws=100), register)  # warm-up: imports, scipy set-up
    print(f"{'draws':>9}  {'model (s)':>10}  {'rank corr. (s)':>14}")
    for draws in draw_counts:
        settings = ModelParameters(draws=draws)
        seconds = best_of(3, functools.partial(run_model, settings, register))
        run = run_model(settings, register)
        rank_seconds = best_of(3, functools.partial(rank_correlations, run))
        print(f"{draws:>9,}  {seconds:>10.3f}  {rank_seconds:>14.3f}")
    oat = best_of(3, lambda: one_at_a_time(register, 10))
    print(f"one-at-a-time sensitivity (all parameters, one vectorised call): {oat:.3f} s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
