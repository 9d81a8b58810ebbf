"""Notebook -> HTML with the project's own nbconvert templates (brief and technical appendix).

Both outputs are self-contained and offline: images are embedded as data URIs and the
Content-Security-Policy forbids loading anything from any host. The output is deterministic: no
timings, random ids or absolute paths reach the HTML.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from heartbeats_analysis.paths import PROJECT_ROOT
from heartbeats_analysis.report.html_page import CSS_PATH, TEMPLATES_DIR

HIDDEN_TAGS = {"injected-parameters", "parameters", "remove"}


class DropStderr(Preprocessor):
    """stderr (warnings, progress bars) carries absolute paths and noise; the brief never shows it."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
        return cell, resources


class StripVolatileMetadata(Preprocessor):
    def preprocess_cell(self, cell, resources, index):
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        return cell, resources


def _exporter(template: str, *, hide_code: bool) -> HTMLExporter:
    exporter = HTMLExporter(template_name=template, extra_template_basedirs=[str(TEMPLATES_DIR)])
    exporter.exclude_input = hide_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    remover = TagRemovePreprocessor(remove_cell_tags=HIDDEN_TAGS if hide_code else {"injected-parameters"})
    exporter.register_preprocessor(remover, enabled=True)
    exporter.register_preprocessor(StripVolatileMetadata(), enabled=True)
    if hide_code:
        exporter.register_preprocessor(DropStderr(), enabled=True)
    return exporter


def scrub_paths(html: str) -> str:
    """Remove this machine's absolute paths (they differ between clones and machines)."""
    html = html.replace(str(PROJECT_ROOT) + "/", "").replace(str(PROJECT_ROOT), ".")
    return re.sub(r"/tmp/[A-Za-z0-9_.\-/]+", "<tmp>", html)


def notebook_to_html(notebook_path: Path, output_path: Path, *, title: str, hide_code: bool) -> Path:
    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.metadata.pop("papermill", None)
    exporter = _exporter("heartbeats_brief" if hide_code else "heartbeats_appendix", hide_code=hide_code)
    resources = {"heartbeats": {"title": title, "css": CSS_PATH.read_text(encoding="utf-8")}}
    html, _ = exporter.from_notebook_node(notebook, resources=resources)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(scrub_paths(html), encoding="utf-8")
    return output_path
