"""What the inside-the-model functions share: the native network (any model an adapter can
convert) and its layers by name."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassbox._validation import check_sample_shape
from glassbox.errors import UnsupportedLayerError
from glassbox.models.callable import CallableModel
from glassbox.models.convert import convert, framework
from glassbox.models.native import NativeModel


def native_network(
    model: object, what: str, input_shape: object = None, *, built: bool = True
) -> NativeModel:
    """``model`` as a built ``NativeModel``: a NativeModel as it is, a torch module, Keras model
    or scikit-learn MLP / linear model converted (``input_shape``, the per-sample shape, builds a
    CNN converted without one). ``what`` names the caller in the errors: TypeError for a model
    with no network glassbox can run inside (a function, a tree ensemble, a wrapped callable, a
    torch module with a layer the adapter cannot translate). ``built=False`` returns a lazy model
    as it is (the caller builds it from its data)."""
    shape = None if input_shape is None else check_sample_shape(input_shape)
    native, why = None, ""
    if isinstance(model, NativeModel):
        native = model
    elif not isinstance(model, CallableModel) and framework(model) is not None:
        try:
            converted = convert(model, shape, gradients=True)
        except (TypeError, UnsupportedLayerError) as error:
            # a layer or estimator the adapters cannot translate (the reason names it): glassbox
            # could only call this model, as as_model would
            converted, why = None, f" ({error})"
        native = converted if isinstance(converted, NativeModel) else None
    if native is None:
        raise TypeError(
            f"model: {what} needs a network it can look inside (a glassbox NativeModel from "
            "from_torch / from_keras / from_onnx / from_sklearn, a torch module, a Keras model "
            f"or a scikit-learn MLP); got {type(model).__name__}, which glassbox can only "
            f"call{why}"
        )
    if shape is not None:
        native.build(shape)  # ValueError when a built model's input shape differs
    if built:  # ValueError now (saying how to build it) for a lazy model
        native.spec  # noqa: B018
    return native


def built_model(model: object, X: object, what: str) -> tuple[NativeModel, np.ndarray]:
    """The native model, built for X's samples if it was lazy, and X as a checked float32 batch
    (n, n_inputs)."""
    from glassbox._validation import as_batch
    from glassbox.data import read_array

    X = read_array(X)
    # a model not built yet (a lazy NativeModel, a raw framework model) is built for X's samples
    lazy = not isinstance(model, NativeModel) or not model.built
    native = native_network(model, what, (tuple(np.shape(X)[1:]) or None) if lazy else None)
    batch = as_batch(X, native.input_shape)
    return native, batch.reshape(batch.shape[0], -1)


def layer_index(model: NativeModel, layer: object, argument: str = "layer") -> int:
    """The index of the layer named ``layer`` (a str of ``model.layer_names``, or its position
    as an int); ValueError listing the names otherwise."""
    names = model.layer_names
    if isinstance(layer, str) and layer in names:
        return names.index(layer)
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if -len(names) <= int(layer) < len(names):
            return int(layer) % len(names)
    raise ValueError(
        f"{argument}: {layer!r} is not a layer of this model; its layers are: {', '.join(names)}"
    )


def image_layers(model: NativeModel) -> list[str]:
    """The names of the layers whose output is an image (C, H, W)."""
    shapes = model.network.layer_shapes
    return [name for name, shape in zip(model.layer_names, shapes, strict=True) if len(shape) == 3]


def not_among(layer: str, argument: str, names: Sequence[str], what: str) -> ValueError:
    """The error for a ``layer`` that is not one of ``what`` (``names``, listed)."""
    listed = ", ".join(names) or "none in this model"
    return ValueError(f"{argument}: layer {layer!r} is not one of the {what}; they are: {listed}")
