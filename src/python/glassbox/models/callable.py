"""CallableModel: any Python function of a batch, for the model-agnostic methods."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from glassbox._validation import as_batch, check_int, check_model_outputs
from glassbox.data import Schema, frame_kind, read_table


def check_names(names: object, count: int | None, name: str) -> list[str] | None:
    """None, or ``count`` names (any number when None) as str: the one check of
    ``feature_names`` / ``output_names``.

    >>> check_names(("a", 1), 2, "feature_names")
    ['a', '1']
    """
    if names is None:
        return None
    if isinstance(names, (str, bytes)) or not isinstance(names, (Sequence, np.ndarray)):
        raise TypeError(f"{name}: expected a sequence of {count} names, got {names!r}")
    out = [str(item) for item in names]
    if count is not None and len(out) != count:
        raise ValueError(f"{name}: expected {count} names, got {len(out)}")
    return out


class CallableModel:
    """A black-box model given as ``fn(X) -> outputs`` on a batch of shape (n, n_inputs).

    Model-agnostic methods (Shapley values, permutation importance, LIME, ...) call ``fn`` on
    large batches. Gradient methods need a native network and reject it.

    When the data explained is a DataFrame, the explainer uses a copy of this model whose ``fn``
    receives DataFrames of the data's columns and dtypes (``framed``), so a pipeline fitted on a
    DataFrame is called as it was fitted.

    Examples
    --------
    >>> import numpy as np
    >>> model = CallableModel(lambda X: X.sum(axis=1), n_inputs=3)
    >>> model.predict(np.ones((2, 3)))
    array([[3.],
           [3.]], dtype=float32)
    """

    def __init__(
        self,
        fn: Callable[[np.ndarray], object],
        n_inputs: int,
        n_outputs: int | None = None,
        *,
        feature_names: Sequence[str] | None = None,
        output_names: Sequence[str] | None = None,
    ):
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.input_shape: tuple[int, ...] = (check_int(n_inputs, "n_inputs", 1),)
        self._n_outputs = None if n_outputs is None else check_int(n_outputs, "n_outputs", 1)
        self.feature_names = check_names(feature_names, self.n_inputs, "feature_names")
        self.output_names = check_names(output_names, self._n_outputs, "output_names")
        self.schema: Schema | None = None
        self._sample = np.zeros((1, self.n_inputs), np.float32)  # probed for n_outputs

    def framed(self, schema: Schema, sample: np.ndarray | None = None) -> CallableModel:
        """A copy whose ``fn`` gets DataFrames of ``schema`` (the columns and dtypes of the data)
        rebuilt from the rows the core made; this model is left as it is. ``sample``: a row of
        the data (encoded), what finding ``n_outputs`` calls the model on."""
        framed = copy.copy(self)
        framed.schema = schema
        if sample is not None:
            framed._sample = np.array(sample[:1], dtype=np.float32)
        if framed.feature_names is None:
            framed.feature_names = schema.feature_names
        return framed

    @property
    def batch_fn(self) -> Callable[[np.ndarray], object]:
        """What the core calls on a float32 batch: ``fn``, through a DataFrame when framed."""
        schema = self.schema
        if schema is None:
            return self.fn
        fn = self.fn
        return lambda rows: fn(schema.decode(rows))

    @property
    def n_inputs(self) -> int:
        return self.input_shape[0]

    @property
    def n_outputs(self) -> int:
        """Outputs per sample; found by one call on a zero row when not given."""
        if self._n_outputs is None:
            self._n_outputs = self._outputs(self._sample).shape[1]
            check_names(self.output_names, self._n_outputs, "output_names")
        return self._n_outputs

    def predict(self, X: object) -> np.ndarray:
        """``fn`` on a checked batch (an array, or a DataFrame of the model's schema), as a
        (n, n_outputs) float32 array."""
        if self.schema is None and frame_kind(X) is not None:
            return self.framed(Schema.of(X)).predict(X)
        rows = read_table(X, self.schema).rows
        batch = as_batch(rows, self.input_shape, allow_nan=True)  # the model may impute NaN
        outputs = self._outputs(batch)
        check_model_outputs("predict", outputs)
        return outputs

    def _outputs(self, batch: np.ndarray) -> np.ndarray:
        """``fn`` on a checked batch, its outputs checked."""
        raw = np.asarray(self.batch_fn(batch.copy()))
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
    fn: Callable[[np.ndarray], object],
    n_inputs: int,
    n_outputs: int | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> CallableModel:
    """Wrap any function of a batch as a model for the model-agnostic methods.

    ``feature_names`` / ``output_names`` name the inputs and outputs in every result (a
    DataFrame's columns name the features without this).

    Examples
    --------
    >>> import numpy as np
    >>> model = wrap(lambda X: X @ np.ones(4), n_inputs=4)
    >>> model.n_outputs
    1
    """
    return CallableModel(
        fn, n_inputs, n_outputs, feature_names=feature_names, output_names=output_names
    )
