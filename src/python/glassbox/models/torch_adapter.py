"""Translate a PyTorch module into a native glassbox network (``glassbox.from_torch``).

The module is traced with ``torch.fx`` (a ``torch.nn.Sequential``, nested or not, always traces)
and every node of the graph becomes one call of the graph builder (``models/builder.py``), looked
up in three tables: modules by class, functions by identity, tensor methods by name. Activations
come from the layer table's torch names (``models/layers.py``). Layers are named after the torch
module that computes them (``"0"``, ``"fc1"``, ``"block.2"``); functional calls in ``forward``
are named after their ``torch.fx`` node (``"relu"``, ``"flatten_1"``) and
``F.linear(x, self.fc.weight, self.fc.bias)`` after the module owning the weight (``"fc"``).

Weights are copied once (``detach().cpu().numpy()``); the caller's module is never modified and
is evaluated with inference semantics whatever its ``training`` flag (dropout is the identity).
A network whose input shape cannot be inferred (a CNN converted without ``input_shape``) is built
from the first batch it is given.
"""

from __future__ import annotations

import builtins
import functools
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox._validation import check_sample_shape
from glassbox.errors import UnsupportedLayerError
from glassbox.models.builder import UNKNOWN, GraphBuilder, Tensor, Unsupported, sample_shape
from glassbox.models.layers import Alias, activation_aliases
from glassbox.models.native import NativeModel
from glassbox.models.output_head import apply_output, check_output
from glassbox.models.spec import NetworkSpec
from glassbox.models.torch_export import through_onnx

if TYPE_CHECKING:
    import torch

Handler = Callable[["_Translator", Any], Any]


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
        from the supported modules and functions (``supported()`` lists them). It is not
        modified. A module torch.fx cannot trace (a Hugging Face transformer) is exported with
        ``torch.onnx.export(dynamo=False)`` and translated by ``from_onnx`` when the ``onnx``
        package is installed and the input shape is known; a ``UserWarning`` says so, and its
        layers are named after the ONNX nodes (``models/torch_export.py``). So is a TorchScript
        module (``torch.jit.load``): pass ``input_shape``.
    input_shape : int or tuple of int, optional
        Shape of one sample (without the batch axis), e.g. ``(C, H, W)`` for images (NCHW, as
        torch takes them). Default: the shape of ``example_input`` without its batch axis, else
        ``(in_features,)`` of the first linear layer of a network without image layers; else the
        network is built from the first batch it is given (``predict`` or an explainer call).
    output : {"model", "logits", "probabilities"}
        ``"model"``: what the module computes; ``"logits"``: without a final softmax,
        log-softmax or sigmoid; ``"probabilities"``: class probabilities (a softmax is appended
        to logits; a single logit ``z`` becomes ``[1 - sigmoid(z), sigmoid(z)]``).
    example_input : tensor or array, optional
        A batch of inputs; only its shape is used (``input_shape = example_input.shape[1:]``),
        and by the ONNX export of a module torch.fx cannot trace, its values (else ids 0,
        masks 1 and floats 0 of ``input_shape``).
    feature_names, output_names : sequence of str, optional
        Names of the (flattened) input features and of the outputs.

    Returns
    -------
    NativeModel

    Raises
    ------
    ValueError
        If a layer's weights hold NaN or infinite values, a batch norm has a negative running
        variance, or ``input_shape`` (or a layer's output) has more than
        ``glassbox.models.layers.MAX_ACTIVATION_SIZE`` elements per sample; the message names
        the layer.
    UnsupportedLayerError
        If the module contains layers or operations with no native equivalent, or with invalid
        geometry; the message names every one of them. If torch.fx cannot trace it and its
        ONNX export fails, cannot be translated or does not reproduce the module on other
        inputs (a branch on input values).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> model = from_torch(net, output="probabilities")
    >>> model.layer_names
    ['0', '1', '2', 'probabilities']
    >>> cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten())
    >>> lazy = from_torch(cnn)  # built from the first batch it sees
    >>> lazy.predict(torch.zeros(5, 1, 6, 6).numpy()).shape
    (5, 32)
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    check_output(output)
    shape = _input_shape(input_shape, example_input)
    names = {"feature_names": feature_names, "output_names": output_names}
    try:
        graph_module = _trace(module)
    except UnsupportedLayerError as error:  # through the ONNX export, if it can be tried
        exported = through_onnx(module, shape, example_input, error, output=output, **names)  # type: ignore[arg-type]
        if exported is None:
            raise
        return exported
    what = f"torch module {type(module).__name__}"

    def factory(shape: tuple[int, ...]) -> NetworkSpec:
        spec = _Translator(graph_module, shape).run()
        return apply_output(spec, output, what=f"this {type(module).__name__}")

    if shape is not None:
        return NativeModel(factory(shape), **names)  # type: ignore[arg-type]
    linear = next((m for m in module.modules() if isinstance(m, torch.nn.Linear)), None)
    if linear is not None:  # a model of vectors: its first linear layer gives the width
        try:
            return NativeModel(factory((linear.in_features,)), **names)  # type: ignore[arg-type]
        except UnsupportedLayerError as error:
            if not error.needs_image:  # type: ignore[attr-defined]
                raise
    _Translator(graph_module, None).check_ops()  # unknown ops fail now; shapes need data
    return NativeModel(factory=factory, what=what, **names)  # type: ignore[arg-type]


def _trace(module: torch.nn.Module) -> torch.fx.GraphModule:
    """Trace ``module`` with ``torch.fx`` and drop nodes that do not reach the output."""
    import torch.fx

    try:
        graph_module = torch.fx.symbolic_trace(module)
    except Exception as exc:
        raise UnsupportedLayerError(
            f"module: {type(module).__name__} could not be traced with torch.fx ({exc}); "
            f"from_torch supports torch.nn.Sequential models and fx-traceable modules built from "
            f"{', '.join(supported())}; use glassbox.wrap for other models"
        ) from exc
    graph_module.graph.eliminate_dead_code()
    return graph_module


def _input_shape(input_shape: Any, example_input: Any) -> Any:
    """The per-sample input shape the arguments give, if any: a tuple, or for a module of
    several inputs a dict name -> shape or a tuple of shapes (``example_input`` a tuple or dict
    of batches)."""
    if isinstance(input_shape, dict):
        return {
            str(k): check_sample_shape(v, f"input_shape[{k!r}]") for k, v in input_shape.items()
        }
    if (
        isinstance(input_shape, (tuple, list))
        and input_shape
        and all(isinstance(v, (tuple, list)) for v in input_shape)
    ):
        return tuple(check_sample_shape(v, f"input_shape[{i}]") for i, v in enumerate(input_shape))
    if isinstance(example_input, dict):
        return {str(k): tuple(int(d) for d in v.shape[1:]) for k, v in example_input.items()}
    if isinstance(example_input, (tuple, list)):
        return tuple(tuple(int(d) for d in v.shape[1:]) for v in example_input)
    shapes = [] if input_shape is None else [check_sample_shape(input_shape)]
    if example_input is not None:
        dims = tuple(getattr(example_input, "shape", ()))
        if len(dims) < 2:
            raise ValueError(
                "example_input: expected a batch of inputs with at least 2 dimensions "
                f"(batch, features...), got shape {dims or None}"
            )
        shapes.append(tuple(int(d) for d in dims[1:]))
    if len(shapes) == 2 and shapes[0] != shapes[1]:
        raise ValueError(f"input_shape: {shapes[0]} disagrees with example_input's {shapes[1]}")
    return shapes[0] if shapes else None


def _get_attr(graph_module: torch.fx.GraphModule, target: str) -> Any:
    value: Any = graph_module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _to_numpy(tensor: Any) -> np.ndarray:
    return np.array(tensor.detach().cpu().numpy(), dtype=np.float32, copy=True)


def _arg(node: Any, index: int, name: str, default: Any = None) -> Any:
    """Argument ``index`` (counting the input as 0) / keyword ``name`` of a call node."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _plain(module: Any, cls: type) -> bool:
    """``module`` is a ``cls`` whose forward is ``cls.forward`` (not overridden)."""
    return isinstance(module, cls) and type(module).forward is cls.forward


class _Translator:
    """Walk a traced graph in order, one builder call per node."""

    def __init__(self, graph_module: torch.fx.GraphModule, shape: Any):
        self.gm = graph_module
        self.shapes = shape  # one tuple, or several (a tuple of tuples or a dict by name)
        single = (
            shape if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape) else None
        )
        self.builder = GraphBuilder(single or (1,), adapter="from_torch", supported=supported())
        self.values: dict[Any, Any] = {}  # fx node -> Tensor, constant, shape tuple or BATCH
        self.node: Any = None
        self.module: Any = None

    def run(self) -> NetworkSpec:
        """Translate every node; the spec, or one error naming every unsupported node."""
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        used = [n for n in placeholders if n.users]
        several = isinstance(self.shapes, dict) or (
            isinstance(self.shapes, tuple)
            and bool(self.shapes)
            and not isinstance(self.shapes[0], int)
        )
        if len(used) > 1 or several:
            self._named_inputs(used)
        else:
            sample_shape((None, *self.builder.input.shape), max(len(used), 1), 1, "the module")
        result = UNKNOWN
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.values.setdefault(node, self.builder.input if node in used else None)
            elif node.op == "get_attr":
                self.values[node] = _get_attr(self.gm, node.target)
            elif node.op == "output":
                result = self._output(node)
            else:
                self.values[node] = self._call(node)
        return self.builder.finish(result)

    def _named_inputs(self, used: list[Any]) -> None:
        """The module's several inputs (``forward(input_ids, attention_mask)``) as named inputs,
        their shapes from ``input_shape`` (a dict by argument name or a tuple in order)."""
        names = [str(n.target) for n in used]
        shapes = self.shapes
        if isinstance(shapes, dict):
            missing = [n for n in names if n not in shapes]
            if missing:
                raise ValueError(f"input_shape: no shape for the module's inputs {missing}")
            shapes = tuple(shapes[n] for n in names)
        if not isinstance(shapes, tuple) or len(shapes) != len(names):
            raise ValueError(
                f"input_shape: the module takes {len(names)} inputs {names}; pass one per-sample "
                "shape each, as a dict by name or a tuple in that order (e.g. input_shape="
                f"{dict.fromkeys(names, (32,))})"
            )
        specs = [
            (n, shape, _input_dtype(node))
            for n, shape, node in zip(names, shapes, used, strict=True)
        ]
        for node, tensor in zip(used, self.builder.named_inputs(specs), strict=True):
            self.values[node] = tensor

    def check_ops(self) -> None:
        """Raise one error naming every node no table entry translates (no shapes needed)."""
        for node in self.gm.graph.nodes:
            if node.op in ("call_module", "call_function", "call_method"):
                handler, name, what = self._dispatch(node)
                if handler is None:
                    self.builder.unsupported(name, what)
        if self.builder.failures:
            raise self.builder.error()

    def _output(self, node: Any) -> Tensor:
        result = node.args[0]
        result = result[0] if isinstance(result, (tuple, list)) and len(result) == 1 else result
        value = self.values.get(result) if _is_node(result) else None
        if not isinstance(value, Tensor):
            raise UnsupportedLayerError(
                f"output: forward returns {type(result).__name__} {result!r}; from_torch "
                "supports modules that return a single tensor"
            )
        return value

    def _dispatch(self, node: Any) -> tuple[Handler | None, str, str]:
        """The handler of ``node``, its layer name and its type for messages."""
        tables = _tables()
        if node.op == "call_module":
            module = self.gm.get_submodule(node.target)
            handler = next((h for cls, h in tables.modules.items() if _plain(module, cls)), None)
            if handler is None and isinstance(module, tables.dropouts):  # torch's own dropouts
                own = type(module).__module__.startswith("torch.nn.")
                handler = _identity("dropout") if own else None
            return handler, str(node.target), type(module).__name__
        if node.op == "call_function":
            what = f"function {getattr(node.target, '__name__', str(node.target))}"
            return tables.functions.get(node.target), node.name, what
        return tables.methods.get(str(node.target)), node.name, f"method .{node.target}()"

    def _call(self, node: Any) -> Any:
        handler, self.name, what = self._dispatch(node)
        words = None if handler is not None or node.op == "call_module" else _in_words(node)
        if words is not None:  # an op with no native form, named as the user wrote it
            return self.builder.unsupported(self.name, *words)
        self.node = node
        self.module = self.gm.get_submodule(node.target) if node.op == "call_module" else None
        inputs = [self.values.get(arg) for arg in node.all_input_nodes]
        return self.builder.apply(self.name, what, handler, inputs, self)

    # -- argument access for handlers ----------------------------------------------------------
    def value(self, item: Any) -> Any:
        """An argument with fx nodes replaced by their values (recursively in lists)."""
        if _is_node(item):
            return self.values.get(item, UNKNOWN)
        if isinstance(item, (list, tuple)):
            return type(item)(self.value(v) for v in item)
        return item

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        """The value of argument ``index`` (the input is 0) / keyword ``name``."""
        return self.value(_arg(self.node, index, name, default))

    def param(self, index: int, name: str, default: Any = None) -> Any:
        """A module's attribute ``name``, or a function's argument ``index`` / ``name``: module
        and functional forms share one handler."""
        if self.module is not None:
            return getattr(self.module, name, default)
        return self.arg(index, name, default)

    def tensor(self) -> Tensor:
        """The node's first argument, which must be computed from the model input."""
        x = self.arg(0, "input")
        if not isinstance(x, Tensor):
            raise Unsupported("its input is not the model's tensor")
        return x


#: Ops with no native form, in words: op name -> (what the user wrote, symbol or None).
_COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_LOGICAL = {"logical_and": "&", "logical_or": "|", "logical_not": "~", "logical_xor": "^"}
_SELECTIONS = ("where", "masked_fill", "masked_select", "argmax", "argmin", "sort", "topk")
_NO_GRADIENT = (
    "compute it outside the model (e.g. pass the mask as data), or explain the module with a "
    "model-agnostic method (KernelShap, Occlusion, FeatureAblation, Lime), which calls it as it "
    "is (eval mode, no gradients)"
)


def _in_words(node: Any) -> tuple[str, str] | None:
    """(what, reason) for a comparison, logical or selection op (``x != PAD`` is "the
    comparison != (torch.ne)"), else None."""
    name = getattr(node.target, "__name__", str(node.target)).strip("_")
    name = name.removeprefix("i") if name.removeprefix("i") in _LOGICAL else name
    written = f"torch.{name}" if node.op == "call_function" else f".{name}()"
    if name in _COMPARISONS:
        what = f"the comparison {_COMPARISONS[name]} ({written})"
    elif name in ("and", "or", "xor", "invert") or name in _LOGICAL:
        symbol = {"and": "&", "or": "|", "xor": "^", "invert": "~"}.get(name) or _LOGICAL[name]
        what = f"the logical operation {symbol} ({written})"
    elif name in _SELECTIONS:
        what = f"the selection {written}"
    else:
        return None
    return what, f"it makes a mask or an index, which has no gradient: {_NO_GRADIENT}"


# -- handlers: one small function per kind of node ---------------------------------------------


def _parameters(t: _Translator, *names_at: tuple[int, str]) -> list[np.ndarray | None]:
    """Weights of a module or of a functional call, which must be the module's own tensors."""
    values = [t.param(index, name) for index, name in names_at]
    if any(isinstance(v, Tensor) or (v is not None and not hasattr(v, "detach")) for v in values):
        raise Unsupported("its weights must be parameters or buffers of the module")
    return [None if v is None else _to_numpy(v) for v in values]


def _linear(t: _Translator) -> Tensor:
    weight, bias = _parameters(t, (1, "weight"), (2, "bias"))
    name = t.name
    if t.module is None:  # F.linear(x, self.fc.weight, ...): named after the owner, "fc"
        owner = str(getattr(_arg(t.node, 1, "weight"), "target", "")).rpartition(".")[0]
        name = owner if owner and owner not in t.builder.names else name
    return t.builder.dense(name, t.tensor(), weight, bias)


def _conv(t: _Translator) -> Tensor:
    if getattr(t.module, "padding_mode", "zeros") != "zeros":
        raise Unsupported(f"padding_mode={t.module.padding_mode!r}; only 'zeros' is supported")
    weight, bias = _parameters(t, (1, "weight"), (2, "bias"))
    geometry = ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)
    args = {key: t.param(i + 3, key, d) for i, (key, d) in enumerate(geometry)}
    return t.builder.conv2d(t.name, t.tensor(), weight, bias, **args)


def _conv1d(t: _Translator) -> Tensor:
    if getattr(t.module, "padding_mode", "zeros") != "zeros":
        raise Unsupported(f"padding_mode={t.module.padding_mode!r}; only 'zeros' is supported")
    weight, bias = _parameters(t, (1, "weight"), (2, "bias"))
    geometry = ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)
    args = {key: t.param(i + 3, key, d) for i, (key, d) in enumerate(geometry)}
    return t.builder.conv1d(t.name, t.tensor(), weight, bias, **args)


def _pool1d(kind: str) -> Handler:
    """MaxPool1d / AvgPool1d and their functions (torch's argument order)."""
    names = {
        "max": "kernel_size stride padding dilation ceil_mode return_indices".split(),
        "avg": "kernel_size stride padding ceil_mode count_include_pad".split(),
    }[kind]

    def handler(t: _Translator) -> Tensor:
        a = {key: t.param(i + 1, key, _POOL_DEFAULTS.get(key)) for i, key in enumerate(names)}
        if a.pop("return_indices", False):
            raise Unsupported("return_indices=True")
        return t.builder.pool1d(t.name, kind, t.tensor(), a.pop("kernel_size"), **a)

    return handler


def _adaptive1d(t: _Translator) -> Tensor:
    """AdaptiveAvgPool1d(1) / AdaptiveMaxPool1d(1): the mean or maximum over the sequence."""
    if t.param(1, "output_size") not in (1, (1,), [1]):
        raise Unsupported("output_size other than 1")
    kind = "max" if "Max" in type(t.module).__name__ or "max" in t.name else "mean"
    return t.builder.reduce(t.name, kind, t.tensor(), 2, keepdims=True)


_POOL_ARGS = {  # torch's argument order after the input
    "max_pool2d": "kernel_size stride padding dilation ceil_mode return_indices".split(),
    "avg_pool2d": "kernel_size stride padding ceil_mode count_include_pad divisor_override".split(),
}
_POOL_DEFAULTS = {"padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True}


def _pool(kind: str) -> Handler:
    def handler(t: _Translator) -> Tensor:
        a = {
            key: t.param(i + 1, key, _POOL_DEFAULTS.get(key))
            for i, key in enumerate(_POOL_ARGS[kind])
        }
        if a.pop("return_indices", False):
            raise Unsupported("return_indices=True")
        if a.pop("divisor_override", None) is not None:
            raise Unsupported("divisor_override is not supported")
        return t.builder.pool2d(t.name, kind, t.tensor(), a.pop("kernel_size"), **a)

    return handler


def _adaptive(kind: str) -> Handler:
    def handler(t: _Translator) -> Tensor:
        if t.param(2, "return_indices", False):
            raise Unsupported("return_indices=True")
        return t.builder.adaptive_pool2d(t.name, kind, t.tensor(), t.param(1, "output_size"))

    return handler


def _pad(t: _Translator) -> Tensor:
    """nn.ZeroPad2d, nn.ConstantPad2d(value 0), F.pad(mode="constant"): a zero padding that the
    convolution reading it absorbs. torch orders it (left, right, top, bottom)."""
    pads, value = t.param(1, "padding" if t.module else "pad"), t.param(3, "value", 0.0)
    if t.param(2, "mode", "constant") != "constant" or value not in (0, None):
        raise Unsupported("only a zero padding (mode='constant', value=0) is supported")
    pads = [pads] * 4 if isinstance(pads, int) else list(pads)
    if len(pads) not in (2, 4):
        raise Unsupported(f"pad={pads}: only the last two (spatial) axes may be padded")
    left, right, top, bottom = [*pads, 0, 0][:4]
    return t.builder.pad(t.name, t.tensor(), (top, left, bottom, right), "ZeroPad2d")


def _batch_norm(t: _Translator) -> Tensor:
    """BatchNorm1d / 2d modules and F.batch_norm, with their running statistics."""
    if t.module is None and t.param(5, "training", False) is True:
        raise Unsupported("training=True (batch statistics)")
    if t.module is not None and t.module.running_mean is None:
        raise Unsupported("track_running_stats=False (no running statistics at inference)")
    mean, var, weight, bias = _parameters(
        t, (1, "running_mean"), (2, "running_var"), (3, "weight"), (4, "bias")
    )
    eps = float(t.param(7, "eps", 1e-5))
    return t.builder.batch_norm(t.name, t.tensor(), mean, var, weight, bias, eps)


def _flatten(t: _Translator) -> Tensor:
    start, end = t.param(1, "start_dim", 1 if t.module else 0), t.param(2, "end_dim", -1)
    return t.builder.flatten(t.name, t.tensor(), start, end)


def _identity(kind: str) -> Handler:  # identity and dropout (the identity at inference)
    return lambda t: t.builder.identity(t.name, t.tensor(), kind)


def _view(t: _Translator) -> Tensor:
    dims = list(t.node.args[1:]) or list(t.node.kwargs.get("shape", ()))
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    dims = [t.value(d) for d in dims]
    if any(isinstance(d, Tensor) and not d.known for d in dims):
        return UNKNOWN
    return t.builder.reshape(t.name, t.tensor(), dims)


def _shape(t: _Translator) -> Any:
    """``x.shape``, ``x.size()``, ``x.size(dim)``: the batch is ``BATCH`` (None if unknown)."""
    if t.node.op == "call_function" and t.node.args[1] != "shape":
        raise Unsupported(f"attribute .{t.node.args[1]}")
    shape = t.builder.shape_of(t.tensor())
    dim = t.arg(1, "dim") if t.node.op == "call_method" else None
    if shape is None or dim is None:
        return None if shape is None else tuple(int(d) for d in shape)
    return _item(shape, dim)


def _getitem(t: _Translator) -> Any:
    container, index = t.value(t.node.args[0]), t.value(t.node.args[1])
    if isinstance(container, Tensor):
        if not container.known:
            return UNKNOWN
        return _tensor_item(t, container, index)
    if container is None:
        return None
    if isinstance(container, tuple) and any(
        isinstance(v, (Tensor, _States)) or v is None for v in container
    ):
        if type(index) is not int or not -len(container) <= index < len(container):
            raise Unsupported(f"item {index!r} of a module's {len(container)} outputs")
        if container[index] is None:
            raise Unsupported(
                f"output {index} of the module (attention weights, indices, an LSTM's c_n)"
            )
        return container[index]
    if isinstance(container, tuple):
        return _item(container, index)
    raise Unsupported(f"indexing {type(container).__name__}")


def _item(shape: Sequence[int], index: Any) -> Any:
    if type(index) is not int or not -len(shape) <= index < len(shape):
        raise Unsupported(f"index {index!r} of a shape of rank {len(shape)}")
    return int(shape[index])


def _arithmetic(op: str, swap: bool = False) -> Handler:
    """``a op b`` of operator / torch / method calls (``torch.rsub(a, b)`` is ``b - a``)."""

    def handler(t: _Translator) -> Any:
        a, b = t.arg(0, "input"), t.arg(1, "other")
        if swap:
            a, b = b, a
        alpha = t.node.kwargs.get("alpha", 1)
        if alpha != 1:
            b = t.builder.arithmetic(f"{t.name}/alpha", "mul", b, alpha)
        if a is None or b is None:
            return None
        return t.builder.arithmetic(t.name, op, a, b)

    return handler


def _neg(t: _Translator) -> Any:
    return t.builder.arithmetic(t.name, "mul", t.arg(0, "input"), -1.0)


def _cat(t: _Translator) -> Tensor:
    tensors = t.arg(0, "tensors")
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(x, Tensor) for x in tensors):
        raise Unsupported("it must join tensors computed by the model")
    return t.builder.concat(t.name, list(tensors), t.arg(1, "dim", 0))


def _mean(t: _Translator) -> Tensor:
    dims = t.arg(1, "dim")
    if dims is None:
        raise Unsupported("a mean over every axis, the batch included")
    return t.builder.mean(t.name, t.tensor(), dims, bool(t.arg(2, "keepdim", False)))


def _activation(alias: Alias) -> Handler:
    """An activation of the layer table: module attributes or call arguments, by the alias."""
    return lambda t: t.builder.aliased(t.name, alias, t.tensor(), lambda i, a: t.param(i + 1, a))


# -- sequence models ----------------------------------------------------------------------------


def _input_dtype(node: Any) -> str:
    """ "int" for a module input read as token ids or as a mask: by an embedding, a comparison
    with a constant, or a dtype conversion (.long(), .int(), .bool(), .float()); else "float".
    Integer inputs are checked to hold whole numbers, and LRP gives a mask no relevance."""
    import operator

    import torch
    import torch.nn.functional as F

    comparisons = {getattr(m, op) for m in (operator, torch) for op in _COMPARISONS}
    views = {"view", "reshape", "squeeze", "unsqueeze", "contiguous", "transpose", "permute"}
    for user in node.users:
        if user.op == "call_method" and user.target in (
            "long",
            "int",
            "bool",
            "float",
            *_COMPARISONS,
        ):
            return "int"
        if user.op == "call_function" and user.target in comparisons:
            return "int"
        ids = _arg(user, 0, "input") is node  # an embedding's ids, not its per_sample_weights
        if ids and user.op == "call_function" and user.target in (F.embedding, F.embedding_bag):
            return "int"
        if ids and user.op == "call_module":
            module = user.graph.owning_module.get_submodule(user.target)
            if type(module).__name__ in ("Embedding", "EmbeddingBag"):
                return "int"
        # x[:, 0], x.view(...): the part is read as the whole is (per-column category codes)
        passes = (user.op == "call_function" and user.target is operator.getitem) or (
            user.op == "call_method" and user.target in views
        )
        if passes and user.args and user.args[0] is node and _input_dtype(user) == "int":
            return "int"
    return "float"


def _embedding(t: _Translator) -> Any:
    if t.module is not None:
        if t.module.max_norm is not None:
            raise Unsupported("max_norm (it renormalises the table while it reads it)")
        (weight,) = _parameters(t, (1, "weight"))
        ids, pad = t.arg(0, "input"), t.module.padding_idx
    else:  # F.embedding(input, weight, padding_idx, max_norm, ...)
        (weight,) = _parameters(t, (1, "weight"))
        ids, pad = t.arg(0, "input"), t.arg(2, "padding_idx")
        if t.arg(3, "max_norm") is not None:
            raise Unsupported("max_norm (it renormalises the table while it reads it)")
    return t.builder.embedding(t.name, ids, weight, pad)


def _embedding_bag(t: _Translator) -> Any:
    """nn.EmbeddingBag / F.embedding_bag on (B, T) ids, one bag a row (no offsets): the
    embedding (``<name>/embedding``), then torch's sum, mean or max over the row. As in torch,
    ``padding_idx`` is left out of the bag: a mean divides by the other ids, a max reads only
    them, and a bag of padding alone is zeros. ``per_sample_weights`` (mode sum) must be a
    (B, T) tensor the model computes or takes as an input."""
    from glassbox.models.sequence_builder import MASKED_SCORE

    b, name, module = t.builder, t.name, t.module
    if module is not None:
        mode, pad, max_norm = module.mode, module.padding_idx, module.max_norm
        offsets, scale = t.arg(1, "offsets"), t.arg(2, "per_sample_weights")
    else:  # F.embedding_bag(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq,
        #                    mode, sparse, per_sample_weights, include_last_offset, padding_idx)
        mode, pad = t.arg(6, "mode", "mean"), t.arg(10, "padding_idx")
        max_norm, offsets, scale = (
            t.arg(3, "max_norm"),
            t.arg(2, "offsets"),
            t.arg(8, "per_sample_weights"),
        )
    if max_norm is not None:
        raise Unsupported("max_norm (it renormalises the table while it reads it)")
    if offsets is not None:
        raise Unsupported(
            "offsets (1-D ids cut into bags); pass the ids as a (B, T) tensor, one bag a row "
            "(shorter bags filled with padding_idx), without offsets"
        )
    if mode not in ("sum", "mean", "max"):
        raise Unsupported(f"mode={mode!r}")
    if scale is not None and (
        mode != "sum" or not isinstance(scale, Tensor) or scale.shape != t.tensor().shape
    ):
        raise Unsupported(
            "per_sample_weights other than a (B, T) tensor computed by the model (or one of its "
            "inputs) with mode='sum'"
        )
    (table,) = _parameters(t, (1, "weight"))
    ids = t.tensor()
    if len(ids.shape) != 1:
        raise Unsupported(f"ids of per-sample shape {ids.shape}; it reads (B, T) ids")
    steps = ids.shape[0]
    pad = None if pad is None else int(pad) % table.shape[0]
    rows = b.embedding(f"{name}/embedding", ids, table, pad)  # (T, D)
    keep = None if pad is None else b.compare(f"{name}/keep", "ne", ids, pad)  # (T,)
    if scale is not None:
        scale = scale if keep is None else b.broadcast_binary(f"{name}/scale", "mul", scale, keep)
    elif mode != "max":
        scale = keep
    if scale is not None:  # padding (and weights) zero their rows before the sum
        column = b.new_shape(f"{name}/scale/column", scale, (steps, 1))
        rows = b.broadcast_binary(f"{name}/scaled", "mul", rows, column)
    if keep is None or mode == "sum":
        return b.reduce(name, mode, rows, 1)
    count = b.reduce(f"{name}/count", "sum", keep, 1, keepdims=True)  # (1,)
    if mode == "mean":  # the sum over the kept ids / max(count, 1)
        empty = b.compare(f"{name}/empty", "eq", count, 0.0)
        divisor = b.broadcast_binary(f"{name}/divisor", "add", count, empty)
        total = b.reduce(f"{name}/sum", "sum", rows, 1)
        return b.broadcast_binary(name, "div", total, divisor)
    column = b.new_shape(f"{name}/keep/column", keep, (steps, 1))
    kept = b.where(f"{name}/kept", column, rows, MASKED_SCORE)
    top = b.reduce(f"{name}/max", "max", kept, 1)
    return b.where(name, b.compare(f"{name}/any", "gt", count, 0.0), top, 0.0)


def _layer_norm(t: _Translator) -> Tensor:
    shape = t.param(1, "normalized_shape")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if len(shape) != 1:
        raise Unsupported(f"normalized_shape={shape}; only the last axis is supported")
    weight, bias = _parameters(t, (2, "weight"), (3, "bias"))
    return t.builder.norm(t.name, "layer_norm", t.tensor(), weight, bias, t.param(4, "eps", 1e-5))


def _rms_norm(t: _Translator) -> Tensor:
    import torch

    shape = t.param(1, "normalized_shape")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if len(shape) != 1:
        raise Unsupported(f"normalized_shape={shape}; only the last axis is supported")
    (weight,) = _parameters(t, (2, "weight"))
    eps = t.param(3, "eps", None)
    eps = torch.finfo(torch.float32).eps if eps is None else float(eps)
    return t.builder.norm(t.name, "rms_norm", t.tensor(), weight, None, eps)


def _arange(t: _Translator) -> np.ndarray:
    """``torch.arange(T)`` of constant (shape-derived) bounds: position ids, a constant."""
    bounds = [t.value(a) for a in t.node.args]
    if not bounds or not all(isinstance(b, (int, np.integer)) for b in bounds):
        raise Unsupported("arange needs constant bounds")
    return np.arange(*[int(b) for b in bounds])


def _matmul(t: _Translator) -> Any:
    return t.builder.matmul(t.name, t.arg(0, "input"), t.arg(1, "other"))


def _transpose(t: _Translator) -> Tensor:
    return t.builder.swap_axes(t.name, t.tensor(), t.arg(1, "dim0"), t.arg(2, "dim1"))


def _permute(t: _Translator) -> Tensor:
    dims = list(t.node.args[1:]) or list(t.node.kwargs.get("dims", ()))
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    return t.builder.permute_axes(t.name, t.tensor(), [t.value(d) for d in dims])


def _unsqueeze(t: _Translator) -> Tensor:
    x = t.tensor()
    rank = len(x.framework_shape) + 2  # the batch and the new axis
    dim = int(t.arg(1, "dim")) % rank
    if dim == 0:
        raise Unsupported("a new axis before the batch axis")
    shape = list(x.framework_shape)
    shape.insert(dim - 1, 1)
    return t.builder.new_shape(t.name, x, shape)


def _squeeze(t: _Translator) -> Tensor:
    x = t.tensor()
    dim = t.arg(1, "dim")
    shape = list(x.shape)
    if dim is None:
        kept = [d for d in shape if d != 1] or [1]
    else:
        axes = [dim] if isinstance(dim, int) else list(dim)
        drop = {t.builder._axis(x, a) for a in axes}
        kept = [d for i, d in enumerate(shape) if i not in drop or d != 1] or [1]
    return t.builder.new_shape(t.name, x, kept)


def _tensor_item(t: _Translator, x: Tensor, index: Any) -> Tensor:
    """``x[index]`` of a computed tensor: ints and slices on per-sample axes (``x[:, 0]``,
    ``h[:, -1, :]``, ``x[:, 1:]``), ``None`` (a new axis) and ``...``."""
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        fill = len(x.shape) + 1 - (len(items) - 1 - sum(i is None for i in items))
        items[at : at + 1] = [slice(None)] * fill
    if not items or items[0] != slice(None):
        raise Unsupported(f"indexing the batch axis ({index!r})")
    out, axis, name = x, 1, t.name
    for k, item in enumerate(items[1:]):
        step = f"{name}/{k}"
        if item is None:
            shape = list(out.shape)
            shape.insert(axis - 1, 1)
            out, axis = t.builder.new_shape(step, out, shape), axis + 1
        elif isinstance(item, int):
            out = t.builder.select(step, out, axis, item)
        elif isinstance(item, slice):
            extent = out.shape[axis - 1]
            indices = range(extent)[item]
            if len(indices) == 0:
                raise Unsupported(f"an empty slice {item!r}")
            out, axis = t.builder.take(step, out, axis, list(indices)), axis + 1
        else:
            raise Unsupported(f"indexing with {type(item).__name__}")
    return t.builder.identity(name, out) if out is x else out


def _compare(op: str) -> Handler:
    def handler(t: _Translator) -> Any:
        a, b = t.arg(0, "input"), t.arg(1, "other")
        if not isinstance(a, Tensor):
            a, b = b, a
            op_here = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}.get(op, op)
        else:
            op_here = op
        if isinstance(b, Tensor):
            raise Unsupported("a comparison of two computed tensors")
        return t.builder.compare(t.name, op_here, a, b)

    return handler


def _logical_not(t: _Translator) -> Tensor:
    x = t.tensor()
    if not x.mask:
        raise Unsupported("~ of a tensor that is not a mask (a comparison's result)")
    out = t.builder.scale_shift(t.name, x, -1.0, 1.0)
    out.mask = True
    return out


def _logical_and(t: _Translator) -> Tensor:
    a, b = t.arg(0, "input"), t.arg(1, "other")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.mask and b.mask):
        raise Unsupported("& of tensors that are not masks")
    return t.builder.broadcast_binary(t.name, "mul", a, b)


def _convert(kind: str) -> Handler:
    """``.float()``, ``.long()``, ``.to(dtype)``, ``.bool()``, ``.type_as(y)``: values stay
    (masks and ids are whole numbers); ``.bool()`` of a non-mask is ``!= 0``."""

    def handler(t: _Translator) -> Any:
        x = t.tensor()
        if kind == "bool" and not x.mask:
            return t.builder.compare(t.name, "ne", x, 0.0)
        return x

    return handler


def _masked_fill(t: _Translator) -> Any:
    x, mask, value = t.arg(0, "input"), t.arg(1, "mask"), t.arg(2, "value")
    if not isinstance(mask, Tensor) or isinstance(value, Tensor):
        raise Unsupported("masked_fill needs a computed mask and a constant value")
    number = float(value)
    if not np.isfinite(number):  # -inf: the masked score; finite, no NaN if all are masked
        number = -1e9 if number < 0 else 1e9
    return t.builder.where(t.name, mask, number, x)


def _torch_where(t: _Translator) -> Any:
    return t.builder.where(t.name, t.arg(0, "condition"), t.arg(1, "input"), t.arg(2, "other"))


def _reduction(kind: str) -> Handler:
    """``x.sum(dim)``, ``torch.sum(x, dim)``, ``x.max(dim)`` (values; the indices are not
    available), ``torch.amax``; the batch axis cannot be reduced."""

    def handler(t: _Translator) -> Any:
        dims = t.arg(1, "dim")
        if dims is None:
            raise Unsupported(f"a {kind} over every axis, the batch included")
        out = t.builder.reduce(t.name, kind, t.tensor(), dims, bool(t.arg(2, "keepdim", False)))
        if getattr(t.node.target, "__name__", t.node.target) == "max":
            return (out, None)  # torch.max(x, dim) returns (values, indices)
        return out

    return handler


class _States(tuple):
    """torch's h_n of a recurrent module, (layers * directions, batch, H): the batch is not
    first, so it stays a tuple of per-(layer, direction) tensors that ``h_n[k]`` indexes."""


def _recurrent(kind: str) -> Handler:
    """nn.LSTM / nn.GRU (batch_first, zero initial state): one native layer per torch layer,
    the last named after the module; ``output`` and ``h_n`` (its entries are the sequence's
    last step, forward half, and first step, reverse half); ``c_n`` is not available."""

    def handler(t: _Translator) -> Any:
        module = t.module
        if not module.batch_first:
            raise Unsupported(
                "batch_first=False (glassbox reads sequences as (batch, T, features))"
            )
        if getattr(module, "proj_size", 0):
            raise Unsupported("proj_size > 0")
        if t.arg(1, "hx") is not None:
            raise Unsupported("an initial state (hx); only the zero initial state is supported")
        x = t.tensor()
        directions = 2 if module.bidirectional else 1
        suffixes = ["", "_reverse"][:directions]
        states = []
        for layer in range(module.num_layers):
            weights = {}
            for suffix in suffixes:
                for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    value = getattr(module, f"{part}_l{layer}{suffix}", None)
                    weights[part + suffix] = None if value is None else _to_numpy(value)
            last = layer == module.num_layers - 1
            name = t.name if last else f"{t.name}/l{layer}"
            x = t.builder.recurrent(name, kind, x, weights)
            for d in range(directions):
                states.append(t.builder.final_state(f"{name}/h_n{d}", x, reverse=d == 1))
        h_n = _States(states)
        return (x, (h_n, None)) if kind == "lstm" else (x, h_n)

    return handler


class _Attention:
    """The attention of nn.MultiheadAttention (batch_first) decomposed into native layers:
    dense projections, heads, scaled scores, the masks' additive bias, softmax, the weighted sum
    of values and the output projection. The last layer carries the module's name; the others
    are named ``<name>/q``, ``<name>/scores``, ``<name>/weights`` (the softmax), ...."""

    def __init__(self, t: _Translator, module: Any, name: str) -> None:
        self.t, self.m, self.name = t, module, name
        if not module.batch_first:
            raise Unsupported("batch_first=False (glassbox reads sequences as (batch, T, D))")
        if module.bias_k is not None or module.add_zero_attn:
            raise Unsupported("add_bias_kv or add_zero_attn")
        if not module._qkv_same_embed_dim:
            raise Unsupported("kdim / vdim different from embed_dim")

    def __call__(
        self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any, attn_mask: Any
    ) -> Tensor:
        m = self.m
        d = m.embed_dim
        w = _to_numpy(m.in_proj_weight)
        bias = None if m.in_proj_bias is None else _to_numpy(m.in_proj_bias)
        projections = {
            label: (w[i * d : (i + 1) * d], None if bias is None else bias[i * d : (i + 1) * d])
            for i, label in enumerate("qkv")
        }
        out_b = None if m.out_proj.bias is None else _to_numpy(m.out_proj.bias)
        projections["out"] = (_to_numpy(m.out_proj.weight), out_b)
        t_q, t_k = query.shape[0], key.shape[0]  # type: ignore[index]

        def masked(scores: Tensor) -> Tensor:
            for label, mask, shape in (
                ("key_padding_mask", key_padding_mask, (1, 1, t_k)),
                ("attn_mask", attn_mask, (1, t_q, t_k)),
            ):
                if mask is not None:
                    scores = self._masked(scores, mask, shape, label)
            return scores

        out, _ = self.t.builder.attention(
            self.name, query, key, value, projections, m.num_heads, masked=masked
        )
        return out

    def _masked(self, scores: Tensor, mask: Any, shape: tuple[int, ...], label: str) -> Tensor:
        """Scores plus the mask's bias: a boolean mask (True = not attended) becomes
        MASKED_SCORE where set; a float mask is added as it is (torch's two conventions)."""
        from glassbox.models.sequence_builder import MASKED_SCORE

        b, name = self.t.builder, self.name
        if isinstance(mask, Tensor):
            bias = (
                b.scale_shift(f"{name}/{label}/bias", mask, MASKED_SCORE, 0.0)
                if mask.mask
                else mask
            )
            bias = b.new_shape(f"{name}/{label}/b", bias, shape)
            return b.arithmetic(f"{name}/{label}", "add", scores, bias)
        array = np.asarray(mask.detach().cpu().numpy() if hasattr(mask, "detach") else mask)
        if array.dtype == bool:
            array = np.where(array, MASKED_SCORE, 0.0)
        array = np.where(np.isfinite(array), array, MASKED_SCORE).astype(np.float64)
        return b.arithmetic(
            f"{name}/{label}",
            "add",
            scores,
            array.reshape(shape[-array.ndim :] if array.ndim <= 2 else array.shape),
        )


def _multihead_attention(t: _Translator) -> Any:
    query, key, value = t.arg(0, "query"), t.arg(1, "key"), t.arg(2, "value")
    if not all(isinstance(x, Tensor) for x in (query, key, value)):
        raise Unsupported("query, key and value must be computed tensors")
    if t.arg(7, "is_causal", False):
        raise Unsupported("is_causal=True (pass attn_mask instead)")
    out = _Attention(t, t.module, t.name)(
        query, key, value, t.arg(3, "key_padding_mask"), t.arg(5, "attn_mask")
    )
    return (out, None)  # (attn_output, attn_weights): the weights are not an output


def _encoder_layer(
    t: _Translator, module: Any, name: str, x: Tensor, mask: Any, padding: Any
) -> Tensor:
    """One nn.TransformerEncoderLayer (batch_first): self-attention and the feed-forward block,
    each with its residual, LayerNorm before (norm_first) or after."""
    import torch.nn.functional as F

    b = t.builder
    if not module.self_attn.batch_first:
        raise Unsupported("batch_first=False (glassbox reads sequences as (batch, T, D))")
    activation = module.activation
    kind = {F.relu: "relu", F.gelu: "gelu"}.get(activation)
    if kind is None:
        kind = {"ReLU": "relu", "GELU": "gelu"}.get(type(activation).__name__)
    if kind is None:
        raise Unsupported(f"activation {activation!r}; relu and gelu are supported")
    params = {"approximate": getattr(activation, "approximate", "none")} if kind == "gelu" else {}

    def norm(label: str, ln: Any, y: Tensor, output: str | None = None) -> Tensor:
        weight = None if ln.weight is None else _to_numpy(ln.weight)
        bias = None if ln.bias is None else _to_numpy(ln.bias)
        return b.norm(output or f"{name}.{label}", "layer_norm", y, weight, bias, ln.eps)

    def attention(y: Tensor) -> Tensor:
        return _Attention(t, module.self_attn, f"{name}.self_attn")(y, y, y, padding, mask)

    def dense(label: str, linear: Any, y: Tensor) -> Tensor:
        bias = None if linear.bias is None else _to_numpy(linear.bias)
        return b.dense(f"{name}.{label}", y, _to_numpy(linear.weight), bias)

    def feed_forward(y: Tensor) -> Tensor:
        h = b.activation(f"{name}.activation", kind, dense("linear1", module.linear1, y), params)
        return dense("linear2", module.linear2, h)

    if module.norm_first:  # the layer's output is the second residual sum
        x = b.arithmetic(f"{name}/residual1", "add", x, attention(norm("norm1", module.norm1, x)))
        return b.arithmetic(name, "add", x, feed_forward(norm("norm2", module.norm2, x)))
    x = norm("norm1", module.norm1, b.arithmetic(f"{name}/residual1", "add", x, attention(x)))
    y = b.arithmetic(f"{name}/residual2", "add", x, feed_forward(x))
    return norm("norm2", module.norm2, y, output=name)  # the layer's output: its last norm


def _transformer_encoder_layer(t: _Translator) -> Tensor:
    if t.arg(3, "is_causal", False):
        raise Unsupported("is_causal=True (pass src_mask instead)")
    return _encoder_layer(
        t, t.module, t.name, t.tensor(), t.arg(1, "src_mask"), t.arg(2, "src_key_padding_mask")
    )


def _transformer_encoder(t: _Translator) -> Tensor:
    if t.arg(3, "is_causal", None):
        raise Unsupported("is_causal=True (pass mask instead)")
    x, mask, padding = t.tensor(), t.arg(1, "mask"), t.arg(2, "src_key_padding_mask")
    layers = list(t.module.layers)
    for i, layer in enumerate(layers):
        last = i == len(layers) - 1 and t.module.norm is None
        x = _encoder_layer(t, layer, t.name if last else f"{t.name}.layers.{i}", x, mask, padding)
    if t.module.norm is not None:
        ln = t.module.norm
        x = t.builder.norm(
            t.name,
            "layer_norm",
            x,
            _to_numpy(ln.weight),
            None if ln.bias is None else _to_numpy(ln.bias),
            ln.eps,
        )
    return x


class _Tables:
    """The dispatch tables: modules by class, functions by identity, tensor methods by name."""

    def __init__(self) -> None:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        self.dropouts = nn.modules.dropout._DropoutNd
        self.modules: dict[type, Handler] = {
            nn.Linear: _linear,
            nn.Conv2d: _conv,
            nn.MaxPool2d: _pool("max_pool2d"),
            nn.AvgPool2d: _pool("avg_pool2d"),
            nn.AdaptiveAvgPool2d: _adaptive("avg"),
            nn.AdaptiveMaxPool2d: _adaptive("max"),
            nn.ZeroPad2d: _pad,
            nn.ConstantPad2d: _pad,
            nn.BatchNorm1d: _batch_norm,
            nn.BatchNorm2d: _batch_norm,
            nn.Flatten: _flatten,
            nn.Identity: _identity("identity"),
            nn.Embedding: _embedding,
            nn.EmbeddingBag: _embedding_bag,
            nn.LayerNorm: _layer_norm,
            nn.MultiheadAttention: _multihead_attention,
            nn.TransformerEncoderLayer: _transformer_encoder_layer,
            nn.TransformerEncoder: _transformer_encoder,
            nn.Conv1d: _conv1d,
            nn.MaxPool1d: _pool1d("max"),
            nn.AvgPool1d: _pool1d("avg"),
            nn.AdaptiveAvgPool1d: _adaptive1d,
            nn.AdaptiveMaxPool1d: _adaptive1d,
            nn.LSTM: _recurrent("lstm"),
            nn.GRU: _recurrent("gru"),
        }
        if hasattr(nn, "RMSNorm"):
            self.modules[nn.RMSNorm] = _rms_norm
        self.functions: dict[Any, Handler] = {
            F.linear: _linear,
            F.conv2d: _conv,
            F.batch_norm: _batch_norm,
            F.pad: _pad,
            F.dropout: _identity("dropout"),
            torch.dropout: _identity("dropout"),
            torch.flatten: _flatten,
            F.max_pool2d: _pool("max_pool2d"),
            F.avg_pool2d: _pool("avg_pool2d"),
            F.adaptive_avg_pool2d: _adaptive("avg"),
            F.adaptive_max_pool2d: _adaptive("max"),
            torch.cat: _cat,
            torch.concat: _cat,
            torch.mean: _mean,
            builtins.getattr: _shape,
            operator.getitem: _getitem,
            operator.neg: _neg,
            torch.neg: _neg,
            torch.rsub: _arithmetic("sub", swap=True),
            F.embedding: _embedding,
            F.embedding_bag: _embedding_bag,
            F.conv1d: _conv1d,
            F.max_pool1d: _pool1d("max"),
            F.avg_pool1d: _pool1d("avg"),
            torch.arange: _arange,
            F.layer_norm: _layer_norm,
            torch.matmul: _matmul,
            torch.bmm: _matmul,
            operator.matmul: _matmul,
            torch.transpose: _transpose,
            torch.permute: _permute,
            torch.unsqueeze: _unsqueeze,
            torch.squeeze: _squeeze,
            torch.where: _torch_where,
            torch.masked_fill: _masked_fill,
            torch.logical_not: _logical_not,
            operator.invert: _logical_not,
            torch.logical_and: _logical_and,
            operator.and_: _logical_and,
            torch.sum: _reduction("sum"),
            torch.amax: _reduction("max"),
            torch.max: _reduction("max"),
        }
        if hasattr(F, "rms_norm"):
            self.functions[F.rms_norm] = _rms_norm
        for op in ("eq", "ne", "lt", "le", "gt", "ge"):
            self.functions[getattr(operator, op)] = _compare(op)
            self.functions[getattr(torch, op)] = _compare(op)
        if hasattr(F, "max_pool2d_with_indices"):
            self.functions[F.max_pool2d_with_indices] = _pool("max_pool2d")
        self.methods: dict[str, Handler] = {
            "view": _view,
            "reshape": _view,
            "flatten": _flatten,
            "size": _shape,
            "contiguous": lambda t: t.tensor(),
            "mean": _mean,
            "neg": _neg,
            "transpose": _transpose,
            "permute": _permute,
            "unsqueeze": _unsqueeze,
            "squeeze": _squeeze,
            "matmul": _matmul,
            "bmm": _matmul,
            "masked_fill": _masked_fill,
            "logical_not": _logical_not,
            "logical_and": _logical_and,
            "sum": _reduction("sum"),
            "amax": _reduction("max"),
            "max": _reduction("max"),
            "float": _convert("float"),
            "long": _convert("long"),
            "int": _convert("int"),
            "to": _convert("to"),
            "type_as": _convert("type_as"),
            "bool": _convert("bool"),
            **{op: _compare(op) for op in ("eq", "ne", "lt", "le", "gt", "ge")},
        }
        for op, functions, methods in (
            ("add", (operator.add, operator.iadd, torch.add), ("add", "add_")),
            ("sub", (operator.sub, operator.isub, torch.sub), ("sub", "sub_")),
            ("mul", (operator.mul, operator.imul, torch.mul), ("mul", "mul_")),
            ("div", (operator.truediv, operator.itruediv, torch.div), ("div", "div_")),
        ):
            self.functions.update(dict.fromkeys(functions, _arithmetic(op)))
            self.methods.update(dict.fromkeys(methods, _arithmetic(op)))
        for name, alias in activation_aliases("torch").items():
            handler = _activation(alias)
            if name.startswith("."):
                self.methods[name[1:]] = handler
                continue
            target: Any = torch
            for part in name.split("."):
                target = getattr(target, part, None)
            if isinstance(target, type):
                self.modules[target] = handler
            elif target is not None:
                self.functions[target] = handler


_tables = functools.cache(_Tables)  # built once, when the framework is first needed


def _is_node(value: Any) -> bool:
    import torch.fx

    return isinstance(value, torch.fx.Node)


@functools.cache
def supported() -> tuple[str, ...]:
    """What from_torch translates: modules, functions (``F.*`` / ``torch.*``), tensor methods.

    >>> "Linear" in supported() and "relu" in supported()
    True
    """
    tables = _tables()
    internal = {"getattr", "getitem", "iadd", "isub", "imul", "itruediv", "truediv", "neg"}
    functions = {getattr(f, "__name__", str(f)).rstrip("_") for f in tables.functions}
    return (
        *(cls.__name__ for cls in tables.modules),
        "ReLU6 (a Hardtanh)",
        "Dropout (all variants)",
        *sorted(functions - internal - {"max_pool2d_with_indices", "concat"}),
        "x + y, x - y (residual)",
        "x + c, x - c, c - x, x * c, x / c, -x (constant c: scalar, per channel or per element)",
        *(f".{name}()" for name in sorted(tables.methods) if not name.endswith("_")),
    )


__all__ = ["from_torch", "supported"]
