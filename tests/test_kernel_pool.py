"""Warm kernels reused across notebooks: a notebook must come out as if its kernel were new, a kernel
that saw a failure is never lent again, and closing the pool leaves no kernel running."""

from __future__ import annotations

import ast
import json
import os
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from heartbeats_analysis.build import kernel_pool
from heartbeats_analysis.build.kernel_pool import KernelControlError, KernelPool
from heartbeats_analysis.build.runner import run_notebook
from heartbeats_analysis.errors import BuildInterruptedError, NotebookFailedError
from heartbeats_analysis.paths import NOTEBOOKS_DIR, PACKAGE_DIR

KERNEL = "python3"  # the test interpreter's own kernel
# A warm-up that imports only the project style (quick), then records the starting state to restore.
LIGHT_WARM_UP = (
    "import heartbeats_analysis.build.kernel_session as _session\n"
    "_session.warm_up(('heartbeats_analysis.report.style',))\ndel _session"
)

# What a notebook could leave behind, and what the next notebook would see of it.
POLLUTER = [
    "leftover = 'from the last notebook'",
    "import numpy as np\nnp.mean([])  # warns once per place: a reused kernel must warn again",
    "import matplotlib.pyplot as plt\nplt.rcParams['font.size'] = 31.0\nkept_open = plt.figure()",
    "import heartbeats_analysis.report.style as style\nstyle.apply_style()",
]
PROBE = [
    "user_names = sorted(n for n in globals() if not n.startswith('_') and n not in "
    "{'In', 'Out', 'exit', 'quit', 'get_ipython', 'open'})\nuser_names",
    "import matplotlib\nimport matplotlib.pyplot as plt\n(matplotlib.rcParams['font.size'], "
    "matplotlib.rcParams['axes.grid'], len(plt.get_fignums()))",
    "'leftover' in globals()",
    "import numpy as np\nnp.mean([])",
]


def notebook(tmp_path: Path, name: str, sources: list[str]) -> Path:
    path = tmp_path / f"{name}.ipynb"
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def run(pool: KernelPool | None, tmp_path: Path, name: str, sources: list[str]) -> nbformat.NotebookNode:
    (tmp_path / "in").mkdir(parents=True, exist_ok=True)
    source = notebook(tmp_path / "in", name, sources)
    executed = tmp_path / "out" / f"{name}.ipynb"
    run_notebook(source, executed, {}, tmp_path / "failed", kernels=pool)
    return nbformat.read(executed, as_version=4)


def results(nb: nbformat.NotebookNode) -> list[tuple[int | None, list[str]]]:
    """Each code cell's execution count and the text of its results."""
    return [
        (c.execution_count, [o.get("data", {}).get("text/plain", o.get("text", "")) for o in c.outputs])
        for c in nb.cells
        if c.cell_type == "code"
    ]


def kernel_pids(pool: KernelPool) -> list[int]:
    return [k.manager.provisioner.process.pid for k in list(pool._live)]


def gone(pid: int, wait_s: float = 10.0) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True  # exited, not yet reaped by its parent
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_a_reused_kernel_looks_new_to_the_next_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTBEATS_KERNEL", KERNEL)
    fresh = results(run(None, tmp_path / "fresh", "probe", PROBE))
    with KernelPool(1, kernel=KERNEL) as pool:
        run(pool, tmp_path / "reused", "polluter", POLLUTER)
        reused = results(run(pool, tmp_path / "reused", "probe", PROBE))
        assert pool.kernels_started == 1  # the probe really ran on the polluted kernel
    assert reused == fresh
    assert [count for count, _ in reused] == [1, 2, 3, 4]
    assert reused[0][1] == ["[]"] and reused[2][1] == ["False"]
    assert "Mean of empty slice" in "".join(reused[3][1])
    assert "31.0" not in reused[1][1][0] and reused[1][1][0].endswith(", 0)")


@pytest.mark.slow
def test_a_warm_kernel_keeps_its_imports_out_of_the_collector_and_still_collects_what_notebooks_leave(
    tmp_path, monkeypatch
):
    """The warm-up freezes what it imported (the wipe's garbage collections then skip it); an object a notebook
    left in a reference cycle is still freed by the wipe before the next notebook."""
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)
    leave_a_cycle = (
        "import gc, sys, types, weakref\n"
        "class Node: pass\n"
        "node = Node()\nnode.itself = node\n"
        "sys.modules['cycle_probe'] = types.SimpleNamespace(ref=weakref.ref(node))\n"
        "gc.get_freeze_count() > 10_000"
    )
    with KernelPool(1, kernel=KERNEL) as pool:
        first = results(run(pool, tmp_path, "leaves-a-cycle", [leave_a_cycle]))
        after = results(run(pool, tmp_path, "next", ["import sys\nsys.modules['cycle_probe'].ref() is None"]))
        assert pool.kernels_started == 1
    assert first == [(1, ["True"])]
    assert after == [(1, ["True"])]


@pytest.mark.slow
def test_a_failed_notebook_retires_its_kernel_and_the_next_gets_a_new_one(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)  # speed: nothing here needs the imports
    with KernelPool(1, kernel=KERNEL) as pool:
        run(pool, tmp_path, "first", ["x = 1"])
        first_pid = kernel_pids(pool)[0]
        with pytest.raises(NotebookFailedError, match=r"failing\.ipynb failed in cell 2 .*ZeroDivisionError"):
            run(pool, tmp_path, "failing", ["y = 2", "1 / 0"])
        assert gone(first_pid)
        after = results(run(pool, tmp_path, "after", ["'x' in globals(), 'y' in globals()"]))
        assert after == [(1, ["(False, False)"])]
        assert pool.kernels_started == 2
    assert (tmp_path / "failed" / "failing.ipynb").is_file()


@pytest.mark.slow
def test_a_kernel_is_replaced_after_its_quota_of_notebooks(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)
    monkeypatch.setattr(kernel_pool, "MAX_USES", 2)
    with KernelPool(1, kernel=KERNEL) as pool:
        for name in ("one", "two", "three"):
            run(pool, tmp_path, name, ["import os\nos.getpid()"])
        assert pool.kernels_started == 2


@pytest.mark.slow
def test_a_failing_warm_up_only_costs_time_and_is_reported_once(tmp_path, monkeypatch, capsys):
    """Without a warm-up there is no starting state to restore: the kernel serves one notebook and is
    then replaced, never wiped half-way and lent again. The failure is named on stderr, once."""
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", "raise ImportError('a module that does not import')")
    with KernelPool(1, kernel=KERNEL) as pool:
        assert results(run(pool, tmp_path, "plain", ["6 * 7"])) == [(1, ["42"])]
        assert results(run(pool, tmp_path, "again", ["'_' in globals(), 6 * 7"]))[0][1] == ["(True, 42)"]
        assert pool.kernels_started == 2
    stderr = capsys.readouterr().err
    assert stderr.count("did not warm up") == 1
    assert "ImportError: a module that does not import" in stderr
    assert pool.warm_up_errors == ["ImportError: a module that does not import"]


def test_warm_up_names_every_module_it_could_not_import_and_still_takes_its_snapshot(monkeypatch):
    import gc

    from heartbeats_analysis.build import kernel_session

    monkeypatch.setattr(kernel_session, "_fresh_rc_params", None)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # in a kernel it freezes the imports; here, the test run's objects
    with pytest.raises(ImportError) as caught:
        kernel_session.warm_up(("json", "heartbeats_analysis.no_such_module", "heartbeats_analysis.analysis.show"))
    message = str(caught.value)
    assert "heartbeats_analysis.no_such_module (ModuleNotFoundError" in message
    assert "heartbeats_analysis.analysis.show (ModuleNotFoundError" in message  # a function, not a module
    assert "json (" not in message
    assert kernel_session._fresh_rc_params is not None


def test_every_warm_module_is_a_module():
    import importlib.util

    from heartbeats_analysis.build.kernel_session import WARM_MODULES

    assert [name for name in WARM_MODULES if importlib.util.find_spec(name) is None] == []


@pytest.mark.slow
def test_closing_the_pool_stops_every_kernel_and_refuses_more_work(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)
    pool = KernelPool(2, kernel=KERNEL)
    run(pool, tmp_path, "warm", ["1"])
    pids = kernel_pids(pool)
    pool.close()
    assert pids and all(gone(pid) for pid in pids)
    with pytest.raises(BuildInterruptedError, match="late.ipynb was stopped: the build was interrupted"):
        run(pool, tmp_path, "late", ["1"])


def test_a_pool_starts_no_kernel_until_a_notebook_asks():
    pool = KernelPool(2, kernel=KERNEL)
    pool.close()
    assert pool.kernels_started == 0 and not pool._live


@pytest.mark.slow
def test_a_missing_kernel_is_reported_with_the_fix(tmp_path):
    with KernelPool(1, kernel="no-such-kernel") as pool, pytest.raises(NotebookFailedError, match="make setup"):
        run(pool, tmp_path, "any", ["1"])


@pytest.mark.slow
def test_kernel_control_errors_name_the_kernel_error(monkeypatch):
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)
    with (
        KernelPool(1, kernel=KERNEL) as pool,
        pool.kernel() as kernel,
        pytest.raises(KernelControlError, match="NameError: name 'undefined_name' is not defined"),
    ):
        kernel.run_quietly("undefined_name")


@pytest.mark.slow
def test_a_kernel_that_dies_at_start_fails_the_notebook_promptly(tmp_path, monkeypatch):
    """A kernel that exits as it starts (broken environment, crash on import) is an error naming the
    kernel and its exit code, not an endless series of restarts."""
    spec = tmp_path / "jupyter" / "kernels" / "dies-at-start"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {"argv": [sys.executable, "-c", "import sys; sys.exit(3)"], "display_name": "dies", "language": "python"}
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    outcome: list[BaseException] = []

    def attempt() -> None:
        with KernelPool(1, kernel="dies-at-start") as pool:
            try:
                run(pool, tmp_path, "any", ["1"])
            except BaseException as error:  # noqa: BLE001  (recorded for the assertion below)
                outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the notebook was still waiting for a kernel after 120 s"
    assert len(outcome) == 1 and isinstance(outcome[0], NotebookFailedError)
    assert "'dies-at-start' stopped while it started (exit code 3)" in str(outcome[0])


@pytest.mark.slow
def test_a_kernel_of_its_own_is_stopped_without_waiting_for_its_exit_hooks(tmp_path, monkeypatch):
    """The clean step's kernel: once its notebook has ended nothing more is wanted from it, so it is stopped
    at once (an exit hook that would sleep or write never runs) and the build goes on."""
    monkeypatch.setenv("HEARTBEATS_KERNEL", KERNEL)
    marker = tmp_path / "exit-hook-ran"
    nb = run(
        None,
        tmp_path,
        "own-kernel",
        [f"import atexit, pathlib\natexit.register(pathlib.Path({str(marker)!r}).write_text, 'ran')\n'registered'"],
    )
    assert results(nb) == [(1, ["'registered'"])]
    time.sleep(1.0)  # a graceful stop would have run the hook by now
    assert not marker.exists()


def test_pooled_kernels_keep_no_history_file(tmp_path, monkeypatch):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)
    with KernelPool(1, kernel=KERNEL) as pool:
        run(pool, tmp_path, "first", ["secret = 'not for the history file'"])
        run(pool, tmp_path, "second", ["1"])
    assert list((tmp_path / "ipython").rglob("history.sqlite")) == []


@pytest.mark.slow
def test_a_kernel_shut_down_by_close_is_never_started_again(tmp_path, monkeypatch):
    """close() can land between lending a kernel and its notebook connecting; nbclient would then start
    a new kernel on the lent manager, which nobody would ever stop."""
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)
    pool = KernelPool(1, kernel=KERNEL)
    with pool.kernel() as kernel:
        pool.close()
        assert not kernel.manager.is_alive()
        with pytest.raises(KernelControlError, match="pool was closed"):
            kernel.manager.start_kernel()
    assert kernel.retired and not pool._live


@pytest.mark.slow
def test_a_kernel_is_shut_down_once_however_many_ask(monkeypatch):
    monkeypatch.setattr(kernel_pool, "WARM_UP_CODE", LIGHT_WARM_UP)
    with KernelPool(1, kernel=KERNEL) as pool, pool.kernel() as kernel:
        shutdowns = []
        real_shutdown = kernel.manager.shutdown_kernel
        monkeypatch.setattr(
            kernel.manager, "shutdown_kernel", lambda **kw: (shutdowns.append(kw), time.sleep(0.3), real_shutdown(**kw))
        )
        callers = [threading.Thread(target=pool._retire, args=(kernel,)) for _ in range(3)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(30)
        assert len(shutdowns) == 1 and not kernel.manager.is_alive()


# Calls that change the whole interpreter, which a reused kernel would carry into the next notebook.
PROCESS_WIDE_CALLS = {
    "pd.set_option",
    "pandas.set_option",
    "np.seterr",
    "numpy.seterr",
    "np.random.seed",
    "numpy.random.seed",
    "random.seed",
    "os.chdir",
    "os.putenv",
    "os.environ.update",
    "os.environ.setdefault",
    "locale.setlocale",
    "sys.path.append",
    "sys.path.insert",
    "warnings.filterwarnings",
    "warnings.simplefilter",
    "sns.set",
    "sns.set_theme",
    "seaborn.set_theme",
    "plt.style.use",
    "matplotlib.use",
}
# The project style selects the non-interactive backend in apply_style, before any figure is drawn (a
# no-op once selected). The command line makes relative folder variables absolute once, in its own
# process, before any kernel starts.
ALLOWED = {
    "heartbeats_analysis/report/style.py": {"line 46: matplotlib.use('Agg')"},
    "heartbeats_analysis/paths.py": {"line 84: os.environ[name] = str((base / value).resolve())"},
    # a Dask worker (never a kernel) takes the client's data and report folders before it builds
    "heartbeats_analysis/build/dask_executor.py": {"line 72: os.environ.update(env)"},
    # the build server's own process (never a kernel): marks itself, and enters each client's folder
    "heartbeats_analysis/build/server.py": {
        "line 284: os.chdir(path)",
        "line 288: os.chdir(before)",
        "line 338: os.environ[SERVED_ENV_VAR] = '1'",
    },
    # the kernel template (build/kernel_template.py): the template's own process, before any kernel exists; then each
    # forked kernel, before ipykernel starts, takes the directory and environment its kernel manager gave, and each
    # forked worker those of the kernel it works for
    "heartbeats_analysis/build/kernel_template.py": {
        "line 317: os.environ['MPLBACKEND'] = INLINE_BACKEND",
        "line 451: os.chdir(request['cwd'])",
        "line 461: os.environ.update(environment)",
        "line 535: os.chdir(request['cwd'])",
        "line 537: os.environ.update(request['env'])",
    },
    # the statewide threshold fit's own process (`python -m ...threshold_model`, never a kernel): JAX reads how many
    # CPU devices to make from this variable before it starts
    "heartbeats_analysis/analysis/threshold_model.py": {
        "line 684: os.environ['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={chains}'"
    },
}
SCOPED_BY = "warnings.catch_warnings"  # warning filters set inside it are undone when it ends


def process_wide_calls(source: str) -> list[str]:
    tree = ast.parse(source)
    scoped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(SCOPED_BY in ast.unparse(item.context_expr) for item in node.items):
            scoped.update(id(inner) for inner in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in PROCESS_WIDE_CALLS and id(node) not in scoped:
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.Assign) and any(ast.unparse(t).startswith("os.environ[") for t in node.targets):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return sorted(found, key=lambda text: int(text.split()[1].rstrip(":")))


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = [
        line
        for c in cells
        if c["cell_type"] == "code"
        for line in "".join(c["source"]).splitlines()
        if not line.lstrip().startswith(("%", "!"))
    ]
    return "\n".join(lines)


def test_no_code_a_notebook_runs_changes_the_whole_interpreter():
    """What the kernel wipe does not undo must not be done: the package and the notebooks change no
    process-wide setting except matplotlib's rcParams (which the wipe restores)."""
    sources = {
        str(p.relative_to(PACKAGE_DIR.parent)): p.read_text(encoding="utf-8") for p in sorted(PACKAGE_DIR.rglob("*.py"))
    }
    sources |= {
        str(p.relative_to(NOTEBOOKS_DIR.parent)): notebook_code(p) for p in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    }
    offending = {
        name: calls
        for name, source in sources.items()
        if (calls := [c for c in process_wide_calls(source) if c not in ALLOWED.get(name, set())])
    }
    assert offending == {}


def test_the_check_finds_process_wide_calls():
    source = (
        "import warnings, pandas as pd, os\n"
        "pd.set_option('display.width', 10)\n"
        "os.environ['X'] = '1'\n"
        "warnings.simplefilter('ignore')\n"
        "with warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n"
    )
    assert process_wide_calls(source) == [
        "line 2: pd.set_option('display.width', 10)",
        "line 3: os.environ['X'] = '1'",
        "line 4: warnings.simplefilter('ignore')",
    ]
