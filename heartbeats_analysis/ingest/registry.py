"""The data registry: every raw file the project uses, with its checksum, source and licence."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from heartbeats_analysis.paths import RESOURCES_DIR, raw_dir

REGISTRY_CSV = RESOURCES_DIR / "data_registry.csv"


@dataclass(frozen=True)
class RawFile:
    key: str
    path: str
    sha256: str
    bytes: int
    url: str
    source_repo: str
    source_commit: str
    source_path: str
    publisher: str
    license: str
    data_through: str
    notes: str
    archive_member: str = ""
    archive_sha256: str = ""

    @property
    def local_path(self) -> Path:
        return raw_dir() / self.path

    @property
    def in_archive(self) -> bool:
        """True for files shipped inside an archive (a PyPI wheel) rather than served on their own."""
        return bool(self.archive_member)


@lru_cache(maxsize=1)
def load_registry(path: Path = REGISTRY_CSV) -> tuple[RawFile, ...]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return tuple(RawFile(**{**row, "bytes": int(row["bytes"])}) for row in rows)


def get(key: str) -> RawFile:
    for entry in load_registry():
        if entry.key == key:
            return entry
    known = ", ".join(sorted(e.key for e in load_registry()))
    raise KeyError(f"No raw file with key {key!r} in the data registry. Known keys: {known}")


def entries_under(prefix: str) -> list[RawFile]:
    """Registry entries whose path starts with prefix (e.g. 'ucr/offenses/')."""
    return [e for e in load_registry() if e.path.startswith(prefix)]


def registry_hash() -> str:
    """One hash that changes whenever any registered file (or its metadata) changes."""
    return hashlib.sha256(REGISTRY_CSV.read_bytes()).hexdigest()


def data_as_of() -> str:
    """The latest period any registered source covers: the brief's 'data as of' date."""
    return max(e.data_through for e in load_registry())


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
