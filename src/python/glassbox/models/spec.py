"""The framework-neutral description of a network that every adapter produces.

An adapter (torch, sklearn, onnx, keras) translates a framework model into a ``NetworkSpec``;
``glassbox.models.native.build_network`` turns the spec into a native ``Network`` once, and
``tests/reference/network.py`` evaluates the same spec literally in NumPy.

A spec is a list of layers in topological order. Each layer names the layers it reads
(``inputs``: indices into the list, ``-1`` for the network input). Sequential networks read the
previous layer; DAG layers (residual ``add``, ``concat``) read several.

Layer kinds and their ``params`` / ``weights``:

==============  ============================================  =====================================
kind            params                                        weights (float32, C-contiguous)
==============  ============================================  =====================================
dense           --                                            weight (out, in), bias (out,) or None
relu            --                                            --
leaky_relu      negative_slope (float)                        --
elu             alpha (float)                                 --
sigmoid         --                                            --
tanh            --                                            --
softplus        beta (float), threshold (float)               --
gelu            approximate ("none" | "tanh")                 --
silu            --                                            --
selu            --  (torch's constants)                       --
mish            --  (x * tanh(softplus(x)))                   --
clamp           min (float, -inf), max (float, inf); also     --
                ReLU6 / Hardtanh
hardsigmoid     --  (relu6(x + 3) / 6)                        --
hardswish       --  (x * relu6(x + 3) / 6)                    --
softmax         --  (over the feature axis)                   --
log_softmax     --  (over the feature axis)                   --
flatten         --                                            --
dropout         --  (identity at inference)                   --
identity        --                                            --
conv2d          stride (sh, sw), padding (top, left, bottom,  weight (Cout, Cin/groups, kh, kw),
                right), dilation (dh, dw), groups (int)       bias (Cout,) or None
max_pool2d      kernel (kh, kw), stride (default kernel),     --
                padding (4), dilation (dh, dw), ceil_mode
avg_pool2d      kernel, stride (default kernel), padding      --
                (4), ceil_mode, count_include_pad (True)
adaptive_avg_   output_size (oh, ow); (1, 1) is global        --
pool2d          average pooling
reduce_mean     axes (per-sample axes, negative from the      --
                end; default every axis), keepdims (False)
batch_norm      --  (y = x * scale + shift per channel of     scale (C,), shift (C,)
                (C, H, W) or per feature of (F,))
scale_shift     --  (y = x * scale + shift; constant          scale, shift: each 1 value, one
                arithmetic such as x / 255 - 0.5)             per channel or one per element
                                                              (default 1 and 0)
add             --  (2+ inputs of equal shape, summed)        --
concat          axis (per-sample axis, 0 = channels)          --
reshape         shape (per-sample target, one -1 allowed)     --
==============  ============================================  =====================================

Per-sample shapes are NCHW without N: ``(C, H, W)`` for images, ``(F,)`` for vectors. Sequence
params are tuples of ints (a single int or an ``(h, w)`` pair is also accepted for padding and is
broadcast); bools are passed as 0/1. Pooling follows torch (``-inf`` padding for max pooling,
``ceil_mode`` windows must start inside the input or the top/left padding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ACTIVATION_ORDER: tuple[str, ...] = (
    "relu",
    "leaky_relu",
    "elu",
    "sigmoid",
    "tanh",
    "softplus",
    "gelu",
    "silu",
    "selu",
    "mish",
    "clamp",
    "hardsigmoid",
    "hardswish",
    "softmax",
    "log_softmax",
)
ACTIVATION_KINDS: frozenset[str] = frozenset(ACTIVATION_ORDER)
SPATIAL_KINDS: tuple[str, ...] = ("conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d")
LAYER_KINDS: tuple[str, ...] = (
    "dense",
    *ACTIVATION_ORDER,
    "flatten",
    "dropout",
    "identity",
    *SPATIAL_KINDS,
    "reduce_mean",
    "batch_norm",
    "scale_shift",
    "add",
    "concat",
    "reshape",
)


@dataclass
class LayerSpec:
    """One layer of a ``NetworkSpec``.

    Parameters
    ----------
    kind : str
        One of ``LAYER_KINDS``.
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
        """Append a layer reading ``inputs`` (default: the previous layer) and return its index."""
        if kind not in LAYER_KINDS:
            raise ValueError(f"kind: expected one of {LAYER_KINDS}, got {kind!r}")
        if inputs is None:
            inputs = [len(self.layers) - 1]
        clean = {
            key: None if value is None else np.ascontiguousarray(value, dtype=np.float32)
            for key, value in weights.items()
        }
        self.layers.append(LayerSpec(kind, name, list(inputs), dict(params or {}), clean))
        return len(self.layers) - 1
