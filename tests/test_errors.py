"""The README's exit-code table says what errors.py does: every error class, each with its exit code."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from heartbeats_analysis import errors
from heartbeats_analysis.errors import HeartbeatsError
from heartbeats_analysis.paths import PROJECT_ROOT


def error_classes() -> dict[str, int]:
    return {
        name: cls.exit_code
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, HeartbeatsError) and cls.__module__ == errors.__name__
    }


def readme_exit_codes() -> dict[str, int]:
    """Error class -> exit code, read from the rows of the README's exit-code table."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = {}
    for code, classes in re.findall(r"^\| (\d+) \|[^|]*\|([^|]*)\|$", text, flags=re.MULTILINE):
        for name in re.findall(r"`(\w+)`", classes):
            assert name not in table, f"{name} is listed twice in the README's exit-code table"
            table[name] = int(code)
    return table


def test_readme_exit_code_table_matches_errors_module():
    assert readme_exit_codes() == error_classes()


def all_subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *all_subclasses(direct)}}


def test_every_exit_coded_error_class_lives_in_errors_module():
    """Import every module of the package: no HeartbeatsError subclass is defined outside errors.py."""
    import heartbeats_analysis

    for module in pkgutil.walk_packages(heartbeats_analysis.__path__, "heartbeats_analysis."):
        importlib.import_module(module.name)
    elsewhere = sorted(
        f"{c.__module__}.{c.__name__}" for c in all_subclasses(HeartbeatsError) if c.__module__ != errors.__name__
    )
    assert elsewhere == []
    # The old homes still offer the classes, for code that imports them from there.
    from heartbeats_analysis.build import pdf
    from heartbeats_analysis.ingest.sources import base

    assert base.SchemaValidationError is errors.SchemaValidationError
    assert pdf.BrowserNotFoundError is errors.BrowserNotFoundError
