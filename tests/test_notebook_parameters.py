"""One meaning of "the notebook's parameters": the build's fast ast reader
(build.notebook_parameters.declared_parameters: the step's cache key, and what the runner passes) and
papermill's own inspection (what papermill injects) agree on every notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from heartbeats_analysis.build.notebook_parameters import declared_parameters
from heartbeats_analysis.paths import PROJECT_ROOT

papermill = pytest.importorskip("papermill")

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def papermill_parameters(notebook: Path) -> set[str]:
    return set(papermill.inspect_notebook(str(notebook)))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_build_and_papermill_read_the_same_parameters(notebook):
    assert declared_parameters(notebook) == papermill_parameters(notebook)


def test_every_notebook_was_checked():
    assert len(NOTEBOOKS) >= 8


def new_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_notebook(path: Path, parameters_source: str) -> Path:
    nb = new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell(parameters_source, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(agency)"),
    ]
    nbformat.write(nb, path)
    return path


def test_annotated_and_commented_parameters_agree(tmp_path):
    notebook = write_notebook(
        tmp_path / "fixture.ipynb",
        'agency = "ferguson"  # which agency\n'
        "draws: int = 5000\n"
        "peers = [\n    'florissant',\n    'jennings',\n]\n"
        "# a comment line\n"
        "seed = 7\n",
    )
    assert declared_parameters(notebook) == {"agency", "draws", "peers", "seed"}
    assert declared_parameters(notebook) == papermill_parameters(notebook)


def test_a_notebook_without_a_parameters_cell_has_none(tmp_path):
    nb = new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, tmp_path / "plain.ipynb")
    assert declared_parameters(tmp_path / "plain.ipynb") == set()
    assert papermill_parameters(tmp_path / "plain.ipynb") == set()
