"""Tree ensembles built by hand for tests: ``chain_spec``, one tree of splits in a chain."""

from __future__ import annotations

import numpy as np

from glassbox.models.trees.spec import TreeEnsembleSpec


def chain_spec(depth: int, n_features: int = 1) -> TreeEnsembleSpec:
    """One tree of ``depth`` splits, each with a leaf on its right; split i is on feature
    i % n_features (so with n_features >= depth the deepest leaf has ``depth`` path features)."""
    n = 2 * depth + 1
    internal = np.arange(0, 2 * depth, 2)
    left = np.full(n, -1, np.int32)
    right = np.full(n, -1, np.int32)
    left[internal], right[internal] = internal + 2, internal + 1
    features = np.full(n, -1, np.int32)
    features[internal] = np.arange(depth) % n_features
    leaf = features < 0
    offsets = np.full(n, -1, np.int64)
    offsets[leaf] = np.arange(leaf.sum())
    return TreeEnsembleSpec(
        n_features=n_features,
        n_outputs=1,
        tree_offsets=np.array([0, n], np.int64),
        tree_outputs=np.zeros(1, np.int32),
        tree_widths=np.ones(1, np.int32),
        children_left=left,
        children_right=right,
        features=features,
        thresholds=np.where(leaf, 0, -np.arange(n, dtype=np.float32)).astype(np.float32),
        default_left=np.zeros(n, bool),
        cat_starts=np.full(n, -1, np.int64),
        cat_counts=np.zeros(n, np.int32),
        cat_bitsets=np.zeros(0, np.uint32),
        covers=np.ones(n),
        value_offsets=offsets,
        values=np.arange(leaf.sum(), dtype=np.float64),
        base_scores=np.zeros(1),
    )
