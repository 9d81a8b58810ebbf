"""Build many agencies' briefs in parallel; one agency's failure never stops the others."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from heartbeats_analysis.build.kernel_pool import KernelPool
from heartbeats_analysis.build.pdf import PdfRenderer
from heartbeats_analysis.build.steps import build, closed_together, parallel_jobs, run_clean
from heartbeats_analysis.errors import HeartbeatsError, ParameterError
from heartbeats_analysis.ingest import fetch
from heartbeats_analysis.ingest.tables import load_table
from heartbeats_analysis.params import canonical_command, load_params, params_file_for
from heartbeats_analysis.paths import reports_dir

SECTIONS = ("staffing", "crime", "stops", "force", "calls")
"""Analysis sections, by claim prefix, whose coverage the index shows."""
FACTS = {
    "current_sworn": "sworn officers",
    "authorized_strength": "authorised strength",
    "population": "population",
    "agency_capture_share": "capture share",
    "status_quo_hires_per_year": "status-quo hires",
}
"""Agency facts (model.input_source_<id> claims) the index shows with where each came from."""


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


def build_one(agency: str, with_pdf: bool, sets: list[str], kernels: KernelPool, pdfs: PdfRenderer) -> BatchResult:
    """One agency's build, with its own params file when there is one, on the batch's warm kernels and
    PDF browser; any failure becomes this agency's result, never the batch's."""
    started = time.perf_counter()
    try:
        params_file = params_file_for(agency)
        base = {} if params_file is not None else {"agency": agency}
        params, _ = load_params(params_file, sets, base=base)
        command = canonical_command(params_file, None if params_file else agency, None, sets)
        result = build(params, with_pdf=with_pdf, kernels=kernels, pdfs=pdfs, command=command)
    except HeartbeatsError as error:
        return BatchResult(agency, False, time.perf_counter() - started, _one_line(str(error)))
    except Exception as error:  # a bug in one agency's build must not stop the others
        cause = f"unexpected {error.__class__.__name__}: {error}"
        return BatchResult(agency, False, time.perf_counter() - started, _one_line(cause))
    return BatchResult(agency, True, time.perf_counter() - started, str(result.brief_html))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


class BatchListener(Protocol):
    def started(self, total: int) -> None: ...
    def finished(self, result: BatchResult) -> None: ...


EXECUTORS = ("threads", "dask")


def run_batch(
    agencies: list[str] | None = None,
    jobs: int | None = None,
    with_pdf: bool = True,
    sets: list[str] | None = None,
    say: Callable[[str], None] = lambda _: None,
    listener: BatchListener | None = None,
    executor: str = "threads",
    scheduler: str | None = None,
) -> list[BatchResult]:
    """Build every agency. The default executor runs the builds in this process, sharing one pool of
    `jobs` warm kernels; `executor="dask"` runs them as Dask tasks (a LocalCluster of `jobs` workers, or
    the running scheduler at `scheduler`), each worker with warm kernels of its own."""
    if executor not in EXECUTORS:
        raise ParameterError(f"Unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)}.")
    if scheduler and executor != "dask":
        raise ParameterError("--scheduler names a Dask scheduler: use it with --executor dask.")
    jobs = jobs or parallel_jobs()
    results: list[BatchResult] = []

    def finished(result: BatchResult) -> None:
        results.append(result)
        if listener:
            listener.finished(result)

    with closed_together(KernelPool(jobs if executor == "threads" else 1), PdfRenderer()) as (kernels, pdfs):
        fetch.verify()
        run_clean(kernels=kernels)  # once, before the builds share the processed tables
        names = agencies or agencies_with_complete_data()
        if executor == "dask":
            kernels.close()  # the workers bring their own kernels
            where = f"the Dask scheduler at {scheduler}" if scheduler else f"a local Dask cluster of {jobs} worker(s)"
            say(f"Building {len(names)} briefs on {where}")
            if listener:
                listener.started(len(names))
            from heartbeats_analysis.build.dask_executor import run_on_dask

            run_on_dask(names, with_pdf, list(sets or []), scheduler, jobs, finished)
        else:
            say(f"Building {len(names)} briefs with {jobs} warm kernel(s)")
            if listener:
                listener.started(len(names))
            # One build more than kernels: while a build renders its brief and PDF, the kernels keep working.
            builders = ThreadPoolExecutor(max_workers=min(jobs + 1, len(names)) or 1)
            try:
                futures = [
                    builders.submit(build_one, name, with_pdf, list(sets or []), kernels, pdfs) for name in names
                ]
                for future in as_completed(futures):
                    finished(future.result())
            except BaseException:  # Ctrl-C: start no further build; closing the pool stops the running ones
                builders.shutdown(wait=False, cancel_futures=True)
                raise
            builders.shutdown()
    results.sort(key=lambda r: r.agency)
    write_index(results)
    return results


def coverage(claims_path: Path) -> dict[str, dict[str, str]]:
    """From a published brief's claims: which sections have data, and where each agency fact came from
    (params, data, proxy, general assumption or unknown)."""
    try:
        claims = {c["id"]: c for c in json.loads(Path(claims_path).read_text(encoding="utf-8"))}
    except (OSError, ValueError):
        return {"sections": {}, "facts": {}}
    sections = {}
    for section in SECTIONS:
        own = [c for c in claims.values() if c["id"].startswith(f"{section}.")]
        no_data = any("no_data" in c.get("flags", []) or c["id"] == f"{section}.no_data" for c in own)
        sections[section] = "no data" if no_data or not own else "data"
    facts = {}
    for key in FACTS:
        claim = claims.get(f"model.input_source_{key}")
        value = str(claim["value"]) if claim else "unknown"
        facts[key] = "data" if value.startswith("claim ") else value
    return {"sections": sections, "facts": facts}


def _cell(text: str, good: bool) -> str:
    return f'<td class="{"yes" if good else "no"}">{html.escape(text)}</td>'


def _coverage_cells(result: BatchResult) -> str:
    if not result.ok:
        return "<td></td>" * (len(SECTIONS) + len(FACTS))
    found = coverage(Path(result.detail).parent / "claims.json")
    cells = []
    for section in SECTIONS:
        value = found["sections"].get(section, "?")
        cells.append(_cell(value, good=value == "data"))
    for key in FACTS:
        value = found["facts"].get(key, "?")
        cells.append(_cell(value, good=value != "unknown"))
    return "".join(cells)


def write_index(results: list[BatchResult], path: Path | None = None) -> Path:
    path = path or reports_dir() / "index.html"
    rows = []
    for r in results:
        name = html.escape(r.agency)
        if r.ok:
            cell = f'<a href="{name}/brief.html">brief</a> · <a href="{name}/brief.pdf">PDF</a>'
        else:
            cell = f"failed: {html.escape(r.detail)}"
        rows.append(f"<tr><td>{name}</td><td>{cell}</td>{_coverage_cells(r)}</tr>")
    header = (
        "<tr><th>Agency</th><th>Brief</th>"
        + "".join(f"<th>{html.escape(s)}</th>" for s in SECTIONS)
        + "".join(f"<th>{html.escape(label)}</th>" for label in FACTS.values())
        + "</tr>"
    )
    legend = (
        "<p>Sections: <em>data</em> when the agency has numbers for that analysis, <em>no data</em> when the brief "
        "says it cannot describe it. Facts: <em>params</em> (the agency's parameters file, with a source), "
        "<em>data</em> (FBI or census data), <em>proxy (params)</em> (a stand-in chosen in the parameters file), "
        "<em>general assumption</em> (the register's general range, not measured for the agency) or "
        "<em>unknown</em> (the brief says what it cannot tell without it).</p>"
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>Project Heartbeats briefs</title><style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "td,th{padding:2px 8px;font-size:90%}td.no{color:#8a1c1c}</style></head><body>"
        "<h1>Project Heartbeats briefs</h1>" + legend + "<table>" + header + "".join(rows) + "</table></body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
