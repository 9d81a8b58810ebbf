"""One plotting style for every figure: colour-blind-safe, readable in print, saved with its data
and alt text so the brief can show an accessible table beside each chart."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

# Okabe & Ito (2008) palette: distinguishable under the common forms of colour blindness.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
SERIES_COLOURS = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
AGENCY_COLOUR = PALETTE["blue"]
PEER_COLOUR = "#8C8C8C"
REFERENCE_COLOUR = PALETTE["vermillion"]

FIGURE_WIDTH_IN = 7.0  # fits a US Letter page with 0.75 in margins
FIGURE_HEIGHT_IN = 3.8
PNG_COMPRESS_LEVEL = 3
"""zlib level of the saved PNGs: level 6 (Pillow's default) took 70% more CPU for files 15% larger, on the
brief's 20 charts (opaque charts saved as RGB, see write_png)."""


def apply_style() -> None:
    """Set matplotlib defaults; deterministic SVG output (no random ids, no dates).

    Also selects the file-only Agg backend (a no-op once selected): figures are saved, never shown by
    the backend, in a kernel, a test or the command line alike. Done here, where a figure is about to
    be drawn, rather than as a side effect of importing this module.
    """
    matplotlib.use("Agg")
    plt.rcParams.update(
        {
            "figure.figsize": (FIGURE_WIDTH_IN, FIGURE_HEIGHT_IN),
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "font.size": 10.5,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 10.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#DDDDDD",
            "grid.linewidth": 0.6,
            "legend.frameon": False,
            "legend.fontsize": 9.5,
            "axes.prop_cycle": matplotlib.cycler(color=SERIES_COLOURS),
        }
    )


@dataclass(frozen=True)
class FigureRecord:
    name: str
    title: str
    alt_text: str
    source_line: str
    notebook: str
    function: str
    png: str
    data_csv: str


def add_source_line(fig: plt.Figure, text: str) -> None:
    fig.text(0.01, 0.005, f"Source: {text}", fontsize=8, color="#555555", ha="left", va="bottom")


def save_figure(
    fig: plt.Figure,
    name: str,
    *,
    title: str,
    data: pd.DataFrame,
    alt_text: str,
    source_line: str,
    notebook: str,
    function: str,
    out_dir: Path,
) -> FigureRecord:
    """Save the PNG (what the brief and the appendix embed), the data behind the chart as CSV, and a JSON
    record with alt text and origin. No vector copy: nothing published one, and it cost a third of the time."""
    if not alt_text.strip():
        raise ValueError(f"Figure {name!r} needs alt text")
    out_dir.mkdir(parents=True, exist_ok=True)
    add_source_line(fig, source_line)
    fig.tight_layout(rect=(0, 0.04, 1, 1), w_pad=2.0)
    # tight_layout leaves a placeholder layout engine behind, and savefig lays out a figure that has one in a draw of
    # its own before the draw it saves: a third pass over every artist. The layout is done; the PNG is byte-identical.
    fig.set_layout_engine(None)
    png, csv = (out_dir / f"{name}.{ext}" for ext in ("png", "csv"))
    write_png(fig, png)
    plt.close(fig)
    data.to_csv(csv, index=False, lineterminator="\n")
    record = FigureRecord(name, title, alt_text, source_line, notebook, function, png.name, csv.name)
    (out_dir / f"{name}.json").write_text(json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
    return record


def write_png(fig: plt.Figure, path: Path) -> Path:
    """Save ``fig`` as savefig would (same resolution, background and pixels), but an opaque chart as an RGB PNG
    (savefig always writes RGBA: an alpha channel of 255s) at PNG_COMPRESS_LEVEL, with no metadata but its
    resolution. Smaller files, cheaper to write, and to embed: the brief and its PDF carry each one."""
    dpi = plt.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    canvas = _PixelSink()
    fig.savefig(canvas, format="rgba", dpi=dpi)
    rgba = canvas.pixels
    opaque = bool((rgba[..., 3] == 255).all())
    image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]) if opaque else rgba)
    image.save(path, format="png", compress_level=PNG_COMPRESS_LEVEL, dpi=(dpi, dpi))
    return path


class _PixelSink:
    """A file for savefig's raw RGBA output that keeps the pixels with their shape: matplotlib writes its canvas's
    (height, width, 4) buffer, whose size only it knows exactly (it rounds some widths up, truncates others)."""

    pixels: np.ndarray

    def write(self, data) -> int:
        view = memoryview(data)
        if view.ndim != 3 or view.shape[2] != 4 or view.itemsize != 1:
            raise TypeError(f"matplotlib wrote its canvas with shape {view.shape}, not (height, width, 4) RGBA")
        self.pixels = pixels = np.array(view, dtype=np.uint8)
        return pixels.nbytes

    def seek(self, offset: int, whence: int = 0) -> int:  # matplotlib takes an object with seek for a file
        return 0


def load_figure_records(folder: Path) -> list[FigureRecord]:
    return [FigureRecord(**json.loads(p.read_text())) for p in sorted(Path(folder).glob("*.json"))]
