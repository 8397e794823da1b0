"""Reading a booster's model dump (XGBoost JSON, LightGBM ``dump_model()``) into spec arrays.

A dump may come from a file, so it is untrusted: every field is read through ``field`` /
``numbers``, which raise a ValueError naming the path of a missing or malformed entry, and each
tree is checked (one tree, features in range, finite values) by ``add_tree`` before it joins the
flat arrays (``_build.SpecBuilder``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox.models.trees._build import SpecBuilder

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


def add_tree(builder: SpecBuilder, *, n_features: int, where: str, **tree: Any) -> None:
    """Check one tree read from a dump (shape, features, finite values) and append it;
    ``tree`` holds ``SpecBuilder.add``'s arguments (local children, -1 at leaves; leaf values,
    one row per node, read at leaves; the bitsets of categorical nodes by node)."""
    left = np.asarray(tree["left"])
    check_tree(left, np.asarray(tree["right"]), np.asarray(tree["features"]), n_features, where)
    leaf = left < 0
    values, covers = np.asarray(tree["leaf_values"]), np.asarray(tree["covers"])
    if not (np.all(np.isfinite(values[leaf])) and np.all(np.isfinite(covers))):
        raise ValueError(f"malformed model dump: {where} has a non-finite leaf value or cover")
    builder.add(**{**tree, "features": np.where(leaf, -1, tree["features"])})


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {"dict": "an object", "list": "a list", "str": "a string"}.get(k.__name__, k.__name__)
        for k in kinds
    )
