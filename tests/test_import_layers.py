"""The package's stages import each other in one direction only (checked on the source, including imports
inside functions): the build machinery never reaches into the analysis or the model, the sources never
into the analysis, and the analysis and the model never into the build."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from heartbeats_analysis.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "heartbeats_analysis"
FORBIDDEN = {
    "build": ("analysis", "model"),
    "ingest/sources": ("analysis",),
    "analysis": ("build",),
    "model": ("build",),
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute or relative, at any level of the file."""
    package = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def violations(stage: str, forbidden: tuple[str, ...]) -> list[str]:
    prefixes = tuple(f"heartbeats_analysis.{name}" for name in forbidden)
    return [
        f"{path.relative_to(PROJECT_ROOT)} imports {module}"
        for path in sorted((PACKAGE / stage).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if module in prefixes or module.startswith(tuple(p + "." for p in prefixes))
    ]


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_never_imports_a_later_or_sideways_stage(stage):
    assert violations(stage, FORBIDDEN[stage]) == []


def test_the_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    """A deliberate violation, written inside a function, is caught."""
    fake_root = tmp_path / "project"
    module = fake_root / "heartbeats_analysis" / "build" / "fake.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from heartbeats_analysis.model import report\n    from ..analysis import stops\n")
    monkeypatch.setitem(globals(), "PROJECT_ROOT", fake_root)
    monkeypatch.setitem(globals(), "PACKAGE", fake_root / "heartbeats_analysis")
    assert violations("build", ("analysis", "model")) == [
        "heartbeats_analysis/build/fake.py imports heartbeats_analysis.analysis",
        "heartbeats_analysis/build/fake.py imports heartbeats_analysis.analysis.stops",
        "heartbeats_analysis/build/fake.py imports heartbeats_analysis.model",
        "heartbeats_analysis/build/fake.py imports heartbeats_analysis.model.report",
    ]
