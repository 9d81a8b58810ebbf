"""Unwritable or full output folders: a clear error, and the folder (and any published report) left as it was.

Every end-to-end test drives the real command line (``python -m heartbeats_analysis.cli``) as a
subprocess, on copies of the real raw data and processed tables in temporary folders (see the ``raw_tree``,
``processed_tree`` and ``published`` fixtures in conftest.py); no test touches the internet.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import (
    BUILD_TIMEOUT_S,
    PARAMS_FILE,
    cli_command,
    copy_reports,
    environment,
    no_traceback,
    report_state,
    run_cli,
)

from heartbeats_analysis.paths import PROJECT_ROOT


@pytest.mark.parametrize(
    "folder_variable, command",
    [
        ("HEARTBEATS_REPORTS_DIR", ["build", "--no-pdf"]),
        ("HEARTBEATS_PROCESSED_DIR", ["clean"]),
    ],
    ids=["reports", "processed"],
)
def test_unwritable_output_folder_gives_a_clear_error(folder_variable, command, tmp_path, raw_tree, processed_tree):
    """An output folder that cannot be created (its parent is a regular file: chmod does not stop
    root): a one-paragraph error naming the folder and the variable that relocates it, no traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = environment(raw_tree, processed_tree, tmp_path / "reports")
    env[folder_variable] = str(blocker / "output")
    result = run_cli(*command, env=env)
    message = result.stderr
    assert result.returncode == 6, message
    assert f"Cannot write to the output folder {blocker / 'output'}" in message
    assert f"point {folder_variable} at a writable folder" in message
    no_traceback(result)


def test_unwritable_raw_folder_gives_a_clear_error(tmp_path, mirror):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = environment(blocker / "raw", tmp_path / "processed", tmp_path / "reports", HEARTBEATS_DATA_MIRROR=str(mirror))
    result = run_cli("fetch", env=env)
    assert result.returncode == 6, result.stderr
    assert str(blocker / "raw") in result.stderr and "Not a directory" in result.stderr
    no_traceback(result)


def _can_mount_privately() -> str | None:
    """Why a private tmpfs cannot be mounted here, or None if it can (in a mount namespace of its own,
    so nothing outside the test ever sees it)."""
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, text=True
    )
    return None if probe.returncode == 0 else f"cannot mount a tmpfs in a private namespace: {probe.stderr.strip()}"


def _run_on_small_tmpfs(
    size_kb: int, mount_point: Path, prepare: str, command: list[str], env: dict[str, str], keep: Path
) -> subprocess.CompletedProcess:
    """Mount a tmpfs of size_kb at mount_point in a private mount namespace, run `prepare` (shell) and
    the command there, then copy the tmpfs contents to keep (the tmpfs vanishes with the namespace)."""
    mount_point.mkdir()
    quoted = " ".join(f"'{part}'" for part in command)
    script = (
        f"mount -t tmpfs -o size={size_kb}k tmpfs '{mount_point}' || exit 90\n"
        f"{prepare}\n"
        f"{quoted}\n"
        "code=$?\n"
        f"cp -a '{mount_point}/.' '{keep}'\n"
        "exit $code\n"
    )
    keep.mkdir()
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )


def test_full_output_folder_gives_a_clear_error_and_leaves_it_as_it_was(tmp_path, raw_tree, processed_tree):
    """A reports folder on a completely full (private) tmpfs: the disk-full error, no traceback, and
    the folder left as it was."""
    reason = _can_mount_privately()
    if reason:
        pytest.skip(reason)
    mount_point, keep = tmp_path / "mnt", tmp_path / "after"
    env = environment(raw_tree, processed_tree, mount_point / "reports")
    prepare = f"mkdir '{mount_point}/reports' && (dd if=/dev/zero of='{mount_point}/filler' bs=4k 2>/dev/null; true)"
    result = _run_on_small_tmpfs(64, mount_point, prepare, cli_command("build", "--no-pdf"), env, keep)
    message = result.stderr
    assert result.returncode == 6, message
    assert f"Cannot write to the output folder {mount_point / 'reports'}: the disk is full" in message
    no_traceback(result)
    assert sorted(p.name for p in (keep / "reports").iterdir()) == []


@pytest.mark.slow
def test_disk_filling_up_while_publishing_keeps_the_old_report(tmp_path, raw_tree, processed_tree, published):
    """The reports folder sits on a (private) tmpfs with room for the published report and its build
    folder plus 512 KB: the next publish (adding the PDF, so only the publish step runs) runs out of
    space half-way. A clear error, no traceback; the old report is untouched and no half-written
    version is left beside it."""
    reason = _can_mount_privately()
    if reason:
        pytest.skip(reason)
    reports = copy_reports(published, tmp_path / "reports")
    used_kb = sum(math.ceil(p.stat().st_size / 4096) * 4 for p in reports.rglob("*") if p.is_file())
    before = report_state(reports)
    mount_point, keep = tmp_path / "mnt", tmp_path / "after"
    env = environment(raw_tree, processed_tree, mount_point / "reports")
    prepare = f"cp -a '{reports}' '{mount_point}/reports' || exit 91"
    result = _run_on_small_tmpfs(
        used_kb + 512, mount_point, prepare, cli_command("build", "--params", str(PARAMS_FILE)), env, keep
    )
    message = result.stderr
    assert result.returncode == 6, message
    assert "No space left on device" in message or "the disk is full" in message, message
    no_traceback(result)
    assert re.search(r"running\s+publish", message), "the build should have reached the publish step"
    after = keep / "reports"
    assert report_state(after) == before
    versions = sorted(p.name for p in (after / ".published").iterdir())
    assert versions == [Path(before["target"]).name], versions
