"""Translate a Keras 3 model into a native glassbox network (``glassbox.from_keras``).

Sequential and Functional models (nested ones too) with one input and one output are
supported, including residual ``Add`` and ``Concatenate`` graphs. Layers keep their Keras names.
A ``Dense`` or ``Conv2D`` layer with an activation becomes two layers: the affine layer named
``layer.name`` and the activation named ``f"{layer.name}/activation"``; with
``activation="linear"`` (the default) it is one layer. ``InputLayer`` adds no layer.
Weights are copied once; the Keras model is not modified and is evaluated as at inference
(dropout is the identity, batch normalization uses its moving statistics).

Image layout: Keras image models are channels-last by default (samples ``(H, W, C)``), the
native engine is channels-first. A channels-last model is translated so that **the native model
takes (n, C, H, W) arrays** (``X.transpose(0, 3, 1, 2)`` of what the Keras model takes) and
computes the same outputs: convolution kernels, pooling and batch-norm axes are converted to
NCHW, and ``Flatten`` keeps Keras's ``(H, W, C)`` feature order by permuting the columns of the
``Dense`` layer that reads it (explanations come back in NCHW). Channels-first models
(``data_format="channels_first"``) are translated as they are.

``AveragePooling2D(padding="same")`` averages the real pixels of each window (TensorFlow's
definition). Keras's torch backend instead pads with replicated edge pixels when the padding is
asymmetric, so there the two differ at the last row / column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glassbox.errors import UnsupportedLayerError
from glassbox.models.native import build_network
from glassbox.models.output_head import apply_output, check_output
from glassbox.models.shapes import conv_out, pool_out, resolve_reshape, same_padding
from glassbox.models.spec import NetworkSpec

if TYPE_CHECKING:
    from glassbox.models.native import NativeModel

SUPPORTED_LAYERS: tuple[str, ...] = (
    "InputLayer",
    "Dense",
    "Conv2D",
    "DepthwiseConv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "BatchNormalization",
    "Rescaling (scalar or per-channel)",
    "Add",
    "Concatenate",
    "Reshape (to vectors, or vectors to (1, 1, C) / (H, W, 1))",
    "Activation",
    "ReLU (no max_value / threshold)",
    "LeakyReLU",
    "ELU",
    "Softmax (axis -1)",
    "Flatten",
    "Dropout",
    "Identity",
    "Sequential / Functional models used as layers",
)
SUPPORTED_ACTIVATIONS: tuple[str, ...] = (
    "linear",
    "relu",
    "leaky_relu",
    "elu",
    "sigmoid",
    "tanh",
    "softplus",
    "gelu",
    "silu / swish",
    "softmax",
    "log_softmax",
)

#: Suffix of the layer a Dense layer's activation becomes.
ACTIVATION_SUFFIX = "/activation"


def from_keras(
    model: Any,
    *,
    output: str = "model",
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> NativeModel:
    """Copy a built Keras 3 model into a native glassbox network.

    Parameters
    ----------
    model : keras.Model
        A built ``keras.Sequential`` or Functional model with one input and one output whose
        layers (``SUPPORTED_LAYERS``, activations ``SUPPORTED_ACTIVATIONS``) form a chain.
    output : {"model", "logits", "probabilities"}
        ``"model"``: what the model computes; ``"logits"``: without a final softmax,
        log-softmax or sigmoid; ``"probabilities"``: class probabilities (a softmax is appended
        to logits; a single logit ``z`` becomes ``[1 - sigmoid(z), sigmoid(z)]``).
    feature_names, output_names : sequence of str, optional
        Names of the (flattened) input features and of the outputs.

    Returns
    -------
    NativeModel

    Raises
    ------
    ValueError
        If the model is not built (its input shape is unknown).
    UnsupportedLayerError
        If the model contains a layer with no native equivalent.

    Examples
    --------
    >>> import os
    >>> _ = os.environ.setdefault("KERAS_BACKEND", "torch")
    >>> import keras
    >>> net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax",
    ...                                                               name="out")])
    >>> from_keras(net).layer_names
    ['out', 'out/activation']
    """
    try:
        import keras
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("from_keras needs Keras 3 installed") from exc
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
    check_output(output)
    spec = _Translator(keras).run(model)
    spec = apply_output(spec, output, what=f"this Keras model {model.name!r}")
    return build_network(spec, feature_names=feature_names, output_names=output_names)


def _input_shape(model: Any) -> tuple[int, ...]:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not model.built or not inputs:
        raise ValueError(
            f"model: the Keras model {model.name!r} is not built, so its input shape is unknown; "
            "give it a keras.Input or call model.build((None, n_features)) first"
        )
    if len(inputs) != 1 or len(model.outputs) != 1:
        raise UnsupportedLayerError(
            f"model: {model.name!r} has {len(inputs)} inputs and {len(model.outputs)} outputs; "
            "from_keras supports models with one input and one output"
        )
    dims = tuple(inputs[0].shape)[1:]
    if not dims or any(d is None for d in dims):
        raise ValueError(
            f"model: the input of {model.name!r} must have a fixed per-sample shape, got "
            f"{tuple(inputs[0].shape)}"
        )
    return tuple(int(d) for d in dims)


@dataclass
class _Tensor:
    """A Keras tensor as the native network holds it.

    ``shape`` is the native per-sample shape. ``channels_last``: the Keras tensor is
    ``(H, W, C)`` and the native one ``(C, H, W)``. ``perm``: for a vector whose Keras feature
    ``j`` is native feature ``perm[j]`` (after flattening a channels-last map).
    """

    index: int
    shape: tuple[int, ...]
    channels_last: bool = False
    perm: np.ndarray | None = None


def _walk(keras: Any, model: Any) -> list[tuple[Any, list[Any], Any]]:
    """(layer, input tensors, output tensor) of a Functional model in topological order."""
    done: set[int] = {id(t) for t in model.inputs}
    order: list[tuple[Any, list[Any], Any]] = []
    stack: list[tuple[Any, bool]] = [(model.outputs[0], False)]
    while stack:
        tensor, expanded = stack.pop()
        if id(tensor) in done:
            continue
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        sources = list(node.input_tensors)
        if expanded or isinstance(operation, keras.layers.InputLayer):
            done.add(id(tensor))
            if not isinstance(operation, keras.layers.InputLayer):
                outputs = list(node.output_tensors)
                if len(outputs) != 1:
                    raise _unsupported(operation, f"it has {len(outputs)} outputs")
                order.append((operation, sources, tensor))
            continue
        stack.append((tensor, True))
        stack.extend((source, False) for source in reversed(sources) if id(source) not in done)
    return order


class _Translator:
    """Append the spec layers of one Keras layer (or nested model) at a time."""

    def __init__(self, keras: Any) -> None:
        self.keras = keras
        self.spec = NetworkSpec(input_shape=(1,))
        self.names: set[str] = set()

    def run(self, model: Any) -> NetworkSpec:
        shape = _input_shape(model)
        channels_last = len(shape) == 3 and self._channels_last(model)
        if channels_last:
            shape = (shape[2], shape[0], shape[1])
        self.spec.input_shape = shape
        out = self.model(model, _Tensor(-1, shape, channels_last))
        name = model.name
        if out.channels_last:
            out = self._flatten(f"{name}/flatten", out)
        if out.perm is not None:  # give the outputs Keras's order
            size = out.shape[0]
            weight = np.zeros((size, size), np.float32)
            weight[np.arange(size), out.perm] = 1.0
            out = self._add(
                f"{name}/channels_last", "dense", out, (size,), weight=weight, bias=None
            )
        if out.index == -1 or out.index != len(self.spec.layers) - 1:
            self.spec.add("identity", self._unique(name), inputs=[out.index])
        return self.spec

    def _unique(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``, ... for a shared layer called again."""
        candidate, k = name, 0
        while candidate in self.names:
            k += 1
            candidate = f"{name}_{k}"
        self.names.add(candidate)
        return candidate

    def _channels_last(self, model: Any) -> bool:
        formats = {
            getattr(layer, "data_format", None) for layer in _all_layers(self.keras, model)
        } - {None}
        if formats == {"channels_first"}:
            return False
        return formats != set() or self.keras.config.image_data_format() == "channels_last"

    def _add(
        self,
        name: str,
        kind: str,
        source: _Tensor | list[_Tensor],
        shape: tuple[int, ...] | None = None,
        params: dict[str, Any] | None = None,
        channels_last: bool | None = None,
        perm: np.ndarray | None = None,
        **weights: np.ndarray | None,
    ) -> _Tensor:
        sources = source if isinstance(source, list) else [source]
        first = sources[0]
        index = self.spec.add(
            kind, self._unique(name), inputs=[s.index for s in sources], params=params, **weights
        )
        return _Tensor(
            index,
            first.shape if shape is None else shape,
            first.channels_last if channels_last is None else channels_last,
            perm,
        )

    def _elementwise(self, kind: str, name: str, x: _Tensor, **params: Any) -> _Tensor:
        out = self._add(name, kind, x, params=params or None)
        out.perm = x.perm
        return out

    def model(self, model: Any, x: _Tensor) -> _Tensor:
        keras = self.keras
        if isinstance(model, keras.Sequential):
            for layer in model.layers:
                if not isinstance(layer, keras.layers.InputLayer):
                    x = self.layer(layer, [x])
            return x
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise _unsupported(model, "nested models must have one input and one output")
        tensors: dict[int, _Tensor] = {id(model.inputs[0]): x}
        for layer, sources, output in _walk(keras, model):
            missing = [s for s in sources if id(s) not in tensors]
            if missing:
                raise _unsupported(layer, "it reads a tensor that is not computed from the input")
            tensors[id(output)] = self.layer(layer, [tensors[id(s)] for s in sources])
        return tensors[id(model.outputs[0])]

    def layer(self, layer: Any, inputs: list[_Tensor]) -> _Tensor:
        layers = self.keras.layers
        what = type(layer).__name__
        if isinstance(layer, self.keras.Model):
            if len(inputs) != 1:
                raise _unsupported(layer, f"it reads {len(inputs)} tensors")
            return self.model(layer, inputs[0])
        if type(layer) is layers.Add:
            return self._sum(layer, inputs)
        if type(layer) is layers.Concatenate:
            return self._concat(layer, inputs)
        if len(inputs) != 1:
            raise _unsupported(layer, f"it reads {len(inputs)} tensors")
        x = inputs[0]
        if type(layer) is layers.Dense:
            return self._dense(layer, x)
        if type(layer) in (layers.Conv2D, layers.DepthwiseConv2D):
            return self._conv(layer, x)
        if type(layer) in (layers.MaxPooling2D, layers.AveragePooling2D):
            return self._pool(layer, x)
        if type(layer) in (layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D):
            return self._global_pool(layer, x)
        if type(layer) is layers.BatchNormalization:
            return self._batch_norm(layer, x)
        if type(layer) is layers.Rescaling:
            return self._rescaling(layer, x)
        if type(layer) is layers.Flatten:
            channels_first = getattr(layer, "data_format", None) == "channels_first"
            return self._flatten(layer.name, x, channels_first)
        if type(layer) is layers.Reshape:
            return self._reshape(layer, x)
        if type(layer) is layers.Activation:
            return self._activation(layer.activation, layer.name, layer, x)
        if type(layer) is layers.ReLU:
            if layer.max_value is not None or float(layer.threshold) != 0.0:
                raise _unsupported(layer, "max_value / threshold are not supported")
            slope = float(layer.negative_slope)
            if slope == 0.0:
                return self._elementwise("relu", layer.name, x)
            return self._elementwise("leaky_relu", layer.name, x, negative_slope=slope)
        if type(layer) is layers.LeakyReLU:
            return self._elementwise(
                "leaky_relu", layer.name, x, negative_slope=float(layer.negative_slope)
            )
        if type(layer) is layers.ELU:
            return self._elementwise("elu", layer.name, x, alpha=float(layer.alpha))
        if type(layer) is layers.Softmax:
            return self._softmax(layer, "softmax", layer.name, layer.axis, x)
        if type(layer) is layers.Dropout:
            return self._elementwise("dropout", layer.name, x)
        if type(layer) is layers.Identity:
            return self._elementwise("identity", layer.name, x)
        raise _unsupported(layer, f"layer type {what}")

    # -- affine layers -----------------------------------------------------------------------
    def _dense(self, layer: Any, x: _Tensor) -> _Tensor:
        if getattr(layer, "quantization_mode", None) is not None:
            raise _unsupported(layer, f"quantized ({layer.quantization_mode})")
        kernel = self._numpy(layer.kernel)
        bias = self._numpy(layer.bias) if layer.use_bias else None
        if len(x.shape) != 1 or x.shape[0] != kernel.shape[0]:
            raise _unsupported(
                layer,
                f"it maps {kernel.shape[0]} features but receives samples of shape "
                f"{self._keras_shape(x)}; flatten multi-dimensional samples first",
            )
        weight = kernel.T
        if x.perm is not None:  # Keras feature j is native feature perm[j]
            native = np.empty_like(weight)
            native[:, x.perm] = weight
            weight = native
        out = self._add(layer.name, "dense", x, (int(kernel.shape[1]),), weight=weight, bias=bias)
        return self._activation(layer.activation, layer.name + ACTIVATION_SUFFIX, layer, out)

    def _image(self, layer: Any, x: _Tensor) -> tuple[int, int, int]:
        if len(x.shape) != 3:
            raise _unsupported(
                layer, f"it needs image samples but receives samples of shape {x.shape}"
            )
        fmt = getattr(layer, "data_format", None)
        if fmt is not None and (fmt == "channels_last") != x.channels_last:
            raise _unsupported(
                layer,
                f"data_format={fmt!r} differs from the layout of its input; mixing "
                "channels_last and channels_first layers is not supported",
            )
        return x.shape  # type: ignore[return-value]

    def _padding(
        self,
        layer: Any,
        h: int,
        w: int,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> tuple[int, int, int, int]:
        padding = str(layer.padding).lower()
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            top, bottom = same_padding(h, kernel[0], strides[0], dilation[0])
            left, right = same_padding(w, kernel[1], strides[1], dilation[1])
            return (top, left, bottom, right)
        raise _unsupported(layer, f"padding={layer.padding!r}")

    def _conv(self, layer: Any, x: _Tensor) -> _Tensor:
        c, h, w = self._image(layer, x)
        kernel = self._numpy(layer.kernel)  # (kh, kw, C_in / groups, C_out) or depthwise
        kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
        if type(layer) is self.keras.layers.DepthwiseConv2D:
            # (kh, kw, C, m) -> (C * m, 1, kh, kw): output channel c * m + j
            weight = kernel.reshape(kh, kw, -1).transpose(2, 0, 1)[:, None]
            groups = c
        else:
            weight = kernel.transpose(3, 2, 0, 1)
            groups = int(getattr(layer, "groups", 1))
        if weight.shape[1] * groups != c:
            raise _unsupported(layer, f"it takes {weight.shape[1] * groups} channels, not {c}")
        strides = (int(layer.strides[0]), int(layer.strides[1]))
        dilation = (int(layer.dilation_rate[0]), int(layer.dilation_rate[1]))
        pads = self._padding(layer, h, w, (kh, kw), strides, dilation)
        shape = (
            int(weight.shape[0]),
            conv_out(h, kh, strides[0], pads[0], pads[2], dilation[0]),
            conv_out(w, kw, strides[1], pads[1], pads[3], dilation[1]),
        )
        bias = self._numpy(layer.bias) if layer.use_bias else None
        params = {"stride": strides, "padding": pads, "dilation": dilation, "groups": groups}
        out = self._add(layer.name, "conv2d", x, shape, params=params, weight=weight, bias=bias)
        return self._activation(layer.activation, layer.name + ACTIVATION_SUFFIX, layer, out)

    # -- pooling, batch norm ------------------------------------------------------------------
    def _pool(self, layer: Any, x: _Tensor) -> _Tensor:
        c, h, w = self._image(layer, x)
        kernel = (int(layer.pool_size[0]), int(layer.pool_size[1]))
        strides = (
            kernel if layer.strides is None else (int(layer.strides[0]), int(layer.strides[1]))
        )
        pads = self._padding(layer, h, w, kernel, strides, (1, 1))
        shape = (
            c,
            pool_out(h, kernel[0], strides[0], pads[0], pads[2], 1, False),
            pool_out(w, kernel[1], strides[1], pads[1], pads[3], 1, False),
        )
        params: dict[str, Any] = {
            "kernel": kernel,
            "stride": strides,
            "padding": pads,
            "ceil_mode": False,
        }
        if type(layer) is self.keras.layers.MaxPooling2D:
            kind = "max_pool2d"
            params["dilation"] = (1, 1)
        else:
            kind = "avg_pool2d"
            params["count_include_pad"] = False  # TF / Keras "same" averages real pixels only
        return self._add(layer.name, kind, x, shape, params=params)

    def _global_pool(self, layer: Any, x: _Tensor) -> _Tensor:
        c, h, w = self._image(layer, x)
        if type(layer) is self.keras.layers.GlobalAveragePooling2D:
            out = self._add(
                layer.name, "adaptive_avg_pool2d", x, (c, 1, 1), params={"output_size": (1, 1)}
            )
        else:
            params = {
                "kernel": (h, w),
                "stride": (h, w),
                "padding": (0, 0, 0, 0),
                "dilation": (1, 1),
                "ceil_mode": False,
            }
            out = self._add(layer.name, "max_pool2d", x, (c, 1, 1), params=params)
        if getattr(layer, "keepdims", False):
            return out
        return self._add(layer.name + "/flatten", "flatten", out, (c,), channels_last=False)

    def _batch_norm(self, layer: Any, x: _Tensor) -> _Tensor:
        rank = len(x.shape) + 1
        axis = layer.axis
        if isinstance(axis, (list, tuple)):
            axis = axis[0] if len(axis) == 1 else None
        channel_axis = (rank - 1) if (x.channels_last or len(x.shape) == 1) else 1
        if axis is None or int(axis) % rank != channel_axis or len(x.shape) not in (1, 3):
            raise _unsupported(
                layer,
                f"axis={layer.axis} on samples of shape {self._keras_shape(x)}; only the channel "
                "axis of images or the feature axis of vectors is supported",
            )
        mean = self._numpy(layer.moving_mean).astype(np.float64)
        var = self._numpy(layer.moving_variance).astype(np.float64)
        gamma = self._numpy(layer.gamma).astype(np.float64) if layer.scale else np.ones_like(mean)
        beta = self._numpy(layer.beta).astype(np.float64) if layer.center else np.zeros_like(mean)
        scale = gamma / np.sqrt(var + float(layer.epsilon))
        shift = beta - mean * scale
        if x.perm is not None:
            native_scale, native_shift = np.empty_like(scale), np.empty_like(shift)
            native_scale[x.perm], native_shift[x.perm] = scale, shift
            scale, shift = native_scale, native_shift
        out = self._add(layer.name, "batch_norm", x, scale=scale, shift=shift)
        out.perm = x.perm
        return out

    def _rescaling(self, layer: Any, x: _Tensor) -> _Tensor:
        """``x * scale + offset`` (scalars or one value per channel): a batch_norm layer."""
        keras_shape = self._keras_shape(x)
        native: list[np.ndarray] = []
        for value in (layer.scale, layer.offset):
            array = np.asarray(
                self._numpy(value)
                if hasattr(value, "shape") and not isinstance(value, np.ndarray)
                else value,
                np.float64,
            )
            if array.ndim > 0 and not self._image_layout_last():
                array = array.reshape(array.shape + (1,) * (3 - array.ndim))
            try:
                full = np.broadcast_to(array, keras_shape)
            except ValueError:
                raise _unsupported(layer, f"scale / offset of shape {array.shape}") from None
            if x.channels_last:
                full = full.transpose(2, 0, 1)
            elif x.perm is not None:
                flat = np.empty_like(full)
                flat[x.perm] = full
                full = flat
            per_channel = full.reshape(x.shape[0], -1)
            if not np.all(per_channel == per_channel[:, :1]):
                raise _unsupported(layer, "scale / offset must be scalars or one value per channel")
            native.append(per_channel[:, 0])
        out = self._add(layer.name, "batch_norm", x, scale=native[0], shift=native[1])
        out.perm = x.perm
        return out

    # -- graph layers ------------------------------------------------------------------------
    def _same_layout(self, layer: Any, inputs: list[_Tensor]) -> None:
        first = inputs[0]
        for other in inputs[1:]:
            same_perm = (first.perm is None and other.perm is None) or (
                first.perm is not None
                and other.perm is not None
                and np.array_equal(first.perm, other.perm)
            )
            if other.channels_last != first.channels_last or not same_perm:
                raise _unsupported(layer, "its inputs have different memory layouts")

    def _sum(self, layer: Any, inputs: list[_Tensor]) -> _Tensor:
        shapes = {t.shape for t in inputs}
        if len(shapes) != 1:
            raise _unsupported(
                layer, f"it adds shapes {sorted(shapes)}; broadcasting is not supported"
            )
        self._same_layout(layer, inputs)
        out = self._add(layer.name, "add", inputs)
        out.perm = inputs[0].perm
        return out

    def _concat(self, layer: Any, inputs: list[_Tensor]) -> _Tensor:
        self._same_layout(layer, inputs)
        first = inputs[0]
        rank = len(first.shape) + 1
        axis = int(layer.axis)
        if first.perm is not None or not -rank <= axis < rank or axis % rank == 0:
            raise _unsupported(layer, f"axis={layer.axis} on these inputs")
        axis = axis % rank - 1  # per-sample Keras axis
        if first.channels_last:
            axis = {2: 0, 0: 1, 1: 2}[axis]
        shapes = [t.shape for t in inputs]
        if any(
            s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :] for s in shapes
        ):
            raise _unsupported(layer, f"it joins samples of shapes {shapes}")
        total = sum(s[axis] for s in shapes)
        shape = (*shapes[0][:axis], total, *shapes[0][axis + 1 :])
        return self._add(layer.name, "concat", inputs, shape, params={"axis": axis})

    def _flatten(self, name: str, x: _Tensor, channels_first: bool = False) -> _Tensor:
        """Keras flattens its own axis order (``Flatten(data_format="channels_first")`` first
        moves the channel axis last); the native flatten is (C, H, W) order, so the result
        carries the permutation between the two."""
        size = int(np.prod(x.shape, dtype=np.int64))
        perm = x.perm
        rank = len(x.shape)
        if rank > 1:
            keras_axes = (1, 2, 0) if x.channels_last else tuple(range(rank))
            if channels_first:
                keras_axes = (*keras_axes[1:], keras_axes[0])
            if keras_axes != tuple(range(rank)):
                perm = np.arange(size).reshape(x.shape).transpose(keras_axes).ravel()
        return self._add(name, "flatten", x, (size,), channels_last=False, perm=perm)

    def _reshape(self, layer: Any, x: _Tensor) -> _Tensor:
        size = int(np.prod(x.shape, dtype=np.int64))
        try:
            target = resolve_reshape(tuple(layer.target_shape), size)
        except ValueError:
            raise _unsupported(layer, f"target_shape={layer.target_shape}") from None
        if len(target) == 1:
            return self._flatten(layer.name, x)
        if len(x.shape) == 1 and x.perm is None and len(target) == 3:
            channels_last = self._image_layout_last()
            h, w, c = target if channels_last else (target[1], target[2], target[0])
            if not channels_last or c == 1 or h * w == 1:
                native = (c, h, w)
                return self._add(
                    layer.name,
                    "reshape",
                    x,
                    native,
                    params={"shape": list(native)},
                    channels_last=channels_last,
                )
        raise _unsupported(
            layer,
            f"reshaping {self._keras_shape(x)} to {target} would need a transpose in the "
            "channels-first native layout; only reshapes to vectors and from vectors to "
            "(1, 1, C) or (H, W, 1) are supported",
        )

    def _image_layout_last(self) -> bool:
        return self.keras.config.image_data_format() == "channels_last"

    def _keras_shape(self, x: _Tensor) -> tuple[int, ...]:
        if x.channels_last:
            c, h, w = x.shape
            return (h, w, c)
        return x.shape

    # -- activations -------------------------------------------------------------------------
    def _numpy(self, value: Any) -> np.ndarray:
        """A float32 copy of a Keras variable or backend tensor."""
        if isinstance(value, self.keras.Variable):
            value = value.value  # the backend tensor
        if hasattr(value, "detach"):  # torch backend: np.array(tensor) warns under NumPy 2
            array = value.detach().cpu().numpy()
        else:
            array = self.keras.ops.convert_to_numpy(value)
        return np.array(array, dtype=np.float32, copy=True)

    def _activation(self, fn: Any, name: str, layer: Any, x: _Tensor) -> _Tensor:
        acts = self.keras.activations
        table = {
            "relu": "relu",
            "leaky_relu": "leaky_relu",
            "elu": "elu",
            "sigmoid": "sigmoid",
            "tanh": "tanh",
            "softplus": "softplus",
            "gelu": "gelu",
            "silu": "silu",
            "softmax": "softmax",
            "log_softmax": "log_softmax",
        }
        if fn is None or fn is acts.linear:
            if type(layer) is self.keras.layers.Activation:
                return self._elementwise("identity", name, x)
            return x
        kind = next((k for attr, k in table.items() if fn is getattr(acts, attr, None)), None)
        if kind is None:
            label = getattr(fn, "__name__", repr(fn))
            raise _unsupported(
                layer,
                f"activation {label!r}; supported activations: {', '.join(SUPPORTED_ACTIVATIONS)}",
            )
        # Keras' defaults: leaky_relu slope 0.2, elu alpha 1, gelu exact, softplus log(1+e^x).
        params: dict[str, Any] = {
            "leaky_relu": {"negative_slope": 0.2},
            "elu": {"alpha": 1.0},
            "gelu": {"approximate": "none"},
            "softplus": {"beta": 1.0, "threshold": 20.0},
        }.get(kind, {})
        if kind in ("softmax", "log_softmax"):
            return self._softmax(layer, kind, name, -1, x)
        return self._elementwise(kind, name, x, **params)

    def _softmax(self, layer: Any, kind: str, name: str, axis: Any, x: _Tensor) -> _Tensor:
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if len(x.shape) != 1 or axis not in (-1, 1):
            raise _unsupported(
                layer,
                f"{kind} over axis {axis} of samples of shape {self._keras_shape(x)}; only the "
                "feature axis of 1-D samples is supported",
            )
        return self._elementwise(kind, name, x)


def _all_layers(keras: Any, model: Any) -> list[Any]:
    found: list[Any] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(keras, layer))
        else:
            found.append(layer)
    return found


def _unsupported(layer: Any, reason: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not supported by from_keras "
        f"({reason}). Supported layers: {', '.join(SUPPORTED_LAYERS)}. Supported activations: "
        f"{', '.join(SUPPORTED_ACTIVATIONS)}. Use glassbox.wrap(model.predict, ...) for "
        "model-agnostic methods on other models."
    )
