"""report.style.write_png: the saved chart has savefig's pixels, as RGB when the chart is opaque."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from heartbeats_analysis.report.style import apply_style, write_png


def _chart(transparent: bool = False) -> plt.Figure:
    apply_style()
    fig, ax = plt.subplots(figsize=(2.26, 1.7))  # 2.26 x 150 = 338.99999999999994 in floating point: 339 pixels
    ax.plot([0, 1, 2], [1, 3, 2], label="Ferguson")
    ax.set_title("Sworn officers")
    ax.legend()
    if transparent:
        fig.patch.set_alpha(0.0)
        ax.patch.set_alpha(0.0)
    return fig


def _savefig_pixels(fig: plt.Figure) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return np.asarray(Image.open(buffer))


def test_an_opaque_chart_is_saved_as_rgb_with_savefigs_pixels(tmp_path):
    fig = _chart()
    expected = _savefig_pixels(fig)
    path = write_png(fig, tmp_path / "chart.png")
    plt.close(fig)
    saved = Image.open(path)
    assert saved.mode == "RGB"
    assert saved.size == (339, 255)
    assert (expected[..., 3] == 255).all()
    np.testing.assert_array_equal(np.asarray(saved), expected[..., :3])
    assert tuple(round(v) for v in saved.info["dpi"]) == (150, 150)
    assert not {"Software", "Creation Time"} & set(saved.info)


def test_a_chart_with_transparency_keeps_its_alpha_channel(tmp_path):
    fig = _chart(transparent=True)
    expected = _savefig_pixels(fig)
    path = write_png(fig, tmp_path / "chart.png")
    plt.close(fig)
    saved = Image.open(path)
    assert saved.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(saved), expected)


def test_the_same_chart_gives_the_same_bytes(tmp_path):
    first, second = (write_png(_chart(), tmp_path / f"{name}.png") for name in ("a", "b"))
    plt.close("all")
    assert first.read_bytes() == second.read_bytes()


def test_a_canvas_written_without_its_shape_is_refused():
    from heartbeats_analysis.report.style import _PixelSink

    with pytest.raises(TypeError, match=r"not \(height, width, 4\) RGBA"):
        _PixelSink().write(b"\x00" * 16)
