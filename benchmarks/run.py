"""Benchmarks of the build on this machine; prints the figures and writes benchmarks/RESULTS.md.

A script, not a timed test: timings depend on the machine and on whatever else it is doing.

    .venv/bin/python benchmarks/run.py [--agencies 8] [--skip-naive]

Measures, each in fresh temporary folders (raw data is read from data/raw, already fetched):
  threshold fit   the statewide threshold test (`python -m heartbeats_analysis.analysis.threshold_model`), a cached
                  step of its own: its result seeds every fresh folder below, whose times therefore exclude it
  cold build      `heartbeats build` with no processed tables and no earlier report (three times, each in fresh
                  folders; the median, and each time)
  no-op rebuild   the same command again: every step is skipped
  assumption      one model assumption changed (`--set assumptions.attrition_rate=...`), three times each: with
                  `heartbeats serve` running (with the PDF, and HTML only), and each command in its own
                  process (`--local`); an untimed build first brings the build up to date
  batch           `heartbeats batch` of N agencies from nothing (its cleaning included), three times: briefs per
                  minute
  naive baseline  `jupyter nbconvert --execute` on each notebook in turn, then the HTML export
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BATCH_AGENCIES = [
    "ferguson",
    "florissant",
    "hazelwood",
    "berkeley",
    "bellefontaine-neighbors",
    "normandy",
    "northwoods",
    "overland",
    "st-ann",
    "st-john",
    "country-club-hills",
    "bel-ridge",
]


def run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds the command took, and what it printed on stderr."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return seconds, result.stderr


def timed(command: list[str], env: dict[str, str]) -> float:
    return run(command, env)[0]


def heartbeats(*args: str, verbosity: str = "--quiet") -> list[str]:
    return [str(VENV_BIN / "heartbeats"), verbosity, *args]


def step_times(stderr: str) -> list[tuple[str, float]]:
    """The per-step timings `heartbeats --verbose build` prints ("done 02-staffing in 1.1 s")."""
    return [(name, float(seconds)) for name, seconds in re.findall(r"done\s+(\S+) in ([\d.]+) s", stderr)]


def speed_probe() -> float:
    """Seconds a fixed pure-Python loop takes (10 million multiply-adds): the machine's speed at that moment. On the
    shared 2-core development machine it ranged from 1.1 to 2.3 s within minutes (its CPU share varies), and the
    build's timings with it: read each figure beside the probe taken just before it."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i * i
    return time.perf_counter() - started


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def fresh_env(folder: Path) -> dict[str, str]:
    (folder / "processed").mkdir(parents=True, exist_ok=True)
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "HEARTBEATS_PROCESSED_DIR": str(folder / "processed"),
        "HEARTBEATS_REPORTS_DIR": str(folder / "reports"),
    }


THRESHOLD_STEP = "threshold-fit"


def threshold_fit(folder: Path) -> float:
    """Time the statewide threshold fit on the project's processed stops table, into ``folder``."""
    processed = ROOT / "data" / "processed"
    if not (processed / "stops.csv").is_file():
        raise SystemExit("benchmarks need data/processed/stops.csv: run `make processed` first")
    return timed(
        [sys.executable, "-m", "heartbeats_analysis.analysis.threshold_model", str(folder), str(processed)],
        dict(os.environ),
    )


def seed_threshold_fit(fit: Path, env: dict[str, str]) -> None:
    """Give a fresh processed folder the statewide fit and its stamp, as a cached step would find them (the fit
    reruns only when the stops table changes, and cleaning makes the same stops table)."""
    import shutil

    processed = Path(env["HEARTBEATS_PROCESSED_DIR"])
    shutil.copytree(fit, processed / fit.name, dirs_exist_ok=True)
    stamp = ROOT / "data" / "processed" / ".stamps" / f"{THRESHOLD_STEP}.json"
    if stamp.is_file():
        (processed / ".stamps").mkdir(exist_ok=True)
        shutil.copy2(stamp, processed / ".stamps" / stamp.name)


def naive_build(env: dict[str, str], out: Path) -> float:
    """What a person would do without the pipeline: execute each notebook in turn, then export."""
    jupyter = str(VENV_BIN / "jupyter")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    started = time.perf_counter()
    for notebook in notebooks:
        subprocess.run(
            [
                jupyter,
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.kernel_name=heartbeats",
                "--ExecutePreprocessor.timeout=900",
                "--output-dir",
                str(out),
                str(notebook),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    subprocess.run(
        [jupyter, "nbconvert", "--to", "html", "--no-input", "--output-dir", str(out), str(out / "90-brief.ipynb")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


ASSUMPTION_VALUES = ("0.19", "0.21", "0.23")


# How the analyst's loop is timed: (label, with `heartbeats serve`, with the PDF, target). Served, the command returns
# once the HTML brief is published and the server prints the PDFs next: its row also gives when they were ready.
ASSUMPTION_MODES = (
    ("`heartbeats serve` running (the command returns with the HTML brief published)", True, True, "under 4 s"),
    ("`heartbeats serve` running, HTML only (`--no-pdf`)", True, False, ""),
    ("in its own process (`--local`)", False, True, ""),
)


def assumption_rebuilds(
    env: dict[str, str], *, served: bool, pdf: bool = True
) -> list[tuple[str, float, list[tuple[str, float]], float | None]]:
    """Time `build --set assumptions.attrition_rate=...` once per value (each differs, so the model reruns) on
    the build already there: with `heartbeats serve` running (the analyst's loop), or each in its own process;
    with the PDF or (`--no-pdf`) the HTML brief only. A served build with the PDF returns before its PDFs are
    printed: the same command again (a no-op, which the server answers once they are) gives when they were ready,
    the last item of its row (None otherwise), and starts the next change on an idle server."""
    build = ["build", "--params", "params/ferguson.yaml", *([] if pdf else ["--no-pdf"])]
    rows = []
    server = None
    if served:
        server = subprocess.Popen(
            heartbeats("serve", "--idle-minutes", "10"), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        for line in server.stderr:
            if "listening on" in line:
                break
        else:
            raise SystemExit("heartbeats serve did not start")
        time.sleep(8)  # the analyst's server has warmed its kernels long before the next change
    try:
        # Untimed: brings the build up to date (and, when served, runs the server's kernels once), so that
        # each timed command changes only the assumption.
        run(heartbeats(*build, *([] if served else ["--local"])), env)
        for value in ASSUMPTION_VALUES:
            local = [] if served else ["--local"]
            change = ("--set", f"assumptions.attrition_rate={value}")
            seconds, log = run(heartbeats(*build, *local, *change, verbosity="--verbose"), env)
            pdf_ready = seconds + timed(heartbeats(*build, *change), env) if served and pdf else None
            rows.append((value, seconds, step_times(log), pdf_ready))
    finally:
        if server is not None:
            run(heartbeats("serve", "--stop"), env)
            server.wait(60)
    return rows


def median_seconds(rows: list[tuple], column: int = 1) -> float:
    return sorted(row[column] for row in rows)[len(rows) // 2]


def assumption_result(rows: list[tuple]) -> str:
    """Median and each run; for a served build with the PDF, also when its PDFs were ready."""
    text = f"{median_seconds(rows):.1f} s ({', '.join(f'{row[1]:.1f}' for row in rows)})"
    if rows and rows[0][3] is not None:
        text += f"; PDFs ready at {median_seconds(rows, 3):.1f} s ({', '.join(f'{row[3]:.1f}' for row in rows)})"
    return text


def assumption_rebuild() -> None:
    """`--assumption-only`: the analyst's loop on the build already in reports/, served and in its own process."""
    env = dict(os.environ)
    load_before, probe_before = load_average(), speed_probe()
    timings = [(label, assumption_rebuilds(env, served=served, pdf=pdf)) for label, served, pdf, _ in ASSUMPTION_MODES]
    probe_after = speed_probe()
    lines = [
        "# Rebuild after one assumption change",
        "",
        f"Measured by `benchmarks/run.py --assumption-only` on {platform.machine()}, {os.cpu_count()} cores; load "
        f"average (1/5/15 min) {load_before} before, {load_average()} after; speed probe (a fixed Python loop, lower "
        f"is faster) {probe_before:.2f} s before, {probe_after:.2f} s after. Target: under 4 s.",
        "",
        "| how | attrition_rate set to | total | PDFs ready | steps |",
        "|---|---|---|---|---|",
    ]
    for how, rows in timings:
        for value, seconds, steps, pdf_ready in rows:
            ready = "" if pdf_ready is None else f"{pdf_ready:.1f} s"
            lines.append(
                f"| {how} | {value} | {seconds:.1f} s | {ready} | {', '.join(f'{n} {s:.1f} s' for n, s in steps)} |"
            )
    lines += [
        "",
        "Each row is the whole command as the analyst types it (`heartbeats build ... --set ...`), from start to",
        "exit. With the build server the notebooks run on kernels that are already warm and the PDF on a browser",
        "that is already open, and the command returns once the HTML brief is published: the server prints the",
        "PDFs next (PDFs ready: the same command again, a no-op the server answers once they are, added on; an",
        "upper bound, since it adds that command's own start of about 0.3 s).",
        "In its own process the command starts both and waits for the PDFs. Why: `docs/performance.md`.",
    ]
    (ROOT / "benchmarks" / "ASSUMPTION.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agencies", type=int, default=8, help="agencies in the batch benchmark")
    parser.add_argument("--skip-naive", action="store_true", help="skip the naive nbconvert baseline")
    parser.add_argument(
        "--repeats", type=int, default=3, help="cold builds and batches to time (the median is reported, and each)"
    )
    parser.add_argument(
        "--assumption-only",
        action="store_true",
        help="only time a rebuild after one assumption change, on the existing build (no cold build, no batch); "
        "writes benchmarks/ASSUMPTION.md",
    )
    options = parser.parse_args()
    if options.assumption_only:
        assumption_rebuild()
        return
    rows: list[tuple[str, str, str]] = []
    probes: list[tuple[str, float]] = []

    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="heartbeats-bench-") as tmp:
        fit = Path(tmp) / "threshold_fit"
        probes.append(("threshold fit", speed_probe()))
        fit_seconds = threshold_fit(fit)
        rows.append(
            (
                "statewide threshold fit (cached step, reruns only on new stops data)",
                f"{fit_seconds:.0f} s",
                "at most 180 s",
            )
        )
        build = ["build", "--params", "params/ferguson.yaml"]
        colds: list[tuple[float, str]] = []
        for attempt in range(options.repeats):
            env = fresh_env(Path(tmp) / f"single-{attempt}")  # fresh folders: everything runs
            seed_threshold_fit(fit, env)
            probes.append((f"cold build {attempt + 1}", speed_probe()))
            colds.append(run(heartbeats(*build, verbosity="--verbose"), env))
        cold, cold_log = sorted(colds)[len(colds) // 2]
        rows.append(
            (
                f"cold build, Ferguson (clean + 8 notebooks + brief + PDF; statewide fit cached) "
                f"(median of {len(colds)})",
                f"{cold:.1f} s ({', '.join(f'{seconds:.1f}' for seconds, _ in colds)})",
                "at most 10 s",
            )
        )
        noop = timed(heartbeats(*build), env)
        rows.append(("no-op rebuild", f"{noop:.2f} s", "under 1 s"))
        for label, served, pdf, target in ASSUMPTION_MODES:
            probes.append((label.split(" (")[0], speed_probe()))
            timings = assumption_rebuilds(env, served=served, pdf=pdf)
            measure = f"rebuild after one assumption change, {label} (median of 3)"
            rows.append((measure, assumption_result(timings), target))

        # The batch starts from nothing too: its own cleaning step is part of its time.
        agencies = BATCH_AGENCIES[: options.agencies]
        batches = []
        for attempt in range(options.repeats):
            batch_env = fresh_env(Path(tmp) / f"batch-{attempt}")
            seed_threshold_fit(fit, batch_env)
            probes.append((f"batch {attempt + 1}", speed_probe()))
            batches.append(timed(heartbeats("batch", *agencies), batch_env))
        batch = sorted(batches)[len(batches) // 2]
        rows.append(
            (
                f"batch of {len(agencies)} agencies (clean + HTML + PDF) (median of {len(batches)})",
                f"{batch:.1f} s ({', '.join(f'{seconds:.1f}' for seconds in batches)})",
                "8 agencies in at most 40 s",
            )
        )
        rows.append(("batch throughput", f"{len(agencies) / batch * 60:.1f} briefs per minute", ""))

        if not options.skip_naive:
            naive_env = fresh_env(Path(tmp) / "naive")
            seed_threshold_fit(fit, naive_env)
            probes.append(("naive baseline", speed_probe()))
            naive = naive_build(naive_env, Path(tmp) / "naive" / "out")
            rows.append(
                ("naive baseline (nbconvert --execute each notebook, then export; no PDF)", f"{naive:.1f} s", "")
            )
            rows.append(("naive / cold build", f"{naive / cold:.2f}x", "at least 6x"))

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `benchmarks/run.py` on {machine}; load average "
        f"(1/5/15 min) {load_before} before, {load_average()} after.",
        "Timings vary with the machine and its load; rerun with `make bench`. How the build spends its time,",
        "and why: `docs/performance.md`.",
        "",
        "Machine speed just before each measure (`speed_probe`: a fixed pure-Python loop, lower is faster; the",
        "shared development machine has read from 0.3 to 2.3 s, at times within minutes): "
        + "; ".join(f"{name} {seconds:.2f} s" for name, seconds in probes)
        + ".",
        "",
        "| measure | result | target |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += [
        "",
        "Cold build, step by step (the analysis notebooks 02 to 06 and 08 run side by side, so their times overlap):",
        "",
        "| step | seconds |",
        "|---|---|",
    ]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in step_times(cold_log)]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
