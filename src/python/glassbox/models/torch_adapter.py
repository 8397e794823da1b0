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
from glassbox.models.spec import NetworkSpec

if TYPE_CHECKING:
    import torch

    from glassbox.models.native import NativeModel

SUPPORTED_MODULES: tuple[str, ...] = (
    "Linear",
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
    "torch.flatten(x, 1) / x.flatten(1)",
    "x.view(x.size(0), -1) / x.reshape(x.shape[0], -1)",
    "x.contiguous()",
)

_BATCH = object()  # the value of x.size(0) / x.shape[0] while tracing
_SHAPE = object()  # the value of x.size() / x.shape


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
        Shape of one sample (without the batch axis). Default: the shape of ``example_input``
        without its batch axis, else ``(in_features,)`` of the first linear layer.
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
        if start not in (1, 1 - rank) or end not in (-1, rank - 1):
            raise self._unsupported(
                node,
                what,
                f"flatten(start_dim={start}, end_dim={end}); only flattening every axis after "
                "the batch axis (start_dim=1, end_dim=-1) is supported",
            )
        self._add(node, name, "flatten", source, (int(np.prod(shape, dtype=np.int64)),))

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
        import torch.nn.functional as F

        target = node.target
        what = getattr(target, "__name__", str(target))
        first = node.args[0] if node.args else None
        if target is builtins.getattr and _is_node(first) and node.args[1] == "shape":
            self.values[node] = _SHAPE
            return
        if target is operator.getitem and _is_node(first) and self.values.get(first) is _SHAPE:
            self.values[node] = _BATCH if node.args[1] == 0 else None
            return
        entry = self.functions.get(target)
        if entry is None:
            raise self._unsupported(node, f"function {what}")
        kind, arg_names = entry
        source = self._input(node, f"function {what}")
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
            self._flatten(node, node.name, f"function {what}", source, start, end)
        else:
            if target is F.softmax or target is F.log_softmax:
                params.pop("_stacklevel", None)
            params.pop("dtype", None)
            params.pop("inplace", None)
            self._activation(node, node.name, f"function {what}", kind, source, params)

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
            self.values[node] = _SHAPE if dim is None else (_BATCH if dim == 0 else None)
        elif method == "contiguous":
            self._alias(node, source)
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
            shape = self.shape[source]
            size = int(np.prod(shape, dtype=np.int64))
            first, second = [*dims, None, None][:2]
            is_batch = _is_node(first) and self.values.get(first) is _BATCH
            flat = len(dims) == 2 and (
                (is_batch and second in (-1, size)) or (first == -1 and second == size)
            )
            if not flat:
                raise self._unsupported(
                    node,
                    what,
                    "only flattening to (batch, -1) is supported, e.g. x.view(x.size(0), -1)",
                )
            self._add(node, node.name, "flatten", source, (size,))
        else:
            raise self._unsupported(node, what)


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
    ]
    for targets, kind, arg_names in entries:
        for target in targets:
            table[target] = (kind, arg_names)
    return table


_METHOD_ACTIVATIONS: dict[str, tuple[str, tuple[tuple[str, Any], ...]]] = {
    "relu": ("relu", ()),
    "sigmoid": ("sigmoid", ()),
    "tanh": ("tanh", ()),
    "softmax": ("softmax", (("dim", None), ("dtype", None))),
    "log_softmax": ("log_softmax", (("dim", None), ("dtype", None))),
}
