"""Bar plots: ``bar`` (global importance: mean |value|, one row's values, permutation
importance) and ``waterfall`` (one row, from the base value to f(x))."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox._validation import check_choice
from glassbox.plots._figure import (
    MISSING,
    NEGATIVE,
    POSITIVE,
    Attributions,
    attributions,
    check_max_display,
    finish,
    format_value,
    name_rows,
    new_axes,
    rest_label,
    top_and_rest,
    value_label,
)

#: Metrics whose score permutation importance negates (losses): importance is their increase.
LOSSES = ("log_loss", "mse", "mae")
#: A completeness gap is drawn in a waterfall when larger than this fraction of its scale.
GAP_TOLERANCE = 1e-5


def _barh(ax: Any, lengths: np.ndarray, names: list[str], colours: Any, **kw: Any) -> Any:
    """Horizontal bars, the first on top, each length printed at its end (beyond its error bar
    when ``xerr`` is given); returns the bars."""
    heights = np.arange(len(lengths))[::-1]
    bars = ax.barh(heights, lengths, color=colours, height=0.7, **kw)
    reach = np.abs(lengths) + np.asarray(kw.get("xerr", 0.0))
    print_numbers(ax, heights, np.copysign(reach, lengths), lengths)
    name_rows(ax, heights, names)
    ax.axvline(0.0, color="#555555", linewidth=0.8)
    # room for the printed numbers: a quarter of the span beyond each end
    ax.margins(x=0.25)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return bars


def print_numbers(ax: Any, heights: np.ndarray, ends: np.ndarray, numbers: np.ndarray) -> None:
    """Write each of ``numbers`` just beyond ``ends`` (right of positive numbers, left of
    negative ones) at ``heights``."""
    for y, x, number in zip(heights, ends, numbers, strict=True):
        right = number >= 0
        ax.annotate(
            f"{number:+.4g}",
            (x, y),
            xytext=(3 if right else -3, 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=8,
        )


def bar(
    result: Any,
    max_display: int = 20,
    *,
    output: Any = None,
    ax: Any = None,
    kind: str = "bar",
) -> Any:
    """Feature importance as horizontal bars, the largest on top, the rest summed in a bottom
    row "N other features" when there are more than ``max_display``.

    - An Explanation of several rows: the mean |value| of each feature over the rows (the sum
      of the rest's means in the last row), as shap's ``bar(exp)``.
    - A single row (``exp[i]``): that row's signed values (positive red, negative blue),
      largest |value| on top, as shap's ``bar(exp[i])``.
    - A :class:`~glassbox.PermutationImportance`: ``importances_mean`` with ``importances_std``
      error bars (``kind="bar"``), or every repeat as a box (``kind="box"``); the summed row
      sums the rest's importances repeat by repeat. The x label names the metric.

    Each bar's number is printed at its end.

    Parameters
    ----------
    result : Explanation or PermutationImportance
    max_display : int, default 20
        The rows of the plot (the summed row included).
    output : int or str, optional
        The output drawn, for Explanation values of several outputs.
    ax : matplotlib Axes, optional
    kind : {"bar", "box"}, default "bar"
        For permutation importance: mean ± std bars, or a box per feature of its repeats.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> exp = gb.Explanation(values=np.array([[1.0, -2.0], [0.5, 1.0]]),
    ...                      data=np.zeros((2, 2)), feature_names=["a", "b"], method="demo")
    >>> ax = gb.plots.bar(exp)
    >>> [float(p.get_width()) for p in ax.patches]  # the largest first (on top)
    [1.5, 0.75]
    >>> [t.get_text() for t in ax.get_yticklabels()]  # bottom to top
    ['a', 'b']
    """
    from glassbox.inspection import PermutationImportance

    count = check_max_display(max_display)
    kind = check_choice(kind, "kind", ("bar", "box"))
    if isinstance(result, PermutationImportance):
        if output is not None:
            raise ValueError("output: permutation importance has one score; leave output=None")
        return _importance(result, count, ax, kind)
    if kind != "bar":
        raise ValueError("kind: 'box' draws the repeats of permutation importance; use 'bar'")
    try:
        table = attributions(result, output, "result")
    except TypeError as error:
        raise TypeError(
            f"result: expected a glassbox Explanation or PermutationImportance, got "
            f"{type(result).__name__}"
        ) from error
    if table.single_row:
        values = table.values[0]
        shown, rest = top_and_rest(np.abs(values), count)
        lengths = _with_rest(values[shown], values[rest].sum(), rest.size)
        colours = [POSITIVE if v >= 0 else NEGATIVE for v in lengths]
        label = value_label(table)
    else:
        means = np.abs(table.values).mean(axis=0)
        shown, rest = top_and_rest(means, count)
        lengths = _with_rest(means[shown], means[rest].sum(), rest.size)
        colours, label = POSITIVE, value_label(table, "mean |")
    names = _names(table.features, shown, rest)
    ax = new_axes(ax, figsize=(7.0, 0.4 * len(names) + 1.5))
    _barh(ax, lengths, names, colours)
    ax.set_xlabel(label)
    return finish(ax)


def _with_rest(shown: np.ndarray, rest_sum: float, n_rest: int) -> np.ndarray:
    """The lengths of the shown rows, and the rest's sum as a last row when there is a rest."""
    return np.append(shown, rest_sum) if n_rest else np.asarray(shown, dtype=np.float64)


def _names(features: list[str], shown: np.ndarray, rest: np.ndarray) -> list[str]:
    """The names of the shown rows, and "N other features" when there is a rest."""
    names = [features[j] for j in shown]
    return [*names, rest_label(rest.size)] if rest.size else names


def importance_names(result: Any) -> list[str]:
    """The names of a PermutationImportance's groups (features), as its table has them."""
    return result.group_names or ["+".join(map(str, g)) for g in result.groups]


def _importance(result: Any, count: int, ax: Any, kind: str) -> Any:
    """Permutation importance: mean ± std bars, or the repeats as boxes."""
    repeats = np.asarray(result.importances, dtype=np.float64)
    shown, rest = top_and_rest(np.asarray(result.importances_mean), count)
    rows = repeats[shown]
    if rest.size:
        rows = np.vstack([rows, repeats[rest].sum(axis=0)])
    names = _names(importance_names(result), shown, rest)
    ax = new_axes(ax, figsize=(7.0, 0.4 * len(names) + 1.5))
    if kind == "bar":
        bars = _barh(
            ax,
            rows.mean(axis=1),
            names,
            POSITIVE,
            xerr=rows.std(axis=1),
            capsize=3,
            error_kw={"elinewidth": 1.0, "ecolor": "#333333"},
        )
        bars.set_label("mean ± std")
        summary = f"mean ± std over {result.n_repeats} repeats"
    else:
        heights = np.arange(len(names))[::-1]
        boxes = ax.boxplot(rows.T, positions=heights, orientation="horizontal", widths=0.6)
        for line in boxes["medians"]:
            line.set_gid("median")  # found by readers of the figure (tests, the report)
        name_rows(ax, heights, names)
        ax.axvline(0.0, color=MISSING, linewidth=0.8)
        summary = f"{result.n_repeats} repeats"
    change = "increase" if result.metric in LOSSES else "decrease"
    ax.set_xlabel(f"permutation importance: {change} in {result.metric} ({summary})")
    return finish(ax)


def waterfall(exp: Any, max_display: int = 10, *, output: Any = None, ax: Any = None) -> Any:
    """One row's values as steps from the base value to f(x), as shap's waterfall.

    Reading bottom to top, each bar starts where the one below it ends: the first starts at the
    base value (E[f(X)] for Shapley values, f(baseline) for path methods) and the top one ends
    at f(x) = base + sum(values) - delta. Features are sorted by |value| (largest on top); with
    more than ``max_display`` the rest are summed into a bottom row "N other features". When
    the completeness gap ``delta`` is not negligible (above ``GAP_TOLERANCE`` of the plot's
    scale) it is a grey bottom bar "completeness gap (delta)" of length -delta, so the steps
    still end at f(x). Positive steps are red, negative blue; names read "name = value" with
    the row's feature values (strings as they are).

    Parameters
    ----------
    exp : Explanation
        One row (``exp[i]``) of a method with base values.
    max_display : int, default 10
        The feature rows (the summed row included; the gap row is extra).
    output : int or str, optional
        The output drawn, for values of several outputs.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> exp = gb.Explanation(values=np.array([[1.0, -2.0]]), data=np.array([[3.0, 4.0]]),
    ...                      base_values=np.array([0.5]), feature_names=["a", "b"])
    >>> ax = gb.plots.waterfall(exp[0])
    >>> [t.get_text() for t in ax.get_yticklabels()]  # bottom to top
    ['a = 3', 'b = 4']
    >>> [(float(p.get_x()), float(p.get_width())) for p in ax.patches]  # ends at f(x) = -0.5
    [(0.5, 1.0), (1.5, -2.0)]
    """
    table = attributions(exp, output)
    count = check_max_display(max_display)
    if not table.single_row:
        raise ValueError(
            f"exp: waterfall() draws one row and this explanation has {len(table.values)}; "
            "pass exp[i] (or draw all rows with gb.plots.beeswarm(exp) / gb.plots.bar(exp))"
        )
    if table.base is None:
        raise ValueError(
            f"exp: waterfall() needs a method with a base value (Shapley values, integrated "
            f"gradients, DeepLIFT, ...); {table.method!r} has none: draw the row with "
            "gb.plots.bar(exp[i])"
        )
    steps, names = _steps(table, count)
    base = float(table.base[0])
    ends = base + np.cumsum(steps)
    starts = ends - steps
    fx = float(ends[-1])
    ax = new_axes(ax, figsize=(7.5, 0.45 * len(steps) + 1.8))
    heights = np.arange(len(steps))  # the first step at the bottom
    colours = [POSITIVE if s >= 0 else NEGATIVE for s in steps]
    if names[0] == GAP_LABEL:
        colours[0] = MISSING
    ax.barh(heights, steps, left=starts, color=colours, height=0.7)
    print_numbers(ax, heights, ends, steps)
    ax.plot(
        np.repeat(ends[:-1], 2),
        np.column_stack([heights[:-1], heights[1:]]).ravel(),
        color="#777777",
        linewidth=0.6,
        linestyle=":",
    )  # connectors: where a step ends the next begins
    name_rows(ax, heights, names)
    top = len(steps) - 0.2
    for x, style, text in ((base, "--", "base"), (fx, "-", "f(x)")):
        ax.axvline(x, color="#555555", linewidth=0.8, linestyle=style, zorder=0)
        ax.annotate(text, (x, top), ha="center", va="bottom", fontsize=8)
    low, high = min(starts.min(), ends.min()), max(starts.max(), ends.max())
    pad = 0.2 * max(high - low, abs(fx) * 1e-3, 1e-12)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(-0.6, len(steps) + 0.4)
    ax.set_xlabel(value_label(table))
    ax.set_title(f"base value = {base:.4g}  →  f(x) = {fx:.4g}", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return finish(ax)


#: The label of the waterfall row of the completeness gap.
GAP_LABEL = "completeness gap (delta)"


def _steps(table: Attributions, count: int) -> tuple[np.ndarray, list[str]]:
    """A waterfall's steps and names, bottom to top: the gap (-delta, when not negligible),
    the summed rest, then the features by increasing |value|."""
    values = table.values[0]
    shown, rest = top_and_rest(np.abs(values), count)
    data = None if table.data is None else table.data[0]
    names = [
        table.features[j] if data is None else f"{table.features[j]} = {format_value(data[j])}"
        for j in shown
    ]
    steps = list(values[shown])
    if rest.size:
        steps.append(float(values[rest].sum()))
        names.append(rest_label(rest.size))
    delta = 0.0 if table.delta is None else float(np.nan_to_num(table.delta[0]))
    scale = max(np.abs(values).sum(), abs(float(table.base[0])), np.finfo(np.float64).tiny)
    if abs(delta) > GAP_TOLERANCE * scale:
        steps.append(-delta)
        names.append(GAP_LABEL)
    return np.asarray(steps[::-1], dtype=np.float64), names[::-1]
