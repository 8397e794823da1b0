"""Plots of ``glassbox.inspect`` results: ``weights`` (a histogram of each affine layer's weights,
as small multiples) and ``layers`` (parameters and multiply-adds per layer of a ``Summary``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassbox.plots._figure import name_rows, new_figure

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


def layers(result: Any, *, fig: Any = None) -> Any:
    """Where a network's size and cost are: for a ``Summary`` (``glassbox.inspect.summary``),
    the parameters (left) and weight multiply-adds per sample (right) of each layer that has
    either, as horizontal bars in the network's order (first layer on top), each number
    printed in human units. The layer graph itself is ``result.graph_svg()``.

    Parameters
    ----------
    result : Summary
    fig : matplotlib Figure, optional
        Drawn on (cleared first); default a new figure.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(1, 4, 4))
    >>> _ = spec.add("conv2d", "conv", weight=np.ones((2, 1, 3, 3)), bias=None)
    >>> _ = spec.add("flatten", "flat")
    >>> _ = spec.add("dense", "fc", weight=np.ones((3, 8)), bias=np.zeros(3))
    >>> fig = gb.plots.layers(gb.inspect.summary(gb.build_network(spec)))
    >>> [float(p.get_width()) for p in fig.axes[1].patches]  # multiply-adds, first layer on top
    [72.0, 24.0]
    """
    from glassbox.inspect import Summary
    from glassbox.inspect.structure import human

    if not isinstance(result, Summary):
        raise TypeError(
            f"result: expected the Summary of glassbox.inspect.summary, got {type(result).__name__}"
        )
    shown = [i for i in range(len(result.layers)) if result.params[i] or result.macs[i]]
    if not shown:
        raise ValueError("result: no layer of this network has parameters or multiply-adds")
    names = [f"{result.layers[i]} ({result.kinds[i]})" for i in shown]
    heights = np.arange(len(shown))[::-1]
    figure = new_figure(fig, (9.0, 1.2 + 0.32 * len(shown)))
    panels = figure.subplots(1, 2, sharey=True)
    for ax, values, label in (
        (panels[0], result.params, "parameters"),
        (panels[1], result.macs, "multiply-adds per sample"),
    ):
        lengths = np.asarray([values[i] for i in shown], dtype=np.float64)
        ax.barh(heights, lengths, color=WEIGHT_COLOUR, height=0.7)
        for y, length in zip(heights, lengths, strict=True):
            ax.annotate(
                human(int(length)),
                (length, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_xlabel(label)
        ax.margins(x=0.2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    name_rows(panels[0], heights, names)
    panels[0].set_title(f"total {human(result.total_params)}", fontsize=9)
    panels[1].set_title(f"total {human(result.total_macs)}", fontsize=9)
    return figure


def _picked(result: Any, layers: Any) -> list[int]:
    names = [layers] if isinstance(layers, str) else list(layers)
    unknown = [name for name in names if name not in result.layers]
    if unknown:
        raise ValueError(
            f"layers: unknown layer(s) {unknown}; the affine layers are {result.layers}"
        )
    return [result.layers.index(name) for name in names]
