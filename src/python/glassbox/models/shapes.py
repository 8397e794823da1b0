"""Per-sample output shapes of ``NetworkSpec`` layers, computed in Python (no native build).

Adapters use these to track shapes while translating a framework graph, and
``output_head`` uses :func:`layer_shapes` to find a network's output width. Shapes are
per-sample and NCHW without the batch axis: ``(C, H, W)`` for images, ``(F,)`` for vectors.

Examples
--------
>>> conv_out(28, kernel=5, stride=1, pad_begin=0, pad_end=0, dilation=1)
24
>>> pool_out(7, kernel=2, stride=2, pad_begin=0, pad_end=0, dilation=1, ceil_mode=True)
4
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox.models.spec import LayerSpec, NetworkSpec


def conv_out(
    size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int
) -> int:
    """Output extent of a convolution along one axis (torch / ONNX ``NOTSET`` semantics)."""
    return (size + pad_begin + pad_end - dilation * (kernel - 1) - 1) // stride + 1


def pool_out(
    size: int,
    kernel: int,
    stride: int,
    pad_begin: int,
    pad_end: int,
    dilation: int,
    ceil_mode: bool,
) -> int:
    """Output extent of a pooling window along one axis (torch semantics for ``ceil_mode``:
    the last window must start inside the input or its leading padding)."""
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def same_padding(
    size: int, kernel: int, stride: int, dilation: int, upper: bool = True
) -> tuple[int, int]:
    """(begin, end) padding of TF / ONNX ``SAME_UPPER`` (``upper``) or ``SAME_LOWER``: the
    output has ``ceil(size / stride)`` positions; an odd total goes to the end (upper) or the
    beginning (lower)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if upper else (large, small)


def resolve_reshape(target: Sequence[int], size: int) -> tuple[int, ...]:
    """``target`` with its (single) ``-1`` resolved so the product is ``size``; ValueError if
    that is impossible."""
    dims = [int(d) for d in target]
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1 or any(d < -1 or d == 0 for d in dims):
        raise ValueError(f"cannot reshape {size} values to {tuple(dims)}")
    known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape {size} values to {tuple(dims)}")
        dims[unknown[0]] = size // known
    elif known != size:
        raise ValueError(f"cannot reshape {size} values to {tuple(dims)}")
    return tuple(dims)


def reduce_mean_shape(
    shape: Sequence[int], axes: int | Sequence[int] | None, keepdims: bool
) -> tuple[int, ...]:
    """Per-sample shape after a mean over ``axes`` (per-sample, negative from the end; ``None``:
    every axis): the axes dropped, or kept as 1 with ``keepdims``; no axis left gives ``(1,)``.

    Examples
    --------
    >>> reduce_mean_shape((3, 4, 5), (1, -1), keepdims=False)
    (3,)
    >>> reduce_mean_shape((3, 4, 5), None, keepdims=False)
    (1,)
    """
    rank = len(shape)
    if axes is None:
        reduced = set(range(rank))
    else:
        items = [int(axes)] if isinstance(axes, (int, np.integer)) else [int(a) for a in axes]
        reduced = {a % rank if -rank <= a < rank else a for a in items}
        if len(reduced) != len(items) or not reduced <= set(range(rank)):
            raise ValueError(f"reduce_mean: axes {tuple(items)} do not fit shape {tuple(shape)}")
    out = tuple(
        1 if d in reduced else int(extent)
        for d, extent in enumerate(shape)
        if keepdims or d not in reduced
    )
    return out or (1,)


def _pair(params: dict[str, Any], key: str, default: int) -> tuple[int, int]:
    value = params.get(key, default)
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    return int(value[0]), int(value[1])


def _padding(value: Any) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from an int, an (h, w) pair or four values."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 4  # type: ignore[return-value]
    values = [int(v) for v in value]
    if len(values) == 2:
        return (values[0], values[1], values[0], values[1])
    top, left, bottom, right = values
    return top, left, bottom, right


def output_shape(layer: LayerSpec, input_shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """Per-sample output shape of ``layer`` reading tensors of ``input_shapes``."""
    kind, p = layer.kind, layer.params
    shape = tuple(input_shapes[0])
    if kind == "dense":
        return (int(layer.weights["weight"].shape[0]),)
    if kind == "flatten":
        return (int(np.prod(shape, dtype=np.int64)),)
    if kind == "reshape":
        return resolve_reshape(p["shape"], int(np.prod(shape, dtype=np.int64)))
    if kind == "concat":
        axis = int(p.get("axis", 0))
        total = sum(int(s[axis]) for s in input_shapes)
        return (*shape[:axis], total, *shape[axis + 1 :])
    if kind == "reduce_mean":
        return reduce_mean_shape(shape, p.get("axes"), bool(p.get("keepdims", False)))
    if kind == "adaptive_avg_pool2d":
        oh, ow = _pair(p, "output_size", 1)
        return (shape[0], oh, ow)
    if kind in ("conv2d", "max_pool2d", "avg_pool2d"):
        c, h, w = shape
        pt, pl, pb, pr = _padding(p.get("padding", 0))
        sh, sw = _pair(p, "stride", 1)
        dh, dw = _pair(p, "dilation", 1)
        if kind == "conv2d":
            weight = layer.weights["weight"]
            kh, kw = int(weight.shape[2]), int(weight.shape[3])
            return (
                int(weight.shape[0]),
                conv_out(h, kh, sh, pt, pb, dh),
                conv_out(w, kw, sw, pl, pr, dw),
            )
        kh, kw = _pair(p, "kernel", 1)
        if "stride" not in p:
            sh, sw = kh, kw
        ceil = bool(p.get("ceil_mode", False))
        return (c, pool_out(h, kh, sh, pt, pb, dh, ceil), pool_out(w, kw, sw, pl, pr, dw, ceil))
    return shape  # activations, batch_norm, scale_shift, add, dropout, identity


def layer_shapes(spec: NetworkSpec) -> list[tuple[int, ...]]:
    """Per-sample output shape of every layer of ``spec``.

    Examples
    --------
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


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for ints."""
    return -(-a // b)


__all__ = [
    "ceil_div",
    "conv_out",
    "layer_shapes",
    "output_shape",
    "pool_out",
    "reduce_mean_shape",
    "resolve_reshape",
    "same_padding",
]
