"""Warm Jupyter kernels lent to the notebooks of a build, or of a whole batch of builds.

Starting a kernel and importing pandas, SciPy, statsmodels and matplotlib take 4 to 5 s, more than
most notebooks compute (benchmarks/RESULTS.md). The pool starts each kernel once and imports those
modules in the background (kernel_session.warm_up). After a notebook succeeds, its kernel is wiped
(kernel_session.reset: namespace, figures, matplotlib and warning settings, execution counter) and
lent again.
A kernel that saw any failure (a raising cell, a timeout, a dead kernel, Ctrl-C) is shut down and
replaced, never reused; a kernel is also replaced after MAX_USES notebooks, which bounds its memory.

Kernels start only when the first notebook asks for one, so a rebuild that runs nothing starts none
(and imports no Jupyter machinery). Where it can (kernel_template), the pool forks its kernels from a template
process that imports the notebooks' libraries once, instead of each kernel importing them.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from heartbeats_analysis.build import kernel_template
from heartbeats_analysis.paths import KERNEL_NAME, PROJECT_ROOT

if TYPE_CHECKING:
    from jupyter_client.manager import KernelManager

WARM_UP_CODE = "import heartbeats_analysis.build.kernel_session as _session\n_session.warm_up()\ndel _session"
RESET_CODE = "import heartbeats_analysis.build.kernel_session as _session\n_session.reset()"
MAX_USES = 40
KILL_POLL_S = 0.005  # how often a killed kernel is checked for its end (a killed process ends within milliseconds)
WAIT_POLL_S = 0.5  # how often a notebook waiting for a kernel checks that the pool is still open
CONTROL_TIMEOUT_S = 300  # a kernel start plus every import, on a slow, loaded machine
# nbclient's AsyncKernelClient (the pool's managers are synchronous, the notebook clients are not), with a
# readiness check that does not wait a fixed 0.2 s per notebook (kernel_client.py).
ASYNC_CLIENT_CLASS = "heartbeats_analysis.build.kernel_client.PooledKernelClient"


def kernel_name() -> str:
    """The project kernel; HEARTBEATS_KERNEL overrides it (tests use the running interpreter's)."""
    return os.environ.get("HEARTBEATS_KERNEL", KERNEL_NAME)


class KernelControlError(RuntimeError):
    """The pool could not warm up or wipe a kernel."""


@dataclass(eq=False)
class PooledKernel:
    manager: KernelManager
    uses: int = 0
    retired: bool = False

    def run_quietly(self, code: str, timeout: float = CONTROL_TIMEOUT_S) -> None:
        """Run code without output or history; raise KernelControlError if it fails."""
        client = self.manager.blocking_client()
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        try:
            msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    reply = client.get_shell_msg(timeout=WAIT_POLL_S)
                except queue.Empty:
                    # Checked often: a kernel shut down by close() never answers, and waiting out
                    # the timeout would hold up the end of an interrupted build.
                    if not self.manager.is_alive():
                        raise KernelControlError("the kernel stopped before it replied") from None
                    if time.monotonic() > deadline:
                        raise KernelControlError(f"no reply from the kernel within {timeout:.0f} s") from None
                    continue
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        finally:
            client.stop_channels()
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelControlError(f"{content.get('ename')}: {content.get('evalue')}")


class KernelPool:
    """Up to `size` warm kernels; use as a context manager so every kernel is shut down."""

    def __init__(self, size: int, kernel: str | None = None, cwd: Path = PROJECT_ROOT):
        self.size = max(1, size)
        self.kernel_name = kernel or kernel_name()
        self.cwd = Path(cwd)
        self._ready: queue.Queue[Future[PooledKernel]] = queue.Queue()
        self._workers = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="kernel-pool")
        self._live: set[PooledKernel] = set()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._template: kernel_template.KernelTemplate | None = None
        self.kernels_started = 0
        self.warm_up_errors: list[str] = []  # each distinct failure, reported once on stderr

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> None:
        """Start warming every kernel now (otherwise the first borrow does)."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
        # The template first: it imports for a second, and needs nothing of what follows.
        self._template = _start_template(self.kernel_name, self.cwd)
        # Imported here, in the calling thread, before the workers start: a thread that imports jupyter_client
        # while another does (papermill's import in the build, say) can find the package half-initialised
        # ("cannot import name ... from partially initialized module").
        _one_shot_manager_class()
        for _ in range(self.size):
            self._ready.put(self._workers.submit(self._start_kernel))

    @contextmanager
    def kernel(self) -> Iterator[PooledKernel]:
        """Borrow a warm kernel for one notebook."""
        self.start()
        for _ in range(self.size + 1):
            try:
                kernel = self._next_ready().result()
            except BaseException:
                self._replace()
                raise
            if kernel.manager.is_alive():
                break
            self._retire(kernel)  # died while it waited (out of memory, killed): never lend it
            self._replace()
        else:
            raise KernelControlError(f"every kernel {self.kernel_name!r} the pool started had stopped")
        try:
            yield kernel
        except BaseException:
            self._retire(kernel)
            self._replace()
            raise
        kernel.uses += 1
        if kernel.uses >= MAX_USES:
            self._retire(kernel)
            self._replace()
            return
        try:
            self._ready.put(self._workers.submit(self._wipe, kernel))
        except RuntimeError:  # the pool closed while the notebook ran: the notebook's result stands
            self._retire(kernel)

    @contextmanager
    def kernel_of_its_own(self) -> Iterator[PooledKernel]:
        """A kernel for one notebook that needs only the cleaning code: forked from the template as soon as it has
        imported that (the pool's kernels wait for everything), and shut down when the notebook ends."""
        self.start()
        kernel = self._launch("clean")
        try:
            yield kernel
        finally:
            self._retire(kernel)

    def _next_ready(self) -> Future[PooledKernel]:
        while True:
            if self._closed:
                raise KernelControlError("the kernel pool was closed (the build was interrupted or failed)")
            try:
                return self._ready.get(timeout=WAIT_POLL_S)
            except queue.Empty:
                continue

    def close(self) -> None:
        with self._lock:
            self._closed = True
            live = list(self._live)
        self._workers.shutdown(wait=False, cancel_futures=True)
        for kernel in live:
            self._retire(kernel)
        if self._template is not None:
            self._template.close()

    def _launch(self, stage: str) -> PooledKernel:
        """Start a kernel (a fork of the template once it has imported `stage`, when there is a template)."""
        manager = _one_shot_manager_class()(kernel_name=self.kernel_name, client_class=ASYNC_CLIENT_CLASS)
        if self._template is not None:
            manager.kernel_id = str(uuid.uuid4())
            manager.provisioner = kernel_template.forked_provisioner_class()(
                kernel_id=manager.kernel_id,
                kernel_spec=manager.kernel_spec,
                parent=manager,
                template=self._template,
                stage=stage,
            )
        # In memory, as nbclient does for the kernels it starts: otherwise every cell of every notebook
        # goes into the user's IPython history file, which the pool's kernels would share.
        manager.start_kernel(cwd=str(self.cwd), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        kernel = PooledKernel(manager)
        with self._lock:
            self._live.add(kernel)
            self.kernels_started += 1
            closed = self._closed
        if closed:
            self._retire(kernel)
            raise KernelControlError("the kernel pool was closed while a kernel started")
        return kernel

    def _start_kernel(self) -> PooledKernel:
        kernel = self._launch("full")
        manager = kernel.manager
        try:
            kernel.run_quietly(WARM_UP_CODE)
        except KernelControlError as exc:
            if not self._closed:  # a kernel stopped by close() (Ctrl-C, a finished build) is no warm-up failure
                self._report_warm_up_failure(str(exc))
        if not manager.is_alive():
            exit_code = _exit_code(manager)  # read before the shutdown forgets the process
            self._retire(kernel)
            raise KernelControlError(
                f"the kernel {self.kernel_name!r} stopped while it started (exit code {exit_code})"
            )
        return kernel

    def _report_warm_up_failure(self, error: str) -> None:
        """Say so on stderr (once per distinct error): the kernel is still lent, and a notebook that
        imports the module fails with the same error in its own cell, but the cause is named here first."""
        with self._lock:
            if error in self.warm_up_errors:
                return
            self.warm_up_errors.append(error)
        print(
            f"Warning: the kernel {self.kernel_name!r} did not warm up: {error}. Notebooks that import it will "
            "fail and show the error in their own cell; run `make setup` if the environment is incomplete.",
            file=sys.stderr,
            flush=True,
        )

    def _wipe(self, kernel: PooledKernel) -> PooledKernel:
        try:
            kernel.run_quietly(RESET_CODE)
        except BaseException:
            self._retire(kernel)
            if self._closed:
                raise
            return self._start_kernel()
        return kernel

    def _replace(self) -> None:
        if not self._closed:
            with contextlib.suppress(RuntimeError):  # the pool closed meanwhile
                self._ready.put(self._workers.submit(self._start_kernel))

    def _retire(self, kernel: PooledKernel) -> None:
        """Shut the kernel down, once: a second, concurrent shutdown of one kernel can abort the process
        inside zmq."""
        with self._lock:
            if kernel.retired:
                return
            kernel.retired = True
        try:
            kernel.manager.shutdown_kernel(now=True)
        except Exception:  # already dead: nothing left to stop
            pass
        finally:
            with self._lock:
                self._live.discard(kernel)


def _start_template(kernel: str, cwd: Path) -> kernel_template.KernelTemplate | None:
    """The template the pool's kernels are forked from, started now; None where kernels cannot be forked (see
    kernel_template) and they start as new processes.

    It is started with this interpreter before the kernel spec is read (jupyter_client's import and the lookup take
    about 0.09 s, on the cold build's critical path): the project's kernel runs the interpreter that runs the build.
    A spec that names another interpreter, or cannot be forked, closes that template again."""
    if not kernel_template.enabled():
        return None
    started = _started_template(sys.executable, cwd)
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            argv = KernelSpecManager().get_kernel_spec(kernel).argv
        except NoSuchKernel:
            argv = []  # the first kernel's start names the missing kernel
        # As jupyter_client runs such a spec: a bare "python" means the interpreter that starts the kernel.
        bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
        python = sys.executable if argv and argv[0] in bare else (argv or [""])[0]
    except BaseException:  # an unreadable spec, a Ctrl-C: the template is not left running
        _discard(started)
        raise
    if not kernel_template.can_fork(argv):
        _discard(started)
        return None
    # The same path, not the same file: two virtual environments' interpreters are links to one file.
    if started is not None and os.path.abspath(python) == os.path.abspath(sys.executable):
        return started
    _discard(started)
    return _started_template(python, cwd)


def _discard(template: kernel_template.KernelTemplate | None) -> None:
    """Close a template that will fork nothing, at once: it may be in the middle of an import."""
    if template is not None:
        template.close(wait_s=0)


def _started_template(python: str, cwd: Path) -> kernel_template.KernelTemplate | None:
    template = kernel_template.KernelTemplate(python, cwd)
    try:
        template.start()
    except OSError:
        return None
    return template


def _exit_code(manager: KernelManager) -> int | str:
    process = getattr(manager.provisioner, "process", None)
    code = process.poll() if process is not None else None
    return code if code is not None else "unknown"


@lru_cache(maxsize=1)
def _one_shot_manager_class() -> type[KernelManager]:
    from jupyter_client.manager import (
        KernelManager,  # imported here: a pool that starts nothing costs nothing
    )

    class OneShotKernelManager(KernelManager):
        """Starts its kernel once. nbclient starts a kernel on a manager that has none; a pooled kernel
        shut down by close() just before its notebook began must end that notebook, not be restarted."""

        def start_kernel(self, **kwargs):
            if getattr(self, "_heartbeats_started", False):
                raise KernelControlError("the kernel pool was closed (the build was interrupted or failed)")
            self._heartbeats_started = True
            return super().start_kernel(**kwargs)

        async def _async_wait(self, pollinterval: float = KILL_POLL_S) -> None:
            # After a kill, jupyter_client checks every 0.1 s whether the kernel has ended, and the first check
            # comes too soon: each kernel a build stops cost 0.11 s, most of the build's teardown.
            await super()._async_wait(pollinterval=pollinterval)

    return OneShotKernelManager
