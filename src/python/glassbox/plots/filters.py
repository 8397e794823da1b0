"""``filters`` and ``feature_maps``: grids of convolution kernels and of one input's activation
maps (the arrays ``glassbox.inspect.filters`` / ``feature_maps`` return)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassbox.plots._figure import check_max_display, diverging_cmap, new_figure, symmetric_limit


def _grid(
    fig: Any, images: np.ndarray, titles: list[str], cmap: str, limits: tuple[float, float]
) -> Any:
    """``images`` (n, h, w) in a near-square grid of panels on one colour scale, with a colour
    bar; returns the Figure."""
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    shown = None
    for i, ax in enumerate(axes):
        if i >= len(images):
            ax.remove()
            continue
        shown = ax.imshow(images[i], cmap=cmap, vmin=limits[0], vmax=limits[1])
        ax.set_title(titles[i], fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=list(fig.axes), shrink=0.8)
    return fig


def filters(
    kernels: Any, max_display: int = 64, *, input_channel: int | None = None, fig: Any = None
) -> Any:
    """Convolution kernels (out, in, kh, kw) as a grid of kh x kw images on one colour scale
    symmetric about 0 (negative blue, positive red): one panel per output channel, showing the
    mean over input channels, or input channel ``input_channel``. At most ``max_display``
    panels (the first output channels). Returns the Figure.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> kernels = np.arange(2 * 1 * 3 * 3, dtype=float).reshape(2, 1, 3, 3) - 8
    >>> figure = gb.plots.filters(kernels)
    >>> [ax.get_title() for ax in figure.axes[:2]]
    ['filter 0', 'filter 1']
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    if kernels.ndim != 4:
        raise ValueError(
            f"kernels: expected (out, in, kh, kw) as glassbox.inspect.filters returns, got shape "
            f"{kernels.shape}"
        )
    if input_channel is None:
        images = kernels.mean(axis=1)
    else:
        if not 0 <= int(input_channel) < kernels.shape[1]:
            raise ValueError(
                f"input_channel: expected 0 to {kernels.shape[1] - 1}, got {input_channel}"
            )
        images = kernels[:, int(input_channel)]
    images = images[: check_max_display(max_display)]
    limit = symmetric_limit(images)
    titles = [f"filter {i}" for i in range(len(images))]
    fig = new_figure(fig, figsize=(6.4, 5.6))
    return _grid(fig, images, titles, diverging_cmap(), (-limit, limit))


def feature_maps(maps: Any, max_display: int = 64, *, fig: Any = None) -> Any:
    """One input's activation maps (C, H, W) as a grid of H x W images, one per channel, on one
    colour scale from the smallest to the largest value ("viridis"). At most ``max_display``
    panels (the first channels). Returns the Figure.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> figure = gb.plots.feature_maps(np.random.default_rng(0).random((3, 5, 5)))
    >>> [ax.get_title() for ax in figure.axes[:3]]
    ['channel 0', 'channel 1', 'channel 2']
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3:
        raise ValueError(
            f"maps: expected (C, H, W) as glassbox.inspect.feature_maps returns, got shape "
            f"{maps.shape}"
        )
    images = maps[: check_max_display(max_display)]
    low, high = float(images.min()), float(images.max())
    if high <= low:
        high = low + 1.0
    titles = [f"channel {i}" for i in range(len(images))]
    fig = new_figure(fig, figsize=(6.4, 5.6))
    return _grid(fig, images, titles, "viridis", (low, high))


__all__ = ["feature_maps", "filters"]
