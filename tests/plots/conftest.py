"""Plot tests: matplotlib on the Agg backend (headless), every figure closed after each test, and
the one render check the plot tests share."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def render(figure) -> np.ndarray:
    """Render ``figure`` (a Figure, or an Axes' figure) to PNG with Agg and return the RGBA pixels;
    fails when the picture is blank (one colour) or the PNG is not a PNG."""
    figure = getattr(figure, "figure", figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=60)
    data = buffer.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "savefig did not write a PNG"
    buffer.seek(0)
    pixels = plt.imread(buffer)
    flat = pixels.reshape(-1, pixels.shape[-1])
    assert len(np.unique(flat, axis=0)) > 8, "the rendered figure is blank"
    return pixels
