"""Print checks over a built PDF: nothing clipped, no raw-precision numbers, no half-empty pages.

Words and their boxes come from poppler's ``pdftotext -bbox`` (package poppler-utils); page ink comes
from ``pdftoppm`` renderings read with Pillow. Each check returns what it found, so a test can print
the offending words or pages.
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from heartbeats_analysis.errors import PdfToolMissingError

# A number printed with more than six decimals is raw float precision, never a finding.
LONG_DECIMAL = re.compile(r"\d\.\d{7,}")
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>', re.S)


@dataclass(frozen=True)
class Word:
    page: int  # 1-based
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def _run(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout
    except FileNotFoundError as error:
        raise PdfToolMissingError(
            f"{args[0]} is not installed: install poppler-utils (`sudo apt-get install -y poppler-utils`)."
        ) from error


def read_pages(pdf_path: Path) -> list[Page]:
    """Every page with its size and its words' bounding boxes (points, origin at the top left)."""
    text = _run(["pdftotext", "-bbox", str(pdf_path), "-"])
    pages = []
    for number, (width, height, body) in enumerate(_PAGE.findall(text), start=1):
        words = tuple(
            Word(number, html.unescape(w), float(x0), float(y0), float(x1), float(y1))
            for x0, y0, x1, y1, w in _WORD.findall(body)
        )
        pages.append(Page(number, float(width), float(height), words))
    return pages


def words_outside_page(pages: list[Page], tolerance: float = 0.5) -> list[Word]:
    """Words whose box reaches past any page edge (clipped or cut off in print)."""
    return [
        w
        for page in pages
        for w in page.words
        if w.x_min < -tolerance
        or w.y_min < -tolerance
        or w.x_max > page.width + tolerance
        or w.y_max > page.height + tolerance
    ]


def long_decimals(pages: list[Page]) -> list[tuple[int, str]]:
    """(page, word) for every number printed with more than six decimals."""
    return [(w.page, w.text) for page in pages for w in page.words if LONG_DECIMAL.search(w.text)]


def first_page_with(pages: list[Page], phrase: str) -> int | None:
    """The first page whose text contains the phrase (spaces normalised), or None."""
    wanted = " ".join(phrase.split())
    return next((p.number for p in pages if wanted in p.text), None)


def empty_fractions(
    pdf_path: Path, resolution: int = 30, margin_inches: float = 0.75, min_gap_inches: float = 0.5
) -> list[float]:
    """For each page, the share of its printable height taken by blank bands at least min_gap_inches tall.

    Only the area inside the page margins counts (the footer with the page number is outside them). Gaps between
    lines and paragraphs are shorter than the minimum gap, so a full page scores about 0, and a page whose text ends a
    quarter of the way down scores about 0.75. Charts are ink, as they should be.
    """
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        _run(["pdftoppm", "-r", str(resolution), "-gray", "-png", str(pdf_path), str(Path(tmp) / "page")])
        pngs = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [
            _blank_band_share(Image.open(png).convert("L"), resolution, margin_inches, min_gap_inches) for png in pngs
        ]


def _blank_band_share(image, resolution: int, margin_inches: float, min_gap_inches: float) -> float:
    width, height = image.size
    margin = round(margin_inches * resolution)
    box = image.crop((margin, margin, width - margin, height - margin))
    pixels = box.load()
    columns, rows = box.size
    if rows == 0:
        return 1.0
    blank = [all(pixels[x, y] >= 200 for x in range(columns)) for y in range(rows)]
    min_gap = max(1, round(min_gap_inches * resolution))
    in_bands, run = 0, 0
    for is_blank in [*blank, False]:
        if is_blank:
            run += 1
            continue
        if run >= min_gap:
            in_bands += run
        run = 0
    return in_bands / rows


def render_pages(pdf_path: Path, out_dir: Path, first: int = 1, last: int = 3, resolution: int = 60) -> list[Path]:
    """PNG images of pages first..last, for a reviewer to look at."""
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / pdf_path.stem
    _run(["pdftoppm", "-r", str(resolution), "-png", "-f", str(first), "-l", str(last), str(pdf_path), str(prefix)])
    return sorted(out_dir.glob(f"{pdf_path.stem}-*.png"))
