"""What every plot shares: matplotlib (imported here, never by ``import glassbox``), the axes or
figure a plot draws on, the names on its ticks, and the colour maps.

Rules every plot follows (docs/architecture.md, "Plots"): it takes the glassbox result object,
draws on ``ax=`` (or ``fig=`` for several panels) or on a new pyplot figure, returns the Axes (or
Figure), never calls ``plt.show()``, and names ticks and axes with the result's names (the
defaults of ``glassbox._names`` when unnamed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    pyplot figure of ``figsize`` inches, for plots with several panels; laid out by matplotlib's
    constrained layout unless the figure already has a layout engine (colour bars and titles of
    a grid of panels are never clipped)."""
    require_matplotlib()
    from matplotlib.figure import Figure, SubFigure

    if fig is not None:
        if not isinstance(fig, (Figure, SubFigure)):
            raise TypeError(
                f"fig: expected a matplotlib Figure (e.g. plt.figure()), got {type(fig).__name__}"
            )
        fig.clear()
    else:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize)
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    return fig


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


#: Colour of dots whose feature value is missing or not a number (strings, categories).
MISSING = "#8c8c8c"


def missing_cmap(cmap: Any) -> Any:
    """``cmap`` drawing NaN (missing / non-numeric values) in the grey ``MISSING``."""
    return cmap.with_extremes(bad=MISSING)


@dataclass(frozen=True)
class Attributions:
    """An Explanation's values of one output as a table: what the tabular plots draw.

    ``values`` is (rows, features) float64 (one row for a single-row Explanation, with
    ``single_row`` set); ``data`` the explained rows (rows, features) as given (an object array
    for DataFrames with strings), None when values are per group of features; ``base`` and
    ``delta`` are per row (None when the method has none); ``output`` names the explained
    output; ``method`` is the explainer's name."""

    values: np.ndarray
    data: np.ndarray | None
    base: np.ndarray | None
    delta: np.ndarray | None
    features: list[str]
    output: str
    method: str
    single_row: bool


def attributions(exp: Any, output: Any = None, argument: str = "exp") -> Attributions:
    """The values of ``exp`` (an Explanation) for one output, as :class:`Attributions`.

    Values with an output axis (every output explained at once) need ``output=`` (an index or a
    name) unless there is one output; values of one output per row (a target) name it (or
    "each row's target" when rows explain different outputs), and ``output=`` must be it.
    Interaction values are a ValueError pointing to ``interactions``."""
    from glassbox.explanation import Explanation
    from glassbox.tables import INTERACTION_METHODS, labels_of, value_axes

    if not isinstance(exp, Explanation):
        raise TypeError(f"{argument}: expected a glassbox Explanation, got {type(exp).__name__}")
    if exp.method in INTERACTION_METHODS:
        raise ValueError(
            f"{argument}: interaction values have two feature axes; draw them with "
            "gb.plots.interactions(exp)"
        )
    axes = value_axes(exp)
    features = axes[0][1]
    n = 1 if exp.single_row else int(np.shape(exp.values)[0])
    values = np.asarray(exp.values, dtype=np.float64).reshape(n, len(features), -1)
    base = _per_row(exp.base_values, n)
    delta = _per_row(exp.delta, n)
    if axes[-1][0] == "output":
        k = _pick_output(output, exp.output_names, len(axes[-1][1]))
        label = axes[-1][1][k]
        values = values[:, :, k]
        base = None if base is None else base[:, k]
        delta = None if delta is None else delta[:, k]
    else:
        values = values[:, :, 0]
        base = None if base is None else base[:, 0]
        delta = None if delta is None else delta[:, 0]
        label = _target_label(exp, output, labels_of)
    data = np.asarray(exp.data)
    data = data.reshape(n, len(features)) if data.size == values.size else None
    return Attributions(
        values, data, base, delta, features, label, exp.method or "attribution", exp.single_row
    )


def many_rows(exp: Any, output: Any, plot: str) -> Attributions:
    """The values of a plot of many rows; a single row is a ValueError pointing to waterfall."""
    table = attributions(exp, output)
    if table.single_row:
        raise ValueError(
            f"exp: {plot}() draws many rows and this is a single row; pass the whole "
            "Explanation (exp, not exp[i]), or draw the row with gb.plots.waterfall(exp[i]) "
            "or gb.plots.bar(exp[i])"
        )
    return table


def _per_row(field: Any, n: int) -> np.ndarray | None:
    """A per-row field (base values, delta) as (rows, outputs) float64."""
    return None if field is None else np.asarray(field, dtype=np.float64).reshape(n, -1)


def _pick_output(output: Any, names: Sequence[str] | None, k: int) -> int:
    """The index of the output drawn among ``k`` explained at once."""
    from glassbox._names import resolve

    if output is None:
        if k == 1:
            return 0
        listed = ", ".join(map(repr, output_labels(names, k)))
        raise ValueError(
            f"output: these values explain {k} outputs ({listed}); pass output=<name or index> "
            "to pick the one to draw"
        )
    return resolve(output, names, k, "output", what="output")


def _target_label(exp: Any, output: Any, labels_of: Any) -> str:
    """The name of the output values of one output per row explain (``output=`` checked)."""
    from glassbox._names import resolve

    if exp.target is not None:
        targets = [int(t) for t in np.unique(np.ravel(exp.target))]
    elif not exp.output_names or len(exp.output_names) == 1:
        targets = [0]  # a model of one output
    else:
        targets = []
    if output is not None:
        count = len(exp.output_names or []) or max(targets, default=0) + 1
        if targets != [resolve(output, exp.output_names, count, "output", what="output")]:
            raise ValueError(
                f"output: these values explain one output per row (the target), not output "
                f"{output!r}; leave output=None, or explain that output with target={output!r}"
            )
    if not targets:
        return "the model's output"
    if len(targets) > 1:
        return "each row's target"
    return labels_of(exp.output_names, targets)[0]


def value_label(table: Attributions, prefix: str = "", of: str = "") -> str:
    """The axis label of the values: the method and the output, e.g. "kernel_shap value
    (impact on output 0)"; ``prefix`` wraps the value ("mean |...|"); ``of`` names the feature
    ("kernel_shap value of age (impact on ...)")."""
    text = f"{table.method} value" + (f" of {of}" if of else "")
    if prefix:
        text = f"{prefix}{text}|" if prefix.endswith("|") else f"{prefix} {text}"
    return f"{text} (impact on {table.output})"


def numeric_column(column: np.ndarray) -> np.ndarray | None:
    """A data column as float64 (NaN where missing), or None when it holds strings or other
    non-numbers (categories)."""
    column = np.asarray(column)
    if column.dtype.kind in "biuf":
        return column.astype(np.float64)
    if column.dtype.kind != "O":
        return None
    try:
        return column.astype(np.float64)
    except (TypeError, ValueError):
        pass
    try:  # numbers with None / pd.NA markers: pandas tells missing from strings
        import pandas as pd
    except ImportError:
        return None
    numbers = pd.to_numeric(pd.Series(column), errors="coerce").to_numpy(np.float64)
    return None if (np.isnan(numbers) & ~pd.isna(column)).any() else numbers


def categories(column: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A column's values as integer codes and the sorted category names (``str`` of each
    value; missing values are their markers' text, "nan" or "None")."""
    labels, codes = np.unique(np.asarray(column).astype(str), return_inverse=True)
    return codes.reshape(-1), [str(label) for label in labels]


def scaled_values(column: np.ndarray | None) -> tuple[np.ndarray, float, float]:
    """A feature's values for a colour map: clipped to their 5th-95th percentile (the 1st-99th,
    then the range, when those coincide, as shap) and scaled to [0, 1]; NaN where missing or not
    a number. Also the clip limits (low, high) in the feature's units."""
    numbers = None if column is None else numeric_column(column)
    if numbers is None or not np.isfinite(numbers).any():
        size = 0 if column is None else np.size(column)
        return np.full(size, np.nan), np.nan, np.nan
    finite = numbers[np.isfinite(numbers)]
    low, high = np.percentile(finite, [5, 95])
    if low == high:
        low, high = np.percentile(finite, [1, 99])
    if low == high:
        low, high = finite.min(), finite.max()
    if low == high:
        return np.where(np.isfinite(numbers), 0.5, np.nan), float(low), float(high)
    scaled = (np.clip(numbers, low, high) - low) / (high - low)
    return np.where(np.isfinite(numbers), scaled, np.nan), float(low), float(high)


def format_value(value: Any) -> str:
    """A feature value as printed beside its name: numbers to 4 significant digits, anything
    else (strings from DataFrames) as it is."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def finish(ax: Any) -> Any:
    """Lay out the figure ``ax`` is on unless it has a layout engine (so nothing is clipped),
    and return ``ax``."""
    import warnings

    figure = ax.get_figure(root=True)
    if figure.get_layout_engine() is None:
        with warnings.catch_warnings():  # axes tight_layout cannot place (insets) keep theirs
            warnings.simplefilter("ignore", UserWarning)
            figure.tight_layout()
    return ax


def name_rows(ax: Any, heights: Sequence[float] | np.ndarray, names: Sequence[str]) -> None:
    """Name the rows of a horizontal plot at ``heights`` by ``names``; the ticks are listed in
    ascending position (``ax.get_yticklabels()`` reads bottom to top, as shap's plots)."""
    order = np.argsort(np.asarray(heights), kind="stable")
    ax.set_yticks(np.asarray(heights)[order], [names[i] for i in order])
