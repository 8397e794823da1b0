"""Plots of glassbox results (matplotlib, the ``plot`` extra).

Every function takes a glassbox result directly, draws on ``ax=`` (or ``fig=`` for several
panels) or on a new figure, returns the matplotlib Axes (or Figure) and never calls
``plt.show()``. ``plot(result)`` (and ``result.plot()``) picks the usual plot of any result.
``import glassbox`` does not import this module or matplotlib; ``glassbox.plots`` does.
"""

from __future__ import annotations

from glassbox.plots._figure import require_matplotlib

require_matplotlib()

from glassbox.plots.activations import activations  # noqa: E402
from glassbox.plots.bars import bar, waterfall  # noqa: E402
from glassbox.plots.compression import compression  # noqa: E402
from glassbox.plots.curves import ale, partial_dependence  # noqa: E402
from glassbox.plots.dependence import scatter  # noqa: E402
from glassbox.plots.dispatch import plot  # noqa: E402
from glassbox.plots.errors import errors  # noqa: E402
from glassbox.plots.filters import feature_maps, filters  # noqa: E402
from glassbox.plots.images import image  # noqa: E402
from glassbox.plots.pairs import interactions  # noqa: E402
from glassbox.plots.rules import lime  # noqa: E402
from glassbox.plots.summary import beeswarm, heatmap  # noqa: E402
from glassbox.plots.text import text, text_html  # noqa: E402
from glassbox.plots.tree import tree  # noqa: E402
from glassbox.plots.weights import layers, weights  # noqa: E402

__all__ = [
    "activations",
    "ale",
    "bar",
    "beeswarm",
    "compression",
    "errors",
    "feature_maps",
    "filters",
    "heatmap",
    "image",
    "interactions",
    "layers",
    "lime",
    "partial_dependence",
    "plot",
    "scatter",
    "text",
    "text_html",
    "tree",
    "waterfall",
    "weights",
]
