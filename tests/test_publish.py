"""Atomic publishing, build locks and output-folder checks."""

import os

import pytest

from heartbeats_analysis.build.publish import (
    build_lock,
    check_writable,
    new_version_dir,
    publish,
    published_dir,
)
from heartbeats_analysis.errors import BuildLockedError, OutputNotWritableError


def make_version(reports, slug, text):
    version = new_version_dir(reports, slug)
    (version / "brief.html").write_text(text)
    return version


def test_publish_swaps_the_link_and_removes_the_old_version(tmp_path):
    first = make_version(tmp_path, "ferguson", "old")
    publish(first, tmp_path, "ferguson")
    assert (tmp_path / "ferguson" / "brief.html").read_text() == "old"
    second = make_version(tmp_path, "ferguson", "new")
    publish(second, tmp_path, "ferguson")
    assert (tmp_path / "ferguson" / "brief.html").read_text() == "new"
    assert published_dir(tmp_path, "ferguson") == second.resolve()
    assert not first.exists()


def test_an_unpublished_version_leaves_the_old_report_in_place(tmp_path):
    publish(make_version(tmp_path, "ferguson", "old"), tmp_path, "ferguson")
    make_version(tmp_path, "ferguson", "half-built")  # a build killed before publish
    assert (tmp_path / "ferguson" / "brief.html").read_text() == "old"


def test_publishing_one_agency_keeps_another_with_a_similar_name(tmp_path):
    publish(make_version(tmp_path, "st-john", "john"), tmp_path, "st-john")
    publish(make_version(tmp_path, "st", "st"), tmp_path, "st")
    publish(make_version(tmp_path, "st", "st2"), tmp_path, "st")
    assert (tmp_path / "st-john" / "brief.html").read_text() == "john"


def test_a_plain_failed_folder_is_replaced_by_the_first_published_report(tmp_path):
    (tmp_path / "ferguson" / "_failed").mkdir(parents=True)
    publish(make_version(tmp_path, "ferguson", "new"), tmp_path, "ferguson")
    assert (tmp_path / "ferguson").is_symlink()
    assert (tmp_path / "ferguson" / "brief.html").read_text() == "new"


def test_second_build_of_the_same_agency_is_refused(tmp_path):
    with build_lock(tmp_path, "ferguson"):
        with pytest.raises(BuildLockedError, match="Another build of 'ferguson'"), build_lock(tmp_path, "ferguson"):
            pass
        with build_lock(tmp_path, "florissant"):
            pass
    with build_lock(tmp_path, "ferguson"):
        pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_output_folder_gives_a_clear_error(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputNotWritableError, match="Cannot write to the output folder"):
            check_writable(folder)
    finally:
        folder.chmod(0o700)


def test_unwritable_output_path_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputNotWritableError, match="Cannot write to the output folder"):
        check_writable(blocker / "reports")


# --- PDFs printed after a served build's reply (steps.print_published_pdfs) ---------------------------------------


class FakePdfs:
    """Prints (PdfRenderer.submit) by writing a stub file; `fail_on` names an HTML file whose print fails."""

    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def submit(self, html, pdf):
        from concurrent.futures import Future

        self.calls.append((html.name, pdf.name))
        pdf.write_bytes(b"%PDF-1.7 partial")
        printed: Future = Future()
        if html.name == self.fail_on:
            printed.set_exception(RuntimeError("the browser died"))
        else:
            printed.set_result(pdf)
        return printed


def published_without_pdfs(reports, slug="ferguson"):
    from heartbeats_analysis.build.steps import STAMP_FILE

    version = make_version(reports, slug, "brief")
    (version / "summary.html").write_text("summary")
    (version / STAMP_FILE).write_text('{"key": "html only"}\n')
    publish(version, reports, slug)
    return version


def test_pdfs_printed_after_the_reply_go_whole_into_the_published_report_and_its_stamp_says_so(tmp_path):
    from heartbeats_analysis.build.steps import STAMP_FILE, print_published_pdfs

    version = published_without_pdfs(tmp_path)
    pdfs = FakePdfs()
    assert print_published_pdfs(tmp_path, "ferguson", version, pdfs, "with pdf") is True
    assert pdfs.calls == [("summary.html", ".summary.pdf.partial"), ("brief.html", ".brief.pdf.partial")]
    names = sorted(p.name for p in version.iterdir())
    assert names == [STAMP_FILE, "brief.html", "brief.pdf", "summary.html", "summary.pdf"]
    assert (version / STAMP_FILE).read_text() == '{"key": "with pdf"}\n'


def test_pdfs_after_the_reply_are_left_to_a_build_that_published_since_or_is_running(tmp_path):
    from heartbeats_analysis.build.steps import print_published_pdfs

    older = published_without_pdfs(tmp_path)
    newer = published_without_pdfs(tmp_path)
    pdfs = FakePdfs()
    assert print_published_pdfs(tmp_path, "ferguson", older, pdfs, "with pdf") is False
    with build_lock(tmp_path, "ferguson"):
        assert print_published_pdfs(tmp_path, "ferguson", newer, pdfs, "with pdf") is False
    assert pdfs.calls == [] and not list(newer.glob("*.pdf"))


def test_a_pdf_that_fails_after_the_reply_leaves_no_partial_file_and_the_html_only_stamp(tmp_path):
    from heartbeats_analysis.build.steps import STAMP_FILE, print_published_pdfs

    version = published_without_pdfs(tmp_path)
    with pytest.raises(RuntimeError, match="browser died"):
        print_published_pdfs(tmp_path, "ferguson", version, FakePdfs(fail_on="brief.html"), "with pdf")
    assert sorted(p.name for p in version.glob("*pdf*")) == ["summary.pdf"]  # no half-written brief.pdf
    assert not list(version.glob("*.partial"))
    assert (version / STAMP_FILE).read_text() == '{"key": "html only"}\n'  # the next build prints it again


def test_an_unreadable_stamp_makes_the_report_rebuilt_rather_than_the_build_fail(tmp_path):
    from heartbeats_analysis.build.steps import STAMP_FILE, _read_stamp

    version = published_without_pdfs(tmp_path)
    (version / STAMP_FILE).write_text("")  # e.g. a disk that filled up while it was written
    assert _read_stamp(version) is None
