"""from_keras: the native network computes what the Keras 3 model computes (torch backend)."""

from __future__ import annotations

import os
import pickle
import re
import warnings
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = keras.layers

import glassbox as gb  # noqa: E402
from glassbox.models.keras_adapter import from_keras  # noqa: E402

RTOL, ATOL = 1e-5, 1e-5


def _numpy(value: Any) -> np.ndarray:
    """A NumPy copy of a Keras tensor or variable (get_weights() warns under NumPy 2 + torch)."""
    if isinstance(value, keras.Variable):
        value = value.value
    if hasattr(value, "detach"):  # torch backend: avoid np.array(tensor)
        return value.detach().cpu().numpy().copy()
    return np.array(keras.ops.convert_to_numpy(value))


def _keras_out(model: Any, X: np.ndarray) -> np.ndarray:
    return _numpy(model(X, training=False))


def _data(*shape: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=shape) * 2).astype(np.float32)


@pytest.fixture(autouse=True)
def _seed() -> None:
    keras.utils.set_random_seed(0)


ACTIVATIONS = [
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "elu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "leaky_relu",
]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_dense_activation_matches_keras(activation: str) -> None:
    model = keras.Sequential(
        [
            keras.Input((5,)),
            L.Dense(8, activation=activation, name="hidden"),
            L.Dense(3, name="out"),
        ]
    )
    X = _data(20, 5)
    native = from_keras(model)
    expected = (
        ["hidden", "out"] if activation == "linear" else ["hidden", "hidden/activation", "out"]
    )
    assert native.layer_names == expected
    np.testing.assert_allclose(native.predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "layer",
    [
        L.ReLU(),
        L.ReLU(negative_slope=0.1),
        L.LeakyReLU(),
        L.LeakyReLU(negative_slope=0.05),
        L.ELU(),
        L.ELU(alpha=0.4),
        L.Softmax(),
        L.Activation("gelu"),
        L.Activation("linear"),
        L.Activation("softplus"),
        L.Dropout(0.5),
        L.Identity(),
    ],
    ids=lambda layer: f"{type(layer).__name__}",
)
def test_every_layer_matches_keras(layer: Any) -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(6, name="a"), layer, L.Dense(2, name="b")])
    X = _data(15, 4, seed=1)
    native = from_keras(model)
    assert native.layer_names == ["a", layer.name, "b"]
    np.testing.assert_allclose(native.predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL)


def test_functional_model_with_flatten_and_a_nested_sequential() -> None:
    inputs = keras.Input((2, 3), name="pixels")
    x = L.Flatten(name="flat")(inputs)
    x = L.Dense(7, activation="tanh", name="d1")(x)
    x = L.Dropout(0.2, name="drop")(x)
    inner = keras.Sequential([L.Dense(5, activation="relu", name="d2"), L.Dense(3, name="d3")])
    x = inner(x)
    outputs = L.Softmax(name="probs")(x)
    model = keras.Model(inputs, outputs)
    X = _data(9, 2, 3)
    native = from_keras(model)
    assert native.input_shape == (2, 3)
    assert native.layer_names == [
        "flat",
        "d1",
        "d1/activation",
        "drop",
        "d2",
        "d2/activation",
        "d3",
        "probs",
    ]
    np.testing.assert_allclose(native.predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL)


def test_dense_maps_the_last_axis_of_a_sequence() -> None:
    model = keras.Sequential([keras.Input((2, 3)), L.Dense(2, name="d3d"), L.Flatten()])
    X = _data(4, 2, 3)
    np.testing.assert_allclose(
        from_keras(model).predict(X), _keras_out(model, X), rtol=1e-5, atol=1e-6
    )


def test_sequential_built_with_build() -> None:
    model = keras.Sequential([L.Dense(4, activation="elu"), L.Dense(2)])
    model.build((None, 3))
    X = _data(5, 3)
    np.testing.assert_allclose(
        from_keras(model).predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL
    )


def test_dense_without_bias() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(3, use_bias=False, activation="silu")])
    X = _data(6, 4)
    np.testing.assert_allclose(
        from_keras(model).predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL
    )


# -- output= --------------------------------------------------------------------------------


def test_output_modes_for_a_softmax_model() -> None:
    model = keras.Sequential(
        [
            keras.Input((4,)),
            L.Dense(6, activation="relu", name="h"),
            L.Dense(3, activation="softmax", name="o"),
        ]
    )
    logits_model = keras.Sequential([keras.Input((4,)), model.layers[0], L.Dense(3, name="z")])
    logits_model.layers[-1].kernel.assign(model.layers[-1].kernel.value)
    logits_model.layers[-1].bias.assign(model.layers[-1].bias.value)
    X = _data(10, 4)
    assert from_keras(model).layer_names == ["h", "h/activation", "o", "o/activation"]
    logits = from_keras(model, output="logits")
    assert logits.layer_names == ["h", "h/activation", "o"]
    np.testing.assert_allclose(logits.predict(X), _keras_out(logits_model, X), rtol=RTOL, atol=ATOL)
    probs = from_keras(model, output="probabilities")
    np.testing.assert_allclose(probs.predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL)
    appended = from_keras(logits_model, output="probabilities")
    assert appended.layer_names[-1] == "probabilities"
    np.testing.assert_allclose(appended.predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL)


def test_single_sigmoid_output_probabilities() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(1, activation="sigmoid", name="o")])
    X = _data(10, 4)
    p = _keras_out(model, X).astype(np.float64)
    native = from_keras(model, output="probabilities")
    assert native.n_outputs == 2
    np.testing.assert_allclose(native.predict(X), np.hstack([1 - p, p]), rtol=RTOL, atol=ATOL)
    z = from_keras(model, output="logits").predict(X).astype(np.float64)
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), p, rtol=RTOL, atol=ATOL)


def test_invalid_output() -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(1)])
    with pytest.raises(ValueError, match="output"):
        from_keras(model, output="scores")


# -- unsupported and invalid models ----------------------------------------------------------


def _two_output_model() -> Any:
    a = keras.Input((3,))
    return keras.Model(a, [L.Dense(2)(a), L.Dense(1)(a)])


def _residual_model() -> Any:
    inputs = keras.Input((3,))
    hidden = L.Dense(3, name="d")(inputs)
    return keras.Model(inputs, L.Maximum(name="sum")([inputs, hidden]))


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (
            lambda: keras.Sequential([keras.Input((4, 1)), L.SimpleRNN(2, name="rnn")]),
            r"'rnn' \(SimpleRNN\)",
        ),
        (
            lambda: keras.Sequential(
                [keras.Input((4,)), L.Dense(2, activation="softsign", name="d")]
            ),
            r"'d' \(Dense\).*softsign",
        ),
        (
            lambda: keras.Sequential([keras.Input((4,)), L.ReLU(threshold=0.5, name="rt")]),
            r"'rt' \(ReLU\).*threshold",
        ),
        (
            lambda: keras.Sequential([keras.Input((4,)), L.GroupNormalization(2, name="ln")]),
            r"'ln' \(GroupNormalization\)",
        ),
        (_residual_model, r"'sum' \(Maximum\)"),
        (_two_output_model, "2 outputs"),
    ],
    ids=[
        "Conv1D",
        "softsign",
        "relu-threshold",
        "layernorm",
        "maximum",
        "two-outputs",
    ],
)
def test_unsupported_layers_are_named(make: Any, pattern: str) -> None:
    with pytest.raises(gb.UnsupportedLayerError, match=pattern):
        from_keras(make())


def test_every_unsupported_layer_is_named_at_once() -> None:
    inputs = keras.Input((4,))
    x = L.GroupNormalization(2, name="ln")(inputs)
    y = L.Reshape((4, 1), name="to_seq")(L.Dense(4, name="d")(inputs))
    y = L.Flatten(name="flat")(L.SimpleRNN(1, return_sequences=True, name="conv")(y))
    outputs = L.Dense(2, name="out")(L.Maximum(name="mul")([x, y]))
    with pytest.raises(gb.UnsupportedLayerError, match="3 layers") as info:
        from_keras(keras.Model(inputs, outputs))
    message = str(info.value)
    for pattern in (r"'ln' \(GroupNormalization\)", r"'conv' \(SimpleRNN\)", r"'mul' \(Maximum\)"):
        assert re.search(pattern, message), (pattern, message)
    assert "'out'" not in message and "'flat'" not in message


def test_unbuilt_model_and_non_keras_object() -> None:
    with pytest.raises(ValueError, match="not built"):
        from_keras(keras.Sequential([L.Dense(3)]))
    with pytest.raises(TypeError, match="model"):
        from_keras(object())


# -- the caller's model, pickling ------------------------------------------------------------


def test_model_is_unchanged_and_pickle_round_trips() -> None:
    model = keras.Sequential(
        [keras.Input((4,)), L.Dense(5, activation="gelu"), L.Dropout(0.5), L.Dense(3)]
    )
    model.layers[0].trainable = False
    before = [_numpy(w) for w in model.weights]
    native = from_keras(model, feature_names=list("abcd"), output_names=["x", "y", "z"])
    after = [_numpy(w) for w in model.weights]
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)
    assert [layer.trainable for layer in model.layers] == [False, True, True]
    clone = pickle.loads(pickle.dumps(native))
    X = _data(6, 4)
    np.testing.assert_array_equal(clone.predict(X), native.predict(X))
    np.testing.assert_allclose(clone.predict(X), _keras_out(model, X), rtol=RTOL, atol=ATOL)
    assert clone.feature_names == list("abcd")
    assert clone.output_names == ["x", "y", "z"]


# -- activations the native engine gained (formerly unsupported) -------------------------------

#: Until the C++ layer table (clamp, selu, mish, hardsigmoid, hardswish, scale_shift) is merged.


def _predict(model: Any, X: np.ndarray) -> np.ndarray:
    """Keras' own ``model.predict`` (its torch backend trips NumPy 2's ``__array__`` warning)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return np.asarray(model.predict(X, verbose=0))


@pytest.mark.parametrize(
    "activation",
    [
        pytest.param(name, marks=())
        for name in ("selu", "relu6", "mish", "hard_sigmoid", "hard_swish", "hard_silu")
    ],
)
def test_new_dense_activations_match_keras_predict(activation: str) -> None:
    model = keras.Sequential(
        [
            keras.Input((5,)),
            L.Dense(8, activation=activation, name="hidden"),
            L.Dense(3, name="out"),
        ]
    )
    X = _data(20, 5) * 3  # reach the kinks of relu6 / the hard activations
    native = from_keras(model)
    assert native.layer_names == ["hidden", "hidden/activation", "out"]
    np.testing.assert_allclose(native.predict(X), _predict(model, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "layer",
    [
        pytest.param(L.ReLU(max_value=6.0, name="r6"), marks=()),
        pytest.param(L.ReLU(max_value=1.5, name="r15"), marks=()),
        pytest.param(L.Activation("relu6", name="act_r6"), marks=()),
        pytest.param(L.Activation("selu", name="act_selu"), marks=()),
        pytest.param(L.Activation("mish", name="act_mish"), marks=()),
    ],
    ids=lambda layer: layer.name,
)
def test_formerly_unsupported_layers_match_keras_predict(layer: Any) -> None:
    model = keras.Sequential([keras.Input((4,)), L.Dense(6, name="a"), layer, L.Dense(2, name="b")])
    X = _data(15, 4, seed=1) * 3
    native = from_keras(model)
    assert native.layer_names == ["a", layer.name, "b"]
    np.testing.assert_allclose(native.predict(X), _predict(model, X), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "layer",
    [L.SpatialDropout2D, L.GaussianDropout, L.GaussianNoise, L.ActivityRegularization],
    ids=lambda cls: cls.__name__,
)
def test_inference_identity_layers(layer: Any) -> None:
    noise = layer() if layer is L.ActivityRegularization else layer(0.3)
    model = keras.Sequential(
        [keras.Input((4, 4, 2)), L.Conv2D(2, 1, name="c"), noise, L.Flatten(), L.Dense(2)]
    )
    X = _data(6, 4, 4, 2)
    native = from_keras(model)
    assert native.layer_names[2] == noise.name  # after input/channels_first and c
    np.testing.assert_allclose(native.predict(X), _predict(model, X), rtol=RTOL, atol=ATOL)


def test_subtract_of_two_branches() -> None:
    inputs = keras.Input((4,))
    a, b = L.Dense(3, name="a")(inputs), L.Dense(3, name="b")(inputs)
    model = keras.Model(inputs, L.Subtract(name="diff")([a, b]))
    X = _data(7, 4)
    np.testing.assert_allclose(
        from_keras(model).predict(X), _predict(model, X), rtol=RTOL, atol=ATOL
    )
