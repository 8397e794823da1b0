"""Model adapters: framework models -> native networks, and any callable -> a black-box model.

The adapters import their framework only when called, so ``import glassbox`` needs only numpy.
"""

from __future__ import annotations

from glassbox.models.agnostic import as_model
from glassbox.models.callable import CallableModel, wrap
from glassbox.models.keras_adapter import from_keras
from glassbox.models.native import NativeModel, build_network
from glassbox.models.onnx_adapter import from_onnx
from glassbox.models.sklearn_adapter import from_sklearn
from glassbox.models.spec import LayerSpec, NetworkSpec
from glassbox.models.torch_adapter import from_torch

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
