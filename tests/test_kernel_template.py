"""Kernels forked from a template process: each must start as a new kernel would (same settings, directory,
environment and paths), be its own session, end with the pool, and a template that cannot fork must cost nothing
but the time a new process takes."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import alive, parent_of

from heartbeats_analysis.build import kernel_template
from heartbeats_analysis.build.kernel_pool import KernelPool
from heartbeats_analysis.build.kernel_template import KernelTemplate, TemplateChild, TemplateError, can_fork
from heartbeats_analysis.paths import PROJECT_ROOT

KERNEL = "python3"  # the test interpreter's own kernel: `python -m ipykernel_launcher`, which the template can become

# What a notebook's code could notice of how its kernel started, once it has imported what the cleaning notebook does
# (pandera sets environment variables on import). Warning filters are compared as a set: the two kinds of kernel add
# the same filters, ipykernel's shell at a different point among the imports' (none overlap). A forked kernel also
# knows where to ask its template for workers.
STATE = r"""
import gc, json, os, sys, warnings
import matplotlib, numpy as np, pandas as pd
import heartbeats_analysis.ingest.clean
from pandas._config.config import _registered_options, get_default_val
print(json.dumps({
    "pandas_options": {k: repr(pd.get_option(k)) for k in sorted(_registered_options)},
    "pandas_defaults": {k: repr(get_default_val(k)) for k in sorted(_registered_options)},
    "rc": {k: repr(v) for k, v in matplotlib.rcParams.items()},
    "backend": matplotlib.get_backend(),
    "warning_filters": sorted(repr(f) for f in warnings.filters),
    "numpy_print": repr(np.get_printoptions()),
    "cwd": os.getcwd(),
    "sys_path": sys.path,
    "environment": sorted(
        k for k in os.environ if k not in {"HEARTBEATS_FORK_KERNELS", "JPY_PARENT_PID", "HEARTBEATS_KERNEL_TEMPLATE"}
    ),
    "parent_is_watched": os.getppid() == int(os.environ.get("JPY_PARENT_PID", "0")),
    "main": sys.modules["__main__"].__name__,
}))
"""


def kernel_state(kernel) -> dict:
    return printed_json(kernel, STATE)


def printed_json(kernel, code: str) -> dict:
    """Run code in the kernel and read the JSON it prints (its last line)."""
    return json.loads(printed_text(kernel, code).strip().splitlines()[-1])


def printed_text(kernel, code: str) -> str:
    """Run code in the kernel; everything it (and any process writing where it writes) printed on stdout."""
    client = kernel.manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        printed: list[str] = []

        def keep(msg):
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                printed.append(msg["content"]["text"])

        reply = client.execute_interactive(code, output_hook=keep, timeout=120)
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(printed)


def states(monkeypatch, fork: bool) -> dict[str, dict]:
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1" if fork else "0")
    with KernelPool(1, kernel=KERNEL) as pool:
        with pool.kernel_of_its_own() as own:
            assert (pool._template is not None) == fork
            own_state = kernel_state(own)
        with pool.kernel() as pooled:
            pooled_state = kernel_state(pooled)
    return {"own": own_state, "pooled": pooled_state}


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_a_forked_kernel_starts_as_a_new_kernel_would(monkeypatch):
    new, forked = states(monkeypatch, fork=False), states(monkeypatch, fork=True)
    for kind in ("own", "pooled"):
        assert forked[kind] == new[kind], kind
    assert new["pooled"]["cwd"] == str(PROJECT_ROOT)
    assert new["pooled"]["parent_is_watched"] and new["own"]["backend"].endswith("backend_inline")
    # The import-time settings a template could have got wrong, had it imported outside a kernel.
    assert forked["pooled"]["pandas_defaults"]["display.max_columns"] == "20"
    assert forked["pooled"]["pandas_options"]["display.encoding"] == "'UTF-8'"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_forked_kernels_lead_their_own_sessions_and_end_with_the_pool(monkeypatch):
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    with KernelPool(2, kernel=KERNEL) as pool, pool.kernel() as first, pool.kernel() as second:
        pids = [k.manager.provisioner.process.pid for k in (first, second)]
        template = pool._template._process
        assert all(isinstance(k.manager.provisioner.process, TemplateChild) for k in (first, second))
        assert [os.getpgid(pid) for pid in pids] == pids
        assert [parent_of(pid) for pid in pids] == [template.pid, template.pid]
    assert template.poll() is not None
    assert not any(alive(pid) for pid in pids)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_a_killed_kernel_reports_the_exit_code_its_template_saw(monkeypatch):
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    with KernelPool(1, kernel=KERNEL) as pool, pool.kernel() as kernel:
        process = kernel.manager.provisioner.process
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        assert not kernel.manager.is_alive()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_a_template_that_has_stopped_costs_only_a_new_process(monkeypatch):
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    with KernelPool(1, kernel=KERNEL) as pool:
        pool.start()
        pool._template._process.kill()
        pool._template._process.wait()
        with pool.kernel() as kernel:
            assert kernel.manager.is_alive()
            assert not isinstance(kernel.manager.provisioner.process, TemplateChild)
            assert parent_of(kernel.manager.provisioner.process.pid) == os.getpid()


WORKERS = r"""
import json, os
from heartbeats_analysis.ingest import clean
workers = clean._worker_pool(2)
pids = sorted({workers.submit(os.getpid).result() for _ in range(6)})
try:
    workers.submit(int, "not a number").result()
    raised = None
except ValueError as error:
    raised = str(error)
still_working = workers.submit(os.getcwd).result()
workers.shutdown()
print(json.dumps({"kind": type(workers).__name__, "pids": pids, "kernel": os.getpid(), "raised": raised,
                  "cwd": still_working, "kernel_cwd": os.getcwd()}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_the_cleaning_kernels_workers_are_forked_from_the_template_too(monkeypatch):
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    with KernelPool(1, kernel=KERNEL) as pool, pool.kernel_of_its_own() as kernel:
        seen = printed_json(kernel, WORKERS)
        template = pool._template._process.pid
        assert seen["kind"] == "ForkedWorkers"
        assert len(seen["pids"]) == 2 and seen["kernel"] not in seen["pids"]
        assert all(not alive(pid) or parent_of(pid) == template for pid in seen["pids"])
        # A task's exception comes back as it was raised, and the worker goes on with the next task.
        assert seen["raised"] == "invalid literal for int() with base 10: 'not a number'"
        assert seen["cwd"] == seen["kernel_cwd"]
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in seen["pids"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in seen["pids"])  # shutdown ends them


FAILING_WORKER = r"""
import json, os, time
from heartbeats_analysis.ingest import clean
workers = clean._worker_pool(1)
workers.submit(os.write, 1, b"printed by the worker\n").result()
time.sleep(1.0)  # ipykernel forwards what is written to its file descriptors from a thread of its own
errors = []
for task, args in ((os._exit, (3,)), (os.getpid, ())):
    started = time.monotonic()
    try:
        workers.submit(task, *args).result()
    except Exception as error:
        errors.append((type(error).__name__, round(time.monotonic() - started) < 5))
print(json.dumps({"errors": errors}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_a_worker_prints_into_the_notebook_and_one_that_dies_fails_its_tasks_at_once(monkeypatch):
    """What a worker prints reaches the notebook, as a spawned worker's does; a worker that dies fails the task it
    ran and every later one at once (the cleaning then does the work itself), never leaving the cleaning waiting."""
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # under pytest, ipykernel leaves its file descriptors to pytest
    with KernelPool(1, kernel=KERNEL) as pool, pool.kernel_of_its_own() as kernel:
        text = printed_text(kernel, FAILING_WORKER)
    assert "printed by the worker" in text
    assert json.loads(text.strip().splitlines()[-1]) == {"errors": [["TemplateError", True], ["TemplateError", True]]}


BUSY_WORKER = r"""
import json, threading, time
from heartbeats_analysis.ingest import clean
workers = clean._worker_pool(1)
threading.Thread(target=workers.submit, args=(time.sleep, 120), daemon=True).start()
print(json.dumps({"pids": workers.pids}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_a_worker_ends_with_its_kernel_even_in_the_middle_of_a_task(monkeypatch):
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    with KernelPool(1, kernel=KERNEL) as pool:
        with pool.kernel_of_its_own() as kernel:
            (worker,) = printed_json(kernel, BUSY_WORKER)["pids"]
            assert alive(worker)
        deadline = time.monotonic() + 15  # the kernel was stopped when its block ended
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker)
        folder = pool._template._folder
        assert Path(folder, "workers").exists()
    assert not Path(folder).exists()  # the build removes the template's folder when it closes it


@pytest.mark.slow
def test_a_kernel_started_as_a_new_process_spawns_its_workers(monkeypatch):
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "0")
    with KernelPool(1, kernel=KERNEL) as pool, pool.kernel_of_its_own() as kernel:
        seen = printed_json(kernel, WORKERS)
    assert seen["kind"] == "ProcessPoolExecutor"
    assert seen["raised"] == "invalid literal for int() with base 10: 'not a number'"


def test_without_the_switch_or_off_linux_no_template_is_started(monkeypatch):
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "0")
    assert not kernel_template.enabled()
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not kernel_template.enabled()


def test_only_an_ipykernel_launcher_spec_can_be_forked():
    assert can_fork(["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert not can_fork(["python", "-c", "import sys; sys.exit(3)"])
    assert not can_fork(["/usr/bin/R", "--slave", "-e", "IRkernel::main()"])
    assert not can_fork(["python"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_an_early_stage_is_forked_without_waiting_for_a_later_one(tmp_path, monkeypatch):
    """The cleaning kernel asks for the first stage and must not wait for the imports only pooled kernels need (the
    template answers between one import and the next)."""
    slow = [f"slow_to_import_{i}" for i in range(40)]
    for name in slow:
        (tmp_path / f"{name}.py").write_text("import time\ntime.sleep(0.1)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the template inherits it
    template = KernelTemplate(sys.executable, tmp_path, [("clean", ("json",)), ("full", tuple(slow))])
    environment = dict(os.environ)
    # Not a kernel (this template never imports ipykernel): each fork is refused, when its stage allows.
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(tmp_path / "never.json")]
    try:
        with ThreadPoolExecutor(2) as pool:
            later = pool.submit(_refusal, template, "full", argv, environment)
            earlier = pool.submit(_refusal, template, "clean", argv, environment)
            assert "could not import ipykernel" in earlier.result(timeout=60)
            assert not later.done()  # the later stage's 40 imports take 4 s
            assert "could not import ipykernel" in later.result(timeout=60)
        with pytest.raises(TemplateError, match="not a request the template knows"):
            template.fork("no-such-stage", argv, environment, str(tmp_path))
    finally:
        template.close()
    assert template._process.returncode == 0
    with pytest.raises(TemplateError, match="closed"):
        template.fork("clean", argv, environment, str(tmp_path))


def _refusal(template: KernelTemplate, stage: str, argv, environment) -> str:
    try:
        template.fork(stage, argv, environment, str(Path.cwd()))
    except TemplateError as error:
        return str(error)
    raise AssertionError(f"the template forked a {stage!r} kernel without ipykernel")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernels are forked on Linux only")
def test_where_the_workers_socket_cannot_be_made_kernels_are_still_forked_and_workers_spawned(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    too_long = tmp_path / ("x" * 120)  # a Unix socket's path holds about 100 bytes
    too_long.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(too_long))
    with KernelPool(1, kernel=KERNEL) as pool, pool.kernel_of_its_own() as kernel:
        assert isinstance(kernel.manager.provisioner.process, TemplateChild)
        seen = printed_json(kernel, WORKERS)
    assert seen["kind"] == "ProcessPoolExecutor"
    assert seen["raised"] == "invalid literal for int() with base 10: 'not a number'"


class _RecordedTemplate:
    """KernelTemplate's stand-in: records which interpreter each template was started with and what was closed."""

    made: list[_RecordedTemplate] = []

    def __init__(self, python, cwd):
        self.python, self.started, self.closed = python, False, False
        _RecordedTemplate.made.append(self)

    def start(self):
        self.started = True

    def close(self, wait_s=2.0):
        self.closed, self.waited = True, wait_s


@pytest.mark.parametrize(
    ("argv", "kept", "started"),
    [
        ([sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], sys.executable, [sys.executable]),
        (["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], sys.executable, [sys.executable]),
        (["/opt/other/python", "-m", "ipykernel_launcher"], "/opt/other/python", [sys.executable, "/opt/other/python"]),
        (["/usr/bin/R", "--slave", "-e", "IRkernel::main()"], None, [sys.executable]),
        (None, None, [sys.executable]),  # no such kernel
    ],
    ids=["this interpreter", "bare python", "another interpreter", "not forkable", "no such kernel"],
)
def test_the_template_starts_before_the_kernel_spec_is_read(monkeypatch, argv, kept, started):
    """Started at once with the build's interpreter; kept when the spec runs that interpreter, otherwise closed (and
    one started with the spec's interpreter, if the spec can be forked)."""
    from jupyter_client.kernelspec import NoSuchKernel

    from heartbeats_analysis.build import kernel_pool

    def spec(self, name):
        if argv is None:
            raise NoSuchKernel(name)
        return type("Spec", (), {"argv": argv})()

    _record_templates(monkeypatch, spec)
    template = kernel_pool._start_template("heartbeats", PROJECT_ROOT)
    assert [t.python for t in _RecordedTemplate.made] == started
    assert all(t.started for t in _RecordedTemplate.made)
    assert (template.python if template else None) == kept
    assert [t.closed for t in _RecordedTemplate.made] == [t is not template for t in _RecordedTemplate.made]
    assert all(t.waited == 0 for t in _RecordedTemplate.made if t.closed)  # killed, not waited for


def _record_templates(monkeypatch, spec) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    _RecordedTemplate.made = []
    monkeypatch.setenv(kernel_template.ENV_SWITCH, "1")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(kernel_template, "KernelTemplate", _RecordedTemplate)
    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", spec)


def test_another_environment_whose_interpreter_is_the_same_file_gets_a_template_of_its_own(monkeypatch, tmp_path):
    """A virtual environment's python is a link to the base interpreter: two environments' are the same file, and
    kernels of the other environment must not be forked from this one's template."""
    from heartbeats_analysis.build import kernel_pool

    other = tmp_path / "other-venv" / "bin" / "python"
    other.parent.mkdir(parents=True)
    other.symlink_to(os.path.realpath(sys.executable))
    _record_templates(
        monkeypatch, lambda self, name: type("Spec", (), {"argv": [str(other), "-m", "ipykernel_launcher"]})()
    )
    template = kernel_pool._start_template("heartbeats", PROJECT_ROOT)
    assert template.python == str(other)
    assert [t.python for t in _RecordedTemplate.made] == [sys.executable, str(other)]
    assert _RecordedTemplate.made[0].closed


def test_a_spec_that_cannot_be_read_leaves_no_template_running(monkeypatch):
    from heartbeats_analysis.build import kernel_pool

    def unreadable(self, name):
        raise ValueError("kernel.json is not JSON")

    _record_templates(monkeypatch, unreadable)
    with pytest.raises(ValueError, match="not JSON"):
        kernel_pool._start_template("heartbeats", PROJECT_ROOT)
    assert [t.closed for t in _RecordedTemplate.made] == [True]
