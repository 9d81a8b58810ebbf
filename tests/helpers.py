"""Plain helpers the test modules share (fixtures stay in the modules that use them):

* the processed tables a notebook reads, built from the raw files or found in data/processed, and
  the first agency in them that has no FBI UCR data;
* running an analysis notebook with papermill and reading back its claims;
* writing a raw text fixture and cleaning a source from raw files;
* the checks on a notebook as it is stored, and on a source's processed schema.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pandera.pandas as pa
import pytest

from heartbeats_analysis.ingest.sources.base import (
    MissingnessLog,
    SchemaValidationError,
    validate,
)
from heartbeats_analysis.paths import PROJECT_ROOT


def build_processed_tables(folder: Path, source_names: Sequence[str]) -> Path:
    """Clean the raw files with the named source modules and write their tables into ``folder``.

    Skips the test when a source module does not exist yet.
    """
    from heartbeats_analysis.ingest import clean

    modules = [
        pytest.importorskip(
            f"heartbeats_analysis.ingest.sources.{name}", reason=f"source module {name} not written yet"
        )
        for name in source_names
    ]
    outputs = [
        clean.TableOutput(m.TABLE_NAME, clean_source(m)[0], m.PROCESSED_SCHEMA, m.COLUMNS, m.__name__.rsplit(".", 1)[1])
        for m in modules
    ]
    clean.write_tables(outputs, folder)
    return folder


def processed_folder(needed: Sequence[str]) -> Path:
    """The processed-data folder (data/processed or HEARTBEATS_PROCESSED_DIR); skips the test unless
    every ``needed`` table is there."""
    from heartbeats_analysis.paths import processed_dir

    folder = processed_dir()
    if not all((folder / f"{name}.csv").is_file() for name in needed):
        pytest.skip(f"processed tables {tuple(needed)} not in {folder}: run `heartbeats clean` first")
    return folder


def run_notebook(notebook: Path, build_dir: Path, monkeypatch, processed: Path, **parameters) -> dict[str, dict]:
    """Execute ``notebook`` with papermill into ``build_dir`` (passed as the build_dir parameter, with
    ``parameters``), reading the processed tables in ``processed``; returns its claims by id."""
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("HEARTBEATS_PROCESSED_DIR", str(processed))
    papermill.execute_notebook(
        str(notebook),
        str(build_dir / "executed.ipynb"),
        parameters=dict(build_dir=str(build_dir), **parameters),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=300,
        start_timeout=120,
        cwd=str(PROJECT_ROOT),
    )
    return {c["id"]: c for c in json.loads((build_dir / "claims" / f"{notebook.stem}.json").read_text())}


def first_agency_outside_ucr(agencies: pd.DataFrame) -> str:
    """The first agency slug (sorted) that only the Vehicle Stops Report knows: no FBI UCR files."""
    return agencies.loc[~agencies["in_ucr"].astype(bool), "agency_slug"].sort_values().iloc[0]


def read_clean_notebook(notebook: Path) -> nbformat.NotebookNode:
    """The notebook as stored, after checking the layout every analysis notebook shares: no outputs
    or execution counts, the parameters cell second (after the title), ``ctx.save_claims()`` last."""
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[1].metadata.get("tags") == ["parameters"]
    assert nb.cells[-1].source == "ctx.save_claims()"
    return nb


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    """A raw text fixture: one line each, ending in a newline; missing folders are created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def agencies_inputs(raw_root: Path | None = None) -> dict[str, pd.DataFrame]:
    """The cleaned tables agencies.clean receives in the pipeline (VSR names, ACS population), cleaned
    here from the raw files under ``raw_root`` (default data/raw)."""
    from heartbeats_analysis.ingest.sources import acs, vsr

    log = MissingnessLog()
    return {
        vsr.NAMES_TABLE_NAME: vsr.clean_names(vsr.load_raw(raw_root), log),
        acs.TABLE_NAME: acs.clean(acs.load_raw(raw_root), log),
    }


def clean_source(module, raw_root: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A source module's processed table from the raw files under ``raw_root`` (default data/raw), with
    its missingness log as a frame. The agencies source also gets the tables it builds on."""
    from heartbeats_analysis.ingest.sources import agencies

    log = MissingnessLog()
    raw = module.load_raw(raw_root=raw_root)
    table = module.clean(raw, log, agencies_inputs(raw_root)) if module is agencies else module.clean(raw, log)
    return table, log.to_frame()


def assert_processed_schema_names_column(
    table: pd.DataFrame, schema: pa.DataFrameSchema, file: str, dropped: str, text_column: str, text: str
) -> None:
    """The processed schema fails on a dropped column and on text in a numeric column, and the error
    names the file and the column."""
    with pytest.raises(SchemaValidationError, match=rf"{re.escape(file)}.*\n.*'{dropped}'"):
        validate(table.drop(columns=dropped), schema, file)
    broken = table.astype({text_column: object})
    broken.loc[0, text_column] = text
    with pytest.raises(SchemaValidationError) as error:
        validate(broken, schema, file)
    assert file in str(error.value) and f"'{text_column}'" in str(error.value)


# ---------------------------------------------------------------- end-to-end fault tests (tests/test_faults_*.py)

AGENCY = "ferguson"
PARAMS_FILE = PROJECT_ROOT / "params" / "ferguson.yaml"
REPORT_FILES = ("brief.html", "claims.json", "manifest.json")
PROCESSED_TABLE_PATTERNS = ("*.csv", "datapackage.json", "README.md")
FERGUSON_POLICE_FILE = "ucr/police/Missouri_Ferguson_Police_Department.csv"
BUILD_TIMEOUT_S = 600


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "heartbeats_analysis.cli", *args]


def run_cli(
    *args: str, env: dict[str, str], cwd: Path = PROJECT_ROOT, timeout: float = BUILD_TIMEOUT_S
) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def environment(raw: Path, processed: Path, reports: Path, **extra: str) -> dict[str, str]:
    """The caller's environment with the three data folders relocated and no mirror configured."""
    env = {k: v for k, v in os.environ.items() if k != "HEARTBEATS_DATA_MIRROR"}
    env.update(
        HEARTBEATS_RAW_DIR=str(raw), HEARTBEATS_PROCESSED_DIR=str(processed), HEARTBEATS_REPORTS_DIR=str(reports)
    )
    env.update(extra)
    return env


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path, patterns: tuple[str, ...] = ("**/*",)) -> dict[str, str]:
    """sha256 of every file under folder matching the patterns, by relative path."""
    files = {p for pattern in patterns for p in folder.glob(pattern) if p.is_file()}
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(files)}


def processed_tables(folder: Path) -> dict[str, str]:
    """The processed tables and their data dictionary (not the step bookkeeping in .stamps/.executed)."""
    return snapshot(folder, PROCESSED_TABLE_PATTERNS)


def report_state(reports: Path) -> dict[str, str] | None:
    """Where reports/<agency> points and the sha256 of its key files; None when nothing is published."""
    link = reports / AGENCY
    if not link.is_symlink():
        assert not any((link / name).exists() for name in REPORT_FILES), f"unpublished files in {link}"
        return None
    state = {"target": os.readlink(link)}
    for name in REPORT_FILES:
        assert (link / name).is_file(), f"published report lacks {name}"
        state[name] = sha256_file(link / name)
    return state


def assert_complete_report(report: Path) -> None:
    assert_complete_report_of(report, AGENCY)


def assert_complete_report_of(report: Path, agency: str) -> None:
    for name in REPORT_FILES:
        assert (report / name).is_file(), name
    claims = json.loads((report / "claims.json").read_text(encoding="utf-8"))
    assert isinstance(claims, list) and len(claims) > 20
    assert json.loads((report / "manifest.json").read_text(encoding="utf-8"))["parameters"]["agency"] == agency
    assert (report / "brief.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert (report / "appendix").is_dir()


def copy_reports(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".locks"))
    return target


def fresh_processed_copy(source: Path, target: Path, raw: Path) -> Path:
    """A private copy of the processed tables whose clean step is up to date, so a build will not
    rewrite them (a tampered table must reach the notebooks as it is)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".clean.lock", "_failed"))
    result = run_cli("clean", env=environment(raw, target, target.parent / "unused-reports"))
    assert result.returncode == 0, result.stderr
    return target


def rewrite_csv(path: Path, change) -> None:
    """Read a CSV as text rows, let change(header, rows) edit them in place, write it back."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    result = change(header, body)
    if result is not None:
        header, body = result
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *body])


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


class Markup(HTMLParser):
    """Tags, attributes and text of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)

    @classmethod
    def of(cls, document: str) -> Markup:
        parser = cls()
        parser.feed(document)
        parser.close()
        return parser

    def injected(self) -> list[str]:
        """Elements and attributes that only hostile data could have put there."""
        found = [tag for tag, _ in self.tags if tag in {"script", "iframe", "object", "embed"}]
        found += [f"{tag}[{name}]" for tag, attrs in self.tags for name in attrs if name.startswith("on")]
        found += [
            f"img[src={attrs.get('src')}]"
            for tag, attrs in self.tags
            if tag == "img" and not str(attrs.get("src", "")).startswith("data:")
        ]
        return found


class LiveBuild:
    """A CLI command running in the background: its stderr lines as they arrive, signals sent the way a
    terminal (Ctrl-C: SIGINT to the process group) or the kernel (SIGKILL) would, and every process it
    started (notebook kernels, the PDF browser) recorded so none is left behind."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path = PROJECT_ROOT):
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            cli_command(*args),
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.arrived: list[float] = []  # time.monotonic() when each stderr line was read
        self.stdout = ""
        self.seen: dict[int, str] = {}  # pid -> start time of every descendant seen
        self._changed = threading.Condition()
        self._threads = [
            threading.Thread(target=f, daemon=True)
            for f in (self._read_stderr, self._read_stdout, self._watch_children)
        ]
        for thread in self._threads:
            thread.start()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self.arrived.append(time.monotonic())
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _read_stdout(self) -> None:
        self.stdout = self.process.stdout.read()

    def _watch_children(self) -> None:
        while self.process.poll() is None:
            for pid in _descendants(self.process.pid):
                start = _start_time(pid)
                if start is not None:
                    self.seen.setdefault(pid, start)
            time.sleep(0.1)

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> bool:
        """Wait until a stderr line matches pattern; False if the command ended or time ran out first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if any(regex.search(line) for line in self.lines):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._threads[0].is_alive()):
                    return False
                self._changed.wait(min(remaining, 0.2))

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the command's process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL to the command and everything it started, at once (power loss, OOM killer)."""
        for pid in [self.process.pid, *_descendants(self.process.pid)]:
            _kill_if_same(pid, _start_time(pid))

    def finish(self, timeout: float = BUILD_TIMEOUT_S) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait(30)
            pytest.fail(f"the command did not end within {timeout} s:\n{self.stderr}")
        for thread in self._threads:
            thread.join(30)
        return code

    def reap(self) -> None:
        """End whatever this command started that is still running (only those exact processes)."""
        if self.process.poll() is None:
            self.kill()
            self.process.wait(30)
        for pid, start in self.seen.items():
            _kill_if_same(pid, start)

    def __enter__(self) -> LiveBuild:
        return self

    def __exit__(self, *exc) -> None:
        self.reap()


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # fields from the third (state) on


def alive(pid: int) -> bool:
    """True while the process runs (an exited process not yet reaped, a zombie, counts as ended)."""
    fields = _proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def parent_of(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[1]) if fields else None


def _start_time(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields else None


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc_stat(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_if_same(pid: int, start: str | None) -> None:
    """SIGKILL pid only if it is still the process that started at `start` (pids get reused)."""
    if start is None or _start_time(pid) != start:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def copy_raw_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("MANIFEST.csv", "README.md"))
    return target


def build_report(reports: Path, *extra: str, params: str = "params/ferguson.yaml") -> subprocess.CompletedProcess:
    """Run `heartbeats build` as a user would, writing into the given reports folder."""
    env = {**os.environ, "HEARTBEATS_REPORTS_DIR": str(reports)}
    command = [sys.executable, "-m", "heartbeats_analysis.cli", "build"]
    if params:
        command += ["--params", str(PROJECT_ROOT / params)]
    return subprocess.run([*command, *extra], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
