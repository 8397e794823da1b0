"""Translate an ONNX model into a native glassbox network (``glassbox.from_onnx``).

The model is read with the ``onnx`` package and checked with ``onnx.checker``; each node of its
graph becomes one layer named after the node (``node.name``, or ``f"{op_type}_{index}"`` when the
node has no name). Two node patterns are fused into one layer: ``MatMul`` followed by an ``Add``
of a constant becomes one dense layer (named after the ``MatMul``), and the decompositions that
``torch.onnx.export`` emits for GELU before opset 20 (``Div -> Erf -> Add -> Mul -> Mul``) and for
SiLU (``Sigmoid -> Mul``) become one ``gelu`` / ``silu`` layer (named after the first node).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.native import build_network
from glassbox.models.output_head import apply_output, check_output
from glassbox.models.shapes import conv_out, pool_out, resolve_reshape, same_padding
from glassbox.models.spec import NetworkSpec

if TYPE_CHECKING:
    import onnx

    from glassbox.models.native import NativeModel

SUPPORTED_OPS: tuple[str, ...] = (
    "Gemm (transA=0)",
    "MatMul (constant right operand, optionally followed by Add of a constant)",
    "Relu",
    "LeakyRelu",
    "Elu",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Gelu",
    "the erf GELU pattern Div-Erf-Add-Mul-Mul",
    "the SiLU pattern Sigmoid-Mul",
    "Softmax (axis 1 / -1)",
    "LogSoftmax (axis 1 / -1)",
    "Conv (2-D; pads, strides, dilations, group, auto_pad)",
    "MaxPool (2-D; Indices output unused)",
    "AveragePool (2-D)",
    "GlobalAveragePool",
    "BatchNormalization (inference)",
    "Add (of two computed tensors of equal shape)",
    "Add / Sub / Mul / Div by a per-channel or scalar constant",
    "Pad (zeros, spatial axes) read by a Conv",
    "Concat (not along the batch axis)",
    "Flatten (axis=1)",
    "Reshape (constant shape keeping the batch axis)",
    "Identity",
    "Dropout",
    "Constant",
)

_ACTIVATIONS = {
    "Relu": "relu",
    "LeakyRelu": "leaky_relu",
    "Elu": "elu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softplus": "softplus",
    "Gelu": "gelu",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
}


def from_onnx(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto,
    *,
    output: str = "model",
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> NativeModel:
    """Copy an ONNX model into a native glassbox network.

    Parameters
    ----------
    model : path, bytes or onnx.ModelProto
        A file path, the serialized model, or a loaded ``onnx.ModelProto``. The graph must have
        one input of shape ``(batch, *sample_shape)`` and one output, and use only
        ``SUPPORTED_OPS``.
    output : {"model", "logits", "probabilities"}
        ``"model"``: what the graph computes; ``"logits"``: without a final Softmax, LogSoftmax
        or Sigmoid; ``"probabilities"``: class probabilities (a softmax is appended to logits; a
        single logit ``z`` becomes ``[1 - sigmoid(z), sigmoid(z)]``).
    feature_names, output_names : sequence of str, optional
        Names of the (flattened) input features and of the outputs.

    Returns
    -------
    NativeModel

    Raises
    ------
    ValueError
        If ``model`` is a missing file or not a valid ONNX model.
    UnsupportedLayerError
        If the graph contains a node with no native equivalent.

    Examples
    --------
    >>> model = from_onnx("classifier.onnx", output="probabilities")  # doctest: +SKIP
    >>> model.layer_names  # doctest: +SKIP
    ['/0/Gemm', '/1/Relu', '/2/Gemm', '/3/Softmax']
    """
    check_output(output)
    proto = load_onnx(model)
    spec = _Translator(proto).run()
    spec = apply_output(spec, output, what="this ONNX model")
    return build_network(spec, feature_names=feature_names, output_names=output_names)


def load_onnx(model: Any) -> onnx.ModelProto:
    """Read and check ``model`` (path, bytes or ModelProto); raise ``ValueError`` if invalid.

    Examples
    --------
    >>> load_onnx(b"not onnx")  # doctest: +SKIP
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


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    import onnx

    return {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}


class _Translator:
    """Walk the graph's nodes in order, appending one spec layer per (fused) node."""

    def __init__(self, proto: onnx.ModelProto) -> None:
        from onnx import numpy_helper

        self.graph = proto.graph
        self.opset = next(
            (op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")), 1
        )
        self.consts: dict[str, np.ndarray] = {
            init.name: numpy_helper.to_array(init) for init in self.graph.initializer
        }
        for node in self.graph.node:  # constants have no inputs: collect them up front
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                self.consts[node.output[0]] = _constant_value(node)
        self.index: dict[str, int] = {}
        self.shape: dict[str, tuple[int, ...]] = {}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.graph_outputs = {out.name for out in self.graph.output}
        self.fused: set[int] = set()
        self.padded: dict[str, tuple[str, tuple[int, int, int, int]]] = {}
        self.names: dict[int, str] = {
            id(node): node.name or f"{node.op_type}_{i}" for i, node in enumerate(self.graph.node)
        }
        self.spec = NetworkSpec(input_shape=(1,))

    # -- driver -------------------------------------------------------------------------------
    def run(self) -> NetworkSpec:
        inputs = [i for i in self.graph.input if i.name not in self.consts]
        if len(inputs) != 1 or len(self.graph.output) != 1:
            raise UnsupportedLayerError(
                f"model: the graph has {len(inputs)} inputs and {len(self.graph.output)} "
                "outputs; from_onnx supports graphs with one input and one output"
            )
        self.spec.input_shape = self._input_shape(inputs[0])
        self.index[inputs[0].name] = -1
        self.shape[inputs[0].name] = self.spec.input_shape
        for node in self.graph.node:
            if id(node) not in self.fused:
                self._node(node)
        result = self.graph.output[0].name
        if result not in self.index:
            raise UnsupportedLayerError(
                f"model: the graph output {result!r} does not depend on the input"
            )
        source = self.index[result]
        if source == -1 or source != len(self.spec.layers) - 1:
            self.spec.add("identity", result, inputs=[source])
        return self.spec

    def _input_shape(self, value_info: onnx.ValueInfoProto) -> tuple[int, ...]:
        dims = value_info.type.tensor_type.shape.dim
        if len(dims) >= 2 and all(d.HasField("dim_value") and d.dim_value > 0 for d in dims[1:]):
            return tuple(int(d.dim_value) for d in dims[1:])
        if len(dims) == 2:
            # (batch, unknown): take the width from the first Gemm / MatMul reading the input.
            for node in self.consumers.get(value_info.name, []):
                weight = self._const(node.input[1]) if len(node.input) > 1 else None
                if node.op_type in ("Gemm", "MatMul") and weight is not None and weight.ndim == 2:
                    trans = node.op_type == "Gemm" and _attributes(node).get("transB", 0)
                    return (int(weight.shape[1] if trans else weight.shape[0]),)
        raise ValueError(
            f"model: the graph input {value_info.name!r} must have shape (batch, *sample_shape) "
            "with a fixed sample shape; got "
            f"{[d.dim_value if d.HasField('dim_value') else d.dim_param for d in dims]}"
        )

    # -- helpers ------------------------------------------------------------------------------
    def _const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name)

    def _unsupported(self, node: onnx.NodeProto, reason: str = "") -> Exception:
        detail = f" ({reason})" if reason else ""
        return UnsupportedLayerError(
            f"layer {self.names[id(node)]!r} (ONNX op {node.op_type}) is not supported by "
            f"from_onnx{detail}. Supported ops: {', '.join(SUPPORTED_OPS)}. Use "
            "glassbox.wrap(...) with onnxruntime for model-agnostic methods on other models."
        )

    def _source(self, node: onnx.NodeProto) -> str:
        if not node.input or (node.input[0] not in self.index and node.input[0] not in self.padded):
            raise self._unsupported(node, "its first input is not computed from the model input")
        for extra in node.input[1:]:
            if extra and extra in self.index:
                raise self._unsupported(
                    node,
                    "it combines two tensors computed from the input; decomposed activations "
                    "other than the erf-GELU and SiLU patterns are not recognised (export with "
                    "opset_version=20 to keep GELU one node)",
                )
        return node.input[0]

    def _add(
        self,
        node: onnx.NodeProto,
        kind: str,
        source: str,
        shape: tuple[int, ...],
        out: str | None = None,
        params: dict[str, Any] | None = None,
        **weights: np.ndarray | None,
    ) -> None:
        idx = self.spec.add(
            kind, self.names[id(node)], inputs=[self.index[source]], params=params, **weights
        )
        out = out or node.output[0]
        self.index[out] = idx
        self.shape[out] = shape

    def _only_consumer(self, tensor: str) -> onnx.NodeProto | None:
        users = self.consumers.get(tensor, [])
        if len(users) != 1 or tensor in self.graph_outputs:
            return None
        return users[0]

    # -- nodes --------------------------------------------------------------------------------
    def _node(self, node: onnx.NodeProto) -> None:
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise self._unsupported(node, f"custom domain {node.domain!r}")
        if op == "Constant":
            return
        if op in ("Identity", "Dropout") and node.input[0] in self.consts:
            self.consts[node.output[0]] = self.consts[node.input[0]]
            return
        if op == "Shape" and node.input[0] in self.index:
            shape = (_BATCH, *self.shape[node.input[0]])
            start, end = _attributes(node).get("start", 0), _attributes(node).get("end", None)
            self.consts[node.output[0]] = np.array(shape[start:end], np.int64)
            return
        if op in _SHAPE_OPS and all(not name or name in self.consts for name in node.input):
            self.consts[node.output[0]] = self._fold(node)
            return
        if op == "Add" and sum(name in self.index for name in node.input) == 2:
            self._sum(node)
            return
        if op == "Concat":
            self._concat(node)
            return
        if op in ("Add", "Sub", "Mul", "Div") and self._affine(node):
            return
        if op == "Pad":
            self._pad(node)
            return
        source = self._source(node)
        shape = self.shape[source]
        attrs = _attributes(node)
        if op in ("Identity", "Dropout"):
            if len(node.output) > 1 and node.output[1] and self.consumers.get(node.output[1]):
                raise self._unsupported(node, "its mask output is used")
            self._add(node, op.lower(), source, shape)
        elif op == "Gemm":
            self._gemm(node, source, attrs)
        elif op == "MatMul":
            self._matmul(node, source)
        elif op == "Sigmoid" and self._fuse_silu(node, source):
            return
        elif op == "Div" and self._fuse_gelu(node, source):
            return
        elif op in _ACTIVATIONS:
            kind = _ACTIVATIONS[op]
            params = self._activation_params(node, op, attrs, shape)
            self._add(node, kind, source, shape, params=params)
        elif op == "Flatten":
            if attrs.get("axis", 1) not in (1, -len(shape)):
                raise self._unsupported(node, f"axis={attrs.get('axis')}; only axis=1 is supported")
            self._add(node, "flatten", source, (int(np.prod(shape, dtype=np.int64)),))
        elif op == "Reshape":
            self._reshape(node, source, attrs)
        elif op == "Conv":
            self._conv(node, source, attrs)
        elif op in ("MaxPool", "AveragePool"):
            self._pool(node, source, attrs)
        elif op == "GlobalAveragePool":
            c, _, _ = self._image(node, shape)
            self._add(
                node, "adaptive_avg_pool2d", source, (c, 1, 1), params={"output_size": (1, 1)}
            )
        elif op == "BatchNormalization":
            self._batch_norm(node, source, attrs)
        else:
            raise self._unsupported(node)

    def _activation_params(
        self, node: onnx.NodeProto, op: str, attrs: dict[str, Any], shape: tuple[int, ...]
    ) -> dict[str, Any]:
        if op == "LeakyRelu":
            return {"negative_slope": float(attrs.get("alpha", 0.01))}
        if op == "Elu":
            return {"alpha": float(attrs.get("alpha", 1.0))}
        if op == "Softplus":
            # ONNX: log(exp(x) + 1); torch's threshold 20 changes it by < 3e-9.
            return {"beta": 1.0, "threshold": 20.0}
        if op == "Gelu":
            approximate = attrs.get("approximate", "none")
            if isinstance(approximate, bytes):
                approximate = approximate.decode()
            if approximate not in ("none", "tanh"):
                raise self._unsupported(node, f"approximate={approximate!r}")
            return {"approximate": approximate}
        if op in ("Softmax", "LogSoftmax"):
            axis = attrs.get("axis", -1 if self.opset >= 13 else 1)
            if len(shape) != 1 or axis not in (1, -1):
                raise self._unsupported(
                    node,
                    f"axis={axis} on samples of shape {shape}; only the feature axis of 1-D "
                    "samples is supported",
                )
        return {}

    def _dense(
        self,
        node: onnx.NodeProto,
        source: str,
        weight: np.ndarray,
        bias: np.ndarray | None,
        out: str | None = None,
    ) -> None:
        shape = self.shape[source]
        if len(shape) != 1 or shape[0] != weight.shape[1]:
            raise self._unsupported(
                node,
                f"it maps {weight.shape[1]} features but receives samples of shape {shape}; "
                "flatten multi-dimensional samples first",
            )
        self._add(node, "dense", source, (int(weight.shape[0]),), out=out, weight=weight, bias=bias)

    def _gemm(self, node: onnx.NodeProto, source: str, attrs: dict[str, Any]) -> None:
        weight = self._const(node.input[1])
        bias = self._const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if attrs.get("transA", 0) != 0:
            raise self._unsupported(node, "transA=1")
        if weight is None or weight.ndim != 2:
            raise self._unsupported(node, "B must be a constant matrix")
        if len(node.input) > 2 and node.input[2] and bias is None:
            raise self._unsupported(node, "C must be a constant")
        alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
        w = np.asarray(weight, np.float64)
        w = alpha * (w if attrs.get("transB", 0) else w.T)
        b = None if bias is None else self._bias(node, bias, w.shape[0], beta)
        self._dense(node, source, w, b)

    def _bias(self, node: onnx.NodeProto, bias: np.ndarray, width: int, scale: float) -> np.ndarray:
        bias = np.asarray(bias, np.float64)
        if bias.size == 1:
            return np.full(width, scale * float(bias.ravel()[0]))
        if bias.shape in ((width,), (1, width)):
            return scale * bias.ravel()
        raise self._unsupported(node, f"bias of shape {bias.shape} for {width} outputs")

    def _matmul(self, node: onnx.NodeProto, source: str) -> None:
        weight = self._const(node.input[1])
        if weight is None or weight.ndim != 2:
            raise self._unsupported(node, "the right operand must be a constant matrix")
        w = np.asarray(weight, np.float64).T
        add = self._only_consumer(node.output[0])
        if add is not None and add.op_type == "Add" and add.domain in ("", "ai.onnx"):
            other = add.input[1] if add.input[0] == node.output[0] else add.input[0]
            bias = self._const(other)
            if bias is not None and (
                bias.size == 1 or bias.shape in ((w.shape[0],), (1, w.shape[0]))
            ):
                self.fused.add(id(add))
                self._dense(node, source, w, self._bias(node, bias, w.shape[0], 1.0), add.output[0])
                return
        self._dense(node, source, w, None)

    def _reshape(self, node: onnx.NodeProto, source: str, attrs: dict[str, Any]) -> None:
        target = self._const(node.input[1]) if len(node.input) > 1 else None
        shape = self.shape[source]
        size = int(np.prod(shape, dtype=np.int64))
        allowzero = bool(attrs.get("allowzero", 0))
        result: tuple[int, ...] | None = None
        dims = [int(v) for v in target] if target is not None and target.ndim == 1 else []
        if len(dims) >= 2 and _BATCH not in dims[1:]:
            first = dims[0]
            # 0 copies the input's extent at that position (unless allowzero)
            rest = [
                shape[i] if d == 0 and not allowzero and i < len(shape) else d
                for i, d in enumerate(dims[1:])
            ]
            keeps_batch = first == _BATCH or (first == 0 and not allowzero)
            keeps_batch = keeps_batch or (first == -1 and -1 not in rest)
            if keeps_batch:
                try:
                    result = resolve_reshape(rest, size)
                except ValueError:
                    result = None
        if result is None:
            raise self._unsupported(
                node,
                "only a reshape to a constant per-sample shape keeping the batch axis is "
                "supported, e.g. (batch, -1) or (-1, 16, 4, 4)",
            )
        if len(result) == 1:
            self._add(node, "flatten", source, result)
        else:
            self._add(node, "reshape", source, result, params={"shape": list(result)})

    def _fold(self, node: onnx.NodeProto) -> np.ndarray:
        """Evaluate a shape computation (``x.view(x.size(0), -1)`` exported by torch)."""
        import onnx

        args = [self.consts[name] if name else None for name in node.input]
        attrs = _attributes(node)
        op = node.op_type
        try:
            if op == "Gather":
                return np.take(args[0], args[1], axis=int(attrs.get("axis", 0)))
            if op == "Unsqueeze":
                axes = attrs.get("axes") if len(args) < 2 else args[1]
                out = args[0]
                for axis in sorted(int(a) for a in np.ravel(axes)):
                    out = np.expand_dims(out, axis)
                return out
            if op == "Squeeze":
                axes = attrs.get("axes") if len(args) < 2 or args[1] is None else args[1]
                return np.squeeze(
                    args[0], None if axes is None else tuple(int(a) for a in np.ravel(axes))
                )
            if op == "Concat":
                return np.concatenate(args, axis=int(attrs.get("axis", 0)))
            if op == "Cast":
                if np.any(args[0] == _BATCH):
                    return args[0]
                return args[0].astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))
        except Exception as exc:
            raise self._unsupported(node, f"shape computation failed ({exc})") from exc
        raise self._unsupported(node)

    # -- image layers, residual adds, concat ---------------------------------------------------
    def _image(self, node: onnx.NodeProto, shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise self._unsupported(
                node, f"it needs (C, H, W) samples but receives samples of shape {shape}"
            )
        return shape  # type: ignore[return-value]

    def _window(
        self,
        node: onnx.NodeProto,
        attrs: dict[str, Any],
        h: int,
        w: int,
        kernel: tuple[int, int],
        ceil_mode: bool = False,
    ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int, int, int], tuple[int, int, int]]:
        """strides, dilations, (top, left, bottom, right) pads and the output (H', W', _)."""
        strides = tuple(int(v) for v in attrs.get("strides", (1, 1)))
        dilations = tuple(int(v) for v in attrs.get("dilations", (1, 1)))
        if len(strides) != 2 or len(dilations) != 2:
            raise self._unsupported(node, "only 2-D windows are supported")
        auto_pad = attrs.get("auto_pad", b"NOTSET")
        if isinstance(auto_pad, bytes):
            auto_pad = auto_pad.decode()
        if auto_pad == "NOTSET":
            pads = tuple(int(v) for v in attrs.get("pads", (0, 0, 0, 0)))
            if len(pads) != 4:
                raise self._unsupported(node, f"pads={list(pads)}")
        elif auto_pad == "VALID":
            pads = (0, 0, 0, 0)
        elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            upper = auto_pad == "SAME_UPPER"
            top, bottom = same_padding(h, kernel[0], strides[0], dilations[0], upper)
            left, right = same_padding(w, kernel[1], strides[1], dilations[1], upper)
            pads = (top, left, bottom, right)
        else:
            raise self._unsupported(node, f"auto_pad={auto_pad!r}")
        oh = pool_out(h, kernel[0], strides[0], pads[0], pads[2], dilations[0], ceil_mode)
        ow = pool_out(w, kernel[1], strides[1], pads[1], pads[3], dilations[1], ceil_mode)
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            oh, ow = -(-h // strides[0]), -(-w // strides[1])
        if oh < 1 or ow < 1:
            raise self._unsupported(node, f"input {h}x{w} is smaller than the window")
        return strides, dilations, pads, (oh, ow, 0)  # type: ignore[return-value]

    def _pad(self, node: onnx.NodeProto) -> None:
        """A zero ``Pad`` of the spatial axes read only by a ``Conv``: folded into its pads."""
        source = self._source(node)
        attrs = _attributes(node)
        mode = attrs.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        pads = attrs.get("pads") if len(node.input) < 2 else self._const(node.input[1])
        value = self._const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        value = attrs.get("value", 0.0) if value is None else float(np.ravel(value)[0])
        users = self.consumers.get(node.output[0], [])
        ok = (
            mode == "constant"
            and value == 0.0
            and pads is not None
            and len(node.input) < 4
            and len(self.shape[source]) == 3
            and len(pads) == 8
            and all(int(p) == 0 for p in (pads[0], pads[1], pads[4], pads[5]))
            and all(int(p) >= 0 for p in pads)
            and len(users) == 1
            and users[0].op_type == "Conv"
            and users[0].input[0] == node.output[0]
            and node.output[0] not in self.graph_outputs
        )
        if not ok:
            raise self._unsupported(
                node, "only a zero padding of the spatial axes read by a single Conv is supported"
            )
        c, h, w = self.shape[source]
        top, left, bottom, right = (int(pads[i]) for i in (2, 3, 6, 7))
        self.padded[node.output[0]] = (source, (top, left, bottom, right))
        self.shape[node.output[0]] = (c, h + top + bottom, w + left + right)

    def _conv(self, node: onnx.NodeProto, source: str, attrs: dict[str, Any]) -> None:
        extra = (0, 0, 0, 0)
        if source in self.padded:
            source, extra = self.padded[source]
        c, h, w = self._image(node, self.shape[source])
        weight = self._const(node.input[1])
        bias = self._const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if weight is None or weight.ndim != 4:
            raise self._unsupported(node, "W must be a constant 4-D tensor (2-D convolution)")
        if len(node.input) > 2 and node.input[2] and bias is None:
            raise self._unsupported(node, "B must be a constant")
        groups = int(attrs.get("group", 1))
        if weight.shape[1] * groups != c:
            raise self._unsupported(
                node, f"W of shape {weight.shape} with group={groups} does not take {c} channels"
            )
        kernel = (int(weight.shape[2]), int(weight.shape[3]))
        strides, dilations, pads, (oh, ow, _) = self._window(
            node, attrs, h + extra[0] + extra[2], w + extra[1] + extra[3], kernel
        )
        pads = tuple(a + b for a, b in zip(pads, extra, strict=True))  # type: ignore[assignment]
        oh = conv_out(h, kernel[0], strides[0], pads[0], pads[2], dilations[0])
        ow = conv_out(w, kernel[1], strides[1], pads[1], pads[3], dilations[1])
        params = {"stride": strides, "padding": pads, "dilation": dilations, "groups": groups}
        self._add(
            node,
            "conv2d",
            source,
            (int(weight.shape[0]), oh, ow),
            params=params,
            weight=weight,
            bias=None if bias is None else np.ravel(bias),
        )

    def _pool(self, node: onnx.NodeProto, source: str, attrs: dict[str, Any]) -> None:
        c, h, w = self._image(node, self.shape[source])
        if len(node.output) > 1 and node.output[1] and self.consumers.get(node.output[1]):
            raise self._unsupported(node, "its Indices output is used")
        kernel = tuple(int(v) for v in attrs.get("kernel_shape", ()))
        if len(kernel) != 2:
            raise self._unsupported(node, f"kernel_shape={list(kernel)}; only 2-D is supported")
        if int(attrs.get("storage_order", 0)) != 0:
            raise self._unsupported(node, "storage_order=1")
        ceil_mode = bool(attrs.get("ceil_mode", 0))
        strides, dilations, pads, (oh, ow, _) = self._window(node, attrs, h, w, kernel, ceil_mode)
        params: dict[str, Any] = {
            "kernel": kernel,
            "stride": strides,
            "padding": pads,
            "ceil_mode": ceil_mode,
        }
        if node.op_type == "MaxPool":
            kind = "max_pool2d"
            params["dilation"] = dilations
        else:
            kind = "avg_pool2d"
            if dilations != (1, 1):
                raise self._unsupported(node, f"dilations={list(dilations)}")
            params["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
        self._add(node, kind, source, (c, oh, ow), params=params)

    def _batch_norm(self, node: onnx.NodeProto, source: str, attrs: dict[str, Any]) -> None:
        shape = self.shape[source]
        if attrs.get("training_mode", 0):
            raise self._unsupported(node, "training_mode=1")
        if any(out and self.consumers.get(out) for out in node.output[1:]):
            raise self._unsupported(node, "its running-statistics outputs are used")
        values = [self._const(name) for name in node.input[1:5]]
        if len(values) != 4 or any(v is None for v in values):
            raise self._unsupported(node, "scale, B, mean and var must be constants")
        gamma, beta, mean, var = (np.asarray(v, np.float64).ravel() for v in values)  # type: ignore[arg-type]
        if len(shape) not in (1, 3) or any(
            v.shape != (shape[0],) for v in (gamma, beta, mean, var)
        ):
            raise self._unsupported(
                node, f"statistics of shape {gamma.shape} for samples of shape {shape}"
            )
        scale = gamma / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
        self._add(node, "batch_norm", source, shape, scale=scale, shift=beta - mean * scale)

    def _affine(self, node: onnx.NodeProto) -> bool:
        """``x op c`` with a constant ``c`` that is one value per channel (or a scalar): a
        batch_norm layer (scale, shift). Returns False if the node is not of that form."""
        if len(node.input) != 2:
            return False
        computed = [name in self.index for name in node.input]
        if computed.count(True) != 1:
            return False
        position = computed.index(True)
        source, other = node.input[position], node.input[1 - position]
        const = self._const(other)
        op = node.op_type
        if const is None:
            return False
        if op == "Div" and position == 0 and self._fuse_gelu(node, source):
            return True
        shape = self.shape[source]
        try:
            full = np.broadcast_to(np.asarray(const, np.float64), (1, *shape))
        except ValueError:
            raise self._unsupported(
                node, f"the constant of shape {const.shape} does not broadcast to {shape}"
            ) from None
        if full.ndim != len(shape) + 1 or const.ndim > len(shape) + 1:
            raise self._unsupported(node, f"the constant of shape {const.shape} changes the shape")
        per_channel = full.reshape(shape[0], -1)
        if not np.all(per_channel == per_channel[:, :1]):
            raise self._unsupported(
                node, "only constants with one value per channel (or a scalar) are supported"
            )
        values = per_channel[:, 0]
        ones, zeros = np.ones_like(values), np.zeros_like(values)
        if op == "Add":
            scale, shift = ones, values
        elif op == "Sub":
            scale, shift = (ones, -values) if position == 0 else (-ones, values)
        elif op == "Mul":
            scale, shift = values, zeros
        elif position == 0:  # Div: x / c
            scale, shift = 1.0 / values, zeros
        else:
            raise self._unsupported(node, "dividing a constant by a tensor is not supported")
        self._add(node, "batch_norm", source, shape, scale=scale, shift=shift)
        return True

    def _multi(
        self,
        node: onnx.NodeProto,
        kind: str,
        sources: list[str],
        shape: tuple[int, ...],
        **params: Any,
    ) -> None:
        idx = self.spec.add(
            kind, self.names[id(node)], inputs=[self.index[s] for s in sources], params=params
        )
        self.index[node.output[0]] = idx
        self.shape[node.output[0]] = shape

    def _sum(self, node: onnx.NodeProto) -> None:
        shapes = {self.shape[name] for name in node.input}
        if len(shapes) != 1:
            raise self._unsupported(
                node, f"it adds tensors of shapes {sorted(shapes)}; broadcasting is not supported"
            )
        self._multi(node, "add", list(node.input), self.shape[node.input[0]])

    def _concat(self, node: onnx.NodeProto) -> None:
        if not all(name in self.index for name in node.input):
            raise self._unsupported(node, "it must join tensors computed from the model input")
        shapes = [self.shape[name] for name in node.input]
        rank = len(shapes[0]) + 1
        axis = int(_attributes(node).get("axis", 1))
        if not -rank <= axis < rank or axis % rank == 0:
            raise self._unsupported(node, f"axis={axis}; the batch axis cannot be joined")
        axis = axis % rank - 1
        if any(
            len(s) != rank - 1
            or s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :]
            for s in shapes
        ):
            raise self._unsupported(node, f"shapes {shapes} differ off the joined axis")
        total = sum(s[axis] for s in shapes)
        shape = (*shapes[0][:axis], total, *shapes[0][axis + 1 :])
        if len(node.input) == 1:
            self.index[node.output[0]] = self.index[node.input[0]]
            self.shape[node.output[0]] = shape
            return
        self._multi(node, "concat", list(node.input), shape, axis=axis)

    # -- fused patterns -----------------------------------------------------------------------
    def _fuse_silu(self, node: onnx.NodeProto, source: str) -> bool:
        """``Mul(x, Sigmoid(x))`` -> silu."""
        mul = self._only_consumer(node.output[0])
        if mul is None or mul.op_type != "Mul" or source not in mul.input:
            return False
        self.fused.add(id(mul))
        self._add(node, "silu", source, self.shape[source], out=mul.output[0])
        return True

    def _fuse_gelu(self, node: onnx.NodeProto, source: str) -> bool:
        """``Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)`` (any operand order) -> gelu."""
        if not _is_scalar(self._const(node.input[1]), math.sqrt(2.0)):
            return False
        erf = self._only_consumer(node.output[0])
        if erf is None or erf.op_type != "Erf":
            return False
        add = self._only_consumer(erf.output[0])
        if add is None or add.op_type != "Add" or not self._other_is(add, erf.output[0], 1.0):
            return False
        mul = self._only_consumer(add.output[0])
        if mul is None or mul.op_type != "Mul" or source not in mul.input:
            return False
        half = self._only_consumer(mul.output[0])
        if half is None or half.op_type != "Mul" or not self._other_is(half, mul.output[0], 0.5):
            return False
        self.fused.update({id(erf), id(add), id(mul), id(half)})
        shape = self.shape[source]
        self._add(node, "gelu", source, shape, out=half.output[0], params={"approximate": "none"})
        return True

    def _other_is(self, node: onnx.NodeProto, tensor: str, value: float) -> bool:
        others = [name for name in node.input if name != tensor]
        return len(others) == 1 and _is_scalar(self._const(others[0]), value)


_BATCH = -(2**40)  # the batch extent in folded shape computations
_SHAPE_OPS = frozenset({"Gather", "Unsqueeze", "Squeeze", "Concat", "Cast"})


def _is_scalar(value: np.ndarray | None, expected: float) -> bool:
    return (
        value is not None
        and value.size == 1
        and math.isclose(float(value.ravel()[0]), expected, rel_tol=1e-6)
    )


def _constant_value(node: onnx.NodeProto) -> np.ndarray:
    from onnx import numpy_helper

    for attr in node.attribute:
        if attr.name == "value":
            return numpy_helper.to_array(attr.t)
        if attr.name in ("value_float", "value_int"):
            return np.asarray(attr.f if attr.name == "value_float" else attr.i)
        if attr.name in ("value_floats", "value_ints"):
            return np.asarray(attr.floats if attr.name == "value_floats" else attr.ints)
    raise UnsupportedLayerError(
        f"layer {node.name!r} (ONNX op Constant) has no supported value attribute"
    )
