"""The cleaning orchestrator never skips a listed source silently."""

from __future__ import annotations

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
