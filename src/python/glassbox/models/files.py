"""Model files a user hands in (a path, bytes or a loaded object): untrusted input, read and
checked here before any adapter translates them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx


def load_onnx(model: Any) -> onnx.ModelProto:
    """Read and check ``model`` (path, bytes or ModelProto); raise ``ValueError`` if invalid.

    Examples
    --------
    >>> load_onnx(b"not onnx")
    Traceback (most recent call last):
    ValueError: model: the given 8 bytes is not a valid ONNX model: ...
    """
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("from_onnx needs the 'onnx' package: pip install onnx") from exc

    if isinstance(model, onnx.ModelProto):
        label, proto = "the given ModelProto", model
    elif isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
        label = f"the given {len(data)} bytes"
        proto = _parse(lambda: onnx.load_from_string(data), label)
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise ValueError(f"model: no ONNX file at {str(path)!r} (file does not exist)")
        label = repr(str(path))
        proto = _parse(lambda: onnx.load(str(path)), label)
    else:
        raise TypeError(
            f"model: expected a file path, bytes or onnx.ModelProto, got {type(model).__name__}"
        )
    try:
        onnx.checker.check_model(proto)
        if not proto.graph.node:
            raise ValueError("the graph has no nodes")
    except Exception as exc:
        raise ValueError(f"model: {label} is not a valid ONNX model: {exc}") from exc
    return proto


def _parse(load: Any, label: str) -> onnx.ModelProto:
    try:
        return load()
    except Exception as exc:
        raise ValueError(f"model: {label} is not a valid ONNX model: {exc}") from exc
