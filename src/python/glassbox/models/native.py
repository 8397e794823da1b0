"""NativeModel: a network running in the compiled engine, built once from a NetworkSpec."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import as_batch, check_threads
from glassbox.models.spec import NetworkSpec


def _native_kind(kind: str, params: dict[str, Any]) -> str:
    if kind == "gelu" and params.get("approximate", "none") == "tanh":
        return "gelu_tanh"
    return kind


def _scalars(params: dict[str, Any]) -> dict[str, float]:
    """Numbers (bools as 0/1) as they are; a sequence ``key=(a, b)`` as ``key.0``, ``key.1`` and
    ``key.rank`` (how the core reads stride, padding, kernel, shape, ...). Strings are dropped."""
    scalars: dict[str, float] = {}
    for key, value in params.items():
        if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
            scalars[key] = float(value)
        elif isinstance(value, (list, tuple, np.ndarray)):
            items = [float(item) for item in np.asarray(value).ravel()]
            scalars[f"{key}.rank"] = float(len(items))
            scalars.update({f"{key}.{i}": item for i, item in enumerate(items)})
    return scalars


def _compile(spec: NetworkSpec) -> _core.Network:
    network = _core.Network([int(extent) for extent in spec.input_shape])
    for layer in spec.layers:
        arrays = {key: value for key, value in layer.weights.items() if value is not None}
        network.add_layer(
            _native_kind(layer.kind, layer.params),
            layer.name,
            list(layer.inputs),
            _scalars(layer.params),
            arrays,
        )
    return network


class NativeModel:
    """A model the compiled engine evaluates, with gradients: every explainer accepts it.

    Build it with an adapter (``glassbox.from_torch``, ``from_sklearn``, ``from_onnx``,
    ``from_keras``) or from a ``NetworkSpec`` with ``build_network``.

    Examples
    --------
    >>> import numpy as np
    >>> from glassbox.models.spec import NetworkSpec
    >>> spec = NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -1.0]]), bias=np.array([0.5]))
    >>> build_network(spec).predict(np.array([[2.0, 1.0]]))
    array([[1.5]], dtype=float32)
    """

    def __init__(
        self,
        spec: NetworkSpec,
        *,
        feature_names: list[str] | None = None,
        output_names: list[str] | None = None,
    ) -> None:
        self.spec = spec
        self.network = _compile(spec)
        self.input_shape: tuple[int, ...] = tuple(int(s) for s in spec.input_shape)
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        self.output_names = None if output_names is None else [str(o) for o in output_names]
        if self.feature_names is not None and len(self.feature_names) != self.n_inputs:
            raise ValueError(
                f"feature_names: expected {self.n_inputs} names, got {len(self.feature_names)}"
            )
        if self.output_names is not None and len(self.output_names) != self.n_outputs:
            raise ValueError(
                f"output_names: expected {self.n_outputs} names, got {len(self.output_names)}"
            )

    @property
    def n_inputs(self) -> int:
        """Features per sample (the product of ``input_shape``)."""
        return int(self.network.n_inputs)

    @property
    def n_outputs(self) -> int:
        """Outputs per sample."""
        return int(self.network.n_outputs)

    @property
    def layer_names(self) -> list[str]:
        """Layer names as the framework named them, in topological order."""
        return list(self.network.layer_names)

    def predict(self, X: object, *, n_threads: int | None = None) -> np.ndarray:
        """Outputs of the network for a batch ``X`` of shape (n, *input_shape), float32."""
        batch = as_batch(X, self.input_shape)
        flat = batch.reshape(batch.shape[0], -1)
        return self.network.predict(flat, check_threads(n_threads))

    def __repr__(self) -> str:
        kinds = ", ".join(layer.kind for layer in self.spec.layers)
        return f"NativeModel(input_shape={self.input_shape}, n_outputs={self.n_outputs}, [{kinds}])"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "feature_names": self.feature_names,
            "output_names": self.output_names,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["spec"], feature_names=state["feature_names"], output_names=state["output_names"]
        )


def build_network(
    spec: NetworkSpec,
    *,
    feature_names: list[str] | None = None,
    output_names: list[str] | None = None,
) -> NativeModel:
    """Compile a ``NetworkSpec`` into a ``NativeModel``.

    Examples
    --------
    >>> import numpy as np
    >>> from glassbox.models.spec import NetworkSpec
    >>> spec = NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.ones((2, 3)), bias=None)
    >>> build_network(spec).n_outputs
    2
    """
    return NativeModel(spec, feature_names=feature_names, output_names=output_names)
