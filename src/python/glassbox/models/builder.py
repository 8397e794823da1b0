"""The graph builder: what every framework adapter translates a model through.

An adapter walks its framework's graph and, for each op, calls one builder method (a table maps
op to call). The builder owns everything the adapters would otherwise repeat:

- **names**: layer names are unique (``name``, then ``name_1``, ``name_2``, ...);
- **shapes**: each value is a :class:`Tensor` with its per-sample shape, computed from the layer
  table (``models/layers.py``); arguments are validated before a layer is added;
- **layouts**: a tensor may be seen by the framework in another order than the native NCHW one:
  Keras' channels-last images (``(H, W, C)`` for a native ``(C, H, W)``) and the vectors made by
  flattening them (``perm``). Axes and constants given to the builder are in the framework's
  layout, with the batch axis first; the builder converts them;
- **the batch axis**: in shape computations (``x.size(0)``, ONNX ``Shape``) the batch extent is
  the sentinel :data:`BATCH`; a reshape must keep it first;
- **constants**: arithmetic on constants is folded with NumPy; a tensor combined with a constant
  (``x / 255 - 0.5``, ``1 - x``, ONNX ``Mul`` by a scale) becomes a ``scale_shift`` layer;
- **batch norm**: running statistics become one ``batch_norm`` layer (scale and shift);
- **unsupported ops**: an adapter reports them with :meth:`GraphBuilder.unsupported` (or a builder
  method raises :class:`Unsupported`, which :meth:`GraphBuilder.translate` records); translation
  goes on with a placeholder tensor, and :meth:`GraphBuilder.finish` raises one
  ``UnsupportedLayerError`` naming every unsupported layer, each with the nearest alternative.

Examples
--------
>>> import numpy as np
>>> builder = GraphBuilder((3,), adapter="from_example", supported=("Dense",))
>>> x = builder.arithmetic("scale", "div", builder.input, 255.0)
>>> y = builder.dense("fc", x, np.ones((2, 3), np.float32), None)
>>> spec = builder.finish(y)
>>> [(layer.kind, layer.name) for layer in spec.layers]
[('batch_norm', 'scale'), ('dense', 'fc')]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.graph_values import (
    BATCH,
    UNKNOWN,
    InvalidLayer,
    Tensor,
    Unsupported,
    _propagates,
)
from glassbox.models.layers import LAYERS, Alias, check_size, padding4, pair, resolve_reshape
from glassbox.models.sequence_builder import SequenceBuilder
from glassbox.models.shapes import output_shape, same_padding
from glassbox.models.spec import LayerSpec, NetworkSpec

Shape = tuple[int, ...]
Value = Any  # a Tensor, a NumPy array or a Python number (constants)

#: Near misses: what to use instead of a layer glassbox has no native form of (matched on the
#: lower-case op name without digits and underscores).
ALTERNATIVES: dict[str, str] = {
    "prelu": "LeakyReLU (a fixed slope)",
    "rrelu": "LeakyReLU (a fixed slope)",
    "convd": "Conv2d, or Conv1d over (C, L) samples",
    "convtranspose": "no native form yet; glassbox.wrap(...) for model-agnostic methods",
    "maxpoold": "MaxPool2d or MaxPool1d",
    "avgpoold": "AvgPool2d or AvgPool1d",
    "averagepoolingd": "AveragePooling2D",
    "maxpoolingd": "MaxPooling2D",
    "layernormalization": "LayerNorm (torch, ONNX); Keras' LayerNormalization is planned",
    "groupnorm": "no native form yet; BatchNorm uses fixed statistics",
    "instancenorm": "no native form yet; BatchNorm uses fixed statistics",
    "embedding": "Embedding (torch, ONNX Gather); Keras' Embedding is planned",
    "rnn": "LSTM or GRU (the plain RNN cell has no native form yet)",
    "multiheadattention": "nn.MultiheadAttention (torch), MultiHeadAttention (Keras)",
    "upsample": "no native form yet; glassbox.wrap(...) for model-agnostic methods",
    "zeropaddingd": "padding= of the next convolution",
    "pad": "padding= of the next convolution",
    "multiply": "x * y (torch), Multiply (Keras)",
    "matmul": "Linear / Dense (a matrix product with a constant weight)",
    "getitem": "no slicing of computed tensors; select outputs after the model",
}


#: The largest channels-last output ``finish`` reorders (a dense permutation: 2^26 floats).
_MAX_REORDERED_OUTPUT = 1 << 13


class GraphBuilder(SequenceBuilder):
    """Builds a ``NetworkSpec`` one framework op at a time (see the module docstring; the
    methods for sequence models are in ``models/sequence_builder.py``).

    Parameters
    ----------
    input_shape : tuple of int
        The model input's per-sample shape in the framework's layout.
    adapter : str
        The adapter's name for messages ("from_torch").
    supported : sequence of str
        What the adapter supports, listed in the error for unsupported layers.
    channels_last : bool
        The framework's images are (H, W, C) (Keras): the native network takes (C, H, W).
    fixed_batch : int, optional
        A batch size the framework graph was exported with; reshapes may name it for the batch.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        adapter: str,
        supported: Sequence[str] = (),
        channels_last: bool = False,
        fixed_batch: int | None = None,
        help: str = "Use glassbox.wrap(...) for model-agnostic methods on other models.",
    ) -> None:
        shape = check_size(input_shape, "input_shape")
        channels_last_images, channels_last = channels_last, channels_last and len(shape) == 3
        # the network takes the framework's samples; channels-last images are permuted to
        # (C, H, W) by its first layer
        self.spec = NetworkSpec(input_shape=shape)
        self.input = Tensor(-1, shape)
        self.channels_last = channels_last_images
        self.adapter = adapter
        self.supported = tuple(supported)
        self.fixed_batch = fixed_batch
        self.help = help
        self.failures: list[tuple[str, str, str, str | None]] = []
        self.needs_image = False  # an image layer read a non-image tensor
        self.names: set[str] = set()
        if channels_last:
            self.input = self.layer(
                "permute",
                "input/channels_first",
                [self.input],
                {"perm": (2, 0, 1)},
                channels_last=True,
            )

    # -- names and errors ---------------------------------------------------------------------
    def unique(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``, ... if a layer already has it."""
        candidate, k = name, 0
        while candidate in self.names:
            k += 1
            candidate = f"{name}_{k}"
        self.names.add(candidate)
        return candidate

    def unsupported(
        self, name: str, what: str, reason: str = "", alternative: str | None = None
    ) -> Tensor:
        """Record that layer ``name`` (``what``: its type as the framework says it) cannot be
        translated, and return the placeholder its outputs take. An op type with no translation
        (no ``reason``) gets the nearest supported alternative."""
        if alternative is None and not reason:
            alternative = self.nearest(what)
        self.failures.append((name, what, reason, alternative))
        return UNKNOWN

    def apply(
        self,
        name: str,
        what: str,
        handler: Callable[..., Any] | None,
        inputs: list[Any],
        *args: Any,
    ) -> Any:
        """One framework op: a report when no ``handler`` translates its type (whatever its
        inputs), the placeholder when an input is one (its cause is reported already), else
        ``handler(*args)``."""
        if handler is None:
            return self.unsupported(name, what)
        if any(isinstance(v, Tensor) and not v.known for v in inputs):
            return UNKNOWN
        return self.translate(name, what, handler, *args)

    def translate(self, name: str, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, or the placeholder after recording ``Unsupported`` raised by it."""
        try:
            return fn(*args)
        except Unsupported as error:
            if error.reported:
                return UNKNOWN
            return self.unsupported(name, what, error.reason, error.alternative)
        except InvalidLayer as error:
            if error.named:
                raise
            raise InvalidLayer(f"layer {name!r} ({what}): {error}", named=True) from None

    def nearest(self, what: str) -> str | None:
        """The nearest supported alternative to a layer type (curated, else by name)."""
        key = re.sub(r"[^a-z]", "", what.split()[-1].lower().lstrip("."))
        if key in ALTERNATIVES:
            return ALTERNATIVES[key]
        names = {re.sub(r"[^a-z]", "", s.split()[0].lower()): s for s in self.supported}
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
        return names[close[0]] if close else None

    def error(self) -> UnsupportedLayerError:
        """One error naming every unsupported layer (call when ``failures`` is not empty)."""
        lines = []
        for name, what, reason, alternative in self.failures:
            line = f"layer {name!r} ({what}) is not supported by {self.adapter}"
            line += f" ({reason})" if reason else ""
            line += f"; nearest supported: {alternative}" if alternative else ""
            lines.append(line)
        head = (
            lines[0] + "."
            if len(lines) == 1
            else f"{len(lines)} layers are not supported by {self.adapter}:\n  - "
            + ".\n  - ".join(lines)
            + "."
        )
        supported = f" Supported: {', '.join(self.supported)}." if self.supported else ""
        error = UnsupportedLayerError(f"{head}{supported} {self.help}")
        error.needs_image = self.needs_image  # type: ignore[attr-defined]
        return error

    def finish(self, out: Tensor, name: str = "output") -> NetworkSpec:
        """The spec computing ``out``; raises ``UnsupportedLayerError`` naming every layer that
        could not be translated. Framework-ordered outputs (a channels-last image or a permuted
        vector) are flattened into the framework's order."""
        self._no_pending_pad([out])
        if self.failures:
            raise self.error()
        if out.channels_last:  # back to (H, W, C), then flat in that order
            out = self.layer(
                "permute", f"{name}/channels_last", [out], {"perm": (1, 2, 0)}, channels_last=False
            )
            out = self.layer("flatten", f"{name}/flatten", [out])
        if out.perm is not None and len(out.shape or ()) == 1:
            size = int(out.shape[0])  # type: ignore[index]
            if size > _MAX_REORDERED_OUTPUT:  # the reordering is a size x size matrix
                raise UnsupportedLayerError(
                    f"model: its output {name!r} has {size} features in channels-last order; "
                    f"glassbox reorders at most {_MAX_REORDERED_OUTPUT} (end the model with a "
                    "flatten in channels-first order, or a smaller output)"
                )
            weight = np.zeros((size, size), np.float32)
            weight[np.arange(size), out.perm] = 1.0
            out = self.layer("dense", f"{name}/channels_last", [out], weight=weight, bias=None)
        if out.index == -1 or out.index != len(self.spec.layers) - 1:
            self.layer("identity", name, [out])
        return self.spec

    # -- generic layers -----------------------------------------------------------------------
    def layer(
        self,
        kind: str,
        name: str,
        inputs: list[Tensor],
        params: dict[str, Any] | None = None,
        *,
        channels_last: bool | None = None,
        perm: np.ndarray | None = None,
        **weights: np.ndarray | None,
    ) -> Tensor:
        """Append a layer of ``kind`` reading ``inputs`` and return its output, whose shape
        comes from the layer table. An image output stays channels-last if the first input was
        (unless ``channels_last`` says otherwise); ``perm`` is the output vector's order."""
        first = inputs[0]
        if kind != "conv2d" and not self._no_pending_pad(inputs):
            raise Unsupported(reported=True)
        params = LAYERS[kind].complete(params, strict=True)
        for key, value in weights.items():
            if value is not None and not np.all(np.isfinite(np.asarray(value, np.float32))):
                raise InvalidLayer(
                    f"{kind}: weight {key!r} holds NaN or infinite values (in float32)"
                )
        layer = LayerSpec(kind, "", [t.index for t in inputs], params, dict(weights))
        try:
            shape = output_shape(layer, [t.shape for t in inputs])  # type: ignore[misc]
        except (ValueError, IndexError, KeyError, TypeError) as error:
            raise Unsupported(f"{kind} on samples of shape {first.shape}: {error}") from None
        if any(d < 1 for d in shape):
            raise Unsupported(f"the input {first.framework_shape} is smaller than the window")
        self.spec.add(kind, self.unique(name), inputs=layer.inputs, params=params, **weights)
        if channels_last is None:
            channels_last = first.channels_last and len(shape) == 3
        return Tensor(len(self.spec.layers) - 1, shape, channels_last, perm)

    def _no_pending_pad(self, inputs: list[Tensor]) -> bool:
        """Report the padding layers of ``inputs`` that no convolution absorbs."""
        for x in inputs:
            if x.pad is not None:
                name, what = x.pad_layer
                reason = "a zero padding is supported only where a convolution reads it"
                self.unsupported(name, what, reason, "padding= of the next convolution")
        return all(x.pad is None for x in inputs)

    @_propagates
    def pad(self, name: str, x: Tensor, pads: Any, what: str = "Pad") -> Tensor:
        """A zero padding of an image's (top, left, bottom, right) edges, which the convolution
        reading it absorbs into its own padding (no layer of its own)."""
        self._image(x)
        extra = self._pads(pads, (0, 0), (1, 1), (1, 1), (1, 1))
        total = tuple(a + b for a, b in zip(extra, x.pad or (0, 0, 0, 0), strict=True))
        return Tensor(x.index, x.shape, x.channels_last, x.perm, total, (name, what))  # type: ignore[arg-type]

    @_propagates
    def identity(self, name: str, x: Tensor, kind: str = "identity") -> Tensor:
        """An identity (or ``dropout``, the identity at inference) layer."""
        return self.layer(kind, name, [x], perm=x.perm)

    @_propagates
    def activation(
        self,
        name: str,
        kind: str,
        x: Tensor,
        params: dict[str, Any] | None = None,
        axis: Any = None,
        axis_name: str = "axis",
    ) -> Tensor:
        """An activation of the layer table; softmax / log-softmax need ``axis`` (called
        ``axis_name`` by the framework) to be the feature axis of vector samples (framework axis,
        batch first; None is the last)."""
        params = dict(params or {})
        for key, value in params.items():
            default = LAYERS[kind].params.get(key)
            if isinstance(default, str):
                continue
            if value is None and kind == "clamp":  # torch.clamp(x, max=6): no lower bound
                params[key] = default
            elif isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)
            ):
                raise Unsupported(f"{key}={value!r} is not a constant number")
            else:
                params[key] = float(value)
        if kind == "gelu" and params.get("approximate", "none") not in ("none", "tanh"):
            raise Unsupported(f"approximate={params['approximate']!r}")
        if kind == "clamp" and params.get("min", -np.inf) > params.get("max", np.inf):
            raise Unsupported(f"min={params['min']} is above max={params['max']}")
        if LAYERS[kind].deeplift == "softmax" or kind == "log_softmax":
            shape = x.framework_shape
            if isinstance(axis, (list, tuple)) and len(axis) == 1:
                axis = axis[0]
            last = axis in (None, -1, len(shape)) and not x.channels_last and x.perm is None
            if not last and not (len(shape) == 1 and axis == 1):
                raise Unsupported(
                    f"{kind} over {axis_name}={axis} of samples of shape {shape}; only the "
                    f"last axis ({axis_name}=-1) is supported"
                )
        return self.layer(kind, name, [x], params, perm=x.perm)

    def aliased(
        self, name: str, alias: Alias, x: Tensor, read: Callable[[int, str], Any]
    ) -> Tensor:
        """The activation a framework ``alias`` of the layer table names; ``read(i, argument)``
        gives the framework's ``i``-th argument (its attribute, keyword, ONNX attribute) or None
        when the call does not set it."""
        params = dict(alias.defaults)
        for i, (argument, param) in enumerate(alias.args):
            value = read(i, argument)
            if value is not None:
                params[param] = value
        axis = params.pop("axis", None)
        axis_name = next((a for a, p in alias.args if p == "axis"), "axis")
        return self.activation(name, alias.kind, x, params, axis=axis, axis_name=axis_name)

    # -- affine layers ------------------------------------------------------------------------
    @_propagates
    def dense(self, name: str, x: Tensor, weight: np.ndarray, bias: np.ndarray | None) -> Tensor:
        """``weight @ x + bias`` with ``weight`` (out, in) over the framework's feature order."""
        weight = np.asarray(weight, np.float32)
        sequence = len(x.shape) > 1 and not x.channels_last and x.perm is None  # type: ignore[arg-type]
        if (
            weight.ndim != 2
            or (len(x.shape) != 1 and not sequence)
            or x.shape[-1] != weight.shape[1]
        ):  # type: ignore[arg-type, index]
            raise Unsupported(
                f"it maps {weight.shape[-1]} features but receives samples of shape "
                f"{x.framework_shape}; flatten multi-dimensional samples first"
            )
        if bias is not None and np.shape(bias) != (weight.shape[0],):
            raise Unsupported(f"bias of shape {np.shape(bias)} for {weight.shape[0]} outputs")
        if x.perm is not None:  # framework feature j is native feature perm[j]
            native = np.empty_like(weight)
            native[:, x.perm] = weight
            weight = native
        return self.layer("dense", name, [x], weight=weight, bias=bias)

    def _image(self, x: Tensor) -> Shape:
        if len(x.shape) != 3:  # type: ignore[arg-type]
            self.needs_image = True  # the input shape the adapter guessed is wrong
            raise Unsupported(
                f"it needs (C, H, W) samples but receives samples of shape {x.framework_shape}; "
                "pass input_shape=(C, H, W)"
            )
        return x.shape  # type: ignore[return-value]

    def _pads(
        self, padding: Any, hw: tuple[int, int], kernel: Shape, stride: Shape, dilation: Shape
    ) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) from ints, pairs, four values or "valid" / "same" /
        "same_upper" / "same_lower" (TensorFlow's and ONNX's; torch's "same" is the same)."""
        if isinstance(padding, bytes):
            padding = padding.decode()
        if isinstance(padding, str):
            mode = padding.lower()
            if mode in ("valid", "notset"):
                return (0, 0, 0, 0)
            if mode not in ("same", "same_upper", "same_lower"):
                raise Unsupported(f"padding={padding!r}")
            upper = mode != "same_lower"
            if min(*kernel, *stride, *dilation) < 1:
                raise Unsupported(
                    f"kernel {tuple(kernel)}, stride {stride} and dilation {dilation} must be "
                    "positive"
                )
            top, bottom = same_padding(hw[0], kernel[0], stride[0], dilation[0], upper)
            left, right = same_padding(hw[1], kernel[1], stride[1], dilation[1], upper)
            return (top, left, bottom, right)
        try:
            pads = padding4(padding)
        except (TypeError, ValueError):
            raise Unsupported(f"padding={padding!r}") from None
        if min(pads) < 0:
            raise Unsupported(f"negative padding {padding!r}")
        return pads

    @_propagates
    def conv2d(
        self,
        name: str,
        x: Tensor,
        weight: np.ndarray,
        bias: np.ndarray | None,
        *,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
    ) -> Tensor:
        """A 2-D convolution; ``weight`` is (Cout, Cin / groups, kh, kw)."""
        c, h, w = self._image(x)
        weight = np.asarray(weight, np.float32)
        if weight.ndim != 4 or weight.shape[1] * int(groups) != c:
            raise Unsupported(
                f"a weight of shape {weight.shape} with groups={groups} does not take {c} channels"
            )
        if bias is not None and np.shape(bias) != (weight.shape[0],):
            raise Unsupported(f"bias of shape {np.shape(bias)} for {weight.shape[0]} channels")
        stride, dilation = _ints2(stride, "stride"), _ints2(dilation, "dilation")
        extra = x.pad or (0, 0, 0, 0)  # a zero padding read by this convolution
        size = (h + extra[0] + extra[2], w + extra[1] + extra[3])
        pads = self._pads(padding, size, weight.shape[2:], stride, dilation)
        pads = tuple(a + b for a, b in zip(pads, extra, strict=True))  # type: ignore[assignment]
        params = {"stride": stride, "padding": pads, "dilation": dilation, "groups": int(groups)}
        return self.layer("conv2d", name, [x], params, weight=weight, bias=bias)

    # -- pooling ------------------------------------------------------------------------------
    @_propagates
    def pool2d(
        self,
        name: str,
        kind: str,
        x: Tensor,
        kernel: Any,
        *,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> Tensor:
        """``max_pool2d`` or ``avg_pool2d``; ``stride`` None (or empty) is the kernel."""
        _, h, w = self._image(x)
        kernel = _ints2(kernel, "kernel")
        stride = kernel if stride is None or stride in ((), []) else _ints2(stride, "stride")
        dilation = _ints2(dilation, "dilation")
        params: dict[str, Any] = {
            "kernel": kernel,
            "stride": stride,
            "padding": self._pads(padding, (h, w), kernel, stride, dilation),
            "ceil_mode": bool(ceil_mode),
        }
        if kind == "max_pool2d":
            params["dilation"] = dilation
        elif dilation != (1, 1):
            raise Unsupported(f"dilation={dilation} for average pooling")
        else:
            params["count_include_pad"] = bool(count_include_pad)
        return self.layer(kind, name, [x], params)

    @_propagates
    def adaptive_pool2d(self, name: str, kind: str, x: Tensor, output_size: Any) -> Tensor:
        """torch's adaptive pooling to ``output_size`` (an int, a pair, None keeps an axis):
        any size for averages; for maxima, sizes dividing the input (fixed windows)."""
        _, h, w = self._image(x)
        size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        try:
            oh, ow = (
                h if size[0] is None else int(size[0]),
                w if size[1] is None else int(size[1]),
            )
        except (TypeError, ValueError, IndexError):
            raise Unsupported(f"output_size={output_size!r}") from None
        if kind == "avg":
            return self.layer("adaptive_avg_pool2d", name, [x], {"output_size": (oh, ow)})
        if oh < 1 or ow < 1 or h % oh or w % ow:
            raise Unsupported(f"adaptive max pooling of {h}x{w} to {oh}x{ow} (not a divisor)")
        return self.pool2d(name, "max_pool2d", x, (h // oh, w // ow))

    @_propagates
    def global_pool(self, name: str, kind: str, x: Tensor, keepdims: bool = False) -> Tensor:
        """Global ``"avg"`` or ``"max"`` pooling of an image, then a flatten unless ``keepdims``."""
        out = self.adaptive_pool2d(name, kind, x, 1)
        if keepdims:
            return out
        return self.layer("flatten", f"{self.spec.layers[out.index].name}/flatten", [out])

    @_propagates
    def mean(self, name: str, x: Tensor, axes: Any, keepdims: bool = False) -> Tensor:
        """The mean over framework ``axes`` (batch first; the batch cannot be reduced). Both
        spatial axes of an image are global average pooling; others a ``reduce_mean`` layer."""
        axes = list(axes) if isinstance(axes, (tuple, list)) else [axes]
        rank = len(x.shape) + 1  # type: ignore[arg-type]
        if not axes or not all(
            isinstance(a, (int, np.integer)) and -rank <= a < rank for a in axes
        ):
            raise Unsupported(f"axes={axes} on samples of shape {x.framework_shape}")
        framework = sorted({int(a) % rank for a in axes})
        if 0 in framework or len(framework) != len(axes):
            raise Unsupported(f"axes={axes}; the batch axis cannot be reduced")
        native = sorted(self._native_axis(x, a) for a in framework)
        if rank == 4 and native == [1, 2]:
            return self.global_pool(name, "avg", x, keepdims=bool(keepdims))
        if x.perm is not None:
            raise Unsupported("a mean over a vector flattened from channels-last images")
        params = {"axes": tuple(native), "keepdims": bool(keepdims)}
        return self.layer("reduce_mean", name, [x], params)

    def _native_axis(self, x: Tensor, axis: int) -> int:
        """The native per-sample axis of framework axis ``axis`` (batch first, non-negative)."""
        return {1: 1, 2: 2, 3: 0}[axis] if x.channels_last else axis - 1

    # -- normalisation and constant arithmetic ------------------------------------------------
    @_propagates
    def batch_norm(
        self,
        name: str,
        x: Tensor,
        mean: Any,
        var: Any,
        gamma: Any,
        beta: Any,
        eps: float,
        axis: int = 1,
    ) -> Tensor:
        """Inference batch norm over framework ``axis`` (the channels of images or the features
        of vectors): ``(x - mean) / sqrt(var + eps) * gamma + beta``; gamma / beta None = 1 / 0."""
        rank = len(x.shape) + 1  # type: ignore[arg-type]
        if rank not in (2, 4) or int(axis) % rank != (rank - 1 if x.channels_last else 1):
            raise Unsupported(
                f"axis={axis} on samples of shape {x.framework_shape}; only the channel axis of "
                "images or the feature axis of vectors is supported"
            )
        mean = np.asarray(mean, np.float64).ravel()
        var = np.asarray(var, np.float64).ravel()
        gamma = np.ones_like(mean) if gamma is None else np.asarray(gamma, np.float64).ravel()
        beta = np.zeros_like(mean) if beta is None else np.asarray(beta, np.float64).ravel()
        if any(v.shape != (x.shape[0],) for v in (mean, var, gamma, beta)):  # type: ignore[index]
            raise Unsupported(
                f"statistics of shape {mean.shape} for samples of shape {x.framework_shape}"
            )
        for label, values in (("mean", mean), ("variance", var), ("scale", gamma), ("bias", beta)):
            if not np.all(np.isfinite(values)):
                raise InvalidLayer(f"batch norm: the {label} holds NaN or infinite values")
        if np.any(var < 0) or not var.min() + float(eps) > 0:
            channel = int(np.argmin(var))
            raise InvalidLayer(
                f"batch norm: the running variance must be >= 0 with variance + eps > 0; "
                f"channel {channel} has variance {var[channel]:g} (eps={float(eps):g})"
            )
        scale = gamma / np.sqrt(var + float(eps))
        shift = beta - mean * scale
        if x.perm is not None:  # per framework feature -> per native feature
            scale, shift = _permuted(scale, x.perm), _permuted(shift, x.perm)
        return self.layer("batch_norm", name, [x], perm=x.perm, scale=scale, shift=shift)

    @_propagates
    def scale_shift(self, name: str, x: Tensor, scale: Any = 1.0, shift: Any = 0.0) -> Tensor:
        """``x * scale + shift`` with constants that broadcast to the framework's sample shape
        (with or without the batch axis). Scalars and one value per channel make a
        ``batch_norm`` layer (a per-channel affine map, as an inference batch norm); constants
        that vary within a channel make a ``scale_shift`` layer."""
        channels = x.shape[0]  # type: ignore[index]
        size = int(np.prod(x.shape))  # type: ignore[arg-type]
        values = [self._native_constant(x, v) for v in (scale, shift)]
        if all(v.size in (1, channels) for v in values):
            scale, shift = (np.broadcast_to(v, (channels,)) for v in values)
            return self.layer("batch_norm", name, [x], perm=x.perm, scale=scale, shift=shift)
        scale, shift = (
            np.repeat(v, size // channels) if v.size == channels else np.broadcast_to(v, (size,))
            for v in values
        )
        return self.layer("scale_shift", name, [x], perm=x.perm, scale=scale, shift=shift)

    def _native_constant(self, x: Tensor, value: Any) -> np.ndarray:
        """A constant broadcast to ``x``'s framework shape, reduced to 1 value, one per channel
        (native axis 0) or one per element, in native order (float64, flat)."""
        shape = x.framework_shape
        array = np.asarray(value, np.float64)
        if array.ndim > len(shape) + 1 or (array.ndim == len(shape) + 1 and array.shape[0] != 1):
            raise Unsupported(f"a constant of shape {array.shape} changes the batch or the rank")
        try:
            full = np.broadcast_to(
                array.reshape(array.shape[-len(shape) :] if array.ndim else ()), shape
            )
        except ValueError:
            raise Unsupported(
                f"a constant of shape {array.shape} does not broadcast to samples of shape {shape}"
            ) from None
        if x.channels_last:
            full = full.transpose(2, 0, 1)
        elif x.perm is not None:
            full = _permuted(full, x.perm)
        flat = full.reshape(x.shape[0], -1)  # type: ignore[index]
        if np.all(flat == flat.flat[0]):
            return np.array([flat.flat[0]])
        if np.all(flat == flat[:, :1]):
            return np.ascontiguousarray(flat[:, 0])
        return np.ascontiguousarray(flat.ravel())

    def arithmetic(self, name: str, op: str, a: Value, b: Value) -> Value:
        """``a op b`` for op in add, sub, mul, div: folded when both are constants, a constant
        scale and shift (:meth:`scale_shift`) for a tensor and a constant, an ``add`` (sub: add of
        the negated second tensor) for two tensors."""
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return _fold(op, a, b)
        if any(isinstance(v, Tensor) and not v.known for v in (a, b)):
            return UNKNOWN
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            if op == "add" and a.shape == b.shape:
                return self.add(name, [a, b])
            return self.broadcast_binary(name, op, a, b)
        x, c = (a, b) if isinstance(a, Tensor) else (b, a)
        c = np.asarray(c, np.float64)
        try:
            return self._constant_arithmetic(name, op, a, b, x, c)
        except Unsupported:
            # a constant that adds axes or does not fit a scale and shift (a mask pattern
            # (1, 1, T, 1) against (1, 1, T)): a constant layer and the broadcast layer
            if c.ndim > len(x.shape) + 1 or (c.ndim == len(x.shape) + 1 and c.shape[0] != 1):  # type: ignore[arg-type]
                raise
            constant = self.constant(f"{name}/constant", c[0] if c.ndim == len(x.shape) + 1 else c)  # type: ignore[arg-type]
            pair = (x, constant) if x is a else (constant, x)
            return self.broadcast_binary(name, op, *pair)

    def _constant_arithmetic(
        self, name: str, op: str, a: Value, b: Value, x: Tensor, c: np.ndarray
    ) -> Value:
        """A tensor (op) a constant as one scale-and-shift layer, if it is one."""
        if op == "add":
            return self.scale_shift(name, x, 1.0, c)
        if op == "sub":
            return (
                self.scale_shift(name, x, 1.0, -c) if x is a else self.scale_shift(name, x, -1.0, c)
            )
        if op == "mul":
            return self.scale_shift(name, x, c, 0.0)
        if op == "div" and x is a:
            if np.any(c == 0):
                raise Unsupported("division by a constant that holds zeros")
            return self.scale_shift(name, x, 1.0 / c, 0.0)
        raise Unsupported("a constant divided by a computed tensor")

    # -- graph layers -------------------------------------------------------------------------
    def _same_layout(self, xs: list[Tensor]) -> None:
        first = xs[0]
        for other in xs[1:]:
            same_perm = (first.perm is None and other.perm is None) or (
                first.perm is not None
                and other.perm is not None
                and np.array_equal(first.perm, other.perm)
            )
            if other.channels_last != first.channels_last or not same_perm:
                raise Unsupported("its inputs have different memory layouts")

    @_propagates
    def add(self, name: str, xs: list[Tensor]) -> Tensor:
        """The sum of tensors of equal shape (residual adds); broadcasting is not native."""
        shapes = {x.shape for x in xs}
        if len(shapes) != 1:
            raise Unsupported(f"it adds shapes {sorted(shapes)}; broadcasting is not supported")  # type: ignore[type-var]
        self._same_layout(xs)
        return self.layer("add", name, xs, perm=xs[0].perm)

    @_propagates
    def concat(self, name: str, xs: list[Tensor], axis: int) -> Tensor:
        """Tensors joined along framework ``axis`` (batch first; the batch cannot be joined)."""
        self._same_layout(xs)
        first = xs[0]
        rank = len(first.shape) + 1  # type: ignore[arg-type]
        if (
            isinstance(axis, bool)
            or not isinstance(axis, (int, np.integer))
            or not -rank <= axis < rank
            or axis % rank == 0
            or first.perm is not None
        ):
            raise Unsupported(f"axis={axis}; the batch axis cannot be joined")
        native = self._native_axis(first, int(axis) % rank)
        shapes = [x.shape for x in xs]
        if any(
            len(s) != rank - 1
            or s[:native] + s[native + 1 :] != shapes[0][:native] + shapes[0][native + 1 :]  # type: ignore[index, operator, arg-type]
            for s in shapes
        ):
            raise Unsupported(f"shapes {[x.framework_shape for x in xs]} differ off axis {axis}")
        if len(xs) == 1:
            return first
        return self.layer("concat", name, xs, {"axis": native})

    # -- shape layers -------------------------------------------------------------------------
    @_propagates
    def flatten(
        self,
        name: str,
        x: Tensor,
        start: int = 1,
        end: int = -1,
        *,
        order: Sequence[int] | None = None,
    ) -> Tensor:
        """torch's ``flatten(start, end)`` in framework axes (batch first, which must stay).
        ``order``: a whole sample is read in this order of its per-sample framework axes (a
        transpose before the flatten, as Keras' ``Flatten(data_format="channels_first")``)."""
        rank = len(x.shape) + 1  # type: ignore[arg-type]
        ok = all(isinstance(v, (int, np.integer)) and -rank <= v < rank for v in (start, end))
        first, last = (int(start) % rank, int(end) % rank) if ok else (0, 0)
        if not ok or first == 0 or last < first:
            raise Unsupported(
                f"flatten(start_dim={start}, end_dim={end}); the batch axis must stay (start >= 1)"
            )
        shape = x.framework_shape
        if order is not None and sorted(order) != list(range(rank - 1)):
            raise Unsupported(f"order={tuple(order)} is not an order of the axes of {shape}")
        if first == 1 and last == rank - 1:  # a whole sample: keep the framework's order
            size = int(np.prod(shape, dtype=np.int64))
            index = np.arange(size).reshape(x.shape) if x.perm is None else x.perm
            index = index.transpose(1, 2, 0) if x.channels_last else index  # framework's view
            perm = index.transpose(order).ravel() if order is not None else index.ravel()
            perm = None if np.array_equal(perm, np.arange(size)) else perm
            return self.layer("flatten", name, [x], channels_last=False, perm=perm)
        if order is not None and list(order) != sorted(order):
            raise Unsupported(f"order={tuple(order)} for a flatten of part of a sample")
        merged = int(np.prod(shape[first - 1 : last], dtype=np.int64))
        return self.reshape(name, x, [BATCH, *shape[: first - 1], merged, *shape[last:]])

    @_propagates
    def reshape(self, name: str, x: Tensor, dims: Sequence[Any]) -> Tensor:
        """A reshape to framework ``dims`` that keep the batch first: ``dims[0]`` is
        :data:`BATCH`, 0 (ONNX: copy), the graph's fixed batch size, or -1 with a fixed rest."""
        dims = [int(d) if isinstance(d, (int, np.integer)) else d for d in dims]
        shape = x.framework_shape
        size = int(np.prod(shape, dtype=np.int64))
        rest = dims[1:]
        ok = bool(dims) and bool(rest) and all(isinstance(d, int) and d != BATCH for d in rest)
        head = dims[0] if dims else None
        ok = ok and (
            head in (BATCH, 0)
            or (self.fixed_batch is not None and head == self.fixed_batch)
            or (head == -1 and -1 not in rest)
        )
        if ok:
            rest = [shape[i] if d == 0 and i < len(shape) else d for i, d in enumerate(rest)]
            try:
                target = resolve_reshape(rest, size)
            except ValueError:
                ok = False
        if not ok:
            raise Unsupported(
                f"samples of shape {shape} can only be reshaped to a fixed per-sample shape with "
                "the batch axis first, e.g. x.view(x.size(0), -1) or x.reshape(-1, 16, 4, 4)"
            )
        if len(target) == 1:
            return self.flatten(name, x)
        transpose = Unsupported(
            f"reshaping {shape} to {target} would need a transpose in the channels-first native "
            "layout; only reshapes to vectors and from vectors to (1, 1, C) or (H, W, 1) are "
            "supported"
        )
        if x.channels_last or x.perm is not None:
            if target != shape:
                raise transpose
            return x
        if self.channels_last and len(target) == 3:  # a framework image (H, W, C)
            h, w, c = target
            if c != 1 and h * w != 1:
                raise transpose
            return self.layer("reshape", name, [x], {"shape": (c, h, w)}, channels_last=True)
        return self.layer("reshape", name, [x], {"shape": tuple(target)}, channels_last=False)

    def shape_of(self, x: Tensor) -> np.ndarray | None:
        """``x``'s framework shape with the batch first as :data:`BATCH` (None if unknown)."""
        if not x.known:
            return None
        return np.array([BATCH, *x.framework_shape], dtype=np.int64)


def sample_shape(
    dims: Sequence[Any], n_inputs: int, n_outputs: int, what: str, label: str | None = None
) -> Shape:
    """The per-sample shape of a graph's one input from its dims (batch first; unknown extents
    None or <= 0); ``UnsupportedLayerError`` for several inputs or outputs, ``ValueError`` naming
    the input (``label``, default "the input of ``what``") for unknown, absurd or too large
    extents.

    >>> sample_shape([None, 3, 28, 28], 1, 1, "this model")
    (3, 28, 28)
    """
    if n_inputs != 1 or n_outputs != 1:
        raise UnsupportedLayerError(
            f"model: {what} has {n_inputs} inputs and {n_outputs} outputs; glassbox translates "
            "models with one input and one output"
        )
    sample, label = list(dims[1:]), label or f"the input of {what}"
    if not sample or any(d is None or int(d) <= 0 for d in sample):
        raise ValueError(
            f"model: {label} must have shape (batch, *sample_shape) with a fixed sample shape; "
            f"got {list(dims)}"
        )
    return check_size(sample, f"model: {label}")


def _ints2(value: Any, name: str) -> tuple[int, int]:
    try:
        if isinstance(value, bool) or (
            isinstance(value, (tuple, list)) and any(isinstance(v, bool) for v in value)
        ):
            raise TypeError
        return pair(value)
    except (TypeError, ValueError):
        raise Unsupported(f"{name}={value!r} must be constant ints") from None


def _permuted(values: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Values per framework feature reordered per native feature (feature j -> perm[j])."""
    out = np.empty_like(values)
    out[perm] = values
    return out


def _fold(op: str, a: Any, b: Any) -> Any:
    """Constant folding of ``a op b`` (shape arithmetic keeps ints)."""
    a, b = np.asarray(a), np.asarray(b)
    if op == "div":
        both_int = np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer)
        return a // b if both_int else a / b
    return {"add": np.add, "sub": np.subtract, "mul": np.multiply}[op](a, b)


__all__ = [
    "BATCH",
    "UNKNOWN",
    "GraphBuilder",
    "InvalidLayer",
    "Tensor",
    "Unsupported",
    "sample_shape",
]
