"""``activations``: per-layer histograms of an ActivationStats, one panel per layer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassbox.plots._figure import check_max_display, new_figure

#: Colour of the histogram bars.
BAR = "#4c72b0"


def activations(result: Any, max_display: int = 12, *, log: bool = False, fig: Any = None) -> Any:
    """The histogram of each inspected layer's values (``result.counts`` on ``result.edges``),
    one panel per layer in a grid (the first ``max_display`` layers), titled by the layer with
    its dead and saturated units; values outside the edges are noted in the panel. ``log``: a
    logarithmic count axis (a ReLU's zeros dwarf the rest). Returns the Figure.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "hidden", weight=np.ones((4, 3)), bias=np.arange(4.0) - 9)
    >>> _ = spec.add("sigmoid", "gate")
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> figure = gb.plots.activations(gb.inspect.activations(gb.build_network(spec), X))
    >>> [ax.get_title() for ax in figure.axes]
    ['gate (4 units, 0 dead, 1 saturated)']
    """
    from glassbox.inspect import ActivationStats

    if not isinstance(result, ActivationStats):
        raise TypeError(f"result: expected an ActivationStats, got {type(result).__name__}")
    shown = min(len(result.layers), check_max_display(max_display))
    columns = min(shown, 3)
    rows = math.ceil(shown / columns)
    fig = new_figure(fig, figsize=(3.4 * columns, 2.6 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= shown:
            ax.remove()
            continue
        edges, counts = result.edges[i], result.counts[i]
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=BAR)
        in_layer = result.unit_layer == i
        dead = int(result.dead[in_layer].sum())
        title = f"{result.layers[i]} ({int(result.units[i])} units, {dead} dead"
        if np.isfinite(result.saturated_fraction[in_layer]).any():
            title += f", {int(result.saturated[in_layer].sum())} saturated"
        ax.set_title(title + ")", fontsize=9)
        ax.set_xlabel("activation", fontsize=8)
        if log:
            ax.set_yscale("log")
        ax.tick_params(labelsize=7)
        if result.below[i] or result.above[i]:
            ax.annotate(
                f"outside: {int(result.below[i])} below, {int(result.above[i])} above",
                (0.98, 0.95),
                xycoords="axes fraction",
                ha="right",
                va="top",
                fontsize=7,
            )
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0].set_ylabel("values", fontsize=8)
    return fig


__all__ = ["activations"]
