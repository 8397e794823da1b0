"""``plots.weights``: a histogram of each affine layer's weights, as small multiples."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassbox.plots._figure import new_figure

#: Colour of the weight histograms.
WEIGHT_COLOUR = "#2f7fc1"


def weights(result: Any, *, layers: Any = None, ncols: int = 4, fig: Any = None) -> Any:
    """One histogram per layer of a ``WeightStats`` (``glassbox.inspect.weights``): the bars are
    the result's ``bin_edges`` / ``counts``; each panel is titled with the layer's name, kind
    and weight shape, and names its alpha (the heavy-tail exponent) when it was fitted.

    Parameters
    ----------
    result : WeightStats
    layers : list of str, optional
        Draw only these layers (by name, in this order); default all.
    ncols : int
        Panels per row.
    fig : matplotlib Figure, optional
        Drawn on (cleared first); default a new figure.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(20,))
    >>> w = np.random.default_rng(0).normal(size=(30, 20))
    >>> _ = spec.add("dense", "fc", weight=w, bias=None)
    >>> stats = gb.inspect.weights(gb.build_network(spec), bins=10)
    >>> fig = gb.plots.weights(stats)
    >>> [p.get_height() for p in fig.axes[0].patches] == stats.counts[0].tolist()
    True
    """
    from glassbox.inspect import WeightStats

    if not isinstance(result, WeightStats):
        raise TypeError(
            f"result: expected the WeightStats of glassbox.inspect.weights, got "
            f"{type(result).__name__}"
        )
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols: expected an integer >= 1, got {ncols!r}")
    picked = list(range(len(result.layers))) if layers is None else _picked(result, layers)
    if not picked:
        raise ValueError("result: the network has no affine (dense / conv) layer to draw")
    cols = min(int(ncols), len(picked))
    rows = math.ceil(len(picked) / cols)
    figure = new_figure(fig, (3.2 * cols, 2.6 * rows))
    grid = figure.subplots(rows, cols, squeeze=False)
    for panel, ax in enumerate(grid.ravel()):
        if panel >= len(picked):
            ax.set_visible(False)
            continue
        i = picked[panel]
        edges = np.asarray(result.bin_edges[i], dtype=np.float64)
        counts = np.asarray(result.counts[i])
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=WEIGHT_COLOUR)
        alpha = float(result.stats["alpha"][i])
        shape = "x".join(map(str, result.shapes[i]))
        title = f"{result.layers[i]} ({result.kinds[i]} {shape})"
        if np.isfinite(alpha):
            title += f"\nalpha = {alpha:.2f}"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("weight")
        if panel % cols == 0:
            ax.set_ylabel("count")
    return figure


def _picked(result: Any, layers: Any) -> list[int]:
    names = [layers] if isinstance(layers, str) else list(layers)
    unknown = [name for name in names if name not in result.layers]
    if unknown:
        raise ValueError(
            f"layers: unknown layer(s) {unknown}; the affine layers are {result.layers}"
        )
    return [result.layers.index(name) for name in names]
