"""Translate a Keras 3 model into a native glassbox network (``glassbox.from_keras``).

Sequential and Functional models (nested ones too) whose layers form a chain are supported.
Layers keep their Keras names. A ``Dense`` layer with an activation becomes two layers: the dense
layer named ``layer.name`` and the activation named ``f"{layer.name}/activation"``; a ``Dense``
with ``activation="linear"`` (the default) is one dense layer. ``InputLayer`` adds no layer.
Weights are copied once; the Keras model is not modified and is evaluated as at inference
(dropout is the identity).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.native import build_network
from glassbox.models.output_head import apply_output, check_output
from glassbox.models.spec import NetworkSpec

if TYPE_CHECKING:
    from glassbox.models.native import NativeModel

SUPPORTED_LAYERS: tuple[str, ...] = (
    "InputLayer",
    "Dense",
    "Activation",
    "ReLU (no max_value / threshold)",
    "LeakyReLU",
    "ELU",
    "Softmax (axis -1)",
    "Flatten",
    "Dropout",
    "Identity",
    "Sequential / Functional models used as layers",
)
SUPPORTED_ACTIVATIONS: tuple[str, ...] = (
    "linear",
    "relu",
    "leaky_relu",
    "elu",
    "sigmoid",
    "tanh",
    "softplus",
    "gelu",
    "silu / swish",
    "softmax",
    "log_softmax",
)

#: Suffix of the layer a Dense layer's activation becomes.
ACTIVATION_SUFFIX = "/activation"


def from_keras(
    model: Any,
    *,
    output: str = "model",
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> NativeModel:
    """Copy a built Keras 3 model into a native glassbox network.

    Parameters
    ----------
    model : keras.Model
        A built ``keras.Sequential`` or Functional model with one input and one output whose
        layers (``SUPPORTED_LAYERS``, activations ``SUPPORTED_ACTIVATIONS``) form a chain.
    output : {"model", "logits", "probabilities"}
        ``"model"``: what the model computes; ``"logits"``: without a final softmax,
        log-softmax or sigmoid; ``"probabilities"``: class probabilities (a softmax is appended
        to logits; a single logit ``z`` becomes ``[1 - sigmoid(z), sigmoid(z)]``).
    feature_names, output_names : sequence of str, optional
        Names of the (flattened) input features and of the outputs.

    Returns
    -------
    NativeModel

    Raises
    ------
    ValueError
        If the model is not built (its input shape is unknown).
    UnsupportedLayerError
        If the model contains a layer with no native equivalent.

    Examples
    --------
    >>> import os
    >>> _ = os.environ.setdefault("KERAS_BACKEND", "torch")
    >>> import keras
    >>> net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax",
    ...                                                               name="out")])
    >>> from_keras(net).layer_names
    ['out', 'out/activation']
    """
    try:
        import keras
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("from_keras needs Keras 3 installed") from exc
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
    check_output(output)
    spec = NetworkSpec(input_shape=_input_shape(model))
    shapes: list[tuple[int, ...]] = []
    _Translator(keras, spec, shapes).model(model)
    if not spec.layers:
        spec.add("identity", model.name)
    spec = apply_output(spec, output, what=f"this Keras model {model.name!r}")
    return build_network(spec, feature_names=feature_names, output_names=output_names)


def _input_shape(model: Any) -> tuple[int, ...]:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not model.built or not inputs:
        raise ValueError(
            f"model: the Keras model {model.name!r} is not built, so its input shape is unknown; "
            "give it a keras.Input or call model.build((None, n_features)) first"
        )
    if len(inputs) != 1 or len(model.outputs) != 1:
        raise UnsupportedLayerError(
            f"model: {model.name!r} has {len(inputs)} inputs and {len(model.outputs)} outputs; "
            "from_keras supports models with one input and one output"
        )
    dims = tuple(inputs[0].shape)[1:]
    if not dims or any(d is None for d in dims):
        raise ValueError(
            f"model: the input of {model.name!r} must have a fixed per-sample shape, got "
            f"{tuple(inputs[0].shape)}"
        )
    return tuple(int(d) for d in dims)


def _chain(model: Any, keras: Any) -> list[Any]:
    """The layers of ``model`` from input to output (Functional: walk the graph backwards)."""
    if isinstance(model, keras.Sequential):
        return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    inputs = {id(t) for t in model.inputs}
    layers: list[Any] = []
    tensor = model.outputs[0]
    while id(tensor) not in inputs:
        operation, node_index, _ = tensor._keras_history
        if isinstance(operation, keras.layers.InputLayer):
            break
        node = operation._inbound_nodes[node_index]
        sources = list(node.input_tensors)
        if len(sources) != 1:
            raise UnsupportedLayerError(
                f"layer {operation.name!r} ({type(operation).__name__}) reads {len(sources)} "
                "tensors; from_keras supports chains of single-input layers. Supported layers: "
                f"{', '.join(SUPPORTED_LAYERS)}"
            )
        layers.append(operation)
        tensor = sources[0]
    return layers[::-1]


class _Translator:
    """Append the spec layers of one Keras layer (or nested model) at a time."""

    def __init__(self, keras: Any, spec: NetworkSpec, shapes: list[tuple[int, ...]]) -> None:
        self.keras = keras
        self.spec = spec
        self.shapes = shapes

    @property
    def shape(self) -> tuple[int, ...]:
        return self.shapes[-1] if self.shapes else tuple(self.spec.input_shape)

    def _add(
        self,
        kind: str,
        name: str,
        shape: tuple[int, ...] | None = None,
        params: dict[str, Any] | None = None,
        **weights: np.ndarray | None,
    ) -> None:
        new_shape = self.shape if shape is None else shape
        self.spec.add(kind, name, params=params, **weights)
        self.shapes.append(new_shape)

    def model(self, model: Any) -> None:
        for layer in _chain(model, self.keras):
            self.layer(layer)

    def layer(self, layer: Any) -> None:
        layers = self.keras.layers
        what = type(layer).__name__
        if isinstance(layer, self.keras.Model):
            self.model(layer)
        elif type(layer) is layers.InputLayer:
            return
        elif type(layer) is layers.Dense:
            self._dense(layer)
        elif type(layer) is layers.Activation:
            self._activation(layer.activation, layer.name, layer)
        elif type(layer) is layers.ReLU:
            if layer.max_value is not None or float(layer.threshold) != 0.0:
                raise _unsupported(layer, "max_value / threshold are not supported")
            slope = float(layer.negative_slope)
            if slope == 0.0:
                self._add("relu", layer.name)
            else:
                self._add("leaky_relu", layer.name, params={"negative_slope": slope})
        elif type(layer) is layers.LeakyReLU:
            self._add(
                "leaky_relu", layer.name, params={"negative_slope": float(layer.negative_slope)}
            )
        elif type(layer) is layers.ELU:
            self._add("elu", layer.name, params={"alpha": float(layer.alpha)})
        elif type(layer) is layers.Softmax:
            self._softmax(layer, "softmax", layer.name, layer.axis)
        elif type(layer) is layers.Flatten:
            self._add("flatten", layer.name, (int(np.prod(self.shape, dtype=np.int64)),))
        elif type(layer) is layers.Dropout:
            self._add("dropout", layer.name)
        elif type(layer) is layers.Identity:
            self._add("identity", layer.name)
        else:
            raise _unsupported(layer, f"layer type {what}")

    def _dense(self, layer: Any) -> None:
        if getattr(layer, "quantization_mode", None) is not None:
            raise _unsupported(layer, f"quantized ({layer.quantization_mode})")
        kernel = self._numpy(layer.kernel)
        bias = self._numpy(layer.bias) if layer.use_bias else None
        if len(self.shape) != 1 or self.shape[0] != kernel.shape[0]:
            raise _unsupported(
                layer,
                f"it maps {kernel.shape[0]} features but receives samples of shape {self.shape}; "
                "flatten multi-dimensional samples first",
            )
        self._add("dense", layer.name, (int(kernel.shape[1]),), weight=kernel.T, bias=bias)
        self._activation(layer.activation, layer.name + ACTIVATION_SUFFIX, layer)

    def _numpy(self, value: Any) -> np.ndarray:
        """A float32 copy of a Keras variable or backend tensor."""
        if isinstance(value, self.keras.Variable):
            value = value.value  # the backend tensor
        if hasattr(value, "detach"):  # torch backend: np.array(tensor) warns under NumPy 2
            array = value.detach().cpu().numpy()
        else:
            array = self.keras.ops.convert_to_numpy(value)
        return np.array(array, dtype=np.float32, copy=True)

    def _activation(self, fn: Any, name: str, layer: Any) -> None:
        acts = self.keras.activations
        table = {
            "relu": "relu",
            "leaky_relu": "leaky_relu",
            "elu": "elu",
            "sigmoid": "sigmoid",
            "tanh": "tanh",
            "softplus": "softplus",
            "gelu": "gelu",
            "silu": "silu",
            "softmax": "softmax",
            "log_softmax": "log_softmax",
        }
        if fn is None or fn is acts.linear:
            if type(layer) is self.keras.layers.Activation:
                self._add("identity", name)
            return
        kind = next((k for attr, k in table.items() if fn is getattr(acts, attr, None)), None)
        if kind is None:
            label = getattr(fn, "__name__", repr(fn))
            raise _unsupported(
                layer,
                f"activation {label!r}; supported activations: {', '.join(SUPPORTED_ACTIVATIONS)}",
            )
        # Keras' defaults: leaky_relu slope 0.2, elu alpha 1, gelu exact, softplus log(1+e^x).
        params: dict[str, Any] = {
            "leaky_relu": {"negative_slope": 0.2},
            "elu": {"alpha": 1.0},
            "gelu": {"approximate": "none"},
            "softplus": {"beta": 1.0, "threshold": 20.0},
        }.get(kind, {})
        if kind in ("softmax", "log_softmax"):
            self._softmax(layer, kind, name, -1)
        else:
            self._add(kind, name, params=params)

    def _softmax(self, layer: Any, kind: str, name: str, axis: Any) -> None:
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if len(self.shape) != 1 or axis not in (-1, 1):
            raise _unsupported(
                layer,
                f"{kind} over axis {axis} of samples of shape {self.shape}; only the feature axis "
                "of 1-D samples is supported",
            )
        self._add(kind, name)


def _unsupported(layer: Any, reason: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not supported by from_keras "
        f"({reason}). Supported layers: {', '.join(SUPPORTED_LAYERS)}. Supported activations: "
        f"{', '.join(SUPPORTED_ACTIVATIONS)}. Use glassbox.wrap(model.predict, ...) for "
        "model-agnostic methods on other models."
    )
