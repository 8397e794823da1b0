"""Plots of many rows at once: ``beeswarm`` (shap's summary plot) and ``heatmap`` (rows x
features in hierarchical-clustering order)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import artist
from matplotlib.collections import PathCollection
from matplotlib.path import Path
from matplotlib.transforms import Affine2D

from glassbox.plots._figure import (
    Attributions,
    check_max_display,
    diverging_cmap,
    finish,
    many_rows,
    missing_cmap,
    name_rows,
    new_axes,
    rest_label,
    scaled_values,
    symmetric_limit,
    top_and_rest,
    value_cmap,
    value_label,
)

#: Above this many dots the beeswarm's dots are rasterised (SVG and PDF stay small).
RASTER_ABOVE = 2000
#: Bins of the values per feature row in which the beeswarm stacks its dots (as shap).
SWARM_BINS = 100
#: Heatmaps of at most this many rows get scipy's optimal leaf ordering (its cost grows fast).
LEAF_ORDERING_ROWS = 500


class SwarmDots(PathCollection):
    """The beeswarm's dots: a scatter's PathCollection (offsets, colour array and norm as
    ``ax.scatter`` made them) drawn one colour at a time with the renderer's ``draw_markers``,
    which renders the marker once per colour instead of once per dot (matplotlib does the same
    for a collection of one colour). The colour map has ``cmap.N`` colours (and grey for NaN),
    so there are at most ``N + 1`` groups; within a colour, dots keep the data order."""

    @artist.allow_rasterization
    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or len(self.get_offsets()) == 0 or self.get_array() is None:
            return super().draw(renderer)
        self.set_sizes(self._sizes, self.get_figure(root=True).dpi)
        self.update_scalarmappable()
        transform, offset_trf, offsets, paths = self._prepare_points()
        sizes = self.get_transforms()
        if len(paths) != 1 or len(sizes) != 1 or np.any(self.get_linewidths()):
            return super().draw(renderer)  # not the beeswarm's plain dots
        renderer.open_group(type(self).__name__, self.get_gid())
        gc = renderer.new_gc()
        self._set_gc_clip(gc)
        gc.set_linewidth(0.0)
        gc.set_antialiased(bool(self._antialiaseds[0]))
        marker = (Affine2D(sizes[0]) + transform).frozen()
        points = np.ma.filled(np.ma.asarray(offsets, dtype=np.float64), np.nan)
        colours = self.get_facecolor()
        for group in self._colour_groups():
            rgba = tuple(colours[group[0]])
            gc.set_foreground(rgba, isRGBA=True)
            renderer.draw_markers(gc, paths[0], marker, Path(points[group]), offset_trf, rgba)
        gc.restore()
        renderer.close_group(type(self).__name__)
        self.stale = False
        return None

    def _colour_groups(self) -> list[np.ndarray]:
        """The dots of each colour map entry (as the colour map picks it: ``int(v * N)``
        clipped to ``N - 1``; NaN its own group), each in data order."""
        n = self.cmap.N
        scaled = np.ma.filled(np.ma.asarray(self.norm(self.get_array()), dtype=np.float64), np.nan)
        level = np.full(scaled.shape, n, dtype=np.int16)
        finite = np.isfinite(scaled)
        level[finite] = np.clip(scaled[finite] * n, 0, n - 1).astype(np.int16)
        order = np.argsort(level, kind="stable")  # 16-bit keys: a linear radix sort
        return np.split(order, np.flatnonzero(np.diff(level[order])) + 1)


def shown_columns(
    table: Attributions, max_display: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The features a many-row plot shows, largest mean |value| first: their indices, the
    (rows, shown) values with the rest summed in a last column when there are more than
    ``max_display`` features, and the row names ("N other features" for the sum)."""
    shown, rest = top_and_rest(np.abs(table.values).mean(axis=0), max_display)
    columns = table.values[:, shown]
    names = [table.features[j] for j in shown]
    if rest.size:
        columns = np.column_stack([columns, table.values[:, rest].sum(axis=1)])
        names.append(rest_label(rest.size))
    return shown, columns, names


def swarm_offsets(
    columns: np.ndarray, width: float = 0.4, bins: int = SWARM_BINS, seed: int = 0
) -> np.ndarray:
    """Vertical offsets that spread each column's dots into a swarm, the shape of ``columns``.

    Each column's values are cut into ``bins`` equal bins (as shap's beeswarm); the dots of a
    bin, in a seeded random order, get offsets 0, +1, -1, +2, -2, ...; a column's offsets are
    then scaled so its tallest stack spans ``width`` on each side. One stable sort of (column,
    bin) keys ranks every dot within its bin: no loop over rows.

    Examples
    --------
    >>> swarm_offsets(np.array([[0.0], [0.0], [0.0], [1.0]]), width=0.3).ravel().round(2)
    array([ 0.3, -0.3,  0. ,  0. ])
    """
    n, r = columns.shape
    with np.errstate(invalid="ignore"):
        finite = np.where(np.isfinite(columns), columns, np.nan)
        low = np.nanmin(np.where(np.isnan(finite), np.inf, finite), axis=0)
        span = np.nanmax(np.where(np.isnan(finite), -np.inf, finite), axis=0) - low
        span = np.where(np.isfinite(span) & (span > 0), span, 1.0)
        level = np.rint(bins * (finite - low) / span)
    level = np.where(np.isfinite(level), level, bins + 1).astype(np.int64)  # missing: own bin
    key = (level + np.arange(r) * (bins + 2)).T.reshape(-1)  # column by column
    if key.max(initial=0) < np.iinfo(np.int16).max:
        key = key.astype(np.int16)  # NumPy sorts 16-bit keys stably by radix: linear time
    shuffle = np.random.default_rng(seed).permutation(key.size)
    order = shuffle[np.argsort(key[shuffle], kind="stable")]
    ordered = key[order]
    position = np.arange(key.size)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, key.size]))
    rank = np.empty(key.size, dtype=np.int64)
    rank[order] = position - first
    layer = (rank + 1) // 2
    signed = np.where(rank % 2 == 1, layer, -layer).astype(np.float64).reshape(r, n)
    peak = np.abs(signed).max(axis=1, keepdims=True)
    return (signed * (width / np.maximum(peak, 1.0))).T


def beeswarm(
    exp: Any,
    max_display: int = 20,
    *,
    output: Any = None,
    ax: Any = None,
    dot_size: float = 12.0,
    seed: int = 0,
) -> Any:
    """The summary plot: one dot per row and feature, as shap's beeswarm.

    Features are rows of the plot, sorted by mean |value| (largest on top); with more than
    ``max_display`` features the rest are summed into a bottom row "N other features". A dot's
    x is the row's value, its colour the feature's value in that row (blue low, red high;
    each feature scaled to its 5th-95th percentile, as shap; grey where the value is missing or
    not a number, and for the summed row). Dots of a feature row spread vertically into a swarm
    (:func:`swarm_offsets`). All dots are one scatter (one PathCollection), laid out feature row
    by feature row, top row first, rows in data order; rasterised above ``RASTER_ABOVE`` dots.

    Parameters
    ----------
    exp : Explanation
        Several rows of tabular values.
    max_display : int, default 20
        The rows of the plot (the summed row included).
    output : int or str, optional
        The output drawn, for values of several outputs (``target=None``).
    ax : matplotlib Axes, optional
    dot_size : float, default 12
        Marker area (points²).
    seed : int, default 0
        The order of the dots within a bin of the swarm.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> exp = gb.Explanation(values=np.array([[1.0, -2.0, 0.1], [0.5, 1.0, 0.0]]),
    ...                      data=np.array([[3.0, 4.0, 1.0], [1.0, 2.0, 0.0]]), method="demo")
    >>> ax = gb.plots.beeswarm(exp, max_display=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]  # bottom to top
    ['2 other features', 'x1']
    """
    table = many_rows(exp, output, "beeswarm")
    count = check_max_display(max_display)
    shown, columns, names = shown_columns(table, count)
    n, r = columns.shape
    colours = np.full((n, r), np.nan)
    if table.data is not None:
        for i, j in enumerate(shown):  # a loop over the shown features, not over rows
            colours[:, i] = scaled_values(table.data[:, j])[0]
    heights = np.arange(r)[::-1]  # the first (largest) feature on top
    offsets = swarm_offsets(columns, seed=seed)
    ax = new_axes(ax, figsize=(8.0, 0.4 * r + 1.5))
    dots = ax.scatter(
        columns.T.reshape(-1),
        (heights[:, None] + offsets.T).reshape(-1),
        c=colours.T.reshape(-1),
        cmap=missing_cmap(value_cmap()),
        vmin=0.0,
        vmax=1.0,
        s=dot_size,
        linewidths=0,
        plotnonfinite=True,
        rasterized=columns.size > RASTER_ABOVE,
        zorder=3,
    )
    dots.__class__ = SwarmDots  # the same collection, drawn one colour at a time (fast)
    ax.axvline(0.0, color="#999999", linewidth=0.8, zorder=1)
    name_rows(ax, heights, names)
    ax.set_ylim(-0.6, r - 0.4)
    ax.yaxis.grid(True, linestyle=":", color="#cccccc", zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(value_label(table))
    colour_bar = ax.get_figure(root=False).colorbar(dots, ax=ax, ticks=[0, 1], aspect=50)
    colour_bar.set_ticklabels(["Low", "High"])
    colour_bar.set_label("Feature value")
    colour_bar.outline.set_visible(False)
    return finish(ax)


def cluster_order(values: np.ndarray) -> np.ndarray:
    """The order of the rows of ``values`` along scipy's complete-linkage dendrogram
    (euclidean distances), with optimal leaf ordering up to ``LEAF_ORDERING_ROWS`` rows (as
    shap's ``hclust``); NaN counts as 0.

    Examples
    --------
    >>> cluster_order(np.array([[0.0, 0.0], [5.0, 5.0], [0.1, 0.0], [5.0, 5.1]])).tolist()
    [3, 1, 2, 0]
    """
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering

    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if len(values) < 3:
        return np.arange(len(values))
    tree = linkage(values, method="complete")
    if len(values) <= LEAF_ORDERING_ROWS:
        tree = optimal_leaf_ordering(tree, values)
    return leaves_list(tree)


def heatmap_rows(n: int, max_rows: int, seed: int) -> np.ndarray:
    """The rows a heatmap clusters: all ``n``, or ``max_rows`` of them drawn without
    replacement by ``np.random.default_rng(seed)``, in data order."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))


def heatmap(
    exp: Any,
    max_display: int = 10,
    *,
    output: Any = None,
    ax: Any = None,
    max_rows: int = 2000,
    fx: bool = True,
    seed: int = 0,
) -> Any:
    """Rows x features: one column per explained row, in hierarchical-clustering order.

    Features are image rows sorted by mean |value| (largest on top), the rest summed in a last
    row "N other features"; explained rows are image columns ordered by
    :func:`cluster_order` of their values (all features). Colours are the values on a
    diverging scale symmetric about 0 (``vmin = -vmax`` = the largest |value| drawn). With
    ``fx`` and base values, f(x) = base + sum(values) - delta of each row is drawn above, as
    shap's heatmap does.

    Parameters
    ----------
    exp : Explanation
        Several rows of tabular values.
    max_display : int, default 10
        The feature rows of the image (the summed row included).
    output : int or str, optional
        The output drawn, for values of several outputs.
    ax : matplotlib Axes, optional
    max_rows : int, default 2000
        At most this many rows are clustered and drawn: more are subsampled
        (:func:`heatmap_rows`: ``max_rows`` drawn at random with ``seed``, kept in data order
        before clustering); the x label says so.
    fx : bool, default True
        Draw f(x) per row above the image (when the method has base values).
    seed : int, default 0

    Returns
    -------
    matplotlib Axes
        The image's Axes (``ax.images[0]``; f(x) is an inset of it).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> exp = gb.Explanation(values=np.array([[1.0, -2.0], [0.9, -2.1], [-1.0, 2.0]]),
    ...                      data=np.zeros((3, 2)), feature_names=["a", "b"])
    >>> ax = gb.plots.heatmap(exp)
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.images[0].norm.vmax
    (['b', 'a'], 2.1)
    """
    table = many_rows(exp, output, "heatmap")
    count = check_max_display(max_display)
    limit_rows = check_max_display(max_rows, "max_rows")
    rows = heatmap_rows(len(table.values), limit_rows, seed)
    order = rows[cluster_order(table.values[rows])]
    _, columns, names = shown_columns(table, count)
    image = columns[order].T
    limit = symmetric_limit(image)
    ax = new_axes(ax, figsize=(8.0, 0.4 * len(names) + 2.2))
    picture = ax.imshow(
        image, aspect="auto", cmap=diverging_cmap(), vmin=-limit, vmax=limit, origin="upper"
    )
    ax.set_yticks(np.arange(len(names)), names)
    sampled = "" if len(rows) == len(table.values) else f" ({len(rows)} of {len(table.values)}"
    sampled += ", a random sample)" if sampled else ""
    ax.set_xlabel(f"rows, in hierarchical-clustering order{sampled}")
    colour_bar = ax.get_figure(root=False).colorbar(picture, ax=ax, aspect=30)
    colour_bar.set_label(value_label(table), fontsize=9)
    if fx and table.base is not None:
        _draw_fx(ax, _fx(table)[order])
    return finish(ax)


def _fx(table: Attributions) -> np.ndarray:
    """f(x) per row: base + sum(values) - delta (delta 0 where the method has none)."""
    gap = 0.0 if table.delta is None else np.nan_to_num(table.delta)
    return table.base + table.values.sum(axis=1) - gap


def _draw_fx(ax: Any, fx: np.ndarray) -> None:
    """f(x) of the image's columns, as a line in an inset above the image."""
    inset = ax.inset_axes((0.0, 1.03, 1.0, 0.2))
    inset.plot(np.arange(len(fx)), fx, color="#333333", linewidth=1.0)
    inset.set_xlim(ax.get_xlim())
    inset.set_xticks([])
    inset.set_ylabel("f(x)", fontsize=9)
    inset.tick_params(labelsize=8)
    for side in ("top", "right"):
        inset.spines[side].set_visible(False)
