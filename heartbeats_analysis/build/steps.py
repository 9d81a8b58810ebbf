"""The build: verify raw data, clean, run the analysis notebooks, render the brief, publish atomically.

Each step records a hash of its inputs; a step whose inputs are unchanged is skipped, so a rebuild
with nothing changed does no work and changing a model assumption reruns only the model and brief.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from heartbeats_analysis.build.hashing import hash_files, hash_json, package_code_hash
from heartbeats_analysis.build.kernel_pool import KernelPool
from heartbeats_analysis.build.manifest import build_manifest, write_manifest
from heartbeats_analysis.build.notebook_parameters import declared_parameters
from heartbeats_analysis.build.pdf import PdfRenderer
from heartbeats_analysis.build.publish import (
    build_lock,
    check_writable,
    failed_dir,
    new_version_dir,
    publish,
    published_dir,
)
from heartbeats_analysis.errors import BuildInterruptedError, BuildLockedError, ParameterError
from heartbeats_analysis.ingest import fetch
from heartbeats_analysis.ingest.registry import registry_hash
from heartbeats_analysis.params import BuildParams
from heartbeats_analysis.paths import NOTEBOOKS_DIR, processed_dir, reports_dir
from heartbeats_analysis.report.claims import ClaimsRegistry
from heartbeats_analysis.report.notebook_io import ANALYSIS_NOTEBOOKS, BRIEF_NOTEBOOK, CLAIMS_READ, MODEL_NOTEBOOK

CLEAN_NOTEBOOK = "01-clean"
NOTEBOOK_TITLES = {
    "01-clean": "Cleaning the raw data",
    "02-staffing": "Staffing",
    "03-crime": "Crime",
    "04-stops": "Vehicle stops and disparities",
    "05-force": "Use of force",
    "06-calls": "Calls for service",
    "07-program-model": "The Heartbeats program model",
    "08-threshold": "The threshold test of search decisions",
    "90-brief": "The brief",
}
STAMP_FILE = ".build-stamp.json"
CLEAN_LOCK_TIMEOUT_S = 900
PRINT_WAIT_S = 30  # how long a failed or interrupted publish waits for a PDF print under way (one takes 0.3-2 s)

StepListener = Callable[[str, str, float], None]  # (step, status, seconds); status: started/ran/skipped

# Warm kernels and a browser lent by the build server (build/server.py) to the builds it runs.
_LENT: ContextVar[tuple[KernelPool, PdfRenderer] | None] = ContextVar("heartbeats_lent_resources", default=None)


@contextmanager
def lend(kernels: KernelPool, pdfs: PdfRenderer):
    """Builds started inside this block, which name no kernels or browser of their own, use these."""
    token = _LENT.set((kernels, pdfs))
    try:
        yield
    finally:
        _LENT.reset(token)


@dataclass(frozen=True)
class PendingPdfs:
    """A served build's PDFs, to print into its published report after the reply: `run` returns False when another
    build of the agency has published since or is running (that build makes its own)."""

    agency: str
    run: Callable[[], bool]


# PDFs the build server prints after a served command has returned (`pdfs_after_reply`): the analyst reads the
# HTML brief while they print.
_PDFS_AFTER_REPLY: ContextVar[list[PendingPdfs] | None] = ContextVar("heartbeats_pdfs_after", default=None)


@contextmanager
def pdfs_after_reply() -> Iterator[list[PendingPdfs]]:
    """Builds inside this block that print with the browser the server lent them, once it has started, publish their
    report without its PDFs and leave here a job that prints them into the published report; the caller runs the
    jobs (the build server: after its reply to the client). A browser that cannot start fails the build itself,
    as in a build in its own process."""
    jobs: list[PendingPdfs] = []
    token = _PDFS_AFTER_REPLY.set(jobs)
    try:
        yield jobs
    finally:
        _PDFS_AFTER_REPLY.reset(token)


@dataclass
class BuildResult:
    agency: str
    report_dir: Path
    steps: list[tuple[str, str, float]] = field(default_factory=list)
    published: bool = False
    pdf_pending: bool = False  # published without its PDFs, which a job left by `pdfs_after_reply` prints

    @property
    def brief_html(self) -> Path:
        return self.report_dir / "brief.html"

    @property
    def brief_pdf(self) -> Path:
        return self.report_dir / "brief.pdf"


def notebook_path(name: str) -> Path:
    return NOTEBOOKS_DIR / f"{name}.ipynb"


def agency_steps() -> list[str]:
    """Agency notebooks present in notebooks/, in build order."""
    names = [*ANALYSIS_NOTEBOOKS, MODEL_NOTEBOOK, BRIEF_NOTEBOOK]
    return [n for n in names if notebook_path(n).is_file()]


class _Steps:
    """Runs steps, skipping those whose input hash matches the stamp they left last time."""

    def __init__(
        self,
        stamp_dir: Path,
        force: bool,
        listener: StepListener | None,
        result: BuildResult,
        kernels: KernelPool | None = None,
    ):
        self.stamp_dir = stamp_dir
        self.force = force
        self.listener = listener or (lambda *_: None)
        self.result = result
        self.kernels = kernels

    def check_not_interrupted(self) -> None:
        if self.kernels is not None and self.kernels.closed:
            raise BuildInterruptedError(
                f"The build of {self.result.agency!r} was interrupted before its next step; "
                "the published report, if any, was left as it was."
            )

    def run(self, name: str, inputs: dict, outputs: list[Path], action: Callable[[], None]) -> bool:
        self.check_not_interrupted()
        stamp = self.stamp_dir / f"{name}.json"
        key = hash_json(inputs)
        up_to_date = not self.force and stamp.is_file() and all(p.exists() for p in outputs)
        if up_to_date and json.loads(stamp.read_text()).get("key") == key:
            self.result.steps.append((name, "skipped", 0.0))
            self.listener(name, "skipped", 0.0)
            return False
        stamp.unlink(missing_ok=True)
        self.listener(name, "started", 0.0)
        started = time.perf_counter()
        action()
        seconds = time.perf_counter() - started
        self.stamp_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"key": key}) + "\n")
        self.result.steps.append((name, "ran", seconds))
        self.listener(name, "ran", seconds)
        return True


def processed_tables_hash() -> str:
    return hash_files(processed_dir().glob("*.csv"))


def run_notebook(*args, **kwargs):
    # papermill and nbconvert take seconds to import: only a build that runs a step pays for them.
    from heartbeats_analysis.build.runner import run_notebook as run

    return run(*args, **kwargs)


def run_clean(
    force: bool = False,
    listener: StepListener | None = None,
    result: BuildResult | None = None,
    kernels: KernelPool | None = None,
) -> None:
    """The shared first step: raw files -> validated processed tables (01-clean)."""
    result = result or BuildResult("(shared)", processed_dir())
    folder = processed_dir()
    check_writable(folder, "HEARTBEATS_PROCESSED_DIR")
    steps = _Steps(folder / ".stamps", force, listener, result)
    nb = notebook_path(CLEAN_NOTEBOOK)
    inputs = {"registry": registry_hash(), "code": package_code_hash(), "notebook": hash_files([nb])}
    executed = folder / ".executed" / f"{CLEAN_NOTEBOOK}.ipynb"

    def clean() -> None:
        if kernels:
            kernels.start()  # warm the agency notebooks' kernels on the other cores meanwhile
        # A kernel of its own: cleaning needs none of the analysis imports a warm kernel waits for (with a pool, a
        # fork of its template as soon as the cleaning code is imported). Its sources are cleaned in parallel too: one
        # worker process per spare core.
        parameters = {"processed_dir": str(folder), "workers": max(0, parallel_jobs() - 1)}
        run_notebook(nb, executed, parameters, folder / "_failed", kernels, own_kernel=True)

    # Builds of different agencies share the processed tables: one cleans while the others wait.
    with FileLock(str(folder / ".clean.lock"), timeout=CLEAN_LOCK_TIMEOUT_S):
        steps.run(CLEAN_NOTEBOOK, inputs, [executed, folder / "agencies.csv"], clean)


def build(
    params: BuildParams,
    *,
    force: bool = False,
    listener: StepListener | None = None,
    command: str = "heartbeats build",
    with_pdf: bool = True,
    kernels: KernelPool | None = None,
    pdfs: PdfRenderer | None = None,
) -> BuildResult:
    """Build one agency's report. Notebooks borrow warm kernels from `kernels` and PDFs are printed by
    the browser of `pdfs` (a batch shares both across its builds); without them the build opens its
    own and shuts them down at the end (or uses those the build server lends: `lend`)."""
    if kernels is None and pdfs is None and (lent := _LENT.get()) is not None:
        kernels, pdfs = lent
    if kernels is None or pdfs is None:
        with closed_together(
            KernelPool(parallel_jobs()) if kernels is None else None, PdfRenderer() if pdfs is None else None
        ) as (own_kernels, own_pdfs):
            return build(
                params,
                force=force,
                listener=listener,
                command=command,
                with_pdf=with_pdf,
                kernels=own_kernels or kernels,
                pdfs=own_pdfs or pdfs,
            )

    from heartbeats_analysis.build.threshold_fit import run_threshold_fit
    from heartbeats_analysis.ingest.agency_lookup import display_name, resolve_agency

    reports = reports_dir()
    check_writable(reports)
    fetch.verify()
    result = BuildResult(params.agency, reports / params.agency)
    run_clean(force, listener, result, kernels)
    # Shared and cached: it reruns when the stops table or the model change, and `--force` does not refit it (a
    # statewide fit of about two minutes, the same for every agency); `heartbeats clean --force` does.
    run_threshold_fit(False, listener, result)
    slug = resolve_agency(params.agency)
    if slug != params.agency:
        params = params.model_copy(update={"agency": slug})
    result.agency, result.report_dir = slug, reports / slug

    # Appendix pages are exported in the background as their notebooks finish, beside the next notebooks.
    with build_lock(reports, slug), ThreadPoolExecutor(1, thread_name_prefix="appendix") as exports:
        work = reports / ".work" / slug
        pages: dict[str, Future[Path]] = {}
        work.mkdir(parents=True, exist_ok=True)
        steps = _Steps(work / "stamps", force, listener, result, kernels)
        notebook_params = params.notebook_parameters(work)
        code_hash, tables_hash = package_code_hash(), processed_tables_hash()
        manifest = build_manifest(params.model_dump(mode="json"), command, display_name(slug))
        write_manifest(manifest, work / "manifest.json")
        failed = failed_dir(reports, slug)

        # The PDF browser is launched once the analyses have ended, if any of them ran (see _run_agency_steps); with
        # the model when it runs alone (an assumption changed); with the brief otherwise. A build that runs nothing
        # launches none.
        analyses_ran = threading.Event()
        browser = pdfs if with_pdf else None

        def launch_browser_if_analyses_ran() -> None:
            if browser is not None and analyses_ran.is_set():
                browser.start()

        def run_step(name: str) -> None:
            def action() -> None:
                if name in ANALYSIS_NOTEBOOKS:
                    analyses_ran.set()
                elif name == MODEL_NOTEBOOK:
                    _prepare_publishing(None if analyses_ran.is_set() else browser)
                elif name == BRIEF_NOTEBOOK:
                    _prepare_publishing(browser)  # already under way, unless only the brief runs
                run_notebook(nb, executed, notebook_params, failed, kernels)
                if name != BRIEF_NOTEBOOK:
                    pages[name] = exports.submit(_appendix_page, executed, work / "appendix")

            nb = notebook_path(name)
            declared = declared_parameters(nb)
            inputs = {
                "notebook": hash_files([nb]),
                # Only the parameters a notebook declares: a model assumption reruns only the model.
                "params": {k: v for k, v in notebook_params.items() if k in declared and k != "build_dir"},
                "code": code_hash,
                "tables": tables_hash,
                "claims": hash_files(_claims_read_by(name, work / "claims")),
                "manifest": manifest if name == BRIEF_NOTEBOOK else None,
            }
            executed = work / "executed" / f"{name}.ipynb"
            steps.run(name, inputs, [executed], action)

        _run_agency_steps(agency_steps(), run_step, beside_model_done=launch_browser_if_analyses_ran)

        key = publish_key(work / "stamps", with_pdf)
        current = published_dir(reports, slug)
        if not force and current and _read_stamp(current) == key:
            result.steps.append(("publish", "skipped", 0.0))
            if listener:
                listener("publish", "skipped", 0.0)
            return result
        steps.check_not_interrupted()
        if listener:
            listener("publish", "started", 0.0)
        started = time.perf_counter()
        version = new_version_dir(reports, slug)
        later = _PDFS_AFTER_REPLY.get() if with_pdf and _lent_browser_ready(pdfs) else None
        try:
            _assemble(version, work, manifest, pdfs if with_pdf and later is None else None, pages)
            # Without its PDFs the report is stamped as such, so that a build finding them missing prints them.
            _write_stamp(version, key if later is None else publish_key(work / "stamps", False))
            publish(version, reports, slug)
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        seconds = time.perf_counter() - started
        result.steps.append(("publish", "ran", seconds))
        result.published = True
        if later is not None:
            result.pdf_pending = True
            later.append(PendingPdfs(slug, lambda: print_published_pdfs(reports, slug, version, pdfs, key)))
        if listener:
            listener("publish", "ran", seconds)
    return result


PUBLISHED_PDFS = (("summary.html", "summary.pdf"), ("brief.html", "brief.pdf"))


def _lent_browser_ready(pdfs: PdfRenderer | None) -> bool:
    """True for the build server's browser once it has started (a renderer of the build's own closes with it)."""
    lent = _LENT.get()
    return pdfs is not None and lent is not None and pdfs is lent[1] and pdfs.started()


def print_published_pdfs(reports: Path, slug: str, version: Path, pdfs: PdfRenderer, key: str) -> bool:
    """Print the PDFs of a report published without them, into the published folder; each file appears whole (a
    partial file is renamed), and then the stamp says the report has them. Nothing is done, and False returned,
    when another build of the agency is running or has published since (it makes its own PDFs)."""
    try:
        with build_lock(reports, slug):
            if published_dir(reports, slug) != version.resolve():
                return False
            for html, pdf in PUBLISHED_PDFS:
                if (version / html).is_file():
                    partial = version / f".{pdf}.partial"
                    printing = pdfs.submit(version / html, partial)
                    try:
                        printing.result()
                        os.replace(partial, version / pdf)
                    finally:
                        wait([printing])  # interrupted: the browser may still be writing the partial file
                        partial.unlink(missing_ok=True)
            _write_stamp(version, key)
            return True
    except BuildLockedError:
        return False


@contextmanager
def closed_together(*resources):
    """Yield ``resources`` (None for one that is not this caller's to close); on the way out, close them all at once,
    each in a thread of its own: the browser's and the kernels' shutdowns take 0.1-0.15 s each, and the command
    waits for both. The first error a close raises is raised once every close has ended."""
    try:
        yield resources
    finally:
        owned = [resource for resource in resources if resource is not None]
        with ThreadPoolExecutor(max(1, len(owned)), thread_name_prefix="close") as closing:
            closes = [closing.submit(resource.close) for resource in owned]
        for close in closes:
            close.result()


def parallel_jobs() -> int:
    """Notebooks run at once (and warm kernels kept): HEARTBEATS_JOBS, else one per core."""
    configured = os.environ.get("HEARTBEATS_JOBS", "").strip()
    if not configured:
        return max(1, os.cpu_count() or 1)
    if not configured.isdigit() or int(configured) < 1:
        raise ParameterError(f"HEARTBEATS_JOBS={configured!r} must be a whole number of at least 1.")
    return int(configured)


def _run_agency_steps(
    present: list[str], run_step: Callable[[str], None], beside_model_done: Callable[[], None] | None = None
) -> None:
    """The analysis notebooks side by side, those the model reads first; the model as soon as they have run, beside
    the analyses it does not read (the crime notebook); the brief once everything has run. The first failure is
    raised after the notebooks already running finish; after a failure no later step starts.

    ``beside_model_done`` is called once every analysis has succeeded, while the model may still run: the PDF browser
    is launched then, on the core the analyses leave free (launched with the model, its start, about 0.6 core-s,
    slowed the model and the crime notebook on two cores)."""
    analyses = [n for n in present if n in ANALYSIS_NOTEBOOKS]
    later = [n for n in present if n not in ANALYSIS_NOTEBOOKS]
    model_inputs = [n for n in analyses if n in CLAIMS_READ[MODEL_NOTEBOOK]]
    rest = [n for n in analyses if n not in model_inputs]
    jobs = min(parallel_jobs(), len(analyses)) or 1
    if jobs == 1:
        for name in analyses:
            run_step(name)
        if beside_model_done is not None:
            with contextlib.suppress(Exception):  # the brief's step starts the browser again, and reports a failure
                beside_model_done()
        for name in later:
            run_step(name)
        return
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {name: pool.submit(run_step, name) for name in [*model_inputs, *rest]}
        try:
            if beside_model_done is not None:
                _when_all_done(list(futures.values()), beside_model_done)
            # Waits for the model's inputs only; it starts when all of them have run, whatever the others do.
            inputs_failed = any(futures[name].exception() is not None for name in model_inputs)
            model_error: BaseException | None = None
            if MODEL_NOTEBOOK in later and not inputs_failed:
                try:
                    run_step(MODEL_NOTEBOOK)
                except Exception as exc:  # raised once the analyses still running have finished
                    model_error = exc
            errors = [f.exception() for f in futures.values() if f.exception() is not None]
        except BaseException:  # Ctrl-C: start no further notebook (those running finish their cell)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if errors or model_error is not None:
        raise (errors or [model_error])[0]
    for name in later:
        if name != MODEL_NOTEBOOK:
            run_step(name)


def _when_all_done(futures: list[Future], callback: Callable[[], None]) -> None:
    """Call ``callback`` once, in the thread that ends the last of ``futures`` (at once if all have ended), if every
    one of them succeeded: a failed or cancelled step (a notebook's error, a Ctrl-C) ends the build instead."""
    left = [len(futures)]
    lock = threading.Lock()

    def one_done(_future: Future) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last and all(not f.cancelled() and f.exception() is None for f in futures):
            with contextlib.suppress(Exception):  # the brief's step starts the browser again, and reports a failure
                callback()

    for future in futures:
        future.add_done_callback(one_done)


def _claims_read_by(name: str, claims_dir: Path) -> list[Path]:
    """Claim files a notebook reads (CLAIMS_READ): its cache key holds them."""
    wanted = set(CLAIMS_READ.get(name, ()))
    return sorted(p for p in claims_dir.glob("*.json") if p.stem in wanted)


def publish_key(stamp_dir: Path, with_pdf: bool) -> str:
    """What the published report was assembled from: every step's input key, and whether it has a PDF.
    The report is republished when this differs from the key stamped in the published version."""
    return hash_json({"steps": _stamp_keys(stamp_dir), "pdf": with_pdf})


def _stamp_keys(stamp_dir: Path) -> dict[str, str]:
    return {p.stem: json.loads(p.read_text())["key"] for p in sorted(stamp_dir.glob("*.json"))}


def _read_stamp(version: Path) -> str | None:
    """The published report's key; None when it has none or an unreadable one (the report is then rebuilt)."""
    path = version / STAMP_FILE
    try:
        return json.loads(path.read_text()).get("key") if path.is_file() else None
    except ValueError:
        return None


def _write_stamp(version: Path, key: str) -> None:
    """Replace the stamp whole: a published report's stamp may be rewritten (its PDFs printed after the reply)."""
    partial = version / f".{STAMP_FILE}.partial"
    partial.write_text(json.dumps({"key": key}) + "\n")
    os.replace(partial, version / STAMP_FILE)


def _prepare_publishing(pdfs: PdfRenderer | None) -> None:
    """Import the HTML exporter and launch the PDF browser in the background (each at most once), so
    that publishing does not wait for either."""
    global _EXPORTER_IMPORT
    # The notebook runner first, in this thread (the step runs a notebook next): nbconvert imports jupyter_client
    # too, and two threads importing that package at once can find it half-initialised ("cannot import name
    # ... from partially initialized module": a model-only rebuild failed so, once in a few runs).
    importlib.import_module("heartbeats_analysis.build.runner")
    with _PREPARE_LOCK:
        if _EXPORTER_IMPORT is None:
            _EXPORTER_IMPORT = threading.Thread(
                target=importlib.import_module, args=("heartbeats_analysis.build.export",), daemon=True
            )
            _EXPORTER_IMPORT.start()
    if pdfs is not None:
        pdfs.start()


_PREPARE_LOCK = threading.Lock()
_EXPORTER_IMPORT: threading.Thread | None = None


def _assemble(
    version: Path, work: Path, manifest: dict, pdfs: PdfRenderer | None, pages: dict[str, Future[Path]] | None = None
) -> None:
    """Write the complete report into version/ (brief, PDFs when `pdfs`, claims, manifest, appendix).
    `pages`: appendix pages already being exported, by notebook name."""
    pages = pages or {}
    brief_nb = work / "executed" / f"{BRIEF_NOTEBOOK}.ipynb"
    # The two-page summary for the council packet, written by the brief notebook from the same claims:
    # its PDF prints while the brief's HTML is exported.
    summary = work / "summary.html"
    summary_pdf = None
    if brief_nb.is_file() and summary.is_file():
        shutil.copyfile(summary, version / "summary.html")
        if pdfs is not None:
            summary_pdf = pdfs.submit(version / "summary.html", version / "summary.pdf")
    try:
        _write_report_files(version, work, manifest, pdfs, pages, brief_nb)
    except BaseException:
        if summary_pdf is not None:
            # The caller removes version/ next: a print still running would write into it again
            # (the browser creates the folder), leaving a half-written version beside the report.
            wait([summary_pdf], timeout=PRINT_WAIT_S)  # a print stuck after a Ctrl-C ends when the browser is closed
        raise
    if summary_pdf is not None:
        summary_pdf.result()


def _write_report_files(
    version: Path, work: Path, manifest: dict, pdfs: PdfRenderer | None, pages: dict[str, Future[Path]], brief_nb: Path
) -> None:
    from heartbeats_analysis.build import export

    claims = ClaimsRegistry.load_all(work / "claims")
    claims.save(version / "claims.json")
    write_manifest(manifest, version / "manifest.json")
    if brief_nb.is_file():
        html = export.notebook_to_html(brief_nb, version / "brief.html", title=_brief_title(manifest), hide_code=True)
        if pdfs is not None:
            pdfs.render(html, version / "brief.pdf")
    appendix = version / "appendix"
    appendix.mkdir(parents=True, exist_ok=True)
    for executed in sorted((work / "executed").glob("*.ipynb")):
        if executed.stem == BRIEF_NOTEBOOK:
            continue
        page = pages[executed.stem].result() if executed.stem in pages else _appendix_page(executed, work / "appendix")
        shutil.copyfile(page, appendix / page.name)
    _copy_tree_files(work / "figures", appendix / "figures", "*.csv")
    _copy_tree_files(work / "tables", appendix / "tables", "*.csv")
    _copy_tree_files(processed_dir(), appendix / "processed", "*.csv")
    processed_doc = processed_dir() / "datapackage.json"
    if processed_doc.is_file():
        shutil.copyfile(processed_doc, appendix / "processed" / processed_doc.name)


def _appendix_page(executed: Path, cache: Path) -> Path:
    """The notebook's appendix page, exported again only when the executed notebook, its title or the
    package's code changed: a changed assumption re-exports the model's page, not all seven."""
    from heartbeats_analysis.build import export

    title = f"Technical appendix: {NOTEBOOK_TITLES.get(executed.stem, executed.stem)}"
    key = hash_json({"notebook": hash_files([executed]), "title": title, "code": package_code_hash()})
    page, stamp = cache / f"{executed.stem}.html", cache / f"{executed.stem}.key"
    if page.is_file() and stamp.is_file() and stamp.read_text() == key:
        return page
    stamp.unlink(missing_ok=True)
    export.notebook_to_html(executed, page, title=title, hide_code=False)
    stamp.write_text(key)
    return page


def _brief_title(manifest: dict) -> str:
    return f"Project Heartbeats: an evidence brief for {manifest['agency_display_name']}"


def _copy_tree_files(source: Path, target: Path, pattern: str) -> None:
    files = sorted(source.glob(pattern)) if source.is_dir() else []
    if files:
        target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, target / path.name)
