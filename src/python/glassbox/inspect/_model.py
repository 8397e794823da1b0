"""The native network an inspection function looks inside, from any model glassbox can convert."""

from __future__ import annotations

from glassbox._validation import check_sample_shape
from glassbox.errors import UnsupportedLayerError
from glassbox.models.callable import CallableModel
from glassbox.models.convert import convert, framework
from glassbox.models.native import NativeModel


def native_network(model: object, what: str, input_shape: object = None) -> NativeModel:
    """``model`` as a built ``NativeModel``: a NativeModel as it is, a torch module, Keras model
    or scikit-learn MLP / linear model converted (``input_shape``, the per-sample shape, builds a
    CNN converted without one). ``what`` names the caller in the errors: TypeError for a model
    with no network glassbox can run inside (a function, a tree ensemble, a wrapped callable, a
    torch module with a layer the adapter cannot translate)."""
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
    native.spec  # noqa: B018 - ValueError now (saying how to build it) for a lazy model
    return native
