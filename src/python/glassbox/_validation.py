"""Input checks shared by every public entry point: clear errors before any work starts."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from glassbox import _core


def as_batch(X: object, input_shape: tuple[int, ...], name: str = "X") -> np.ndarray:
    """Return ``X`` as a C-contiguous float32 array of shape (n, *input_shape), checked.

    The caller's array is never modified: a conversion makes a copy, and when no conversion is
    needed the core only reads the buffer.
    """
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name}: expected a numeric array, got {type(X).__name__}")
    try:
        array = np.asarray(X)
    except Exception as error:  # ragged lists and the like
        raise TypeError(f"{name}: could not be read as a numeric array ({error})") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.floating)
        or np.issubdtype(array.dtype, np.integer)
        or array.dtype == np.bool_
    ):
        raise TypeError(f"{name}: expected a numeric array, got dtype {array.dtype}")
    expected = (len(input_shape) + 1,)
    if array.ndim == len(input_shape) and array.shape == tuple(input_shape):
        raise ValueError(
            f"{name}: expected a batch of shape (n, {', '.join(map(str, input_shape))}), got a "
            f"single sample of shape {array.shape}; use {name}[None] for one row"
        )
    if array.ndim != expected[0] or tuple(array.shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"{name}: expected shape (n, {', '.join(map(str, input_shape))}), got {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name}: is empty (0 rows); pass at least one row")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name}: contains NaN or Inf (first at index {tuple(int(i) for i in bad)})"
        )
    return array


def check_sample_shape(value: object, name: str = "input_shape") -> tuple[int, ...]:
    """The shape of one sample: a positive int or a non-empty sequence of positive ints.

    >>> check_sample_shape(3), check_sample_shape([1, 28, 28])
    ((3,), (1, 28, 28))
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value),)
    try:
        shape = tuple(int(d) for d in value)  # type: ignore[union-attr]
        ok = bool(shape) and all(int(d) == d and d > 0 for d in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"{name}: expected a positive int or a non-empty tuple of positive ints (the shape "
            f"of one sample), got {value!r}"
        )
    return shape


def as_targets(target: object, n_rows: int, n_outputs: int) -> np.ndarray:
    """Per-row target indices (int64, shape (n_rows,)) from an int, a sequence or None."""
    if target is None:
        if n_outputs != 1:
            raise ValueError(
                f"target: the model has {n_outputs} outputs; pass target=<int> or one int per row"
            )
        return np.zeros(n_rows, dtype=np.int64)
    if isinstance(target, (bool, np.bool_)):
        raise TypeError("target: expected an int or a sequence of ints, got a bool")
    if isinstance(target, numbers.Integral):
        targets = np.full(n_rows, int(target), dtype=np.int64)
    else:
        array = np.asarray(target)
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(
                f"target: expected an int or a 1-D sequence of ints, got {type(target).__name__}"
                f" with dtype {array.dtype} and shape {array.shape}"
            )
        if array.shape[0] != n_rows:
            raise ValueError(
                f"target: expected {n_rows} targets (one per row), got {array.shape[0]}"
            )
        targets = array.astype(np.int64)
    bad = (targets < 0) | (targets >= n_outputs)
    if bad.any():
        raise ValueError(
            f"target: {int(targets[bad][0])} is out of range for a model with {n_outputs} outputs"
            f" (expected 0..{n_outputs - 1})"
        )
    return targets


def as_baselines(baselines: object, X: np.ndarray, name: str = "baselines") -> np.ndarray:
    """Baselines broadcast to one row per row of X: a scalar, one row, or one row per row."""
    sample_shape = X.shape[1:]
    if isinstance(baselines, numbers.Real) and not isinstance(baselines, bool):
        value = float(baselines)
        if not np.isfinite(value):
            raise ValueError(f"{name}: must be finite, got {value}")
        return np.full(X.shape, value, dtype=np.float32)
    array = np.asarray(baselines)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name}: expected a number or a numeric array, got dtype {array.dtype}")
    if array.shape == sample_shape:
        array = np.broadcast_to(array, X.shape)
    elif array.shape == (1, *sample_shape):
        array = np.broadcast_to(array[0], X.shape)
    elif array.shape != X.shape:
        raise ValueError(
            f"{name}: expected a scalar, shape {sample_shape}, "
            f"(1, {', '.join(map(str, sample_shape))})"
            f" or {X.shape} (one per row), got {array.shape}"
        )
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or Inf")
    return array


def as_distribution(
    references: object, input_shape: tuple[int, ...], name: str = "baselines"
) -> np.ndarray:
    """A reference distribution: (m, *input_shape) rows, or one row (*input_shape)."""
    array = np.asarray(references)
    if array.shape == tuple(input_shape):
        array = array[None]
    return as_batch(array, input_shape, name)


def check_int(value: object, name: str, minimum: int) -> int:
    """An int >= minimum, else a clear TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if int(value) < minimum:
        raise ValueError(f"{name}: must be at least {minimum}, got {int(value)}")
    return int(value)


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """One of ``choices``, else a clear ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def check_nonnegative(value: object, name: str) -> float:
    """A finite float >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: must be a finite number >= 0, got {value}")
    return float(value)


def check_threads(n_threads: object) -> int:
    """None (the default thread count) or a positive int; 0 means default in the core."""
    if n_threads is None:
        return 0
    return check_int(n_threads, "n_threads", 1)


def check_seed(seed: object) -> int:
    """A seed: an int >= 0."""
    return check_int(seed, "seed", 0)


def run_options(n_threads: object = None, memory_budget: object = None) -> _core.RunOptions:
    """The core's ``RunOptions`` for a user's ``n_threads`` (None: ``GLASSBOX_NUM_THREADS``, else
    every core) and ``memory_budget`` (bytes one worker's chunk may use; None: the core's
    default), both checked: the one place these two options are validated.

    Examples
    --------
    >>> run_options(2, 1 << 20)
    RunOptions(n_threads=2, memory_budget=1048576)
    """
    from glassbox import _core  # the extension, imported only when options are resolved

    options = _core.RunOptions(check_threads(n_threads))
    if memory_budget is not None:
        options.memory_budget = check_int(memory_budget, "memory_budget", 1)
    return options
