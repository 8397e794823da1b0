"""What every compression probe shares: the model check, the affine layers a probe changes, a
copy of the spec with new weights (the original's arrays are never written), and the model a
probe returns (``CompressedModel``: a ``NativeModel`` that remembers what was done to it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassbox._validation import check_choice
from glassbox.models.convert import native_network
from glassbox.models.layers import kinds_where
from glassbox.models.native import NativeModel
from glassbox.models.spec import LayerSpec, NetworkSpec
from glassbox.tables import KINDS, Tabular, pandas

#: The layer kinds whose weights the probes change (dense and conv2d).
AFFINE = kinds_where(category="affine")
#: Bits of an uncompressed weight (float32).
FLOAT_BITS = 32


def native_model(model: object, X: object = None, what: str = "model") -> NativeModel:
    """``model`` as a built native network (``models.convert.native_network``; a lazy one is
    built for the samples of ``X``); ``what`` is the model's argument name in the errors."""
    lazy = not isinstance(model, NativeModel) or not model.built
    shape = tuple(np.shape(X)[1:]) or None if lazy and X is not None else None
    return native_network(model, "compression", shape, argument=what)


def affine_layers(spec: NetworkSpec) -> list[int]:
    """Indices of the dense / conv2d layers of ``spec``, in order."""
    return [i for i, layer in enumerate(spec.layers) if layer.kind in AFFINE]


def hidden_affine_layers(spec: NetworkSpec) -> list[int]:
    """The affine layers another affine layer reads downstream (their units are hidden units,
    not the network's outputs)."""
    feeds_affine = [False] * len(spec.layers)
    for index in reversed(range(len(spec.layers))):
        layer = spec.layers[index]
        for source in layer.inputs:
            if source >= 0 and (layer.kind in AFFINE or feeds_affine[index]):
                feeds_affine[source] = True
    return [i for i in affine_layers(spec) if feeds_affine[i]]


def select_layers(spec: NetworkSpec, layers: object, default: list[int]) -> list[int]:
    """The affine layer indices named by ``layers`` (a name or a sequence of names; None:
    ``default``), or a ValueError naming the unknown / non-affine ones."""
    if layers is None:
        return default
    names = [layers] if isinstance(layers, str) else list(layers)  # type: ignore[call-overload]
    index = {spec.layers[i].name: i for i in affine_layers(spec)}
    bad = [name for name in names if name not in index]
    if bad or not names:
        raise ValueError(
            f"layers: {bad or 'an empty list'} are not dense / conv2d layers of the model; "
            f"expected names among {list(index)}"
        )
    return sorted({index[name] for name in names})


def replace_weights(spec: NetworkSpec, new: dict[int, dict[str, np.ndarray]]) -> NetworkSpec:
    """A new spec equal to ``spec`` with ``new[i]`` replacing weights of layer ``i``; every
    array is copied, so neither model can change the other's weights."""
    layers = []
    for i, layer in enumerate(spec.layers):
        weights = {
            key: None if value is None else np.array(value, dtype=np.float32)
            for key, value in {**layer.weights, **new.get(i, {})}.items()
        }
        layers.append(
            LayerSpec(layer.kind, layer.name, list(layer.inputs), dict(layer.params), weights)
        )
    return NetworkSpec(input_shape=tuple(spec.input_shape), layers=layers)


@dataclass(frozen=True)
class Compression(Tabular):
    """What a probe did to a model (``CompressedModel.compression``): one row per dense /
    conv2d layer in ``to_frame()``.

    Attributes
    ----------
    method : str
        "magnitude", "relevance", "quantize" or "distill".
    layers : list of str
        The affine layers of the compressed model.
    params, zeros : ndarray
        Weights (not biases) per layer and how many of them are exactly 0.
    bits : int
        Bits per stored weight: 32 (float32) unless quantised.
    amount : float or None
        The pruning amount asked for (None for other probes).
    scales : dict
        Quantisation: per layer, the scale of each output channel (one value per tensor).
    activation_scales : dict
        Quantisation with ``activations=True``: per inserted ``fake_quant`` layer, its scale.
    removed_units : dict
        Structured and relevance pruning: per layer, the output units / filters zeroed.
    relevance : dict
        Relevance pruning: per layer, each unit's mean absolute LRP relevance on ``data``.
    """

    method: str
    layers: list[str]
    params: np.ndarray
    zeros: np.ndarray
    bits: int = FLOAT_BITS
    amount: float | None = None
    scales: dict[str, np.ndarray] = field(default_factory=dict)
    activation_scales: dict[str, np.ndarray] = field(default_factory=dict)
    removed_units: dict[str, np.ndarray] = field(default_factory=dict)
    relevance: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def sparsity(self) -> dict[str, float]:
        """Per layer, the fraction of its weights that are exactly 0."""
        return {
            name: float(z / p) if p else 0.0
            for name, p, z in zip(self.layers, self.params, self.zeros, strict=True)
        }

    @property
    def total_sparsity(self) -> float:
        """The fraction of all affine weights that are exactly 0."""
        total = int(np.sum(self.params))
        return float(np.sum(self.zeros) / total) if total else 0.0

    def bits_of(self, layer: str) -> int:
        """Bits per stored weight of ``layer`` (32 unless it was quantised)."""
        return self.bits if layer in self.scales else FLOAT_BITS

    def to_frame(self, kind: str = "wide") -> Any:
        """One row per dense / conv2d layer: ``layer``, ``params``, ``zeros``, ``sparsity``,
        ``bits``."""
        check_choice(kind, "kind", KINDS)  # one row per item: both layouts are this table
        return pandas().DataFrame(
            {
                "layer": list(self.layers),
                "params": np.asarray(self.params, dtype=np.int64),
                "zeros": np.asarray(self.zeros, dtype=np.int64),
                "sparsity": list(self.sparsity.values()),
                "bits": [self.bits_of(name) for name in self.layers],
            }
        )


def describe(spec: NetworkSpec, method: str, **fields: Any) -> Compression:
    """The ``Compression`` record of a compressed ``spec`` (weights counted per affine layer)."""
    indices = affine_layers(spec)
    weights = [np.asarray(spec.layers[i].weights["weight"]) for i in indices]
    return Compression(
        method=method,
        layers=[spec.layers[i].name for i in indices],
        params=np.array([w.size for w in weights], dtype=np.int64),
        zeros=np.array([np.count_nonzero(w == 0) for w in weights], dtype=np.int64),
        **fields,
    )


class CompressedModel(NativeModel):
    """A native model a compression probe returned: a ``NativeModel`` (every explainer takes
    it) with ``compression``, the record of what was done; ``sparsity`` is its per-layer
    fraction of zero weights. It pickles with the record; ``save`` / ``load`` keep the
    weights only (the loaded model is a plain ``NativeModel``)."""

    def __init__(
        self, spec: NetworkSpec | None = None, *, compression: Compression | None = None, **kw: Any
    ) -> None:
        super().__init__(spec, **kw)
        self.compression = compression

    @property
    def sparsity(self) -> dict[str, float]:
        """Per dense / conv2d layer, the fraction of its weights that are exactly 0."""
        return self.compression.sparsity

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "compression": self.compression}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or not isinstance(state.get("compression"), Compression):
            raise TypeError("CompressedModel: invalid pickled state (compression)")
        state = dict(state)
        compression = state.pop("compression")
        super().__setstate__(state)
        self.compression = compression

    def __repr__(self) -> str:
        inner = super().__repr__().removeprefix("NativeModel(")
        return f"CompressedModel({self.compression.method}, {inner}"


def compressed(spec: NetworkSpec, compression: Compression, source: NativeModel) -> CompressedModel:
    """The model compiled from ``spec``, named as ``source``, with its ``compression`` record."""
    return CompressedModel(
        spec,
        compression=compression,
        feature_names=source.feature_names,
        output_names=source.output_names,
    )


def model_size(model: NativeModel) -> tuple[int, int]:
    """``(params, bytes)`` of a model: the nonzero parameters (weights and biases of every
    layer), and the bytes to store them at their precision (quantised weights at their bit
    width plus one float32 scale per channel; everything else float32). The index overhead of
    a sparse format is not counted."""
    compression = getattr(model, "compression", None)
    params = 0
    bits_total = 0
    for layer in model.spec.layers:
        for key, value in layer.weights.items():
            if value is None:
                continue
            count = int(np.count_nonzero(np.asarray(value)))
            params += count
            quantised = key == "weight" and layer.kind in AFFINE and compression is not None
            bits_total += count * (compression.bits_of(layer.name) if quantised else FLOAT_BITS)
    if compression is not None:
        bits_total += FLOAT_BITS * sum(np.size(s) for s in compression.scales.values())
    return params, -(-bits_total // 8)


def check_amount(amount: object, name: str = "amount") -> float:
    """A fraction in [0, 1), else a TypeError / ValueError naming ``name``."""
    if isinstance(amount, (bool, np.bool_)) or not isinstance(
        amount, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"{name}: expected a fraction in [0, 1) (a float; counts are not taken), got "
            f"{type(amount).__name__} {amount!r}"
        )
    value = float(amount)
    if not 0.0 <= value < 1.0:  # NaN fails too
        raise ValueError(f"{name}: expected a fraction in [0, 1), got {value}")
    return value


def names_of(spec: NetworkSpec, indices: Sequence[int]) -> list[str]:
    return [spec.layers[i].name for i in indices]
