"""The graph builder: names, shapes, layouts, constants, batch norm and unsupported layers.

These tests work on the spec the builder writes (no framework needed); the adapters' own tests
check the same paths end to end against torch, ONNX and Keras.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassbox.errors import UnsupportedLayerError
from glassbox.models.builder import BATCH, UNKNOWN, GraphBuilder, Tensor, Unsupported
from glassbox.models.shapes import layer_shapes
from reference.network import forward

RNG = np.random.default_rng(0)


def _builder(shape: tuple[int, ...], channels_last: bool = False, **kw: object) -> GraphBuilder:
    return GraphBuilder(
        shape, adapter="from_test", supported=("Dense", "Conv"), channels_last=channels_last, **kw
    )  # type: ignore[arg-type]


def _kinds(builder: GraphBuilder) -> list[str]:
    return [layer.kind for layer in builder.spec.layers]


def test_names_are_unique() -> None:
    b = _builder((3,))
    x = b.identity("a", b.input)
    x = b.identity("a", x)
    x = b.identity("a", x)
    assert [layer.name for layer in b.spec.layers] == ["a", "a_1", "a_2"]


def test_shapes_follow_the_layer_table() -> None:
    b = _builder((2, 9, 9))
    x = b.conv2d("conv", b.input, RNG.normal(size=(4, 2, 3, 3)), None, stride=2, padding="same")
    assert x.shape == (4, 5, 5)
    y = b.pool2d("pool", "max_pool2d", x, 2, ceil_mode=True)
    assert y.shape == (4, 3, 3)
    z = b.flatten("flat", y)
    assert z.shape == (36,)
    assert layer_shapes(b.spec) == [(4, 5, 5), (4, 3, 3), (36,)]


@pytest.mark.parametrize(
    ("op", "constant", "first", "expected"),
    [
        ("add", 1.5, True, lambda x: x + 1.5),
        ("sub", 1.5, True, lambda x: x - 1.5),
        ("sub", 1.0, False, lambda x: 1.0 - x),
        ("mul", 0.5, True, lambda x: x * 0.5),
        ("div", 255.0, True, lambda x: x / 255.0),
        ("mul", np.array([1.0, -2.0, 3.0]).reshape(3, 1, 1), False, None),
        ("add", np.arange(3.0 * 4 * 4).reshape(3, 4, 4), True, None),
        ("div", np.arange(1.0, 5.0).reshape(1, 4), True, None),
    ],
)
def test_constant_arithmetic(op: str, constant: object, first: bool, expected: object) -> None:
    b = _builder((3, 4, 4))
    args = (b.input, constant) if first else (constant, b.input)
    out = b.arithmetic("op", op, *args)
    spec = b.finish(out)
    X = RNG.normal(size=(5, 3, 4, 4))
    ops = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}
    a, c = (X, np.asarray(constant)) if first else (np.asarray(constant), X)
    want = ops[op](a, c).reshape(5, -1)
    np.testing.assert_allclose(forward(spec, X).reshape(5, -1), want, rtol=1e-6, atol=1e-6)
    per_channel = np.ndim(constant) == 0 or np.asarray(constant).size == 3
    assert _kinds(b) == ["batch_norm" if per_channel else "scale_shift"]


def test_constants_fold() -> None:
    b = _builder((3,))
    assert b.arithmetic("c", "mul", np.array([2, 3]), 4).tolist() == [8, 12]
    assert b.arithmetic("c", "div", np.array([7]), np.array([2])).tolist() == [3]
    assert b.spec.layers == []


def test_two_tensors_add_subtract_multiply_and_divide() -> None:
    X = RNG.normal(size=(4, 3))
    for op, expected in (
        ("sub", np.tanh(X) - X),
        ("mul", np.tanh(X) * X),
        ("div", np.tanh(X) / X),
    ):
        b = _builder((3,))
        x = b.activation("act", "tanh", b.input)
        spec = b.finish(b.arithmetic("diff", op, x, b.input))
        np.testing.assert_allclose(forward(spec, X), expected, atol=1e-12)
    b = _builder((6,))
    with pytest.raises(Unsupported, match="do not broadcast"):
        b.arithmetic("p", "mul", b.input, b.reshape("r", b.input, [BATCH, 2, 3]))


def test_batch_norm_folds_running_statistics() -> None:
    b = _builder((3, 2, 2))
    mean, var = np.array([0.1, -0.2, 0.3]), np.array([1.0, 2.0, 0.5])
    gamma, beta = np.array([1.5, 1.0, -1.0]), np.array([0.0, 0.5, 0.1])
    spec = b.finish(b.batch_norm("bn", b.input, mean, var, gamma, beta, 1e-5))
    X = RNG.normal(size=(4, 3, 2, 2))
    c = (slice(None), slice(None), None, None)
    want = (X - mean[c[1:]]) / np.sqrt(var[c[1:]] + 1e-5) * gamma[c[1:]] + beta[c[1:]]
    np.testing.assert_allclose(forward(spec, X).reshape(4, -1), want.reshape(4, -1), rtol=1e-6)
    with pytest.raises(Unsupported, match="axis=2"):
        b.batch_norm("bn2", b.input, mean, var, gamma, beta, 1e-5, axis=2)


def test_channels_last_layout_end_to_end() -> None:
    """A Keras-style (H, W, C) model: the network takes (H, W, C) samples and permutes them to
    (C, H, W) in its first layer; flattening keeps the framework's order through the permuted
    dense layer."""
    b = _builder((4, 5, 2), channels_last=True)
    assert b.input.shape == (2, 4, 5) and b.input.channels_last
    assert b.spec.input_shape == (4, 5, 2) and b.spec.layers[0].kind == "permute"
    kernel = RNG.normal(size=(3, 2, 3, 3))
    x = b.conv2d("conv", b.input, kernel, None, padding="same")
    assert x.channels_last and x.framework_shape == (4, 5, 3)
    flat = b.flatten("flat", x)
    assert flat.perm is not None
    weight = RNG.normal(size=(6, 60))
    spec = b.finish(b.dense("fc", flat, weight, None))
    X = RNG.normal(size=(2, 4, 5, 2))  # channels-last data
    native = forward(spec, X)
    # the same computation done channels-last by hand
    conv = np.zeros((2, 4, 5, 3))
    padded = np.pad(X, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for i in range(4):
        for j in range(5):
            conv[:, i, j] = np.einsum("nhwc,ochw->no", padded[:, i : i + 3, j : j + 3], kernel)
    np.testing.assert_allclose(native, conv.reshape(2, -1) @ weight.T, rtol=1e-5, atol=1e-5)


def test_reshape_keeps_the_batch() -> None:
    b = _builder((2, 3, 4), fixed_batch=8)
    assert b.reshape("r", b.input, [BATCH, 6, 4]).shape == (6, 4)
    assert b.reshape("r", b.input, [-1, 24]).shape == (24,)
    assert b.reshape("r", b.input, [8, 4, 6]).shape == (4, 6)  # the graph's fixed batch
    assert b.reshape("r", b.input, [0, 2, 12]).shape == (2, 12)
    for dims in ([-1, -1], [24], [BATCH, 5, -1], [-1, 2, -1]):
        with pytest.raises(Unsupported, match="batch axis first"):
            b.reshape("r", b.input, dims)


def test_mean_over_spatial_axes_is_global_pooling_else_reduce_mean() -> None:
    b = _builder((3, 4, 5))
    assert b.mean("m", b.input, (2, 3)).shape == (3,)
    assert _kinds(b) == ["adaptive_avg_pool2d", "flatten"]
    assert b.mean("c", b.input, 1).shape == (4, 5)
    assert b.mean("k", b.input, [-1], keepdims=True).shape == (3, 4, 1)
    assert _kinds(b)[2:] == ["reduce_mean", "reduce_mean"]
    with pytest.raises(Unsupported, match="batch"):
        b.mean("b", b.input, 0)


def test_softmax_axis_and_activation_params_are_checked() -> None:
    b = _builder((3,))
    b.activation("sm", "softmax", b.input, axis=-1)
    with pytest.raises(Unsupported, match="dim=0"):
        b.activation("sm", "softmax", b.input, axis=0, axis_name="dim")
    with pytest.raises(Unsupported, match="not a constant"):
        b.activation("lr", "leaky_relu", b.input, {"negative_slope": "x"})
    with pytest.raises(Unsupported, match="above max"):
        b.activation("c", "clamp", b.input, {"min": 2.0, "max": 1.0})
    with pytest.raises(ValueError, match="unknown parameter"):
        b.activation("r", "relu", b.input, {"slope": 1.0})


def test_every_unsupported_layer_is_named_once() -> None:
    b = _builder((3,))
    x = b.unsupported("emb", "Embedding")
    y = b.translate("fc", "Dense", b.dense, "fc", b.input, np.ones((2, 5)), None)
    assert y is UNKNOWN
    z = b.dense("after", x, np.ones((2, 3)), None)  # downstream of a failure: not reported
    assert z is UNKNOWN and not z.known
    b.unsupported("lstm", "LSTM")
    with pytest.raises(UnsupportedLayerError) as info:
        b.finish(z)
    message = str(info.value)
    assert "3 layers are not supported by from_test" in message
    assert "'emb' (Embedding)" in message and "Embedding is planned" in message
    assert "'fc' (Dense)" in message and "maps 5 features" in message
    assert "'lstm' (LSTM)" in message and "'after'" not in message
    assert "Supported: Dense, Conv" in message


def test_nearest_alternative() -> None:
    b = _builder((3,))
    assert "LeakyReLU" in (b.nearest("PReLU") or "")
    assert b.nearest("Dence") == "Dense"
    assert b.nearest("Frobnicate") is None


def test_finish_adds_an_output_layer_for_the_input_or_an_earlier_layer() -> None:
    b = _builder((3,))
    spec = b.finish(b.input, "y")
    assert [(layer.kind, layer.name) for layer in spec.layers] == [("identity", "y")]
    assert isinstance(b.input, Tensor)


def test_a_channels_last_output_is_permuted_back_at_any_size() -> None:
    """An image output leaves in the framework's (H, W, C) order through a permute layer and a
    flatten (no dense reordering matrix, so no size limit)."""
    b = _builder((64, 64, 3), channels_last=True)
    spec = b.finish(b.identity("id", b.input))
    assert [layer.kind for layer in spec.layers[-2:]] == ["permute", "flatten"]
    X = RNG.normal(size=(2, 64, 64, 3))
    np.testing.assert_allclose(forward(spec, X), X.reshape(2, -1))
