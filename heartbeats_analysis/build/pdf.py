"""HTML -> US Letter PDF, printed by a Chromium-family browser that Playwright drives by path.

`playwright install` downloads its own browser build from a CDN that many machines cannot reach, so
the project uses the system's Chromium (Debian package `chromium`) or the one named by
HEARTBEATS_CHROMIUM.
"""

from __future__ import annotations

import os
import shutil
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


def html_to_pdf(html_path: Path, pdf_path: Path) -> Path:
    from playwright.sync_api import sync_playwright

    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page()
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            page.emulate_media(media="print")
            page.pdf(
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
        finally:
            browser.close()
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise HeartbeatsError(f"Chromium did not write the PDF {pdf_path}")
    return pdf_path
