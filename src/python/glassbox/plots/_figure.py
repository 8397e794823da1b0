"""What every plot shares: matplotlib (imported here, never by ``import glassbox``), the axes or
figure a plot draws on, the names on its ticks, and the colour maps.

Rules every plot follows (docs/architecture.md, "Plots"): it takes the glassbox result object,
draws on ``ax=`` (or ``fig=`` for several panels) or on a new pyplot figure, returns the Axes (or
Figure), never calls ``plt.show()``, and names ticks and axes with the result's names (the
defaults of ``glassbox._names`` when unnamed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox._names import feature_labels, output_labels

INSTALL = 'glassbox.plots needs matplotlib: pip install "glassbox[plot]"'


def require_matplotlib() -> Any:
    """The matplotlib module, or an ImportError saying how to install it."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(INSTALL) from error
    return matplotlib


def new_axes(ax: Any = None, figsize: tuple[float, float] = (6.4, 4.8)) -> Any:
    """``ax`` when given (checked to be a matplotlib Axes), else the Axes of a new pyplot figure
    of ``figsize`` inches (pyplot, so notebooks show it; Agg when there is no display)."""
    require_matplotlib()
    from matplotlib.axes import Axes

    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(
                f"ax: expected a matplotlib Axes (e.g. from plt.subplots()), got "
                f"{type(ax).__name__}"
            )
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize).add_subplot()


def new_figure(fig: Any = None, figsize: tuple[float, float] = (6.4, 4.8)) -> Any:
    """``fig`` when given (checked to be a matplotlib Figure; its axes are cleared), else a new
    pyplot figure of ``figsize`` inches, for plots with several panels."""
    require_matplotlib()
    from matplotlib.figure import Figure, SubFigure

    if fig is not None:
        if not isinstance(fig, (Figure, SubFigure)):
            raise TypeError(
                f"fig: expected a matplotlib Figure (e.g. plt.figure()), got {type(fig).__name__}"
            )
        fig.clear()
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize)


def check_max_display(max_display: object, name: str = "max_display") -> int:
    """``max_display`` as an int >= 1, or a ValueError naming the argument."""
    if isinstance(max_display, bool) or not isinstance(max_display, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer >= 1, got {max_display!r}")
    if max_display < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {max_display}")
    return int(max_display)


def features_of(result: Any, n: int) -> list[str]:
    """The ``n`` feature names of ``result`` (x0, x1, ... when unnamed)."""
    return feature_labels(getattr(result, "feature_names", None), n)


def outputs_of(result: Any, n: int) -> list[str]:
    """The ``n`` output names of ``result`` ("output 0", ... when unnamed)."""
    return output_labels(getattr(result, "output_names", None), n)


def top_and_rest(scores: np.ndarray, max_display: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the features to show, largest ``scores`` first, and of the rest (summed into
    one "N other features" row when there are more than ``max_display``: the shown ones are then
    the ``max_display - 1`` largest, so the plot has ``max_display`` rows, as shap's)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    if len(order) <= max_display:
        return order, order[:0]
    return order[: max_display - 1], order[max_display - 1 :]


def rest_label(n_rest: int) -> str:
    """The label of the row that sums the features not shown."""
    return f"{n_rest} other features" if n_rest != 1 else "1 other feature"


#: Colour of positive / negative contributions (bars, waterfalls).
POSITIVE, NEGATIVE = "#e8384f", "#2f7fc1"


def value_cmap() -> Any:
    """The colour map of a feature's value (low blue, high red), as in shap's summary plots."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("glassbox_value", ["#1e88e5", "#7c4dcc", "#ff0d57"])


def diverging_cmap() -> str:
    """The colour map of signed attributions, centred at 0 by a symmetric scale (negative blue,
    positive red)."""
    return "RdBu_r"


def symmetric_limit(values: np.ndarray | Sequence[float]) -> float:
    """The half-width of a colour scale symmetric about 0 that holds every finite value (1 when
    they are all zero, so the scale is never empty)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    limit = float(np.abs(finite).max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0
