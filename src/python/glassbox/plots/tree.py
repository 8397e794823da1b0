"""``tree``: the decision tree of a ``SurrogateTree``, with its fidelity."""

from __future__ import annotations

from typing import Any

from glassbox._names import output_labels
from glassbox.plots._figure import features_of, new_axes


def tree(result: Any, *, max_depth: int | None = None, ax: Any = None, **kwargs: Any) -> Any:
    """Draw the surrogate tree of ``result`` (scikit-learn's ``plot_tree``): each node shows its
    split with the feature's name, its training rows and its prediction (the output's name for a
    classifier); the title gives the held-out fidelity, the figure a reader must check before
    trusting the rules.

    Parameters
    ----------
    result : SurrogateTree
        From ``glassbox.surrogate_tree``.
    max_depth : int, optional
        Draw only this many levels (the whole tree by default).
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized to the tree by default.
    **kwargs
        Passed to ``sklearn.tree.plot_tree`` (e.g. ``fontsize``, ``precision``).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import glassbox as gb
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> data = load_diabetes()
    >>> model = Ridge().fit(data.data, data.target)
    >>> result = gb.surrogate_tree(model, data.data, max_depth=2, feature_names=data.feature_names)
    >>> ax = gb.plots.tree(result)
    >>> ax.get_title()
    'Surrogate regression tree (depth 2): held-out r2 0.743 on 110 rows'
    >>> [t.get_text().splitlines()[0] for t in ax.texts][:1]  # the root's split, by name
    ['s5 <= 0.002']
    """
    from glassbox.surrogate import SurrogateTree

    if not isinstance(result, SurrogateTree):
        raise TypeError(
            f"result: expected a SurrogateTree (from glassbox.surrogate_tree), got "
            f"{type(result).__name__}"
        )
    if max_depth is not None and (isinstance(max_depth, bool) or int(max_depth) < 0):
        raise ValueError(f"max_depth: expected None or an integer >= 0, got {max_depth!r}")
    from sklearn.tree import plot_tree

    fitted = result.tree
    shown = fitted.get_depth() if max_depth is None else min(int(max_depth), fitted.get_depth())
    width = min(3.0 + 1.6 * 2 ** min(shown, 5), 30.0)
    ax = new_axes(ax, figsize=(width, 1.0 + 1.6 * (shown + 1)))
    class_names = None
    if result.task == "classification":  # the tree's classes are output indices
        names = output_labels(result.output_names, int(max(fitted.classes_)) + 1)
        class_names = [names[int(c)] for c in fitted.classes_]
    plot_tree(
        fitted,
        max_depth=max_depth,
        feature_names=features_of(result, fitted.n_features_in_),
        class_names=class_names,
        filled=True,
        impurity=False,
        rounded=True,
        ax=ax,
        **kwargs,
    )
    ax.set_title(
        f"Surrogate {result.task} tree (depth {fitted.get_depth()}): held-out "
        f"{result.fidelity_metric} {result.fidelity:.3f} on {result.n_test} rows"
    )
    return ax
