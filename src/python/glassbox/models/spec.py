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
