"""Translate a PyTorch module into a native glassbox network (``glassbox.from_torch``).

The module is traced with ``torch.fx`` (a ``torch.nn.Sequential``, nested or not, always traces)
and every node of the graph becomes one layer of a ``NetworkSpec``. Layers are named after the
torch module that computes them (``"0"``, ``"fc1"``, ``"block.2"``); functional calls in
``forward`` are named after their ``torch.fx`` node (``"relu"``, ``"flatten_1"``) and
``F.linear(x, self.fc.weight, self.fc.bias)`` after the module owning the weight (``"fc"``).

Weights are copied once (``detach().cpu().numpy()``); the caller's module is never modified and
is evaluated with inference semantics whatever its ``training`` flag (dropout is the identity).
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.native import build_network
from glassbox.models.output_head import apply_output, check_output
from glassbox.models.shapes import conv_out, pool_out, resolve_reshape
from glassbox.models.spec import NetworkSpec

if TYPE_CHECKING:
    import torch

    from glassbox.models.native import NativeModel

SUPPORTED_MODULES: tuple[str, ...] = (
    "Linear",
    "Conv2d (padding_mode='zeros')",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm1d / BatchNorm2d (running statistics)",
    "Flatten",
    "Dropout (and Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout)",
    "Identity",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "GELU",
    "SiLU",
    "Softmax",
    "LogSoftmax",
    "Sequential",
)
SUPPORTED_FUNCTIONS: tuple[str, ...] = (
    "F.linear",
    "F.relu / torch.relu / x.relu()",
    "F.leaky_relu",
    "F.elu",
    "torch.sigmoid / F.sigmoid / x.sigmoid()",
    "torch.tanh / F.tanh / x.tanh()",
    "F.softplus",
    "F.gelu",
    "F.silu",
    "F.softmax / torch.softmax / x.softmax()",
    "F.log_softmax / torch.log_softmax / x.log_softmax()",
    "F.dropout",
    "torch.flatten / x.flatten",
    "x.view(...) / x.reshape(...) keeping the batch axis",
    "x.contiguous()",
    "x + y / torch.add / x.add (residual adds of equal shapes)",
    "torch.cat / torch.concat",
    "F.max_pool2d",
    "F.avg_pool2d",
    "F.adaptive_avg_pool2d",
    "x.mean((2, 3)) / torch.mean(x, (2, 3)) (global average pooling)",
)

_BATCH = object()  # the value of x.size(0) / x.shape[0] while tracing


class _Shape(tuple):  # type: ignore[type-arg]
    """The value of ``x.size()`` / ``x.shape`` while tracing: the per-sample shape."""


def from_torch(
    module: torch.nn.Module,
    input_shape: int | Sequence[int] | None = None,
    *,
    output: str = "model",
    example_input: Any = None,
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> NativeModel:
    """Copy a PyTorch model into a native glassbox network.

    Parameters
    ----------
    module : torch.nn.Module
        A ``torch.nn.Sequential`` (possibly nested) or any ``torch.fx``-traceable module built
        from the supported layers (``SUPPORTED_MODULES``) and functions
        (``SUPPORTED_FUNCTIONS``). It is not modified.
    input_shape : int or tuple of int, optional
        Shape of one sample (without the batch axis), e.g. ``(C, H, W)`` for images (NCHW, as
        torch takes them). Default: the shape of ``example_input`` without its batch axis, else
        ``(in_features,)`` of the first linear layer. Required for networks with convolution,
        pooling or 2-D batch-norm layers.
    output : {"model", "logits", "probabilities"}
        ``"model"``: what the module computes; ``"logits"``: without a final softmax,
        log-softmax or sigmoid; ``"probabilities"``: class probabilities (a softmax is appended
        to logits; a single logit ``z`` becomes ``[1 - sigmoid(z), sigmoid(z)]``).
    example_input : tensor or array, optional
        A batch of inputs; only its shape is used (``input_shape = example_input.shape[1:]``).
    feature_names, output_names : sequence of str, optional
        Names of the (flattened) input features and of the outputs.

    Returns
    -------
    NativeModel

    Raises
    ------
    UnsupportedLayerError
        If the module contains a layer or operation that has no native equivalent.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> model = from_torch(net, output="probabilities")
    >>> model.layer_names
    ['0', '1', '2', 'probabilities']
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    check_output(output)
    graph_module = _trace(module)
    shape = _resolve_input_shape(graph_module, input_shape, example_input)
    spec = _Translator(graph_module, shape).run()
    spec = apply_output(spec, output, what=f"this {type(module).__name__}")
    return build_network(spec, feature_names=feature_names, output_names=output_names)


def _trace(module: torch.nn.Module) -> torch.fx.GraphModule:
    """Trace ``module`` with ``torch.fx`` and drop nodes that do not reach the output."""
    import torch.fx

    try:
        graph_module = torch.fx.symbolic_trace(module)
    except Exception as exc:
        raise UnsupportedLayerError(
            f"module: {type(module).__name__} could not be traced with torch.fx ({exc}); "
            f"from_torch supports torch.nn.Sequential models and fx-traceable modules built from "
            f"the modules {', '.join(SUPPORTED_MODULES)} and the functions "
            f"{', '.join(SUPPORTED_FUNCTIONS)}; use glassbox.wrap for other models"
        ) from exc
    graph_module.graph.eliminate_dead_code()
    return graph_module


def _resolve_input_shape(
    graph_module: torch.fx.GraphModule,
    input_shape: int | Sequence[int] | None,
    example_input: Any,
) -> tuple[int, ...]:
    """The per-sample input shape from the arguments or the first linear layer."""
    example_shape = None
    if example_input is not None:
        dims = getattr(example_input, "shape", None)
        if dims is None or len(dims) < 2:
            raise ValueError(
                "example_input: expected a batch of inputs with at least 2 dimensions "
                f"(batch, features...), got shape {None if dims is None else tuple(dims)}"
            )
        example_shape = tuple(int(d) for d in dims[1:])
    if input_shape is not None:
        shape = _check_shape(input_shape)
        if example_shape is not None and example_shape != shape:
            raise ValueError(
                f"input_shape: {shape} disagrees with example_input's per-sample shape "
                f"{example_shape}"
            )
        return shape
    if example_shape is not None:
        return example_shape
    spatial = _first_spatial_layer(graph_module)
    if spatial is not None:
        raise ValueError(
            f"input_shape: required for a network with image layers ({spatial}); pass the "
            "shape of one sample, e.g. input_shape=(3, 32, 32) for (n, 3, 32, 32) inputs, or "
            "example_input="
        )
    in_features = _first_linear_in_features(graph_module)
    if in_features is None:
        raise ValueError(
            "input_shape: could not be inferred (the module has no linear layer); "
            "pass input_shape= or example_input="
        )
    return (in_features,)


def _check_shape(input_shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    try:
        shape = tuple(int(d) for d in input_shape)
        ok = all(int(d) == d for d in input_shape) and all(d > 0 for d in shape) and len(shape) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "input_shape: expected a positive int or a non-empty tuple of positive ints "
            f"(the shape of one sample), got {input_shape!r}"
        )
    return shape


def _first_spatial_layer(graph_module: torch.fx.GraphModule) -> str | None:
    """The name of the first node that needs an image-shaped input, if any."""
    import torch.nn as nn

    spatial_modules = (
        nn.Conv2d,
        nn.MaxPool2d,
        nn.AvgPool2d,
        nn.AdaptiveAvgPool2d,
        nn.BatchNorm2d,
    )
    spatial_functions = {"max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "conv2d"}
    for node in graph_module.graph.nodes:
        if node.op == "call_module":
            if isinstance(graph_module.get_submodule(node.target), spatial_modules):
                return f"layer {node.target!r}"
        elif node.op == "call_function":
            if getattr(node.target, "__name__", "") in spatial_functions:
                return f"function {node.name!r}"
    return None


def _first_linear_in_features(graph_module: torch.fx.GraphModule) -> int | None:
    import torch
    import torch.nn.functional as F

    for node in graph_module.graph.nodes:
        if node.op == "call_module":
            sub = graph_module.get_submodule(node.target)
            if isinstance(sub, torch.nn.Linear):
                return int(sub.in_features)
        elif node.op == "call_function" and node.target is F.linear:
            weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
            if getattr(weight, "op", None) == "get_attr":
                return int(_get_attr(graph_module, weight.target).shape[1])
    return None


def _get_attr(graph_module: torch.fx.GraphModule, target: str) -> Any:
    value: Any = graph_module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return np.array(tensor.detach().cpu().numpy(), dtype=np.float32, copy=True)


def _arg(node: torch.fx.Node, index: int, name: str, default: Any = None) -> Any:
    """Argument ``index`` (counting the input as 0) / keyword ``name`` of a call node."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


class _Translator:
    """Walk a traced graph in order, appending one spec layer per tensor-producing node."""

    def __init__(self, graph_module: torch.fx.GraphModule, input_shape: tuple[int, ...]) -> None:
        self.gm = graph_module
        self.spec = NetworkSpec(input_shape=input_shape)
        self.index: dict[Any, int] = {}  # tensor node -> spec index (-1: network input)
        self.shape: dict[Any, tuple[int, ...]] = {}  # tensor node -> per-sample shape
        self.values: dict[Any, Any] = {}  # non-tensor node -> value (_BATCH, _SHAPE, tensor)
        self.names: set[str] = set()
        self.functions = _function_table()

    # -- driver -------------------------------------------------------------------------------
    def run(self) -> NetworkSpec:
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        used = [n for n in placeholders if n.users]
        if len(used) > 1:
            raise UnsupportedLayerError(
                f"module: forward uses {len(used)} inputs ({', '.join(n.name for n in used)}); "
                "from_torch supports models with a single input tensor"
            )
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.index[node] = -1
                self.shape[node] = self.spec.input_shape
            elif node.op == "get_attr":
                self.values[node] = _get_attr(self.gm, node.target)
            elif node.op == "call_module":
                self._module(node)
            elif node.op == "call_function":
                self._function(node)
            elif node.op == "call_method":
                self._method(node)
            elif node.op == "output":
                self._output(node)
        return self.spec

    def _output(self, node: torch.fx.Node) -> None:
        result = node.args[0]
        if isinstance(result, (tuple, list)) and len(result) == 1:
            result = result[0]
        if result not in self.index:
            raise UnsupportedLayerError(
                f"output: forward returns {type(result).__name__} {result!r}; from_torch "
                "supports modules that return a single tensor"
            )
        source = self.index[result]
        if source == -1 or source != len(self.spec.layers) - 1:
            self.spec.add("identity", self._unique("output", node), inputs=[source])

    # -- helpers ------------------------------------------------------------------------------
    def _input(self, node: torch.fx.Node, what: str) -> Any:
        source = node.args[0] if node.args else None
        if not _is_node(source) or source not in self.index:
            raise self._unsupported(node, what, "its input is not the model's tensor")
        return source

    def _unique(self, name: str, node: torch.fx.Node) -> str:
        if name in self.names:
            name = node.name
        while name in self.names:
            name = f"{name}_"
        self.names.add(name)
        return name

    def _add(
        self,
        node: torch.fx.Node,
        name: str,
        kind: str,
        source: Any,
        shape: tuple[int, ...],
        params: dict[str, Any] | None = None,
        **weights: np.ndarray | None,
    ) -> None:
        idx = self.spec.add(
            kind, self._unique(name, node), inputs=[self.index[source]], params=params, **weights
        )
        self.index[node] = idx
        self.shape[node] = shape

    def _alias(self, node: torch.fx.Node, source: Any) -> None:
        self.index[node] = self.index[source]
        self.shape[node] = self.shape[source]

    def _unsupported(self, node: torch.fx.Node, what: str, reason: str = "") -> Exception:
        name = node.target if node.op == "call_module" else node.name
        detail = f" ({reason})" if reason else ""
        return UnsupportedLayerError(
            f"layer {name!r} ({what}) is not supported by from_torch{detail}. Supported modules: "
            f"{', '.join(SUPPORTED_MODULES)}. Supported functions: "
            f"{', '.join(SUPPORTED_FUNCTIONS)}. Use glassbox.wrap(...) for model-agnostic "
            "methods on other models."
        )

    def _activation(
        self,
        node: torch.fx.Node,
        name: str,
        what: str,
        kind: str,
        source: Any,
        params: dict[str, Any],
    ) -> None:
        shape = self.shape[source]
        for key in ("negative_slope", "alpha", "beta", "threshold"):
            if key in params:
                value = params[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise self._unsupported(node, what, f"{key}={value!r} is not a constant")
                params[key] = float(value)
        if kind in ("softmax", "log_softmax"):
            dim = params.pop("dim")
            if len(shape) != 1 or dim not in (None, 1, -1):
                raise self._unsupported(
                    node,
                    what,
                    f"{kind} over dim={dim} of a per-sample shape {shape}; only the feature axis "
                    "of 1-D samples (dim=1 or -1) is supported",
                )
        if kind == "gelu" and params.get("approximate") not in ("none", "tanh"):
            raise self._unsupported(node, what, f"approximate={params.get('approximate')!r}")
        self._add(node, name, kind, source, shape, params=params)

    def _dense(
        self,
        node: torch.fx.Node,
        name: str,
        what: str,
        source: Any,
        weight: np.ndarray,
        bias: np.ndarray | None,
    ) -> None:
        shape = self.shape[source]
        if weight.ndim != 2 or len(shape) != 1 or shape[0] != weight.shape[1]:
            raise self._unsupported(
                node,
                what,
                f"it maps {weight.shape[-1]} features but receives samples of shape {shape}; "
                "flatten multi-dimensional samples first",
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise self._unsupported(node, what, f"bias of shape {bias.shape}")
        self._add(node, name, "dense", source, (int(weight.shape[0]),), weight=weight, bias=bias)

    def _flatten(
        self, node: torch.fx.Node, name: str, what: str, source: Any, start: Any, end: Any
    ) -> None:
        shape = self.shape[source]
        rank = len(shape) + 1
        ok = isinstance(start, int) and isinstance(end, int) and -rank <= start < rank
        ok = ok and -rank <= end < rank
        first, last = (start % rank, end % rank) if ok else (0, 0)
        if not ok or first == 0 or last < first:
            raise self._unsupported(
                node,
                what,
                f"flatten(start_dim={start}, end_dim={end}); the batch axis must stay "
                "(start_dim >= 1)",
            )
        if first == 1 and last == rank - 1:
            self._add(node, name, "flatten", source, (int(np.prod(shape, dtype=np.int64)),))
            return
        merged = int(np.prod(shape[first - 1 : last], dtype=np.int64))
        target = (*shape[: first - 1], merged, *shape[last:])
        self._reshape(node, name, source, target)

    def _reshape(
        self, node: torch.fx.Node, name: str, source: Any, target: tuple[int, ...]
    ) -> None:
        if len(target) == 1:
            self._add(node, name, "flatten", source, target)
        else:
            self._add(node, name, "reshape", source, target, params={"shape": list(target)})

    def _view(self, node: torch.fx.Node, what: str, source: Any, dims: list[Any]) -> None:
        """``x.view(*dims)`` / ``x.reshape(*dims)``: the first dim must be the batch."""
        shape = self.shape[source]
        size = int(np.prod(shape, dtype=np.int64))
        rest: list[int] = []
        for dim in dims[1:]:
            value = self.values.get(dim) if _is_node(dim) else dim
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                rest.append(int(value))
            else:
                rest = []
                break
        first = dims[0] if dims else None
        is_batch = _is_node(first) and self.values.get(first) is _BATCH
        ok = len(rest) == len(dims) - 1 and len(rest) > 0
        if ok:
            try:
                target = resolve_reshape(rest, size)
            except ValueError:
                ok = False
        # (-1, *rest) keeps the batch only if rest has exactly one sample's values
        if ok and not is_batch and not (first == -1 and -1 not in rest):
            ok = False
        if not ok:
            raise self._unsupported(
                node,
                what,
                f"the per-sample shape {shape} can only be reshaped to a fixed per-sample shape "
                "with the batch axis first, e.g. x.view(x.size(0), -1) or "
                "x.reshape(-1, 16, 4, 4)",
            )
        self._reshape(node, node.name, source, target)

    def _multi(
        self,
        node: torch.fx.Node,
        name: str,
        kind: str,
        sources: list[Any],
        shape: tuple[int, ...],
        params: dict[str, Any] | None = None,
    ) -> None:
        inputs = [self.index[source] for source in sources]
        idx = self.spec.add(kind, self._unique(name, node), inputs=inputs, params=params)
        self.index[node] = idx
        self.shape[node] = shape

    def _sum(self, node: torch.fx.Node, what: str, operands: list[Any]) -> None:
        """A residual add of tensors of equal shape."""
        if not all(_is_node(o) and o in self.index for o in operands):
            raise self._unsupported(
                node,
                what,
                "only sums of tensors computed by the model (residual adds) are supported; "
                "adding constants is not",
            )
        shapes = {self.shape[o] for o in operands}
        if len(shapes) != 1:
            raise self._unsupported(
                node,
                what,
                f"it adds tensors of shapes {sorted(shapes)}; broadcasting is not supported",
            )
        self._multi(node, node.name, "add", list(operands), self.shape[operands[0]])

    def _cat(self, node: torch.fx.Node, what: str) -> None:
        tensors = _arg(node, 0, "tensors")
        dim = _arg(node, 1, "dim", 0)
        if not isinstance(tensors, (list, tuple)) or not all(
            _is_node(t) and t in self.index for t in tensors
        ):
            raise self._unsupported(node, what, "it must join tensors computed by the model")
        shapes = [self.shape[t] for t in tensors]
        rank = len(shapes[0]) + 1
        if not isinstance(dim, int) or not -rank <= dim < rank or dim % rank == 0:
            raise self._unsupported(node, what, f"dim={dim}; the batch axis cannot be joined")
        axis = dim % rank - 1
        rest = {s[:axis] + s[axis + 1 :] for s in shapes}
        if len(rest) != 1 or any(len(s) != rank - 1 for s in shapes):
            raise self._unsupported(node, what, f"shapes {shapes} differ off dim {dim}")
        total = sum(s[axis] for s in shapes)
        shape = (*shapes[0][:axis], total, *shapes[0][axis + 1 :])
        if len(tensors) == 1:
            self._alias(node, tensors[0])
            return
        self._multi(node, node.name, "concat", list(tensors), shape, params={"axis": axis})

    def _image(self, node: torch.fx.Node, what: str, source: Any) -> tuple[int, int, int]:
        shape = self.shape[source]
        if len(shape) != 3:
            raise self._unsupported(
                node,
                what,
                f"it needs (C, H, W) samples but receives samples of shape {shape}; pass "
                "input_shape=(C, H, W)",
            )
        return shape

    def _conv(self, node: torch.fx.Node, name: str, what: str, source: Any, module: Any) -> None:
        c, h, w = self._image(node, what, source)
        if module.padding_mode != "zeros":
            raise self._unsupported(
                node, what, f"padding_mode={module.padding_mode!r}; only 'zeros' is supported"
            )
        if len(module.kernel_size) != 2 or module.in_channels != c:
            raise self._unsupported(
                node, what, f"it takes {module.in_channels} channels but receives {c}"
            )
        kh, kw = (int(k) for k in module.kernel_size)
        sh, sw = (int(v) for v in module.stride)
        dh, dw = (int(v) for v in module.dilation)
        if module.padding == "valid":
            pads = (0, 0, 0, 0)
        elif module.padding == "same":
            # torch: total = d (k - 1), the extra pixel of an odd total at the end
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
        else:
            ph, pw = (int(v) for v in module.padding)
            pads = (ph, pw, ph, pw)
        weight = _to_numpy(module.weight)
        bias = None if module.bias is None else _to_numpy(module.bias)
        params = {
            "stride": (sh, sw),
            "padding": pads,
            "dilation": (dh, dw),
            "groups": int(module.groups),
        }
        shape = (
            int(module.out_channels),
            conv_out(h, kh, sh, pads[0], pads[2], dh),
            conv_out(w, kw, sw, pads[1], pads[3], dw),
        )
        if shape[1] < 1 or shape[2] < 1:
            raise self._unsupported(node, what, f"input {h}x{w} is smaller than the kernel")
        self._add(node, name, "conv2d", source, shape, params=params, weight=weight, bias=bias)

    def _pool(
        self,
        node: torch.fx.Node,
        name: str,
        what: str,
        source: Any,
        kind: str,
        kernel: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        ceil_mode: Any,
        extra: dict[str, Any],
    ) -> None:
        c, h, w = self._image(node, what, source)
        try:
            kh, kw = _pair(kernel)
            sh, sw = (kh, kw) if stride is None or stride == [] or stride == () else _pair(stride)
            ph, pw = _pair(padding)
            dh, dw = _pair(dilation)
        except (TypeError, ValueError):
            raise self._unsupported(
                node, what, "kernel / stride / padding must be constants"
            ) from None
        ceil = bool(ceil_mode)
        params: dict[str, Any] = {
            "kernel": (kh, kw),
            "stride": (sh, sw),
            "padding": (ph, pw, ph, pw),
            "ceil_mode": ceil,
        }
        if kind == "max_pool2d":
            params["dilation"] = (dh, dw)
        params.update(extra)
        shape = (
            c,
            pool_out(h, kh, sh, ph, ph, dh, ceil),
            pool_out(w, kw, sw, pw, pw, dw, ceil),
        )
        if shape[1] < 1 or shape[2] < 1:
            raise self._unsupported(node, what, f"input {h}x{w} is smaller than the window")
        self._add(node, name, kind, source, shape, params=params)

    def _adaptive(
        self, node: torch.fx.Node, name: str, what: str, source: Any, output_size: Any
    ) -> None:
        c, h, w = self._image(node, what, source)
        if isinstance(output_size, int) or output_size is None:
            output_size = (output_size, output_size)
        try:
            oh = h if output_size[0] is None else int(output_size[0])
            ow = w if output_size[1] is None else int(output_size[1])
        except (TypeError, ValueError, IndexError):
            raise self._unsupported(node, what, f"output_size={output_size!r}") from None
        self._add(
            node, name, "adaptive_avg_pool2d", source, (c, oh, ow), params={"output_size": (oh, ow)}
        )

    def _mean(self, node: torch.fx.Node, what: str, source: Any) -> None:
        """``x.mean((2, 3), keepdim=...)``: global average pooling (then a flatten)."""
        dims = _arg(node, 1, "dim")
        keepdim = _arg(node, 2, "keepdim", False)
        c, _, _ = self._image(node, what, source)
        axes = dims if isinstance(dims, (tuple, list)) else [dims]
        if not all(isinstance(d, int) for d in axes) or sorted(d % 4 for d in axes) != [2, 3]:
            raise self._unsupported(
                node, what, f"dim={dims}; only the mean over both spatial axes (2, 3) is supported"
            )
        self._add(
            node,
            node.name,
            "adaptive_avg_pool2d",
            source,
            (c, 1, 1),
            params={"output_size": (1, 1)},
        )
        if not keepdim:
            pooled = self.spec.layers[self.index[node]].name
            idx = self.spec.add(
                "flatten", self._unique(f"{pooled}/flatten", node), inputs=[self.index[node]]
            )
            self.index[node] = idx
            self.shape[node] = (c,)

    def _batch_norm(
        self, node: torch.fx.Node, name: str, what: str, source: Any, module: Any
    ) -> None:
        import torch.nn as nn

        shape = self.shape[source]
        want = 3 if isinstance(module, nn.BatchNorm2d) else 1
        if len(shape) != want or shape[0] != module.num_features:
            raise self._unsupported(
                node,
                what,
                f"it normalises {module.num_features} features but receives samples of shape "
                f"{shape}"
                + (" (BatchNorm1d over (C, L) samples is not supported)" if want == 1 else ""),
            )
        if module.running_mean is None or module.running_var is None:
            raise self._unsupported(
                node, what, "track_running_stats=False (no running statistics to use at inference)"
            )
        mean = module.running_mean.detach().cpu().double().numpy()
        var = module.running_var.detach().cpu().double().numpy()
        gamma = np.ones_like(mean) if module.weight is None else _to_numpy(module.weight)
        beta = np.zeros_like(mean) if module.bias is None else _to_numpy(module.bias)
        scale = np.asarray(gamma, np.float64) / np.sqrt(var + float(module.eps))
        shift = np.asarray(beta, np.float64) - mean * scale
        self._add(node, name, "batch_norm", source, shape, scale=scale, shift=shift)

    # -- node kinds ---------------------------------------------------------------------------
    def _module(self, node: torch.fx.Node) -> None:
        import torch.nn as nn

        module = self.gm.get_submodule(node.target)
        what = type(module).__name__
        name = str(node.target)
        source = self._input(node, what)
        if _plain(module, nn.Linear):
            bias = None if module.bias is None else _to_numpy(module.bias)
            self._dense(node, name, what, source, _to_numpy(module.weight), bias)
        elif _plain(module, nn.Conv2d):
            self._conv(node, name, what, source, module)
        elif _plain(module, nn.MaxPool2d):
            if module.return_indices:
                raise self._unsupported(node, what, "return_indices=True")
            self._pool(
                node,
                name,
                what,
                source,
                "max_pool2d",
                module.kernel_size,
                module.stride,
                module.padding,
                module.dilation,
                module.ceil_mode,
                {},
            )
        elif _plain(module, nn.AvgPool2d):
            if module.divisor_override is not None:
                raise self._unsupported(node, what, "divisor_override is not supported")
            self._pool(
                node,
                name,
                what,
                source,
                "avg_pool2d",
                module.kernel_size,
                module.stride,
                module.padding,
                1,
                module.ceil_mode,
                {"count_include_pad": bool(module.count_include_pad)},
            )
        elif _plain(module, nn.AdaptiveAvgPool2d):
            self._adaptive(node, name, what, source, module.output_size)
        elif _plain(module, nn.BatchNorm2d) or _plain(module, nn.BatchNorm1d):
            self._batch_norm(node, name, what, source, module)
        elif _plain(module, nn.Flatten):
            self._flatten(node, name, what, source, module.start_dim, module.end_dim)
        elif isinstance(module, nn.modules.dropout._DropoutNd) and _own_forward(module):
            self._add(node, name, "dropout", source, self.shape[source])
        elif _plain(module, nn.Identity):
            self._add(node, name, "identity", source, self.shape[source])
        else:
            kind, params = _module_activation(module)
            if kind is None:
                raise self._unsupported(node, what)
            self._activation(node, name, what, kind, source, params)

    def _function(self, node: torch.fx.Node) -> None:
        import torch
        import torch.nn.functional as F

        target = node.target
        what = getattr(target, "__name__", str(target))
        first = node.args[0] if node.args else None
        if target is builtins.getattr and _is_node(first) and node.args[1] == "shape":
            if first in self.shape:
                self.values[node] = _Shape(self.shape[first])
                return
        if (
            target is operator.getitem
            and _is_node(first)
            and isinstance(self.values.get(first), _Shape)
        ):
            self.values[node] = _dim_value(self.values[first], node.args[1])
            return
        if target in (operator.add, operator.iadd, torch.add):
            alpha = node.kwargs.get("alpha", 1)
            if len(node.args) != 2 or alpha != 1:
                raise self._unsupported(node, f"function {what}", f"alpha={alpha}")
            self._sum(node, f"function {what}", list(node.args))
            return
        if target in (torch.cat, torch.concat):
            self._cat(node, f"function {what}")
            return
        if target is torch.mean:
            source = self._input(node, f"function {what}")
            self._mean(node, f"function {what}", source)
            return
        entry = self.functions.get(target)
        if entry is None:
            raise self._unsupported(node, f"function {what}")
        kind, arg_names = entry
        what = f"function {what}"
        source = self._input(node, what)
        if kind == "linear":
            self._functional_linear(node, source, what)
            return
        params = {
            key: _arg(node, i + 1, key, default) for i, (key, default) in enumerate(arg_names)
        }
        if kind == "dropout":
            self._add(node, node.name, "dropout", source, self.shape[source])
        elif kind == "flatten":
            start, end = params["start_dim"], params["end_dim"]
            self._flatten(node, node.name, what, source, start, end)
        elif kind == "max_pool2d":
            if params["return_indices"]:
                raise self._unsupported(node, what, "return_indices=True")
            self._pool(
                node,
                node.name,
                what,
                source,
                kind,
                params["kernel_size"],
                params["stride"],
                params["padding"],
                params["dilation"],
                params["ceil_mode"],
                {},
            )
        elif kind == "avg_pool2d":
            if params["divisor_override"] is not None:
                raise self._unsupported(node, what, "divisor_override is not supported")
            self._pool(
                node,
                node.name,
                what,
                source,
                kind,
                params["kernel_size"],
                params["stride"],
                params["padding"],
                1,
                params["ceil_mode"],
                {"count_include_pad": bool(params["count_include_pad"])},
            )
        elif kind == "adaptive_avg_pool2d":
            self._adaptive(node, node.name, what, source, params["output_size"])
        else:
            if target is F.softmax or target is F.log_softmax:
                params.pop("_stacklevel", None)
            params.pop("dtype", None)
            params.pop("inplace", None)
            self._activation(node, node.name, what, kind, source, params)

    def _functional_linear(self, node: torch.fx.Node, source: Any, what: str) -> None:
        weight_node = _arg(node, 1, "weight")
        bias_node = _arg(node, 2, "bias")
        if (
            not _is_node(weight_node)
            or weight_node not in self.values
            or (bias_node is not None and (not _is_node(bias_node) or bias_node not in self.values))
        ):
            raise self._unsupported(
                node, f"function {what}", "weight and bias must be parameters of the module"
            )
        weight = _to_numpy(self.values[weight_node])
        bias = None if bias_node is None else _to_numpy(self.values[bias_node])
        owner = str(weight_node.target).rpartition(".")[0]
        name = owner if owner and owner not in self.names else node.name
        self._dense(node, name, f"function {what}", source, weight, bias)

    def _method(self, node: torch.fx.Node) -> None:
        method = str(node.target)
        what = f"method .{method}()"
        if not node.args or not _is_node(node.args[0]) or node.args[0] not in self.index:
            raise self._unsupported(node, what, "called on a value that is not the model's tensor")
        source = node.args[0]
        if method == "size":
            dim = _arg(node, 1, "dim")
            shape = _Shape(self.shape[source])
            self.values[node] = shape if dim is None else _dim_value(shape, dim)
        elif method == "contiguous":
            self._alias(node, source)
        elif method == "mean":
            self._mean(node, what, source)
        elif method in ("add", "add_"):
            alpha = node.kwargs.get("alpha", 1)
            if len(node.args) != 2 or alpha != 1:
                raise self._unsupported(node, what, f"alpha={alpha}")
            self._sum(node, what, list(node.args))
        elif method in _METHOD_ACTIVATIONS:
            kind, arg_names = _METHOD_ACTIVATIONS[method]
            params = {
                key: _arg(node, i + 1, key, default) for i, (key, default) in enumerate(arg_names)
            }
            params.pop("dtype", None)
            self._activation(node, node.name, what, kind, source, params)
        elif method == "flatten":
            start = _arg(node, 1, "start_dim", 0)
            end = _arg(node, 2, "end_dim", -1)
            self._flatten(node, node.name, what, source, start, end)
        elif method in ("view", "reshape"):
            dims = list(node.args[1:])
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = list(dims[0])
            self._view(node, what, source, dims)
        else:
            raise self._unsupported(node, what)


def _dim_value(shape: _Shape, index: Any) -> Any:
    """``x.shape[index]`` while tracing: ``_BATCH`` for the batch axis, else the extent."""
    if not isinstance(index, int) or isinstance(index, bool):
        return None
    rank = len(shape) + 1
    if not -rank <= index < rank:
        return None
    index %= rank
    return _BATCH if index == 0 else int(shape[index - 1])


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    first, second = value
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        raise TypeError(value)
    return int(first), int(second)


def _is_node(value: Any) -> bool:
    import torch.fx

    return isinstance(value, torch.fx.Node)


def _plain(module: Any, cls: type) -> bool:
    """``module`` is a ``cls`` whose forward is ``cls.forward`` (not overridden)."""
    return isinstance(module, cls) and type(module).forward is cls.forward


def _own_forward(module: Any) -> bool:
    """A dropout module whose forward is one of torch's own."""
    return type(module).__module__.startswith("torch.nn.")


def _module_activation(module: Any) -> tuple[str | None, dict[str, Any]]:
    """The spec kind and params of an activation module, or ``(None, {})``."""
    import torch.nn as nn

    table: list[tuple[type, str, Callable[[Any], dict[str, Any]]]] = [
        (nn.ReLU, "relu", lambda m: {}),
        (nn.LeakyReLU, "leaky_relu", lambda m: {"negative_slope": float(m.negative_slope)}),
        (nn.ELU, "elu", lambda m: {"alpha": float(m.alpha)}),
        (nn.Sigmoid, "sigmoid", lambda m: {}),
        (nn.Tanh, "tanh", lambda m: {}),
        (
            nn.Softplus,
            "softplus",
            lambda m: {"beta": float(m.beta), "threshold": float(m.threshold)},
        ),
        (nn.GELU, "gelu", lambda m: {"approximate": m.approximate}),
        (nn.SiLU, "silu", lambda m: {}),
        (nn.Softmax, "softmax", lambda m: {"dim": m.dim}),
        (nn.LogSoftmax, "log_softmax", lambda m: {"dim": m.dim}),
    ]
    for cls, kind, params in table:
        if _plain(module, cls):
            return kind, params(module)
    return None, {}


def _function_table() -> dict[Any, tuple[str, tuple[tuple[str, Any], ...]]]:
    """Traced function -> (kind, ((argument name, default), ...) after the input)."""
    import torch
    import torch.nn.functional as F

    inplace = (("inplace", False),)
    table: dict[Any, tuple[str, tuple[tuple[str, Any], ...]]] = {}
    entries: list[tuple[tuple[Any, ...], str, tuple[tuple[str, Any], ...]]] = [
        ((F.relu, torch.relu, F.relu_, torch.relu_), "relu", inplace),
        ((F.leaky_relu,), "leaky_relu", (("negative_slope", 0.01), *inplace)),
        ((F.elu,), "elu", (("alpha", 1.0), *inplace)),
        ((torch.sigmoid, F.sigmoid), "sigmoid", ()),
        ((torch.tanh, F.tanh), "tanh", ()),
        ((F.softplus,), "softplus", (("beta", 1.0), ("threshold", 20.0))),
        ((F.gelu,), "gelu", (("approximate", "none"),)),
        ((F.silu,), "silu", inplace),
        ((F.softmax,), "softmax", (("dim", None), ("_stacklevel", 3), ("dtype", None))),
        ((torch.softmax,), "softmax", (("dim", None), ("dtype", None))),
        ((F.log_softmax,), "log_softmax", (("dim", None), ("_stacklevel", 3), ("dtype", None))),
        ((torch.log_softmax,), "log_softmax", (("dim", None), ("dtype", None))),
        ((F.dropout, torch.dropout), "dropout", ()),
        ((torch.flatten,), "flatten", (("start_dim", 0), ("end_dim", -1))),
        ((F.linear,), "linear", ()),
        (
            (F.max_pool2d, getattr(F, "max_pool2d_with_indices", None)),
            "max_pool2d",
            (
                ("kernel_size", None),
                ("stride", None),
                ("padding", 0),
                ("dilation", 1),
                ("ceil_mode", False),
                ("return_indices", False),
            ),
        ),
        (
            (F.avg_pool2d,),
            "avg_pool2d",
            (
                ("kernel_size", None),
                ("stride", None),
                ("padding", 0),
                ("ceil_mode", False),
                ("count_include_pad", True),
                ("divisor_override", None),
            ),
        ),
        ((F.adaptive_avg_pool2d,), "adaptive_avg_pool2d", (("output_size", None),)),
    ]
    for targets, kind, arg_names in entries:
        for target in targets:
            if target is not None:
                table[target] = (kind, arg_names)
    return table


_METHOD_ACTIVATIONS: dict[str, tuple[str, tuple[tuple[str, Any], ...]]] = {
    "relu": ("relu", ()),
    "sigmoid": ("sigmoid", ()),
    "tanh": ("tanh", ()),
    "softmax": ("softmax", (("dim", None), ("dtype", None))),
    "log_softmax": ("log_softmax", (("dim", None), ("dtype", None))),
}
