"""Bad input and faults (issue 7): clear errors, nothing lost, nothing half-published.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders
(HEARTBEATS_RAW_DIR, HEARTBEATS_PROCESSED_DIR and HEARTBEATS_REPORTS_DIR point at them), so the
project's own data/ and reports/ are never touched. No test touches the internet.

The slow tests share one published Ferguson report (``published``, built once with --no-pdf) and copy
it before changing anything.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import copy_raw_tree

from heartbeats_analysis.ingest import registry
from heartbeats_analysis.paths import PROCESSED_DIR, PROJECT_ROOT

AGENCY = "ferguson"
PARAMS_FILE = PROJECT_ROOT / "params" / "ferguson.yaml"
REPORT_FILES = ("brief.html", "claims.json", "manifest.json")
PROCESSED_TABLE_PATTERNS = ("*.csv", "datapackage.json", "README.md")
FERGUSON_POLICE_FILE = "ucr/police/Missouri_Ferguson_Police_Department.csv"
BUILD_TIMEOUT_S = 600


# ---------------------------------------------------------------- helpers


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


# ---------------------------------------------------------------- shared copies of the data


@pytest.fixture(scope="module")
def raw_tree(tmp_path_factory, raw_data) -> Path:
    """A private copy of data/raw (verified against the registry by every command that reads it)."""
    return copy_raw_tree(raw_data, tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def processed_tree(tmp_path_factory, raw_tree) -> Path:
    """A private, up-to-date copy of the processed tables (copied from data/processed, then cleaned)."""
    folder = tmp_path_factory.mktemp("work") / "processed"
    if PROCESSED_DIR.is_dir():
        return fresh_processed_copy(PROCESSED_DIR, folder, raw_tree)
    result = run_cli("clean", env=environment(raw_tree, folder, folder.parent / "unused-reports"))
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def published(tmp_path_factory, raw_tree, processed_tree) -> Path:
    """A reports folder holding a complete, published Ferguson report (built once, without the PDF)."""
    reports = tmp_path_factory.mktemp("published") / "reports"
    result = run_cli(
        "build", "--params", str(PARAMS_FILE), "--no-pdf", env=environment(raw_tree, processed_tree, reports)
    )
    assert result.returncode == 0, result.stderr
    assert_complete_report(reports / AGENCY)
    return reports


# ---------------------------------------------------------------- corrupt or missing raw files


def test_corrupt_or_missing_raw_file_stops_every_command_at_verification(tmp_path, raw_tree, processed_tree):
    """A raw file with one byte changed and another deleted: verify, clean and build each stop with
    the file, the expected and actual sha256 and the fix, before any step runs or writes anything."""
    raw = copy_raw_tree(raw_tree, tmp_path / "raw")
    processed = shutil.copytree(processed_tree, tmp_path / "processed")
    reports = tmp_path / "reports"
    corrupted = registry.get("ucr_police_missouri_ferguson_police_department")
    missing = registry.get("vsr_metric_year_subset_2020_2024")
    data = bytearray((raw / corrupted.path).read_bytes())
    data[len(data) // 2] ^= 0x01
    (raw / corrupted.path).write_bytes(bytes(data))
    (raw / missing.path).unlink()
    actual = hashlib.sha256(bytes(data)).hexdigest()
    before = snapshot(processed)
    env = environment(raw, processed, reports)

    for args in (["verify"], ["clean"], ["build", "--params", str(PARAMS_FILE), "--no-pdf"]):
        result = run_cli(*args, env=env)
        message = result.stderr
        assert result.returncode == 3, (args, message)
        assert "2 raw data file(s) failed verification" in message
        assert corrupted.path in message and f"expected sha256 {corrupted.sha256}" in message
        assert f"actual   sha256 {actual}" in message
        assert missing.path in message and "missing" in message
        assert "heartbeats fetch" in message and "HEARTBEATS_DATA_MIRROR" in message
        assert "Nothing was built" in message
        assert "running" not in message, message  # no step started
        no_traceback(result)

    assert snapshot(processed) == before
    assert not (reports / AGENCY).exists() and not (reports / ".work").exists()


# ---------------------------------------------------------------- schema drift


def _rename_officers(header, rows):
    header[header.index("total_employees_officers")] = "total_employees_sworn"


def _drop_population(header, rows):
    at = header.index("population")
    return [c for i, c in enumerate(header) if i != at], [[c for i, c in enumerate(r) if i != at] for r in rows]


def _text_in_officers(header, rows):
    at = header.index("total_employees_officers")
    next(r for r in rows if r[1] == "2015")[at] = "forty"


def _conflicting_duplicate_year(header, rows):
    at = header.index("total_employees_officers")
    duplicate = list(next(r for r in rows if r[1] == "2015"))
    duplicate[at] = str(int(duplicate[at]) + 1)
    rows.append(duplicate)


def _year_out_of_range(header, rows):
    next(r for r in rows if r[1] == "2012")[1] = "1850"


DRIFTS = {
    "renamed column": (_rename_officers, ["missing column(s): 'total_employees_officers'"]),
    "missing column": (_drop_population, ["missing column(s): 'population'"]),
    "text in a numeric column": (_text_in_officers, ["column 'total_employees_officers'", "row 6: 'forty'"]),
    "duplicated key": (_conflicting_duplicate_year, ["different rows for the same year", "[2015]"]),
    "year out of range": (_year_out_of_range, ["column 'year'", "a year from 1930 to 2100", "row 9: '1850'"]),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_schema_drift_names_file_column_and_rows_and_writes_no_table(drift, tmp_path, raw_tree, processed_tree):
    """Drift in Ferguson's UCR police employees file stops the cleaning with a message naming the
    file, the column and example rows, before any processed table is written.

    Route: raw files are checksummed, so drift in a registered file is first caught by verification
    (tested above). The schemas are the second line of defence, for when the registry itself is
    updated to a new upstream file. This test calls the cleaning step itself,
    ``heartbeats_analysis.ingest.clean.run(raw_root=..., folder=...)`` (what notebooks/01-clean runs), on a
    drifted copy of the raw tree, writing into a copy of the processed folder; the next test runs the
    same drift through the real `heartbeats clean` command.
    """
    from heartbeats_analysis.ingest import clean
    from heartbeats_analysis.ingest.sources.base import SchemaValidationError

    change, expected = DRIFTS[drift]
    raw = copy_raw_tree(raw_tree, tmp_path / "raw")
    rewrite_csv(raw / FERGUSON_POLICE_FILE, change)
    processed = shutil.copytree(processed_tree, tmp_path / "processed")
    before = snapshot(processed)

    with pytest.raises(SchemaValidationError) as caught:
        clean.run(raw_root=raw, folder=processed)

    message = str(caught.value)
    assert FERGUSON_POLICE_FILE in message
    for text in expected:
        assert text in message, message
    assert snapshot(processed) == before


@pytest.mark.slow
def test_schema_drift_stops_heartbeats_clean_before_any_table_is_written(tmp_path, raw_tree, processed_tree):
    """The real `heartbeats clean --force` on a raw file with text in a count column: the command
    fails naming the notebook (01-clean), the file, the column and the row, and the processed tables
    are byte-identical afterwards.

    Route: the drifted file's checksum no longer matches the registry, so verification would stop the
    command first (tested above). To reach the schema check, the command runs in a wrapper that gives
    the registry, in memory only, the drifted file's checksum: exactly what a maintainer recording a
    new upstream version in data_registry.csv would do. Everything after that is the real command and
    notebook. --force because the registry file's own hash (the clean step's key) did not change.
    Only the step's bookkeeping (.stamps, .executed, _failed) may change; the tables may not.
    """
    raw = copy_raw_tree(raw_tree, tmp_path / "raw")
    rewrite_csv(raw / FERGUSON_POLICE_FILE, _text_in_officers)
    processed = shutil.copytree(processed_tree, tmp_path / "processed")
    before = processed_tables(processed)
    wrapper = (
        "import dataclasses, sys\n"
        "from heartbeats_analysis.ingest import fetch, registry\n"
        "entries = tuple(dataclasses.replace(e, sha256=registry.sha256_of(e.local_path))\n"
        "                if e.path == sys.argv[1] else e for e in registry.load_registry())\n"
        "fetch.load_registry = lambda: entries\n"
        "from heartbeats_analysis.cli import app\n"
        "app(['clean', '--force'], prog_name='heartbeats')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, FERGUSON_POLICE_FILE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=environment(raw, processed, tmp_path / "reports"),
        timeout=BUILD_TIMEOUT_S,
    )
    message = result.stderr
    assert result.returncode != 0, message
    assert "01-clean" in message and "SchemaValidationError" in message
    assert FERGUSON_POLICE_FILE in message and "column 'total_employees_officers'" in message
    assert "row 6: 'forty'" in message
    assert (processed / "_failed" / "01-clean.ipynb").is_file()
    assert processed_tables(processed) == before
    no_traceback(result)


# ---------------------------------------------------------------- unknown or ambiguous agency


@pytest.mark.parametrize(
    "query, first, also",
    [("Furguson", "ferguson", []), ("St. Louis", None, ["st-louis-county", "st-louis-city"])],
    ids=["misspelled", "ambiguous"],
)
def test_unknown_or_ambiguous_agency_lists_the_closest_matches(query, first, also, tmp_path, raw_tree, processed_tree):
    """`heartbeats build --agency <query>`: an error listing the closest agencies (slug and name), no
    analysis step run, nothing written for the agency."""
    reports = tmp_path / "reports"
    result = run_cli("build", "--agency", query, "--no-pdf", env=environment(raw_tree, processed_tree, reports))
    message = result.stderr
    assert result.returncode == 2, message
    listed = re.findall(r"\(([a-z0-9-]+)\)", message.split("Closest:", 1)[-1])
    assert f"{query!r}" in message and len(listed) >= 3, message
    if first:
        assert listed[0] == first, listed
    for slug in also:
        assert slug in listed, listed
    assert not re.search(r"running\s+0[2-9]", message)
    assert not (reports / AGENCY).exists() and not (reports / query).exists()
    assert not (reports / ".work").exists() or not any((reports / ".work").iterdir())
    no_traceback(result)


# ---------------------------------------------------------------- bad parameters

BAD_SETS = [
    "colour=blue",  # unknown parameter
    "horizon_years=many",  # wrong type
    "draws=0",  # draws < 1
    "authorised_strength=-5",  # negative count
    "authorised_strength_source=test",
    "assumptions.atrition_rate=0.1",  # unknown assumption id (typo)
    "assumptions.attrition_rate=1.5",  # probability outside [0, 1]
    "assumptions.screening_pass_rate={low: 0.9, high: 0.1}",  # low > high
    "assumptions.status_quo_hires_per_year=-3",  # negative count
    "assumptions.sw_entry_salary={central: lots}",  # wrong type inside an assumption
]
TOP_LEVEL_PROBLEMS = [
    "colour: unknown parameter",
    "horizon_years:",
    "draws:",
    "authorised_strength:",
]
ASSUMPTION_PROBLEMS = [
    "unknown parameter 'atrition_rate'; did you mean attrition_rate",
    "attrition_rate: value = 1.5 is outside the allowed range [0, 1]",
    "screening_pass_rate: low (0.9) >",
    "status_quo_hires_per_year: value = -3 is outside the allowed range",
    "sw_entry_salary: central must be a number",
]


def _params_file(folder: Path, sets: list[str]) -> Path:
    """The same overrides as a YAML parameters file."""
    import yaml

    data: dict = {}
    for option in sets:
        name, value = option.split("=", 1)
        keys = name.split(".")
        target = data
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = yaml.safe_load(value)
    path = folder / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _check_all_problems_listed(result: subprocess.CompletedProcess, reports: Path, expected: list[str]) -> None:
    message = result.stderr
    assert result.returncode == 2, message
    missing = [text for text in expected if text not in message]
    assert not missing, f"not listed: {missing}\n{message}"
    assert f"{len(re.findall(r'^  - ', message, flags=re.M))} problem" in message
    assert "running" not in message
    assert not reports.exists()  # nothing ran, nothing was written
    no_traceback(result)


@pytest.mark.parametrize("route", ["--set", "params file"])
def test_bad_parameters_are_all_listed_at_once(route, tmp_path, raw_tree, processed_tree):
    """Unknown ids, wrong types, a probability outside [0, 1], low > high, negative counts and
    draws < 1, given together with --set (including --set assumptions.<id>=...) or in a parameters
    file: one error lists every one of them, and the build does not start."""
    reports = tmp_path / "reports"
    result = run_cli(
        "build",
        "--no-pdf",
        *_bad_options(route, BAD_SETS, tmp_path),
        env=environment(raw_tree, processed_tree, reports),
    )
    _check_all_problems_listed(result, reports, TOP_LEVEL_PROBLEMS + ASSUMPTION_PROBLEMS)


def _bad_options(route: str, sets: list[str], tmp_path: Path) -> list[str]:
    """The same NAME=VALUE problems given as --set options or written into a parameters file."""
    if route == "--set":
        return [a for option in sets for a in ("--set", option)]
    return ["--params", str(_params_file(tmp_path, sets))]


@pytest.mark.parametrize("route", ["--set", "params file"])
def test_bad_assumption_overrides_are_all_listed_at_once(route, tmp_path, raw_tree, processed_tree):
    """The assumption overrides alone (every top-level parameter valid): each problem listed, with the
    closest id for a misspelled one, and the build does not start."""
    sets = [s for s in BAD_SETS if s.startswith("assumptions.")]
    reports = tmp_path / "reports"
    result = run_cli(
        "build", "--no-pdf", *_bad_options(route, sets, tmp_path), env=environment(raw_tree, processed_tree, reports)
    )
    _check_all_problems_listed(result, reports, ASSUMPTION_PROBLEMS)


# ---------------------------------------------------------------- mirror or network unavailable


def test_fetch_from_a_mirror_that_does_not_exist_names_file_mirror_and_variable(tmp_path):
    """`heartbeats fetch` into an empty raw folder with HEARTBEATS_DATA_MIRROR pointing nowhere."""
    raw, mirror = tmp_path / "raw", tmp_path / "no-such-mirror"
    raw.mkdir()
    env = environment(raw, tmp_path / "processed", tmp_path / "reports", HEARTBEATS_DATA_MIRROR=str(mirror))
    result = run_cli("fetch", env=env)
    first = registry.load_registry()[0]
    message = result.stderr
    assert result.returncode == 4, message
    assert f"Could not copy {first.path}" in message
    assert str(mirror) in message and str(mirror / first.path) in message
    assert "HEARTBEATS_DATA_MIRROR" in message
    assert [p for p in raw.rglob("*") if p.is_file()] == []  # no partial file left behind
    no_traceback(result)


def test_fetch_from_a_mirror_missing_one_file_keeps_what_it_copied(tmp_path, mirror):
    """A mirror that lacks one file (the offline equivalent of an unreachable upstream): the command
    names that file, where it looked and HEARTBEATS_DATA_MIRROR; every file copied before it is
    complete and verified, no partial file is left; a rerun with the complete mirror finishes the job."""
    entries = registry.load_registry()
    absent = entries[len(entries) // 2]
    partial_mirror = tmp_path / "mirror"
    shutil.copytree(mirror, partial_mirror)
    (partial_mirror / absent.path).unlink()
    raw = tmp_path / "raw"
    env = environment(raw, tmp_path / "processed", tmp_path / "reports", HEARTBEATS_DATA_MIRROR=str(partial_mirror))

    result = run_cli("fetch", env=env)
    message = result.stderr
    assert result.returncode == 4, message
    assert f"Could not copy {absent.path}" in message and str(partial_mirror / absent.path) in message
    assert "HEARTBEATS_DATA_MIRROR" in message
    no_traceback(result)
    landed = [p for p in raw.rglob("*") if p.is_file()]
    assert not [p for p in landed if p.name.endswith(".partial")]
    by_path = {e.path: e for e in entries}
    assert len(landed) == len(entries) // 2  # everything before the missing file
    for path in landed:
        assert registry.sha256_of(path) == by_path[str(path.relative_to(raw))].sha256
    assert not (raw / absent.path).exists()

    env["HEARTBEATS_DATA_MIRROR"] = str(mirror)
    rerun = run_cli("fetch", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(landed)} already present, {len(entries) - len(landed)} copied" in rerun.stdout
    assert run_cli("verify", env=env).returncode == 0


def test_fetch_without_a_mirror_and_no_network_names_file_url_and_variable(tmp_path):
    """No mirror and the network down: every proxy variable points at a local port that refuses
    connections (a socket bound but not listening), so the download fails at once and nothing leaves
    this machine. The message names the file, its URL and HEARTBEATS_DATA_MIRROR."""
    raw = tmp_path / "raw"
    raw.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed_port.getsockname()[1]}"
        proxies = {
            name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
        }
        env = environment(raw, tmp_path / "processed", tmp_path / "reports", NO_PROXY="", no_proxy="", **proxies)
        result = run_cli("fetch", env=env, timeout=120)
    first = registry.load_registry()[0]
    message = result.stderr
    assert result.returncode == 4, message
    assert f"Could not download {first.path} from {first.url}" in message
    assert "HEARTBEATS_DATA_MIRROR" in message
    assert [p for p in raw.rglob("*") if p.is_file()] == []
    no_traceback(result)


# ---------------------------------------------------------------- unwritable or full output folder


@pytest.mark.parametrize(
    "folder_variable, command",
    [
        ("HEARTBEATS_REPORTS_DIR", ["build", "--no-pdf"]),
        ("HEARTBEATS_PROCESSED_DIR", ["clean"]),
    ],
    ids=["reports", "processed"],
)
def test_unwritable_output_folder_gives_a_clear_error(folder_variable, command, tmp_path, raw_tree, processed_tree):
    """An output folder that cannot be created (its parent is a regular file: chmod does not stop
    root): a one-paragraph error naming the folder and the variable that relocates it, no traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = environment(raw_tree, processed_tree, tmp_path / "reports")
    env[folder_variable] = str(blocker / "output")
    result = run_cli(*command, env=env)
    message = result.stderr
    assert result.returncode == 6, message
    assert f"Cannot write to the output folder {blocker / 'output'}" in message
    assert f"point {folder_variable} at a writable folder" in message
    no_traceback(result)


def test_unwritable_raw_folder_gives_a_clear_error(tmp_path, mirror):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = environment(blocker / "raw", tmp_path / "processed", tmp_path / "reports", HEARTBEATS_DATA_MIRROR=str(mirror))
    result = run_cli("fetch", env=env)
    assert result.returncode == 6, result.stderr
    assert str(blocker / "raw") in result.stderr and "Not a directory" in result.stderr
    no_traceback(result)


def _can_mount_privately() -> str | None:
    """Why a private tmpfs cannot be mounted here, or None if it can (in a mount namespace of its own,
    so nothing outside the test ever sees it)."""
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, text=True
    )
    return None if probe.returncode == 0 else f"cannot mount a tmpfs in a private namespace: {probe.stderr.strip()}"


def _run_on_small_tmpfs(
    size_kb: int, mount_point: Path, prepare: str, command: list[str], env: dict[str, str], keep: Path
) -> subprocess.CompletedProcess:
    """Mount a tmpfs of size_kb at mount_point in a private mount namespace, run `prepare` (shell) and
    the command there, then copy the tmpfs contents to keep (the tmpfs vanishes with the namespace)."""
    mount_point.mkdir()
    quoted = " ".join(f"'{part}'" for part in command)
    script = (
        f"mount -t tmpfs -o size={size_kb}k tmpfs '{mount_point}' || exit 90\n"
        f"{prepare}\n"
        f"{quoted}\n"
        "code=$?\n"
        f"cp -a '{mount_point}/.' '{keep}'\n"
        "exit $code\n"
    )
    keep.mkdir()
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )


def test_full_output_folder_gives_a_clear_error_and_leaves_it_as_it_was(tmp_path, raw_tree, processed_tree):
    """A reports folder on a completely full (private) tmpfs: the disk-full error, no traceback, and
    the folder left as it was."""
    reason = _can_mount_privately()
    if reason:
        pytest.skip(reason)
    mount_point, keep = tmp_path / "mnt", tmp_path / "after"
    env = environment(raw_tree, processed_tree, mount_point / "reports")
    prepare = f"mkdir '{mount_point}/reports' && (dd if=/dev/zero of='{mount_point}/filler' bs=4k 2>/dev/null; true)"
    result = _run_on_small_tmpfs(64, mount_point, prepare, cli_command("build", "--no-pdf"), env, keep)
    message = result.stderr
    assert result.returncode == 6, message
    assert f"Cannot write to the output folder {mount_point / 'reports'}: the disk is full" in message
    no_traceback(result)
    assert sorted(p.name for p in (keep / "reports").iterdir()) == []


@pytest.mark.slow
def test_disk_filling_up_while_publishing_keeps_the_old_report(tmp_path, raw_tree, processed_tree, published):
    """The reports folder sits on a (private) tmpfs with room for the published report and its build
    folder plus 512 KB: the next publish (adding the PDF, so only the publish step runs) runs out of
    space half-way. A clear error, no traceback; the old report is untouched and no half-written
    version is left beside it."""
    reason = _can_mount_privately()
    if reason:
        pytest.skip(reason)
    reports = copy_reports(published, tmp_path / "reports")
    used_kb = sum(math.ceil(p.stat().st_size / 4096) * 4 for p in reports.rglob("*") if p.is_file())
    before = report_state(reports)
    mount_point, keep = tmp_path / "mnt", tmp_path / "after"
    env = environment(raw_tree, processed_tree, mount_point / "reports")
    prepare = f"cp -a '{reports}' '{mount_point}/reports' || exit 91"
    result = _run_on_small_tmpfs(
        used_kb + 512, mount_point, prepare, cli_command("build", "--params", str(PARAMS_FILE)), env, keep
    )
    message = result.stderr
    assert result.returncode == 6, message
    assert "No space left on device" in message or "the disk is full" in message, message
    no_traceback(result)
    assert re.search(r"running\s+publish", message), "the build should have reached the publish step"
    after = keep / "reports"
    assert report_state(after) == before
    versions = sorted(p.name for p in (after / ".published").iterdir())
    assert versions == [Path(before["target"]).name], versions


# ---------------------------------------------------------------- hostile strings


HOSTILE_NAME = 'Ferguson <script>alert("name")</script><img src=x onerror=alert(1)>'
HOSTILE_TEXT = '<iframe src="javascript:alert(2)"></iframe> & <b onmouseover=alert(3)>bold</b>'


def test_brief_functions_render_hostile_strings_as_text(tmp_path):
    """Unit route: every brief section built from a context whose agency name, claim sentences and
    values, sources, figure title, alt text, chart data and build command hold HTML and script."""
    from heartbeats_analysis.report import brief
    from heartbeats_analysis.report.claims import Claim, ClaimsRegistry
    from heartbeats_analysis.report.style import FigureRecord

    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (figures / "x.csv").write_text(f'call_type,count\n"{HOSTILE_TEXT}",3\n')
    record = FigureRecord(
        name="x",
        title=HOSTILE_TEXT,
        alt_text=HOSTILE_TEXT,
        source_line=HOSTILE_TEXT,
        notebook="02-staffing",
        function=HOSTILE_TEXT,
        png="x.png",
        svg="x.svg",
        data_csv="x.csv",
    )
    claims = ClaimsRegistry(
        [
            Claim(
                id="staffing.latest_sworn",
                value=30,
                unit="sworn officers",
                sentence=f"{HOSTILE_NAME} had 30.",
                source=[HOSTILE_TEXT],
            ),
            Claim(
                id="staffing.extra", value=HOSTILE_TEXT, unit=HOSTILE_TEXT, sentence=HOSTILE_TEXT, flags=["small_cell"]
            ),
            Claim(
                id="scorecard.fills_shortage",
                value=HOSTILE_TEXT,
                unit="verdict",
                sentence=HOSTILE_TEXT,
                source=[HOSTILE_TEXT],
            ),
            Claim(id="scorecard_summary.fills_shortage", value="supported", unit="verdict", sentence=HOSTILE_TEXT),
            Claim(id="model.p_close_gap_year5", value=0.2, unit="probability", sentence=HOSTILE_TEXT),
        ]
    )
    manifest = {
        "agency_display_name": HOSTILE_NAME,
        "data_as_of": HOSTILE_TEXT,
        "git_commit": HOSTILE_TEXT,
        "data_registry_sha256": HOSTILE_TEXT,
        "build_command": f"heartbeats build --agency '{HOSTILE_NAME}'",
        "parameters": {"agency": HOSTILE_NAME},
        "package_versions": {HOSTILE_TEXT: HOSTILE_TEXT},
    }
    ctx = brief.BriefContext(AGENCY, HOSTILE_NAME, tmp_path, claims, [record], manifest)

    parts = [
        brief.title_block(ctx),
        brief.executive_summary(ctx),
        brief.key_numbers(ctx),
        brief.scorecard(ctx),
        brief.section(ctx, "staffing"),
        brief.how_made(ctx),
        brief.chart_data_appendix(ctx),
    ]
    document = "".join(part.data for part in parts)
    markup = Markup.of(document)
    assert markup.injected() == []
    text = "".join(markup.text)
    assert HOSTILE_NAME in text and HOSTILE_TEXT in text
    # attribute values are escaped too (alt text, data-claim)
    assert any(attrs.get("alt") == HOSTILE_TEXT for tag, attrs in markup.tags if tag == "img")


def test_notebook_findings_render_hostile_strings_as_text():
    """Unit route for the technical appendix: what a notebook cell showing Findings puts in the
    executed notebook (its rich display formats), rendered the way nbconvert renders them (HTML as
    it is, Markdown through markdown2html): a sentence holding HTML must come out as text."""
    from IPython.core.formatters import DisplayFormatter
    from nbconvert.filters import markdown2html

    from heartbeats_analysis.analysis import Findings
    from heartbeats_analysis.report.claims import Claim

    findings = Findings(
        (
            Claim(
                id="staffing.latest_sworn",
                value=30,
                unit="sworn officers",
                sentence=f"{HOSTILE_NAME} had {HOSTILE_TEXT} 30 officers.",
            ),
        )
    )
    formats, _ = DisplayFormatter().format(findings)
    rendered = {
        "text/html": formats.get("text/html"),
        "text/markdown": markdown2html(formats["text/markdown"]) if "text/markdown" in formats else None,
    }
    rendered = {kind: page for kind, page in rendered.items() if page}
    assert rendered, formats
    for kind, page in rendered.items():
        markup = Markup.of(page)
        assert markup.injected() == [], (kind, page)
        assert HOSTILE_NAME in "".join(markup.text), (kind, page)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, raw_tree, processed_tree) -> Path:
    """A first build from processed tables in which Ferguson's display name and some call types hold
    HTML and script.

    Route: the raw files are checksummed, so hostile text cannot honestly enter through them; the
    processed tables are where every notebook reads names from, so the text is put there (agencies.csv
    display_name; calls_for_service.csv call_type), after an up-to-date clean so the build uses them."""
    work = tmp_path_factory.mktemp("hostile")
    processed = fresh_processed_copy(processed_tree, work / "processed", raw_tree)

    def rename_ferguson(header, rows):
        slug, name = header.index("agency_slug"), header.index("display_name")
        next(r for r in rows if r[slug] == AGENCY)[name] = HOSTILE_NAME

    def hostile_call_types(header, rows):
        at = header.index("call_type")
        for row in rows[::50]:
            row[at] = f"{row[at]} {HOSTILE_TEXT}"

    rewrite_csv(processed / "agencies.csv", rename_ferguson)
    rewrite_csv(processed / "calls_for_service.csv", hostile_call_types)
    reports = work / "reports"
    result = run_cli("build", "--params", str(PARAMS_FILE), "--no-pdf", env=environment(raw_tree, processed, reports))
    assert result.returncode == 0, result.stderr
    return reports / AGENCY


@pytest.mark.slow
def test_hostile_agency_name_is_text_in_the_built_brief(hostile_report):
    """End to end: the brief shows the hostile name as text (title, claim sentences) and holds no
    markup that came from the data."""
    document = (hostile_report / "brief.html").read_text(encoding="utf-8")
    markup = Markup.of(document)
    assert markup.injected() == []
    text = "".join(markup.text)
    assert f"City Council of {HOSTILE_NAME}, Missouri" in text
    assert text.count(HOSTILE_NAME) >= 5  # the name reaches the claim sentences too


@pytest.mark.slow
def test_hostile_agency_name_is_text_in_the_published_appendix(hostile_report):
    """End to end: the technical appendix published with the brief holds no markup from the data."""
    injected = {
        page.name: Markup.of(page.read_text(encoding="utf-8")).injected()
        for page in sorted((hostile_report / "appendix").glob("*.html"))
    }
    assert injected and all(found == [] for found in injected.values()), injected


# ---------------------------------------------------------------- a notebook raises


@pytest.fixture(scope="module")
def failed_build(tmp_path_factory, raw_tree, processed_tree, published):
    """A rebuild over the published report from processed tables in which staffing.csv lacks its
    sworn_officers column, so 02-staffing raises (KeyError) while the other notebooks run.

    Route: no parameter that passes validation makes a notebook raise, and a notebook cannot be
    monkeypatched from outside its kernel; a table missing a column the analysis needs is an honest,
    realistic fault (a header-only staffing.csv does not do: the staffing notebook reports 'no data'
    and the build succeeds). The clean step is brought up to date first so the tampered table is used."""
    work = tmp_path_factory.mktemp("failed")
    processed = fresh_processed_copy(processed_tree, work / "processed", raw_tree)

    def drop_sworn(header, rows):
        at = header.index("sworn_officers")
        return [c for i, c in enumerate(header) if i != at], [[c for i, c in enumerate(r) if i != at] for r in rows]

    rewrite_csv(processed / "staffing.csv", drop_sworn)
    reports = copy_reports(published, work / "reports")
    before = report_state(reports)
    result = run_cli("build", "--params", str(PARAMS_FILE), "--no-pdf", env=environment(raw_tree, processed, reports))
    return result, reports, before


@pytest.mark.slow
def test_failed_notebook_is_kept_and_the_published_brief_is_untouched(failed_build):
    result, reports, before = failed_build
    message = result.stderr
    assert result.returncode == 5, message
    assert re.search(r"Notebook 02-staffing\.ipynb failed in cell \d+", message), message
    assert "KeyError" in message and "sworn_officers" in message
    kept = reports / AGENCY / "_failed" / "02-staffing.ipynb"
    assert str(kept) in message
    notebook = nbformat.read(kept, as_version=4)
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert len(errors) == 1 and errors[0]["ename"] == "KeyError" and errors[0]["traceback"]
    assert report_state(reports) == before  # same version, byte-identical brief, claims and manifest
    no_traceback(result)


@pytest.mark.slow
def test_failed_notebook_message_quotes_the_failing_cell(failed_build):
    result, reports, _ = failed_build
    notebook = nbformat.read(reports / AGENCY / "_failed" / "02-staffing.ipynb", as_version=4)
    failing = next(
        c
        for c in notebook.cells
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))
    )
    assert f"failed in cell {failing.execution_count} " in result.stderr
    assert failing.source.strip().splitlines()[0][:80] in result.stderr, result.stderr


# ---------------------------------------------------------------- atomic publishing


# A rebuild with other peers: every analysis notebook declares `peers`, so all of them rerun (and the
# new report differs from the old one).
NEW_PEERS = ["florissant", "hazelwood", "berkeley"]
NEW_PEERS_OPTION = f"peers=[{', '.join(NEW_PEERS)}]"
ANALYSIS_STEP_STARTED = r"running\s+0[2-6]-"

KILLS = {
    # name: (existing report?, build options, wait for this stderr line (None: from the start), then seconds, signal)
    "first build, Ctrl-C after 2 s": (False, ["--no-pdf"], None, 2.0, signal.SIGINT),
    "first build, SIGKILL during the notebooks": (False, ["--no-pdf"], ANALYSIS_STEP_STARTED, 4.0, signal.SIGKILL),
    "rebuild, Ctrl-C during the notebooks": (
        True,
        ["--no-pdf", "--set", NEW_PEERS_OPTION],
        ANALYSIS_STEP_STARTED,
        4.0,
        signal.SIGINT,
    ),
    "rebuild, SIGKILL when publishing starts": (True, [], r"running\s+publish", 0.0, signal.SIGKILL),
    "rebuild, Ctrl-C when publishing starts": (True, [], r"running\s+publish", 0.0, signal.SIGINT),
}


@pytest.mark.slow
@pytest.mark.parametrize("moment", list(KILLS))
def test_a_killed_build_leaves_the_old_report_or_none(moment, tmp_path, raw_tree, processed_tree, published):
    """A build interrupted at several moments leaves reports/ferguson either absent (first build) or
    the old complete report (same version, byte-identical brief, claims and manifest), never a mix.

    Rebuilds that must reach the publish step quickly add the PDF to a report published without it:
    every notebook step is unchanged, so only publishing (with the slow PDF print) runs."""
    existing, options, pattern, delay, sig = KILLS[moment]
    reports = copy_reports(published, tmp_path / "reports") if existing else tmp_path / "reports"
    before = report_state(reports) if existing else None
    env = environment(raw_tree, processed_tree, reports)
    with LiveBuild(["build", "--params", str(PARAMS_FILE), *options], env) as build:
        if pattern is not None:
            assert build.wait_for(pattern, timeout=BUILD_TIMEOUT_S), build.stderr
        time.sleep(delay)
        assert build.process.poll() is None, f"the build ended before the kill:\n{build.stderr}"
        build.interrupt() if sig == signal.SIGINT else build.kill()
        code = build.finish()
    assert code != 0, build.stderr
    state = report_state(reports)
    if state is not None and state != before:
        # The signal landed after the atomic swap: then the new report must be complete.
        assert_complete_report(reports / AGENCY)
    else:
        assert state == before


@pytest.mark.slow
def test_a_rerun_after_a_killed_build_publishes_the_new_report(tmp_path, raw_tree, processed_tree, published):
    """SIGKILL a rebuild with other peers in the middle of its notebooks; rerunning the same command
    succeeds and publishes the new complete report, and no version from the killed build is left."""
    reports = copy_reports(published, tmp_path / "reports")
    before = report_state(reports)
    args = ["build", "--params", str(PARAMS_FILE), "--no-pdf", "--set", NEW_PEERS_OPTION]
    env = environment(raw_tree, processed_tree, reports)
    with LiveBuild(args, env) as build:
        assert build.wait_for(ANALYSIS_STEP_STARTED, timeout=BUILD_TIMEOUT_S), build.stderr
        time.sleep(4.0)
        build.kill()
        build.finish()
    assert report_state(reports) == before

    rerun = run_cli(*args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert_complete_report(reports / AGENCY)
    manifest = json.loads((reports / AGENCY / "manifest.json").read_text())
    assert manifest["parameters"]["peers"] == NEW_PEERS
    assert [p.name for p in (reports / ".published").iterdir()] == [Path(os.readlink(reports / AGENCY)).name]


@pytest.mark.slow
def test_ctrl_c_starts_no_further_step(tmp_path, raw_tree, processed_tree):
    """Ctrl-C while the analysis notebooks run: the notebooks already running may finish, but no
    further step starts, and the command ends with 'Interrupted' and exit code 130."""
    env = environment(raw_tree, processed_tree, tmp_path / "reports")
    with LiveBuild(["build", "--params", str(PARAMS_FILE), "--no-pdf"], env) as build:
        assert build.wait_for(ANALYSIS_STEP_STARTED, timeout=BUILD_TIMEOUT_S), build.stderr
        time.sleep(1.0)
        interrupted = time.monotonic()
        build.interrupt()
        code = build.finish()
    # Lines written just before the signal may be read a little after it.
    started_after = [
        line
        for line, when in zip(build.lines, build.arrived, strict=True)
        if when > interrupted + 0.5 and re.search(r"running\s", line)
    ]
    assert started_after == [], build.stderr
    assert code == 130 and "Interrupted" in build.stderr, build.stderr
    assert report_state(tmp_path / "reports") is None


@pytest.mark.slow
def test_ctrl_c_stops_a_batch_and_leaves_no_kernel_running(tmp_path, raw_tree, processed_tree):
    """Ctrl-C while a batch's builds share warm kernels: the command ends promptly with 'Interrupted'
    and exit code 130, every process it started (kernels, browsers) has ended, and each agency's
    report is absent or complete."""
    reports = tmp_path / "reports"
    env = environment(raw_tree, processed_tree, reports)
    agencies = ["ferguson", "florissant", "hazelwood"]
    with LiveBuild(["batch", *agencies, "--no-pdf"], env) as batch:
        assert batch.wait_for(r"Building 3 briefs", timeout=BUILD_TIMEOUT_S), batch.stderr
        deadline = time.monotonic() + 60
        while not any("ipykernel" in _command_line(pid) for pid in batch.seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2.0)
        assert batch.process.poll() is None, f"the batch ended before the interrupt:\n{batch.stderr}"
        interrupted = time.monotonic()
        batch.interrupt()
        code = batch.finish(timeout=90)
        ended_in = time.monotonic() - interrupted
        still_running = [pid for pid, start in batch.seen.items() if _start_time(pid) == start]
    assert code == 130 and "Interrupted" in batch.stderr, batch.stderr
    assert ended_in < 60, f"the batch took {ended_in:.0f} s to stop"
    assert still_running == [], [_command_line(pid) for pid in still_running]
    published = [agency for agency in agencies if (reports / agency).is_symlink()]
    for agency in published:
        assert_complete_report_of(reports / agency, agency)
    versions = {p.name for p in (reports / ".published").iterdir()} if (reports / ".published").is_dir() else set()
    assert versions == {Path(os.readlink(reports / agency)).name for agency in published}  # no half-written version


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- concurrent builds, identical claims


@pytest.fixture(scope="module")
def second_build(tmp_path_factory, raw_tree, processed_tree, published):
    """A second, independent Ferguson build (A), made differently from `published`: a new reports folder
    at another path, its own copy of the processed tables, notebooks one at a time (HEARTBEATS_JOBS=1),
    another hash seed and working folder. While A runs its notebooks a second build of the same agency
    (B) is started in the same reports folder."""
    work = tmp_path_factory.mktemp("second")
    processed = fresh_processed_copy(processed_tree, work / "processed", raw_tree)
    reports = work / "reports"
    env = environment(raw_tree, processed, reports, HEARTBEATS_JOBS="1", PYTHONHASHSEED="4242")
    args = ["build", "--params", str(PARAMS_FILE), "--no-pdf"]
    with LiveBuild(args, env, cwd=work) as first:
        assert first.wait_for(r"running\s+02-staffing", timeout=BUILD_TIMEOUT_S), first.stderr
        second = run_cli(*args, env=env, cwd=work)
        first_running_when_refused = first.process.poll() is None
        code = first.finish()
    return {
        "code": code,
        "stderr": first.stderr,
        "reports": reports,
        "second": second,
        "first_running": first_running_when_refused,
    }


@pytest.mark.slow
def test_a_second_build_of_the_same_agency_is_refused_while_one_runs(second_build):
    second = second_build["second"]
    assert second_build["first_running"], "build A ended before B tried: the test proves nothing"
    assert second.returncode == 7, second.stderr
    assert "Another build of 'ferguson' is running" in second.stderr
    assert str(second_build["reports"] / ".locks" / "ferguson.lock") in second.stderr
    assert not re.search(r"running\s+0[2-9]", second.stderr)  # B ran no notebook
    no_traceback(second)
    assert second_build["code"] == 0, second_build["stderr"]
    assert_complete_report(second_build["reports"] / AGENCY)


@pytest.mark.slow
def test_two_builds_give_identical_claims(second_build, published):
    """The claims do not depend on where, how fast or in what order the notebooks ran (test_brief.py
    compares the HTML of a --force rebuild made the same way)."""
    assert second_build["code"] == 0, second_build["stderr"]
    ours = (second_build["reports"] / AGENCY / "claims.json").read_bytes()
    assert ours == (published / AGENCY / "claims.json").read_bytes()
