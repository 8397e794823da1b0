"""Reading a booster's model dump (XGBoost JSON, LightGBM ``dump_model()``) into spec arrays.

A dump may come from a file, so it is untrusted: every field is read through ``field`` /
``numbers``, which raise a ValueError naming the path of a missing or malformed entry, and each
tree's children are checked to form one tree before it is added. ``TreeBuilder`` concatenates
per-tree local arrays into the flat arrays of a ``TreeEnsembleSpec``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox.models.trees.spec import TreeEnsembleSpec

#: the largest category a bitset may hold (a dump with a larger one is rejected: its bitset
#: would take megabytes per node)
MAX_CATEGORY = 1 << 20


def field(obj: Any, key: str | int, where: str, kind: type | tuple[type, ...] | None = None) -> Any:
    """``obj[key]``, or a ValueError naming ``where`` when it is absent or not of ``kind``."""
    try:
        value = obj[key]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"malformed model dump: {where} has no entry {key!r}") from None
    if kind is not None and not isinstance(value, kind):
        raise ValueError(
            f"malformed model dump: {where}[{key!r}] should be {_kind_name(kind)}, "
            f"got {type(value).__name__}"
        )
    return value


def numbers(values: Any, where: str, dtype: Any, size: int | None = None) -> np.ndarray:
    """A list of numbers as an array of ``dtype``, or a ValueError naming ``where``."""
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"malformed model dump: {where} should be a list of numbers")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"malformed model dump: {where} holds something other than numbers"
        ) from None
    if array.ndim != 1 or (size is not None and len(array) != size):
        expected = "a flat list" if size is None else f"{size} numbers"
        raise ValueError(
            f"malformed model dump: {where} should be {expected}, got shape {array.shape}"
        )
    if np.dtype(dtype).kind in "iu":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(f"malformed model dump: {where} should hold whole numbers")
        if np.any(np.abs(array) >= 2**62):
            raise ValueError(f"malformed model dump: {where} holds out-of-range integers")
    return array.astype(dtype)


def integer(value: Any, where: str) -> int:
    """A whole number given as a number or a string (XGBoost writes its parameters as text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"malformed model dump: {where} should be a whole number, got {value!r}"
        ) from None
    if not np.isfinite(number) or number != int(number):
        raise ValueError(f"malformed model dump: {where} should be a whole number, got {value!r}")
    return int(number)


def float32_below(thresholds: np.ndarray) -> np.ndarray:
    """For a library going left when ``x < t`` (float32 ``t``): the float32 just below ``t``, so
    that ``x <= result`` exactly when ``x < t`` for float32 ``x``.

    >>> float32_below(np.array([1.0], dtype=np.float32))
    array([0.99999994], dtype=float32)
    """
    t32 = np.asarray(thresholds, dtype=np.float32)
    return np.nextafter(t32, np.float32(-np.inf))


def float32_not_above(thresholds: np.ndarray) -> np.ndarray:
    """For a library going left when ``x <= t`` (float64 ``t``): the largest float32 not above
    ``t``, so that ``x <= result`` exactly when ``x <= t`` for float32 ``x``.

    >>> float32_not_above(np.array([0.1]))
    array([0.09999999], dtype=float32)
    """
    t64 = np.asarray(thresholds, dtype=np.float64)
    with np.errstate(over="ignore"):
        t32 = t64.astype(np.float32)
    above = t32.astype(np.float64) > t64
    return np.where(above, np.nextafter(t32, np.float32(-np.inf)), t32).astype(np.float32)


def bitset(categories: np.ndarray, where: str) -> np.ndarray:
    """The spec bitset (uint32 words, bit ``c % 32`` of word ``c // 32``) of whole categories."""
    categories = np.asarray(categories, dtype=np.int64)
    if np.any(categories < 0) or np.any(categories >= MAX_CATEGORY):
        raise ValueError(
            f"malformed model dump: {where} holds a category outside [0, {MAX_CATEGORY})"
        )
    words = np.zeros(int(categories.max(initial=0)) // 32 + 1, np.uint32)
    np.bitwise_or.at(
        words, categories // 32, np.left_shift(np.uint32(1), (categories % 32).astype(np.uint32))
    )
    return words


def check_tree(
    left: np.ndarray, right: np.ndarray, features: np.ndarray, n_features: int, where: str
) -> None:
    """Children (-1 at leaves, both or neither) must reach every node exactly once from node 0,
    and internal nodes split on a feature in ``[0, n_features)``."""
    n = len(left)
    if n == 0:
        raise ValueError(f"malformed model dump: {where} has no nodes")
    if np.any((left < 0) != (right < 0)):
        raise ValueError(f"malformed model dump: {where} has a node with only one child")
    children = np.concatenate([left[left >= 0], right[right >= 0]])
    if np.any(children >= n) or np.any(children == 0):
        raise ValueError(f"malformed model dump: {where} has a child index outside 1..{n - 1}")
    if len(children) != n - 1 or len(np.unique(children)) != n - 1:
        raise ValueError(
            f"malformed model dump: {where} is not a tree (a node has two parents or none)"
        )
    split = features[left >= 0]
    if np.any(split < 0) or np.any(split >= n_features):
        raise ValueError(
            f"malformed model dump: {where} splits on a feature outside 0..{n_features - 1}"
        )


class TreeBuilder:
    """Appends trees (local node arrays) into the flat arrays of a ``TreeEnsembleSpec``."""

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
        output: int,
        cat_words: dict[int, np.ndarray],
    ) -> None:
        """One tree: local children (-1 at leaves), float32 thresholds, ``leaf_values`` (one row
        of ``width`` values per node, read at leaves) and the bitsets of categorical nodes."""
        n = len(left)
        base = self.offsets[-1]
        leaf = np.asarray(left) < 0
        width = leaf_values.shape[1]
        self._put("left", np.where(leaf, -1, left + base).astype(np.int32))
        self._put("right", np.where(leaf, -1, right + base).astype(np.int32))
        self._put("features", np.where(leaf, -1, features).astype(np.int32))
        self._put("thresholds", np.where(leaf, 0, thresholds).astype(np.float32))
        self._put("default_left", np.asarray(default_left, dtype=bool) & ~leaf)
        self._put("covers", np.asarray(covers, dtype=np.float64))
        offsets = np.full(n, -1, np.int64)
        offsets[leaf] = self.n_values + width * np.arange(int(leaf.sum()))
        self._put("value_offsets", offsets)
        self._put("values", np.asarray(leaf_values, np.float64)[leaf].ravel())
        self.n_values += width * int(leaf.sum())
        starts, counts = np.full(n, -1, np.int64), np.zeros(n, np.int32)
        for node, words in sorted(cat_words.items()):
            starts[node], counts[node] = self.n_words, len(words)
            self._put("cat_bitsets", words)
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

        if len(self.outputs) == 0:
            raise ValueError("the model has no trees: fit it (or keep at least one iteration)")
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


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {"dict": "an object", "list": "a list", "str": "a string"}.get(k.__name__, k.__name__)
        for k in kinds
    )
