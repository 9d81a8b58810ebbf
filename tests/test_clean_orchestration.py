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
    monkeypatch.setattr(clean, "_clean_independent", _recording_freeze_count(clean._clean_independent, during))
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
