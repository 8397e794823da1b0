"""CallableModel: any Python function of a batch, for the model-agnostic methods."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassbox._validation import as_batch, check_int


class CallableModel:
    """A black-box model given as ``fn(X) -> outputs`` on a batch of shape (n, n_inputs).

    Model-agnostic methods (Shapley values, permutation importance, LIME, ...) call ``fn`` on
    large batches. Gradient methods need a native network and reject it.

    Examples
    --------
    >>> import numpy as np
    >>> model = CallableModel(lambda X: X.sum(axis=1), n_inputs=3)
    >>> model.predict(np.ones((2, 3)))
    array([[3.],
           [3.]], dtype=float32)
    """

    def __init__(
        self, fn: Callable[[np.ndarray], object], n_inputs: int, n_outputs: int | None = None
    ):
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.input_shape: tuple[int, ...] = (check_int(n_inputs, "n_inputs", 1),)
        self._n_outputs = None if n_outputs is None else check_int(n_outputs, "n_outputs", 1)
        self.feature_names: list[str] | None = None
        self.output_names: list[str] | None = None

    @property
    def n_inputs(self) -> int:
        return self.input_shape[0]

    @property
    def n_outputs(self) -> int:
        """Outputs per sample; found by one call on a zero row when not given."""
        if self._n_outputs is None:
            self._n_outputs = self.predict(np.zeros((1, self.n_inputs), np.float32)).shape[1]
        return self._n_outputs

    def predict(self, X: object) -> np.ndarray:
        """``fn`` on a checked float32 batch, as a (n, n_outputs) float32 array."""
        batch = as_batch(X, self.input_shape)
        raw = np.asarray(self.fn(batch.copy()))
        if raw.ndim == 1:
            raw = raw[:, None]
        if raw.ndim != 2 or raw.shape[0] != batch.shape[0]:
            raise ValueError(
                f"fn: returned shape {raw.shape} for {batch.shape[0]} rows; expected "
                f"({batch.shape[0]},) or ({batch.shape[0]}, n_outputs)"
            )
        if self._n_outputs is not None and raw.shape[1] != self._n_outputs:
            raise ValueError(f"fn: returned {raw.shape[1]} outputs, expected {self._n_outputs}")
        if not np.issubdtype(raw.dtype, np.number):
            raise TypeError(f"fn: returned dtype {raw.dtype}, expected numbers")
        return raw.astype(np.float32)

    def __repr__(self) -> str:
        return f"CallableModel({getattr(self.fn, '__name__', 'fn')}, n_inputs={self.n_inputs})"


def wrap(
    fn: Callable[[np.ndarray], object], n_inputs: int, n_outputs: int | None = None
) -> CallableModel:
    """Wrap any function of a batch as a model for the model-agnostic methods.

    Examples
    --------
    >>> import numpy as np
    >>> model = wrap(lambda X: X @ np.ones(4), n_inputs=4)
    >>> model.n_outputs
    1
    """
    return CallableModel(fn, n_inputs, n_outputs)
