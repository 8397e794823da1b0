"""The layer table: one description of every layer kind a native network is built from.

Everything on the Python side that needs to know about a layer kind reads this table and nothing
else: ``NetworkSpec.add`` (which kinds and parameters exist), the shape algebra
(``models/shapes.py``), the graph builder and the framework adapters (which torch modules and
functions, ONNX ops and Keras activations are an activation of a given kind), the LRP composites
(by ``category`` and ``lrp``), and the NumPy references in ``tests/reference``. The C++ core has
the other half (``src/cpp/core/network/registry.cpp`` and the activation table in
``activations.cpp``); ``tests/models/test_layer_table.py`` checks the two against each other both
ways.

Adding an element-wise activation is one ``_activation(...)`` entry below (its name, parameters
with defaults, and the names the frameworks give it), one entry in the C++ activation table, its
NumPy reference and its test. Other layer kinds also need a ``Layer`` class in C++ and a builder
method the adapters call.

Examples
--------
>>> LAYERS["leaky_relu"].params
{'negative_slope': 0.01}
>>> LAYERS["conv2d"].category, LAYERS["max_pool2d"].deeplift
('affine', 'max_pool')
>>> kinds_where(lrp="sum")
('add', 'sub', 'reduce_sum')
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: What a layer kind is, as the methods group layers.
CATEGORIES = ("affine", "activation", "pooling", "normalization", "shape", "graph", "recurrent")
#: How DeepLIFT treats a kind: the rescale multiplier (element-wise activations), Captum's softmax
#: and max-pooling rules, or the plain gradient (linear layers).
DEEPLIFT_TRAITS = ("rescale", "softmax", "max_pool", "gradient")
#: How LRP composites address a kind: "dense" and "conv" (affine rules), "activation" (pass),
#: "sum" and "average" (the Norm rule), "normalization" (folded by the canonizer, else Norm),
#: "shape" (relevance passes unchanged), "gradient" (winner takes all / split by slice).
LRP_KINDS = (
    "dense",
    "conv",
    "activation",
    "sum",
    "average",
    "normalization",
    "shape",
    "gradient",
    "layer_norm",
    "softmax",
    "product",
    "embedding",
    "recurrent",
)

#: The comparisons of the ``compare`` kind (NumPy's names), each its own C++ kind.
COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")

#: The largest per-sample buffer, in elements, a native layer may produce or hold: the network
#: input, every layer's output, a convolution's zero-padded input and its im2col columns
#: (2^28 float32 values are 1 GiB per sample). The C++ core has the same constant
#: (``kMaxActivationSize`` in ``core/common.hpp``, ``_core.max_activation_size()``); the shape
#: functions below reject a layer over it before anything is built.
MAX_ACTIVATION_SIZE = 2**28

#: A parameter without a default: every spec layer of the kind must give it.
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()

Shape = tuple[int, ...]
ShapeFn = Callable[[Mapping[str, Any], Mapping[str, Any], Sequence[Shape]], Shape]
MacsFn = Callable[[Mapping[str, Any], Shape], int]


@dataclass(frozen=True)
class Alias:
    """A framework's name for an activation kind and how its arguments map to the kind's params.

    Parameters
    ----------
    name : str
        torch: a dotted path below ``torch`` ("nn.Mish", "nn.functional.mish", "mish") or a
        tensor method (".mish"); ONNX: the op type; Keras: the activation function's name in
        ``keras.activations`` or a layer class in ``keras.layers`` ("layers.LeakyReLU").
    args : tuple of (str, str)
        The framework's argument (torch function argument in positional order after the input,
        module attribute, ONNX attribute or Keras layer attribute) and the table parameter it
        sets. ``"axis"`` is not a parameter: the builder checks it (softmax over features).
    defaults : dict
        The framework's defaults where they differ from the kind's, or the values of
        parameters the alias has no argument for (Keras' ``leaky_relu`` slope is 0.2,
        ``F.hardtanh`` is clamp(-1, 1) unless given, ``ReLU6`` is clamp(0, 6)).
    """

    name: str
    args: tuple[tuple[str, str], ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    kind: str = ""  # the layer kind, set when the alias is registered


@dataclass(frozen=True)
class LayerKind:
    """One layer kind of the native engine.

    Parameters
    ----------
    name : str
        The spec's kind name.
    category : str
        One of ``CATEGORIES``.
    params : dict
        Hyper-parameters and their defaults (``REQUIRED`` if none); sequences are tuples.
    weights : tuple of str
        The weight arrays the layer reads (optional ones may be None in a spec).
    output_shape : callable
        ``(params, weights, input_shapes) -> per-sample output shape`` (params completed with
        the defaults).
    deeplift : str
        One of ``DEEPLIFT_TRAITS``.
    lrp : str
        One of ``LRP_KINDS``.
    n_inputs : int or None
        Tensors the layer reads; None for two or more (add, concat).
    native : callable, optional
        ``params -> the C++ kind name`` when it differs from ``name`` (GELU's tanh form).
    torch, onnx, keras : tuple of Alias
        Activations only: the frameworks' names for this kind.
    macs : callable, optional
        ``(weights, output_shape) -> multiply-adds per sample`` of the layer's weights (no
        bias, pooling, normalisation or residual adds: ``glassbox.inspect.summary``); None for
        kinds without a weight matrix (0). The core counts the same (``macs_per_sample``).
    bounds : callable, optional
        Element-wise activations with a bounded output: ``params -> (low, high)`` (or None when
        these params leave it unbounded). ``glassbox.inspect.activations`` reads it for the
        histogram span and for saturation.
    doc : str
        What the layer computes, for the docs and error messages.
    """

    name: str
    category: str
    params: Mapping[str, Any]
    weights: tuple[str, ...]
    output_shape: ShapeFn
    deeplift: str = "gradient"
    lrp: str = "gradient"
    n_inputs: int | None = 1
    native: Callable[[Mapping[str, Any]], str] | None = None
    torch: tuple[Alias, ...] = ()
    onnx: tuple[Alias, ...] = ()
    keras: tuple[Alias, ...] = ()
    macs: MacsFn | None = None
    bounds: Callable[[Mapping[str, Any]], tuple[float, float] | None] | None = None
    doc: str = ""

    def native_kind(self, params: Mapping[str, Any]) -> str:
        """The C++ kind this layer compiles to."""
        return self.native(params) if self.native else self.name

    @property
    def native_kinds(self) -> tuple[str, ...]:
        """Every C++ kind this layer may compile to."""
        if self.name == "gelu":
            return ("gelu", "gelu_tanh")
        if self.name == "compare":
            return tuple(f"compare_{op}" for op in COMPARE_OPS)
        return (self.name,)

    def complete(self, params: Mapping[str, Any] | None, strict: bool = False) -> dict[str, Any]:
        """``params`` with the defaults filled in; ValueError for missing ones, and with
        ``strict`` for unknown ones (otherwise ignored, as the core ignores them)."""
        given = dict(params or {})
        unknown = sorted(set(given) - set(self.params))
        if unknown and strict:
            known = ", ".join(self.params) or "none"
            raise ValueError(f"{self.name}: unknown parameter(s) {unknown}; known: {known}")
        out = {key: given.get(key, default) for key, default in self.params.items()}
        missing = [key for key, value in out.items() if value is REQUIRED]
        if missing:
            raise ValueError(f"{self.name}: missing parameter(s) {missing}")
        return out


# -- shape algebra (per-sample shapes, NCHW without N) -------------------------------------------


def check_size(shape: Sequence[int], what: str) -> Shape:
    """``shape`` (as ints) if every extent is at least 1 and it has at most
    :data:`MAX_ACTIVATION_SIZE` elements; ValueError naming ``what`` otherwise.

    >>> check_size((3, 2**14, 2**15), "conv2d: output")
    Traceback (most recent call last):
    ValueError: conv2d: output: shape (3, 16384, 32768) has 1610612736 elements per sample, ...
    """
    try:  # integers only: int(1.5) would truncate silently
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{what}: shape {tuple(shape)!r} must hold integers") from None
    if not dims or min(dims) < 1:
        raise ValueError(f"{what}: shape {dims} has an extent below 1")
    size = math.prod(dims)
    if size > MAX_ACTIVATION_SIZE:
        raise ValueError(
            f"{what}: shape {dims} has {size} elements per sample, more than the ceiling of "
            f"{MAX_ACTIVATION_SIZE}"
        )
    return dims


def _check_window(kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int) -> int:
    """The padded extent minus the dilated window, after checking the window's parameters (the
    core's ``check_window``): kernel, stride and dilation >= 1, padding >= 0."""
    for name, value in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if int(value) < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    if min(int(pad_begin), int(pad_end)) < 0:
        raise ValueError(f"padding must be non-negative, got {pad_begin} and {pad_end}")
    return int(dilation) * (int(kernel) - 1) + 1


def conv_out(
    size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int
) -> int:
    """Output extent of a convolution along one axis (torch / ONNX ``NOTSET`` semantics);
    ValueError for a kernel, stride or dilation below 1, negative padding, or a window larger
    than the padded input.

    >>> conv_out(28, kernel=5, stride=1, pad_begin=0, pad_end=0, dilation=1)
    24
    """
    return pool_out(size, kernel, stride, pad_begin, pad_end, dilation, False)


def pool_out(
    size: int,
    kernel: int,
    stride: int,
    pad_begin: int,
    pad_end: int,
    dilation: int,
    ceil_mode: bool,
) -> int:
    """Output extent of a pooling window along one axis (torch's ``ceil_mode``: the last window
    must start inside the input or its leading padding); ValueError as :func:`conv_out`.

    >>> pool_out(7, kernel=2, stride=2, pad_begin=0, pad_end=0, dilation=1, ceil_mode=True)
    4
    """
    window = _check_window(kernel, stride, pad_begin, pad_end, dilation)
    padded = int(size) + int(pad_begin) + int(pad_end)
    if window > padded:
        raise ValueError(
            f"kernel extent {window} (with dilation) is larger than the padded input {padded}"
        )
    span, stride = padded - window, int(stride)
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def pair(value: Any) -> tuple[int, int]:
    """An int or an (h, w) pair as a pair of ints."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    first, second = value
    return int(first), int(second)


def padding4(value: Any) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from an int, an (h, w) pair or four values."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 4  # type: ignore[return-value]
    values = [int(v) for v in value]
    if len(values) == 2:
        return (values[0], values[1], values[0], values[1])
    top, left, bottom, right = values
    return top, left, bottom, right


def resolve_reshape(target: Sequence[int], size: int) -> Shape:
    """``target`` with its (single) ``-1`` resolved so the product is ``size``; ValueError if
    that is impossible.

    >>> resolve_reshape((2, -1), 6)
    (2, 3)
    """
    dims = [int(d) for d in target]
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1 or any(d < -1 or d == 0 for d in dims):
        raise ValueError(f"cannot reshape {size} values to {tuple(dims)}")
    known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape {size} values to {tuple(dims)}")
        dims[unknown[0]] = size // known
    elif known != size:
        raise ValueError(f"cannot reshape {size} values to {tuple(dims)}")
    return tuple(dims)


def reduced_axes(axes: Sequence[int] | int | None, rank: int) -> tuple[int, ...]:
    """Per-sample ``axes`` (an int or a sequence, negative allowed; None: every axis) as sorted
    distinct non-negative axes.

    >>> reduced_axes(-1, 3), reduced_axes(None, 2)
    ((2,), (0, 1))
    """
    if axes is None:
        return tuple(range(rank))
    if isinstance(axes, (int, np.integer)):
        axes = [int(axes)]
    out = sorted({int(a) % rank if -rank <= int(a) < rank else -1 for a in axes})
    if not axes or -1 in out or len(out) != len(list(axes)):
        raise ValueError(f"axes {tuple(axes)} are not distinct axes of a rank-{rank} sample")
    return tuple(out)


def _size(shape: Shape) -> int:
    return math.prod(int(d) for d in shape)


def _same(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]) -> Shape:
    return tuple(shapes[0])


def _dense_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    """The last axis mapped: (in,) -> (out,), (T, in) -> (T, out)."""
    shape = tuple(shapes[0])
    if shape[-1] != int(weights["weight"].shape[1]):
        raise ValueError(
            f"dense: expects {int(weights['weight'].shape[1])} features on the last axis, got "
            f"shape {shape}"
        )
    return (*shape[:-1], int(weights["weight"].shape[0]))


def _flat_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    return (_size(shapes[0]),)


def _reshape_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    return resolve_reshape(params["shape"], _size(shapes[0]))


def _permute_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    perm, shape = tuple(int(a) for a in params["perm"]), tuple(shapes[0])
    if sorted(perm) != list(range(len(shape))):
        raise ValueError(f"permute: perm={perm} is not an order of the axes of {shape}")
    return tuple(shape[a] for a in perm)


def _concat_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    axis, first = int(params["axis"]), tuple(shapes[0])
    total = sum(int(s[axis]) for s in shapes)
    return (*first[:axis], total, *first[axis + 1 :])


def _conv_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    c, h, w = shapes[0]
    weight = weights["weight"]
    cout, cin_g, kh, kw = (int(d) for d in weight.shape)
    top, left, bottom, right = padding4(params["padding"])
    (sh, sw), (dh, dw) = pair(params["stride"]), pair(params["dilation"])
    out = (cout, conv_out(h, kh, sh, top, bottom, dh), conv_out(w, kw, sw, left, right, dw))
    # the per-sample buffers the core's kernels hold, as it checks them (conv2d.cpp): the output,
    # the zero-padded input and the im2col columns
    check_size(out, "conv2d: output")
    check_size((c, h + top + bottom, w + left + right), "conv2d: zero-padded input")
    check_size((cin_g, kh, kw, *out[1:]), "conv2d: im2col columns")
    return out


def _pool_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    c, h, w = shapes[0]
    kh, kw = pair(params["kernel"])
    sh, sw = (kh, kw) if params["stride"] is None else pair(params["stride"])
    dh, dw = pair(params.get("dilation", 1))
    top, left, bottom, right = padding4(params["padding"])
    for kernel, pads in ((kh, (top, bottom)), (kw, (left, right))):
        if max(pads) >= kernel >= 1:  # ONNX's rule (the core checks dilated windows too)
            raise ValueError(
                f"padding {max(pads)} must be smaller than the kernel {kernel} "
                f"(allowed: 0 to {kernel - 1})"
            )
    ceil = bool(params["ceil_mode"])
    return (
        c,
        pool_out(h, kh, sh, top, bottom, dh, ceil),
        pool_out(w, kw, sw, left, right, dw, ceil),
    )


def _adaptive_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    oh, ow = pair(params["output_size"])
    return (int(shapes[0][0]), oh, ow)


def _reduce_mean_shape(
    params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]
) -> Shape:
    shape = tuple(shapes[0])
    axes = reduced_axes(params["axes"], len(shape))
    if params["keepdims"]:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    kept = tuple(d for i, d in enumerate(shape) if i not in axes)
    return kept or (1,)


def _broadcast_shape(
    params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]
) -> Shape:
    """NumPy broadcasting of per-sample shapes (aligned on the right)."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise ValueError(
            f"per-sample shapes {[tuple(s) for s in shapes]} do not broadcast"
        ) from None


def _add_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    """Equal shapes (2 or more), or two that broadcast."""
    if len(shapes) > 2 and any(tuple(s) != tuple(shapes[0]) for s in shapes):
        raise ValueError(f"add of 3+ inputs needs equal shapes, got {[tuple(s) for s in shapes]}")
    return _broadcast_shape(params, weights, shapes)


def _matmul_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    a, b = (tuple(int(d) for d in s) for s in shapes)
    if len(a) < 2 or len(a) != len(b) or a[:-2] != b[:-2] or a[-1] != b[-2]:
        raise ValueError(f"matmul: expects (..., M, K) and (..., K, N), got {a} and {b}")
    return (*a[:-1], b[-1])


def _embedding_shape(
    params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]
) -> Shape:
    return (*tuple(shapes[0]), int(weights["weight"].shape[1]))


def _take_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    shape = list(shapes[0])
    axis = int(params["axis"])
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"take: axis {axis} is out of range for shape {tuple(shape)}")
    indices = [int(i) for i in np.asarray(params["indices"]).ravel()]
    extent = shape[axis]
    if not indices or any(not -extent <= i < extent for i in indices):
        raise ValueError(f"take: indices {indices} out of range for an axis of {extent}")
    shape[axis] = len(indices)
    return tuple(shape)


def _recurrent_shape(
    params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]
) -> Shape:
    """(T, I) -> (T, H * directions), H from weight_hh (G H, H)."""
    shape = tuple(shapes[0])
    if len(shape) != 2 or int(weights["weight_ih"].shape[1]) != shape[1]:
        raise ValueError(f"expects a sequence (T, {weights['weight_ih'].shape[1]}), got {shape}")
    directions = 2 if weights.get("weight_ih_reverse") is not None else 1
    return (shape[0], int(weights["weight_hh"].shape[1]) * directions)


def _recurrent_macs(weights: Mapping[str, Any], out: Shape) -> int:
    per_direction = int(np.size(weights["weight_ih"])) + int(np.size(weights["weight_hh"]))
    directions = 2 if weights.get("weight_ih_reverse") is not None else 1
    return per_direction * directions * int(out[0])


def _given_shape(params: Mapping[str, Any], weights: Mapping[str, Any], shapes: Sequence[Shape]):
    return tuple(int(d) for d in params["shape"])


# -- the table ------------------------------------------------------------------------------------

LAYERS: dict[str, LayerKind] = {}


def _register(kind: LayerKind) -> None:
    assert kind.category in CATEGORIES and kind.deeplift in DEEPLIFT_TRAITS, kind.name
    assert kind.lrp in LRP_KINDS, kind.name
    LAYERS[kind.name] = kind


def _aliases(value: str | Alias | Sequence[str | Alias]) -> tuple[Alias, ...]:
    items = [value] if isinstance(value, (str, Alias)) else list(value)
    return tuple(item if isinstance(item, Alias) else Alias(item) for item in items)


def _activation(
    name: str,
    doc: str,
    *,
    params: Mapping[str, Any] | None = None,
    torch: str | Alias | Sequence[str | Alias] = (),
    onnx: str | Alias | Sequence[str | Alias] = (),
    keras: str | Alias | Sequence[str | Alias] = (),
    deeplift: str = "rescale",
    native: Callable[[Mapping[str, Any]], str] | None = None,
    bounds: Callable[[Mapping[str, Any]], tuple[float, float] | None] | None = None,
) -> None:
    """Register an activation. Torch aliases whose arguments are not listed take the kind's
    params in order (torch's names are the table's names)."""
    params = dict(params or {})
    default_args = tuple((key, key) for key in params)
    torch_aliases = tuple(
        alias if alias.args or alias.defaults else replace(alias, args=default_args)
        for alias in _aliases(torch)
    )
    _register(
        LayerKind(
            name,
            "activation",
            params,
            (),
            _same,
            deeplift=deeplift,
            lrp="activation",
            native=native,
            torch=tuple(replace(a, kind=name) for a in torch_aliases),
            onnx=tuple(replace(a, kind=name) for a in _aliases(onnx)),
            keras=tuple(replace(a, kind=name) for a in _aliases(keras)),
            bounds=bounds,
            doc=doc,
        )
    )


def _weight_macs(weights: Mapping[str, Any], output_shape: Shape) -> int:
    """One multiply-add per weight and output position: ``out * in`` for a dense layer,
    ``Cout * Cin/groups * kh * kw * oh * ow`` for a convolution."""
    return int(np.size(weights["weight"])) * _size(tuple(output_shape)[1:])


_register(
    LayerKind(
        "dense",
        "affine",
        {},
        ("weight", "bias"),
        _dense_shape,
        lrp="dense",
        macs=lambda weights, out: int(np.size(weights["weight"])) * _size(tuple(out)[:-1]),
        doc="W x + b on the last axis (every position of a sequence)",
    )
)
_register(
    LayerKind(
        "conv2d",
        "affine",
        {"stride": (1, 1), "padding": (0, 0, 0, 0), "dilation": (1, 1), "groups": 1},
        ("weight", "bias"),
        _conv_shape,
        lrp="conv",
        macs=_weight_macs,
        doc="2-D convolution (cross-correlation, as torch), weight (Cout, Cin/groups, kh, kw)",
    )
)

_activation(
    "relu",
    "max(x, 0)",
    torch=("nn.ReLU", "nn.functional.relu", "relu", "nn.functional.relu_", "relu_", ".relu"),
    onnx="Relu",
    keras="relu",
)
_activation(
    "leaky_relu",
    "x if x > 0 else negative_slope * x",
    params={"negative_slope": 0.01},
    torch=("nn.LeakyReLU", "nn.functional.leaky_relu"),
    onnx=Alias("LeakyRelu", (("alpha", "negative_slope"),)),
    keras=(
        Alias("leaky_relu", defaults={"negative_slope": 0.2}),
        Alias("layers.LeakyReLU", (("negative_slope", "negative_slope"),)),
    ),
)
_activation(
    "elu",
    "x if x > 0 else alpha * (exp(x) - 1)",
    params={"alpha": 1.0},
    torch=("nn.ELU", "nn.functional.elu"),
    onnx=Alias("Elu", (("alpha", "alpha"),)),
    keras=("elu", Alias("layers.ELU", (("alpha", "alpha"),))),
)
_activation(
    "selu",
    "scale * (x if x > 0 else alpha * (exp(x) - 1)), torch's constants",
    torch=("nn.SELU", "nn.functional.selu", "selu"),
    onnx="Selu",
    keras="selu",
)
_activation(
    "sigmoid",
    "1 / (1 + exp(-x))",
    torch=("nn.Sigmoid", "sigmoid", "nn.functional.sigmoid", ".sigmoid"),
    onnx="Sigmoid",
    keras="sigmoid",
    bounds=lambda p: (0.0, 1.0),
)
_activation(
    "tanh",
    "tanh(x)",
    torch=("nn.Tanh", "tanh", "nn.functional.tanh", ".tanh"),
    onnx="Tanh",
    keras="tanh",
    bounds=lambda p: (-1.0, 1.0),
)
_activation(
    "softplus",
    "log(1 + exp(beta x)) / beta, x where beta x > threshold",
    params={"beta": 1.0, "threshold": 20.0},
    torch=("nn.Softplus", "nn.functional.softplus"),
    onnx="Softplus",
    keras="softplus",
)
_activation(
    "gelu",
    "x * Phi(x) (approximate='none') or its tanh form (approximate='tanh')",
    params={"approximate": "none"},
    torch=("nn.GELU", "nn.functional.gelu"),
    onnx=Alias("Gelu", (("approximate", "approximate"),)),
    keras="gelu",
    native=lambda p: "gelu_tanh" if p.get("approximate") == "tanh" else "gelu",
)
_activation(
    "silu",
    "x * sigmoid(x) (swish)",
    torch=("nn.SiLU", "nn.functional.silu"),
    keras=("silu", "swish"),
)
_activation(
    "mish",
    "x * tanh(softplus(x))",
    torch=("nn.Mish", "nn.functional.mish"),
    onnx="Mish",
    keras="mish",
)
_activation(
    "hardsigmoid",
    "relu6(x + 3) / 6",
    torch=("nn.Hardsigmoid", "nn.functional.hardsigmoid"),
    keras="hard_sigmoid",
    bounds=lambda p: (0.0, 1.0),
)
_activation(
    "hardswish",
    "x * relu6(x + 3) / 6",
    torch=("nn.Hardswish", "nn.functional.hardswish"),
    onnx="HardSwish",
    keras=("hard_swish", "hard_silu"),
)


def _clamp_bounds(params: Mapping[str, Any]) -> tuple[float, float] | None:
    """A clamp's (min, max) when both are finite (ReLU6, Hardtanh), else None."""
    low, high = float(params["min"]), float(params["max"])
    return (low, high) if np.isfinite(low) and np.isfinite(high) and low < high else None


_activation(
    "fake_quant",
    "clamp(rint(x / scale), -2^(bits-1), 2^(bits-1) - 1) * scale (torch's symmetric per-tensor "
    "fake quantisation; its gradient is the straight-through estimator)",
    params={"scale": 1.0, "bits": 8},
)
_activation(
    "clamp",
    "min(max(x, min), max) (ReLU6, Hardtanh, torch.clamp, ONNX Clip)",
    params={"min": -np.inf, "max": np.inf},
    torch=(
        Alias("nn.Hardtanh", (("min_val", "min"), ("max_val", "max"))),  # ReLU6 is a Hardtanh
        Alias(
            "nn.functional.hardtanh",
            (("min_val", "min"), ("max_val", "max")),
            {"min": -1.0, "max": 1.0},
        ),
        Alias("nn.functional.relu6", defaults={"min": 0.0, "max": 6.0}),
        Alias("clamp", (("min", "min"), ("max", "max"))),
        Alias("clip", (("min", "min"), ("max", "max"))),
        Alias(".clamp", (("min", "min"), ("max", "max"))),
        Alias(".clip", (("min", "min"), ("max", "max"))),
    ),
    keras=Alias("relu6", defaults={"min": 0.0, "max": 6.0}),
    bounds=_clamp_bounds,
)
_activation(
    "softmax",
    "exp(x) / sum(exp(x)) over the features",
    torch=(
        Alias("nn.Softmax", (("dim", "axis"),)),
        Alias("nn.functional.softmax", (("dim", "axis"),)),
        Alias("softmax", (("dim", "axis"),)),
        Alias(".softmax", (("dim", "axis"),)),
    ),
    onnx=Alias("Softmax", (("axis", "axis"),)),
    keras=("softmax", Alias("layers.Softmax", (("axis", "axis"),))),
    deeplift="softmax",
)
_activation(
    "log_softmax",
    "x - log(sum(exp(x))) over the features",
    torch=(
        Alias("nn.LogSoftmax", (("dim", "axis"),)),
        Alias("nn.functional.log_softmax", (("dim", "axis"),)),
        Alias("log_softmax", (("dim", "axis"),)),
        Alias(".log_softmax", (("dim", "axis"),)),
    ),
    onnx=Alias("LogSoftmax", (("axis", "axis"),)),
    keras="log_softmax",
    deeplift="gradient",
)

_POOL = {
    "kernel": REQUIRED,
    "stride": None,
    "padding": (0, 0, 0, 0),
    "ceil_mode": False,
}
_register(
    LayerKind(
        "max_pool2d",
        "pooling",
        {**_POOL, "dilation": (1, 1)},
        (),
        _pool_shape,
        deeplift="max_pool",
        doc="maximum over windows (-inf padding, torch's ceil_mode); stride defaults to kernel",
    )
)
_register(
    LayerKind(
        "avg_pool2d",
        "pooling",
        {**_POOL, "count_include_pad": True},
        (),
        _pool_shape,
        lrp="average",
        doc="mean over windows (torch's divisor rules)",
    )
)
_register(
    LayerKind(
        "adaptive_avg_pool2d",
        "pooling",
        {"output_size": (1, 1)},
        (),
        _adaptive_shape,
        lrp="average",
        doc="torch's adaptive average pooling; (1, 1) is global average pooling",
    )
)
_register(
    LayerKind(
        "reduce_mean",
        "pooling",
        {"axes": None, "keepdims": False},
        (),
        _reduce_mean_shape,
        lrp="average",
        doc="mean over per-sample axes (None: all)",
    )
)
_register(
    LayerKind(
        "batch_norm",
        "normalization",
        {},
        ("scale", "shift"),
        _same,
        lrp="normalization",
        doc="x * scale + shift per channel (inference batch norm)",
    )
)
_register(
    LayerKind(
        "scale_shift",
        "normalization",
        {},
        ("scale", "shift"),
        _same,
        lrp="normalization",
        doc="x * scale + shift with constants of 1 value, one per channel, or one per element",
    )
)
for _name, _doc in (
    ("flatten", "the sample as a vector (C, H, W order)"),
    ("dropout", "the identity (inference)"),
    ("identity", "the identity"),
):
    _register(
        LayerKind(
            _name,
            "shape",
            {},
            (),
            _flat_shape if _name == "flatten" else _same,
            lrp="shape",
            doc=_doc,
        )
    )
_register(
    LayerKind(
        "reshape",
        "shape",
        {"shape": REQUIRED},
        (),
        _reshape_shape,
        lrp="shape",
        doc="the sample reshaped (one -1 allowed), same memory order",
    )
)
_register(
    LayerKind(
        "permute",
        "shape",
        {"perm": REQUIRED},
        (),
        _permute_shape,
        lrp="shape",
        doc="the per-sample axes reordered (numpy's transpose; channels-last images enter so)",
    )
)
_register(
    LayerKind(
        "add",
        "graph",
        {},
        (),
        _add_shape,
        lrp="sum",
        n_inputs=None,
        doc="sum of 2+ equal shapes, or of two that broadcast",
    )
)
_register(
    LayerKind(
        "concat",
        "graph",
        {"axis": 0},
        (),
        _concat_shape,
        n_inputs=None,
        doc="inputs joined along a per-sample axis",
    )
)


for _kind in (
    LayerKind(
        "input",
        "shape",
        {"offset": REQUIRED, "shape": REQUIRED},
        (),
        _given_shape,
        lrp="shape",
        doc="one named input of a network with several: its columns of the flat network input",
    ),
    LayerKind(
        "embedding",
        "shape",
        {"padding_idx": -1},
        ("weight",),
        _embedding_shape,
        lrp="embedding",
        doc="rows of a (vocabulary, dim) table picked by token ids; ids get no gradient",
    ),
    LayerKind(
        "take",
        "shape",
        {"axis": REQUIRED, "indices": REQUIRED},
        (),
        _take_shape,
        lrp="shape",
        doc="entries along one per-sample axis (numpy's take: x[:, 0], slices, last steps)",
    ),
    LayerKind(
        "constant",
        "shape",
        {"shape": REQUIRED},
        ("value",),
        _given_shape,
        lrp="shape",
        doc="a per-sample constant (an operand of a binary layer)",
    ),
    LayerKind(
        "layer_norm",
        "normalization",
        {"eps": 1e-5},
        ("weight", "bias"),
        _same,
        lrp="layer_norm",
        doc="(x - mean) / sqrt(var + eps) * weight + bias over the last axis",
    ),
    LayerKind(
        "rms_norm",
        "normalization",
        {"eps": 1e-6},
        ("weight",),
        _same,
        lrp="layer_norm",
        doc="x / sqrt(mean(x^2) + eps) * weight over the last axis",
    ),
    LayerKind(
        "matmul",
        "graph",
        {},
        (),
        _matmul_shape,
        lrp="product",
        n_inputs=2,
        doc="A (..., M, K) @ B (..., K, N) of two computed tensors (attention)",
    ),
    LayerKind(
        "sub", "graph", {}, (), _broadcast_shape, lrp="sum", n_inputs=2, doc="a - b, broadcast"
    ),
    LayerKind(
        "mul",
        "graph",
        {},
        (),
        _broadcast_shape,
        lrp="product",
        n_inputs=2,
        doc="a * b of two computed tensors, broadcast (gates, masks)",
    ),
    LayerKind(
        "div", "graph", {}, (), _broadcast_shape, n_inputs=2, doc="a / b, broadcast (gradient)"
    ),
    LayerKind(
        "where",
        "graph",
        {},
        (),
        _broadcast_shape,
        n_inputs=3,
        doc="a where cond != 0 else b, broadcast; no gradient to cond",
    ),
    LayerKind(
        "compare",
        "shape",
        {"op": "eq", "value": REQUIRED},
        (),
        _same,
        native=lambda p: f"compare_{p['op']}",
        doc="1 where x (op) value holds (eq, ne, lt, le, gt, ge), else 0; no gradient",
    ),
    LayerKind(
        "reduce_sum",
        "pooling",
        {"axes": None, "keepdims": False},
        (),
        _reduce_mean_shape,
        lrp="sum",
        doc="sum over per-sample axes (None: all)",
    ),
    *(
        LayerKind(
            kind,
            "recurrent",
            {},
            tuple(
                f"{w}{suffix}"
                for suffix in ("", "_reverse")
                for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ),
            _recurrent_shape,
            lrp="recurrent",
            macs=_recurrent_macs,
            doc=f"torch's nn.{name} layer over (T, I): (T, H * directions), zero initial state",
        )
        for kind, name in (("lstm", "LSTM"), ("gru", "GRU"))
    ),
    LayerKind(
        "reduce_max",
        "pooling",
        {"axes": None, "keepdims": False},
        (),
        _reduce_mean_shape,
        doc="maximum over per-sample axes; the gradient goes to the first maximal element",
    ),
):
    _register(_kind)


def kinds_where(**traits: str) -> tuple[str, ...]:
    """The kinds whose traits (``category``, ``deeplift``, ``lrp``) have the given values.

    >>> kinds_where(category="affine")
    ('dense', 'conv2d')
    """
    return tuple(
        kind.name
        for kind in LAYERS.values()
        if all(getattr(kind, key) == value for key, value in traits.items())
    )


#: Activation kinds (element-wise ones, softmax and log_softmax) in table order.
ACTIVATION_KINDS: tuple[str, ...] = kinds_where(category="activation")


def activation_aliases(framework: str) -> dict[str, Alias]:
    """Every activation alias of ``framework`` ("torch", "onnx", "keras") by its name.

    >>> activation_aliases("onnx")["Mish"].kind
    'mish'
    """
    return {alias.name: alias for kind in LAYERS.values() for alias in getattr(kind, framework)}


__all__ = [
    "ACTIVATION_KINDS",
    "CATEGORIES",
    "DEEPLIFT_TRAITS",
    "LAYERS",
    "LRP_KINDS",
    "MAX_ACTIVATION_SIZE",
    "REQUIRED",
    "Alias",
    "LayerKind",
    "activation_aliases",
    "check_size",
    "conv_out",
    "kinds_where",
    "padding4",
    "pair",
    "pool_out",
    "reduced_axes",
    "resolve_reshape",
]
