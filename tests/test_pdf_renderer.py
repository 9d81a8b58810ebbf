"""The PDF browser's shutdown: a build that is interrupted must end even when the browser's driver stopped answering
in the middle of a print (a Ctrl-C reaches the driver too)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from helpers import alive

from heartbeats_analysis.build import pdf
from heartbeats_analysis.build.pdf import PdfRenderer
from heartbeats_analysis.errors import BrowserNotFoundError


def _browser_or_skip() -> None:
    try:
        pdf.find_chromium()
    except BrowserNotFoundError:
        pytest.skip("no Chromium-family browser on this machine")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the driver is found through /proc")
def test_closing_ends_a_driver_that_stopped_answering_in_the_middle_of_a_print(tmp_path, monkeypatch):
    _browser_or_skip()
    monkeypatch.setattr(pdf, "SHUTDOWN_TIMEOUT_S", 2)
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>A page.</p></body></html>")
    renderer = PdfRenderer()
    renderer.render(page, tmp_path / "first.pdf")
    drivers = list(renderer._driver_pids)
    assert drivers, "the renderer did not find its driver"
    for pid in drivers:
        os.kill(pid, signal.SIGSTOP)  # frozen: it never answers again, as a driver stopped halfway would
    stuck = renderer.submit(page, tmp_path / "second.pdf")
    time.sleep(0.5)
    started = time.monotonic()
    renderer.close()
    assert time.monotonic() - started < 30
    assert stuck.done() and stuck.exception() is not None
    assert not any(alive(pid) for pid in drivers)
    assert not (tmp_path / "second.pdf").exists()


@pytest.mark.slow
def test_a_renderer_closes_promptly_when_nothing_is_stuck(tmp_path):
    _browser_or_skip()
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>A page.</p></body></html>")
    with PdfRenderer() as renderer:
        renderer.render(page, tmp_path / "one.pdf")
        drivers = list(renderer._driver_pids)
        started = time.monotonic()
    assert time.monotonic() - started < pdf.SHUTDOWN_TIMEOUT_S
    assert (tmp_path / "one.pdf").stat().st_size > 0
    assert not any(alive(pid) for pid in drivers)


@pytest.mark.slow
def test_one_page_prints_each_document_as_it_is_now_and_recovers_from_a_failed_print(tmp_path):
    """The renderer prints every PDF on one page: each PDF has its own document's words (even a document rewritten
    at the same path since its last print), and a print that fails leaves the next one unharmed."""
    from playwright.sync_api import Error as PlaywrightError

    from heartbeats_analysis.build.pdf_checks import read_pages

    _browser_or_skip()
    first, second = tmp_path / "first.html", tmp_path / "second.html"
    first.write_text("<html><body><p>Ferguson brief</p></body></html>")
    second.write_text("<html><body><h1>Florissant</h1><p>summary</p></body></html>")
    with PdfRenderer() as renderer:
        renderer.render(first, tmp_path / "1.pdf")
        renderer.render(second, tmp_path / "2.pdf")
        first.write_text("<html><body><p>Ferguson brief, rebuilt</p></body></html>")
        renderer.render(first, tmp_path / "3.pdf")
        with pytest.raises(PlaywrightError, match="ERR_FILE_NOT_FOUND"):
            renderer.render(tmp_path / "missing.html", tmp_path / "4.pdf")
        renderer.render(second, tmp_path / "5.pdf")

    def words(name: str) -> str:
        return " ".join(page.text for page in read_pages(tmp_path / name)).replace("Page 1 of 1", "").strip()

    assert words("1.pdf") == "Ferguson brief"
    assert words("2.pdf") == "Florissant summary"
    assert words("3.pdf") == "Ferguson brief, rebuilt"
    assert not (tmp_path / "4.pdf").exists()
    assert words("5.pdf") == "Florissant summary"
