"""``errors(diagnosis)``: a Diagnosis in three panels: the confusion matrix (or the residuals'
histogram), the worst slices and the attribution contrast."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox.plots._figure import NEGATIVE, POSITIVE, check_max_display, new_figure
from glassbox.plots.bars import _barh

#: p-values below this mark a contrast bar as significant (a "*" after the feature's name).
SIGNIFICANT = 0.05


def errors(diagnosis: Any, max_display: int = 10, *, fig: Any = None) -> Any:
    """Draw a :class:`~glassbox.Diagnosis`: three panels side by side.

    1. Classification: the confusion matrix (rows true, columns predicted, each cell's count
       written in it, colour by count); regression: the histogram of residuals (prediction - y).
    2. The ``max_display`` worst slices: each slice's error rate (or mean |residual|) as a
       bar, the worst on top, with the overall rate as a dashed line.
    3. The contrast: the ``max_display`` features of largest |difference| between the mean
       attribution on error rows and on correct rows (positive red, negative blue), a "*"
       after the names with p < 0.05; a note when the contrast is empty.

    Parameters
    ----------
    diagnosis : Diagnosis
        From ``glassbox.diagnose``.
    max_display : int, default 10
        Bars in each bar panel.
    fig : matplotlib Figure, optional

    Returns
    -------
    matplotlib Figure
        Its axes: ``fig.axes[0]`` the confusion matrix (its colour bar is ``fig.axes[3]``
        for classification), ``[1]`` the slices, ``[2]`` the contrast.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> X = np.random.default_rng(0).normal(size=(300, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> wrong = lambda X: (X[:, 0] > 0) ^ (X[:, 1] > 1)  # errs where x1 > 1
    >>> model = gb.wrap(lambda X: np.eye(2)[wrong(X).astype(int)], n_inputs=3)
    >>> fig = gb.plots.errors(gb.diagnose(model, X, y, explainer=False))
    >>> [t.get_text() for t in fig.axes[1].get_yticklabels()][-1]  # the worst slice on top
    'x1 > 0.6534'
    """
    from glassbox.diagnosis import Diagnosis

    if not isinstance(diagnosis, Diagnosis):
        raise TypeError(
            f"diagnosis: expected a Diagnosis (from glassbox.diagnose), got "
            f"{type(diagnosis).__name__}"
        )
    count = check_max_display(max_display)
    fig = new_figure(fig, figsize=(16.0, 0.35 * count + 2.5))
    first, slices_ax, contrast_ax = fig.subplots(1, 3, width_ratios=[1.0, 1.2, 1.2])
    if diagnosis.task == "classification":
        _confusion(first, diagnosis.confusion)
    else:
        _residuals(first, diagnosis.confusion)
    _slices(slices_ax, diagnosis.slices, count)
    _contrast(contrast_ax, diagnosis.contrast, count)
    return fig


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
