"""What every gradient explainer shares: model check, input conversion, the Explanation."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox._validation import as_batch, as_targets, check_memory_budget, check_threads
from glassbox.explanation import Explanation
from glassbox.models.native import NativeModel


class GradientExplainer:
    """Base class: holds a native model and the run options (threads, memory budget).

    Subclasses take the method's configuration in ``__init__`` and the data in ``__call__``.
    """

    method = "gradient"

    def __init__(
        self, model: NativeModel, *, n_threads: int | None = None, memory_budget: int | None = None
    ) -> None:
        if not isinstance(model, NativeModel):
            raise TypeError(
                f"model: {type(self).__name__} needs gradients, so it needs a native network "
                f"(glassbox.from_torch / from_sklearn / from_onnx / from_keras); got "
                f"{type(model).__name__}. Model-agnostic methods accept wrapped callables."
            )
        self.model = model
        self.n_threads = check_threads(n_threads)
        self.memory_budget = check_memory_budget(memory_budget)

    def _inputs(self, X: object, target: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The checked batch, its (n, d) view for the core, and per-row targets."""
        batch = as_batch(X, self.model.input_shape)
        targets = as_targets(target, batch.shape[0], self.model.n_outputs)
        return batch, batch.reshape(batch.shape[0], -1), targets

    def _options(self) -> dict[str, Any]:
        return {"n_threads": self.n_threads or None}

    def _explanation(
        self,
        batch: np.ndarray,
        values: np.ndarray,
        targets: np.ndarray,
        *,
        base_values: np.ndarray | None = None,
        delta: np.ndarray | None = None,
        stderr: np.ndarray | None = None,
    ) -> Explanation:
        return Explanation(
            values=values.reshape(batch.shape),
            data=batch.copy(),  # the batch may be the caller's own array: never hand it back
            base_values=base_values,
            feature_names=self.model.feature_names,
            output_names=self.model.output_names,
            target=targets,
            method=self.method,
            options=self._options(),
            delta=delta,
            stderr=None if stderr is None else stderr.reshape(batch.shape),
        )

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self._options().items())
        return f"{type(self).__name__}({options})"
