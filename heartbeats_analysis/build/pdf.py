"""HTML -> US Letter PDF, printed by a Chromium-family browser that Playwright drives by path.

`playwright install` downloads its own browser build from a CDN that many machines cannot reach, so
the project uses the system's Chromium (Debian package `chromium`) or the one named by
HEARTBEATS_CHROMIUM.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from heartbeats_analysis.errors import BrowserNotFoundError, HeartbeatsError

CHROMIUM_ENV_VAR = "HEARTBEATS_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without these, Chromium on a closed network keeps trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SHUTDOWN_TIMEOUT_S = 20  # closing the browser takes about 0.1 s
FOOTER = (
    '<div style="font-size:8pt;color:#555;width:100%;text-align:center;font-family:sans-serif;">'
    'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)


def find_chromium() -> str:
    configured = os.environ.get(CHROMIUM_ENV_VAR)
    if configured:
        if Path(configured).is_file():
            return configured
        raise BrowserNotFoundError(f"{CHROMIUM_ENV_VAR}={configured} does not name an executable file.")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotFoundError(
        "No Chromium-family browser was found to print the PDF. Install one with "
        "`sudo apt-get install -y chromium` (or run `make system-deps` as root), or set "
        f"{CHROMIUM_ENV_VAR} to the path of a Chromium or Chrome executable."
    )


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True)


class PdfRenderer:
    """One Chromium for every PDF of a build or a batch.

    Starting Chromium costs about a second; a build prints two PDFs and a batch two per agency, so
    they share one browser. Playwright's sync API belongs to the thread that started it, so the
    browser lives in a thread of its own and `render` hands it the work: builds in other threads
    may call it at once (their PDFs are printed one after another). `start` launches the browser in
    the background, so that a build can overlap the launch with its last notebooks; nothing starts
    until `start` or `render` is called, and `close` shuts the browser down.
    """

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf")
        self._playwright = None
        self._browser = None
        self._page = None  # one page prints every PDF (see _print)
        self._driver_pids: list[int] = []  # Playwright's driver process(es), which start the browser
        self._launching: Future | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Launch the browser in the background (at most once); a launch failure shows at `render`."""
        with self._lock:
            if self._closed:
                raise HeartbeatsError("The PDF renderer is closed.")
            if self._launching is None:
                self._launching = self._thread.submit(self._launch)

    def started(self) -> bool:
        """True once the browser has been launched and is open (waits for a launch under way)."""
        with self._lock:
            launching = None if self._closed else self._launching
        if launching is None or launching.exception() is not None:
            return False
        return self._browser is not None

    def render(self, html_path: Path, pdf_path: Path) -> Path:
        return self.submit(html_path, pdf_path).result()

    def submit(self, html_path: Path, pdf_path: Path) -> Future[Path]:
        """Queue a PDF (printed after those queued before it); its Future gives the path or the error."""
        self.start()
        return self._thread.submit(self._print, Path(html_path), Path(pdf_path))

    def close(self) -> None:
        """Shut the browser down. If its thread does not get to that within SHUTDOWN_TIMEOUT_S, it is stuck in a call
        the driver never answers (a Ctrl-C can reach the driver in the middle of one): the driver and the browser are
        ended, which ends that call with an error, and the shutdown follows."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        shutting_down = self._thread.submit(self._shut_down)
        try:
            shutting_down.result(timeout=SHUTDOWN_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - stuck (TimeoutError) or failed: end the driver and its browser
            for pid in self._driver_pids:
                _kill_tree(pid)
            with contextlib.suppress(Exception):
                shutting_down.result(timeout=SHUTDOWN_TIMEOUT_S)
        self._thread.shutdown(wait=True)

    def __enter__(self) -> PdfRenderer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # The methods below run in the renderer's own thread only.
    def _launch(self) -> None:
        if self._browser is not None:
            return
        from playwright.sync_api import sync_playwright

        before = set(_children(os.getpid()))
        self._playwright = sync_playwright().start()
        self._driver_pids = sorted(set(_children(os.getpid())) - before)
        try:
            self._browser = launch_browser(self._playwright)
            self._open_page()  # with the launch, which a build starts while its last notebooks run
        except BaseException:
            self._shut_down()
            raise

    def _open_page(self) -> None:
        if self._page is None:
            self._page = self._browser.new_page()
            self._page.emulate_media(media="print")

    def _print(self, html_path: Path, pdf_path: Path) -> Path:
        """Print on the renderer's one page, which loads each document in turn. A page of its own for each PDF
        (Playwright's `browser.new_page()` makes a browser context for it, and Chromium a renderer process) cost a
        build about 1.4 core-seconds more for its two PDFs; the PDFs are the same, but for the arbitrary ids of
        their tagged elements. A print that fails closes the page: the next one starts on a new page."""
        self._launch()  # again after a failed launch: the error is raised to the caller of render
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        self._open_page()  # again after a failed print
        try:
            self._page.goto(html_path.resolve().as_uri(), wait_until="load")
            self._page.pdf(
                path=str(pdf_path),
                format="Letter",
                print_background=True,
                prefer_css_page_size=True,
                display_header_footer=True,
                header_template="<div></div>",
                footer_template=FOOTER,
                tagged=True,
                outline=True,
            )
        except BaseException:
            page, self._page = self._page, None
            with contextlib.suppress(Exception):
                page.close()
            raise
        if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
            raise HeartbeatsError(f"Chromium did not write the PDF {pdf_path}")
        return pdf_path

    def _shut_down(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = self._page = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux's /proc; elsewhere none are found)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(entry.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and every process under it (the browser's helpers), children first found."""
    for child in _children(pid):
        _kill_tree(child)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def html_to_pdf(html_path: Path, pdf_path: Path) -> Path:
    """One PDF with a browser of its own (a build prints with a shared `PdfRenderer`)."""
    with PdfRenderer() as renderer:
        return renderer.render(html_path, pdf_path)
