"""``interactions(result)``: the interaction strength of pairs of features as a symmetric
features x features heat map (Friedman's H of an ``HStatistic``, or the mean |SHAP interaction
value| of an interaction ``Explanation``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox._names import resolve
from glassbox.plots._figure import check_max_display, features_of, finish, new_axes, outputs_of
from glassbox.tables import INTERACTION_METHODS, labels_of

#: The sequential colour map of interaction strengths (0 = none).
STRENGTH_CMAP = "YlOrRd"
#: Matrices larger than this are drawn without the value in each cell.
ANNOTATED_FEATURES = 15


def _h_output(result: Any, output: Any) -> int:
    """The position in ``result.targets`` of ``output`` (a model output index or name); the
    only one when the result has one."""
    labels = labels_of(result.output_names, result.targets)
    if output is None:
        if len(labels) == 1:
            return 0
        raise ValueError(
            f"output: this result has {len(labels)} outputs; pick one with output=<name or "
            f"index> (outputs: {', '.join(map(repr, labels))})"
        )
    if isinstance(output, str) and output in labels:
        return labels.index(output)
    if not isinstance(output, str) and output in list(result.targets):
        return list(result.targets).index(output)
    raise ValueError(
        f"output: {output!r} is not an output of this result (outputs: "
        f"{', '.join(map(repr, labels))}, or their indices {list(result.targets)})"
    )


def h_matrix(result: Any, t: int = 0) -> tuple[np.ndarray, list[str]]:
    """The symmetric matrix of H (the square root of H²) over ``result.features`` for output
    position ``t``: pairs off the diagonal (NaN where not computed), each feature's overall H
    on the diagonal (NaN when not computed); and the features' names."""
    position = {f: i for i, f in enumerate(result.features)}
    d = len(result.features)
    matrix = np.full((d, d), np.nan)
    h = np.sqrt(np.asarray(result.pairwise, dtype=np.float64)[:, t])
    for (a, b), value in zip(result.pairs, h, strict=True):
        matrix[position[a], position[b]] = matrix[position[b], position[a]] = value
    if result.overall is not None:
        matrix[np.diag_indices(d)] = np.sqrt(np.asarray(result.overall, dtype=np.float64)[:, t])
    return matrix, labels_of(result.feature_names, result.features, "feature")


def shap_matrix(exp: Any, output: Any = None) -> tuple[np.ndarray, list[str], str | None]:
    """The mean |interaction value| over the rows of an interaction Explanation (d x d, main
    effects on the diagonal), its features' names and the output drawn (None: the row's own
    target, named by ``exp.target``)."""
    values = np.asarray(exp.values, dtype=np.float64)
    if exp.single_row:
        values = values[None]
    d = values.shape[1]
    name = None
    if values.ndim == 4:  # an output axis: every output of the model
        outputs = outputs_of(exp, values.shape[3])
        if output is None and len(outputs) > 1:
            raise ValueError(
                f"output: these values hold {len(outputs)} outputs; pick one with "
                f"output=<name or index> (outputs: {', '.join(map(repr, outputs))})"
            )
        k = (
            0
            if output is None
            else resolve(output, exp.output_names, len(outputs), "output", what="output")
        )
        values, name = values[..., k], outputs[k]
    elif output is not None:
        raise ValueError(
            "output: these values explain one output per row (no output axis); drop output="
        )
    elif exp.target is not None and np.unique(np.ravel(exp.target)).size == 1:
        name = labels_of(exp.output_names, np.ravel(exp.target)[:1])[0]
    return np.abs(values).mean(axis=0), features_of(exp, d), name


def interactions(result: Any, max_display: int = 20, *, output: Any = None, ax: Any = None) -> Any:
    """The interaction strength of every pair of features as a symmetric heat map.

    - ``HStatistic`` (``gb.h_statistic``): Friedman's H (the square root of H²) of each pair
      off the diagonal and each feature's overall H on the diagonal (when computed); pairs not
      computed are left blank.
    - An interaction ``Explanation`` (``gb.ShapleyInteractions``, method
      "shapley_interactions"): the mean over the rows of |interaction value| of each pair, the
      main effects on the diagonal.

    The features with the strongest interactions (largest row sum) come first; each cell shows
    its value (up to 15 features); the colour scale is sequential, from 0.

    Parameters
    ----------
    result : HStatistic or Explanation of interaction values
    max_display : int, default 20
        The most features shown.
    output : int or str, optional
        The output drawn, by index or name, when the result has several.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X[:, 0] * X[:, 1] + X[:, 2], n_inputs=3)
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> ax = gb.plots.interactions(gb.h_statistic(model, X, n_samples=50))
    >>> [t.get_text() for t in ax.get_xticklabels()], ax.images[0].get_array()[0, 1].round(2)
    (['x1', 'x0', 'x2'], np.float64(0.94))
    """
    from glassbox.explanation import Explanation
    from glassbox.inspection import HStatistic

    count = check_max_display(max_display)
    if isinstance(result, HStatistic):
        t = _h_output(result, output)
        matrix, names = h_matrix(result, t)
        what = "H-statistic: pairwise H"
        what += ", overall H on the diagonal" if result.overall is not None else ""
        title = f"{what}\n({labels_of(result.output_names, result.targets)[t]})"
        colour_label = "H"
    elif isinstance(result, Explanation) and result.method in INTERACTION_METHODS:
        matrix, names, name = shap_matrix(result, output)
        title = "mean |SHAP interaction value| (main effects on the diagonal)"
        title += f"\n({name})" if name is not None else ""
        colour_label = "mean |interaction value|"
    else:
        raise TypeError(
            f"result: expected an HStatistic (gb.h_statistic) or an Explanation of interaction "
            f"values (gb.ShapleyInteractions), got {_describe(result)}; for attributions use "
            "gb.plots.beeswarm or gb.plots.bar"
        )
    order = np.argsort(-np.nansum(matrix, axis=1), kind="stable")[:count]
    shown = matrix[np.ix_(order, order)]
    ax = new_axes(ax, figsize=(1.0 + 0.5 * len(order) + 2.0, 1.0 + 0.5 * len(order) + 1.0))
    _heat_map(ax, shown, [names[i] for i in order], colour_label)
    ax.set_title(title, fontsize=10)
    return finish(ax)


def _describe(result: Any) -> str:
    method = getattr(result, "method", None)
    return f"{type(result).__name__}" + (f" of method {method!r}" if method else "")


def _heat_map(ax: Any, matrix: np.ndarray, names: list[str], label: str) -> None:
    """``matrix`` (NaN cells left blank) with a sequential colour scale from 0, the names on
    both axes, each cell's value written in it when there are few."""
    masked = np.ma.masked_invalid(matrix)
    top = float(masked.max()) if masked.count() else 1.0
    image = ax.imshow(masked, cmap=STRENGTH_CMAP, vmin=0.0, vmax=top if top > 0 else 1.0)
    positions = np.arange(len(names))
    ax.set_xticks(positions, names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(positions, names)
    ax.figure.colorbar(image, ax=ax, label=label, fraction=0.046, pad=0.04)
    if len(names) > ANNOTATED_FEATURES:
        return
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            dark = value > 0.6 * image.norm.vmax
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
