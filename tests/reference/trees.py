"""Literal predictions of a TreeEnsembleSpec: one row, one tree, one node at a time.

Written straight from the walk rule in ``glassbox/models/trees/spec.py``, in float64 except that
a row is first rounded to float32 as the compiled model sees it.
"""

from __future__ import annotations

import math

import numpy as np


def goes_left(spec, node: int, value: float) -> bool:
    """Whether a row whose split feature holds ``value`` goes to the left child of ``node``."""
    if math.isnan(value):
        return bool(spec.default_left[node])
    start = int(spec.cat_starts[node])
    if start < 0:
        return value <= float(spec.thresholds[node])
    if value < 0 or value != math.floor(value) or value >= 32 * int(spec.cat_counts[node]):
        return False
    category = int(value)
    word = int(spec.cat_bitsets[start + category // 32])
    return bool((word >> (category % 32)) & 1)


def leaf_of(spec, tree: int, row: np.ndarray) -> int:
    """The global index of the leaf ``row`` reaches in ``tree``."""
    node = int(spec.tree_offsets[tree])
    while int(spec.features[node]) >= 0:
        value = float(row[int(spec.features[node])])
        left = goes_left(spec, node, value)
        node = int(spec.children_left[node] if left else spec.children_right[node])
    return node


def margin(spec, X: np.ndarray) -> np.ndarray:
    """The raw margin, (n, n_outputs) float64."""
    X = np.asarray(X, dtype=np.float32).astype(np.float64)
    out = np.tile(np.asarray(spec.base_scores, dtype=np.float64), (len(X), 1))
    for r, row in enumerate(X):
        for t in range(spec.n_trees):
            leaf = leaf_of(spec, t, row)
            first, width = int(spec.tree_outputs[t]), int(spec.tree_widths[t])
            offset = int(spec.value_offsets[leaf])
            out[r, first : first + width] += spec.values[offset : offset + width]
    return out


def probabilities(spec, X: np.ndarray) -> np.ndarray:
    """The margin through the spec's link."""
    raw = margin(spec, X)
    if spec.link == "logistic":
        return 1.0 / (1.0 + np.exp(-raw))
    if spec.link == "softmax":
        shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return raw
