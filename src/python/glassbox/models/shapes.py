"""Per-sample output shapes of ``NetworkSpec`` layers, computed in Python (no native build).

The shape algebra of each kind lives in the layer table (``models/layers.py``); this module
applies it to spec layers. The graph builder tracks shapes with it while translating, and
``output_head`` uses :func:`layer_shapes` to find a network's output width. Shapes are per-sample
and NCHW without the batch axis: ``(C, H, W)`` for images, ``(F,)`` for vectors.

Examples
--------
>>> conv_out(28, kernel=5, stride=1, pad_begin=0, pad_end=0, dilation=1)
24
"""

from __future__ import annotations

from collections.abc import Sequence

from glassbox.models.layers import LAYERS, check_size, conv_out, pool_out, resolve_reshape
from glassbox.models.spec import LayerSpec, NetworkSpec


def same_padding(
    size: int, kernel: int, stride: int, dilation: int, upper: bool = True
) -> tuple[int, int]:
    """(begin, end) padding of TF / ONNX ``SAME_UPPER`` (``upper``) or ``SAME_LOWER``: the
    output has ``ceil(size / stride)`` positions; an odd total goes to the end (upper) or the
    beginning (lower).

    >>> same_padding(5, kernel=2, stride=1, dilation=1)
    (0, 1)
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if upper else (large, small)


def output_shape(layer: LayerSpec, input_shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """Per-sample output shape of ``layer`` reading tensors of ``input_shapes``; ValueError for
    invalid geometry or an output of more than ``MAX_ACTIVATION_SIZE`` elements per sample."""
    kind = LAYERS[layer.kind]
    shape = kind.output_shape(kind.complete(layer.params), layer.weights, input_shapes)
    return check_size(shape, f"{layer.kind}: output")


def layer_shapes(spec: NetworkSpec) -> list[tuple[int, ...]]:
    """Per-sample output shape of every layer of ``spec``.

    Examples
    --------
    >>> import numpy as np
    >>> spec = NetworkSpec(input_shape=(2, 3))
    >>> _ = spec.add("flatten", "flat")
    >>> _ = spec.add("dense", "fc", weight=np.ones((4, 6), np.float32), bias=None)
    >>> layer_shapes(spec)
    [(6,), (4,)]
    """
    shapes: list[tuple[int, ...]] = []
    for layer in spec.layers:
        inputs = [tuple(spec.input_shape) if i == -1 else shapes[i] for i in layer.inputs]
        shapes.append(output_shape(layer, inputs))
    return shapes


__all__ = [
    "conv_out",
    "layer_shapes",
    "output_shape",
    "pool_out",
    "resolve_reshape",
    "same_padding",
]
