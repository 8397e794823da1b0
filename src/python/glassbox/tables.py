"""Results as pandas DataFrames: the builders behind every result's ``to_frame()`` (and its
alias ``to_pandas()``). pandas is optional: it is imported when a table is built.

Two layouts (docs/methods.md, "Names and tables"): ``"wide"`` (the default) has one row per
natural unit (an explained row, a feature, a grid point, a pair) and a column per name;
``"long"`` (tidy) has one row per value, with the names in columns (``feature``, ``output``, ...).
Unnamed features and outputs get the default names of ``glassbox._names``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox._names import feature_labels, output_labels, position_labels
from glassbox._validation import check_choice

#: The layouts of ``to_frame(kind=...)``.
KINDS = ("wide", "long")


def pandas() -> Any:
    """The pandas module, or an ImportError saying how to install it."""
    try:
        import pandas
    except ImportError as error:
        raise ImportError("to_frame() / to_pandas() need pandas: pip install pandas") from error
    return pandas


def aligned_lines(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """``header`` and ``rows`` (cells already as text) as lines of aligned columns separated by
    two spaces: the first ``left`` columns left-aligned (names), the rest right-aligned
    (numbers). The text form of a result's table (``print(result)``).

    >>> print("\\n".join(aligned_lines(["layer", "params"], [["fc1", "40"], ["out", "3"]])))
    layer  params
    fc1        40
    out         3
    """
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    return [
        "  ".join(
            cell.ljust(width) if c < left else cell.rjust(width)
            for c, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in [header, *rows]
    ]


class Tabular:
    """What every result type shares: ``to_pandas`` is ``to_frame``; ``plot`` draws it."""

    def to_frame(self, kind: str = "wide") -> Any:  # pragma: no cover - each result has its own
        raise NotImplementedError

    def to_pandas(self, kind: str = "wide") -> Any:
        """The same DataFrame as ``to_frame(kind)`` (pandas' name for the conversion)."""
        return self.to_frame(kind)

    def plot(self, **kwargs: Any) -> Any:
        """The usual plot of this result (``glassbox.plots.plot``; needs matplotlib): returns
        the matplotlib Axes (or Figure); ``kwargs`` go to the plot."""
        from glassbox import plots

        return plots.plot(self, **kwargs)


def _pick(labels: Sequence[str], codes: np.ndarray) -> np.ndarray:
    """``labels[codes]`` as an object array of str (a column of names)."""
    return np.asarray(list(labels), dtype=object)[codes]


def labels_of(
    names: Sequence[str] | None, indices: Sequence[int] | np.ndarray, what: str = "output"
) -> list[str]:
    """The names of the outputs (or features) ``indices`` among ``names`` (the defaults when
    unnamed)."""
    picked = [int(i) for i in np.ravel(indices)]
    count = len(names) if names is not None else max(picked, default=-1) + 1
    labels = (output_labels if what == "output" else feature_labels)(names, count)
    return [labels[i] for i in picked]


#: ``Explanation.method`` of values with a pair of feature axes (interaction values).
INTERACTION_METHODS = ("shapley_interactions",)


def value_axes(exp: Any) -> list[tuple[str, list[str]]]:
    """The named axes of one row of an Explanation's values, in order: ``("feature", names of the
    sample's flat positions)`` (or ``("feature_1", names), ("feature_2", names)`` for interaction
    values), then ``("output", names)`` when values hold every output (a trailing axis)."""
    shape = np.shape(exp.values)[0 if exp.single_row else 1 :]
    sample_ndim = np.ndim(exp.data) - (0 if exp.single_row else 1)
    if exp.method in INTERACTION_METHODS:
        names = feature_labels(exp.feature_names, shape[0])
        axes = [("feature_1", names), ("feature_2", names)]
        rest = shape[2:]
    else:
        sample = shape[:-1] if len(shape) == sample_ndim + 1 else shape
        axes = [("feature", position_labels(exp.feature_names, sample))]
        rest = shape[len(sample) :]
    if rest:
        axes.append(("output", output_labels(exp.output_names, rest[0])))
    return axes


def explanation_frame(exp: Any, kind: str) -> Any:
    """An Explanation's table (see ``Explanation.to_frame``)."""
    kind = check_choice(kind, "kind", KINDS)
    pd = pandas()
    axes = value_axes(exp)
    sizes = [len(labels) for _, labels in axes]
    values, data = np.asarray(exp.values), np.asarray(exp.data)
    n = 1 if exp.single_row else values.shape[0]
    values = values.reshape(n, -1)
    if kind == "wide":
        columns: Any = axes[0][1]
        if len(axes) > 1:
            columns = pd.MultiIndex.from_product([a[1] for a in axes], names=[a[0] for a in axes])
        frame = pd.DataFrame(values, columns=columns)
        frame.index.name = "row"
        return frame
    width = values.shape[1]
    table: dict[str, Any] = {"row": np.repeat(np.arange(n), width)}
    for (name, labels), index in zip(axes, np.indices(sizes).reshape(len(sizes), -1), strict=True):
        table[name] = _pick(labels, np.tile(index, n))
    if "output" not in table and exp.target is not None:
        named = labels_of(exp.output_names, np.reshape(exp.target, n))
        table["output"] = np.repeat(np.asarray(named, dtype=object), width)
    if exp.tokens is not None:  # each flat position's token (T tokens, D values each)
        per_token = np.arange(width) // (width // len(exp.tokens[0]))
        table["token"] = np.array([row[j] for row in exp.tokens for j in per_token], dtype=object)
    table["value"] = values.reshape(-1)
    p = sizes[0]
    if axes[0][0] == "feature" and data.size == n * p:  # a data value per feature, not group
        table["data"] = np.repeat(data.reshape(n, p), width // p, axis=1).reshape(-1)
    if exp.stderr is not None and np.size(exp.stderr) == values.size:
        table["stderr"] = np.asarray(exp.stderr).reshape(-1)
    return pd.DataFrame(table)


def importance_frame(result: Any, kind: str) -> Any:
    """A PermutationImportance's table (see ``PermutationImportance.to_frame``)."""
    kind = check_choice(kind, "kind", KINDS)
    pd = pandas()
    names = result.group_names or ["+".join(map(str, g)) for g in result.groups]
    if kind == "wide":
        return pd.DataFrame(
            {
                "feature": names,
                "importances_mean": result.importances_mean,
                "importances_std": result.importances_std,
            }
        )
    groups, repeats = np.asarray(result.importances).shape
    return pd.DataFrame(
        {
            "feature": _pick(names, np.repeat(np.arange(groups), repeats)),
            "repeat": np.tile(np.arange(repeats), groups),
            "importance": np.asarray(result.importances).reshape(-1),
        }
    )


def grid_frame(
    result: Any,
    axes: Sequence[np.ndarray],
    kind: str,
    curves: dict[str, np.ndarray | None],
) -> Any:
    """The table of effects on a grid (partial dependence, ALE): ``axes`` are the grid values of
    ``result.features``; ``curves`` maps a column name to (targets, *grid) averages or
    (targets, rows, *grid) per-row curves ("individual"), None where absent. Wide: one row per
    grid point, a column per feature and per output (the first curve). Long: one row per (output,
    [row,] grid point) with every curve as a column."""
    kind = check_choice(kind, "kind", KINDS)
    pd = pandas()
    names = labels_of(result.feature_names, result.features, "feature")
    outputs = labels_of(result.output_names, result.targets)
    mesh = [m.ravel() for m in np.meshgrid(*axes, indexing="ij")]
    points = mesh[0].size
    present = {name: np.asarray(c) for name, c in curves.items() if c is not None}
    if kind == "wide":
        first = [c for c in present.values() if c.ndim == len(axes) + 1]
        if not first:
            raise ValueError(
                "kind: 'wide' tables the average curve, and this result has only individual "
                "curves; use to_frame('long')"
            )
        columns = dict(zip(names, mesh, strict=True))
        columns.update({out: first[0][t].ravel() for t, out in enumerate(outputs)})
        return pd.DataFrame(columns)
    individual = present.get("individual")
    rows = 1 if individual is None else individual.shape[1]
    per_output = rows * points
    columns = {"output": _pick(outputs, np.repeat(np.arange(len(outputs)), per_output))}
    if individual is not None:
        columns["row"] = np.tile(np.repeat(np.arange(rows), points), len(outputs))
    columns.update(
        {name: np.tile(axis, rows * len(outputs)) for name, axis in zip(names, mesh, strict=True)}
    )
    for name, curve in present.items():
        flat = curve.reshape(len(outputs), -1, points)  # one curve per output, or per row too
        columns[name] = np.broadcast_to(flat, (len(outputs), rows, points)).reshape(-1)
    return pd.DataFrame(columns)


def pairs_frame(result: Any, kind: str, which: str) -> Any:
    """An HStatistic's table (see ``HStatistic.to_frame``)."""
    kind = check_choice(kind, "kind", KINDS)
    which = check_choice(which, "which", ("pairs", "overall"))
    pd = pandas()
    outputs = labels_of(result.output_names, result.targets)
    if which == "pairs":
        firsts, seconds = zip(*result.pairs, strict=True)
        keys = {
            "feature_1": labels_of(result.feature_names, firsts, "feature"),
            "feature_2": labels_of(result.feature_names, seconds, "feature"),
        }
        table = np.asarray(result.pairwise)
    else:
        if result.overall is None:
            raise ValueError(
                "which: this result has no overall H² (pairs were asked for); use which='pairs'"
            )
        keys = {"feature": labels_of(result.feature_names, result.features, "feature")}
        table = np.asarray(result.overall)
    if kind == "wide":
        return pd.DataFrame({**keys, **{out: table[:, t] for t, out in enumerate(outputs)}})
    n, k = table.shape
    columns = {key: _pick(values, np.repeat(np.arange(n), k)) for key, values in keys.items()}
    columns["output"] = _pick(outputs, np.tile(np.arange(k), n))
    columns["h2"] = table.reshape(-1)
    return pd.DataFrame(columns)


def tree_leaves(
    structure: Any, labels: Sequence[str], indicators: Sequence[str | None] = ()
) -> tuple[list[int], list[list[str]]]:
    """The leaves of a scikit-learn ``tree_`` (depth first, left first) and each one's path of
    conditions ("name <= threshold" / "name > threshold", ``labels`` naming its features).
    ``indicators[j]``, when given and not None, makes feature j a 0/1 indicator of the category
    ``labels[j]`` ("city = B") of column ``indicators[j]`` ("city"): its conditions read
    "city = B" and "city != B"."""
    leaves, paths = [], []
    stack: list[tuple[int, list[str]]] = [(0, [])]
    while stack:
        node, conditions = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left < 0:
            leaves.append(int(node))
            paths.append(conditions)
            continue
        feature = int(structure.feature[node])
        name, threshold = labels[feature], float(structure.threshold[node])
        if feature < len(indicators) and indicators[feature] is not None:
            yes, no = name, name.replace(" = ", " != ", 1)
        else:
            yes, no = f"{name} > {threshold:.6g}", f"{name} <= {threshold:.6g}"
        stack.append((right, [*conditions, yes]))
        stack.append((left, [*conditions, no]))
    return leaves, paths


def surrogate_frame(result: Any, kind: str) -> Any:
    """A SurrogateTree's table (see ``SurrogateTree.to_frame``)."""
    kind = check_choice(kind, "kind", ("rules", "importances"))
    pd = pandas()
    tree = result.tree
    labels = feature_labels(result.feature_names, int(tree.n_features_in_))
    if kind == "importances":
        return pd.DataFrame({"feature": labels, "importance": tree.feature_importances_})
    structure = tree.tree_
    leaves, paths = tree_leaves(structure, labels)
    rules = [" and ".join(conditions) or "(all rows)" for conditions in paths]
    columns: dict[str, Any] = {
        "rule": rules,
        "n_samples": structure.n_node_samples[leaves],
    }
    value = structure.value[leaves]  # (leaves, tree outputs, classes or 1)
    if result.task == "classification":
        classes = tree.classes_[value[:, 0].argmax(axis=1)]  # argmax output indices
        columns["prediction"] = labels_of(result.output_names, classes)
    else:
        mimicked = [result.target] if result.target is not None else list(range(value.shape[1]))
        for column, out in zip(
            value[:, :, 0].T, labels_of(result.output_names, mimicked), strict=True
        ):
            columns[out] = column
    return pd.DataFrame(columns)
