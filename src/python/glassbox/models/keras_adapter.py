"""Translate a Keras 3 model into a native glassbox network (``glassbox.from_keras``).

Sequential and Functional models (nested too) with one output. A Functional model may have
several inputs (token ids and a padding mask): they become named network inputs, and
``predict`` takes a tuple or dict. Each Keras layer class maps, in one table, to graph-builder
calls (``models/builder.py``); a second table maps the calls that read their arguments (merges,
``MultiHeadAttention`` with its keyword masks, ``keras.ops`` functions of tensors and constants
such as a position embedding of ``ops.arange(T)``); activations come from
the layer table's Keras names (``models/layers.py``). Layers keep their Keras names (a shared
layer called again gets ``_1``, ``_2``, ...); a ``Dense`` / ``Conv2D`` with an activation is the
affine layer ``name`` then ``f"{name}/activation"``. Weights are copied once; the model is not
modified and is evaluated as at inference (dropout and noise are the identity).

Keras images are channels-last by default; the native model then takes the same
**(n, H, W, C)** arrays as the Keras model, by default and with no flag: its first layer is a
native ``permute`` to the engine's (C, H, W) layout, so every explainer takes channels-last data
and returns channels-last attributions (gradients flow back through the permute). ``Flatten``
keeps Keras' feature order (the next ``Dense`` reads the permuted features), and an image
output is permuted back to (H, W, C) before it is flattened. ``AveragePooling2D(padding=
"same")`` averages the real pixels of each window (TensorFlow's definition; Keras' torch backend
pads with edge pixels when the padding is asymmetric, so the last row / column may differ).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassbox.models.builder import BATCH, GraphBuilder, Tensor, Unsupported, sample_shape
from glassbox.models.layers import Alias, activation_aliases
from glassbox.models.native import NativeModel, build_network
from glassbox.models.output_head import apply_output, check_output
from glassbox.models.spec import NetworkSpec

#: ``(translator, layer, input) -> output``; the input is a list for merging layers.
Handler = Callable[["_Translator", Any, Any], Any]


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
        A built ``keras.Sequential`` or Functional model with one output (a Functional model
        may have several inputs), made of the layers and activations ``supported()`` lists.
        It is not modified.
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
        If the model is not built (its input shape is unknown), a layer's weights hold NaN or
        infinite values or a batch norm has a negative moving variance (the message names the
        layer), or a sample has more than ``glassbox.models.layers.MAX_ACTIVATION_SIZE``
        elements.
    UnsupportedLayerError
        If the model contains layers with no native equivalent; the message names every one.

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
    spec = _Translator(keras, model).run(model)
    spec = apply_output(spec, output, what=f"this Keras model {model.name!r}")
    return build_network(spec, feature_names=feature_names, output_names=output_names)


def _inputs(model: Any) -> list[tuple[str, tuple[int, ...], str]]:
    """``(name, per-sample shape, dtype)`` of each model input: dtype "int" for integer and
    boolean inputs (token ids, masks), else "float"."""
    inputs = model.inputs if model.built and hasattr(model, "inputs") else None
    if not inputs:
        raise ValueError(
            f"model: the Keras model {model.name!r} is not built, so its input shape is unknown; "
            "give it a keras.Input or call model.build((None, n_features)) first"
        )
    what = f"the Keras model {model.name!r}"
    result = []
    for x in inputs:
        label = f"the input {x.name!r} of {what}" if len(inputs) > 1 else None
        shape = sample_shape(tuple(x.shape), 1, len(model.outputs), what, label)
        dtype = str(getattr(x, "dtype", "float32"))
        result.append(
            (str(x.name), shape, "int" if dtype.startswith(("int", "uint", "bool")) else "float")
        )
    return result


def _channels_last(keras: Any, model: Any) -> bool:
    """The model's images are (H, W, C): its layers say so, or the Keras config does."""
    formats = {getattr(layer, "data_format", None) for layer in model._flatten_layers()} - {None}
    if formats == {"channels_first"}:
        return False
    return bool(formats) or keras.config.image_data_format() == "channels_last"


class _Translator:
    """Walk a Keras model layer by layer, one table lookup and builder call per layer."""

    def __init__(self, keras: Any, model: Any) -> None:
        self.keras = keras
        inputs = _inputs(model)
        single = len(inputs) == 1
        self.builder = GraphBuilder(
            inputs[0][1] if single else (1,),
            adapter="from_keras",
            supported=supported(),
            channels_last=single and _channels_last(keras, model),
            help="Use glassbox.wrap(model.predict, ...) for model-agnostic methods.",
        )
        # several inputs (token ids and a mask) are named inputs, side by side
        self.inputs = [self.builder.input] if single else self.builder.named_inputs(inputs)

    def run(self, model: Any) -> NetworkSpec:
        """The spec, or one error naming every unsupported layer."""
        return self.builder.finish(self.model(model, self.inputs), model.name)

    def model(self, model: Any, xs: list[Tensor]) -> Tensor:
        """A (nested) Sequential or Functional model applied to ``xs`` (one per input)."""
        if isinstance(model, self.keras.Sequential):
            x = xs[0]
            for layer in model.layers:
                x = self.layer(layer, [x])
            return x
        if len(model.inputs) != len(xs) or len(model.outputs) != 1:  # a nested model
            raise Unsupported("nested models must have one input and one output")
        values: dict[int, Any] = {id(k): x for k, x in zip(model.inputs, xs, strict=True)}
        for depth in sorted(model._nodes_by_depth, reverse=True):  # topological order
            for node in model._nodes_by_depth[depth]:
                if not node.is_input:
                    self.node(node, values)
        return values[id(model.outputs[0])]

    def node(self, node: Any, values: dict[int, Any]) -> None:
        """One call of a layer or a ``keras.ops`` function in a Functional model: its outputs
        are recorded in ``values`` (by the id of their Keras tensors)."""
        op, tables = node.operation, _tables()
        inputs = [values.get(id(x)) for x in node.input_tensors]
        call = tables.calls.get(type(op))
        is_op = not isinstance(op, self.keras.layers.Layer)
        what = f"keras.ops.{type(op).__name__}" if is_op else type(op).__name__
        if call is not None and None not in inputs:  # reads the call's arguments
            args, kwargs = (
                self.arguments(node.arguments.args, values),
                {k: self.arguments(v, values) for k, v in node.arguments.kwargs.items()},
            )
            out = self.builder.apply(op.name, what, call, inputs, self, op, args, kwargs)
        elif is_op and call is None:
            out = self.builder.unsupported(op.name, what)
        elif len(node.outputs) != 1 or None in inputs or self._constants(node):
            reason = f"it has {len(node.outputs)} outputs or reads a constant tensor"
            out = self.builder.unsupported(op.name, what, reason)
        else:
            out = self.layer(op, inputs)
        outs = out if isinstance(out, tuple) else (out,) * len(node.outputs)
        values.update(zip(map(id, node.outputs), outs, strict=True))

    def arguments(self, value: Any, values: dict[int, Any]) -> Any:
        """A call argument with Keras tensors replaced by their values and backend tensors by
        NumPy arrays (constants), in lists and tuples too."""
        if isinstance(value, self.keras.KerasTensor):
            return values.get(id(value))
        if isinstance(value, (list, tuple)):
            return type(value)(self.arguments(v, values) for v in value)
        if (
            hasattr(value, "shape")
            and hasattr(value, "dtype")
            and not isinstance(value, np.ndarray)
        ):
            if hasattr(value, "detach"):  # torch backend: np.asarray(tensor) warns
                return value.detach().cpu().numpy()
            return np.asarray(self.keras.ops.convert_to_numpy(value))
        return value

    def _constants(self, node: Any) -> bool:
        """The call reads an array that is not a Keras tensor of the model."""
        leaves = [*node.arguments.args, *node.arguments.kwargs.values()]
        leaves = [v for x in leaves for v in (x if isinstance(x, (list, tuple)) else [x])]
        return any(
            hasattr(v, "shape") and not isinstance(v, self.keras.KerasTensor) for v in leaves
        )

    def layer(self, layer: Any, inputs: list[Tensor]) -> Tensor:
        """One layer (or nested model) applied to ``inputs``, through its table handler."""
        what, tables = type(layer).__name__, _tables()
        nested = isinstance(layer, self.keras.Model)
        handler = _nested if nested else tables.layers.get(type(layer))
        if handler is None and type(layer) in tables.calls:
            return self.builder.unsupported(layer.name, what, "only in a Functional model")
        if handler is not None and len(inputs) != 1 and not nested:
            return self.builder.unsupported(layer.name, what, f"it reads {len(inputs)} tensors")
        x = inputs if nested else inputs[0]  # a nested model reports its own layers
        return self.builder.apply(
            layer.name, what, handler, [] if nested else inputs, self, layer, x
        )

    def numpy(self, value: Any) -> np.ndarray:
        """A float32 copy of a Keras variable, backend tensor, array or number."""
        if isinstance(value, self.keras.Variable):
            value = value.value  # the backend tensor
        if hasattr(value, "detach"):  # torch backend: np.array(tensor) warns under NumPy 2
            value = value.detach().cpu().numpy()
        elif hasattr(value, "shape") and not isinstance(value, np.ndarray):
            value = self.keras.ops.convert_to_numpy(value)
        return np.array(value, dtype=np.float32, copy=True)

    def weights(self, layer: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The kernel and bias of a Dense / convolution layer."""
        if getattr(layer, "quantization_mode", None) is not None:
            raise Unsupported(f"quantized ({layer.quantization_mode})")
        return self.numpy(layer.kernel), self.numpy(layer.bias) if layer.use_bias else None

    def activation(self, fn: Any, name: str, x: Tensor, layer: bool = False) -> Tensor:
        """Keras activation function ``fn`` on ``x``; ``linear`` is a layer only in an
        ``Activation`` layer (``layer``)."""
        if fn is None or fn is self.keras.activations.linear:
            return self.builder.identity(name, x) if layer else x
        if fn not in _tables().activations:  # the error lists the supported ones
            raise Unsupported(f"activation {getattr(fn, '__name__', repr(fn))!r}")
        return self.builder.aliased(name, _tables().activations[fn], x, lambda i, a: None)


# -- handlers: one small function per kind of Keras layer ---------------------------------------


def _image(layer: Any, x: Tensor) -> None:
    """``x`` is an image in the layout the layer's ``data_format`` says."""
    if len(x.shape) != 3:  # type: ignore[arg-type]
        raise Unsupported(f"it needs images but receives samples of shape {x.framework_shape}")
    fmt = getattr(layer, "data_format", None)
    if fmt is not None and (fmt == "channels_last") != x.channels_last:
        raise Unsupported(
            f"data_format={fmt!r} differs from the layout of its input; mixing channels_last "
            "and channels_first layers is not supported"
        )


def _dense(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    kernel, bias = t.weights(layer)
    out = t.builder.dense(layer.name, x, kernel.T, bias)
    return t.activation(layer.activation, f"{layer.name}/activation", out)


def _conv(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    _image(layer, x)
    kernel, bias = t.weights(layer)  # (kh, kw, C_in / groups, C_out) or depthwise (kh, kw, C, m)
    if type(layer) is t.keras.layers.DepthwiseConv2D:  # output channel c * m + j
        weight = kernel.reshape(*kernel.shape[:2], -1).transpose(2, 0, 1)[:, None]
        groups = int(kernel.shape[2])
    else:
        weight, groups = kernel.transpose(3, 2, 0, 1), int(getattr(layer, "groups", 1))
    options = {"stride": layer.strides, "padding": layer.padding, "dilation": layer.dilation_rate}
    out = t.builder.conv2d(layer.name, x, weight, bias, groups=groups, **options)
    return t.activation(layer.activation, f"{layer.name}/activation", out)


def _pool(kind: str) -> Handler:
    """Windowed (``max_pool2d``, ``avg_pool2d``) or global (``max``, ``avg``) pooling."""

    def handler(t: _Translator, layer: Any, x: Tensor) -> Tensor:
        _image(layer, x)
        if kind in ("max", "avg"):
            return t.builder.global_pool(layer.name, kind, x, keepdims=bool(layer.keepdims))
        # TF / Keras "same" average pooling averages the real pixels only
        options = {"stride": layer.strides, "padding": layer.padding, "count_include_pad": False}
        return t.builder.pool2d(layer.name, kind, x, layer.pool_size, **options)

    return handler


def _zero_padding(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    _image(layer, x)
    (top, bottom), (left, right) = layer.padding
    return t.builder.pad(layer.name, x, (top, left, bottom, right), "ZeroPadding2D")


def _batch_norm(t: _Translator, layer: Any, x: Tensor) -> Tensor:  # Keras 3: one int axis
    mean, var = t.numpy(layer.moving_mean), t.numpy(layer.moving_variance)
    gamma = t.numpy(layer.gamma) if layer.scale else None
    beta = t.numpy(layer.beta) if layer.center else None
    eps = float(layer.epsilon)
    return t.builder.batch_norm(layer.name, x, mean, var, gamma, beta, eps, layer.axis)


def _rescaling(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    scale = t.numpy(layer.scale)
    if scale.ndim and t.keras.config.image_data_format() == "channels_first":  # as Keras does
        scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
    offset = t.numpy(layer.offset)
    return t.builder.scale_shift(layer.name, x, scale, offset)  # per channel: a batch_norm


def _flatten(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    rank = len(x.shape)  # type: ignore[arg-type]
    channels_first = getattr(layer, "data_format", None) == "channels_first"
    order = (*range(1, rank), 0) if channels_first else None  # Keras moves the channels last
    return t.builder.flatten(layer.name, x, order=order)


def _reshape(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    return t.builder.reshape(layer.name, x, [BATCH, *layer.target_shape])


def _relu(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    slope, top = float(layer.negative_slope), layer.max_value
    if float(layer.threshold) != 0.0 or (top is not None and slope != 0.0):
        raise Unsupported("a threshold, or a max_value with a negative_slope, is not supported")
    kind, params = ("leaky_relu", {"negative_slope": slope}) if slope else ("relu", {})
    if top is not None:  # ReLU6 and the like
        kind, params = "clamp", {"min": 0.0, "max": float(top)}
    return t.builder.activation(layer.name, kind, x, params)


# -- LSTM / GRU (and Bidirectional over them): torch's layout. Keras' LSTM gates i, f, c, o are
# torch's i, f, g, o; its GRU gates z, r, h become torch's r, z, n (reset_after=True is torch's
# form: the recurrent bias inside r * (...)).
_GATE_ORDER = {"lstm": (0, 1, 2, 3), "gru": (1, 0, 2)}


def _torch_rows(matrix: np.ndarray, kind: str) -> np.ndarray:
    """Keras' (..., G*H) kernel or bias as torch's gate blocks along axis 0."""
    blocks = np.split(np.asarray(matrix).T, len(_GATE_ORDER[kind]), axis=0)
    return np.ascontiguousarray(np.concatenate([blocks[g] for g in _GATE_ORDER[kind]], axis=0))


def _recurrent_weights(t: _Translator, layer: Any, kind: str, suffix: str) -> dict[str, Any]:
    """torch-named weights of one Keras LSTM / GRU layer (one direction, key suffix ``suffix``)."""
    cell, keras = layer.cell, t.keras
    if cell.activation is not keras.activations.tanh or (
        cell.recurrent_activation is not keras.activations.sigmoid
    ):
        raise Unsupported("only activation='tanh' with recurrent_activation='sigmoid'")
    if kind == "gru" and not cell.reset_after:
        raise Unsupported("reset_after=False (only torch's form, reset_after=True)")
    if getattr(layer, "stateful", False):
        raise Unsupported("stateful=True")
    weights: dict[str, Any] = {
        "weight_ih" + suffix: _torch_rows(t.numpy(cell.kernel), kind),
        "weight_hh" + suffix: _torch_rows(t.numpy(cell.recurrent_kernel), kind),
        "bias_ih" + suffix: None,
        "bias_hh" + suffix: None,
    }
    if cell.use_bias:
        bias = t.numpy(cell.bias)
        biases = bias if kind == "gru" else bias[None]  # GRU: (input bias, recurrent bias)
        for key, value in zip(("bias_ih", "bias_hh"), biases, strict=False):
            weights[key + suffix] = _torch_rows(value, kind)
    return weights


def _recurrent_kind(t: _Translator, layer: Any) -> str:
    kind = {t.keras.layers.LSTM: "lstm", t.keras.layers.GRU: "gru"}.get(type(layer))
    if kind is None:
        raise Unsupported(f"Bidirectional over {type(layer).__name__}; only LSTM and GRU")
    if getattr(layer, "return_state", False):
        raise Unsupported("return_state=True")
    return kind


def _recurrent(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    kind = _recurrent_kind(t, layer)
    if layer.go_backwards:
        raise Unsupported("go_backwards=True outside Bidirectional")
    weights = _recurrent_weights(t, layer, kind, "")
    units, name = int(layer.cell.units), layer.name
    method = t.builder.lstm if kind == "lstm" else t.builder.gru
    if layer.return_sequences:
        return method(name, x, weights, units)
    return t.builder.final_state(name, method(f"{name}/sequence", x, weights, units))


def _bidirectional(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    forward, backward = layer.forward_layer, layer.backward_layer
    kind = _recurrent_kind(t, forward)
    if layer.merge_mode != "concat":
        raise Unsupported(f"merge_mode={layer.merge_mode!r}; only 'concat'")
    if type(backward) is not type(forward) or not backward.go_backwards or forward.go_backwards:
        raise Unsupported("its backward layer must be the same kind of layer, go_backwards=True")
    weights = {
        **_recurrent_weights(t, forward, kind, ""),
        **_recurrent_weights(t, backward, kind, "_reverse"),
    }
    units, name = int(forward.cell.units), layer.name
    method = t.builder.lstm if kind == "lstm" else t.builder.gru
    if layer.return_sequences:
        return method(name, x, weights, units, True)
    out = method(f"{name}/sequence", x, weights, units, True)
    states = [
        t.builder.final_state(f"{name}/{d}", out, d == "backward") for d in ("forward", "backward")
    ]
    return t.builder.concat(name, states, 1)


# -- text and sequences: Keras' (T, C) samples are channels-last sequences ----------------------


def _embedding(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    if getattr(layer, "mask_zero", False):
        raise Unsupported(
            "mask_zero=True (later layers would skip the masked steps); mask in the model instead"
        )
    return t.builder.embedding(layer.name, x, t.numpy(layer.embeddings))


def _layer_norm(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
    rank = len(x.shape) + 1  # type: ignore[arg-type]
    if [a % rank for a in axes] != [rank - 1]:
        raise Unsupported(f"axis={layer.axis}; only the last axis is supported")
    if getattr(layer, "rms_scaling", False):  # Keras scales by the variance there: deprecated
        raise Unsupported("rms_scaling=True (use keras.layers.RMSNormalization)")
    gamma = t.numpy(layer.gamma) if layer.scale else None
    beta = t.numpy(layer.beta) if layer.center else None
    return t.builder.layer_norm(layer.name, x, gamma, beta, float(layer.epsilon))


def _rms_norm(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
    if [a % (len(x.shape) + 1) for a in axes] != [len(x.shape)]:  # type: ignore[arg-type]
        raise Unsupported(f"axis={layer.axis}; only the last axis is supported")
    return t.builder.rms_norm(layer.name, x, t.numpy(layer.scale), float(layer.epsilon))


def _sequence(layer: Any, x: Tensor) -> None:
    if len(x.shape) != 2:  # type: ignore[arg-type]
        raise Unsupported(f"it needs sequences (T, C) but receives samples of shape {x.shape}")
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise Unsupported("data_format='channels_first'")


def _channels_first(t: _Translator, layer: Any, x: Tensor, step: Any) -> Tensor:
    """``step`` applied to the (C, T) transpose of Keras' (T, C) sequence, transposed back."""
    _sequence(layer, x)
    out = step(t.builder.permute_axes(f"{layer.name}/channels_first", x, (0, 2, 1)))
    return t.builder.permute_axes(f"{layer.name}/channels_last", out, (0, 2, 1))


def _conv1d(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    kernel, bias = t.weights(layer)  # (K, C_in / groups, C_out)
    (size,), (rate,) = layer.kernel_size, layer.dilation_rate
    padding = layer.padding
    if padding == "causal":  # only the past: the whole window on the left
        padding = ((size - 1) * rate, 0)
    options = {
        "stride": layer.strides,
        "padding": padding,
        "dilation": layer.dilation_rate,
        "groups": int(getattr(layer, "groups", 1)),
    }
    out = _channels_first(
        t,
        layer,
        x,
        lambda y: t.builder.conv1d(
            f"{layer.name}/conv", y, kernel.transpose(2, 1, 0), bias, **options
        ),
    )
    return t.activation(layer.activation, f"{layer.name}/activation", out)


def _pool1d(kind: str) -> Handler:
    def handler(t: _Translator, layer: Any, x: Tensor) -> Tensor:
        options = {"stride": layer.strides, "padding": layer.padding}
        if kind == "avg":
            options["count_include_pad"] = False  # "same" averages the real steps only
        return _channels_first(
            t,
            layer,
            x,
            lambda y: t.builder.pool1d(f"{layer.name}/pool", kind, y, layer.pool_size, **options),
        )

    return handler


def _global_pool1d(kind: str) -> Handler:
    def handler(t: _Translator, layer: Any, x: Tensor) -> Tensor:
        _sequence(layer, x)
        return t.builder.reduce(layer.name, kind, x, 1, keepdims=bool(layer.keepdims))

    return handler


def _nested(t: _Translator, layer: Any, xs: list[Tensor]) -> Tensor:
    return t.model(layer, xs)


def _activation_layer(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    return t.activation(layer.activation, layer.name, x, layer=True)


def _activation(alias: Alias) -> Handler:
    """An activation layer of the layer table (``LeakyReLU``): its attributes by the alias."""
    return lambda t, layer, x: t.builder.aliased(
        layer.name, alias, x, lambda i, a: getattr(layer, a)
    )


def _identity(kind: str) -> Handler:
    return lambda t, layer, x: t.builder.identity(layer.name, x, kind)


# -- calls that read their arguments (Functional models): merges, attention, keras.ops --------
#: ``(translator, layer or op, args, kwargs) -> output(s)``; Keras tensors in the arguments are
#: replaced by their values, backend tensors by NumPy constants.
Call = Callable[["_Translator", Any, tuple, dict], Any]


def _merge(op: str) -> Call:
    """Add / Subtract / Multiply layers over a list of tensors and constants (a position
    embedding of constant positions is a constant)."""

    def handler(t: _Translator, layer: Any, args: tuple, kwargs: dict) -> Any:
        xs = list(args[0])
        if op == "add" and all(isinstance(x, Tensor) for x in xs):
            if len({x.shape for x in xs}) == 1:
                return t.builder.add(layer.name, xs)
        out = xs[0]
        for i, x in enumerate(xs[1:], 1):
            out = t.builder.arithmetic(
                layer.name if i == len(xs) - 1 else f"{layer.name}/{i}", op, out, x
            )
        return out

    return handler


def _binary(op: str) -> Call:
    """``keras.ops.add(a, b)`` / ``a + b`` (subtract, multiply): tensors and constants."""
    return lambda t, fn, args, kwargs: t.builder.arithmetic(fn.name, op, *args[:2])


def _concatenate(t: _Translator, layer: Any, args: tuple, kwargs: dict) -> Tensor:
    xs = list(args[0])
    if not all(isinstance(x, Tensor) for x in xs):
        raise Unsupported("it joins a constant tensor")
    return t.builder.concat(layer.name, xs, layer.axis)


def _expand_dims(t: _Translator, fn: Any, args: tuple, kwargs: dict) -> Tensor:
    x, axis = args[0], fn.axis
    shape = list(x.shape)
    rank = len(shape) + 2  # with the batch axis and the new one
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis % rank == 0:
        raise Unsupported(f"axis={axis!r}; one int that is not the batch axis")
    shape.insert(int(axis) % rank - 1, 1)
    return t.builder.new_shape(fn.name, x, shape)


def _get_item(t: _Translator, fn: Any, args: tuple, kwargs: dict) -> Tensor:
    """``x[:, 0]``, ``x[:, :3]``, ``x[..., 1:]``: ints and slices, the batch axis whole."""
    x, key = args[0], args[1]
    key = key if isinstance(key, tuple) else (key,)
    rank = len(x.shape) + 1
    if key.count(Ellipsis) == 1:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (rank - len(key) + 1) + key[i + 1 :]
    if not key or key[0] != slice(None) or len(key) > rank:
        raise Unsupported(f"index {args[1]!r}; the batch axis must be taken whole (x[:, ...])")
    steps, axis = [], 1
    for item in key[1:]:
        if isinstance(item, slice):
            if item != slice(None):
                steps.append((axis, item))
            axis += 1
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            steps.append((axis, int(item)))
        else:
            raise Unsupported(f"index {item!r}; ints and slices are supported")
    for i, (axis, item) in enumerate(steps):
        name = fn.name if i == len(steps) - 1 else f"{fn.name}/{i}"
        if isinstance(item, slice):
            x = t.builder.slice(name, x, axis, item.start, item.stop, item.step or 1)
        else:
            x = t.builder.select(name, x, axis, item)
    return x


def _cast(t: _Translator, fn: Any, args: tuple, kwargs: dict) -> Tensor:
    """A cast of a mask or of an integer input (the same numbers), to float or bool (!= 0)."""
    x, dtype = args[0], str(fn.dtype)
    if dtype == "bool":
        return x if x.mask else t.builder.compare(fn.name, "ne", x, 0.0)
    spec = t.builder.spec
    whole = x.mask or (
        x.index >= 0 and x.index < len(spec.inputs) and spec.inputs[x.index].dtype == "int"
    )
    if dtype.startswith("float") or whole:
        return x
    raise Unsupported(f"a cast of a computed float tensor to {dtype} (it truncates)")


def _compare(op: str) -> Call:
    """``keras.ops.not_equal(ids, 0)`` and the like: a tensor against one constant."""

    def handler(t: _Translator, fn: Any, args: tuple, kwargs: dict) -> Tensor:
        x, value = args[:2]
        if not isinstance(x, Tensor):  # 0 == x
            x, value = value, x
            op_ = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}.get(op, op)
        else:
            op_ = op
        if not isinstance(x, Tensor) or isinstance(value, Tensor):
            raise Unsupported("a comparison of two computed tensors")
        return t.builder.compare(fn.name, op_, x, value)

    return handler


def _keras_mha_projections(t: _Translator, layer: Any) -> dict[str, tuple[np.ndarray, Any]]:
    """Keras' EinsumDense kernels (D, heads, d) and (heads, d_v, *output_shape) as dense
    weights (out, in)."""
    projections = {}
    dense = {"q": layer._query_dense, "k": layer._key_dense, "v": layer._value_dense}
    dense["out"] = layer._output_dense
    for label, sub in dense.items():
        if getattr(sub, "quantization_mode", None) is not None:
            raise Unsupported(f"quantized ({sub.quantization_mode})")
        kernel = t.numpy(sub.kernel)
        bias = None if sub.bias is None else t.numpy(sub.bias).ravel()
        if label == "out":
            kernel = kernel.reshape(kernel.shape[0] * kernel.shape[1], -1)
        else:
            kernel = kernel.reshape(kernel.shape[0], -1)
        projections[label] = (np.ascontiguousarray(kernel.T), bias)
    return projections


def _multi_head_attention(t: _Translator, layer: Any, args: tuple, kwargs: dict) -> Any:
    """keras.layers.MultiHeadAttention over (T, D) sequences (the default attention axis):
    the builder's attention, with Keras' masks (``attention_mask`` nonzero = attend,
    ``use_causal_mask``, ``sliding_window``) applied as a ``where`` before the softmax: a
    masked score is MASKED_SCORE, so a row with every key masked averages the values, as
    Keras' fused attention does (its path without dropout and without returned scores); on
    Keras' other path the masked weights are zeroed after the softmax, as there."""
    import inspect

    from glassbox.models.sequence_builder import MASKED_SCORE

    b, name = t.builder, layer.name
    call = inspect.signature(layer.call).bind(*args, **kwargs).arguments
    query, value = call["query"], call["value"]
    key = call.get("key") if call.get("key") is not None else value
    for label in ("query_mask", "value_mask", "key_mask"):
        if call.get(label) is not None:
            raise Unsupported(f"{label}= (pass attention_mask instead)")
    if getattr(layer, "_use_gate", False):
        raise Unsupported("use_gate=True")
    if not all(isinstance(x, Tensor) for x in (query, key, value)):
        raise Unsupported("query, key and value must be computed tensors")
    if any(len(x.shape) != 2 for x in (query, key, value)):
        shapes = [x.shape for x in (query, key, value)]
        raise Unsupported(f"inputs of per-sample shapes {shapes}; only (T, D) sequences")
    if tuple(layer._attention_axes or (1,)) != (1,):
        raise Unsupported(f"attention_axes={layer._attention_axes}; only the default (1,)")
    steps, keys = query.shape[0], key.shape[0]
    band = np.ones((steps, keys), bool)  # the constant masks (causal, sliding window)
    rows, cols = np.arange(steps)[:, None], np.arange(keys)[None, :]
    if call.get("use_causal_mask"):
        band &= rows >= cols
    if getattr(layer, "_sliding_window", None) is not None:
        band &= np.abs(rows - cols) < int(layer._sliding_window)
    mask = call.get("attention_mask")
    if mask is not None and not isinstance(mask, Tensor):  # a constant mask
        constant = np.asarray(mask) != 0
        band &= constant.reshape(constant.shape[-2:]) if constant.ndim >= 2 else constant
        mask = None
    if isinstance(mask, Tensor):
        if len(mask.shape) != 2:
            raise Unsupported(
                f"attention_mask of shape {mask.framework_shape} per sample; expects (T, S) "
                "or a shape that broadcasts to it, e.g. (1, S)"
            )
        try:
            np.broadcast_shapes(mask.shape, (steps, keys))
        except ValueError:
            raise Unsupported(
                f"attention_mask of shape {mask.shape} per sample for {steps} queries and "
                f"{keys} keys"
            ) from None

    attend: list[Tensor] = []  # the (1, T, S) mask, 1 = attend, made once

    def masked(scores: Tensor) -> Tensor:
        cond = mask
        if cond is not None and not cond.mask:  # Keras casts the mask to bool
            cond = b.compare(f"{name}/attention_mask", "ne", cond, 0.0)
        if not band.all():
            constant = band.astype(np.float32)
            cond = (
                b.constant(f"{name}/mask", constant)
                if cond is None
                else b.arithmetic(f"{name}/mask", "mul", cond, constant)
            )
        if cond is None:
            return scores
        attend.append(b.new_shape(f"{name}/mask/heads", cond, (1, *cond.shape)))
        return b.where(f"{name}/masked", attend[0], scores, MASKED_SCORE)

    def zeroed(weights: Tensor) -> Tensor:
        """Keras' Softmax layer (its path when the scores are returned or with dropout) zeroes
        the masked weights: a row with every key masked is then 0, not uniform."""
        if not attend:
            return weights
        return b.where(f"{name}/weights/masked", attend[0], weights, 0.0)

    scores = bool(call.get("return_attention_scores"))
    out, weights = b.attention(
        name,
        query,
        key,
        value,
        _keras_mha_projections(t, layer),
        int(layer.num_heads),
        masked=masked,
        zeroed=zeroed if scores or float(layer._dropout) > 0.0 else None,
        output_shape=layer._output_shape,
    )
    return (out, weights) if scores else out


class _Tables:
    """The dispatch tables: layer classes and activation functions."""

    def __init__(self) -> None:
        import keras

        L = keras.layers
        self.layers: dict[type, Handler] = {
            L.InputLayer: lambda t, layer, x: x,
            L.Dense: _dense,
            L.Conv2D: _conv,
            L.DepthwiseConv2D: _conv,
            L.MaxPooling2D: _pool("max_pool2d"),
            L.AveragePooling2D: _pool("avg_pool2d"),
            L.GlobalAveragePooling2D: _pool("avg"),
            L.GlobalMaxPooling2D: _pool("max"),
            L.ZeroPadding2D: _zero_padding,
            L.BatchNormalization: _batch_norm,
            L.Rescaling: _rescaling,
            L.Flatten: _flatten,
            L.Reshape: _reshape,
            L.Activation: _activation_layer,
            L.ReLU: _relu,
            L.Identity: _identity("identity"),
            L.Embedding: _embedding,
            L.LayerNormalization: _layer_norm,
            **({L.RMSNormalization: _rms_norm} if hasattr(L, "RMSNormalization") else {}),
            L.Conv1D: _conv1d,
            L.MaxPooling1D: _pool1d("max"),
            L.AveragePooling1D: _pool1d("avg"),
            L.GlobalAveragePooling1D: _global_pool1d("mean"),
            L.GlobalMaxPooling1D: _global_pool1d("max"),
            L.LSTM: _recurrent,
            L.GRU: _recurrent,
            L.Bidirectional: _bidirectional,
            L.ActivityRegularization: _identity("identity"),
        }
        from keras.src.ops import core
        from keras.src.ops import numpy as knp

        # calls that read their arguments: several tensors, constants, keywords
        self.calls: dict[type, Call] = {
            L.Add: _merge("add"),
            L.Subtract: _merge("sub"),
            L.Multiply: _merge("mul"),
            L.Concatenate: _concatenate,
            L.MultiHeadAttention: _multi_head_attention,
            knp.Add: _binary("add"),
            knp.Subtract: _binary("sub"),
            knp.Multiply: _binary("mul"),
            knp.ExpandDims: _expand_dims,
            knp.GetItem: _get_item,
            core.Cast: _cast,
        }
        for op, cls in (
            ("eq", "Equal"),
            ("ne", "NotEqual"),
            ("lt", "Less"),
            ("le", "LessEqual"),
            ("gt", "Greater"),
            ("ge", "GreaterEqual"),
        ):
            self.calls[getattr(knp, cls)] = _compare(op)
        for noise in ("Dropout", "SpatialDropout2D", "GaussianDropout", "GaussianNoise"):
            self.layers[getattr(L, noise)] = _identity("dropout")
        self.activations: dict[Any, Alias] = {}
        for name, alias in activation_aliases("keras").items():
            if name.startswith("layers."):
                self.layers[getattr(L, name.removeprefix("layers."))] = _activation(alias)
            elif hasattr(keras.activations, name):  # older Keras 3 versions lack some
                self.activations[getattr(keras.activations, name)] = alias


_tables = functools.cache(_Tables)  # built once, when the framework is first needed


@functools.cache
def supported() -> tuple[str, ...]:
    """What from_keras translates: layer classes and activation functions.

    >>> import os
    >>> _ = os.environ.setdefault("KERAS_BACKEND", "torch")
    >>> "Conv2D" in supported() and "activation 'mish'" in supported()
    True
    """
    from keras.layers import Layer

    notes = {"ReLU": "ReLU (no threshold)", "Rescaling": "Rescaling (any broadcastable scale)"}
    activations = ["linear", *(n for n in activation_aliases("keras") if "." not in n)]
    calls = [
        cls.__name__ if issubclass(cls, Layer) else f"keras.ops.{cls.__name__}"
        for cls in _tables().calls
    ]
    return (
        *(notes.get(cls.__name__, cls.__name__) for cls in _tables().layers),
        *calls,
        "Sequential / Functional models used as layers",
        *(f"activation {name!r}" for name in activations),
    )


__all__ = ["from_keras", "supported"]
