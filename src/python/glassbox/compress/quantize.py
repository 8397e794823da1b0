"""Quantisation probe: symmetric fake quantisation of the weights, as PyTorch's observers and
``torch.fake_quantize_per_channel_affine`` / ``per_tensor_affine`` compute it."""

from __future__ import annotations

import numpy as np

from glassbox._validation import check_int
from glassbox.compress._model import (
    CompressedModel,
    affine_layers,
    compressed,
    describe,
    native_model,
    replace_weights,
    select_layers,
)

#: Bit widths ``quantize`` takes.
MIN_BITS, MAX_BITS = 2, 16


def symmetric_scales(weight: np.ndarray, bits: int, per_channel: bool) -> np.ndarray:
    """float32 scales of a symmetric observer (torch's ``PerChannelMinMaxObserver`` over axis 0
    or ``MinMaxObserver``, qscheme ``*_symmetric``): max(|min|, |max|) / ((qmax - qmin) / 2),
    min/max taken with 0 included, at least float32's eps."""
    rows = weight.reshape(weight.shape[0] if per_channel else 1, -1)
    low = np.minimum(rows.min(axis=1), np.float32(0))
    high = np.maximum(rows.max(axis=1), np.float32(0))
    half_range = np.float32((2**bits - 1) / 2)  # (qmax - qmin) / 2, exact in float32
    scales = (np.maximum(-low, high) / half_range).astype(np.float32)
    return np.maximum(scales, np.finfo(np.float32).eps)


def fake_quantize(weight: np.ndarray, scales: np.ndarray, bits: int) -> np.ndarray:
    """torch's fake quantisation with zero point 0, in float32 as its CPU kernel:
    clamp(rint(w * (1 / s)), qmin, qmax) * s, one scale per row of axis 0 (or one)."""
    shape = (-1,) + (1,) * (weight.ndim - 1)
    s = scales.reshape(shape)
    inverse = np.float32(1.0) / s
    q = np.clip(np.rint(weight * inverse), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return (q.astype(np.float32) * s).astype(np.float32)


def quantize(
    model: object,
    bits: int = 8,
    per_channel: bool = True,
    *,
    layers: str | list[str] | None = None,
) -> CompressedModel:
    """A copy of ``model`` whose dense / conv2d weights are fake-quantised to ``bits`` bits.

    Symmetric, zero point 0, integer range [-2^(bits-1), 2^(bits-1) - 1] (qint8's [-128, 127]
    for 8 bits), with PyTorch's semantics: the scale of each output channel (``per_channel``:
    torch's ``PerChannelMinMaxObserver`` with ``per_channel_symmetric`` on axis 0) or of the
    whole tensor (``MinMaxObserver`` with ``per_tensor_symmetric``) is max(|min w|, |max w|) /
    ((qmax - qmin) / 2), and each weight becomes clamp(round(w / scale), qmin, qmax) * scale
    exactly as ``torch.fake_quantize_per_channel_affine`` (``per_tensor_affine``) computes it.
    Biases stay float32, as in torch's quantised layers. Activations are not quantised.

    Parameters
    ----------
    model : NativeModel
        Not changed.
    bits : int, default 8
        2 to 16.
    per_channel : bool, default True
        One scale per output unit / filter, else one per layer.
    layers : str or list of str, optional
        The dense / conv2d layers to quantise (default: all).

    Returns
    -------
    CompressedModel
        ``.compression.scales`` holds each layer's scales and ``.compression.bits`` the width.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(3,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[0.3, -1.0, 0.52]]), bias=None)
    >>> q = gb.compress.quantize(gb.build_network(spec), bits=2)  # levels -2..1 times 1 / 1.5
    >>> q.compression.scales["fc"], q.spec.layers[0].weights["weight"].astype(float).round(3)
    (array([0.6666667], dtype=float32), array([[ 0.   , -1.333,  0.667]]))
    """
    bits = check_int(bits, "bits", MIN_BITS, MAX_BITS)
    if not isinstance(per_channel, (bool, np.bool_)):
        raise TypeError(f"per_channel: expected True or False, got {per_channel!r}")
    native = native_model(model)
    spec = native.spec
    chosen = select_layers(spec, layers, affine_layers(spec))
    new, scales = {}, {}
    for i in chosen:
        weight = np.asarray(spec.layers[i].weights["weight"], dtype=np.float32)
        scales[spec.layers[i].name] = symmetric_scales(weight, bits, bool(per_channel))
        new[i] = {"weight": fake_quantize(weight, scales[spec.layers[i].name], bits)}
    quantised = replace_weights(spec, new)
    record = describe(quantised, "quantize", bits=bits, scales=scales)
    return compressed(quantised, record, native)
