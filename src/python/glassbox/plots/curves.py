"""``partial_dependence(result)`` and ``ale(result)``: effect curves on a grid, one panel per
feature (or pair) and output; ICE lines, a rug of the data, 2-D results as filled contours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox._names import is_name
from glassbox.plots._figure import check_max_display, new_figure
from glassbox.tables import labels_of

#: ICE lines drawn at most by default (a seeded sample of the rows above it).
MAX_ICE_LINES = 100
#: Colour levels of the filled contours of 2-D results.
CONTOUR_LEVELS = 12
#: Panels per row of the figure.
PANELS_PER_ROW = 3
PD_COLOUR, ICE_COLOUR, RUG_COLOUR = "#d1495b", "#4a6fa5", "#333333"


def _as_results(result: Any, kind: type, what: str) -> list[Any]:
    """``result`` (one result of ``kind`` or a sequence of them) as a list, checked."""
    results = list(result) if isinstance(result, (list, tuple)) else [result]
    if not results:
        raise ValueError(f"result: expected a {what} or a list of them, got an empty list")
    for item in results:
        if not isinstance(item, kind):
            raise TypeError(
                f"result: expected a glassbox {what} (gb.{_function_of(what)}(...)) or a list of "
                f"them, got {type(item).__name__}"
            )
    return results


def _function_of(what: str) -> str:
    return {"PartialDependence": "partial_dependence", "ALE": "ale"}[what]


def _feature_labels(result: Any) -> list[str]:
    return labels_of(result.feature_names, result.features, "feature")


def _select_features(results: list[Any], features: Any) -> list[Any]:
    """The results whose feature (or pair) is among ``features`` (names or indices), in the
    order of ``results``; every feature asked for must be drawn by one of them."""
    if features is None:
        return results
    wanted = [features] if is_name(features) or not isinstance(features, Sequence) else features
    available: dict[object, list[int]] = {}
    for k, result in enumerate(results):
        for index, name in zip(result.features, _feature_labels(result), strict=True):
            available.setdefault(name, []).append(k)
            available.setdefault(int(index), []).append(k)
    chosen: set[int] = set()
    for feature in wanted:
        key = str(feature) if is_name(feature) else feature
        if isinstance(key, (bool, np.bool_)) or key not in available:
            names = sorted({n for r in results for n in _feature_labels(r)})
            function = _function_of(type(results[0]).__name__)
            raise ValueError(
                f"features: {feature!r} is not a feature of the result(s) (available: "
                f"{', '.join(map(repr, names))}); compute it with gb.{function}(model, X, ...)"
            )
        chosen.update(available[key])
    return [result for k, result in enumerate(results) if k in chosen]


def _select_targets(result: Any, targets: Any) -> list[int]:
    """Positions in ``result.targets`` of the outputs ``targets`` (model output indices or
    names; None: all the result reports)."""
    labels = labels_of(result.output_names, result.targets)
    if targets is None:
        return list(range(len(labels)))
    wanted = [targets] if is_name(targets) or not isinstance(targets, Sequence) else targets
    positions = []
    for target in wanted:
        if is_name(target) and str(target) in labels:
            positions.append(labels.index(str(target)))
        elif not is_name(target) and target in result.targets:
            positions.append(list(result.targets).index(target))
        else:
            raise ValueError(
                f"targets: {target!r} is not an output of the result (available: "
                f"{', '.join(map(repr, labels))}, or their indices {list(result.targets)})"
            )
    return positions


def _panels(
    results: list[Any], features: Any, targets: Any, fig: Any, size: tuple[float, float]
) -> tuple[Any, list[tuple[Any, int, Any]]]:
    """The figure and its (result, target position, Axes) panels: one per result and output,
    ``PANELS_PER_ROW`` to a row."""
    chosen = _select_features(results, features)
    jobs = [(r, t) for r in chosen for t in _select_targets(r, targets)]
    columns = min(PANELS_PER_ROW, len(jobs))
    rows = -(-len(jobs) // columns)
    figure = new_figure(fig, figsize=(size[0] * columns, size[1] * rows))
    grid = figure.subplots(rows, columns, squeeze=False)
    for extra in grid.ravel()[len(jobs) :]:
        extra.remove()
    return figure, [(r, t, ax) for (r, t), ax in zip(jobs, grid.ravel(), strict=False)]


def _output_label(result: Any, t: int) -> str:
    return labels_of(result.output_names, result.targets)[t]


def _rug(ax: Any, values: np.ndarray | None, axis: str = "x") -> None:
    """Short ticks at ``values`` along the bottom (``axis="x"``) or left edge of ``ax``."""
    if values is None or not len(values):
        return
    if axis == "x":
        transform = ax.get_xaxis_transform()
        ax.vlines(values, 0, 0.05, transform=transform, color=RUG_COLOUR, linewidth=1)
    else:
        transform = ax.get_yaxis_transform()
        ax.hlines(values, 0, 0.05, transform=transform, color=RUG_COLOUR, linewidth=1)


def _is_categorical(result: Any, position: int) -> bool:
    """Whether the grid of the result's feature ``position`` is categories (recorded, or values
    that are not numbers)."""
    recorded = getattr(result, "categorical", None)
    if recorded is not None:
        return bool(recorded[position])
    return not np.issubdtype(np.asarray(result.grid_values[position]).dtype, np.number)


def _ice_rows(n_rows: int, max_ice_lines: int, seed: int) -> np.ndarray:
    """The rows whose ICE lines are drawn: all, or a seeded sample of ``max_ice_lines``."""
    if n_rows <= max_ice_lines:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, max_ice_lines, replace=False))


def _contour(ax: Any, x: np.ndarray, y: np.ndarray, z: np.ndarray, label: str) -> Any:
    """Filled contours of ``z`` (x by y) with ``CONTOUR_LEVELS`` levels spanning its values, and
    a colour bar labelled ``label``."""
    low, high = float(np.min(z)), float(np.max(z))
    if high <= low:  # a flat surface still needs increasing levels
        low, high = low - 0.5, high + 0.5
    levels = np.linspace(low, high, CONTOUR_LEVELS + 1)
    contours = ax.contourf(x, y, np.asarray(z).T, levels=levels, cmap="viridis")
    ax.figure.colorbar(contours, ax=ax, label=label)
    return contours


def _categorical_axis(ax: Any, values: np.ndarray, axis: str = "x") -> np.ndarray:
    """Positions 0..n-1 for category ``values``, their names as the ticks."""
    positions = np.arange(len(values))
    labels = [str(v) for v in values]
    (ax.set_xticks if axis == "x" else ax.set_yticks)(positions, labels)
    if axis == "x" and len(values) > 4:
        ax.tick_params(axis="x", labelrotation=45)
    return positions


def partial_dependence(
    result: Any,
    *,
    features: Any = None,
    targets: Any = None,
    ice: bool = True,
    centered: bool = False,
    max_ice_lines: int = MAX_ICE_LINES,
    seed: int = 0,
    fig: Any = None,
) -> Any:
    """Partial dependence (PD) and ICE curves: one panel per feature (or pair) and output.

    One feature: the PD (the average over the rows) as a thick line over the grid, the ICE
    curves (one per row) as thin translucent lines under it (at most ``max_ice_lines``: a seeded
    sample of the rows beyond that, said in the legend), the deciles of the feature's data as a
    rug on the x axis (as scikit-learn's display). A categorical feature: the PD as bars, the
    ICE values as points, the categories as ticks. A pair: filled contours of the PD over the
    two grids with a colour bar, the deciles of both features as rugs.

    Parameters
    ----------
    result : PartialDependence or a list of them
        From ``gb.partial_dependence`` (kind "average", "individual" or "both"); a list gives a
        panel per result.
    features : feature name or index, or a list of them, optional
        Draw only the results of these features (default: all).
    targets : output name or index, or a list of them, optional
        Draw only these outputs among those the result reports (default: all, a row of panels
        each).
    ice : bool, default True
        Draw the ICE curves (when the result has them).
    centered : bool, default False
        Subtract each curve's value at the first grid point (centred ICE / PD), when the result
        is not centred already.
    max_ice_lines : int, default 100
        ICE curves drawn at most per panel.
    seed : int, default 0
        The seed of the sample of ICE curves.
    fig : matplotlib Figure, optional
        Drawn on (cleared first); default a new figure.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] ** 2 + X[:, 1], n_inputs=2)
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> pd = gb.partial_dependence(model, X, 0, kind="both", grid_resolution=10)
    >>> fig = gb.plots.partial_dependence(pd)
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), len(ax.lines)  # 50 ICE curves, then the PD
    ('x0', 51)
    """
    from glassbox.inspection import PartialDependence

    results = _as_results(result, PartialDependence, "PartialDependence")
    max_ice_lines = check_max_display(max_ice_lines, "max_ice_lines")
    figure, panels = _panels(results, features, targets, fig, (4.2, 3.4))
    for item, t, ax in panels:
        if len(item.features) == 2:
            _pd_surface(ax, item, t, centered)
        else:
            _pd_curve(ax, item, t, ice=ice, centered=centered, max_lines=max_ice_lines, seed=seed)
    return figure


def pd_curves(
    result: Any, t: int, centered: bool = False
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The average and the ICE curves of output position ``t`` as drawn: the average is the
    mean of the ICE curves when the result has only those; centred at the first grid point when
    asked and the result is not already."""
    individual = None if result.individual is None else np.asarray(result.individual[t], float)
    average = result.average
    average = individual.mean(axis=0) if average is None else np.asarray(average[t], float)
    if centered and not result.centered:
        first = (0,) * (average.ndim)
        average = average - average[first]
        if individual is not None:
            individual = individual - individual[(slice(None), *first)][:, None]
    return average, individual


def _pd_label(result: Any, t: int, centered: bool) -> str:
    kind = "centred partial dependence" if centered or result.centered else "partial dependence"
    return f"{kind} of {_output_label(result, t)}"


def _pd_curve(
    ax: Any, result: Any, t: int, *, ice: bool, centered: bool, max_lines: int, seed: int
) -> None:
    average, individual = pd_curves(result, t, centered)
    grid = np.asarray(result.grid_values[0])
    categorical = _is_categorical(result, 0)
    x = _categorical_axis(ax, grid) if categorical else grid.astype(np.float64)
    if ice and individual is not None:
        rows = _ice_rows(individual.shape[0], max_lines, seed)
        label = f"ICE ({len(rows)} of {individual.shape[0]} rows"
        label += ", seeded sample)" if len(rows) < individual.shape[0] else ")"
        style = {"marker": "o", "linestyle": "none", "markersize": 3} if categorical else {}
        lines = ax.plot(x, individual[rows].T, color=ICE_COLOUR, alpha=0.25, lw=0.7, **style)
        lines[0].set_label(label)
    if categorical:
        ax.bar(x, average, color=PD_COLOUR, alpha=0.6, width=0.6, label="average (PD)")
    else:
        ax.plot(x, average, color=PD_COLOUR, lw=2.5, label="average (PD)")
        _rug(ax, _deciles(result, 0))
    ax.set_xlabel(_feature_labels(result)[0])
    ax.set_ylabel(_pd_label(result, t, centered))
    ax.legend(fontsize="small", framealpha=0.7)


def _deciles(result: Any, position: int) -> np.ndarray | None:
    deciles = getattr(result, "deciles", None)
    return None if deciles is None else deciles[position]


def _pd_surface(ax: Any, result: Any, t: int, centered: bool) -> None:
    average, _ = pd_curves(result, t, centered)
    names = _feature_labels(result)
    axes = []
    for position, axis in enumerate(("x", "y")):
        grid = np.asarray(result.grid_values[position])
        if _is_categorical(result, position):
            axes.append(_categorical_axis(ax, grid, axis))
        else:
            axes.append(grid.astype(np.float64))
            _rug(ax, _deciles(result, position), axis)
    _contour(ax, axes[0], axes[1], average, _pd_label(result, t, centered))
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])


def ale(result: Any, *, features: Any = None, targets: Any = None, fig: Any = None) -> Any:
    """Accumulated local effects: one panel per feature (or pair) and output.

    One feature: the centred effect at the bin edges (``result.edges``) as a line with a point
    per edge, and the rows per bin (``result.counts``) as a light histogram on a second y axis
    (the data's density: where the curve is well supported). A pair: filled contours of the
    second-order effect over the grid of edges with a colour bar, and the bin edges as rugs.

    Parameters
    ----------
    result : ALE or a list of them
        From ``gb.ale``; a list gives a panel per result.
    features : feature name or index, or a list of them, optional
        Draw only the results of these features (default: all).
    targets : output name or index, or a list of them, optional
        Draw only these outputs among those the result reports (default: all).
    fig : matplotlib Figure, optional
        Drawn on (cleared first); default a new figure.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: 3 * X[:, 0] + X[:, 1], n_inputs=2)
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> fig = gb.plots.ale(gb.ale(model, X, 0, bins=5))
    >>> line = fig.axes[0].lines[0]
    >>> line.get_xdata().size, fig.axes[0].get_xlabel()  # the 6 bin edges
    (6, 'x0')
    """
    from glassbox.inspection import ALE

    results = _as_results(result, ALE, "ALE")
    figure, panels = _panels(results, features, targets, fig, (4.2, 3.4))
    for item, t, ax in panels:
        names = _feature_labels(item)
        label = f"ALE of {_output_label(item, t)}"
        edges = [np.asarray(e, dtype=np.float64) for e in item.edges]
        values = np.asarray(item.values[t], dtype=np.float64)
        if len(item.features) == 2:
            _contour(ax, edges[0], edges[1], values, f"second-order {label}")
            _rug(ax, edges[0])
            _rug(ax, edges[1], "y")
            ax.set_ylabel(names[1])
        else:
            _counts(ax, edges[0], np.asarray(item.counts))
            ax.plot(edges[0], values, color=PD_COLOUR, lw=2, marker="o", markersize=3)
            ax.axhline(0.0, color="#999999", lw=0.6)
            ax.set_ylabel(label)
        ax.set_xlabel(names[0])
    return figure


def _counts(ax: Any, edges: np.ndarray, counts: np.ndarray) -> Any:
    """The rows per bin as bars between the edges on a second y axis (right), under the curve."""
    twin = ax.twinx()
    twin.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#bbbbbb", alpha=0.5)
    twin.set_ylim(0, max(float(counts.max()), 1.0) * 4)  # the bars keep to the bottom quarter
    twin.set_ylabel("rows per bin", color="#777777")
    twin.tick_params(axis="y", colors="#777777")
    ax.set_zorder(twin.get_zorder() + 1)  # the curve over the bars
    ax.patch.set_visible(False)
    return twin
