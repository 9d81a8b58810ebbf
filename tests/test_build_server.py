"""The build server (`heartbeats serve`): the protocol on a fake runner, its failure paths, and one served
build compared with the same build run in its own process."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from helpers import AGENCY, PARAMS_FILE, LiveBuild, copy_reports, environment, run_cli

from heartbeats_analysis.build import server
from heartbeats_analysis.cli import Output, _build_arguments, run_command

INTERRUPTED = 130


@pytest.fixture
def sock_path(monkeypatch):
    """A short socket path (Unix sockets allow about 100 characters) that forward() and stop_server() use."""
    folder = Path(tempfile.mkdtemp(prefix="hb-"))
    path = folder / "s.sock"
    monkeypatch.setattr(server, "socket_path", lambda: path)
    monkeypatch.delenv(server.SERVED_ENV_VAR, raising=False)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


class Served:
    """A BuildServer in a thread, with a runner and a code version the test controls."""

    def __init__(self, path: Path, run, version=lambda: "v1", after_reply=lambda: None):
        self.interrupted = threading.Event()
        self.log: list[str] = []
        self.server = server.BuildServer(
            path,
            run,
            version,
            interrupt=self.interrupted.set,
            idle_minutes=1,
            say=self.log.append,
            after_reply=after_reply,
        )
        self.server.__enter__()
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():
            server.stop_server()
        self.thread.join(10)
        self.server.__exit__(None, None, None)


@pytest.fixture
def serve(sock_path):
    started = []

    def start(run, version=lambda: "v1", after_reply=lambda: None) -> Served:
        started.append(Served(sock_path, run, version, after_reply))
        return started[-1]

    yield start
    for served in started:
        served.close()


def test_fingerprint_follows_the_project_variables_but_not_the_servers_own_marker(monkeypatch):
    monkeypatch.delenv("HEARTBEATS_REPORTS_DIR", raising=False)
    base = server.fingerprint()
    monkeypatch.setenv(server.SERVED_ENV_VAR, "1")
    assert server.fingerprint() == base
    monkeypatch.setenv("HEARTBEATS_REPORTS_DIR", "/elsewhere/reports")
    assert server.fingerprint() != base
    assert len(str(server.socket_path())) < 100


def test_without_a_server_the_command_runs_in_its_own_process(sock_path):
    assert server.forward(["build"], INTERRUPTED) is None
    assert server.stop_server() is False


def test_a_socket_left_by_a_dead_server_is_ignored_and_replaced(sock_path):
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path))
    dead.close()  # the file stays, nobody listens: connecting is refused
    assert sock_path.exists()
    assert server.forward(["build"], INTERRUPTED) is None
    with server.BuildServer(sock_path, lambda argv: 0, lambda: "v1"):
        assert sock_path.exists()
    assert not sock_path.exists()


def test_the_client_prints_what_the_served_build_prints_and_exits_with_its_code(serve):
    seen = []

    def run(argv):
        seen.append((argv, os.getcwd()))
        print("Built ferguson")
        print("  done model", file=os.sys.stderr)
        return 3

    served = serve(run)
    # Explicit streams: client and server share this process's sys.stdout, which the server redirects.
    out, err = io.StringIO(), io.StringIO()
    assert server.forward(["build", "--local", "--agency", "ferguson"], INTERRUPTED, out, err) == 3
    assert out.getvalue() == "Built ferguson\n"
    assert err.getvalue() == "  done model\n"
    assert seen == [(["build", "--local", "--agency", "ferguson"], os.getcwd())]
    assert served.server.builds == 1 and not served.interrupted.is_set()


def test_work_after_the_reply_runs_once_the_client_has_its_exit_code_and_before_the_next_request(serve):
    """The served build's PDFs print after its client returned (with the HTML brief published); a client that
    comes meanwhile waits for them, so it never builds over a report still being printed."""
    printing, release, events = threading.Event(), threading.Event(), []

    def after_reply():
        events.append("printing")
        printing.set()
        release.wait(10)
        events.append("printed")

    serve(lambda argv: events.append(f"build {argv[0]}") or 0, after_reply=after_reply)
    assert server.forward(["first"], INTERRUPTED, io.StringIO(), io.StringIO()) == 0
    assert printing.wait(10) and events == ["build first", "printing"]  # the first client returned meanwhile
    second = threading.Thread(target=server.forward, args=(["second"], INTERRUPTED, io.StringIO(), io.StringIO()))
    second.start()
    second.join(0.5)
    assert second.is_alive() and events == ["build first", "printing"]  # waiting for the printing to end
    release.set()
    second.join(10)
    assert events[:4] == ["build first", "printing", "printed", "build second"]


def test_a_second_server_for_the_same_project_is_refused(serve, sock_path):
    serve(lambda argv: 0)
    with pytest.raises(RuntimeError, match="already listens"):
        server.BuildServer(sock_path, lambda argv: 0, lambda: "v1").__enter__()


def test_changed_code_makes_the_server_restart_and_the_client_build_itself(serve):
    version = {"now": "v1"}
    ran = []
    served = serve(lambda argv: ran.append(argv) or 0, version=lambda: version["now"])
    version["now"] = "v2"
    err = io.StringIO()
    assert server.forward(["build"], INTERRUPTED, io.StringIO(), err) is None
    served.thread.join(10)
    assert not served.thread.is_alive()
    assert served.server.restart_requested and ran == []
    assert "restarts" in err.getvalue()


def test_a_client_that_goes_away_interrupts_its_build(serve, sock_path):
    release = threading.Event()

    def run(argv):
        release.wait(10)
        return INTERRUPTED

    served = serve(run)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(sock_path))
    client.sendall((json.dumps({"argv": ["build"], "cwd": os.getcwd()}) + "\n").encode())
    client.close()  # Ctrl-C in the client
    assert served.interrupted.wait(10)
    release.set()
    assert server.stop_server() is True
    served.thread.join(10)
    assert not served.thread.is_alive()


def test_stop_ends_the_server_and_removes_its_socket(serve, sock_path):
    served = serve(lambda argv: 0)
    assert server.stop_server() is True
    served.thread.join(10)
    served.server.__exit__(None, None, None)
    assert not sock_path.exists()
    assert server.stop_server() is False


def test_the_served_command_line_repeats_every_option():
    argv = _build_arguments(Output(0), Path("params/x.yaml"), "ferguson", None, ["draws=500", "seed=2"], True, False)
    assert argv == [
        "--quiet",
        "build",
        "--local",
        "--params",
        "params/x.yaml",
        "--agency",
        "ferguson",
        "--set",
        "draws=500",
        "--set",
        "seed=2",
        "--force",
        "--no-pdf",
    ]
    assert _build_arguments(Output(2), None, None, "MO0950500", None, False, True) == [
        "--verbose",
        "build",
        "--local",
        "--ori",
        "MO0950500",
    ]


def test_a_bad_command_line_in_the_server_returns_the_usage_exit_code(capsys):
    assert run_command(["build", "--no-such-option"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_a_served_build_publishes_the_same_claims_as_a_build_in_its_own_process(
    tmp_path, raw_tree, processed_tree, published
):
    """End to end: `heartbeats serve`, then an assumption change built through it and the same change
    built with --local in a copy of the same report: the claims are identical. Then one with the PDF, which the
    server prints after the command has returned."""
    change = ("--set", "assumptions.attrition_rate=0.2", "--no-pdf")
    local_reports = copy_reports(published, tmp_path / "local")
    local = run_cli(
        "build",
        "--local",
        "--params",
        str(PARAMS_FILE),
        *change,
        env=environment(raw_tree, processed_tree, local_reports),
    )
    assert local.returncode == 0, local.stderr

    served_reports = copy_reports(published, tmp_path / "served")
    env = environment(raw_tree, processed_tree, served_reports)
    with LiveBuild(["serve", "--idle-minutes", "5"], env) as live:
        assert live.wait_for("listening on", 120), live.stderr
        result = run_cli("build", "--params", str(PARAMS_FILE), *change, env=env)
        assert result.returncode == 0, result.stderr
        assert "Built ferguson" in result.stdout
        assert "07-program-model" in result.stderr and "02-staffing" not in result.stderr
        assert claims(served_reports) == claims(local_reports)

        # With the PDF: the command returns once the HTML brief is published; the server prints the PDFs next.
        with_pdf = ("--set", "assumptions.attrition_rate=0.21")
        result = run_cli("build", "--params", str(PARAMS_FILE), *with_pdf, env=env)
        assert result.returncode == 0, result.stderr
        assert "the build server prints" in " ".join(result.stdout.split())
        assert run_cli("serve", "--stop", env=env).returncode == 0  # answered once the PDFs are printed
        assert live.finish(60) == 0

    report = served_reports / AGENCY
    assert (report / "brief.pdf").read_bytes().startswith(b"%PDF") and (report / "summary.pdf").is_file()
    assert not list(report.glob(".*.partial"))
    again = run_cli("build", "--local", "--params", str(PARAMS_FILE), *with_pdf, env=env)
    assert again.returncode == 0 and "0 step(s) ran" in again.stdout  # its stamp says it has its PDFs
    assert any("build 1:" in line for line in live.lines)


def claims(reports: Path) -> list[dict]:
    return json.loads((reports / AGENCY / "claims.json").read_text())


def test_pdfs_wait_for_after_the_reply_only_with_the_servers_started_browser(monkeypatch):
    """A served build defers its PDFs only to the browser the server lent it, once that has started; a browser that
    cannot start fails the build itself, with the exit code a build in its own process would give."""
    from heartbeats_analysis.build import steps
    from heartbeats_analysis.build.pdf import PdfRenderer

    class Browser:
        def __init__(self, started: bool):
            self.is_started = started

        def started(self) -> bool:
            return self.is_started

    ready = Browser(True)
    with steps.lend(object(), ready):
        assert steps._lent_browser_ready(ready)
        assert not steps._lent_browser_ready(Browser(True))  # a renderer of the build's own
    broken = Browser(False)
    with steps.lend(object(), broken):
        assert not steps._lent_browser_ready(broken)
    assert not steps._lent_browser_ready(ready)  # outside the server

    monkeypatch.setenv("HEARTBEATS_CHROMIUM", "/no/such/chromium")
    with PdfRenderer() as renderer:
        assert not renderer.started()  # never launched
        renderer.start()
        assert not renderer.started()  # the launch failed
