"""Atomic publishing and build locks.

A report folder ``reports/<agency>`` is a symbolic link to a complete version under
``reports/.published/``. A new build is assembled in full beside it and the link is swapped with
one atomic rename, so a build killed at any moment leaves either the old complete report or the new
one, never a mix. A lock file stops two builds of the same agency from interleaving. One exception: a
build served by `heartbeats serve` publishes its report before its PDFs, which the server then adds to
the published folder, each file whole (build/steps.py, `print_published_pdfs`).
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from heartbeats_analysis.errors import BuildLockedError, OutputNotWritableError

PUBLISHED = ".published"
LOCKS = ".locks"


def new_version_dir(reports: Path, slug: str) -> Path:
    version = reports / PUBLISHED / f"{slug}-{time.time_ns()}-{os.getpid()}"
    version.mkdir(parents=True)
    return version


def publish(version_dir: Path, reports: Path, slug: str) -> Path:
    """Point reports/<slug> at version_dir atomically, then remove superseded versions."""
    link = reports / slug
    if link.exists() and not link.is_symlink():
        # A plain folder here holds no published report (e.g. only _failed/ from an earlier failure).
        shutil.move(str(link), str(version_dir / "_previous_unpublished"))
    temporary = reports / f".{slug}.link-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(os.path.relpath(version_dir, reports))
    os.replace(temporary, link)
    _remove_superseded(reports, slug, keep=version_dir)
    return link


def _remove_superseded(reports: Path, slug: str, keep: Path) -> None:
    for candidate in (reports / PUBLISHED).glob(f"{slug}-*"):
        if candidate.resolve() != keep.resolve() and candidate.name.rsplit("-", 2)[0] == slug:
            shutil.rmtree(candidate, ignore_errors=True)


def published_dir(reports: Path, slug: str) -> Path | None:
    link = reports / slug
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def failed_dir(reports: Path, slug: str) -> Path:
    """Where a failed notebook is kept: beside the published report, never inside the brief."""
    return reports / slug / "_failed"


@contextmanager
def build_lock(reports: Path, slug: str):
    lock_path = reports / LOCKS / f"{slug}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise BuildLockedError(
            f"Another build of {slug!r} is running (lock {lock_path}). Wait for it to finish, or, if no "
            "build is running, delete the lock file and try again."
        ) from None
    try:
        yield
    finally:
        lock.release()


def check_writable(folder: Path, variable: str = "HEARTBEATS_REPORTS_DIR") -> None:
    """Fail early with a clear message if the output folder cannot be written; leave nothing behind.

    ``variable`` is the environment variable that relocates the folder, named in the message."""
    probe = folder / f".write-test-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            probe.write_bytes(b"ok")
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        raise OutputNotWritableError(
            f"Cannot write to the output folder {folder}: {reason}. Free space or fix its permissions, "
            f"or point {variable} at a writable folder."
        ) from None
