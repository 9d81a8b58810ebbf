"""Run one notebook with papermill, keeping the failed copy and naming the failing cell."""

from __future__ import annotations

import shutil
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import nbformat
import papermill
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError
from papermill.log import logger
from papermill.utils import remove_args

from heartbeats_analysis.build.kernel_pool import KernelPool, kernel_name
from heartbeats_analysis.build.notebook_parameters import declared_parameters
from heartbeats_analysis.errors import BuildInterruptedError, NotebookFailedError
from heartbeats_analysis.paths import PROJECT_ROOT

EXECUTION_TIMEOUT_S = 900
STARTUP_TIMEOUT_S = 120
POOLED_ENGINE = "heartbeats-pooled"
SAVE_EVERY_S = 10.0
"""papermill writes the whole notebook (every embedded figure, JSON-encoded and validated) when each cell
starts and ends: about 100 writes and 3 s of CPU for the model notebook, on the core its kernel needs.
Pooled runs write at the first cell, then at most every SAVE_EVERY_S (a kernel that dies leaves output
at most that old); papermill still writes the finished notebook, and a failed one before raising."""


class PooledKernelEngine(NBClientEngine):
    """papermill's nbclient engine, on a kernel the pool lends (`km=`): the notebook's client is
    closed afterwards and the kernel is left running for the next notebook."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        **kwargs,
    ):
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        _throttle_saves(nb_man, SAVE_EVERY_S)
        client = PapermillNotebookClient(
            nb_man,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        try:
            return client.execute()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()


def _throttle_saves(nb_man, every: float) -> None:
    """Make papermill's NotebookExecutionManager save at its first request, then at most every `every` s."""
    save, last = nb_man.save, [None]

    def throttled(**kwargs):
        now = time.monotonic()
        if last[0] is None or now - last[0] >= every:
            save(**kwargs)
            last[0] = now

    nb_man.save = throttled


def register_pooled_engine() -> None:
    """Make the pooled engine known to papermill (idempotent; done when first needed, not on import)."""
    papermill_engines.register(POOLED_ENGINE, PooledKernelEngine)


def run_notebook(
    notebook_path: Path,
    output_path: Path,
    parameters: dict[str, Any],
    failed_dir: Path,
    kernels: KernelPool | None = None,
    own_kernel: bool = False,
) -> Path:
    """Execute notebook_path into output_path with the parameters it declares, on a kernel borrowed
    from `kernels` (with `own_kernel`, one the pool starts for this notebook alone and then stops) or, without a
    pool, on a new kernel of its own.

    On failure the partly executed notebook is kept in failed_dir and NotebookFailedError names the
    notebook, the cell and the exception.
    """
    wanted = declared_parameters(notebook_path)
    passed = {k: v for k, v in parameters.items() if k in wanted}
    output_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        borrowed = (kernels.kernel_of_its_own() if own_kernel else kernels.kernel()) if kernels else nullcontext()
        with borrowed as kernel:
            # A pooled kernel already runs in the project folder; papermill's cwd would chdir the whole
            # process, under the other threads' feet. A kernel of its own starts in the cwd it is given, and is
            # stopped at once when its notebook ends (as the pool stops its kernels): every output has arrived by
            # then, and a graceful stop waited 0.3-2 s for the kernel to exit, on the cold build's critical path.
            how = (
                {"engine_name": POOLED_ENGINE, "km": kernel.manager}
                if kernel
                else {"cwd": str(PROJECT_ROOT), "shutdown_kernel": "immediate"}
            )
            if kernel:
                register_pooled_engine()
            papermill.execute_notebook(
                str(notebook_path),
                str(output_path),
                parameters=passed,
                kernel_name=kernel_name(),
                progress_bar=False,
                log_output=False,
                execution_timeout=EXECUTION_TIMEOUT_S,
                start_timeout=STARTUP_TIMEOUT_S,
                **how,
            )
    except PapermillExecutionError as exc:
        kept = _keep_failed(output_path, failed_dir)
        raise NotebookFailedError(
            f"Notebook {notebook_path.name} failed in cell {exc.exec_count} "
            f"({_cell_summary(kept, exc.exec_count)}): {exc.ename}: {exc.evalue}\n"
            f"The executed notebook with the traceback is kept at {kept}. "
            "The previously published report was left untouched."
        ) from None
    except Exception as exc:  # kernel death, timeouts, missing kernel
        if kernels is not None and kernels.closed:
            raise BuildInterruptedError(
                f"Notebook {notebook_path.name} was stopped: the build was interrupted. "
                "The previously published report was left untouched."
            ) from None
        kept = _keep_failed(output_path, failed_dir)
        raise NotebookFailedError(
            f"Notebook {notebook_path.name} could not be run: {exc.__class__.__name__}: {exc}. "
            f"Partial output (if any) is kept at {kept}. If the kernel "
            f"{kernels.kernel_name if kernels else kernel_name()!r} is missing or broken, "
            "run `make setup` to register it."
        ) from None
    return output_path


def _keep_failed(output_path: Path, failed_dir: Path) -> Path:
    failed_dir.mkdir(parents=True, exist_ok=True)
    kept = failed_dir / output_path.name
    if output_path.exists():
        shutil.copyfile(output_path, kept)
    return kept


def _cell_summary(notebook_path: Path, execution_count: int | None) -> str:
    """The failing cell's first line, found by its execution count: papermill inserts banner cells
    into the kept notebook, so the cell index it reports no longer points at the failing cell."""
    try:
        cells = nbformat.read(notebook_path, as_version=4).cells
        cell = next(c for c in cells if c.cell_type == "code" and c.get("execution_count") == execution_count)
        lines = cell.source.strip().splitlines()
        return f"code: {lines[0][:80]}" if lines else "an empty cell"
    except (StopIteration, OSError, ValueError):
        return "see the kept notebook"
