"""Fetch raw files into data/raw/ (from a local mirror or their upstream URL) and verify them."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from heartbeats_analysis.errors import DataVerificationError, FetchError
from heartbeats_analysis.ingest.registry import RawFile, load_registry, sha256_of
from heartbeats_analysis.paths import MIRROR_ENV_VAR

Progress = Callable[[RawFile, str], None]


@dataclass(frozen=True)
class Problem:
    entry: RawFile
    actual_sha256: str | None  # None: the file is missing

    def describe(self) -> str:
        if self.actual_sha256 is None:
            return f"  - {self.entry.path}: missing (expected at {self.entry.local_path})"
        return (
            f"  - {self.entry.path}: checksum mismatch\n"
            f"      expected sha256 {self.entry.sha256}\n"
            f"      actual   sha256 {self.actual_sha256}"
        )


def mirror_from_env() -> Path | None:
    value = os.environ.get(MIRROR_ENV_VAR)
    return Path(value).expanduser().resolve() if value else None


def find_problems(entries: Iterable[RawFile] | None = None) -> list[Problem]:
    problems = []
    for entry in entries if entries is not None else load_registry():
        path = entry.local_path
        if not path.is_file():
            problems.append(Problem(entry, None))
            continue
        actual = sha256_of(path)
        if actual != entry.sha256:
            problems.append(Problem(entry, actual))
    return problems


def verify(entries: Iterable[RawFile] | None = None) -> None:
    """Stop with a message naming every missing or altered raw file, and how to fix it."""
    problems = find_problems(entries)
    if not problems:
        return
    listing = "\n".join(p.describe() for p in problems)
    raise DataVerificationError(
        f"{len(problems)} raw data file(s) failed verification against the data registry:\n"
        f"{listing}\n"
        "Nothing was built. To fix: run `heartbeats fetch`, which replaces every listed file with one "
        f"that matches its checksum (set {MIRROR_ENV_VAR} to a local mirror folder to copy instead of "
        "downloading). If the upstream file really changed, review the change and update "
        "heartbeats_analysis/resources/data_registry.csv in its own commit."
    )


FROM_ENVIRONMENT = "from-environment"


def fetch(
    entries: Iterable[RawFile] | None = None,
    mirror: Path | None | str = FROM_ENVIRONMENT,
    progress: Progress | None = None,
) -> list[RawFile]:
    """Bring every registered file into data/raw/, skipping files already present and intact.

    mirror: a folder laid out like the data mirror (one subfolder per source) to copy from; None to
    download from the upstream URLs; by default, the folder named by HEARTBEATS_DATA_MIRROR
    (downloading if it is unset). Returns the entries that were copied or downloaded.

    Every file lands under a temporary name in its target folder and is checksummed there; only a
    file that matches the registry is renamed into place, so a bad source never changes data/raw/.
    """
    if mirror == FROM_ENVIRONMENT:
        mirror = mirror_from_env()
    fetched = []
    for entry in entries if entries is not None else load_registry():
        target = entry.local_path
        if target.is_file() and sha256_of(target) == entry.sha256:
            if progress:
                progress(entry, "present")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
            if mirror is not None:
                candidate, source = _copy_from_mirror(entry, mirror, Path(tmp))
                how = "copied"
            else:
                candidate, source = _download(entry, Path(tmp))
                how = "downloaded"
            _place_if_intact(entry, candidate, target, source)
        fetched.append(entry)
        if progress:
            progress(entry, how)
    return fetched


def _place_if_intact(entry: RawFile, candidate: Path, target: Path, source: str) -> None:
    """Rename the candidate onto its real name only if its checksum matches the registry."""
    actual = sha256_of(candidate)
    if actual != entry.sha256:
        raise DataVerificationError(
            f"{source} served bad bytes for {entry.path}: "
            f"expected sha256 {entry.sha256}, got {actual}. "
            f"Nothing in {target.parent} was changed. Repair or replace that source "
            "(or fetch from another one); if the upstream file really changed, review the change and "
            "update heartbeats_analysis/resources/data_registry.csv in its own commit."
        )
    os.replace(candidate, target)  # same folder, so the rename is atomic


def _copy_from_mirror(entry: RawFile, mirror: Path, tmp: Path) -> tuple[Path, str]:
    source = mirror / entry.path
    if not source.is_file():
        raise FetchError(
            f"Could not copy {entry.path}: it is not in the mirror {mirror} "
            f"(looked for {source}). Point {MIRROR_ENV_VAR} at a folder laid out like the data "
            "mirror (one subfolder per source), or unset it to download from the upstream URL."
        )
    candidate = tmp / Path(entry.path).name
    shutil.copyfile(source, candidate)
    return candidate, f"The mirror file {source}"


def _download(entry: RawFile, tmp: Path) -> tuple[Path, str]:
    import pooch  # only needed when downloading; keeps verify and no-op builds fast

    # pooch logs every download and extraction at INFO; the CLI reports progress itself.
    pooch.get_logger().setLevel("WARNING")
    try:
        if entry.in_archive:
            members = pooch.retrieve(
                entry.url,
                known_hash=f"sha256:{entry.archive_sha256}",
                path=tmp,
                processor=pooch.Unzip(members=[entry.archive_member]),
                progressbar=False,
            )
            downloaded = Path(members[0])
        else:
            downloaded = Path(
                pooch.retrieve(
                    entry.url,
                    known_hash=f"sha256:{entry.sha256}",
                    fname=Path(entry.path).name,
                    path=tmp,
                    progressbar=False,
                )
            )
    except ValueError as exc:  # pooch: hash mismatch of the downloaded file
        raise DataVerificationError(
            f"The URL {entry.url} served bad bytes for {entry.path}: {exc}. Nothing in data/raw/ was changed."
        ) from exc
    except Exception as exc:  # network and HTTP failures surface as many exception types
        raise FetchError(
            f"Could not download {entry.path} from {entry.url}: {exc.__class__.__name__}: {exc}. "
            f"If this machine is offline, set {MIRROR_ENV_VAR} to a local mirror folder laid out "
            "like the data mirror (one subfolder per source)."
        ) from exc
    return downloaded, f"The URL {entry.url}"
