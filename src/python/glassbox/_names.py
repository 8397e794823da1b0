"""Names of features and outputs: the defaults every conversion uses for unnamed ones, and the
one resolution of a ``features=`` / ``target=`` value (an index or a name) to an index.

Defaults (docs/methods.md, "Names and tables"): feature ``j`` of flat rows is ``"x{j}"``; a
position of a multi-axis sample (an image (C, H, W)) is ``"x{i}_{j}_{k}"`` (its indices in the
sample); output ``k`` is ``"output {k}"``. A name given as a string is looked up among the names
(or, for unnamed features / outputs, among these defaults).
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Sequence

import numpy as np

#: How many available names an error message lists before eliding the rest.
LISTED_NAMES = 12


def feature_labels(names: Sequence[str] | None, n: int) -> list[str]:
    """The names of ``n`` flat features: ``names`` when there are ``n`` of them, else x0, x1, ...

    Examples
    --------
    >>> feature_labels(None, 3), feature_labels(["a", "b"], 2)
    (['x0', 'x1', 'x2'], ['a', 'b'])
    """
    if names is not None and len(names) == n:
        return [str(name) for name in names]
    return [f"x{j}" for j in range(n)]


def position_labels(names: Sequence[str] | None, shape: Sequence[int]) -> list[str]:
    """The names of the flat positions of one sample of ``shape``: ``names`` when they name every
    position, else ``"x{j}"`` for one axis and the sample's indices joined by ``_`` for several
    (position (c, h, w) of an image is ``"x{c}_{h}_{w}"``), in C (row-major) order.

    Examples
    --------
    >>> position_labels(None, (2, 1, 2))
    ['x0_0_0', 'x0_0_1', 'x1_0_0', 'x1_0_1']
    """
    size = int(np.prod(shape, dtype=np.int64))
    if len(shape) <= 1 or (names is not None and len(names) == size):
        return feature_labels(names, size)
    return ["x" + "_".join(map(str, index)) for index in np.ndindex(*shape)]


def output_labels(names: Sequence[str] | None, n: int) -> list[str]:
    """The names of ``n`` outputs: ``names`` when there are ``n`` of them, else "output 0", ...

    Examples
    --------
    >>> output_labels(None, 2)
    ['output 0', 'output 1']
    """
    if names is not None and len(names) == n:
        return [str(name) for name in names]
    return [f"output {k}" for k in range(n)]


def is_name(value: object) -> bool:
    """Whether ``value`` is a name (a str, or a NumPy string scalar), not an index."""
    return isinstance(value, (str, np.str_))


def resolve(
    value: object,
    names: Sequence[str] | None,
    n: int,
    argument: str,
    *,
    what: str = "feature",
    negative: bool = True,
) -> int:
    """The index in [0, n) of ``value``: an integer index (negative ones count from the end when
    ``negative``) or a name among ``names`` (the defaults when None). ``argument`` names the
    argument in errors; ``what`` is "feature" or "output" (which defaults apply).

    A name that is not there is a ValueError listing the closest names (difflib) and the
    available ones.

    Examples
    --------
    >>> resolve("b", ["a", "b"], 2, "features"), resolve(-1, None, 3, "features")
    (1, 2)
    >>> resolve("output 1", None, 2, "target", what="output")
    1
    """
    low = -n if negative else 0
    if is_name(value):
        labels = (feature_labels if what == "feature" else output_labels)(names, n)
        key = str(value)
        if key in labels:
            return labels.index(key)
        raise ValueError(unknown_name(argument, what, key, labels))
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{argument}: expected {what} names or indices (integers between {low} and {n - 1}), "
            f"got {type(value).__name__} {value!r}"
        )
    index = int(value)
    if not low <= index < n:
        raise ValueError(
            f"{argument}: {what} {index} is out of range for {n} {what}s (expected a name or an "
            f"integer between {low} and {n - 1})"
        )
    return index % n


def unknown_name(argument: str, what: str, key: str, labels: Sequence[str]) -> str:
    """The message for a name that is not among ``labels``: close matches, then what there is."""
    close = difflib.get_close_matches(key, labels, n=3, cutoff=0.8)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(map(repr, labels[:LISTED_NAMES]))
    more = f", ... ({len(labels)} in all)" if len(labels) > LISTED_NAMES else ""
    return f"{argument}: no {what} named {key!r}{hint} (available: {shown}{more})"
