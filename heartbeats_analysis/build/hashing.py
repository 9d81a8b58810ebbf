"""Content hashes for incremental builds: a step reruns only when one of its inputs changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from heartbeats_analysis.paths import PACKAGE_DIR


def hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        name = str(path.relative_to(root)) if root else path.name
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def hash_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def package_code_hash() -> str:
    """Hash of the package's code, templates and resources (what a notebook's result can depend on)."""
    files = [
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in {".py", ".csv", ".j2", ".css", ".json", ".yaml"}
    ]
    return hash_files(files, root=PACKAGE_DIR)
