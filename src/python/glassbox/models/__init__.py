"""Model adapters: framework models -> native networks, and any callable -> a black-box model.

Adapters import their framework lazily, so ``import glassbox`` needs only numpy.
"""

from __future__ import annotations

from typing import Any

from glassbox.models.agnostic import as_model
from glassbox.models.callable import CallableModel, wrap
from glassbox.models.native import NativeModel, build_network
from glassbox.models.spec import LayerSpec, NetworkSpec


def from_torch(module: Any, input_shape: Any = None, **options: Any) -> NativeModel:
    """Translate a PyTorch module (``nn.Sequential`` or torch.fx-traceable) into a native network.

    See ``glassbox.models.torch_adapter.from_torch`` for the options.
    """
    from glassbox.models.torch_adapter import from_torch as convert

    return convert(module, input_shape, **options)


def from_sklearn(estimator: Any, **options: Any) -> NativeModel:
    """Translate a fitted scikit-learn MLP or linear model (see ``sklearn_adapter``)."""
    from glassbox.models.sklearn_adapter import from_sklearn as convert

    return convert(estimator, **options)


def from_onnx(model: Any, **options: Any) -> NativeModel:
    """Translate an ONNX model (path, bytes or ModelProto; see ``onnx_adapter``)."""
    from glassbox.models.onnx_adapter import from_onnx as convert

    return convert(model, **options)


def from_keras(model: Any, **options: Any) -> NativeModel:
    """Translate a Keras 3 Sequential or Functional model (see ``keras_adapter``)."""
    from glassbox.models.keras_adapter import from_keras as convert

    return convert(model, **options)


__all__ = [
    "CallableModel",
    "LayerSpec",
    "NativeModel",
    "NetworkSpec",
    "as_model",
    "build_network",
    "from_keras",
    "from_onnx",
    "from_sklearn",
    "from_torch",
    "wrap",
]
