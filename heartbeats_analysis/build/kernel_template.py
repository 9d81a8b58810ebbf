"""Kernels forked from a template process that has already imported what the notebooks import.

Every kernel a build starts used to import pandas, SciPy, statsmodels, matplotlib and the package on its own: about
2.5-3 core-seconds each, and a cold build starts three kernels on two cores while the cleaning runs. The template
imports them once; each kernel is a fork of it (`os.fork`), which starts in milliseconds and shares the imported
code's memory. The template imports in stages and forks a kernel as soon as the stage that kernel asked for is in:
the cleaning kernel needs only the cleaning code (about 0.6 s in), the pool's kernels everything. The cleaning
kernel's worker processes are forks of the template too (`ForkedWorkers`), where spawned interpreters spent about a
second importing pandas, pandera and every source before they cleaned anything.

Only where it is safe: Linux (on macOS a fork of a process that has loaded system frameworks may crash), and a
kernel spec that runs `python -m ipykernel_launcher` with the interpreter the template runs. The template is
single-threaded when it forks (asserted): OpenBLAS's own threads stop at a fork and start again when next needed.
Each kernel is its own session (as jupyter_client starts kernels), runs in the directory and environment the kernel
manager asked for, and exits when the template does (ipykernel's parent poller); the template exits when the build
closes its end of the socket. `HEARTBEATS_FORK_KERNELS=0` turns it off (kernels start as new processes).

Protocol: one JSON object per line over a socket pair. The build sends {"id", "op": "fork", "stage", "argv",
"env", "cwd"} or {"id", "op": "status", "pid"}; the template answers {"id", "pid"} / {"id", "exit_code"} /
{"id", "error"}. A fork of a later stage waits until that stage is imported; other requests are answered at once.
A kernel asks for a worker on the template's Unix socket (ADDRESS_ENV, private to the user): one JSON line
{"env", "cwd"} with one end of a socket pair, over which the worker then takes pickled tasks; the answer is {"pid"}.
"""

from __future__ import annotations

import atexit
import builtins
import io
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path

# What ipykernel_launcher does before it starts the kernel.
LAUNCHER_MODULE = "ipykernel_launcher"
ENV_SWITCH = "HEARTBEATS_FORK_KERNELS"
FORK_TIMEOUT_S = 120  # as long as papermill waits for a new kernel to start
# Set in the kernels a template forks: where they ask it for worker processes (ForkedWorkers).
ADDRESS_ENV = "HEARTBEATS_KERNEL_TEMPLATE"
# The template's stages: a kernel asks for the stage it needs and is forked as soon as that stage is imported.
KERNEL_STAGE = ("ipykernel.kernelapp",)
# "module:function" imports the module and calls the function (here: import every source module).
CLEAN_STAGE = ("heartbeats_analysis.ingest.clean:import_sources", "IPython.display")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class TemplateError(RuntimeError):
    """The template could not fork a kernel (it is not running, or it failed)."""


def enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get(ENV_SWITCH, "1").strip() != "0"


def can_fork(kernel_argv: list[str]) -> bool:
    """True when a kernel of this spec is what a template would become: `PYTHON -m ipykernel_launcher ...` (the
    template runs that PYTHON)."""
    return len(kernel_argv) >= 3 and kernel_argv[1:3] == ["-m", LAUNCHER_MODULE]


class KernelTemplate:
    """The build's side: starts the template process and asks it for kernels. Thread-safe."""

    def __init__(self, python: str, cwd: Path, stages: list[tuple[str, tuple[str, ...]]] | None = None):
        self.python = python
        self.cwd = Path(cwd)
        self.stages = stages  # default_stages() when None
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self._folder: str | None = None  # holds the socket the template's kernels ask for workers on
        self.timed_out = False  # closed because it forked nothing in time: kernels then start as new processes
        self._pending: dict[int, Future] = {}
        self._next_id = 0
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        with self._lock:
            if self._process is not None or self._closed:
                return
            ours, theirs = socket.socketpair()
            self._folder = tempfile.mkdtemp(prefix="heartbeats-template-")
            try:
                stages = [] if self.stages is None else [json.dumps(self.stages)]
                workers = os.path.join(self._folder, "workers")
                self._process = subprocess.Popen(
                    [self.python, "-m", __name__, str(theirs.fileno()), workers, *stages],
                    pass_fds=[theirs.fileno()],
                    stdin=subprocess.DEVNULL,
                    cwd=str(self.cwd),
                    start_new_session=True,  # Ctrl-C reaches the build, which closes the template
                )
            except OSError:
                ours.close()
                shutil.rmtree(self._folder, ignore_errors=True)
                raise
            finally:
                theirs.close()
            self._sock = ours
        threading.Thread(target=self._read_replies, name="kernel-template", daemon=True).start()

    @property
    def closed(self) -> bool:
        return self._closed

    def fork(self, stage: str, argv: list[str], env: dict[str, str], cwd: str) -> int:
        """A new kernel: the pid of a fork of the template that runs `argv` (an ipykernel_launcher command). A template
        that has not forked it within FORK_TIMEOUT_S (stuck in an import) is closed, and its kernels with it: the
        caller starts the kernel as a new process, and a late fork would compete for the same connection file."""
        try:
            reply = self._ask({"op": "fork", "stage": stage, "argv": argv, "env": env, "cwd": cwd}).result(
                timeout=FORK_TIMEOUT_S
            )
        except TimeoutError:
            self.timed_out = True
            self.close()
            raise TemplateError(f"the kernel template forked no kernel within {FORK_TIMEOUT_S} s") from None
        return int(reply["pid"])

    def exit_code(self, pid: int) -> int | None:
        """The exit code of a kernel the template forked, once it has ended (None if unknown)."""
        try:
            return self._ask({"op": "status", "pid": pid}).result(timeout=5).get("exit_code")
        except (TemplateError, TimeoutError):
            return None

    def close(self, wait_s: float = 2.0) -> None:
        """Close the socket (the template exits at its next read, between two imports) and wait up to ``wait_s`` for
        it to exit, then kill it."""
        with self._lock:
            self._closed = True
            sock, process = self._sock, self._process
            self._sock = None
        if sock is not None:
            # shutdown, not just close: the reply reader's file object keeps the socket open until it is closed.
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()  # the template reads the end of its input and exits
        if process is not None:
            try:
                process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                process.kill()  # in the middle of an import: it reads its socket only between imports
                process.wait()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def _ask(self, request: dict) -> Future:
        self.start()
        future: Future = Future()
        with self._lock:
            if self._sock is None:
                raise TemplateError("the kernel template is closed")
            self._next_id += 1
            request = {"id": self._next_id, **request}
            self._pending[self._next_id] = future
            try:
                self._sock.sendall(json.dumps(request).encode() + b"\n")
            except OSError as exc:
                self._pending.pop(self._next_id, None)
                raise TemplateError(f"the kernel template is not running ({exc})") from None
        return future

    def _read_replies(self) -> None:
        sock = self._sock
        reader = sock.makefile("rb") if sock is not None else None
        try:
            for line in reader or ():
                reply = json.loads(line)
                with self._lock:
                    future = self._pending.pop(reply["id"], None)
                if future is None:
                    continue
                if "error" in reply:
                    future.set_exception(TemplateError(reply["error"]))
                else:
                    future.set_result(reply)
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                pending, self._pending = list(self._pending.values()), {}
            for future in pending:
                future.set_exception(TemplateError("the kernel template stopped"))


class TemplateChild:
    """A kernel the template forked, as jupyter_client's provisioner sees a subprocess.Popen: it is the template's
    child, not the build's, so it is watched by its pid and its exit code is asked of the template."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, template: KernelTemplate):
        self.pid = pid
        self.returncode: int | None = None
        self._template = template

    def poll(self) -> int | None:
        if self.returncode is None and not _exists(self.pid):
            code = self._template.exit_code(self.pid)
            self.returncode = code if code is not None else -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@lru_cache(maxsize=1)
def forked_provisioner_class():
    """jupyter_client's local provisioner, launching the kernel as a fork of the template (`template`, `stage`); if
    the template cannot fork, it starts the kernel as a new process, as the local provisioner does. Built on first
    use: the template process itself never imports jupyter_client."""
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner
    from traitlets import Any, Unicode

    class ForkedKernelProvisioner(LocalProvisioner):
        template = Any()
        stage = Unicode("full")

        async def launch_kernel(self, cmd: list[str], **kwargs):
            cwd = str(kwargs.get("cwd") or os.getcwd())
            environment = dict(kwargs.get("env") or os.environ)
            try:
                # The same path, not the same file: two virtual environments' interpreters are links to one file.
                if not can_fork(cmd) or os.path.abspath(cmd[0]) != os.path.abspath(self.template.python):
                    raise TemplateError(f"the kernel command {cmd[:3]} is not the template's")
                pid = self.template.fork(self.stage, list(cmd), environment, cwd)
            except TemplateError:
                if self.template.closed and not self.template.timed_out:
                    raise  # the pool is closing (Ctrl-C, a failure): no kernel is wanted any more
                return await super().launch_kernel(cmd, **kwargs)
            self.process = TemplateChild(pid, self.template)
            self.pid = self.pgid = pid  # the kernel leads a session of its own, as a launched kernel does
            self.cwd = cwd
            return self.connection_info

        async def send_signal(self, signum: int) -> None:
            # The template reaps a kernel as soon as it ends, so its pid (and process group) may be reused: a kernel
            # that has ended is sent nothing.
            if isinstance(self.process, TemplateChild) and self.process.poll() is not None:
                return
            await super().send_signal(signum)

    return ForkedKernelProvisioner


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The template process (python -m heartbeats_analysis.build.kernel_template FD).
_exit_codes: dict[int, int] = {}
_initial_environ: dict[str, str] = {}
_template_sockets: list[socket.socket] = []  # the build's and the workers' sockets: a forked child closes both


def _reap(_signum, _frame) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _exit_codes[pid] = os.waitstatus_to_exitcode(status)


def default_stages() -> list[tuple[str, tuple[str, ...]]]:
    """ipykernel and the cleaning code, then everything a pooled kernel's warm-up imports."""
    from heartbeats_analysis.build.kernel_session import WARM_MODULES

    return [("clean", KERNEL_STAGE + CLEAN_STAGE), ("full", WARM_MODULES)]


def serve(sock: socket.socket, workers_address: str, stages: list[tuple[str, tuple[str, ...]]]) -> None:
    """Import stage by stage, answering requests between imports; then answer requests until the build closes the
    socket. Runs in the template process. Kernels it forked ask for worker processes on `workers_address` (in a
    folder the build made and removes); if that socket cannot be made, their workers are spawned instead."""
    signal.signal(signal.SIGCHLD, _reap)
    _initial_environ.update(os.environ)
    # As ipykernel does before any user code, so that matplotlib is imported with the backend a new kernel has.
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = INLINE_BACKEND
    listener: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(workers_address)  # fails for a path too long for a Unix socket (about 100 bytes)
        listener.listen()
    except OSError:
        listener.close()
        listener = None
    _template_sockets[:] = [sock] + ([listener] if listener else [])
    try:
        _Template(sock, listener, stages).run()
    finally:
        if listener is not None:
            listener.close()


class _Template:
    """The template's loop: imports, and the requests that arrive between them."""

    def __init__(self, sock: socket.socket, listener: socket.socket | None, stages: list[tuple[str, tuple[str, ...]]]):
        self.sock, self.listener, self.stages = sock, listener, stages
        self.order = {name: index for index, (name, _) in enumerate(stages)}
        self.imported = -1  # the last stage imported
        self.waiting: list[dict] = []
        self.buffer = b""

    def run(self) -> None:
        import gc
        import importlib

        for index, (_, modules) in enumerate(self.stages):
            for name in modules:
                # A module that fails here is imported again by the kernel, which shows the error in its own cell.
                with _as_in_a_kernel(), suppress(Exception):
                    module, _, function = name.partition(":")
                    imported_module = importlib.import_module(module)
                    if function:
                        getattr(imported_module, function)()
                if not self.read(0):
                    return
            self.imported = index
            # The first stage's kernel (the cleaning) is on the build's critical path: no collection before its fork
            # (0.05 s); what that stage's imports left for the collector stays, frozen with the rest.
            if index:
                gc.collect()
            gc.freeze()  # the children share these pages, and their collector does not walk them
            ready = [r for r in self.waiting if self.order[r["stage"]] <= self.imported]
            self.waiting[:] = [r for r in self.waiting if self.order[r["stage"]] > self.imported]
            for request in ready:
                _fork_kernel(self.sock, request, self.listener)
        while self.read(None):
            pass

    def read(self, timeout: float | None) -> bool:
        """Handle the requests that have arrived (waiting up to `timeout`); False once the build has gone."""
        ready, _, _ = select.select([self.sock, *_template_sockets[1:]], [], [], timeout)
        if self.listener is not None and self.listener in ready:
            _serve_worker_request(self.listener)
        if self.sock not in ready:
            return True
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            return False
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.handle(json.loads(line))
        return True

    def handle(self, request: dict) -> None:
        if request.get("op") == "status":
            _reply(self.sock, {"id": request["id"], "exit_code": _exit_codes.get(request["pid"])})
        elif request.get("op") == "fork" and request.get("stage") in self.order:
            if self.order[request["stage"]] <= self.imported:
                _fork_kernel(self.sock, request, self.listener)
            else:
                self.waiting.append(request)
        else:
            _reply(self.sock, {"id": request.get("id"), "error": f"not a request the template knows: {request!r}"})


class _KernelShellStandIn:
    """What `get_ipython()` returns to a library imported in a kernel, as far as import-time checks look: a shell
    with a kernel (pandas, for one, picks its display.max_columns default so)."""

    kernel = None


@contextmanager
def _as_in_a_kernel():
    """Import as a kernel's warm-up does: inside a kernel, IPython puts `get_ipython` among the builtins, and the
    standard streams are ipykernel's, which say they are UTF-8 (pandas takes display.encoding from them)."""
    streams = sys.stdout, sys.stderr
    builtins.get_ipython = _KernelShellStandIn
    sys.stdout, sys.stderr = (io.TextIOWrapper(io.BytesIO(), encoding="UTF-8") for _ in range(2))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams
        del builtins.get_ipython


def _reply(sock: socket.socket, reply: dict, exit_on_error: bool = True) -> None:
    try:
        sock.sendall(json.dumps(reply).encode() + b"\n")
    except OSError:  # the build has gone: the template ends (and its kernels with it)
        if exit_on_error:
            os._exit(0)


def _fork_kernel(sock: socket.socket, request: dict, listener: socket.socket | None) -> None:
    if threading.active_count() != 1:
        _reply(sock, {"id": request["id"], "error": "the template has threads: a fork would be unsafe"})
        return
    if "ipykernel.kernelapp" not in sys.modules:
        _reply(sock, {"id": request["id"], "error": "the template could not import ipykernel"})
        return
    try:
        pid = os.fork()
    except OSError as exc:
        _reply(sock, {"id": request["id"], "error": f"fork failed: {exc}"})
        return
    if pid == 0:
        _become_kernel(request, listener.getsockname() if listener is not None else None)  # never returns
    _reply(sock, {"id": request["id"], "pid": pid})


def _become_kernel(request: dict, workers_address: str | None) -> None:
    """In the forked child: take the kernel's session, directory, environment and arguments, and run ipykernel as
    ipykernel_launcher would. Exits the process when the kernel ends."""
    code = 1
    try:
        _leave_the_template()
        os.setsid()
        os.chdir(request["cwd"])
        # The environment the kernel manager gave, and what the template's imports set (pandera sets two variables
        # on import, as it would in a kernel's warm-up); the kernel exits if the template does.
        parent = str(os.getppid())
        added = {k: v for k, v in os.environ.items() if k not in _initial_environ and k != "MPLBACKEND"}
        environment = {**request["env"], **added, "JPY_PARENT_PID": parent}
        environment.pop(ADDRESS_ENV, None)  # a template's kernel asks its own template, never another's
        if workers_address:
            environment[ADDRESS_ENV] = workers_address
        os.environ.clear()
        os.environ.update(environment)
        launcher = Path(sys.modules["ipykernel"].__file__).parent.parent / f"{LAUNCHER_MODULE}.py"
        # parent_handle too: ipykernel read JPY_PARENT_PID when the template imported it.
        sys.argv = [str(launcher), *request["argv"][3:], f"--IPKernelApp.parent_handle={parent}"]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - shown on the kernel's stderr, as a new kernel's failure would be
        import traceback

        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _leave_the_template() -> None:
    """First thing in a forked child: the template's sockets and its handling of children are not the child's."""
    for open_socket in _template_sockets:
        open_socket.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)


WORKER_FDS = 3  # the task socket, then the kernel's standard output and error


def _serve_worker_request(listener: socket.socket) -> None:
    """A kernel asks for a worker: one JSON line (its environment and directory) with one end of a socket pair and its
    standard output and error; the template forks a worker that serves the kernel's tasks on the socket, writing
    where the kernel writes (ipykernel shows that in the notebook, as it shows a spawned worker's), and answers with
    the worker's pid."""
    connection, _ = listener.accept()
    with connection:
        connection.settimeout(10)
        fds: list[int] = []
        try:
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, WORKER_FDS)
            request = json.loads(message)
            if len(fds) != WORKER_FDS or not isinstance(request, dict) or not {"env", "cwd"} <= request.keys():
                raise ValueError(f"a worker request needs its environment, directory and {WORKER_FDS} descriptors")
            pid = os.fork()
        except (OSError, ValueError) as exc:
            for fd in fds:
                os.close(fd)
            _reply(connection, {"error": f"no worker: {exc}"}, exit_on_error=False)
            return
        if pid == 0:
            try:
                _become_worker(request, *fds)
            finally:
                os._exit(1)  # never back into the template's code, whatever failed
        for fd in fds:
            os.close(fd)
        _reply(connection, {"pid": pid}, exit_on_error=False)


def _become_worker(request: dict, task_fd: int, stdout_fd: int, stderr_fd: int) -> None:
    """In the forked child: run the tasks the kernel sends ((function, args, kwargs), pickled) one at a time, sending
    back (True, result) or (False, exception), until the kernel sends None or goes; then exit. A worker whose kernel
    has gone (stopped, killed) exits at once, even in the middle of a task: it is the template's child, not in the
    kernel's process group, so the signals that stop a kernel do not reach it."""
    from multiprocessing.connection import Connection

    _leave_the_template()
    for source, target in ((stdout_fd, 1), (stderr_fd, 2)):
        os.dup2(source, target)
        os.close(source)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    _exit_when_hung_up(task_fd)
    tasks = Connection(task_fd)
    try:
        while (task := tasks.recv()) is not None:
            function, args, kwargs = task
            try:
                outcome = (True, function(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - the kernel raises it, or runs the task itself
                outcome = (False, exc)
            try:
                tasks.send(outcome)
            except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception: say what it was
                tasks.send((False, RuntimeError(f"the worker could not send its result back: {exc!r}")))
    except (EOFError, OSError):
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _exit_when_hung_up(fd: int) -> None:
    """Watch the task socket in a thread of its own and end the process when the kernel's end closes."""

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        while True:
            for _, events in poller.poll():
                if events & (select.POLLRDHUP | select.POLLHUP | select.POLLERR):
                    os._exit(1)

    threading.Thread(target=watch, name="kernel-gone", daemon=True).start()


class ForkedWorkers:
    """Worker processes for a kernel that a template forked: forks of the template, with its imports, that start in
    milliseconds (a spawned interpreter imports pandas, pandera and every source again: about a second). The same
    `submit` and `shutdown` as a concurrent.futures executor; each worker runs one task at a time."""

    def __init__(self, count: int, address: str | None = None):
        self._address = address or os.environ[ADDRESS_ENV]
        self._idle: queue.Queue = queue.Queue()
        self._workers = []
        self.pids: list[int] = []
        for _ in range(count):
            worker = self._start()
            self._workers.append(worker)
            self._idle.put(worker)

    @staticmethod
    def available() -> bool:
        """True inside a kernel a template forked (it knows where to ask)."""
        return bool(os.environ.get(ADDRESS_ENV))

    def _start(self):
        from multiprocessing.connection import Connection

        ours, theirs = socket.socketpair()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as asking:
                asking.settimeout(30)
                asking.connect(self._address)
                request = {"env": dict(os.environ), "cwd": os.getcwd()}
                socket.send_fds(asking, [json.dumps(request).encode()], [theirs.fileno(), 1, 2])
                reply = json.loads(asking.makefile("rb").readline() or b"{}")
        except (OSError, ValueError) as exc:
            ours.close()
            raise TemplateError(f"the kernel template did not start a worker ({exc})") from None
        finally:
            theirs.close()
        if "pid" not in reply:
            ours.close()
            raise TemplateError(f"the kernel template did not start a worker ({reply.get('error', 'no reply')})")
        self.pids.append(int(reply["pid"]))
        return Connection(ours.detach())

    def submit(self, function, *args, **kwargs) -> Future:
        """Run the task on the next idle worker, in the calling thread (a caller per worker runs them at once). Every
        failure lands in the Future: a worker that has died fails each task it is given at once, so the caller (the
        cleaning) does the work itself, as with a broken process pool."""
        future: Future = Future()
        worker = self._idle.get()
        try:
            worker.send((function, args, kwargs))
            succeeded, value = worker.recv()
        except (EOFError, OSError) as exc:
            future.set_exception(TemplateError(f"a worker stopped: {exc!r}"))
        except Exception as exc:  # noqa: BLE001 - a task or an answer that could not be pickled
            future.set_exception(exc)
        else:
            if succeeded:
                future.set_result(value)
            else:
                future.set_exception(value)
        finally:
            self._idle.put(worker)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        for worker in self._workers:
            with suppress(OSError):
                worker.send(None)
            worker.close()


def main(argv: list[str]) -> None:
    # As ipykernel_launcher does before it imports anything: the working directory is not searched first (IPython
    # puts it back when the kernel starts).
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    sock = socket.socket(fileno=int(argv[0]))
    stages = [(name, tuple(modules)) for name, modules in json.loads(argv[2])] if len(argv) > 2 else default_stages()
    try:
        serve(sock, argv[1], stages)
    finally:
        sock.close()
        # The build removes the folder when it closes the template; a build that was killed cannot.
        with suppress(OSError):
            os.unlink(argv[1])
        with suppress(OSError):
            os.rmdir(os.path.dirname(argv[1]))
    # Nothing to flush or finalise: skipping the interpreter's teardown of everything imported saves about 0.1 s at
    # the end of every build, which waits for the template to exit.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
