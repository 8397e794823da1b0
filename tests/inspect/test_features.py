"""glassbox.inspect.features / filters / feature_maps against torch forward hooks and the
modules' weights; pooling; chunk independence; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from torch_nets import hooked, lenet, mlp, residual

import glassbox as gb
from reference.activations import pooled

RNG = np.random.default_rng(1)
X_LENET = RNG.normal(size=(70, 1, 28, 28)).astype(np.float32)
X_RES = RNG.normal(size=(40, 2, 8, 8)).astype(np.float32)


@pytest.mark.parametrize(
    ("make", "X", "names"),
    [
        (mlp, RNG.normal(size=(50, 5)).astype(np.float32), ["0", "1", "3", "4", "5", "6"]),
        (lenet, X_LENET, ["conv1", "relu1", "pool1", "conv2", "pool2", "fc1", "relu4", "fc3"]),
        (residual, X_RES, ["conv1", "bn1", "relu", "conv2", "act2", "pool", "fc"]),
    ],
)
def test_features_equal_torch_forward_hooks(make, X, names):
    net = make()
    model = gb.from_torch(net, input_shape=X.shape[1:])
    hooks = hooked(net, X, names)
    for name in names:
        got = gb.inspect.features(model, X, name)
        assert got.shape == hooks[name].shape and got.dtype == np.float32
        np.testing.assert_allclose(got, hooks[name], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("pool", ["mean", "max"])
def test_pooled_features(pool):
    net = residual()
    model = gb.from_torch(net, input_shape=(2, 8, 8))
    hooks = hooked(net, X_RES, ["relu", "act2"])
    for name in ("relu", "act2"):
        got = gb.inspect.features(model, X_RES, name, pool=pool)
        assert got.shape == (len(X_RES), 4)
        np.testing.assert_allclose(got, pooled(hooks[name], pool), rtol=1e-4, atol=1e-5)
        own = gb.inspect.features(model, X_RES, name)
        np.testing.assert_allclose(got, pooled(own, pool), rtol=1e-6, atol=1e-7)


def test_features_independent_of_threads_and_chunks():
    model = gb.from_torch(lenet(), input_shape=(1, 28, 28))
    X = np.concatenate([X_LENET] * 4)
    one = gb.inspect.features(model, X, "relu2", pool="mean", n_threads=1)
    np.testing.assert_array_equal(
        one, gb.inspect.features(model, X, "relu2", pool="mean", n_threads=3)
    )
    small = gb.inspect.features(model, X, "relu2", pool="mean", memory_budget=1 << 16)
    np.testing.assert_allclose(one, small, rtol=1e-5, atol=1e-6)


def test_filters_and_feature_maps():
    net = lenet()
    model = gb.from_torch(net, input_shape=(1, 28, 28))
    np.testing.assert_array_equal(
        gb.inspect.filters(model, "conv2"), net.conv2.weight.detach().numpy()
    )
    maps = gb.inspect.feature_maps(model, X_LENET[3], "relu1")
    assert maps.shape == (6, 24, 24)
    np.testing.assert_array_equal(maps, gb.inspect.features(model, X_LENET[3:4], "relu1")[0])
    np.testing.assert_array_equal(maps, gb.inspect.feature_maps(model, X_LENET[3:4], "relu1"))


def test_bad_input():
    model = gb.from_torch(lenet(), input_shape=(1, 28, 28))
    with pytest.raises(ValueError, match=r"layer: 'nope' is not a layer.*conv1, relu1"):
        gb.inspect.features(model, X_LENET, "nope")
    with pytest.raises(ValueError, match=r"'fc1' is not one of the image layers.*conv1, relu1"):
        gb.inspect.features(model, X_LENET, "fc1", pool="mean")
    with pytest.raises(ValueError, match="pool"):
        gb.inspect.features(model, X_LENET, "relu1", pool="sum")
    with pytest.raises(
        ValueError, match=r"'relu1' is not one of the convolution layers.*conv1, conv2"
    ):
        gb.inspect.filters(model, "relu1")
    with pytest.raises(ValueError, match=r"'fc3' is not one of the image layers.*pool2"):
        gb.inspect.feature_maps(model, X_LENET[0], "fc3")
    with pytest.raises(ValueError, match="one sample"):
        gb.inspect.feature_maps(model, X_LENET[:2], "relu1")
    with pytest.raises(ValueError, match="not a layer"):
        gb.inspect.filters(model, "nope")


def test_a_raw_torch_module_is_converted():
    net = lenet()
    hooks = hooked(net, X_LENET, ["relu2"])
    np.testing.assert_allclose(
        gb.inspect.features(net, X_LENET, "relu2"), hooks["relu2"], rtol=1e-4, atol=1e-5
    )
    assert gb.inspect.activations(net, X_LENET).layers[0] == "relu1"
    assert gb.inspect.feature_maps(net, X_LENET[0], "conv2").shape == (16, 8, 8)
    with pytest.raises(TypeError, match="needs a network it can look inside"):
        gb.inspect.features(lambda X: X, X_LENET, "relu2")
