"""Features of a native network's layers: a layer's output for every row (chunked in the C++
core, optionally pooled over an image layer's positions), its convolution kernels, and one
input's activation maps."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassbox import _core
from glassbox._validation import core_job, run_options
from glassbox.inspect._network import (
    built_model,
    image_layers,
    layer_index,
    native_network,
    not_among,
)
from glassbox.progress import ProgressArg, check_progress

#: What ``features(pool=...)`` accepts.
POOLS = ("mean", "max", None)


def features(
    model: object,
    X: object,
    layer: str,
    *,
    pool: str | None = None,
    n_threads: int | None = None,
    memory_budget: int | None = None,
    progress: ProgressArg = None,
) -> np.ndarray:
    """The output of ``layer`` for every row of ``X`` (feature extraction): what a torch forward
    hook on the corresponding module records.

    Chunked in the C++ core with the GIL released; only the layers up to ``layer`` run.

    Parameters
    ----------
    model : NativeModel, torch module, Keras model or scikit-learn MLP
        A native network, or a framework model converted first.
    X : array (n, *input_shape)
        The rows.
    layer : str
        A name from ``model.layer_names``.
    pool : {"mean", "max"} or None
        For an image layer (C, H, W): each channel's mean or max over its positions, giving
        (n, C). None: the whole output. Pooling any other layer is a ValueError.
    n_threads, memory_budget, progress
        As for :func:`glassbox.inspect.activations`.

    Returns
    -------
    numpy.ndarray
        float32, (n, *layer shape) in the native layout (images C, H, W, as torch; a Keras
        channels-last model's layers are transposed accordingly), or (n, C) when pooled.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(1, 4, 4))
    >>> _ = spec.add("conv2d", "conv", weight=np.ones((2, 1, 3, 3)), bias=np.array([0.0, 1.0]))
    >>> model = gb.build_network(spec)
    >>> X = np.ones((5, 1, 4, 4))
    >>> gb.inspect.features(model, X, "conv").shape
    (5, 2, 2, 2)
    >>> gb.inspect.features(model, X, "conv", pool="max")[0]
    array([ 9., 10.], dtype=float32)
    """
    native, batch = built_model(model, X, "inspect.features")
    index = layer_index(native, layer)
    if pool not in POOLS:
        raise ValueError(f"pool: expected 'mean', 'max' or None, got {pool!r}")
    shape = tuple(int(s) for s in native.network.layer_shapes[index])
    if pool is not None and len(shape) != 3:
        raise not_among(
            layer, "layer", image_layers(native), f"image layers (C, H, W) that pool={pool!r} needs"
        )
    options = run_options(n_threads, memory_budget)
    n = int(batch.shape[0])
    with core_job("inspect.features", native, None, options, check_progress(progress), n):
        out = _core.layer_features(
            native.network, X=batch, layer=index, pool=pool or "none", options=options
        )
    return np.asarray(out).reshape(n, *(shape if pool is None else shape[:1]))


def filters(model: object, layer: str) -> np.ndarray:
    """The convolution kernels of ``layer``: its weight (out, in / groups, kh, kw), a copy.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(1, 4, 4))
    >>> _ = spec.add("conv2d", "conv", weight=np.ones((2, 1, 3, 3)), bias=None)
    >>> gb.inspect.filters(gb.build_network(spec), "conv").shape
    (2, 1, 3, 3)
    """
    native = native_network(model, "inspect.filters")
    index = layer_index(native, layer)
    spec_layer = native.spec.layers[index]
    if spec_layer.kind != "conv2d":
        convs = [item.name for item in native.spec.layers if item.kind == "conv2d"]
        raise not_among(layer, "layer", convs, "convolution layers (conv2d)")
    return np.array(spec_layer.weights["weight"], dtype=np.float32)


def feature_maps(model: object, x: object, layer: str, **options: Any) -> np.ndarray:
    """One input's activation maps at the image layer ``layer``: (C, H, W).

    ``x`` is one sample (``input_shape``) or a batch of one; ``options`` go to
    :func:`features` (``n_threads``, ``memory_budget``).

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> spec = gb.NetworkSpec(input_shape=(1, 4, 4))
    >>> _ = spec.add("conv2d", "conv", weight=np.ones((3, 1, 3, 3)), bias=None)
    >>> gb.inspect.feature_maps(gb.build_network(spec), np.ones((1, 4, 4)), "conv").shape
    (3, 2, 2)
    """
    native = native_network(model, "inspect.feature_maps", built=False)
    sample = np.asarray(x)
    if native.built and sample.shape == native.input_shape:
        sample = sample[None]
    elif not native.built and sample.ndim == 3:
        sample = sample[None]
    if sample.ndim < 1 or sample.shape[0] != 1:
        raise ValueError(
            f"x: expected one sample of shape {native.input_shape if native.built else '(C, H, W)'}"
            f" (or a batch of one), got shape {np.shape(x)}"
        )
    native, batch = built_model(native, sample, "inspect.feature_maps")
    index = layer_index(native, layer)
    if len(native.network.layer_shapes[index]) != 3:
        raise not_among(layer, "layer", image_layers(native), "image layers (C, H, W)")
    return features(native, batch.reshape(sample.shape), layer, **options)[0]


__all__ = ["POOLS", "feature_maps", "features", "filters"]
