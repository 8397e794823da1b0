"""Input checks shared by every public entry point: clear errors before any work starts."""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from glassbox._names import is_name, resolve
from glassbox.errors import NonFiniteWarning

if TYPE_CHECKING:
    from glassbox import _core

#: The largest count (steps, samples, repeats, bins, grid points, features, outputs) any argument
#: takes: the core's kMaxCount (parallel.hpp). More is more work than one job should be handed,
#: and beyond it the core's C integer types could overflow.
MAX_COUNT = 10**9
#: Seeds are unsigned 64-bit integers in the core (the counter-based random streams' key).
MAX_SEED = 2**64 - 1
#: ``n_threads`` above a C int is refused; anything up to it is clamped to MAX_THREADS, as the
#: core clamps (kMaxThreadsCeiling): more threads than that only cost stack memory.
MAX_THREADS_ARG = 2**31 - 1
MAX_THREADS = 256
#: ``memory_budget`` is a byte count (size_t in the core); at most the largest signed 64-bit value.
MAX_MEMORY_BUDGET = 2**63 - 1


#: Values checked for NaN / Inf at once by ``as_batch`` (its temporary mask: 1 MiB).
_CHECK_BLOCK = 1 << 20


def as_batch(
    X: object, input_shape: tuple[int, ...], name: str = "X", *, allow_nan: bool = False
) -> np.ndarray:
    """Return ``X`` as a C-contiguous float32 array of shape (n, *input_shape), checked.

    The caller's array is never modified: a conversion makes a copy, and when no conversion is
    needed the core only reads the buffer. ``allow_nan``: missing values (NaN) pass, for a
    Python model given a DataFrame (it may impute them); Inf never does.
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
    if array.shape != (*array.shape[:1], *input_shape) or array.ndim != len(input_shape) + 1:
        raise ValueError(shape_hint(array.shape, tuple(input_shape), name))
    if array.shape[0] == 0:
        raise ValueError(f"{name}: is empty (0 rows); pass at least one row")
    array = np.ascontiguousarray(array, dtype=np.float32)
    # one pass without a temporary OR (this check runs on every predict of a native model), in
    # blocks: a whole-array mask would be a temporary as large as X (a byte per value)
    flat = array.reshape(-1)
    blocks = (flat[i : i + _CHECK_BLOCK] for i in range(0, flat.size, _CHECK_BLOCK))
    if any(np.isinf(b).any() if allow_nan else not np.isfinite(b).all() for b in blocks):
        bad = np.argwhere(np.isinf(array) if allow_nan else ~np.isfinite(array))[0]
        what = "Inf" if allow_nan else "NaN or Inf"
        raise ValueError(f"{name}: contains {what} (first at index {tuple(int(i) for i in bad)})")
    return array


def shape_hint(got: tuple[int, ...], input_shape: tuple[int, ...], name: str = "X") -> str:
    """What is wrong with a batch of shape ``got`` for a model of samples ``input_shape``, and
    what to do: the one place shape errors are worded (``as_batch`` raises with it).

    Examples
    --------
    >>> shape_hint((5, 8, 8, 1), (1, 8, 8))
    'X: got (5, 8, 8, 1), which looks channels-last; this model takes (n, 1, 8, 8): use X.transpose(0, 3, 1, 2)'
    >>> shape_hint((5, 64), (1, 8, 8))
    'X: got flat rows (5, 64); this model takes images (n, 1, 8, 8): use X.reshape(-1, 1, 8, 8)'
    """  # noqa: E501
    want = f"(n, {', '.join(map(str, input_shape))})"
    sample, size = tuple(got[1:]), int(np.prod(input_shape))
    if tuple(got) == tuple(input_shape):
        return (
            f"{name}: expected a batch of shape {want}, got a single sample of shape {got}; "
            f"use {name}[None] for one row"
        )
    if len(input_shape) == 3 and sample == (*input_shape[1:], input_shape[0]):
        return (
            f"{name}: got {got}, which looks channels-last; this model takes {want}: "
            f"use {name}.transpose(0, 3, 1, 2)"
        )
    if len(input_shape) == 3 and sample == (input_shape[2], *input_shape[:2]):
        return (
            f"{name}: got {got}, which looks channels-first; this model takes {want} "
            f"(channels-last): use {name}.transpose(0, 2, 3, 1)"
        )
    if len(got) == 2 and len(input_shape) > 1 and got[1] == size:
        return (
            f"{name}: got flat rows {got}; this model takes images {want}: "
            f"use {name}.reshape(-1, {', '.join(map(str, input_shape))})"
        )
    if len(input_shape) == 3 and input_shape[0] == 1 and sample == tuple(input_shape[1:]):
        return (
            f"{name}: got {got} without a channel axis; this model takes {want}: "
            f"use {name}[:, None]"
        )
    if len(got) > 2 and len(input_shape) == 1 and int(np.prod(sample)) == size:
        return (
            f"{name}: got {got}; this model takes rows {want}: use {name}.reshape(len({name}), -1)"
        )
    return f"{name}: expected shape {want}, got {got}"


def layout_hint(sample: tuple[int, ...], name: str = "X") -> str:
    """A sentence when samples of shape ``sample`` look channels-last (H, W, C with 1 to 4
    channels) to a model that needs (C, H, W) and has no input shape yet, else "".

    >>> layout_hint((28, 28, 3))
    'X: samples of shape (28, 28, 3) look channels-last; this model takes (n, C, H, W): use X.transpose(0, 3, 1, 2)'
    """  # noqa: E501
    if len(sample) == 3 and 1 <= sample[2] <= 4 and sample[2] < min(sample[:2]):
        return (
            f"{name}: samples of shape {sample} look channels-last; this model takes "
            f"(n, C, H, W): use {name}.transpose(0, 3, 1, 2)"
        )
    return ""


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


def as_targets(
    target: object, n_rows: int, n_outputs: int, names: Sequence[str] | None = None
) -> np.ndarray:
    """Per-row target indices (int64, shape (n_rows,)) from an int, an output name among
    ``names`` ("output 0", ... when unnamed), a sequence of them or None, each checked against
    the model's outputs before any cast (a huge int never wraps around)."""
    if target is None:
        if n_outputs != 1:
            raise ValueError(
                f"target: the model has {n_outputs} outputs; pass target=<int or output name> or "
                "one per row"
            )
        return np.zeros(n_rows, dtype=np.int64)
    if has_names(target):
        single = is_name(target)
        values = [target] if single else list(target)  # type: ignore[call-overload]
        if not single and len(values) != n_rows:
            raise ValueError(f"target: expected {n_rows} targets (one per row), got {len(values)}")
        indices = [
            resolve(t, names, n_outputs, "target", what="output", negative=False) for t in values
        ]
        return np.broadcast_to(np.array(indices, dtype=np.int64), (n_rows,)).copy()
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(
            f"target: expected an integer between 0 and {n_outputs - 1} or a sequence of them, "
            "got a bool"
        )
    if isinstance(target, numbers.Integral):
        array = np.array([int(target)], dtype=object)
    else:
        array = np.asarray(target)
        if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or _all_ints(array)):
            raise TypeError(
                f"target: expected an integer between 0 and {n_outputs - 1} or a 1-D sequence of"
                f" them, got {type(target).__name__} with dtype {array.dtype} and shape "
                f"{array.shape}"
            )
        if array.shape[0] != n_rows:
            raise ValueError(
                f"target: expected {n_rows} targets (one per row), got {array.shape[0]}"
            )
    if array.dtype == object:  # Python ints, maybe beyond 64 bits: compared one by one
        bad = np.array([not 0 <= int(t) < n_outputs for t in array])
    else:
        bad = (array < 0) | (array >= n_outputs)
    if bad.any():
        raise ValueError(
            f"target: {int(array[bad][0])} is out of range for a model with {n_outputs} outputs"
            f" (expected an integer between 0 and {n_outputs - 1})"
        )
    return np.broadcast_to(array.astype(np.int64), (n_rows,)).copy()


def has_names(target: object) -> bool:
    """Whether ``target`` is an output name or a sequence holding one (a NumPy array: by dtype)."""
    if is_name(target):
        return True
    if isinstance(target, np.ndarray):
        return target.dtype.kind in "US" or (
            target.dtype == object and any(is_name(t) for t in target.ravel())
        )
    return isinstance(target, Sequence) and any(is_name(t) for t in target)


def _all_ints(array: np.ndarray) -> bool:
    """An object array of Python ints (what numpy makes of ints beyond 64 bits)."""
    return array.dtype == object and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in array
    )


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


def check_int(value: object, name: str, minimum: int, maximum: int = MAX_COUNT) -> int:
    """An int in [minimum, maximum] (numpy integers too; bools are not ints), else a TypeError /
    ValueError naming ``name`` and the range: the one range check of every integer argument,
    before it reaches the core (whose C types would overflow or reject it unclearly).

    >>> check_int(3, "n_steps", 1)
    3
    >>> check_int(2**64, "n_steps", 1)
    Traceback (most recent call last):
    ...
    ValueError: n_steps: expected an integer between 1 and 1000000000, got 18446744073709551616
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name}: expected an integer between {minimum} and {maximum}, got "
            f"{type(value).__name__} {value!r}"
        )
    if not minimum <= int(value) <= maximum:
        raise ValueError(
            f"{name}: expected an integer between {minimum} and {maximum}, got {int(value)}"
        )
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
    """The thread count the core gets for ``n_threads``: None (0: the core's default), else an
    int in [1, MAX_THREADS_ARG], clamped to MAX_THREADS."""
    if n_threads is None:
        return 0
    return min(check_int(n_threads, "n_threads", 1, MAX_THREADS_ARG), MAX_THREADS)


def check_seed(seed: object, maximum: int = MAX_SEED) -> int:
    """A seed: an int in [0, maximum] (default: any unsigned 64-bit value, as the core takes)."""
    return check_int(seed, "seed", 0, maximum)


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
    from glassbox.rows import first_row

    options = _core.RunOptions(check_threads(n_threads))
    options.first_row = first_row()  # where the call's rows sit in a larger job (row_offset)
    if memory_budget is not None:
        options.memory_budget = check_int(memory_budget, "memory_budget", 1, MAX_MEMORY_BUDGET)
    return options


# ---- non-finite results (the policy: docs/methods.md, "Input limits and non-finite results") ----


def nonfinite_rows(*arrays: object) -> np.ndarray:
    """The indices along the first axis where any of the arrays (None skipped) holds NaN or Inf.

    >>> nonfinite_rows(np.array([[1.0, np.nan], [2.0, 3.0]]), np.array([np.inf, 0.0]))
    array([0])
    """
    bad: np.ndarray | None = None
    for item in arrays:
        if item is None:
            continue
        array = np.asarray(item)
        if array.ndim == 0 or array.dtype.kind not in "fc":
            continue
        rows = ~np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)
        bad = rows if bad is None else bad | rows
    return np.empty(0, dtype=np.int64) if bad is None else np.flatnonzero(bad)


def describe_rows(rows: Sequence[int] | np.ndarray, limit: int = 10) -> str:
    """``rows [3, 17, ...] (12 rows)``: the first ``limit`` indices and the count.

    >>> describe_rows(np.arange(12))
    'rows [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...] (12 rows)'
    """
    listed = [int(r) for r in rows[:limit]]
    more = ", ..." if len(rows) > limit else ""
    return f"rows {listed}"[:-1] + f"{more}] ({len(rows)} row{'s' if len(rows) != 1 else ''})"


def check_model_outputs(what: str, outputs: object, rows: object = None) -> None:
    """ValueError naming the rows whose model outputs hold NaN or Inf (``rows[i]`` is the row of
    ``outputs[i]``; default 0..n-1): glassbox does not explain non-finite predictions."""
    bad = nonfinite_rows(outputs)
    if bad.size:
        names = bad if rows is None else np.asarray(rows)[bad]
        raise ValueError(
            f"{what}: model output is not finite for {describe_rows(names)}; explanations of "
            "NaN or Inf predictions mean nothing (check the model and those rows)"
        )


def warn_nonfinite(what: str, fields: Mapping[str, object], rows: object = None) -> None:
    """NonFiniteWarning: the result ``fields`` hold NaN or Inf (on ``rows``, when per row)
    although the model's outputs are finite."""
    names = [name for name, value in fields.items() if nonfinite_rows(np.ravel(value)).size]
    where = "" if rows is None else f" for {describe_rows(np.asarray(rows))}"
    warnings.warn(
        f"{what}: the result ({', '.join(names)}) is not finite{where} although the model's "
        "outputs are finite: NaN or Inf arose inside the computation (an overflow from extreme "
        "inputs, baselines or settings)",
        NonFiniteWarning,
        stacklevel=4,
    )


#: What the core's model bridge says when a Python model returns NaN or Inf (model_bridge.cpp).
CALLABLE_NONFINITE = "the callable returned NaN or infinite values"


@contextlib.contextmanager
def core_job(
    what: str,
    model: object,
    X: np.ndarray | None,
    options: _core.RunOptions,
    progress: object,
    rows: int,
) -> Iterator[None]:
    """Around one core call of a method (``what``) on ``model``: its progress, as ``rows`` rows,
    and a Python model's NaN / Inf outputs reported with the rows of ``X`` they come from."""
    from glassbox.progress import tracked

    with named_nonfinite_rows(what, model, X), tracked(options, progress, rows=rows, what=what):
        yield


@contextlib.contextmanager
def named_nonfinite_rows(what: str, model: object, X: np.ndarray | None) -> Iterator[None]:
    """Around a core call on ``model`` for the rows ``X``: the core refuses a Python model's
    NaN / Inf outputs without knowing the rows; on that error only, the model's outputs on ``X``
    (computed in Python) name them, or the message says the non-finite outputs were at points
    the method made (perturbed, replaced or background rows)."""
    try:
        yield
    except ValueError as error:
        predict = getattr(model, "predict", None)
        if X is None or predict is None or CALLABLE_NONFINITE not in str(error):
            raise
        check_model_outputs(what, predict(X.reshape(X.shape[0], -1)))
        raise ValueError(
            f"{what}: model output is not finite at points the method evaluated (perturbed, "
            "replaced or background rows), though it is finite on the rows given"
        ) from error
