"""``lime(exp[i])``: one row of a LIME explanation as signed bars labelled with readable rules
built from the discretiser's bins (``"mean radius > 15.78"``, ``"13.37 < texture <= 16.10"``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox.plots._figure import (
    NEGATIVE,
    POSITIVE,
    check_max_display,
    features_of,
    finish,
    name_rows,
    new_axes,
)
from glassbox.tables import labels_of


def rule(name: str, value: Any, edges: Sequence[float], binned: bool, categorical: bool) -> str:
    """The rule LIME's interpretable feature stands for at the row's ``value``, as lime writes
    it (numbers ``%.2f``): the bin holding the value for a binned feature (bins are
    ``(edges[k-1], edges[k]]``, the first one open below, the last open above), ``name = value``
    for a categorical one, the bare name for a feature that is neither.

    Examples
    --------
    >>> rule("radius", 16.0, [11.7, 13.37, 15.78], True, False)
    'radius > 15.78'
    >>> rule("radius", 13.0, [11.7, 13.37, 15.78], True, False)
    '11.70 < radius <= 13.37'
    >>> rule("colour", "red", [], False, True), rule("x3", 0.4, [], False, False)
    ('colour = red', 'x3')
    """
    if categorical:
        return f"{name} = {_category(value)}"
    if not binned or not len(edges):
        return name
    # the core compares float32 values with float32 edges: the same bin here
    cuts = np.asarray(edges, dtype=np.float32)
    k = int(np.searchsorted(cuts, np.float32(value), side="left"))
    if k == 0:
        return f"{name} <= {edges[0]:.2f}"
    if k == len(edges):
        return f"{name} > {edges[-1]:.2f}"
    return f"{edges[k - 1]:.2f} < {name} <= {edges[k]:.2f}"


def _category(value: Any) -> str:
    """A category as written in a rule: integral numbers without ``.0`` (lime's codes)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def lime_rules(exp: Any) -> list[str]:
    """The rule of every feature of one LIME row (``exp.options`` records the bins; an
    explanation without them, e.g. one saved before they were recorded, gets the names)."""
    data = np.ravel(np.asarray(exp.data, dtype=object))
    names = features_of(exp, data.size)
    options = exp.options or {}
    edges = options.get("edges") or [[] for _ in names]
    binned = options.get("binned") or [False] * len(names)
    categorical = options.get("categorical") or [False] * len(names)
    return [
        rule(n, v, e, b, c)
        for n, v, e, b, c in zip(names, data, edges, binned, categorical, strict=True)
    ]


def _check_lime_row(exp: Any) -> np.ndarray:
    """The weights of one LIME row, or an error saying what to pass instead."""
    from glassbox.explanation import Explanation

    if not isinstance(exp, Explanation):
        raise TypeError(
            f"exp: expected a glassbox Explanation of gb.Lime, got {type(exp).__name__}"
        )
    if exp.method != "lime":
        raise ValueError(
            f"exp: lime() draws LIME explanations (method 'lime'), got method {exp.method!r}; "
            "use gb.plots.waterfall(exp[i]) or gb.plots.bar(exp)"
        )
    if not exp.single_row:
        raise ValueError(
            f"exp: lime() draws one row and this explanation has {len(exp)}; pass exp[i]"
        )
    values = np.asarray(exp.values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(
            f"exp: lime() draws LIME of flat rows (one weight per feature), got values of shape "
            f"{values.shape} (LIME with a feature_mask over images): use gb.plots.image(exp)"
        )
    return values


def lime(exp: Any, max_display: int = 10, *, ax: Any = None) -> Any:
    """One row of a LIME explanation: the local linear model's weights as horizontal bars.

    Each bar is a selected feature's weight (positive red, negative blue, largest |weight| on
    top), labelled with the rule its interpretable feature stands for at this row: the row's
    bin for a discretised feature (``"mean radius > 15.78"``, ``"13.37 < mean texture <=
    16.10"``, from the quartile or decile edges of the training data, as lime's ``as_list()``),
    ``"name = value"`` for a categorical one, the name otherwise. The title gives the explained
    output, the local model's intercept, its prediction at the row and its weighted R².

    Parameters
    ----------
    exp : Explanation
        One row (``exp[i]``) of a ``gb.Lime`` explanation of flat rows.
    max_display : int, default 10
        The most bars drawn (the largest |weight|); the title says how many are left out.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> model = Ridge().fit(X, y)
    >>> exp = gb.Lime(model, X, num_samples=200, num_features=3)(X[:2])
    >>> ax = gb.plots.lime(exp[0])
    >>> len(ax.patches), ax.get_yticklabels()[-1].get_text()  # ticks bottom to top: the largest
    (3, 'bmi > 0.03')
    """
    values = _check_lime_row(exp)
    count = check_max_display(max_display)
    rules = lime_rules(exp)
    chosen = np.flatnonzero(values)  # the features the selection kept (0 elsewhere)
    order = chosen[np.argsort(-np.abs(values[chosen]), kind="stable")]
    shown, left_out = order[:count], order.size - min(order.size, count)
    ax = new_axes(ax, figsize=(7.0, 0.45 * max(len(shown), 2) + 1.6))
    rows = np.arange(len(shown))[::-1]  # the largest on top
    weights = values[shown]
    ax.barh(rows, weights, color=[POSITIVE if w > 0 else NEGATIVE for w in weights])
    name_rows(ax, rows, [rules[j] for j in shown])
    ax.axvline(0.0, color="#555555", linewidth=0.8)
    ax.set_xlabel("LIME weight (local linear model, per rule that holds)")
    ax.set_title(_title(exp, left_out), fontsize=10)
    return finish(ax)


def _title(exp: Any, left_out: int) -> str:
    """What the bars explain: the output, the local model's intercept / prediction / R²."""
    parts = ["LIME"]
    if exp.target is not None:
        parts[0] += f" of {labels_of(exp.output_names, np.ravel(exp.target)[:1])[0]}"
    for label, field in (("intercept", "base_values"), ("local prediction", "local_prediction")):
        number = getattr(exp, field, None)
        if number is not None and np.size(number) == 1:
            parts.append(f"{label} {float(np.ravel(number)[0]):.4g}")
    score = getattr(exp, "score", None)
    if score is not None and np.size(score) == 1:
        parts.append(f"R² {float(np.ravel(score)[0]):.3f}")
    text = ", ".join(parts)
    return text + (f"\n({left_out} more weights not shown)" if left_out else "")
