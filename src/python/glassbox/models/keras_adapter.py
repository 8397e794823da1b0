"""Translate a Keras 3 model into a native glassbox network (``glassbox.from_keras``).

Sequential and Functional models (nested too) with one input and one output. Each Keras layer
class maps, in one table, to graph-builder calls (``models/builder.py``); activations come from
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
        A built ``keras.Sequential`` or Functional model with one input and one output, made of
        the layers and activations ``supported()`` lists. It is not modified.
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


def _input_shape(model: Any) -> tuple[int, ...]:
    inputs = model.inputs if model.built and hasattr(model, "inputs") else None
    if not inputs:
        raise ValueError(
            f"model: the Keras model {model.name!r} is not built, so its input shape is unknown; "
            "give it a keras.Input or call model.build((None, n_features)) first"
        )
    what = f"the Keras model {model.name!r}"
    return sample_shape(tuple(inputs[0].shape), len(inputs), len(model.outputs), what)


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
        self.builder = GraphBuilder(
            _input_shape(model),
            adapter="from_keras",
            supported=supported(),
            channels_last=_channels_last(keras, model),
            help="Use glassbox.wrap(model.predict, ...) for model-agnostic methods.",
        )

    def run(self, model: Any) -> NetworkSpec:
        """The spec, or one error naming every unsupported layer."""
        return self.builder.finish(self.model(model, self.builder.input), model.name)

    def model(self, model: Any, x: Tensor) -> Tensor:
        """A (nested) Sequential or Functional model applied to ``x``."""
        if isinstance(model, self.keras.Sequential):
            for layer in model.layers:
                x = self.layer(layer, [x])
            return x
        if len(model.inputs) != 1 or len(model.outputs) != 1:  # a nested model (translate)
            raise Unsupported("nested models must have one input and one output")
        values: dict[int, Tensor] = {id(model.inputs[0]): x}
        for depth in sorted(model._nodes_by_depth, reverse=True):  # topological order
            for node in model._nodes_by_depth[depth]:
                if node.is_input:
                    continue
                layer, inputs = node.operation, [values.get(id(s)) for s in node.input_tensors]
                if len(node.outputs) != 1 or None in inputs:
                    reason = f"it has {len(node.outputs)} outputs or reads a constant tensor"
                    out = self.builder.unsupported(layer.name, type(layer).__name__, reason)
                else:
                    out = self.layer(layer, inputs)  # type: ignore[arg-type]
                values.update(dict.fromkeys(map(id, node.outputs), out))
        return values[id(model.outputs[0])]

    def layer(self, layer: Any, inputs: list[Tensor]) -> Tensor:
        """One layer (or nested model) applied to ``inputs``, through its table handler."""
        what, tables = type(layer).__name__, _tables()
        nested = isinstance(layer, self.keras.Model)
        handler = _nested if nested else tables.layers.get(type(layer))
        merge = type(layer) in tables.merges
        if handler is not None and len(inputs) != 1 and not merge:
            return self.builder.unsupported(layer.name, what, f"it reads {len(inputs)} tensors")
        x = inputs if merge else inputs[0]  # a nested model reports its own layers
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


def _nested(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    return t.model(layer, x)


def _activation_layer(t: _Translator, layer: Any, x: Tensor) -> Tensor:
    return t.activation(layer.activation, layer.name, x, layer=True)


def _activation(alias: Alias) -> Handler:
    """An activation layer of the layer table (``LeakyReLU``): its attributes by the alias."""
    return lambda t, layer, x: t.builder.aliased(
        layer.name, alias, x, lambda i, a: getattr(layer, a)
    )


def _identity(kind: str) -> Handler:
    return lambda t, layer, x: t.builder.identity(layer.name, x, kind)


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
            L.Add: lambda t, layer, xs: t.builder.add(layer.name, xs),
            L.Subtract: lambda t, layer, xs: t.builder.arithmetic(layer.name, "sub", *xs),
            L.Concatenate: lambda t, layer, xs: t.builder.concat(layer.name, xs, layer.axis),
        }
        self.merges = {L.Add, L.Subtract, L.Concatenate}
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
    notes = {"ReLU": "ReLU (no threshold)", "Rescaling": "Rescaling (any broadcastable scale)"}
    activations = ["linear", *(n for n in activation_aliases("keras") if "." not in n)]
    return (
        *(notes.get(cls.__name__, cls.__name__) for cls in _tables().layers),
        "Sequential / Functional models used as layers",
        *(f"activation {name!r}" for name in activations),
    )


__all__ = ["from_keras", "supported"]
