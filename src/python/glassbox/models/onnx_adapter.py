"""Translate an ONNX model into a native glassbox network (``glassbox.from_onnx``).

The model is read with the ``onnx`` package and checked with ``onnx.checker``; each node becomes
one call of the graph builder (``models/builder.py``), looked up by op type in ``_OPS`` (and, for
activations, in the layer table's ONNX names). Layers are named after their node (``node.name``,
or ``f"{op_type}_{index}"`` when the node has no name). Computations on constants (shape
arithmetic of exported reshapes, casts, gathers) are folded; the input's batch extent is
``builder.BATCH`` in them. Exports of torch's legacy and default (dynamo) exporters work, with a
fixed or a dynamic batch axis.

Node patterns that exporters emit for one layer are fused before translation, each into one layer
named after its first node: ``MatMul`` + ``Add`` of a constant (dense), GELU before opset 20
(``Div -> Erf -> Add -> Mul -> Mul``), SiLU (``Sigmoid -> Mul``), softplus with torch's threshold
(``Softplus``, ``Greater``, ``Where``). A zero ``Pad`` of the spatial axes is absorbed by the
``Conv`` that reads it.

Transformer exports (a Hugging Face BERT, ``nn.TransformerEncoder``) take token ids and an
attention mask: several (integer) graph inputs become named network inputs. Their attention
masks are computed from shapes and constants (folded with NumPy: Range, Expand, Equal, Where,
ConstantOfShape, GatherElements, ...) and from the mask itself (``compare``, ``where``, products);
indexing the mask with the sample's own index (``Range`` over the batch, then ``GatherND``, or
``Gather`` on the mask flattened with its batch) and reshapes that move the batch axis or merge
it with the heads (``nn.MultiheadAttention`` works sequence-first) are followed symbolically
(``models/onnx_batch.py``) until the tensor is batch-first again.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.builder import (
    BATCH,
    UNKNOWN,
    GraphBuilder,
    InvalidLayer,
    Shape,
    Tensor,
    Unsupported,
    sample_shape,
)
from glassbox.models.files import load_onnx
from glassbox.models.layers import Alias, activation_aliases
from glassbox.models.native import NativeModel
from glassbox.models.onnx_batch import (
    BATCHED_OPS,
    Batched,
    Symbolic,
    View,
    batch_range,
    gather_merged,
    gather_nd,
    reshape,
    transpose,
    view,
)
from glassbox.models.onnx_batch import (
    node_axes as _axes,
)
from glassbox.models.output_head import apply_output, check_output

if TYPE_CHECKING:
    import onnx

    from glassbox.models.spec import NetworkSpec


def from_onnx(
    model: str | os.PathLike[str] | bytes | onnx.ModelProto,
    *,
    output: str = "model",
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    input_shape: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
) -> NativeModel:
    """Copy an ONNX model into a native glassbox network.

    Parameters
    ----------
    model : path, bytes or onnx.ModelProto
        A file path, the serialized model, or a loaded ``onnx.ModelProto``. The graph must have
        one output and inputs of shape ``(batch, *sample_shape)``, and use only supported ops
        (``SUPPORTED_OPS``). A graph with several inputs (``input_ids`` and
        ``attention_mask`` of a transformer export) or integer ones becomes a network with
        named inputs (``model.spec.inputs``; dtype "int" for integer inputs), whose samples are
        the inputs' values side by side; inputs the graph does not read are kept (and ignored).
    output : {"model", "logits", "probabilities"}
        ``"model"``: what the graph computes; ``"logits"``: without a final Softmax, LogSoftmax
        or Sigmoid; ``"probabilities"``: class probabilities (a softmax is appended to logits; a
        single logit ``z`` becomes ``[1 - sigmoid(z), sigmoid(z)]``).
    feature_names, output_names : sequence of str, optional
        Names of the (flattened) input features and of the outputs.
    input_shape : sequence of int or dict, optional
        The per-sample shape of the input (a dict: by input name) where the graph leaves
        extents open (a dynamic sequence length); it must agree with the extents it fixes.

    Returns
    -------
    NativeModel

    Raises
    ------
    ValueError
        If ``model`` is a missing file or not a valid ONNX model, including graphs whose
        input is not floating point or has more than
        ``glassbox.models.layers.MAX_ACTIVATION_SIZE`` elements per sample (the message names
        the input and the layers reading it), whose initializers are corrupt (``raw_data`` of
        the wrong length, external data not loaded), whose weights are not floating point or
        hold NaN / infinite values, whose batch norm has a negative variance, or whose Conv
        ``kernel_shape`` disagrees with its weight (those name the layer).
    UnsupportedLayerError
        If the graph contains nodes with no native equivalent, or layers whose geometry is
        invalid or absurd (a stride, kernel or dilation below 1, pooling pads not smaller than
        the kernel, a window larger than the padded input, any activation above
        ``MAX_ACTIVATION_SIZE`` elements per sample) or constants that would fold to more than
        twice the file's weights; the message names all of them and the allowed range. It is a
        ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from onnx import helper, numpy_helper, TensorProto
    >>> graph = helper.make_graph(
    ...     [helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
    ...      helper.make_node("Relu", ["h"], ["y"], name="act")],
    ...     "mlp",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
    ...     initializer=[numpy_helper.from_array(np.ones((2, 3), np.float32), "W")],
    ... )
    >>> model = from_onnx(helper.make_model(graph))
    >>> model.layer_names, model.predict(np.ones((1, 3), np.float32))
    (['fc', 'act'], array([[3., 3.]], dtype=float32))
    """
    check_output(output)
    proto = load_onnx(model)
    try:
        spec = _Translator(proto, input_shape).run()
    except (TypeError, IndexError, KeyError, ArithmeticError, AttributeError) as exc:
        # a malformed graph the checker let through (the file is untrusted input)
        raise ValueError(f"model: the ONNX graph is invalid ({type(exc).__name__}: {exc})") from exc
    spec = apply_output(spec, output, what="this ONNX model")
    return NativeModel(spec, feature_names=feature_names, output_names=output_names)


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    import onnx

    attrs = {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}


class _Translator:
    """Walk the graph's nodes in order, one builder call per (fused) node."""

    def __init__(
        self,
        proto: onnx.ModelProto,
        input_shape: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        self.input_shape = input_shape
        self.graph = proto.graph
        self.nodes = list(proto.graph.node)  # one wrapper per node: ids stay valid
        self.opset = next(
            (op.version for op in proto.opset_import if op.domain in ("", "ai.onnx")), 1
        )
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.graph_outputs = {out.name for out in self.graph.output}
        self.names = {
            id(node): node.name or f"{node.op_type}_{i}" for i, node in enumerate(self.nodes)
        }
        self.values: dict[str, Any] = {
            init.name: _array(init, f"initializer {init.name!r}{self._readers(init.name)}")
            for init in self.graph.initializer
        }
        # what constant folding may allocate in all: bounded by the file's weights, not by what
        # a chain of folded ops could grow a tiny file's constants to
        self.fold_budget = _FOLD_ALLOWANCE + 2 * sum(v.size for v in self.values.values())
        inputs = [i for i in self.graph.input if i.name not in self.values]
        types = [i.type.tensor_type.elem_type for i in inputs]
        if len(inputs) > 1 or any(t and t not in _FLOAT_TYPES for t in types):
            self._named_inputs(inputs)
        else:
            shape, batch = self._input_shape(inputs, len(self.graph.output))
            self.builder = self._builder(shape, batch)
            self.values[inputs[0].name] = self.builder.input
        self.fused: dict[int, Callable[[], Any]] = {}  # first node -> its fused translation
        self.skipped: set[int] = set()  # the other nodes of fused patterns
        for node in self.nodes:  # constants have no inputs: known before any fusion
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                try:
                    value = _constant_value(_attributes(node), f"Constant {self.name(node)!r}")
                except Unsupported:  # reported when the node is translated
                    continue
                self.values[node.output[0]] = value
            elif node.op_type == "Identity" and isinstance(
                self.values.get(node.input[0]), np.ndarray
            ):
                self.values[node.output[0]] = self.values[node.input[0]]  # renamed weights

    def _builder(self, shape: Shape, batch: int | None) -> GraphBuilder:
        builder = GraphBuilder(
            shape, adapter="from_onnx", supported=SUPPORTED_OPS, fixed_batch=batch
        )
        builder.help = (
            "Use glassbox.wrap(...) with onnxruntime for model-agnostic methods on other models."
        )
        return builder

    def _named_inputs(self, inputs: list[Any]) -> None:
        """Several inputs (token ids and an attention mask), or integer ones: each one named
        input of the network (``NetworkSpec.add_input``), batch first with a fixed sample shape."""
        if len(self.graph.output) != 1:
            raise UnsupportedLayerError(
                f"model: the ONNX graph has {len(self.graph.output)} outputs; glassbox translates "
                "models with one output"
            )
        shapes, batches = [], set()
        for graph_input in inputs:
            dims = self._dims(graph_input)
            label = (
                f"the input {graph_input.name!r} of the ONNX graph{self._readers(graph_input.name)}"
            )
            elem_type = graph_input.type.tensor_type.elem_type
            float_readers = [
                n for n in self.consumers.get(graph_input.name, []) if n.op_type in _FLOAT_OPS
            ]
            if elem_type in _FLOAT_TYPES:
                dtype = "float"
            elif elem_type in _INT_TYPES and not float_readers:
                dtype = "int"
            elif elem_type in _INT_TYPES:
                raise ValueError(
                    f"model: {label} has element type {_type_name(elem_type)}, but "
                    f"{self.name(float_readers[0])!r} ({float_readers[0].op_type}) computes on "
                    "floating-point values; glassbox takes integer inputs as token ids, masks "
                    "or codes (read by Gather, Cast, comparisons)"
                )
            else:
                raise ValueError(
                    f"model: {label} has element type {_type_name(elem_type)}; glassbox models "
                    "take floating-point or integer inputs"
                )
            shapes.append(
                (graph_input.name, sample_shape(dims, 1, 1, "the ONNX graph", label), dtype)
            )
            batches.add(dims[0] if dims else None)
        total = sum(math.prod(shape) for _, shape, _ in shapes)
        self.builder = self._builder((total,), batches.pop() if len(batches) == 1 else None)
        for name, shape, dtype in shapes:
            index = self.builder.spec.add_input(name, shape, dtype)
            self.builder.names.add(self.builder.spec.layers[index].name)
            self.values[name] = Tensor(index, shape)

    def _readers(self, tensor: str) -> str:
        """ " (read by 'a', 'b')" naming the nodes that read ``tensor``, for messages."""
        names = [repr(self.name(node)) for node in self.consumers.get(tensor, [])]
        return f" (read by {', '.join(names)})" if names else ""

    # -- driver -------------------------------------------------------------------------------
    def run(self) -> NetworkSpec:
        # fuse the exporters' patterns first (their nodes may be in any order)
        for node in self.nodes:
            if id(node) not in self.fused and id(node) not in self.skipped:
                with _naming(self.name(node), f"ONNX op {node.op_type}"):
                    any(fuse(self, node) for fuse in _FUSIONS.get(node.op_type, ()))
        for node in self.nodes:
            if id(node) in self.skipped:
                continue
            name, what = self.name(node), f"ONNX op {node.op_type}"
            with _naming(name, what):
                if node.domain not in ("", "ai.onnx"):
                    reason = f"domain {node.domain!r}"
                    self._set(node, self.builder.unsupported(name, what, reason))
                elif id(node) in self.fused:
                    self.builder.translate(name, what, self.fused[id(node)])
                else:
                    self._set(node, self._node(node, name, what))
        result = self.values.get(self.graph.output[0].name)
        if self.builder.failures:
            raise self.builder.error()
        if not isinstance(result, Tensor):
            raise UnsupportedLayerError(
                f"model: the graph output {self.graph.output[0].name!r} does not depend on "
                "the input"
            )
        return self.builder.finish(result, self.graph.output[0].name)

    def _node(self, node: onnx.NodeProto, name: str, what: str) -> Any:
        inputs = [self.values.get(i, UNKNOWN) if i else None for i in node.input]
        attrs = _attributes(node)
        if any(isinstance(v, Symbolic) for v in inputs):
            if any(isinstance(v, Tensor) and not v.known for v in inputs):
                return UNKNOWN
            return self.builder.translate(
                name, what, _symbolic, _Op(self, node, name, inputs, attrs)
            )
        if node.op_type in _FOLDABLE and not any(isinstance(v, Tensor) for v in inputs):
            try:
                size = _folded_size(node.op_type, inputs, attrs)
                if size > self.fold_budget:  # checked before anything of that size exists
                    raise ValueError(
                        f"{size} elements, more than the {self.fold_budget} left to folded "
                        "constants (twice the file's weights + 2^24)"
                    )
                self.fold_budget -= size
                return _FOLDABLE[node.op_type](inputs, attrs)
            except Exception as exc:
                return self.builder.unsupported(name, what, f"constant folding failed ({exc})")
        handler = _OPS.get(node.op_type) or _activation_handler(node.op_type)
        return self.builder.apply(name, what, handler, inputs, _Op(self, node, name, inputs, attrs))

    def _set(self, node: onnx.NodeProto, value: Any) -> None:
        values = value if isinstance(value, tuple) else (value,)
        if value is UNKNOWN:
            values = (UNKNOWN,) * len(node.output)
        for out, item in zip(node.output, values, strict=False):
            if out:
                self.values[out] = item

    def _dims(self, graph_input: Any) -> list[int | None]:
        """The input's extents (None: open), open ones taken from ``input_shape``."""
        dims = [d.dim_value or None for d in graph_input.type.tensor_type.shape.dim]
        given = self.input_shape
        if isinstance(given, Mapping):
            given = given.get(graph_input.name)
        if given is None:
            return dims
        given = [int(d) for d in given]
        if len(given) != len(dims) - 1 or any(
            d is not None and d != g for d, g in zip(dims[1:], given, strict=True)
        ):
            raise ValueError(
                f"input_shape: {tuple(given)} does not fit the input {graph_input.name!r} of "
                f"the ONNX graph, of shape {['batch' if d is None else d for d in dims]}"
            )
        return [dims[0], *given]

    def _input_shape(self, inputs: list[Any], n_outputs: int) -> tuple[Shape, int | None]:
        """The per-sample input shape and the batch extent, if the graph fixes it; a (batch,
        unknown) input takes its width from the first Gemm / MatMul that reads it."""
        dims = self._dims(inputs[0]) if inputs else []
        for node in self.consumers.get(inputs[0].name, []) if len(dims) == 2 else []:
            weight = self.values.get(node.input[1]) if len(node.input) > 1 else None
            if dims[1] is None and node.op_type in ("Gemm", "MatMul") and weight is not None:
                dims[1] = weight.shape[1 if _attributes(node).get("transB", 0) else 0]
        name = inputs[0].name if inputs else ""
        label = f"the input {name!r} of the ONNX graph{self._readers(name)}"
        elem_type = inputs[0].type.tensor_type.elem_type if inputs else 0
        if elem_type and elem_type not in _FLOAT_TYPES:  # 0: not given
            raise ValueError(
                f"model: {label} has element type {_type_name(elem_type)}; glassbox models take "
                "floating-point inputs (FLOAT, DOUBLE, FLOAT16, BFLOAT16)"
            )
        shape = sample_shape(dims, len(inputs), n_outputs, "the ONNX graph", label)
        return shape, dims[0] if dims else None

    # -- helpers for handlers and fusions -----------------------------------------------------
    def name(self, node: onnx.NodeProto) -> str:
        return self.names[id(node)]

    def follow(self, node: onnx.NodeProto, op_type: str) -> onnx.NodeProto | None:
        """The only node reading ``node``'s output, if it is an ``op_type`` node."""
        users = self.consumers.get(node.output[0], [])
        if len(users) != 1 or node.output[0] in self.graph_outputs:
            return None
        return users[0] if users[0].op_type == op_type else None

    def constant(self, name: str) -> np.ndarray | None:
        value = self.values.get(name)
        return value if isinstance(value, np.ndarray) else None

    def other_is(self, node: onnx.NodeProto, tensor: str, value: float) -> bool:
        """``node`` reads ``tensor`` and a scalar constant equal to ``value``."""
        others = [name for name in node.input if name != tensor]
        return len(others) == 1 and _is_scalar(self.constant(others[0]), value)

    def fuse(
        self, first: Any, rest: list[Any], kind: Any, params: dict[str, Any] | None = None
    ) -> bool:
        """Translate ``first`` and ``rest`` as one layer reading ``first``'s input: an
        activation ``kind`` (with ``params``), or ``kind(x)`` if it is a callable."""

        def make() -> None:
            value = self.values.get(first.input[0])
            x = value.x if isinstance(value, View) else _tensor(value)  # on each position
            out = (
                kind(x)
                if callable(kind)
                else self.builder.activation(self.name(first), kind, x, params)
            )
            if isinstance(value, View):
                out = view(out, value.lo, value.at, value.hi)
            self.values[rest[-1].output[0]] = out

        self.skipped.update(id(node) for node in rest)
        self.fused[id(first)] = make
        return True


# -- untrusted tensors and errors ---------------------------------------------------------------


_FOLD_ALLOWANCE = 1 << 24  # elements of folded constants beyond twice the file's weights
_FLOAT_TYPES = (1, 10, 11, 16)  # TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16
_INT_TYPES = (2, 3, 4, 5, 6, 7, 9, 12, 13)  # (U)INT8/16/32/64 and BOOL: ids, masks, codes
#: Ops that compute on floating-point values only: an integer graph input may not feed them.
_FLOAT_OPS = frozenset(
    "Conv ConvTranspose Gemm BatchNormalization MaxPool AveragePool GlobalAveragePool "
    "GlobalMaxPool LayerNormalization Softmax LogSoftmax Relu Sigmoid Tanh Elu Selu LeakyRelu "
    "Gelu Erf Softplus HardSigmoid HardSwish Mish Clip Pad ReduceMean".split()
)


def _type_name(data_type: int) -> str:
    from onnx import TensorProto

    try:
        return str(TensorProto.DataType.Name(data_type))
    except ValueError:
        return str(data_type)


def _array(tensor: onnx.TensorProto, what: str) -> np.ndarray:
    """A tensor's data; ``ValueError`` naming ``what`` (the tensor and the layers reading it) for
    data that does not match its dims and type, or data kept in an external file."""
    from onnx import TensorProto, helper, numpy_helper

    if tensor.data_location == TensorProto.EXTERNAL:
        raise ValueError(
            f"model: {what} keeps its data in an external file, which is read only when the "
            "model is given as a path (the file beside it)"
        )
    dims = tuple(int(d) for d in tensor.dims)
    try:
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except Exception:  # an undefined data type
        itemsize = 0
    expected = math.prod(dims) * itemsize
    raw = len(tensor.raw_data)
    packed = {getattr(TensorProto, n, -1) for n in ("INT4", "UINT4", "FLOAT4E2M1", "INT2", "UINT2")}
    if min(dims, default=0) < 0 or (raw and tensor.data_type not in packed and raw != expected):
        dtype = _type_name(tensor.data_type)
        raise ValueError(
            f"model: {what} is corrupt: dims {list(dims)} of type {dtype} need {expected} bytes, "
            f"its raw_data holds {raw}"
        )
    try:
        return numpy_helper.to_array(tensor)
    except Exception as exc:
        raise ValueError(f"model: {what} is corrupt: {exc}") from None


def _check_float(value: Any, tensor: str) -> None:
    """``InvalidLayer`` unless ``value`` (a weight) is not a constant or a floating-point one."""
    if isinstance(value, np.ndarray) and value.dtype.kind != "f":
        raise InvalidLayer(
            f"tensor {tensor!r} has dtype {value.dtype}; a weight must be a floating-point tensor"
        )


@contextlib.contextmanager
def _naming(name: str, what: str) -> Iterator[None]:
    """Errors of a malformed node (which the checker let through) as a ``ValueError`` naming it."""
    try:
        yield
    except (InvalidLayer, UnsupportedLayerError):
        raise
    except (ValueError, TypeError, IndexError, KeyError, ArithmeticError, AttributeError) as exc:
        raise InvalidLayer(f"layer {name!r} ({what}) is invalid: {exc}", named=True) from exc


# -- handlers: one node (an _Op) -> its output value(s) -------------------------------------------

Handler = Callable[["_Op"], Any]


@dataclass
class _Op:
    """One node being translated: its translator, node, layer name, input values, attributes."""

    t: _Translator
    node: Any
    name: str
    inputs: list[Any]
    attrs: dict[str, Any]

    @property
    def builder(self) -> GraphBuilder:
        return self.t.builder

    @property
    def x(self) -> Tensor:
        """The first input, which must be computed from the model input."""
        return _tensor(self.inputs[0])

    def weight(self, i: int) -> Any:
        """Input ``i`` (None when absent); a constant must be floating point (a weight)."""
        value = self.inputs[i] if i < len(self.inputs) else None
        _check_float(value, self.node.input[i] if value is not None else "")
        return value


def _tensor(value: Any, what: str = "its first input") -> Tensor:  # computed from the input
    if not isinstance(value, Tensor):
        raise Unsupported(f"{what} is not computed from the model input")
    return value


def _unused_outputs(op: _Op, what: str) -> None:
    if any(out and op.t.consumers.get(out) for out in op.node.output[1:]):
        raise Unsupported(f"its {what} output is used")


def _identity(op: _Op) -> Any:
    _unused_outputs(op, "mask")
    return op.builder.identity(op.name, op.x, op.node.op_type.lower())


def _gemm(op: _Op) -> Tensor:
    weight, bias = op.weight(1), op.weight(2)
    if op.attrs.get("transA", 0):
        raise Unsupported("transA=1")
    if not isinstance(weight, np.ndarray) or weight.ndim != 2 or isinstance(bias, Tensor):
        raise Unsupported("B and C must be constants, B a matrix")
    w = float(op.attrs.get("alpha", 1.0)) * np.asarray(weight, np.float64)
    w = w if op.attrs.get("transB", 0) else w.T
    b = None if bias is None else _bias(bias, w.shape[0], float(op.attrs.get("beta", 1.0)))
    return op.builder.dense(op.name, op.x, w, b)


def _bias(bias: Any, width: int, scale: float) -> np.ndarray:
    bias = np.asarray(bias, np.float64)
    if bias.size == 1:
        return np.full(width, scale * float(bias.ravel()[0]))
    if bias.shape in ((width,), (1, width)):
        return scale * bias.ravel()
    raise Unsupported(f"bias of shape {bias.shape} for {width} outputs")


def _matmul(op: _Op) -> Tensor:
    """tensor @ constant matrix: dense over the last axis; tensor @ tensor: ``matmul``."""
    a, b = op.inputs[0], op.weight(1)
    if isinstance(a, Tensor) and isinstance(b, np.ndarray) and b.ndim == 2:
        return op.builder.dense(op.name, a, np.asarray(b, np.float64).T, None)
    if not isinstance(a, Tensor):
        raise Unsupported("the left operand must be computed from the model input")
    return op.builder.matmul(op.name, a, b)


def _binary(kind: str) -> Handler:
    def handler(op: _Op) -> Any:
        a, b = op.inputs[0], op.inputs[1]
        if isinstance(a, Tensor) or isinstance(b, Tensor):  # a constant operand is a weight
            op.weight(0), op.weight(1)
        return op.builder.arithmetic(op.name, kind, a, b)

    return handler


def _flatten(op: _Op) -> Any:
    x = op.x
    rank = len(x.shape) + 1  # type: ignore[arg-type]
    axis = int(op.attrs.get("axis", 1))
    axis = axis + rank if axis < 0 else axis  # 0 ... rank
    if axis >= 2:  # (batch * leading axes, rest): merges the batch (the legacy mask gather)
        return reshape(op.builder, op.name, x, [-1, math.prod(x.shape[axis - 1 :])])  # type: ignore[index]
    if op.attrs.get("axis", 1) not in (1, -len(x.shape) if x.known else 1):  # type: ignore[arg-type]
        raise Unsupported(f"axis={op.attrs.get('axis')}; only axis=1 is supported")
    return op.builder.flatten(op.name, x)


def _reshape(op: _Op) -> Tensor:
    target = op.inputs[1] if len(op.inputs) > 1 else None
    if not isinstance(target, np.ndarray) or target.ndim != 1:
        raise Unsupported("the shape must be a constant (or computed from the input's shape)")
    dims = [int(v) for v in target]
    if op.attrs.get("allowzero", 0) and 0 in dims[1:]:
        raise Unsupported("allowzero=1 with a zero extent")
    x = op.x
    size, head = math.prod(x.shape), dims[0] if dims else None  # type: ignore[arg-type]
    batch_first = head in (BATCH, 0) or (head is not None and head == op.builder.fixed_batch)
    if batch_first or (head == -1 and -1 not in dims[1:] and math.prod(dims[1:]) == size):
        return op.builder.reshape(op.name, x, dims)
    return reshape(op.builder, op.name, x, dims)  # the batch moves or merges with other axes


def _window_args(attrs: dict[str, Any]) -> dict[str, Any]:
    """Strides, dilations and the padding: ``pads`` (top, left, bottom, right) or ``auto_pad``."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    padding = attrs.get("pads", 0) if auto_pad == "NOTSET" else auto_pad
    return {
        "stride": attrs.get("strides", 1),
        "padding": padding,
        "dilation": attrs.get("dilations", 1),
    }


def _conv(op: _Op) -> Tensor:
    weight, bias = op.weight(1), op.weight(2)
    if not isinstance(weight, np.ndarray) or weight.ndim != 4:
        raise Unsupported("W must be a constant 4-D tensor (2-D convolution)")
    if isinstance(bias, Tensor):
        raise Unsupported("B must be a constant")
    kernel = [int(k) for k in op.attrs.get("kernel_shape", weight.shape[2:])]
    if kernel != list(weight.shape[2:]):  # ONNX: they must agree
        raise InvalidLayer(f"kernel_shape={kernel} does not match W of shape {weight.shape}")
    group, bias = int(op.attrs.get("group", 1)), None if bias is None else np.ravel(bias)
    return op.builder.conv2d(op.name, op.x, weight, bias, groups=group, **_window_args(op.attrs))


def _pad(op: _Op) -> Tensor:
    """A zero padding of the spatial axes (absorbed by the convolution reading it)."""
    pads = op.attrs.get("pads") if len(op.inputs) < 2 else op.inputs[1]
    value, axes = [*op.inputs[2:4], None, None][:2]
    value = op.attrs.get("value", 0.0) if value is None else value
    mode = op.attrs.get("mode", "constant")
    if mode != "constant" or np.ravel(value)[0] != 0 or axes is not None or pads is None:
        raise Unsupported(f"mode={mode!r}: only a zero padding of the spatial axes is supported")
    pads = [int(p) for p in np.ravel(pads)]
    if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
        raise Unsupported(f"pads={pads}: only the spatial axes of images may be padded")
    return op.builder.pad(op.name, op.x, [pads[i] for i in (2, 3, 6, 7)])


def _pool(op: _Op) -> Tensor:
    _unused_outputs(op, "Indices")
    kernel = tuple(int(v) for v in op.attrs.get("kernel_shape", ()))
    if len(kernel) != 2:
        raise Unsupported(f"kernel_shape={list(kernel)}; only 2-D is supported")
    if int(op.attrs.get("storage_order", 0)) != 0:
        raise Unsupported("storage_order=1")
    kind = "max_pool2d" if op.node.op_type == "MaxPool" else "avg_pool2d"
    ceil, include = bool(op.attrs.get("ceil_mode", 0)), bool(op.attrs.get("count_include_pad", 0))
    args = {**_window_args(op.attrs), "ceil_mode": ceil, "count_include_pad": include}
    return op.builder.pool2d(op.name, kind, op.x, kernel, **args)


def _global_pool(op: _Op) -> Tensor:
    kind = "avg" if op.node.op_type == "GlobalAveragePool" else "max"
    return op.builder.global_pool(op.name, kind, op.x, keepdims=True)


def _reduce_mean(op: _Op) -> Tensor:
    axes = _axes(op.inputs, op.attrs)
    if axes is None:
        raise Unsupported("the axes must be constants (a mean over every axis has the batch)")
    return op.builder.mean(op.name, op.x, list(axes), bool(op.attrs.get("keepdims", 1)))


def _batch_norm(op: _Op) -> Tensor:
    if op.attrs.get("training_mode", 0):
        raise Unsupported("training_mode=1")
    _unused_outputs(op, "running-statistics")
    if len(op.inputs) != 5 or not all(isinstance(v, np.ndarray) for v in op.inputs[1:]):
        raise Unsupported("scale, B, mean and var must be constants")
    gamma, beta, mean, var = (op.weight(i) for i in range(1, 5))
    eps = float(op.attrs.get("epsilon", 1e-5))
    return op.builder.batch_norm(op.name, op.x, mean, var, gamma, beta, eps)


def _concat(op: _Op) -> Tensor:
    if not all(isinstance(v, Tensor) for v in op.inputs):
        raise Unsupported("it must join tensors computed from the model input")
    return op.builder.concat(op.name, op.inputs, int(op.attrs.get("axis", 1)))


def _clip(op: _Op) -> Tensor:
    bounds = [op.attrs.get("min"), op.attrs.get("max")]  # attributes before opset 11
    if op.t.opset >= 11:
        bounds = [*op.inputs[1:3], None, None][:2]
    if any(isinstance(b, Tensor) for b in bounds):
        raise Unsupported("min and max must be constants")
    low, high = (None if b is None else float(np.ravel(b)[0]) for b in bounds)
    return op.builder.activation(op.name, "clamp", op.x, {"min": low, "max": high})


def _hard_sigmoid(op: _Op) -> Tensor:
    """max(0, min(1, alpha x + beta)): torch's hardsigmoid for alpha 1/6, beta 1/2; otherwise
    a scale_shift then a clamp."""
    alpha, beta = float(op.attrs.get("alpha", 0.2)), float(op.attrs.get("beta", 0.5))
    x = op.x
    if math.isclose(alpha, 1 / 6, rel_tol=1e-6) and beta == 0.5:
        return op.builder.activation(op.name, "hardsigmoid", x)
    scaled = op.builder.scale_shift(f"{op.name}/affine", x, alpha, beta)
    return op.builder.activation(op.name, "clamp", scaled, {"min": 0.0, "max": 1.0})


def _shape(op: _Op) -> np.ndarray:
    shape = op.builder.shape_of(op.x)
    return None if shape is None else shape[op.attrs.get("start", 0) : op.attrs.get("end", None)]


def _gather(op: _Op) -> Any:
    """An embedding table read at token ids, or a computed tensor read at constant indices
    (``x[:, 0]``: the first token)."""
    data, index = op.inputs[0], op.inputs[1]
    axis = int(op.attrs.get("axis", 0))
    if isinstance(index, Tensor):
        if not isinstance(data, np.ndarray) or data.ndim != 2 or axis != 0:
            raise Unsupported("only a constant 2-D table read at computed ids (an embedding)")
        return op.builder.embedding(op.name, index, op.weight(0))
    x, index = op.x, np.asarray(index)
    if index.dtype.kind not in "iu":
        raise Unsupported(f"indices of dtype {index.dtype}")
    if index.ndim == 0:
        return op.builder.select(op.name, x, axis, int(index))
    out = op.builder.take(op.name, x, axis, [int(i) for i in index.ravel()])
    if index.ndim == 1:
        return out
    rank = len(x.shape) + 1  # type: ignore[arg-type]
    shape = list(x.framework_shape)
    shape[axis % rank - 1 : axis % rank] = index.shape
    return op.builder.reshape(f"{op.name}/indices", out, [BATCH, *shape])


def _layer_norm(op: _Op) -> Tensor:
    _unused_outputs(op, "Mean / InvStdDev")
    x = op.x
    if int(op.attrs.get("axis", -1)) % (len(x.shape) + 1) != len(x.shape):  # type: ignore[arg-type]
        raise Unsupported(f"axis={op.attrs.get('axis')}; only the last axis is supported")
    weight, bias = op.weight(1), op.weight(2)
    if isinstance(weight, Tensor) or isinstance(bias, Tensor):
        raise Unsupported("Scale and B must be constants")
    eps = float(op.attrs.get("epsilon", 1e-5))
    return op.builder.layer_norm(op.name, x, weight, bias, eps)


def _transpose(op: _Op) -> Any:
    x = op.inputs[0]
    rank = x.rank if isinstance(x, View) else len(_tensor(x).shape) + 1  # type: ignore[arg-type]
    perm = [int(p) for p in op.attrs.get("perm", range(rank - 1, -1, -1))]
    return transpose(op.builder, op.name, x, perm)


def _cast(op: _Op) -> Tensor:
    """To BOOL: ``x != 0``; to a number type: the values (whole numbers for int inputs)."""
    if int(op.attrs.get("to", 1)) == 9:
        return op.builder.compare(op.name, "ne", op.x, 0.0)
    return op.x


#: ONNX comparisons and the flipped op when the constant comes first.
_COMPARE = {
    "Equal": ("eq", "eq"),
    "Greater": ("gt", "lt"),
    "GreaterOrEqual": ("ge", "le"),
    "Less": ("lt", "gt"),
    "LessOrEqual": ("le", "ge"),
}


def _compare(op: _Op) -> Tensor:
    a, b = op.inputs[0], op.inputs[1]
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        raise Unsupported("a comparison of two computed tensors")
    x, c = (a, b) if isinstance(a, Tensor) else (b, a)
    direct, flipped = _COMPARE[op.node.op_type]
    if np.size(c) != 1:
        raise Unsupported("a comparison with a constant that is not a scalar")
    return op.builder.compare(op.name, direct if x is a else flipped, x, float(np.ravel(c)[0]))


def _logical_and(op: _Op) -> Any:
    """And of 0/1 values: their product."""
    return op.builder.arithmetic(op.name, "mul", *op.inputs[:2])


def _where(op: _Op) -> Any:
    """``where(cond, a, b)``; an infinite constant (``masked_fill(mask, -inf)``) becomes the
    float32 extreme of its sign: the softmax reading it gives the same zeros, and the native
    engine keeps its weights finite."""
    limit = float(np.finfo(np.float32).max)
    values = [
        np.nan_to_num(v, nan=np.nan, posinf=limit, neginf=-limit)
        if isinstance(v, np.ndarray) and v.dtype.kind == "f"
        else v
        for v in op.inputs[:3]
    ]
    return op.builder.where(op.name, *values)


def _expand(op: _Op) -> Tensor:
    """A computed tensor broadcast to a shape (the batch stays as it is)."""
    x, target = op.x, op.inputs[1]
    if not isinstance(target, np.ndarray):
        raise Unsupported("the shape must be a constant")
    dims = [1 if int(d) == BATCH else int(d) for d in np.ravel(target)]
    full = np.broadcast_shapes((1, *x.framework_shape), tuple(dims))
    if len(full) != len(x.framework_shape) + 1:
        raise Unsupported(f"an Expand of samples of shape {x.framework_shape} to {dims}")
    if tuple(full[1:]) == x.framework_shape:
        return x
    return op.builder.arithmetic(op.name, "mul", x, np.ones(full, np.float32))


def _unsqueeze(op: _Op) -> Tensor:
    x, axes = op.x, _axes(op.inputs, op.attrs)
    if axes is None:
        raise Unsupported("the axes must be constants")
    shape = np.zeros((1, *x.framework_shape))
    out = np.expand_dims(shape, axes) if op.node.op_type == "Unsqueeze" else np.squeeze(shape, axes)
    if (
        out.ndim == 0
        or out.shape[0] != 1
        or (op.node.op_type == "Squeeze" and 0 in [a % shape.ndim for a in axes])
    ):
        raise Unsupported(f"axes={list(axes)} change the batch axis")
    return op.builder.reshape(op.name, x, [BATCH, *out.shape[1:]])


def _slice_tensor(op: _Op) -> Tensor:
    x = op.x
    starts, ends = op.inputs[1], op.inputs[2]
    rest = [*op.inputs[3:5], None, None][:2]
    if any(isinstance(v, (Tensor, Batched, View)) for v in (starts, ends, *rest)):
        raise Unsupported("starts, ends, axes and steps must be constants")
    starts, ends = np.ravel(starts), np.ravel(ends)
    axes = range(len(starts)) if rest[0] is None else np.ravel(rest[0])
    steps = [1] * len(starts) if rest[1] is None else np.ravel(rest[1])
    rank = len(x.shape) + 1  # type: ignore[arg-type]
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        if int(axis) % rank == 0:
            raise Unsupported("a slice of the batch axis")
        extent = x.framework_shape[int(axis) % rank - 1]
        start, end, step = slice(int(start), int(end), int(step)).indices(extent)
        x = op.builder.slice(op.name, x, int(axis) % rank, start, end, step)
    return x


#: Ops that act on each position's last axes: a tensor whose batch is not first (a ``View``)
#: goes through them as its native tensor when the other operands are constants of those axes.
_PER_POSITION = {
    "MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "LayerNormalization", "Softmax", "Cast",
    "Identity", "Dropout", "Relu", "Gelu", "Tanh", "Sigmoid", "Erf", "Not", "Equal", "Where",
}  # fmt: skip


def _symbolic(op: _Op) -> Any:
    """A node reading batch indices (:class:`Batched`) or a tensor whose batch axis is not
    first (:class:`View`)."""
    inputs, kind = op.inputs, op.node.op_type
    if not any(isinstance(v, (Tensor, View)) for v in inputs) and kind in BATCHED_OPS:
        return BATCHED_OPS[kind](inputs, op.attrs)
    data, index = inputs[0], inputs[1] if len(inputs) > 1 else None
    if kind == "GatherND" and isinstance(data, Tensor) and isinstance(index, Batched):
        return gather_nd(op.builder, op.name, data, index, int(op.attrs.get("batch_dims", 0)))
    if kind == "Gather" and isinstance(data, View) and isinstance(index, Batched):
        if int(op.attrs.get("axis", 0)) != 0:
            raise Unsupported("a Gather off the merged batch axis")
        return gather_merged(op.builder, op.name, data, index)
    if any(isinstance(v, Batched) for v in inputs):
        raise Unsupported("it reads the sample indices in a way glassbox does not translate")
    if kind == "Transpose":
        return _transpose(op)
    if kind == "Shape" and isinstance(data, View):  # the batch group: BATCH times its rows
        shape = data.x.shape
        group = BATCH * math.prod(shape[data.lo : data.hi])  # type: ignore[index]
        full = np.array([*shape[: data.lo], group, *shape[data.hi :]], np.int64)  # type: ignore[index]
        return full[op.attrs.get("start", 0) : op.attrs.get("end")]
    if kind == "Reshape" and isinstance(data, View):
        return reshape(op.builder, op.name, data, [int(d) for d in np.ravel(_constant(index))])
    if kind in ("Gather", "Unsqueeze", "Squeeze") and isinstance(data, View):
        return _view_axes(op, data)
    if kind in _PER_POSITION:
        return _per_position(op)
    raise Unsupported(
        "it reads a tensor whose batch axis is not first (or is merged with other axes) in a "
        "way glassbox does not translate"
    )


def _constant(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise Unsupported("the shape must be a constant")
    return value


def _per_position(op: _Op) -> Any:
    """An op on the last axes of a ``View`` (and constants of those axes): the same op on its
    native tensor, in the same view."""
    views = [v for v in op.inputs if isinstance(v, View)]
    first = views[0]
    tail = len(first.x.shape) - first.hi  # type: ignore[arg-type]
    for v in op.inputs:
        if isinstance(v, View) and (v.lo, v.at, v.hi) != (first.lo, first.at, first.hi):
            raise Unsupported("it combines tensors whose batch axes are in different places")
        if isinstance(v, Tensor):
            raise Unsupported("it combines tensors whose batch axes are in different places")
        weight = op.node.op_type in ("MatMul", "Gemm") and v is op.inputs[1]
        if isinstance(v, np.ndarray) and v.ndim > tail and not weight:
            raise Unsupported("a constant that spans the batch axis of a transposed tensor")
    if op.node.op_type == "Softmax" and int(op.attrs.get("axis", -1)) not in (-1, first.rank - 1):
        raise Unsupported("a softmax off the last axis of a transposed tensor")
    inputs = [v.x if isinstance(v, View) else v for v in op.inputs]
    handler = _OPS.get(op.node.op_type) or _activation_handler(op.node.op_type)
    if handler is None:
        raise Unsupported()
    out = handler(_Op(op.t, op.node, op.name, inputs, op.attrs))
    if not isinstance(out, Tensor) or out.shape[: first.hi] != first.x.shape[: first.hi]:  # type: ignore[index]
        raise Unsupported("it changes the axes of a transposed tensor")
    return view(out, first.lo, first.at, first.hi)


def _view_axes(op: _Op, data: View) -> Any:
    """Gather at constant indices, Unsqueeze and Squeeze of a ``View`` (off its batch axis)."""
    kind, x = op.node.op_type, data.x
    if kind == "Gather":
        index = op.inputs[1]
        axis = int(op.attrs.get("axis", 0)) % data.rank
        if axis == data.lo or not isinstance(index, np.ndarray) or index.ndim > 0:
            raise Unsupported("only one constant index off the batch axis")
        native = data.native(axis)[0]
        out = op.builder.select(op.name, x, native + 1, int(index))
        shift = int(native < data.lo)
        return view(out, data.lo - shift, data.at - shift, data.hi - shift)
    axes = _axes(op.inputs, op.attrs)
    if axes is None:
        raise Unsupported("the axes must be constants")
    shape, lo, at, hi = list(x.shape), data.lo, data.at, data.hi  # type: ignore[arg-type]
    rank = data.rank + (len(axes) if kind == "Unsqueeze" else 0)
    for axis in sorted(a % rank for a in axes) if kind == "Unsqueeze" else []:
        native = axis if axis <= lo else hi + axis - lo - 1
        shape.insert(native, 1)
        lo, at, hi = (lo + 1, at + 1, hi + 1) if axis <= lo else (lo, at, hi)
    for axis in sorted((a % rank for a in axes), reverse=True) if kind == "Squeeze" else []:
        if axis == lo:
            raise Unsupported("a squeeze of the batch axis")
        native = View(x, lo, at, hi).native(axis)[0]
        if shape[native] != 1:
            raise Unsupported(f"a squeeze of an axis of extent {shape[native]}")
        del shape[native]
        lo, at, hi = (lo - 1, at - 1, hi - 1) if axis < lo else (lo, at, hi)
    if not shape:
        raise Unsupported("a squeeze to a scalar per sample")
    out = x if tuple(shape) == x.shape else op.builder.reshape(op.name, x, [BATCH, *shape])
    return view(out, lo, at, hi)


def _activation_handler(op_type: str) -> Handler | None:
    alias = activation_aliases("onnx").get(op_type)
    return None if alias is None else functools.partial(_activation, alias)


def _activation(alias: Alias, op: _Op) -> Tensor:
    unknown = sorted(set(op.attrs) - {argument for argument, _ in alias.args})
    if unknown:
        raise Unsupported(f"attributes {unknown} of {alias.kind}")
    op.attrs.setdefault("axis", -1 if op.t.opset >= 13 else 1)  # Softmax's default changed at 13
    return op.builder.aliased(op.name, alias, op.x, lambda i, a: op.attrs.get(a))


_OPS: dict[str, Handler] = {
    "Identity": _identity,
    "Dropout": _identity,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _binary("add"),
    "Sub": _binary("sub"),
    "Mul": _binary("mul"),
    "Div": _binary("div"),
    "Neg": lambda op: op.builder.arithmetic(op.name, "mul", op.inputs[0], -1),
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Conv": _conv,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_pool,
    "GlobalMaxPool": _global_pool,
    "ReduceMean": _reduce_mean,
    "BatchNormalization": _batch_norm,
    "Concat": _concat,
    "Pad": _pad,
    "Clip": _clip,
    "HardSigmoid": _hard_sigmoid,
    "Shape": _shape,
    "Gather": _gather,
    "LayerNormalization": _layer_norm,
    "Transpose": _transpose,
    "Cast": _cast,
    **{kind: _compare for kind in _COMPARE},
    "Not": lambda op: op.builder.compare(op.name, "eq", op.x, 0.0),
    "And": _logical_and,
    "Where": _where,
    "Expand": _expand,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _unsqueeze,
    "Slice": _slice_tensor,
}


# -- constant folding (shape computations; arithmetic on constants is the builder's) -------------


def _cast(inputs: list[Any], attrs: dict[str, Any]) -> np.ndarray:
    import onnx

    value = np.asarray(inputs[0])
    if np.any(value == BATCH):  # keep the batch sentinel an int
        return value
    return value.astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))


def _slice(inputs: list[Any], attrs: dict[str, Any]) -> np.ndarray:
    data = np.asarray(inputs[0])
    starts, ends = np.ravel(inputs[1]), np.ravel(inputs[2])
    axes = np.ravel(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
    steps = np.ravel(inputs[4]) if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return data[tuple(index)]


def _no_batch(dims: Any) -> tuple[int, ...]:
    """A shape for a constant: the same for every sample, so the batch extent is 1 in it."""
    return tuple(1 if int(d) == BATCH else int(d) for d in np.ravel(dims))


def _range(inputs: list[Any], attrs: dict[str, Any]) -> Any:
    if any(np.any(np.asarray(v) == BATCH) for v in inputs[:3]):
        return batch_range(*inputs[:3])  # the sample indices
    start, limit, delta = (np.ravel(v)[0] for v in inputs[:3])
    return np.arange(start, limit, delta, dtype=np.asarray(inputs[0]).dtype)


def _expand_constant(inputs: list[Any], attrs: dict[str, Any]) -> np.ndarray:
    value = np.asarray(inputs[0])
    return np.broadcast_to(value, np.broadcast_shapes(value.shape, _no_batch(inputs[1]))).copy()


def _constant_of_shape(inputs: list[Any], attrs: dict[str, Any]) -> np.ndarray:
    value = attrs.get("value")
    fill = np.zeros(1, np.float32) if value is None else _array(value, "ConstantOfShape value")
    return np.full(_no_batch(inputs[0]), fill.ravel()[0], dtype=fill.dtype)


def _reshape_constant(inputs: list[Any], attrs: dict[str, Any]) -> np.ndarray:
    data = np.asarray(inputs[0])
    dims = [
        data.shape[i] if d == 0 and not attrs.get("allowzero", 0) else d
        for i, d in enumerate(_no_batch(inputs[1]))
    ]
    return data.reshape(dims)


def _elementwise(fn: Callable[..., Any]) -> Callable[[list[Any], dict[str, Any]], Any]:
    return lambda v, a: fn(*(np.asarray(x) for x in v))


_FOLDABLE: dict[str, Callable[[list[Any], dict[str, Any]], Any]] = {
    "Range": _range,
    "Expand": _expand_constant,
    "ConstantOfShape": _constant_of_shape,
    "Reshape": _reshape_constant,
    "Transpose": lambda v, a: np.transpose(v[0], a.get("perm")),
    "GatherElements": lambda v, a: np.take_along_axis(
        np.asarray(v[0]),
        np.where(v[1] < 0, v[1] + np.shape(v[0])[int(a.get("axis", 0))], v[1]),
        int(a.get("axis", 0)),
    ),
    "Equal": _elementwise(np.equal),
    "Greater": _elementwise(np.greater),
    "GreaterOrEqual": _elementwise(np.greater_equal),
    "Less": _elementwise(np.less),
    "LessOrEqual": _elementwise(np.less_equal),
    "And": _elementwise(np.logical_and),
    "Or": _elementwise(np.logical_or),
    "Xor": _elementwise(np.logical_xor),
    "Not": _elementwise(np.logical_not),
    "Where": _elementwise(np.where),
    "Max": _elementwise(lambda *x: functools.reduce(np.maximum, x)),
    "Min": _elementwise(lambda *x: functools.reduce(np.minimum, x)),
    "Sqrt": _elementwise(np.sqrt),
    "Mod": lambda v, a: (np.fmod if a.get("fmod", 0) else np.mod)(*(np.asarray(x) for x in v)),
    "Abs": _elementwise(np.abs),
    "IsNaN": _elementwise(np.isnan),
    "Identity": lambda v, a: v[0],
    "Cast": _cast,
    "Gather": lambda v, a: np.take(v[0], v[1], axis=int(a.get("axis", 0))),
    "Unsqueeze": lambda v, a: np.expand_dims(v[0], _axes(v, a)),
    "Squeeze": lambda v, a: np.squeeze(v[0], _axes(v, a)),
    "Concat": lambda v, a: np.concatenate(
        [np.atleast_1d(x) for x in v], axis=int(a.get("axis", 0))
    ),
    "Slice": _slice,
    "Constant": lambda v, a: _constant_value(a),
    "Shape": lambda v, a: np.array(np.shape(v[0]), np.int64)[a.get("start", 0) : a.get("end")],
}


def _folded_size(op_type: str, inputs: list[Any], attrs: dict[str, Any]) -> int:
    """The elements constant-folding ``op_type`` makes, computed from its inputs' shapes: a chain
    of Concats or a Gather could otherwise grow a tiny file's constants without bound."""
    if op_type == "Concat":
        return sum(int(np.size(v)) for v in inputs)
    if op_type == "Gather":
        data, indices = inputs[0], inputs[1]
        extent = np.shape(data)[int(attrs.get("axis", 0))]
        return int(np.size(indices)) * (int(np.size(data)) // extent if extent else 0)
    if op_type == "ConstantOfShape":
        return math.prod(_no_batch(inputs[0]))
    if op_type == "Expand":
        return math.prod(np.broadcast_shapes(np.shape(inputs[0]), _no_batch(inputs[1])))
    if op_type == "Range":
        if any(np.any(np.asarray(v) == BATCH) for v in inputs[:3]):
            return 1
        start, limit, delta = (float(np.ravel(v)[0]) for v in inputs[:3])
        return max(0, math.ceil((limit - start) / delta)) if delta else 0
    if op_type in (
        "Where",
        "Equal",
        "Greater",
        "GreaterOrEqual",
        "Less",
        "LessOrEqual",
        "And",
        "Or",
        "Xor",
        "Max",
        "Min",
    ):
        return math.prod(np.broadcast_shapes(*(np.shape(v) for v in inputs)))
    return max((int(np.size(v)) for v in inputs if isinstance(v, np.ndarray)), default=0)


def _constant_value(attrs: dict[str, Any], what: str = "Constant") -> np.ndarray:
    value = attrs.get("value")  # a tensor; else one of value_float(s) / value_int(s)
    if value is not None:
        return _array(value, what)
    numbers = [
        attrs[k] for k in ("value_float", "value_int", "value_floats", "value_ints") if k in attrs
    ]
    if not numbers:
        raise Unsupported("a Constant without a supported value attribute")
    return np.asarray(numbers[0])


# -- fused patterns: each returns True if it matched at ``node`` ---------------------------------


def _fuse_matmul_add(t: _Translator, node: Any) -> bool:
    """``MatMul(x, W)`` then ``Add`` of a constant bias: one dense layer."""
    add, weight = t.follow(node, "Add"), t.constant(node.input[1])
    other = add and (add.input[1] if add.input[0] == node.output[0] else add.input[0])
    bias = t.constant(other) if other else None
    if weight is None or weight.ndim != 2 or bias is None or "f" != weight.dtype.kind:
        return False
    if bias.dtype.kind != "f":  # the MatMul and the Add report it
        return False
    if not (bias.size == 1 or bias.shape in ((weight.shape[1],), (1, weight.shape[1]))):
        return False
    w, b, name = np.asarray(weight, np.float64).T, _bias(bias, weight.shape[1], 1.0), t.name(node)
    return t.fuse(node, [add], lambda x: t.builder.dense(name, x, w, b))


def _fuse_silu(t: _Translator, node: Any) -> bool:
    """``Mul(x, Sigmoid(x))``: silu."""
    mul = t.follow(node, "Mul")
    return bool(mul and node.input[0] in mul.input) and t.fuse(node, [mul], "silu")


def _fuse_gelu(t: _Translator, node: Any) -> bool:
    """``Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)`` (any operand order): gelu."""
    erf = _is_scalar(t.constant(node.input[1]), math.sqrt(2.0)) and t.follow(node, "Erf")
    add = erf and t.follow(erf, "Add")
    mul = add and t.other_is(add, erf.output[0], 1.0) and t.follow(add, "Mul")
    half = mul and node.input[0] in mul.input and t.follow(mul, "Mul")
    if not (half and t.other_is(half, mul.output[0], 0.5)):
        return False
    return t.fuse(node, [erf, add, mul, half], "gelu", {"approximate": "none"})


def _fuse_softplus(t: _Translator, node: Any) -> bool:
    """``Where(Greater(x, threshold), x, Softplus(x))`` (torch's dynamo export): softplus."""
    where = t.follow(node, "Where")
    if not where or list(where.input[1:]) != [node.input[0], node.output[0]]:
        return False
    greater = next((n for n in t.nodes if where.input[0] in n.output), None)
    if not greater or greater.op_type != "Greater" or greater.input[0] != node.input[0]:
        return False
    threshold = t.constant(greater.input[1])
    if threshold is None or threshold.size != 1 or t.follow(greater, "Where") is None:
        return False
    params = {"beta": 1.0, "threshold": float(threshold.ravel()[0])}
    return t.fuse(node, [greater, where], "softplus", params)


def _fuse_layer_norm(t: _Translator, node: Any) -> bool:
    """LayerNorm before opset 17: ``d = x - ReduceMean(x)``, ``d / Sqrt(ReduceMean(d ** 2) +
    eps)``, then optionally ``* weight`` and ``+ bias`` (constants), all over the last axis."""
    sub = t.follow(node, "Sub")
    if not sub or list(sub.input) != [node.input[0], node.output[0]] or not _last(t, node):
        return False
    users = t.consumers.get(sub.output[0], [])
    square = next((u for u in users if u.op_type == "Pow"), None)
    div = next((u for u in users if u.op_type == "Div"), None)
    if len(users) != 2 or not square or not div or list(div.input[:1]) != [sub.output[0]]:
        return False
    mean = _is_scalar(t.constant(square.input[1]), 2.0) and t.follow(square, "ReduceMean")
    add = mean and _last(t, mean) and t.follow(mean, "Add")
    sqrt = add and t.follow(add, "Sqrt")
    eps = add and t.constant(next(i for i in add.input if i != mean.output[0]))
    if not sqrt or eps is None or eps.size != 1 or div.input[1] != sqrt.output[0]:
        return False
    nodes, affine = [sub, square, mean, add, sqrt, div], {}
    for op_type, key in (("Mul", "weight"), ("Add", "bias")):
        after = t.follow(nodes[-1], op_type)
        other = after and next((i for i in after.input if i != nodes[-1].output[0]), None)
        value = t.constant(other) if other else None
        if value is None or value.ndim != 1 or value.dtype.kind != "f":
            break
        nodes.append(after)
        affine[key] = value
    if "weight" not in affine and "bias" in affine:
        return False  # unreachable: the bias follows the weight
    name, epsilon = t.name(node), float(eps.ravel()[0])
    return t.fuse(
        node,
        nodes,
        lambda x: t.builder.layer_norm(name, x, affine.get("weight"), affine.get("bias"), epsilon),
    )


def _last(t: _Translator, reduce: Any) -> bool:
    """A ReduceMean over the last axis only, keeping it."""
    axes = _axes([t.values.get(i) for i in reduce.input], _attributes(reduce))
    return axes == (-1,) and _attributes(reduce).get("keepdims", 1) == 1


def _fuse_nan_guard(t: _Translator, node: Any) -> bool:
    """``Where(IsNaN(p), 0, p)`` after an attention softmax (torch's guard for fully masked
    rows): the identity, as the native softmax of finite scores is never NaN."""
    where = t.follow(node, "Where")
    if not where or list(where.input[::2]) != [node.output[0], node.input[0]]:
        return False
    return t.fuse(node, [where], lambda x: x)


_FUSIONS: dict[str, tuple[Callable[[_Translator, Any], bool], ...]] = {
    "MatMul": (_fuse_matmul_add,), "Sigmoid": (_fuse_silu,), "Div": (_fuse_gelu,),
    "Softplus": (_fuse_softplus,), "IsNaN": (_fuse_nan_guard,),
    "ReduceMean": (_fuse_layer_norm,),
}  # fmt: skip


def _is_scalar(value: np.ndarray | None, expected: float) -> bool:
    return (
        value is not None
        and value.size == 1
        and math.isclose(float(value.ravel()[0]), expected, rel_tol=1e-6)
    )


#: What from_onnx translates.
SUPPORTED_OPS: tuple[str, ...] = (
    *sorted(set(_OPS) - {"Shape"}),
    *sorted(activation_aliases("onnx")),
    "the GELU pattern Div-Erf-Add-Mul-Mul",
    "the SiLU pattern Sigmoid-Mul",
    "MatMul + Add of a constant",
    "the NaN guard Where(IsNaN(p), 0, p) after a softmax",
    "the LayerNorm pattern ReduceMean-Sub-Pow-ReduceMean-Add-Sqrt-Div(-Mul-Add)",
    "shape and mask computations on constants (Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, "
    "Slice, Range, Expand, ConstantOfShape, Equal, Where, And, GatherElements, ...)",
    "per-sample indexing of attention masks (Range over the batch with GatherND or Gather)",
)

__all__ = ["SUPPORTED_OPS", "from_onnx", "load_onnx"]
