"""Build many agencies' briefs in parallel; one agency's failure never stops the others."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .build import run_clean
from .paths import PROJECT_ROOT, reports_dir
from .tables import load_table


@dataclass(frozen=True)
class BatchResult:
    agency: str
    ok: bool
    seconds: float
    detail: str


def agencies_with_complete_data() -> list[str]:
    """Agencies with FBI (UCR) data, vehicle stops and a census population: full briefs are possible."""
    agencies = load_table("agencies")
    complete = agencies
    for column in ("in_ucr", "in_vsr", "has_population"):
        if column in complete:
            complete = complete[complete[column].fillna(False).astype(bool)]
    return sorted(complete["agency_slug"].astype(str))


def _build_one(agency: str, with_pdf: bool, sets: list[str]) -> BatchResult:
    command = [sys.executable, "-m", "heartbeats_analysis.cli", "--quiet", "build", "--agency", agency]
    if not with_pdf:
        command.append("--no-pdf")
    for option in sets:
        command += ["--set", option]
    started = time.perf_counter()
    # Agencies already build in parallel: each build runs its notebooks one at a time.
    env = {**os.environ, "HEARTBEATS_JOBS": "1"}
    finished = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if finished.returncode == 0:
        return BatchResult(agency, True, seconds, str(reports_dir() / agency / "brief.html"))
    cause = (finished.stderr.strip() or finished.stdout.strip()).replace("Error: ", "", 1)
    return BatchResult(agency, False, seconds, " ".join(cause.split())[:300])


def run_batch(
    agencies: list[str] | None = None,
    jobs: int | None = None,
    with_pdf: bool = True,
    sets: list[str] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> list[BatchResult]:
    run_clean()  # once, before the parallel builds share the processed tables
    names = agencies or agencies_with_complete_data()
    jobs = jobs or os.cpu_count() or 1
    say(f"Building {len(names)} briefs with {jobs} parallel job(s)")
    results: list[BatchResult] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress, ThreadPoolExecutor(max_workers=jobs) as pool:
        task = progress.add_task("briefs", total=len(names))
        futures = {pool.submit(_build_one, name, with_pdf, list(sets or [])): name for name in names}
        for future in as_completed(futures):
            results.append(future.result())
            progress.advance(task)
    results.sort(key=lambda r: r.agency)
    write_index(results)
    return results


def write_index(results: list[BatchResult], path: Path | None = None) -> Path:
    path = path or reports_dir() / "index.html"
    rows = []
    for r in results:
        name = html.escape(r.agency)
        if r.ok:
            cell = f'<a href="{name}/brief.html">brief</a> · <a href="{name}/brief.pdf">PDF</a>'
        else:
            cell = f"failed: {html.escape(r.detail)}"
        rows.append(f"<tr><td>{name}</td><td>{cell}</td></tr>")
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>Project Heartbeats briefs</title><style>body{font-family:sans-serif;max-width:40em;margin:2em auto}"
        "td{padding:2px 10px}</style></head><body><h1>Project Heartbeats briefs</h1><table>"
        + "".join(rows) + "</table></body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
