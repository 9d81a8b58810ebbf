"""Read processed tables back with the dtypes their schemas declare."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from heartbeats_analysis.errors import TableMissingError
from heartbeats_analysis.paths import processed_dir

_PANDAS_TYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean", "string": "str"}


@lru_cache(maxsize=4)
def _datapackage(folder: Path, mtime: float) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def load_table(name: str, folder: Path | None = None) -> pd.DataFrame:
    folder = Path(folder or processed_dir())
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise TableMissingError(
            f"Processed table {path} does not exist. Run `heartbeats clean` (or `make report`) first."
        )
    package = folder / "datapackage.json"
    types: dict[str, str] = {}
    if package.is_file():
        meta = _datapackage(folder, package.stat().st_mtime)
        for resource in meta["resources"]:
            if resource["name"] == name:
                types = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
    dtypes = {c: _PANDAS_TYPES[t] for c, t in types.items() if t in _PANDAS_TYPES}
    dates = [c for c, t in types.items() if t == "datetime"]
    frame = pd.read_csv(
        path,
        dtype={c: t for c, t in dtypes.items() if t in ("str", "Int64", "float64")},
        keep_default_na=True,
        parse_dates=dates,
    )
    for column, kind in dtypes.items():
        if kind == "boolean" and column in frame:
            frame[column] = frame[column].astype("boolean")
    return frame
