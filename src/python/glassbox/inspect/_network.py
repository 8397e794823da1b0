"""What the inside-the-model functions share: the native network (any model an adapter can
convert: ``models.convert.native_network``) and its layers by name."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassbox.models.convert import native_network
from glassbox.models.native import NativeModel

__all__ = ["built_model", "image_layers", "layer_index", "native_network", "not_among"]


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
        f"{argument}: {layer!r} is not a layer of this model; pass a name of model.layer_names "
        f"or a position between {-len(names)} and {len(names) - 1}; its layers are: "
        f"{', '.join(names)}"
    )


def image_layers(model: NativeModel) -> list[str]:
    """The names of the layers whose output is an image (C, H, W)."""
    shapes = model.network.layer_shapes
    return [name for name, shape in zip(model.layer_names, shapes, strict=True) if len(shape) == 3]


def not_among(layer: str, argument: str, names: Sequence[str], what: str) -> ValueError:
    """The error for a ``layer`` that is not one of ``what`` (``names``, listed)."""
    listed = ", ".join(names) or "none in this model"
    return ValueError(f"{argument}: layer {layer!r} is not one of the {what}; they are: {listed}")
