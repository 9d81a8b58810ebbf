"""The parameters a notebook declares: one reader for the build's cache key and for what papermill is passed."""

from __future__ import annotations

import ast
import json
from pathlib import Path


def declared_parameters(notebook: Path) -> set[str]:
    """Names assigned in the notebook's cell tagged 'parameters': `name = value` and `name: type = value`.

    Read with ast rather than papermill.inspect_notebook because importing papermill costs more than a
    whole no-op rebuild; tests/test_notebook_parameters.py checks the two agree on every notebook, since
    a parameter missed here would be left out of the step's cache key and never passed to the notebook.
    """
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell["source"]
            tree = ast.parse(source if isinstance(source, str) else "".join(source))
            names = set()
            for node in tree.body:
                if isinstance(node, ast.Assign):
                    names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
                elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
                    names.add(node.target.id)
            return names
    return set()
