"""Notebook -> HTML with the project's own nbconvert templates (brief and technical appendix).

Both outputs are self-contained and offline: images are embedded as data URIs and the
Content-Security-Policy forbids loading anything from any host. The output is deterministic: no
timings, random ids or absolute paths reach the HTML.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
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


NO_ALT_TEXT = "No description has been provided for this image"
_FOCUSABLE = re.compile(r'<div class="([^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*)"')
_IMAGE_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")


class PageExporter(HTMLExporter):
    """nbconvert's HTMLExporter without its last step, a BeautifulSoup parse and re-serialisation of the
    whole page (about 0.5 s a page, most of an export) that only marks input and output areas focusable
    and gives images without alt text a placeholder: done here on the text, with the same attributes."""

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter(
            "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        )
        resources = self._init_resources(resources)
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
        )
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _FOCUSABLE.sub(r'<div class="\1" tabindex="0"', html)
        return _IMAGE_WITHOUT_ALT.sub(f'<img alt="{NO_ALT_TEXT}"', html), resources


_EXPORTERS: dict[tuple[str, bool], tuple[HTMLExporter, threading.Lock]] = {}
_EXPORTERS_LOCK = threading.Lock()


@contextlib.contextmanager
def _exporter(template: str, *, hide_code: bool) -> Iterator[HTMLExporter]:
    """The process's exporter for this template, kept and used by one thread at a time: building one
    compiles its Jinja templates (about 0.5 s), and a build server exports the same pages after every
    change. A changed template changes the package's code hash, which restarts the server."""
    with _EXPORTERS_LOCK:
        if (template, hide_code) not in _EXPORTERS:
            _EXPORTERS[template, hide_code] = (_new_exporter(template, hide_code=hide_code), threading.Lock())
        exporter, in_use = _EXPORTERS[template, hide_code]
    with in_use:
        yield exporter


def _new_exporter(template: str, *, hide_code: bool) -> HTMLExporter:
    exporter = PageExporter(template_name=template, extra_template_basedirs=[str(TEMPLATES_DIR)])
    exporter.exclude_input = hide_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    # Validate the notebook once after the preprocessors, not after each of them (nbformat's schema check over every
    # output, embedded images included, was most of an appendix page's export); it was validated when read.
    exporter.optimistic_validation = True
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
    resources = {"heartbeats": {"title": title, "css": CSS_PATH.read_text(encoding="utf-8")}}
    with _exporter("heartbeats_brief" if hide_code else "heartbeats_appendix", hide_code=hide_code) as exporter:
        html, _ = exporter.from_notebook_node(notebook, resources=resources)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(scrub_paths(html), encoding="utf-8")
    return output_path
