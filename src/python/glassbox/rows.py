"""Where a call's rows sit in a larger job: ``row_offset``.

Seeded methods that draw random numbers per row (LIME, SmoothGrad, GradientSHAP, NoiseTunnel)
key each row's draws by the row's index. A job split into batches (the command line's streamed
files, a resumed run) or partitions (``glassbox.dask``) explains each part inside
``row_offset(first)``, so that row ``i`` of the part draws as row ``first + i`` of the whole job,
and the results equal one call over every row, whatever the split.

Examples
--------
>>> import numpy as np, glassbox as gb
>>> model = gb.wrap(lambda X: np.tanh(X).sum(axis=1), n_inputs=3)
>>> X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
>>> lime = gb.Lime(model, training_data=X, num_samples=64, seed=0)
>>> whole = lime(X).values
>>> with gb.row_offset(4):
...     tail = lime(X[4:]).values
>>> bool((tail == whole[4:]).all())
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from glassbox._validation import check_int

#: Per-row random streams are keyed below 2**53 (exact in a double).
MAX_FIRST_ROW = 2**53

_FIRST_ROW: ContextVar[int] = ContextVar("glassbox_first_row", default=0)


@contextmanager
def row_offset(first_row: int) -> Iterator[None]:
    """Explain rows as rows ``first_row, first_row + 1, ...`` of a larger job (see the module).

    Parameters
    ----------
    first_row : int
        The index, in the whole job, of the first row of each call made inside the block.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> model = gb.wrap(lambda X: X.sum(axis=1) ** 2, n_inputs=2)
    >>> X = np.arange(8, dtype=np.float32).reshape(4, 2)
    >>> smooth = gb.Lime(model, training_data=X, num_samples=32, seed=1)
    >>> with gb.row_offset(2):  # rows 2 and 3 of the job X
    ...     part = smooth(X[2:]).values
    >>> bool((part == smooth(X).values[2:]).all())
    True
    """
    token = _FIRST_ROW.set(check_int(first_row, "first_row", 0, MAX_FIRST_ROW))
    try:
        yield
    finally:
        _FIRST_ROW.reset(token)


def first_row() -> int:
    """The ``row_offset`` in force (0 outside any)."""
    return _FIRST_ROW.get()
