"""Clean every raw source into validated tidy tables in data/processed/ (the build's first step).

All tables are computed and validated before any file is written, so a schema failure stops the
build with the previous processed tables intact. Each table is documented in datapackage.json and
README.md (the data dictionary), and every gap the cleaning found or created is in missingness.csv.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import json
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from heartbeats_analysis.ingest.sources.base import MissingnessLog
from heartbeats_analysis.paths import processed_dir, raw_dir

SOURCE_MODULES = (
    "acs",
    "vsr",
    "ucr_police",
    "ucr_offenses",
    "ucr_arrests",
    "fbi_state",
    "fatal_force",
    "stl_county_force",
    "calls",
    "movsr",
    "agencies",
    "bls_oews",
)
MISSINGNESS_COLUMNS = {
    "table": "Processed table the gap is in",
    "key": "Row key (e.g. agency and year)",
    "column": "Column left missing",
    "reason": "Why the value is missing",
    "raw_value": "What the raw file held, if anything",
}


@dataclass(frozen=True)
class TableOutput:
    name: str
    frame: pd.DataFrame
    schema: pa.DataFrameSchema | None
    columns: dict[str, str]
    module: str


def _modules():
    """Every source module in SOURCE_MODULES; a listed module that does not exist stops the cleaning
    (a table silently left out would surface much later as a notebook's missing table)."""
    for name in SOURCE_MODULES:
        module_name = f"heartbeats_analysis.ingest.sources.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            raise ModuleNotFoundError(
                f"SOURCE_MODULES in heartbeats_analysis/ingest/clean.py lists {name!r}, but there is no module "
                f"{module_name}: write heartbeats_analysis/ingest/sources/{name}.py or remove it from the list.",
                name=module_name,
            ) from exc
        yield name, module


START_FIRST = ("fatal_force", "vsr", "acs", "ucr_arrests")
"""Sources cleaned before the others (which follow in SOURCE_MODULES order): the slowest (fatal_force, about 0.7 s of
CPU; ucr_arrests, 0.45 s), so that no participant is left with a long source at the end, and those agencies reads, so
that it can start early. The order decides only when a source is cleaned: the tables and the log come out in
SOURCE_MODULES order."""


def build_tables(
    raw_root: Path | None = None, progress: Callable[[str], None] | None = None, workers: int = 0
) -> list[TableOutput]:
    """Run load_raw and clean for every source; nothing is written here.

    With ``workers`` > 0, that many extra processes clean sources beside this one. The sources are independent,
    except those whose clean reads earlier tables (agencies): those run here, as soon as the sources whose tables
    they read (READS_TABLES; without it, every source listed before them) have been cleaned. The tables, their order
    and the missingness log are the same as cleaning one source after another: each source keeps its own log, and the
    logs are joined in SOURCE_MODULES order. A source that fails in a worker is cleaned again here, so its error is
    raised with its own type, message and traceback.
    """
    if workers < 0:
        raise ValueError(f"workers must be 0 or more, not {workers}")
    root = Path(raw_root) if raw_root is not None else raw_dir()
    modules = dict(_modules())
    with _collector_skips_older_objects():
        results = _clean_sources(modules, root, progress, workers)
    outputs: list[TableOutput] = []
    log = MissingnessLog()
    for name, module in modules.items():
        extras = getattr(module, "EXTRA_TABLES", {})
        for table, frame in results[name].tables:
            schema, columns = (
                (module.PROCESSED_SCHEMA, module.COLUMNS) if table == module.TABLE_NAME else extras[table][:2]
            )
            outputs.append(TableOutput(table, frame, schema, columns, name))
        log.rows.extend(results[name].log_rows)
    outputs.append(TableOutput("missingness", log.to_frame(), None, MISSINGNESS_COLUMNS, "base"))
    return outputs


@dataclass(frozen=True)
class _SourceResult:
    tables: list[tuple[str, pd.DataFrame]]  # the main table, then EXTRA_TABLES in their order
    log_rows: list[dict]


def clean_source(name: str, raw_root: Path, cleaned: dict[str, pd.DataFrame] | None = None) -> _SourceResult:
    """load_raw and clean one source (and its EXTRA_TABLES), with a missingness log of its own."""
    module = importlib.import_module(f"heartbeats_analysis.ingest.sources.{name}")
    log = MissingnessLog()
    tables = dict(cleaned or {})
    raw = module.load_raw(raw_root)
    produced = [(module.TABLE_NAME, _call_clean(module.clean, raw, log, tables))]
    tables[module.TABLE_NAME] = produced[0][1]
    for extra_name, (_, _, function) in getattr(module, "EXTRA_TABLES", {}).items():
        produced.append((extra_name, _call_clean(function, raw, log, tables)))
        tables[extra_name] = produced[-1][1]
    return _SourceResult(produced, log.rows)


def _sources_read(modules: dict) -> dict[str, set[str] | None]:
    """For each source, the sources whose tables its clean reads; None for a source that reads none (any
    participant may clean it). A dependent source's READS_TABLES names tables; without it, it reads every source
    listed before it."""
    producers = {
        table: name
        for name, module in modules.items()
        for table in (module.TABLE_NAME, *getattr(module, "EXTRA_TABLES", {}))
    }
    read: dict[str, set[str] | None] = {}
    for name, module in modules.items():
        if not _reads_earlier_tables(module):
            read[name] = None
        elif hasattr(module, "READS_TABLES"):
            unknown = [t for t in module.READS_TABLES if producers.get(t) in (None, name)]
            if unknown:
                raise ValueError(f"{name}.READS_TABLES names {unknown}: no other source in SOURCE_MODULES makes them")
            read[name] = {producers[table] for table in module.READS_TABLES}
        else:
            read[name] = set(list(modules)[: list(modules).index(name)])
    _refuse_cycles(read)
    return read


def _refuse_cycles(read: dict[str, set[str] | None]) -> None:
    """Sources that read each other's tables, however indirectly, could never be cleaned: say so."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ValueError(f"sources read each other's tables ({cycle}): fix READS_TABLES")
        if name not in done:
            for source in sorted(read[name] or ()):
                visit(source, [*path, name])
            done.add(name)

    for name in read:
        visit(name, [])


def _clean_sources(
    modules: dict, raw_root: Path, progress: Callable[[str], None] | None, workers: int
) -> dict[str, _SourceResult]:
    """Clean every source: here, and in ``workers`` processes when asked. Each participant takes the next source it
    can clean (START_FIRST, then SOURCE_MODULES order) from one queue, so a slow source does not hold the others up;
    a source that reads other tables is cleaned here once they are all there (this process waits for them if it has
    nothing else to do), and a source that failed in a worker is cleaned again here before anything else."""
    reads = _sources_read(modules)
    order = [name for name in START_FIRST if name in modules] + [n for n in modules if n not in START_FIRST]
    waiting = deque(order)
    results: dict[str, _SourceResult] = {}
    failed: deque[str] = deque()
    changed = threading.Condition()

    def next_source(here: bool) -> str | None:
        """The next source for this process (``here``) or a worker; None when there is none left for it."""
        with changed:
            while True:
                if here and failed:
                    return failed.popleft()  # cleaned again: progress has reported it already
                # Here, a source whose tables are all there first: no worker can take it.
                ready = next((n for n in waiting if here and reads[n] is not None and reads[n] <= results.keys()), None)
                ready = ready or next((n for n in waiting if reads[n] is None), None)
                if ready is not None:
                    waiting.remove(ready)
                    break
                if not here or not waiting:
                    return None
                changed.wait()  # only sources that wait for a worker's tables are left
        if progress and here:
            progress(ready)  # a worker's source is reported by its feeder, which survives a failed report
        return ready

    def done(name: str, result: _SourceResult | None) -> None:
        with changed:
            if result is None:
                failed.append(name)
            else:
                results[name] = result
            changed.notify_all()

    def tables_for(name: str) -> dict[str, pd.DataFrame] | None:
        if reads[name] is None:
            return None
        with changed:
            wanted = set(getattr(modules[name], "READS_TABLES", ())) or None
            return {
                table: frame
                for source in sorted(reads[name])
                for table, frame in results[source].tables
                if wanted is None or table in wanted
            }

    def feed(pool: ProcessPoolExecutor) -> None:
        while (name := next_source(here=False)) is not None:
            result = None
            try:
                if progress:
                    progress(name)
                result = pool.submit(clean_source, name, raw_root).result()
            # Whatever ends a worker's task (an error, or a SystemExit the worker passes on): the source is cleaned
            # again here, where its error is raised as it is. A feeder that died instead would leave a source that
            # reads it waiting for ever.
            except BaseException:  # noqa: BLE001
                result = None
            done(name, result)

    feeders: list[threading.Thread] = []
    independent = [name for name in modules if reads[name] is None]
    pool = _worker_pool(workers) if workers and len(independent) > 1 else None
    try:
        if pool is not None:
            feeders = [threading.Thread(target=feed, args=(pool,), daemon=True) for _ in range(workers)]
            for feeder in feeders:
                feeder.start()
        try:
            while (name := next_source(here=True)) is not None:
                done(name, clean_source(name, raw_root, tables_for(name)))
        finally:
            with changed:
                waiting.clear()  # a failure here: the workers take no new source
            for feeder in feeders:
                feeder.join()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    while failed:  # failed in a worker after this process had run out of sources
        name = failed.popleft()
        results[name] = clean_source(name, raw_root, tables_for(name))
    return {name: results[name] for name in modules}


@contextmanager
def _collector_skips_older_objects():
    """While cleaning, the garbage collector's full collections leave out the objects that were there before (the
    imported libraries, 150,000 objects and more): walking them took about a tenth of cleaning's CPU. What cleaning
    allocates is collected as before, and the process is left as it was (a process that froze objects of its own
    keeps them frozen)."""
    frozen_here = gc.get_freeze_count() == 0
    if frozen_here:
        gc.freeze()
    try:
        yield
    finally:
        if frozen_here:
            gc.unfreeze()


def _worker_pool(workers: int):
    """In a kernel forked from a build's kernel template, workers forked from that template (they start with every
    source imported, in milliseconds); otherwise spawned interpreters: never forks of a Jupyter kernel and its threads.
    Not forkserver: its server outlives the pool and held the cleaning kernel's shutdown up by about 2 s (measured)."""
    from heartbeats_analysis.build.kernel_template import ForkedWorkers, TemplateError

    if ForkedWorkers.available():
        try:
            return ForkedWorkers(workers)
        except TemplateError:
            pass  # spawned workers do the same, a second later
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_started)


def import_sources() -> None:
    """Import every source module (a cleaning worker does, and a kernel template does for what it forks)."""
    for _ in _modules():
        pass


def _worker_started() -> None:
    """A spawned cleaning worker imports every source, then keeps those imports out of the garbage collector's walks
    for the rest of its life (it cleans, then exits)."""
    import_sources()
    gc.freeze()


def _call_clean(function, raw, log, cleaned):
    """clean(raw, log), or clean(raw, log, tables) for sources that need earlier tables (agencies)."""
    if _takes_tables(function):
        return function(raw, log, cleaned)
    return function(raw, log)


def _takes_tables(function) -> bool:
    return len(inspect.signature(function).parameters) >= 3


def _reads_earlier_tables(module) -> bool:
    functions = [module.clean] + [function for _, _, function in getattr(module, "EXTRA_TABLES", {}).values()]
    return any(_takes_tables(function) for function in functions)


def write_tables(outputs: list[TableOutput], folder: Path | None = None) -> list[Path]:
    """Write every table, then the data dictionary; each file appears atomically."""
    folder = folder or processed_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for output in outputs:
        written.append(_atomic_csv(output.frame, folder / f"{output.name}.csv"))
    _write_text(folder / "datapackage.json", json.dumps(datapackage(outputs), indent=2, sort_keys=True) + "\n")
    _write_text(folder / "README.md", data_dictionary_markdown(outputs))
    return written


def _atomic_csv(frame: pd.DataFrame, path: Path) -> Path:
    partial = path.with_name(path.name + ".partial")
    frame.to_csv(partial, index=False, lineterminator="\n")
    os.replace(partial, path)
    return path


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _field_type(frame: pd.DataFrame, column: str) -> str:
    dtype = str(frame[column].dtype) if column in frame else "unknown"
    if dtype.startswith("datetime64"):
        return "datetime"
    return {
        "Int64": "integer",
        "int64": "integer",
        "float64": "number",
        "Float64": "number",
        "bool": "boolean",
        "boolean": "boolean",
        "str": "string",
        "object": "string",
    }.get(dtype, dtype)


def datapackage(outputs: list[TableOutput]) -> dict:
    resources = []
    for output in outputs:
        key = list(output.schema.unique) if output.schema is not None and output.schema.unique else []
        resources.append(
            {
                "name": output.name,
                "path": f"{output.name}.csv",
                "rows": int(len(output.frame)),
                "source_module": f"heartbeats_analysis.ingest.sources.{output.module}",
                "schema": {
                    "fields": [
                        {"name": c, "type": _field_type(output.frame, c), "description": output.columns.get(c, "")}
                        for c in output.frame.columns
                    ],
                    "primaryKey": key,
                },
            }
        )
    return {"name": "heartbeats-processed", "resources": resources}


def data_dictionary_markdown(outputs: list[TableOutput]) -> str:
    lines = [
        "# Processed tables (data dictionary)",
        "",
        "Rebuilt by `heartbeats clean` from the raw files in data/raw/; never edited by hand.",
        "",
    ]
    for output in outputs:
        lines += [
            f"## {output.name}.csv ({len(output.frame)} rows; from heartbeats_analysis.ingest.sources.{output.module})",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        lines += [
            f"| {c} | {_field_type(output.frame, c)} | {output.columns.get(c, '')} |" for c in output.frame.columns
        ]
        lines.append("")
    return "\n".join(lines)


def run(
    raw_root: Path | None = None,
    folder: Path | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 0,
):
    outputs = build_tables(raw_root, progress, workers)
    write_tables(outputs, folder)
    return outputs


def summary(outputs: list[TableOutput]) -> pd.DataFrame:
    """Rows, columns and missing values per table written."""
    return pd.DataFrame(
        [
            {
                "table": o.name,
                "rows": len(o.frame),
                "columns": o.frame.shape[1],
                "missing_values": int(o.frame.isna().sum().sum()),
            }
            for o in outputs
        ]
    )
