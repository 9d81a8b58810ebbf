"""The Dask executor: the same briefs as the default executor, built as tasks on a LocalCluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from heartbeats_analysis.build.batch import run_batch
from heartbeats_analysis.errors import ParameterError
from heartbeats_analysis.paths import PROJECT_ROOT

AGENCIES = ["ferguson", "florissant", "pine-lawn"]


def batch(reports, *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HEARTBEATS_REPORTS_DIR": str(reports)}
    command = [sys.executable, "-m", "heartbeats_analysis.cli", "batch", *AGENCIES, "--no-pdf", "--jobs", "2"]
    return subprocess.run([*command, *options], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=1500)


def claims_without_provenance(path) -> dict:
    """Every claim's content; the fields naming the build (timings, commit) are not compared."""
    return {claim["id"]: claim for claim in json.loads(path.read_text())}


@pytest.mark.slow
def test_dask_executor_builds_the_same_briefs_as_the_default(tmp_path, raw_data):
    default = batch(tmp_path / "threads")
    on_dask = batch(tmp_path / "dask", "--executor", "dask")
    assert default.returncode == 0, default.stderr
    assert on_dask.returncode == 0, on_dask.stderr
    assert "local Dask cluster of 2 worker(s)" in on_dask.stdout + on_dask.stderr
    for agency in AGENCIES:
        threads_claims = claims_without_provenance(tmp_path / "threads" / agency / "claims.json")
        dask_claims = claims_without_provenance(tmp_path / "dask" / agency / "claims.json")
        assert dask_claims == threads_claims, agency
    index = (tmp_path / "dask" / "index.html").read_text()
    assert all(f'href="{agency}/brief.html"' in index for agency in AGENCIES)


def test_an_unknown_executor_is_refused_before_any_work():
    with pytest.raises(ParameterError, match="Unknown executor 'spark'"):
        run_batch(["ferguson"], executor="spark")


def test_a_scheduler_without_the_dask_executor_is_refused():
    with pytest.raises(ParameterError, match="--scheduler names a Dask scheduler"):
        run_batch(["ferguson"], scheduler="tcp://127.0.0.1:8786")
