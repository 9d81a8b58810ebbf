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
