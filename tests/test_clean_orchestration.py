"""The cleaning orchestrator never skips a listed source silently, and cleans the same in parallel."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import pytest

from heartbeats_analysis.ingest import clean


def test_a_listed_source_module_that_does_not_exist_stops_the_cleaning(monkeypatch):
    monkeypatch.setattr(clean, "SOURCE_MODULES", ("acs", "no_such_source"))
    modules = clean._modules()
    assert next(modules)[0] == "acs"
    with pytest.raises(ModuleNotFoundError) as caught:
        next(modules)
    message = str(caught.value)
    assert "'no_such_source'" in message and "heartbeats_analysis/ingest/sources/no_such_source.py" in message


SMALL_SOURCES = ("acs", "fbi_state", "movsr", "bls_oews")


class _BrokenPool:
    """A worker pool whose every task fails, as if its process had died: records what it was given."""

    def __init__(self):
        self.submitted: list[str] = []
        self.shut_down = False

    def submit(self, function, name, raw_root):
        self.submitted.append(name)
        future = Future()
        future.set_exception(BrokenProcessPool("the worker died"))
        return future

    def shutdown(self, cancel_futures=False):
        self.shut_down = True


def _frames(outputs):
    return {o.name: o.frame for o in outputs}


def test_a_source_that_fails_in_a_worker_is_cleaned_again_here(monkeypatch, raw_data):
    monkeypatch.setattr(clean, "SOURCE_MODULES", SMALL_SOURCES)
    one_after_another = _frames(clean.build_tables(raw_data))
    pool = _BrokenPool()
    monkeypatch.setattr(clean, "_worker_pool", lambda workers: pool)

    with_broken_worker = _frames(clean.build_tables(raw_data, workers=1))

    assert pool.submitted and pool.shut_down
    assert list(with_broken_worker) == list(one_after_another)
    for name, frame in one_after_another.items():
        pd.testing.assert_frame_equal(with_broken_worker[name], frame)


def test_every_source_is_cleaned_once_and_reported_in_progress(monkeypatch, raw_data):
    monkeypatch.setattr(clean, "SOURCE_MODULES", SMALL_SOURCES)
    seen: list[str] = []
    clean.build_tables(raw_data, progress=seen.append, workers=1)
    assert sorted(seen) == sorted(SMALL_SOURCES)


def test_a_negative_number_of_workers_is_refused(raw_data):
    with pytest.raises(ValueError, match="workers must be 0 or more, not -1"):
        clean.build_tables(raw_data, workers=-1)


def test_cleaning_leaves_the_garbage_collector_as_it_found_it(monkeypatch, raw_data):
    """Cleaning keeps older objects out of the collector's walks while it runs, and only then."""
    import gc

    monkeypatch.setattr(clean, "SOURCE_MODULES", SMALL_SOURCES)
    during: list[int] = []
    monkeypatch.setattr(clean, "_clean_sources", _recording_freeze_count(clean._clean_sources, during))
    assert gc.get_freeze_count() == 0
    clean.build_tables(raw_data)
    assert during[0] > 10_000 and gc.get_freeze_count() == 0
    gc.freeze()  # a process that froze objects of its own keeps them frozen
    try:
        frozen = gc.get_freeze_count()
        clean.build_tables(raw_data)
        assert gc.get_freeze_count() > frozen - 100  # still frozen (less the few frozen objects freed meanwhile)
    finally:
        gc.unfreeze()


def _recording_freeze_count(function, counts: list[int]):
    import gc

    def recorded(*args, **kwargs):
        counts.append(gc.get_freeze_count())
        return function(*args, **kwargs)

    return recorded


# ---- sources that read other sources' tables -------------------------------------------------------------------------


def _fake_source(monkeypatch, name: str, reads: tuple[str, ...] | None = None, declared: bool = True):
    """A source module `name` making the table `name`: one row counting the tables its clean was given (a source that
    reads tables when `reads` is not None, declaring them in READS_TABLES when `declared`)."""
    import sys
    import types

    module = types.ModuleType(f"heartbeats_analysis.ingest.sources.{name}")
    module.TABLE_NAME, module.PROCESSED_SCHEMA, module.COLUMNS = name, None, {}
    module.load_raw = lambda raw_root: name
    if reads is None:
        module.clean = lambda raw, log: pd.DataFrame({"given": [""]})
    else:
        module.clean = lambda raw, log, tables: pd.DataFrame({"given": [",".join(sorted(tables))]})
        if declared:
            module.READS_TABLES = reads
    monkeypatch.setitem(sys.modules, module.__name__, module)


def _given(outputs, table: str) -> str:
    return next(o.frame.at[0, "given"] for o in outputs if o.name == table)


def test_a_source_that_reads_tables_is_cleaned_as_soon_as_they_are_there(monkeypatch):
    for name in ("first", "second", "fourth"):
        _fake_source(monkeypatch, name)
    _fake_source(monkeypatch, "reader", reads=("first",))
    monkeypatch.setattr(clean, "SOURCE_MODULES", ("first", "second", "reader", "fourth"))
    monkeypatch.setattr(clean, "START_FIRST", ())
    seen: list[str] = []
    outputs = clean.build_tables(progress=seen.append)
    assert seen == ["first", "reader", "second", "fourth"]
    assert _given(outputs, "reader") == "first"  # the tables it declares, and only those
    assert [o.name for o in outputs] == ["first", "second", "reader", "fourth", "missingness"]  # listed order


def test_a_source_that_declares_no_tables_waits_for_every_source_listed_before_it(monkeypatch):
    for name in ("first", "second", "fourth"):
        _fake_source(monkeypatch, name)
    _fake_source(monkeypatch, "reader", reads=("first",), declared=False)
    monkeypatch.setattr(clean, "SOURCE_MODULES", ("first", "second", "reader", "fourth"))
    monkeypatch.setattr(clean, "START_FIRST", ("fourth",))
    seen: list[str] = []
    outputs = clean.build_tables(progress=seen.append)
    assert seen == ["fourth", "first", "second", "reader"]
    assert _given(outputs, "reader") == "first,second"


def test_reading_a_table_no_other_source_makes_is_refused(monkeypatch):
    _fake_source(monkeypatch, "first")
    _fake_source(monkeypatch, "reader", reads=("first", "nowhere"))
    monkeypatch.setattr(clean, "SOURCE_MODULES", ("first", "reader"))
    with pytest.raises(ValueError, match=r"reader.READS_TABLES names \['nowhere'\]"):
        clean.build_tables()


def test_sources_that_read_each_others_tables_are_refused(monkeypatch):
    _fake_source(monkeypatch, "first")
    _fake_source(monkeypatch, "reader", reads=("first", "other"))
    _fake_source(monkeypatch, "other", reads=("reader",))
    monkeypatch.setattr(clean, "SOURCE_MODULES", ("first", "reader", "other"))
    with pytest.raises(ValueError, match=r"read each other's tables \(reader -> other -> reader\)"):
        clean.build_tables()


class _ExitingWorkers:
    """Workers whose every task ends in SystemExit, as a worker passes on a BaseException it met."""

    def submit(self, function, name, raw_root):
        future = Future()
        future.set_exception(SystemExit(3))
        return future

    def shutdown(self, cancel_futures=False):
        pass


def test_a_task_a_worker_ends_with_system_exit_is_cleaned_here_and_nothing_waits_for_ever(monkeypatch):
    for name in ("first", "second", "third"):
        _fake_source(monkeypatch, name)
    _fake_source(monkeypatch, "reader", reads=("second", "third"))
    monkeypatch.setattr(clean, "SOURCE_MODULES", ("first", "second", "third", "reader"))
    for _ in range(10):  # the worker's feeder takes a different source from round to round
        seen, outputs = _clean_beside(_ExitingWorkers(), monkeypatch)
        assert sorted(seen) == ["first", "reader", "second", "third"]
        assert _given(outputs, "reader") == "second,third"


class _ThreadWorkers:
    """Workers as threads of this process (they see the fake modules); `fail` makes every task fail."""

    def __init__(self, fail: bool = False):
        from concurrent.futures import ThreadPoolExecutor

        self.fail, self.submitted, self._threads = fail, [], ThreadPoolExecutor(1)

    def submit(self, function, name, raw_root):
        self.submitted.append(name)
        if self.fail:
            return _BrokenPool().submit(function, name, raw_root)
        return self._threads.submit(self._slowly, function, name, raw_root)

    @staticmethod
    def _slowly(function, name, raw_root):
        import time

        time.sleep(0.01)  # this process runs out of sources first, and waits for the worker's tables
        return function(name, raw_root)

    def shutdown(self, cancel_futures=False):
        self._threads.shutdown(cancel_futures=cancel_futures)


@pytest.mark.parametrize("fail", [False, True], ids=["worker", "failing worker"])
def test_a_reader_waits_here_for_the_tables_a_worker_is_making(monkeypatch, fail):
    """However the sources fall between this process and its worker (whose sources fail, in one case, and are
    cleaned again here), every source is cleaned once and the reader gets its tables; nothing waits forever."""
    for name in ("first", "second", "third"):
        _fake_source(monkeypatch, name)
    _fake_source(monkeypatch, "reader", reads=("second", "third"))
    monkeypatch.setattr(clean, "SOURCE_MODULES", ("first", "second", "third", "reader"))
    for _ in range(20):  # the two take the first sources in either order
        seen, outputs = _clean_beside(_ThreadWorkers(fail), monkeypatch)
        assert sorted(seen) == ["first", "reader", "second", "third"]
        assert _given(outputs, "reader") == "second,third"


def _clean_beside(workers, monkeypatch) -> tuple[list[str], list]:
    """build_tables with one worker, in a thread that must end within 30 s: (sources reported, outputs)."""
    import threading

    monkeypatch.setattr(clean, "_worker_pool", lambda count: workers)
    seen: list[str] = []
    finished: list = []
    run = threading.Thread(target=lambda: finished.append(clean.build_tables(progress=seen.append, workers=1)))
    run.start()
    run.join(timeout=30)
    assert finished, "the cleaning did not finish"
    return seen, finished[0]
