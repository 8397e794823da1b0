"""``errors(diagnosis)``: a Diagnosis in three panels: the confusion matrix (or the residuals'
histogram), the worst slices and the attribution contrast."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox.plots._figure import (
    NEGATIVE,
    POSITIVE,
    check_max_display,
    finish,
    new_axes,
    new_figure,
)
from glassbox.plots.bars import _barh

#: p-values below this mark a contrast bar as significant (a "*" after the feature's name).
SIGNIFICANT = 0.05


def errors(result: Any, max_display: int = 10, *, fig: Any = None, ax: Any = None) -> Any:
    """Draw a :class:`~glassbox.Diagnosis` in three panels side by side, or one of its parts
    on one Axes.

    1. Classification: the confusion matrix (rows true, columns predicted, each cell's count
       written in it, colour by count); regression: the histogram of residuals (prediction - y).
    2. The ``max_display`` worst slices: each slice's error rate (or mean |residual|) as a
       bar, the worst on top, with the overall rate as a dashed line.
    3. The contrast: the ``max_display`` features of largest |difference| between the mean
       attribution on error rows and on correct rows (positive red, negative blue), a "*"
       after the names with p < 0.05; a note when the contrast is empty.

    A part alone (``diagnosis.slices.plot()``): a ``ConfusionMatrix``, ``ResidualSummary``,
    ``Slices`` or ``Contrast`` is its panel; an ``ErrorTree`` is drawn by scikit-learn's
    ``plot_tree``; ``ErrorRows`` are bars of the ``max_display`` worst rows' confidence (or
    |residual|), each named "index: true -> predicted".

    Parameters
    ----------
    result : Diagnosis or one of its parts
        From ``glassbox.diagnose``.
    max_display : int, default 10
        Bars in each bar panel.
    fig : matplotlib Figure, optional
        For a Diagnosis.
    ax : matplotlib Axes, optional
        For a part.

    Returns
    -------
    matplotlib Figure (a Diagnosis) or Axes (a part)
        A Diagnosis' figure's axes: ``fig.axes[0]`` the confusion matrix (its colour bar is
        ``fig.axes[3]`` for classification), ``[1]`` the slices, ``[2]`` the contrast.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> X = np.random.default_rng(0).normal(size=(300, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> wrong = lambda X: (X[:, 0] > 0) ^ (X[:, 1] > 1)  # errs where x1 > 1
    >>> model = gb.wrap(lambda X: np.eye(2)[wrong(X).astype(int)], n_inputs=3)
    >>> diagnosis = gb.diagnose(model, X, y, explainer=False)
    >>> fig = gb.plots.errors(diagnosis)
    >>> [t.get_text() for t in fig.axes[1].get_yticklabels()][-1]  # the worst slice on top
    'x1 > 0.6534'
    >>> ax = diagnosis.slices.plot(max_display=3)  # one part: its panel
    >>> [t.get_text() for t in ax.get_yticklabels()][-1]
    'x1 > 0.6534'
    """
    from glassbox import diagnosis as parts

    count = check_max_display(max_display)
    if isinstance(result, parts.Diagnosis):
        if ax is not None:
            raise ValueError("ax: a Diagnosis is drawn in three panels; pass fig= (or a part)")
        fig = new_figure(fig, figsize=(16.0, 0.35 * count + 2.5))
        first, slices_ax, contrast_ax = fig.subplots(1, 3, width_ratios=[1.0, 1.2, 1.2])
        if result.task == "classification":
            _confusion(first, result.confusion)
        else:
            _residuals(first, result.confusion)
        _slices(slices_ax, result.slices, count)
        _contrast(contrast_ax, result.contrast, count)
        return fig
    panels = {
        parts.ConfusionMatrix: lambda a: _confusion(a, result),
        parts.ResidualSummary: lambda a: _residuals(a, result),
        parts.Slices: lambda a: _slices(a, result, count),
        parts.Contrast: lambda a: _contrast(a, result, count),
        parts.ErrorTree: lambda a: _tree(a, result),
        parts.ErrorRows: lambda a: _rows(a, result, count),
    }
    for kind, draw in panels.items():
        if isinstance(result, kind):
            if fig is not None:
                raise ValueError("fig: a part of a Diagnosis is drawn on one Axes; pass ax=")
            ax = new_axes(ax, figsize=(7.0, 0.35 * count + 2.0))
            draw(ax)
            return finish(ax)
    raise TypeError(
        f"result: expected a Diagnosis (from glassbox.diagnose) or one of its parts, got "
        f"{type(result).__name__}"
    )


def _tree(ax: Any, tree: Any) -> None:
    if tree.tree is None:
        _note(ax, tree.note or "no tree")
        return
    from sklearn.tree import plot_tree

    plot_tree(tree.tree, feature_names=tree.feature_names, ax=ax, filled=True, impurity=False)
    ax.set_title(f"error tree (overall {tree.metric.replace('_', ' ')} {tree.overall:.3g})")


def _rows(ax: Any, rows: Any, count: int) -> None:
    shown = min(count, len(rows))
    if not shown:
        _note(ax, "no error rows")
        return
    classify = rows.task == "classification"
    lengths = np.asarray(rows.confidence if classify else np.abs(rows.residual))[:shown]
    true, predicted = rows.true, rows.predicted
    names = [f"{rows.index[i]}: {_short(true[i])} -> {_short(predicted[i])}" for i in range(shown)]
    _barh(ax, lengths, names, POSITIVE)
    ax.set_xlabel(f"confidence ({rows.confidence_kind})" if classify else "|residual|")
    ax.set_title(f"the {shown} worst error rows")


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _confusion(ax: Any, confusion: Any) -> None:
    matrix = np.asarray(confusion.matrix)
    labels = [str(label) for label in confusion.labels]
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    limit = matrix.max() if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(value),
            ha="center",
            va="center",
            fontsize=9,
            color="white" if value > limit / 2 else "black",
        )
    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 4 else 0)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(
        f"confusion matrix\naccuracy {confusion.accuracy:.2%}, {confusion.n_errors} errors"
    )
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="rows")


def _residuals(ax: Any, summary: Any) -> None:
    ax.hist(summary.residuals, bins=30, color=NEGATIVE)
    ax.axvline(0.0, color="#555555", linewidth=0.8)
    ax.set_xlabel("residual (prediction - y)")
    ax.set_ylabel("rows")
    ax.set_title(f"residuals\nMAE {summary.mae:.4g}, R^2 {summary.r2:.3f}")


def _slices(ax: Any, slices: Any, count: int) -> None:
    shown = min(count, len(slices))
    what = "error rate" if slices.metric == "error_rate" else "mean |residual|"
    if not shown:
        _note(ax, f"no slice of at least {slices.min_size} rows")
    else:
        _barh(ax, np.asarray(slices.error[:shown]), slices.descriptions[:shown], POSITIVE)
        line = ax.axvline(slices.overall, color="#333333", linestyle="--", linewidth=1.0)
        line.set_gid("overall")
    ax.set_xlabel(what)
    ax.set_title(f"worst slices (overall {what} {slices.overall:.3g})")


def _contrast(ax: Any, contrast: Any, count: int) -> None:
    if not len(contrast):
        _note(ax, contrast.note or "no contrast")
        ax.set_title("attributions: errors vs correct rows")
        return
    order = np.argsort(-np.abs(contrast.difference), kind="stable")[:count]
    lengths = np.asarray(contrast.difference)[order]
    names = [
        contrast.features[j] + (" *" if contrast.p_value[j] < SIGNIFICANT else "") for j in order
    ]
    colours = [POSITIVE if v >= 0 else NEGATIVE for v in lengths]
    _barh(ax, lengths, names, colours)
    ax.set_xlabel(f"mean {contrast.method} value:\non errors - on correct rows")
    ax.set_title(
        f"why: {contrast.n_errors} errors vs {contrast.n_correct} correct (* p < {SIGNIFICANT})"
    )


def _note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
