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
