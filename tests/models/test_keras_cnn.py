"""from_keras on CNNs (torch backend): the native model takes the data in the Keras model's own
layout (NHWC for a channels-last model, through a native permute layer at the input) and
computes what Keras computes."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = keras.layers

from glassbox.errors import UnsupportedLayerError  # noqa: E402
from glassbox.models.keras_adapter import from_keras  # noqa: E402

RTOL, ATOL = 1e-4, 1e-4


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, keras.Variable):
        value = value.value
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy().copy()
    return np.array(keras.ops.convert_to_numpy(value))


def _randomize_bn(model: Any) -> Any:
    rng = np.random.default_rng(3)
    for layer in model._flatten_layers():
        if isinstance(layer, L.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, n).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.25, 1.75, n).astype(np.float32))
            if layer.scale:
                layer.gamma.assign(rng.normal(1, 0.5, n).astype(np.float32))
            if layer.center:
                layer.beta.assign(rng.normal(0, 0.3, n).astype(np.float32))
    return model


def _check(model: Any, n: int = 5, channels_last: bool = True) -> Any:
    """Compare the native model with Keras on the same data, in Keras' layout."""
    _randomize_bn(model)
    shape = tuple(model.inputs[0].shape[1:])
    X = np.random.default_rng(1).normal(size=(n, *shape)).astype(np.float32)
    expected = _numpy(model(X, training=False)).reshape(n, -1)
    native = from_keras(model)
    assert native.input_shape == shape
    first = native.spec.layers[0]
    if channels_last and len(shape) == 3:  # channels-last images enter through a permute
        assert (first.kind, tuple(first.params["perm"])) == ("permute", (2, 0, 1))
    np.testing.assert_allclose(native.predict(X), expected, rtol=RTOL, atol=ATOL)
    return native


@pytest.fixture(autouse=True)
def _seed() -> None:
    keras.utils.set_random_seed(0)


def test_lenet_sequential() -> None:
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Conv2D(6, 5, activation="relu", name="c1"),
            L.MaxPooling2D(name="p1"),
            L.Conv2D(16, 5, activation="relu", name="c2"),
            L.MaxPooling2D(name="p2"),
            L.Flatten(name="flat"),
            L.Dense(120, activation="relu", name="f1"),
            L.Dense(84, activation="relu", name="f2"),
            L.Dense(10, name="out"),
        ]
    )
    native = _check(model)
    assert native.input_shape == (28, 28, 1)
    assert native.layer_names[:4] == ["input/channels_first", "c1", "c1/activation", "p1"]
    assert native.layer_names[-1] == "out"


def _res_block(x: Any, filters: int, stride: int, name: str) -> Any:
    shortcut = x
    y = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_c1")(x)
    y = L.BatchNormalization(name=f"{name}_bn1")(y)
    y = L.ReLU(name=f"{name}_r1")(y)
    y = L.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_c2")(y)
    y = L.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = L.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_down")(x)
        shortcut = L.BatchNormalization(name=f"{name}_down_bn")(shortcut)
    y = L.Add(name=f"{name}_add")([y, shortcut])
    return L.Activation("relu", name=f"{name}_out")(y)


def test_resnet_like_functional() -> None:
    inputs = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, padding="same", name="stem")(inputs)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU(name="stem_relu")(x)
    x = _res_block(x, 8, 1, "b1")
    x = _res_block(x, 16, 2, "b2")
    x = L.GlobalAveragePooling2D(name="gap")(x)
    outputs = L.Dense(4, activation="softmax", name="fc")(x)
    native = _check(keras.Model(inputs, outputs))
    names = native.layer_names
    assert {"b1_add", "b2_down", "b2_down_bn", "gap", "fc"} <= set(names)
    adds = [layer for layer in native.spec.layers if layer.kind == "add"]
    assert len(adds) == 2


def test_inception_like_concatenate() -> None:
    inputs = keras.Input((9, 9, 4))
    a = L.Conv2D(3, 1, name="a")(inputs)
    b = L.Conv2D(4, 3, padding="same", activation="relu", name="b")(inputs)
    c = L.MaxPooling2D(3, strides=1, padding="same", name="c_pool")(inputs)
    c = L.Conv2D(2, 1, name="c")(c)
    x = L.Concatenate(name="cat")([a, b, c])
    x = L.Conv2D(5, 3, strides=2, name="mix")(x)
    x = L.Flatten(name="flat")(x)
    outputs = L.Dense(3, name="fc")(x)
    native = _check(keras.Model(inputs, outputs))
    cat = next(layer for layer in native.spec.layers if layer.name == "cat")
    assert cat.kind == "concat" and cat.params["axis"] == 0


def test_concatenate_along_width_and_vectors() -> None:
    inputs = keras.Input((4, 5, 2))
    a = L.Conv2D(3, 1, name="a")(inputs)
    b = L.Conv2D(3, 1, name="b")(inputs)
    x = L.Concatenate(axis=2, name="cat_w")([a, b])
    x = L.GlobalMaxPooling2D(name="gmp")(x)
    y = L.Dense(2, name="d")(x)
    outputs = L.Concatenate(name="cat_v")([x, y])
    _check(keras.Model(inputs, outputs))


def test_shared_layer_called_twice_gets_unique_names() -> None:
    inputs = keras.Input((6, 6, 2))
    conv = L.Conv2D(2, 3, padding="same", name="shared")
    x = conv(conv(inputs))
    x = L.Add(name="sum")([x, inputs])
    outputs = L.Dense(2, name="out")(L.GlobalAveragePooling2D(name="gap")(x))
    native = _check(keras.Model(inputs, outputs))
    assert native.layer_names[1:3] == ["shared", "shared_1"]  # after input/channels_first


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_conv(multiplier: int) -> None:
    model = keras.Sequential(
        [
            keras.Input((7, 7, 3)),
            L.DepthwiseConv2D(3, depth_multiplier=multiplier, padding="same", name="dw"),
            L.Conv2D(4, 1, name="pw"),
            L.Flatten(),
            L.Dense(2),
        ]
    )
    _check(model)


CONVS = {
    "plain": dict(kernel_size=3),
    "same": dict(kernel_size=3, padding="same"),
    "same_stride2": dict(kernel_size=3, strides=2, padding="same"),
    "same_even_stride2": dict(kernel_size=4, strides=2, padding="same"),
    "strides": dict(kernel_size=(3, 2), strides=(2, 3)),
    "dilation": dict(kernel_size=3, dilation_rate=2, padding="same"),
    "groups": dict(kernel_size=3, groups=2),
    "no_bias_tanh": dict(kernel_size=2, use_bias=False, activation="tanh"),
}


@pytest.mark.parametrize("name", list(CONVS))
def test_conv2d_variants(name: str) -> None:
    model = keras.Sequential([keras.Input((9, 8, 4)), L.Conv2D(6, **CONVS[name]), L.Flatten()])
    _check(model)


POOLS = {
    "max": lambda: L.MaxPooling2D(2),
    "max_s1": lambda: L.MaxPooling2D(3, strides=1),
    "max_same": lambda: L.MaxPooling2D(3, strides=2, padding="same"),
    "avg": lambda: L.AveragePooling2D(2),
    "avg_same": lambda: L.AveragePooling2D(3, strides=2, padding="same"),
    "avg_same_s1": lambda: L.AveragePooling2D(2, strides=1, padding="same"),
    "gap_keepdims": lambda: L.GlobalAveragePooling2D(keepdims=True),
    "gmp": lambda: L.GlobalMaxPooling2D(),
}


@pytest.mark.parametrize("name", list(POOLS))
def test_pooling_variants(name: str) -> None:
    model = keras.Sequential([keras.Input((7, 9, 3)), POOLS[name](), L.Flatten()])
    _check(model)


def test_flatten_order_through_batchnorm_and_dropout() -> None:
    model = keras.Sequential(
        [
            keras.Input((5, 4, 3)),
            L.Conv2D(2, 2, name="c"),
            L.Flatten(name="flat"),
            L.BatchNormalization(name="bn"),
            L.Dropout(0.5, name="drop"),
            L.ReLU(name="r"),
            L.Dense(3, name="d"),
        ]
    )
    _check(model)


@pytest.mark.parametrize(
    ("scale", "offset"), [(1 / 255, 0.0), (2.0, -1.0), ([0.5, 2.0, -1.0], [0.1, 0.2, 0.3])]
)
def test_rescaling(scale: Any, offset: Any) -> None:
    model = keras.Sequential(
        [
            keras.Input((5, 5, 3)),
            L.Rescaling(scale, offset, name="rescale"),
            L.Conv2D(2, 3, name="c"),
            L.Flatten(),
            L.Rescaling(0.5, 1.0, name="rescale_flat"),
            L.Dense(2),
        ]
    )
    native = _check(model)
    assert native.spec.layers[1].kind == "batch_norm"  # after the input permute


def test_model_ending_in_a_feature_map_keeps_keras_order() -> None:
    model = keras.Sequential([keras.Input((4, 5, 3)), L.Conv2D(2, 3, padding="same")])
    native = _check(model)
    assert native.n_outputs == 4 * 5 * 2


def test_reshape_vector_to_image_and_back() -> None:
    model = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(4, name="d"),
            L.Reshape((1, 1, 4), name="to_image"),
            L.Conv2D(3, 1, name="c"),
            L.Reshape((3,), name="to_vector"),
            L.Dense(2, name="out"),
        ]
    )
    _check(model)


def test_channels_first_model() -> None:
    model = keras.Sequential(
        [
            keras.Input((3, 8, 8)),
            L.Conv2D(4, 3, data_format="channels_first", padding="same", name="c"),
            L.BatchNormalization(axis=1, name="bn"),
            L.MaxPooling2D(data_format="channels_first", name="p"),
            L.Flatten(data_format="channels_first", name="flat"),
            L.Dense(2, name="out"),
        ]
    )
    _check(model, channels_last=False)


# -- errors -----------------------------------------------------------------------------------


def test_reshape_that_needs_a_transpose_is_unsupported() -> None:
    model = keras.Sequential(
        [keras.Input((8,)), L.Reshape((2, 2, 2), name="rs"), L.Conv2D(1, 1), L.Flatten()]
    )
    with pytest.raises(UnsupportedLayerError, match=r"'rs' \(Reshape\).*transpose"):
        from_keras(model)


def test_batchnorm_over_a_spatial_axis_is_unsupported() -> None:
    model = keras.Sequential([keras.Input((4, 4, 2)), L.BatchNormalization(axis=1, name="bn")])
    with pytest.raises(UnsupportedLayerError, match=r"'bn' \(BatchNormalization\).*axis"):
        from_keras(model)


def test_zero_padding_before_a_convolution_is_absorbed() -> None:
    model = keras.Sequential(
        [
            keras.Input((6, 7, 2)),
            L.ZeroPadding2D(((1, 2), (0, 3)), name="zp"),
            L.Conv2D(3, 3, strides=2, name="conv"),
            L.Flatten(),
        ]
    )
    assert _check_predict(model).layer_names[1] == "conv"


def test_unsupported_image_layer_is_named() -> None:
    model = keras.Sequential([keras.Input((6, 6, 2)), L.ZeroPadding2D(1, name="zp")])
    with pytest.raises(UnsupportedLayerError, match=r"'zp' \(ZeroPadding2D\)"):
        from_keras(model)


# -- layers the native engine gained ----------------------------------------------------------


def _check_predict(model: Any, n: int = 4) -> Any:
    """The native model against Keras' own ``model.predict``, both on NHWC data."""
    shape = tuple(model.inputs[0].shape[1:])
    X = (np.random.default_rng(2).normal(size=(n, *shape)) * 3).astype(np.float32)
    with warnings.catch_warnings():  # Keras' torch backend trips NumPy 2's __array__ warning
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        expected = np.asarray(model.predict(X, verbose=0)).reshape(n, -1)
    native = from_keras(model)
    np.testing.assert_allclose(native.predict(X), expected, rtol=RTOL, atol=ATOL)
    return native


def test_conv_with_mish_activation() -> None:
    model = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            L.Conv2D(3, 3, padding="same", activation="mish", name="c"),
            L.Flatten(name="flat"),
            L.Dense(2, activation="mish", name="d"),
        ]
    )
    native = _check_predict(model)
    assert native.layer_names[1:] == ["c", "c/activation", "flat", "d", "d/activation"]
    assert native.spec.layers[2].kind == "mish"


def test_relu6_and_hard_swish_in_a_cnn() -> None:
    model = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            L.Conv2D(4, 3, name="c"),
            L.ReLU(max_value=6.0, name="r6"),
            L.DepthwiseConv2D(3, activation="hard_swish", name="dw"),
            L.GlobalAveragePooling2D(name="gap"),
            L.Dense(2, name="out"),
        ]
    )
    native = _check_predict(model)
    assert native.spec.layers[2].kind == "clamp"


@pytest.mark.parametrize("scale_shape", [(5, 5, 3), (5, 5, 1), (1, 5, 1)])
def test_per_pixel_rescaling(scale_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(4)
    scale = rng.uniform(0.5, 2.0, scale_shape).astype(np.float32)
    offset = rng.normal(size=(5, 5, 3)).astype(np.float32)
    model = keras.Sequential(
        [
            keras.Input((5, 5, 3)),
            L.Rescaling(scale, offset, name="rescale"),
            L.Conv2D(2, 3, name="c"),
            L.Flatten(),
            L.Dense(2),
        ]
    )
    native = _check_predict(model)
    assert native.spec.layers[1].kind == "scale_shift"


@pytest.mark.parametrize(
    "pool", [L.GlobalMaxPooling2D(keepdims=True), L.GlobalAveragePooling2D(keepdims=True)]
)
def test_global_pooling_keepdims_before_a_conv(pool: Any) -> None:
    model = keras.Sequential(
        [keras.Input((5, 6, 3)), pool, L.Conv2D(2, 1, name="c"), L.Flatten(), L.Dense(2)]
    )
    _check_predict(model)


def test_channels_first_flatten_on_a_channels_last_model() -> None:
    model = keras.Sequential(
        [
            keras.Input((4, 3, 2)),
            L.Conv2D(3, 2, name="c"),
            L.Flatten(data_format="channels_first", name="flat"),
            L.Dense(2, name="out"),
        ]
    )
    _check_predict(model)
