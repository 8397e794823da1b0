"""``scatter``: the dependence plot of one feature (its value against its attribution),
coloured by another feature, or by the one that interacts most (``color="auto"``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox._names import is_name, resolve
from glassbox.plots._figure import (
    Attributions,
    categories,
    finish,
    many_rows,
    missing_cmap,
    new_axes,
    numeric_column,
    scaled_values,
    value_cmap,
    value_label,
)

#: Colour of the dots when no feature colours them.
PLAIN = "#1e88e5"
#: Quantile bins of the plotted feature (at most) and levels of each candidate feature in the
#: interaction heuristic.
FEATURE_BINS, CANDIDATE_LEVELS = 10, 5
#: Categories named on a colour bar (more are drawn but not named).
NAMED_CATEGORIES = 20


def codes_of(column: np.ndarray, bins: int) -> np.ndarray:
    """A data column as small integer codes: numbers cut at their quantiles into at most
    ``bins`` bins (missing values get a code of their own), other values by category.

    Examples
    --------
    >>> codes_of(np.array([1.0, 2.0, 3.0, 4.0, np.nan]), 2).tolist()
    [0, 0, 1, 1, 2]
    >>> codes_of(np.array(["b", "a", "b"], dtype=object), 5).tolist()
    [1, 0, 1]
    """
    numbers = numeric_column(column)
    if numbers is None:
        return categories(column)[0]
    finite = np.isfinite(numbers)
    if not finite.any():
        return np.zeros(numbers.size, dtype=np.int64)
    cuts = np.quantile(numbers[finite], np.linspace(0.0, 1.0, bins + 1)[1:-1])
    cuts = np.unique(cuts)
    codes = np.searchsorted(cuts, numbers, side="right")
    return np.where(finite, codes, cuts.size + 1).astype(np.int64)


def _within(y: np.ndarray, groups: np.ndarray) -> tuple[float, int]:
    """The sum of squares of ``y`` about its group means, and the number of groups."""
    _, groups = np.unique(groups, return_inverse=True)
    sizes = np.bincount(groups)
    sums = np.bincount(groups, weights=y)
    return float(np.sum(y * y) - np.sum(sums * sums / sizes)), len(sizes)


def interaction_scores(table: Attributions, feature: int) -> np.ndarray:
    """How much each feature explains the spread of ``feature``'s attribution among rows where
    ``feature`` has about the same value (NaN for ``feature`` itself).

    The rows are cut into bins of ``feature``'s value (up to ``FEATURE_BINS`` quantile bins, or
    its categories); each other feature into ``CANDIDATE_LEVELS`` quantile levels (or its
    categories). The score is the share of the attribution's within-bin sum of squares that the
    (bin, level) cell means explain, less what that many cells explain by chance (an adjusted
    R², like omega²): ``(SS_bins - SS_cells - (cells - bins) * SS_cells / (n - cells)) /
    SS_bins``. A feature whose value changes this feature's effect (an interaction, as x1 in
    ``x0 * x1``) scores high; a feature that does not scores about 0. This is the spirit of
    shap's ``approximate_interactions``, with cell means instead of correlations, so it also
    sees non-monotone interactions and categories.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from glassbox.plots._figure import attributions
    >>> X = np.random.default_rng(0).normal(size=(400, 3))
    >>> exp = gb.Explanation(values=X * X[:, [1, 0, 2]], data=X)  # x0's effect depends on x1
    >>> int(np.nanargmax(interaction_scores(attributions(exp), 0)))
    1
    """
    if table.data is None:
        raise ValueError("exp: values per group of features have no data to bin")
    y = table.values[:, feature]
    n, p = table.data.shape
    bins = codes_of(table.data[:, feature], int(np.clip(n // 30, 1, FEATURE_BINS)))
    within_bins, n_bins = _within(y, bins)
    scores = np.full(p, np.nan)
    if within_bins <= 0:
        return scores
    for k in range(p):  # a loop over features; rows are handled by bincount
        if k == feature:
            continue
        levels = codes_of(table.data[:, k], CANDIDATE_LEVELS)
        within_cells, n_cells = _within(y, bins * (levels.max() + 1) + levels)
        chance = (n_cells - n_bins) * within_cells / max(n - n_cells, 1)
        scores[k] = (within_bins - within_cells - chance) / within_bins
    return scores


def scatter(
    exp: Any,
    feature: Any,
    color: Any = None,
    *,
    output: Any = None,
    ax: Any = None,
    dot_size: float = 16.0,
) -> Any:
    """The dependence plot: each row's value of ``feature`` (x) against its attribution (y).

    Numeric features are drawn at their values (missing values are left out); strings and other
    non-numbers (object data from DataFrames) are categories, drawn at 0, 1, ... with their
    names on the x ticks.

    Parameters
    ----------
    exp : Explanation
        Several rows of tabular values (with their data).
    feature : int or str
        The feature drawn, by index or name.
    color : None, "auto", int or str, default None
        None: one colour. A feature (index or name): dots coloured by its value (blue low, red
        high, clipped to its 5th-95th percentile; grey where missing; categories get one colour
        each), named on the colour bar. ``"auto"``: the feature with the highest
        :func:`interaction_scores` (the one that changes ``feature``'s effect most).
    output : int or str, optional
        The output drawn, for values of several outputs.
    ax : matplotlib Axes, optional
    dot_size : float, default 16
        Marker area (points²).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> exp = gb.Explanation(values=X * X[:, [1, 0, 2]], data=X, method="demo")
    >>> ax = gb.plots.scatter(exp, "x0", color="auto")
    >>> ax.get_xlabel(), ax.get_figure().axes[-1].get_ylabel()  # coloured by x1
    ('x0', 'x1')
    """
    table = many_rows(exp, output, "scatter")
    if table.data is None:
        raise ValueError(
            "exp: scatter() draws a feature's data against its values, and these values are "
            "per group of features (no data per group): use gb.plots.bar(exp)"
        )
    p = len(table.features)
    j = resolve(feature, table.features, p, "feature")
    by = _colour_feature(table, j, color)
    ax = new_axes(ax, figsize=(6.4, 4.8) if by is None else (7.2, 4.8))
    x, ticks = _positions(table.data[:, j])
    style: dict[str, Any] = {"s": dot_size, "linewidths": 0, "zorder": 3}
    if by is None:
        ax.scatter(x, table.values[:, j], color=PLAIN, **style)
    else:
        _coloured(ax, x, table.values[:, j], table.data[:, by], table.features[by], style)
    if ticks is not None:
        ax.set_xticks(np.arange(len(ticks)), ticks)
    ax.axhline(0.0, color="#999999", linewidth=0.8, zorder=1)
    ax.set_xlabel(table.features[j])
    ax.set_ylabel(value_label(table, of=table.features[j]))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return finish(ax)


def _colour_feature(table: Attributions, feature: int, color: Any) -> int | None:
    """The index of the feature that colours the dots (None: one colour)."""
    if color is None:
        return None
    if is_name(color) and str(color) == "auto" and "auto" not in table.features:
        scores = interaction_scores(table, feature)
        return None if np.isnan(scores).all() else int(np.nanargmax(scores))
    return resolve(color, table.features, len(table.features), "color")


def _positions(column: np.ndarray) -> tuple[np.ndarray, list[str] | None]:
    """The x of each row: its number, or its category's code (with the category names)."""
    numbers = numeric_column(column)
    if numbers is not None:
        return numbers, None
    codes, names = categories(column)
    return codes.astype(np.float64), names


def _coloured(
    ax: Any, x: np.ndarray, y: np.ndarray, column: np.ndarray, name: str, style: dict
) -> None:
    """Dots coloured by ``column``'s values (numbers clipped to their 5th-95th percentile, on
    the value colour map; categories one colour each), with a colour bar named ``name``."""
    numbers = numeric_column(column)
    figure = ax.get_figure(root=False)
    if numbers is not None:
        _, low, high = scaled_values(numbers)
        dots = ax.scatter(
            x,
            y,
            c=np.clip(numbers, low, high),
            cmap=missing_cmap(value_cmap()),
            vmin=low,
            vmax=high,
            plotnonfinite=True,
            **style,
        )
        figure.colorbar(dots, ax=ax, aspect=40).set_label(name)
        return
    codes, names = categories(column)
    from matplotlib import colormaps

    palette = colormaps["tab10" if len(names) <= 10 else "viridis"].resampled(len(names))
    dots = ax.scatter(x, y, c=codes, cmap=palette, vmin=-0.5, vmax=len(names) - 0.5, **style)
    bar = figure.colorbar(dots, ax=ax, aspect=40)
    if len(names) <= NAMED_CATEGORIES:
        bar.set_ticks(np.arange(len(names)), labels=names)
    bar.set_label(name)
