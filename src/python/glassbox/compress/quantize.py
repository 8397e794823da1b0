"""Quantisation probe: symmetric fake quantisation of the weights, as PyTorch's observers and
``torch.fake_quantize_per_channel_affine`` / ``per_tensor_affine`` compute it."""

from __future__ import annotations

import numpy as np

from glassbox._validation import as_batch, check_int
from glassbox.compress._model import (
    CompressedModel,
    affine_layers,
    compressed,
    describe,
    native_model,
    replace_weights,
    select_layers,
)
from glassbox.data import read_array
from glassbox.models.native import NativeModel
from glassbox.models.spec import LayerSpec, NetworkSpec

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
    activations: bool = False,
    data: object = None,
) -> CompressedModel:
    """A copy of ``model`` whose dense / conv2d weights are fake-quantised to ``bits`` bits.

    Symmetric, zero point 0, integer range [-2^(bits-1), 2^(bits-1) - 1] (qint8's [-128, 127]
    for 8 bits), with PyTorch's semantics: the scale of each output channel (``per_channel``:
    torch's ``PerChannelMinMaxObserver`` with ``per_channel_symmetric`` on axis 0) or of the
    whole tensor (``MinMaxObserver`` with ``per_tensor_symmetric``) is max(|min w|, |max w|) /
    ((qmax - qmin) / 2), and each weight becomes clamp(round(w / scale), qmin, qmax) * scale
    exactly as ``torch.fake_quantize_per_channel_affine`` (``per_tensor_affine``) computes it.
    Biases stay float32, as in torch's quantised layers.

    With ``activations=True`` the input of every quantised layer is fake-quantised too, as an
    integer kernel would read it: a ``fake_quant`` layer (``torch.fake_quantize_per_tensor_affine``
    with zero point 0; its gradient is torch's straight-through estimator) is inserted before the
    layer, one per distinct input tensor (the network's input included), with the scale a
    ``MinMaxObserver(qscheme=per_tensor_symmetric)`` calibrated on ``data`` gives that tensor:
    max(|min|, |max|) over every value of it on ``data`` (streamed in the core), / ((qmax - qmin)
    / 2). The inserted layers are named ``"{input layer}/quant"`` (``"input/quant"`` for the
    network's input).

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
    activations : bool, default False
        Also fake-quantise the inputs of those layers (needs ``data``).
    data : array (n, *input_shape), optional
        Calibration rows for the activation scales.

    Returns
    -------
    CompressedModel
        ``.compression.scales`` holds each layer's scales, ``.compression.bits`` the width and
        ``.compression.activation_scales`` the scale of each inserted ``fake_quant`` layer.

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
    if not isinstance(activations, (bool, np.bool_)):
        raise TypeError(f"activations: expected True or False, got {activations!r}")
    if activations and data is None:
        raise ValueError(
            "data: activations=True needs calibration rows (data=X, the rows whose range of "
            "each quantised layer's input fixes its scale)"
        )
    native = native_model(model, data if activations else None, what="model")
    spec = native.spec
    chosen = select_layers(spec, layers, affine_layers(spec))
    new, scales = {}, {}
    for i in chosen:
        weight = np.asarray(spec.layers[i].weights["weight"], dtype=np.float32)
        scales[spec.layers[i].name] = symmetric_scales(weight, bits, bool(per_channel))
        new[i] = {"weight": fake_quantize(weight, scales[spec.layers[i].name], bits)}
    quantised = replace_weights(spec, new)
    activation_scales: dict[str, np.ndarray] = {}
    if activations:
        quantised, activation_scales = _quantise_inputs(native, quantised, chosen, data, bits)
    record = describe(
        quantised, "quantize", bits=bits, scales=scales, activation_scales=activation_scales
    )
    return compressed(quantised, record, native)


def _quantise_inputs(
    native: NativeModel, spec: NetworkSpec, chosen: list[int], data: object, bits: int
) -> tuple[NetworkSpec, dict[str, np.ndarray]]:
    """``spec`` with a calibrated ``fake_quant`` layer on the input of each chosen layer (one
    per distinct input tensor), and those layers' scales by name."""
    from glassbox.inspect import activations as activation_stats

    sources = sorted({spec.layers[i].inputs[0] for i in chosen})
    batch = as_batch(read_array(data), native.input_shape, "data")
    ranges = {}
    if -1 in sources:
        ranges[-1] = np.array([batch.min(), batch.max()], dtype=np.float32)
    hidden = [i for i in sources if i >= 0]
    if hidden:
        names = [native.layer_names[i] for i in hidden]
        stats = activation_stats(native, batch, names, bins=1)
        for i, low, high in zip(hidden, stats.min, stats.max, strict=True):
            ranges[i] = np.array([low, high], dtype=np.float32)
    names = {i: f"{spec.layers[i].name}/quant" if i >= 0 else "input/quant" for i in sources}
    scales = {names[i]: symmetric_scales(ranges[i], bits, False) for i in sources}
    taken = {layer.name for layer in spec.layers}
    clash = sorted(taken & set(names.values()))
    if clash:
        raise ValueError(f"model: layer names {clash} are taken; rename them to quantise inputs")

    layers: list[LayerSpec] = []
    moved: dict[int, int] = {-1: -1}  # old index -> new index
    quant_of: dict[int, int] = {}  # old source index -> index of its fake_quant layer

    def add_quant(source: int) -> None:
        scale = float(scales[names[source]][0])
        params = {"scale": scale, "bits": bits}
        layers.append(LayerSpec("fake_quant", names[source], [moved[source]], params, {}))
        quant_of[source] = len(layers) - 1

    if -1 in names:
        add_quant(-1)
    for i, layer in enumerate(spec.layers):
        reads = [quant_of[j] if i in chosen else moved[j] for j in layer.inputs]
        layers.append(LayerSpec(layer.kind, layer.name, reads, layer.params, layer.weights))
        moved[i] = len(layers) - 1
        if i in names:
            add_quant(i)
    return NetworkSpec(input_shape=tuple(spec.input_shape), layers=layers), scales
