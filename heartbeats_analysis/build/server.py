"""The build server: warm kernels and a warm browser that outlive one `heartbeats build`.

Each `heartbeats build` is a new process. Without the server its notebooks wait 4-5 s for new kernels
to start and import pandas, SciPy, statsmodels and matplotlib, and its PDF waits for Chromium, although
a changed model assumption reruns about 1.5 s of notebooks. An analyst trying assumptions one after
another starts the server once (`heartbeats serve`, in a terminal of its own); every `heartbeats build`
of the same project then hands its arguments to it over a Unix socket and prints what the server's build
prints, with the same exit code.

What keeps a served build the same as a build in its own process:
- The socket's name is a hash of the project folder, the interpreter and every HEARTBEATS_* variable,
  so a client with other folders, another kernel or another environment never reaches this server; it
  builds in its own process, as it does when no server runs.
- Before each build the server hashes the package's code (hashing.package_code_hash). If the code has
  changed since it started, it answers "stale" and starts itself again (new kernels import the new
  code), and that one client builds in its own process.
- One build at a time, through the same command-line code as a local build; between notebooks the
  pooled kernels are wiped as in a batch (kernel_pool, kernel_session).
- A client that goes away (Ctrl-C) interrupts its build exactly as Ctrl-C interrupts a local one (the
  published report is left as it was); the server then starts new kernels.
- It stops after `idle_minutes` without a request, on Ctrl-C, or on `heartbeats serve --stop`.

What differs: a served build with the PDF answers its client once the HTML brief is published, and the server
prints the PDFs into the published report after that reply (steps.pdfs_after_reply), before it takes the next
request; a print that fails is told in the server's terminal and to the next client, and the report keeps its
HTML brief, stamped as having no PDF, so the next build of it prints them.

The client half (`forward`) imports nothing heavy: a command it cannot hand over costs a few milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from heartbeats_analysis.paths import PROJECT_ROOT

IDLE_MINUTES = 120
CONNECT_TIMEOUT_S = 2.0
SERVED_ENV_VAR = "HEARTBEATS_SERVED"  # set in the server's own process: its builds never forward


# --- where the server listens ---------------------------------------------------------------------------


def fingerprint() -> str:
    """What a client must share with the server: project folder, interpreter, HEARTBEATS_* variables."""
    env = {k: v for k, v in os.environ.items() if k.startswith("HEARTBEATS_") and k != SERVED_ENV_VAR}
    text = json.dumps({"root": str(PROJECT_ROOT), "python": sys.executable, "env": env}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def socket_path() -> Path:
    """A short path (Unix sockets allow about 100 characters) in a folder only this user can enter."""
    return Path(tempfile.gettempdir()) / f"heartbeats-{os.getuid()}" / f"{fingerprint()}.sock"


def _connect(path: Path) -> socket.socket | None:
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(str(path))
    except OSError:  # refused (a server that died left its socket file) or gone meanwhile
        sock.close()
        return None
    sock.settimeout(None)
    return sock


def _send(sock: socket.socket, message: dict) -> None:
    sock.sendall((json.dumps(message) + "\n").encode())


def _messages(sock: socket.socket) -> Iterator[dict]:
    with sock.makefile("r", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


# --- the client half ------------------------------------------------------------------------------------


class ServerStoppedError(RuntimeError):
    """The build server closed the connection before the build ended."""


def forward(
    argv: list[str], interrupted_exit_code: int, out: TextIO | None = None, err: TextIO | None = None
) -> int | None:
    """Hand a command to a running server and relay its output to `out` and `err` (stdout and stderr as
    they are when called); its exit code, or None when no server of this project and environment is
    listening (or it is restarting after a code change): the caller then runs the command itself."""
    if os.environ.get(SERVED_ENV_VAR):
        return None
    out, err = out or sys.stdout, err or sys.stderr
    sock = _connect(socket_path())
    if sock is None:
        return None
    try:
        _send(sock, {"argv": argv, "cwd": os.getcwd()})
        for message in _messages(sock):
            if "out" in message:
                out.write(message["out"])
                out.flush()
            elif "err" in message:
                err.write(message["err"])
                err.flush()
            elif message.get("stale"):
                print(
                    "The build server's code is older than the package's: it restarts, and this build runs here.",
                    file=err,
                )
                return None
            elif "exit" in message:
                return int(message["exit"])
        raise ServerStoppedError("the build server stopped before the build ended; see the server's terminal")
    except KeyboardInterrupt:
        # Closing the connection interrupts the served build (BuildServer._watch_client).
        print("Interrupted. The published report, if any, was left as it was.", file=err)
        return interrupted_exit_code
    finally:
        sock.close()


def stop_server() -> bool:
    """Ask this project's server to stop; False when none is listening."""
    sock = _connect(socket_path())
    if sock is None:
        return False
    with sock:
        _send(sock, {"stop": True})
        for message in _messages(sock):
            if message.get("stopped"):
                return True
    return True


# --- the server half ------------------------------------------------------------------------------------


class _ClientStream(io.TextIOBase):
    """stdout or stderr of a served build, sent to the client as it is written (from any thread)."""

    def __init__(self, sock: socket.socket, key: str, lock: threading.Lock):
        self.sock, self.key, self.lock = sock, key, lock
        self.connected = True

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if text and self.connected:
            with self.lock:
                try:
                    _send(self.sock, {self.key: text})
                except OSError:  # the client went away: the watcher interrupts the build
                    self.connected = False
        return len(text)


Runner = Callable[[list[str]], int]


class BuildServer:
    """Listens on `path`; runs each request's arguments with `run` (the command line) while `warm`
    (a context manager factory) provides the warm kernels and browser. `code_version` is re-read before
    every build; when it differs from the value at start the server answers "stale" and stops with
    `restart_requested` set."""

    def __init__(
        self,
        path: Path,
        run: Runner,
        code_version: Callable[[], str],
        interrupt: Callable[[], None] = lambda: None,
        idle_minutes: float = IDLE_MINUTES,
        say: Callable[[str], None] = lambda _: None,
        after_reply: Callable[[], None] = lambda: None,
    ):
        self.path = path
        self.run = run
        self.after_reply = after_reply
        self.code_version = code_version
        self.started_version = code_version()
        self.interrupt = interrupt
        self.idle_seconds = idle_minutes * 60
        self.say = say
        self.restart_requested = False
        self.builds = 0
        self._stop = False
        self._listener: socket.socket | None = None

    def __enter__(self) -> BuildServer:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        existing = _connect(self.path)
        if existing is not None:
            existing.close()
            raise RuntimeError(f"a build server for this project and environment already listens on {self.path}")
        self.path.unlink(missing_ok=True)  # left by a server that died
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.path))
        self._listener.listen(8)
        self._listener.settimeout(self.idle_seconds)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._listener is not None:
            self._listener.close()
        self.path.unlink(missing_ok=True)

    def serve(self) -> None:
        """Handle requests one at a time until stopped, idle for too long, or stale."""
        assert self._listener is not None, "use the server as a context manager"
        while not self._stop:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                self.say(f"No request for {self.idle_seconds / 60:.0f} minutes: the build server stops.")
                return
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        reader = conn.makefile("r", encoding="utf-8")
        line = reader.readline()
        if not line:
            return
        request = json.loads(line)
        if request.get("stop"):
            self._stop = True
            _send(conn, {"stopped": True})
            return
        if self.code_version() != self.started_version:
            self._stop = self.restart_requested = True
            _send(conn, {"stale": True})
            return
        lock = threading.Lock()
        out, err = _ClientStream(conn, "out", lock), _ClientStream(conn, "err", lock)
        finished = threading.Event()
        watcher = threading.Thread(target=self._watch_client, args=(reader, finished), daemon=True)
        watcher.start()
        code = 1
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _working_folder(request["cwd"]):
                code = self.run(list(request["argv"]))
        finally:
            finished.set()
            self.builds += 1
            with lock, contextlib.suppress(OSError):
                _send(conn, {"exit": code})
        self.say(f"  build {self.builds}: {' '.join(request['argv'])} -> exit {code}")
        self.after_reply()  # the client has its answer; the next request waits until this is done

    def _watch_client(self, reader: io.TextIOBase, finished: threading.Event) -> None:
        """A client sends nothing after its request: end of input means it went away (Ctrl-C)."""
        with contextlib.suppress(OSError, ValueError):
            reader.read()
        if not finished.is_set():
            self.say("  the client went away: its build is interrupted")
            self.interrupt()


@contextlib.contextmanager
def _working_folder(path: str) -> Iterator[None]:
    """The client's folder for the request (relative --params paths); one build runs at a time."""
    before = os.getcwd()
    # A client folder gone or unreadable here: paths relative to it then fail as they would there.
    with contextlib.suppress(OSError):
        os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


# --- the server's warm resources ------------------------------------------------------------------------


class WarmResources:
    """The kernels and the browser the server lends to each build. An interrupted build closes the
    kernel pool (as Ctrl-C does in a local build); the next build gets a new, warming one."""

    def __init__(self) -> None:
        from heartbeats_analysis.build.pdf import PdfRenderer

        self.pdfs = PdfRenderer()
        self.pdfs.start()
        self.kernels = self._new_pool()

    @staticmethod
    def _new_pool():
        from heartbeats_analysis.build.kernel_pool import KernelPool
        from heartbeats_analysis.build.steps import parallel_jobs

        pool = KernelPool(parallel_jobs())
        pool.start()
        return pool

    @contextlib.contextmanager
    def lent(self) -> Iterator[None]:
        from heartbeats_analysis.build.steps import lend

        if self.kernels.closed:
            self.kernels = self._new_pool()
        with lend(self.kernels, self.pdfs):
            yield

    def interrupt(self) -> None:
        self.kernels.close()

    def close(self) -> None:
        self.kernels.close()
        self.pdfs.close()


def run_server(run: Runner, idle_minutes: float = IDLE_MINUTES, say: Callable[[str], None] = print) -> bool:
    """Serve builds with warm kernels and browser until stopped; True when the package's code changed and
    the caller should start the server again."""
    from heartbeats_analysis.build import export, runner  # noqa: F401  papermill and nbconvert, loaded once
    from heartbeats_analysis.build.hashing import package_code_hash
    from heartbeats_analysis.build.steps import PendingPdfs, pdfs_after_reply

    os.environ[SERVED_ENV_VAR] = "1"
    resources = WarmResources()
    pending_pdfs: list[PendingPdfs] = []
    notices: list[str] = []

    def run_warm(argv: list[str]) -> int:
        for notice in notices:
            print(notice, file=sys.stderr)  # to this client: a failure its predecessor could not hear of
        notices.clear()
        with resources.lent(), pdfs_after_reply() as jobs:
            try:
                return run(argv)
            finally:
                pending_pdfs.extend(jobs)

    def print_pdfs() -> None:
        """The served build's PDFs, after its command returned with the HTML brief published."""
        while pending_pdfs:
            job = pending_pdfs.pop(0)
            try:
                if not job.run():
                    say(f"  {job.agency}: PDFs not printed, another build of it has published since or is running")
            except Exception as exc:  # reported here and to the next client; the report keeps its HTML brief
                notice = (
                    f"The build server could not print the PDFs of {job.agency!r} after the last served build "
                    f"({exc.__class__.__name__}: {exc}). Its HTML brief is published; building it again prints them."
                )
                say("  " + notice)
                notices.append(notice)

    try:
        with BuildServer(
            socket_path(), run_warm, package_code_hash, resources.interrupt, idle_minutes, say, print_pdfs
        ) as server:
            say(
                f"Build server for {PROJECT_ROOT} listening on {server.path}; kernels and browser warming up. "
                "`heartbeats build` in this project now runs here. Stop: Ctrl-C or `heartbeats serve --stop`."
            )
            server.serve()
            if server.restart_requested:
                say("The package's code changed: the build server starts again with the new code.")
            return server.restart_requested
    finally:
        resources.close()
