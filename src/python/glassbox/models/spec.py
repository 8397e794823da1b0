"""The framework-neutral description of a network that every adapter produces.

An adapter (torch, sklearn, onnx, keras) translates a framework model into a ``NetworkSpec``
through the graph builder (``models/builder.py``); ``glassbox.models.native.build_network`` turns
the spec into a native ``Network`` once, and ``tests/reference/network.py`` evaluates the same
spec literally in NumPy.

A spec is a list of layers in topological order. Each layer names the layers it reads
(``inputs``: indices into the list, ``-1`` for the network input). Sequential networks read the
previous layer; DAG layers (residual ``add``, ``concat``) read several. The layer kinds, their
parameters (with defaults), weights and output shapes are described once, in the layer table
``glassbox.models.layers.LAYERS``.

Per-sample shapes are NCHW without N: ``(C, H, W)`` for images, ``(F,)`` for vectors. Sequence
params are tuples of ints (a single int or an ``(h, w)`` pair is also accepted for padding and is
broadcast); bools are passed as 0/1. Pooling follows torch (``-inf`` padding for max pooling,
``ceil_mode`` windows must start inside the input or the top/left padding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassbox.models.layers import LAYERS


@dataclass
class LayerSpec:
    """One layer of a ``NetworkSpec``.

    Parameters
    ----------
    kind : str
        A kind of the layer table (``glassbox.models.layers.LAYERS``).
    name : str
        The name the framework gives the layer (module path, ONNX node name, Keras layer name).
    inputs : list of int
        Indices of the layers this one reads; ``-1`` is the network input.
    params : dict
        Scalar hyper-parameters (see the module docstring).
    weights : dict
        Parameter arrays, float32 and C-contiguous.
    """

    kind: str
    name: str
    inputs: list[int] = field(default_factory=lambda: [-1])
    params: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, np.ndarray | None] = field(default_factory=dict)


#: The element types an input may hold: real values, or integer codes (token ids, categories),
#: which travel as float32 (exact below 2**24) and are checked to be whole numbers.
INPUT_DTYPES = ("float", "int")


@dataclass(frozen=True)
class InputSpec:
    """One named input of a network with several (``input_ids`` and ``attention_mask``).

    Parameters
    ----------
    name : str
        The framework's name for the input.
    shape : tuple of int
        Its per-sample shape.
    dtype : {"float", "int"}
        "int" for token ids, masks and category codes.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str = "float"


@dataclass
class NetworkSpec:
    """A whole network: the per-sample input shape and the layers in topological order.

    Examples
    --------
    >>> import numpy as np
    >>> spec = NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.ones((2, 3), np.float32), bias=None)
    >>> _ = spec.add("relu", "act")
    >>> [layer.kind for layer in spec.layers]
    ['dense', 'relu']
    """

    input_shape: tuple[int, ...]
    layers: list[LayerSpec] = field(default_factory=list)
    #: Named inputs of a network with several (empty: one unnamed input). Each enters through
    #: one ``input`` layer reading its columns of the flat network input, whose shape is then
    #: ``(sum of the inputs' sizes,)``.
    inputs: list[InputSpec] = field(default_factory=list)

    def add_input(self, name: str, shape: tuple[int, ...], dtype: str = "float") -> int:
        """Append a named input (before any other layer) and return the index of its ``input``
        layer; the network input becomes the inputs' values side by side.

        Examples
        --------
        >>> spec = NetworkSpec(input_shape=(0,))
        >>> spec.add_input("input_ids", (4,), "int"), spec.add_input("attention_mask", (4,), "int")
        (0, 1)
        >>> spec.input_shape, spec.layers[1].params
        ((8,), {'offset': 4, 'shape': (4,)})
        """
        if dtype not in INPUT_DTYPES:
            raise ValueError(f"dtype: expected one of {INPUT_DTYPES}, got {dtype!r}")
        if len(self.layers) != len(self.inputs):
            raise ValueError("spec: add every input before the other layers")
        shape = tuple(int(d) for d in shape)
        offset = sum(int(np.prod(i.shape)) for i in self.inputs)
        self.inputs.append(InputSpec(str(name), shape, dtype))
        self.input_shape = (offset + int(np.prod(shape)),)
        return self.add("input", str(name), [-1], {"offset": offset, "shape": shape})

    def add(
        self,
        kind: str,
        name: str,
        inputs: list[int] | None = None,
        params: dict[str, Any] | None = None,
        **weights: np.ndarray | None,
    ) -> int:
        """Append a layer reading ``inputs`` (default: the previous layer) and return its index.

        The kind and its weight names are checked against the layer table; parameters are
        checked when the network is compiled (the core names the layer in its errors).
        """
        if kind not in LAYERS:
            raise ValueError(f"kind: expected one of {tuple(LAYERS)}, got {kind!r}")
        unknown = sorted(set(weights) - set(LAYERS[kind].weights))
        if unknown:
            raise ValueError(f"{kind}: unknown weight(s) {unknown}; known: {LAYERS[kind].weights}")
        if inputs is None:
            inputs = [len(self.layers) - 1]
        clean = {
            key: None if value is None else np.ascontiguousarray(value, dtype=np.float32)
            for key, value in weights.items()
        }
        self.layers.append(LayerSpec(kind, name, list(inputs), dict(params or {}), clean))
        return len(self.layers) - 1


#: The keys of a layer in a saved spec (``spec_to_dict``).
_LAYER_KEYS = ("kind", "name", "inputs", "params", "weights")


def spec_to_dict(spec: NetworkSpec) -> dict[str, Any]:
    """``spec`` as plain values for a saved file: lists, numbers, strings and the weight arrays.

    Examples
    --------
    >>> spec = NetworkSpec(input_shape=(1, 4, 4))
    >>> _ = spec.add("max_pool2d", "pool", params={"kernel": (2, 2)})
    >>> spec_to_dict(spec)["layers"][0]["params"]
    {'kernel': [2, 2]}
    """
    inputs = [
        {"name": i.name, "shape": [int(d) for d in i.shape], "dtype": i.dtype} for i in spec.inputs
    ]
    return {
        "input_shape": [int(d) for d in spec.input_shape],
        **({"inputs": inputs} if inputs else {}),
        "layers": [
            {
                "kind": layer.kind,
                "name": layer.name,
                "inputs": [int(i) for i in layer.inputs],
                "params": {key: _plain(value) for key, value in layer.params.items()},
                "weights": {
                    key: None if value is None else np.ascontiguousarray(value)
                    for key, value in layer.weights.items()
                },
            }
            for layer in spec.layers
        ],
    }


def _plain(value: Any) -> Any:
    """A parameter as JSON holds it: sequences as lists, NumPy scalars as Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value.item() if isinstance(value, np.generic) else value


def spec_from_dict(data: Any) -> NetworkSpec:
    """The ``NetworkSpec`` of ``spec_to_dict`` output read from a file (untrusted): checks the
    structure and the types here (``ValueError``); building the network checks the rest.

    Examples
    --------
    >>> spec = NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.ones((1, 2), np.float32), bias=None)
    >>> spec_from_dict(spec_to_dict(spec)).layers[0].weights["weight"].shape
    (1, 2)
    """
    if not isinstance(data, dict) or not {"input_shape", "layers"} <= set(data) <= _SPEC_KEYS:
        raise ValueError(
            "spec: expected an object with keys 'input_shape', 'layers' (and 'inputs')"
        )
    shape, layers = data["input_shape"], data["layers"]
    if not _ints(shape) or not isinstance(layers, list):
        raise ValueError("spec: input_shape must be a list of ints and layers a list")
    spec = NetworkSpec(input_shape=tuple(shape), inputs=_inputs_from(data.get("inputs", [])))
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict) or set(layer) != set(_LAYER_KEYS):
            raise ValueError(f"spec: layer {index} must be an object with keys {_LAYER_KEYS}")
        kind, name, inputs, params, weights = (layer[key] for key in _LAYER_KEYS)
        where = f"spec: layer {index}"
        if not isinstance(kind, str) or not isinstance(name, str) or not _ints(inputs):
            raise ValueError(f"{where}: kind and name must be strings and inputs a list of ints")
        if not isinstance(params, dict) or not all(map(_param_ok, params.values())):
            raise ValueError(f"{where}: params must map names to numbers, strings or lists of ints")
        if not isinstance(weights, dict) or not all(
            value is None or isinstance(value, np.ndarray) for value in weights.values()
        ):
            raise ValueError(f"{where}: weights must map names to arrays or null")
        params = {key: tuple(v) if isinstance(v, list) else v for key, v in params.items()}
        spec.layers.append(LayerSpec(kind, name, list(inputs), params, dict(weights)))
    return spec


#: The keys of a saved spec.
_SPEC_KEYS = {"input_shape", "layers", "inputs"}


def _inputs_from(data: Any) -> list[InputSpec]:
    """The named inputs of a saved spec, checked (untrusted)."""
    keys = {"name", "shape", "dtype"}
    if not isinstance(data, list) or not all(isinstance(i, dict) and set(i) == keys for i in data):
        raise ValueError(f"spec: inputs must be a list of objects with keys {sorted(keys)}")
    inputs = []
    for item in data:
        if not isinstance(item["name"], str) or not _ints(item["shape"]):
            raise ValueError("spec: an input's name must be a string and its shape a list of ints")
        if item["dtype"] not in INPUT_DTYPES:
            raise ValueError(f"spec: an input's dtype must be one of {INPUT_DTYPES}")
        inputs.append(InputSpec(item["name"], tuple(item["shape"]), item["dtype"]))
    return inputs


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(type(item) is int for item in value)


def _param_ok(value: Any) -> bool:
    if isinstance(value, list):
        return all(type(item) in (int, float, bool) for item in value)
    return value is None or type(value) in (int, float, bool, str)
