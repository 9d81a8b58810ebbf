"""Where notebook 07 (program model) spends its own time, in process (no kernel, no publishing).

Run: ``.venv/bin/python benchmarks/model_notebook.py [draws]`` (default 10,000). Prints one line per
notebook call, then the share taken by figures (matplotlib drawing PNG and SVG) against the model.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from heartbeats_analysis.model import report, summary
from heartbeats_analysis.report.notebook_io import NotebookContext


def main(draws: int) -> None:
    timings: dict[str, float] = {}

    def timed(name: str, action, *args):
        started = time.perf_counter()
        result = action(*args)
        timings[name] = time.perf_counter() - started
        return result

    with tempfile.TemporaryDirectory() as folder:
        ctx = NotebookContext.for_notebook(folder, "07-program-model")
        settings = report.model_settings(20161, draws, 10, {"attrition_rate": 0.2})
        inputs = timed("analysis inputs", report.analysis_inputs, ctx)
        run = timed("model run", report.run, ctx, settings, inputs)
        for name in ("figure_staffing", "figure_salary", "figure_outcomes", "figure_scenarios"):
            timed(name, getattr(report, name), ctx, run)
        for name in ("staffing_table", "salary_table", "outcomes_table", "costs_table", "cost_split_table"):
            timed(name, getattr(summary, name), run)
        timed("options_side_by_side", summary.options_side_by_side, run)
        sensitivity = timed("sensitivity", report.sensitivity, ctx, run)
        timed("figure_tornado", report.figure_tornado, ctx, run, sensitivity)
        timed("figure_tornado (cost)", report.figure_tornado, ctx, run, sensitivity, "heartbeats_incremental_cost")
        timed("record_model_claims", report.record_model_claims, ctx, run, sensitivity, "ferguson")
        timed("save_summary_tables", report.save_summary_tables, ctx, run)
        timed("scorecard", report.scorecard, ctx, run, "ferguson")
    total = sum(timings.values())
    figures = sum(v for k, v in timings.items() if k.startswith("figure"))
    for name, seconds in timings.items():
        print(f"{name:<28} {seconds:6.2f} s")
    print(
        f"{'total':<28} {total:6.2f} s; figures {figures:.2f} s ({figures / total:.0%}); load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
