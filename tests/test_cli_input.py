"""Bad input by hand: empty options are errors (exit 2), an invalid assumption override says once what is
accepted, hand runs of a notebook write outside the published reports, and a package outside its
project folder stops with the fix. None of these builds anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from heartbeats_analysis import paths
from heartbeats_analysis.cli import app
from heartbeats_analysis.errors import ProjectNotFoundError
from heartbeats_analysis.report.notebook_io import NotebookContext

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("build", "--agency", ""), "--agency is empty"),
        (("build", "--agency", "   "), "--agency is empty"),
        (("build", "--ori", ""), "--ori is empty"),
        (("build", "--params", ""), "--params is empty"),
        (("params", "--agency", ""), "--agency is empty"),
        (("batch", ""), "An agency argument is empty"),
    ],
)
def test_an_empty_option_is_an_error_not_the_default_agency(args, named):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert named in " ".join(result.output.split())
    assert "Building the brief" not in result.output


def test_an_invalid_override_says_once_what_is_accepted():
    result = invoke("params", "--params", "params/ferguson.yaml", "--set", "assumptions.attrition_rate=abc")
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "1 problem(s)" in output
    assert output.count("attrition_rate") == 1
    assert "expected a number, or a mapping with low/central/high (and optionally distribution) (got 'abc')" in output


def test_a_hand_run_writes_to_the_scratch_folder_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HEARTBEATS_SCRATCH_DIR", str(tmp_path / "scratch"))
    ctx = NotebookContext.for_notebook("", "02-staffing", "florissant")
    assert ctx.build_dir == (tmp_path / "scratch" / "florissant").resolve() and ctx.build_dir.is_dir()
    assert str(ctx.build_dir) in capsys.readouterr().out


def test_the_default_scratch_folder_is_outside_the_published_reports():
    assert not paths.SCRATCH_DIR.is_relative_to(paths.REPORTS_DIR)
    assert paths.SCRATCH_DIR.parent == paths.PROJECT_ROOT


def test_a_build_dir_is_used_as_given(tmp_path, capsys):
    ctx = NotebookContext.for_notebook(tmp_path / "build", "02-staffing", "ferguson")
    assert ctx.build_dir == (tmp_path / "build").resolve()
    assert capsys.readouterr().out == ""


def test_a_package_outside_its_project_folder_stops_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path / "site-packages")
    with pytest.raises(ProjectNotFoundError, match="HEARTBEATS_PROJECT_ROOT") as caught:
        paths.require_project_root()
    assert "-e" in str(caught.value)
    assert invoke("verify").exit_code == 2


def test_the_project_root_can_be_named(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTBEATS_PROJECT_ROOT", str(tmp_path))
    assert paths._project_root() == tmp_path.resolve()
    monkeypatch.delenv("HEARTBEATS_PROJECT_ROOT")
    assert paths._project_root() == paths.PACKAGE_DIR.parent


def test_a_command_keeps_its_objects_out_of_the_last_collection_once_its_exit_handlers_have_run():
    """gc.freeze runs at exit, after the handlers registered later (registered once, however many commands run)."""
    import subprocess
    import sys

    script = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "from heartbeats_analysis import cli\n"
        "before = atexit._ncallbacks()\n"
        "cli._freeze_objects_at_exit(); cli._freeze_objects_at_exit()\n"
        "atexit.register(lambda: print('frozen in a later handler:', gc.get_freeze_count() > 0))\n"
        "print('registered:', atexit._ncallbacks() - before)\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert shown.splitlines() == ["registered: 2", "frozen in a later handler: False", "frozen at exit: True"]
