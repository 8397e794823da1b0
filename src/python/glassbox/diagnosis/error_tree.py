"""The error tree: a shallow decision tree fitted to where the model fails (the 0/1 error
indicator, or |residual| for regression), read as rules with each leaf's error rate and its
share of all errors, as Microsoft's Error Analysis shows it. scikit-learn is an optional
dependency, imported lazily."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassbox.tables import Tabular, pandas, tree_leaves


@dataclass(frozen=True)
class ErrorTree(Tabular):
    """A decision tree of where the errors are.

    Attributes
    ----------
    tree : sklearn.tree.DecisionTreeClassifier or DecisionTreeRegressor, or None
        Fitted to the error indicator (classification) or |residual| (regression) on the
        columns ``used`` of X; None when there was nothing to fit (``note`` says why).
    rules : list of str
        Each leaf's conditions joined by " and ", in the tree's order (left first).
    n : ndarray of int64
        Rows in each leaf.
    error : ndarray
        Each leaf's error rate (or mean |residual|).
    error_share : ndarray
        Each leaf's share of all errors (of the summed |residual| for regression).
    overall : float
        The error rate (or mean |residual|) of all rows.
    metric : str
        ``"error_rate"`` or ``"mean_abs_residual"``.
    feature, threshold : str or None, float
        The root's split (None: the tree is one leaf): rows with ``feature <= threshold`` go
        left.
    used : list of int
        The columns of X the tree may split on.
    note : str
        Why the tree is empty or what was left out ("" when nothing).
    feature_names : list of str
        The tree's features, in its column order: the numeric columns of ``used`` by name, then
        one 0/1 indicator per category of each non-numeric DataFrame column, named
        "column = value" (a split on it reads "column = value" / "column != value").
    """

    tree: Any
    rules: list[str]
    conditions: list[list[str]]
    n: np.ndarray
    error: np.ndarray
    error_share: np.ndarray
    overall: float
    metric: str
    feature: str | None
    threshold: float
    used: list[int]
    note: str = ""
    feature_names: list[str] | None = None

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per leaf, in the tree's order: ``rule``, ``n``, ``error_rate`` (or
        ``mean_abs_residual``) and ``error_share``."""
        return pandas().DataFrame(
            {
                "rule": self.rules,
                "n": self.n,
                self.metric: self.error,
                "error_share": self.error_share,
            }
        )

    def __str__(self) -> str:
        what = "error rate" if self.metric == "error_rate" else "mean |residual|"
        share = "errors" if self.metric == "error_rate" else "summed |residual|"
        overall = _rate(self.overall, self.metric)
        head = f"Error tree ({len(self.rules)} leaves; overall {what} {overall})"
        if self.note:
            head += f"\n({self.note})"
        lines = [head]
        previous: list[str] = []
        for conditions, n, error, part in zip(
            self.conditions, self.n, self.error, self.error_share, strict=True
        ):
            # leaves come depth first: the prefix shared with the leaf before is printed already
            shared = 0
            while shared < min(len(previous), len(conditions)) and (
                previous[shared] == conditions[shared]
            ):
                shared += 1
            for level in range(shared, len(conditions)):
                lines.append("|   " * level + f"|--- {conditions[level]}")
            lines.append(
                "|   " * len(conditions) + f"leaf: {n} rows, {what} "
                f"{_rate(error, self.metric)}, {part:.1%} of {share}"
            )
            previous = conditions
        return "\n".join(lines)


def _rate(value: float, metric: str) -> str:
    return f"{value:.1%}" if metric == "error_rate" else f"{value:.4g}"


def error_tree(
    batch: np.ndarray,
    error: np.ndarray,
    names: list[str],
    metric: str,
    *,
    used: list[int],
    max_depth: int,
    min_size: int,
    seed: int,
    note: str = "",
    categories: list[tuple[int, float, str]] = (),  # type: ignore[assignment]
) -> ErrorTree:
    """Fit the tree to ``error`` (0/1, or |residual|) on the numeric columns ``used`` of
    ``batch`` and on indicators of ``categories``: (column, code, "name = value") each."""
    try:
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    except ImportError as missing:
        raise ImportError("diagnose needs scikit-learn: pip install scikit-learn") from missing
    total = float(error.sum())
    overall = float(error.mean())
    columns_used = sorted({*used, *(j for j, _, _ in categories)})
    if not columns_used or total == 0:
        why = "no feature to split on" if not columns_used else "no errors to locate"
        n = np.array([error.size], np.int64)
        return ErrorTree(
            None,
            ["(all rows)"],
            [[]],
            n,
            np.array([overall]),
            np.array([1.0 if total else 0.0]),
            overall,
            metric,
            None,
            np.nan,
            columns_used,
            "; ".join(filter(None, [note, why])),
        )
    classify = metric == "error_rate"
    kind = DecisionTreeClassifier if classify else DecisionTreeRegressor
    tree = kind(max_depth=max_depth, min_samples_leaf=min_size, random_state=seed)
    indicators = [(batch[:, j] == code).astype(np.float32) for j, code, _ in categories]
    columns = np.column_stack([batch[:, used], *indicators]) if indicators else batch[:, used]
    tree.fit(columns, error.astype(np.int64) if classify else error)
    structure = tree.tree_
    labels = [names[j] for j in used] + [label for _, _, label in categories]
    of_column = [None] * len(used) + [names[j] for j, _, _ in categories]
    leaves, conditions = tree_leaves(structure, labels, of_column)
    # the leaves' figures from the rows themselves (a classifier's node values are fractions)
    position = np.zeros(structure.node_count, dtype=np.int64)
    position[leaves] = np.arange(len(leaves))
    leaf_of = position[tree.apply(columns)]
    n = np.bincount(leaf_of, minlength=len(leaves)).astype(np.int64)
    sums = np.bincount(leaf_of, weights=error, minlength=len(leaves))
    root = structure.feature[0]
    split = root >= 0 and structure.children_left[0] >= 0
    return ErrorTree(
        tree=tree,
        rules=[" and ".join(path) or "(all rows)" for path in conditions],
        conditions=conditions,
        n=n,
        error=sums / np.maximum(n, 1),
        error_share=sums / total,
        overall=overall,
        metric=metric,
        feature=labels[root] if split else None,
        threshold=float(structure.threshold[0]) if split else np.nan,
        used=columns_used,
        note=note,
        feature_names=labels,
    )
