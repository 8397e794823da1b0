"""Building a ``TreeEnsembleSpec``: trees appended one by one (local node arrays) into the flat
arrays (``SpecBuilder``), and float64 thresholds as the float32 the spec's walk compares with
(``float32_floor``). Every tree adapter (scikit-learn, XGBoost, LightGBM) builds through it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from glassbox.models.trees.spec import TreeEnsembleSpec


def float32_floor(thresholds: np.ndarray) -> np.ndarray:
    """The largest float32 not above each float64 threshold: ``x32 <= t`` exactly when
    ``x32 <= float32_floor(t)`` for finite ``x32`` (an infinite threshold, scikit-learn's split
    of missing from present values, becomes the largest finite float32: glassbox rows are
    finite).

    >>> float32_floor(np.array([0.1, 0.5]))
    array([0.09999999, 0.5       ], dtype=float32)
    """
    limit = float(np.finfo(np.float32).max)
    t64 = np.clip(np.asarray(thresholds, dtype=np.float64), -limit, limit)
    t32 = t64.astype(np.float32)
    above = t32.astype(np.float64) > t64
    return np.where(above, np.nextafter(t32, np.float32(-np.inf)), t32).astype(np.float32)


class SpecBuilder:
    """Appends trees (local node arrays) into the flat spec arrays."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}
        self.offsets = [0]
        self.outputs: list[int] = []
        self.widths: list[int] = []
        self.n_values = 0
        self.n_words = 0

    def add(
        self,
        *,
        left: np.ndarray,
        right: np.ndarray,
        features: np.ndarray,
        thresholds: np.ndarray,
        default_left: np.ndarray,
        covers: np.ndarray,
        leaf_values: np.ndarray,
        output: int = 0,
        cat_words: Mapping[int, np.ndarray] | None = None,
    ) -> None:
        """One tree: local children (-1 at leaves), features (< 0 at leaves), float32
        thresholds, leaf_values (n_nodes, width) read at leaves, the bitsets of categorical
        nodes by (local) node."""
        n = len(features)
        base = self.offsets[-1]
        leaf = np.asarray(features) < 0
        width = leaf_values.shape[1]
        self._put("left", np.where(leaf, -1, np.asarray(left) + base).astype(np.int32))
        self._put("right", np.where(leaf, -1, np.asarray(right) + base).astype(np.int32))
        self._put("features", np.where(leaf, -1, features).astype(np.int32))
        self._put("thresholds", np.where(leaf, 0, thresholds).astype(np.float32))
        self._put("default_left", np.asarray(default_left, dtype=bool) & ~leaf)
        self._put("covers", np.asarray(covers, dtype=np.float64))
        n_leaves = int(leaf.sum())
        offsets = np.full(n, -1, np.int64)
        offsets[leaf] = self.n_values + width * np.arange(n_leaves)
        self._put("value_offsets", offsets)
        self._put("values", np.asarray(leaf_values, np.float64)[leaf].ravel())
        self.n_values += width * n_leaves
        starts, counts = np.full(n, -1, np.int64), np.zeros(n, np.int32)
        for i, words in sorted((cat_words or {}).items()):
            starts[i], counts[i] = self.n_words, len(words)
            self._put("cat_bitsets", np.asarray(words, np.uint32))
            self.n_words += len(words)
        self._put("cat_starts", starts)
        self._put("cat_counts", counts)
        self.offsets.append(base + n)
        self.outputs.append(output)
        self.widths.append(width)

    def _put(self, name: str, array: np.ndarray) -> None:
        self.parts.setdefault(name, []).append(array)

    def spec(self, n_features: int, base_scores: Any, **fields: Any) -> TreeEnsembleSpec:
        def cat(name: str, dtype: Any) -> np.ndarray:
            return np.concatenate(self.parts.get(name, [np.zeros(0, dtype)])).astype(dtype)

        base = np.asarray(base_scores, dtype=np.float64).ravel()
        return TreeEnsembleSpec(
            n_features=int(n_features),
            n_outputs=len(base),
            tree_offsets=np.asarray(self.offsets, np.int64),
            tree_outputs=np.asarray(self.outputs, np.int32),
            tree_widths=np.asarray(self.widths, np.int32),
            children_left=cat("left", np.int32),
            children_right=cat("right", np.int32),
            features=cat("features", np.int32),
            thresholds=cat("thresholds", np.float32),
            default_left=cat("default_left", np.bool_),
            cat_starts=cat("cat_starts", np.int64),
            cat_counts=cat("cat_counts", np.int32),
            cat_bitsets=cat("cat_bitsets", np.uint32),
            covers=cat("covers", np.float64),
            value_offsets=cat("value_offsets", np.int64),
            values=cat("values", np.float64),
            base_scores=base,
            **fields,
        )


__all__ = ["SpecBuilder", "float32_floor"]
