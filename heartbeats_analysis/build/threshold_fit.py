"""The statewide threshold-test fit: a shared build step after cleaning, cached like the others.

Its inputs are the stops table and the model's code (with its sampler settings) only, so agency briefs, batches and test
builds reuse one fit until either changes. ``heartbeats clean`` runs it too, so a processed folder made by
``make processed`` already holds the fit that every later build (and every test tree copied from it) reuses.
The fit runs in a process of its own (JAX must learn how many CPU devices to use before it starts, and its
memory is returned when the fit ends); its summaries go to ``<processed>/threshold_fit/``, a sub-folder, so they
do not count among the processed tables whose hash reruns every agency notebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

from heartbeats_analysis.build.hashing import hash_files

STEP_NAME = "threshold-fit"
# The build never imports the analysis (tests/test_import_layers.py): it names the model's module, file, output
# folder and files instead (tests/test_analysis_threshold.py checks they match the module's own).
MODEL_MODULE = "heartbeats_analysis.analysis.threshold_model"
MODEL_FILE = Path(__file__).resolve().parents[1] / "analysis" / "threshold_model.py"
FIT_FOLDER = "threshold_fit"
FIT_FILES = (
    "thresholds.csv",
    "differences.csv",
    "state.csv",
    "ppc.csv",
    "inclusion.csv",
    "inconsistent.csv",
    "diagnostics.json",
)
FIT_LOCK_TIMEOUT_S = 1800


class ThresholdFitError(RuntimeError):
    """The statewide threshold fit failed (did not converge, or crashed): its output says why."""


def fit_inputs(processed: Path) -> dict:
    """What the fit depends on: the stops table and the model module (which holds the sampler settings)."""
    return {"stops": hash_files([processed / "stops.csv"]), "model": hash_files([MODEL_FILE])}


def run_fit(folder: Path, processed: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", MODEL_MODULE, str(folder), str(processed)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ThresholdFitError(f"The statewide threshold fit failed (exit {done.returncode}):\n{tail}")


def run_threshold_fit(force: bool = False, listener=None, result=None) -> None:
    """Run (or reuse) the fit on the processed folder; builds of different agencies wait for one fit."""
    from heartbeats_analysis.build.steps import BuildResult, _Steps
    from heartbeats_analysis.paths import processed_dir

    processed = processed_dir()
    result = result or BuildResult("(shared)", processed)
    steps = _Steps(processed / ".stamps", force, listener, result)
    folder = processed / FIT_FOLDER
    outputs = [folder / name for name in FIT_FILES]
    with FileLock(str(processed / ".threshold.lock"), timeout=FIT_LOCK_TIMEOUT_S):
        steps.run(STEP_NAME, fit_inputs(processed), outputs, lambda: run_fit(folder, processed))
