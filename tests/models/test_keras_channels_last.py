"""A Keras model built channels-last takes channels-last data (n, H, W, C) through glassbox by
default, for every explainer, and attributions come back channels-last; the native permute layer
that makes it so (forward, gradient, the NumPy reference)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import glassbox as gb
from glassbox.models.spec import NetworkSpec
from reference.network import forward, gradient

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
L = keras.layers

SHAPE = (8, 8, 2)
MASK = gb.superpixels(SHAPE, 4, channels_last=True)


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            L.Conv2D(3, 3, activation="relu", name="c"),
            L.MaxPooling2D(name="p"),
            L.Flatten(name="f"),
            L.Dense(3, name="d"),
        ]
    )


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.random.default_rng(0).random((4, *SHAPE), dtype=np.float32)


def keras_outputs(model, X: np.ndarray) -> np.ndarray:
    return model(X, training=False).detach().numpy()


def test_predictions_equal_keras_on_channels_last_data(cnn, X) -> None:
    native = gb.from_keras(cnn)
    assert native.input_shape == SHAPE
    np.testing.assert_allclose(native.predict(X), keras_outputs(cnn, X), rtol=1e-5, atol=1e-5)


def test_gradients_equal_torch_autograd(cnn, X) -> None:
    x = torch.tensor(X, requires_grad=True)
    cnn(x, training=False)[:, 1].sum().backward()
    ours = gb.Saliency(cnn, abs=False)(X, target=1)  # the raw Keras model, converted
    assert ours.values.shape == X.shape
    np.testing.assert_allclose(ours.values, x.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, X: gb.IntegratedGradients(m, n_steps=16),
        lambda m, X: gb.Saliency(m),
        lambda m, X: gb.DeepLift(m),
        lambda m, X: gb.LRP(m),
        lambda m, X: gb.KernelShap(m, background=X[:1], n_samples=300),
        lambda m, X: gb.FeatureAblation(
            m, feature_mask=gb.superpixels(SHAPE, 4, channels_last=True)
        ),
        lambda m, X: gb.Occlusion(m, (2, 2, 2), strides=(2, 2, 2)),
        lambda m, X: gb.Lime(m, X, num_samples=50),
    ],
    ids=["ig", "saliency", "deeplift", "lrp", "kernelshap", "ablation", "occlusion", "lime"],
)
def test_every_explainer_takes_channels_last(cnn, X, make) -> None:
    exp = make(cnn, X)(X, target=1)
    assert exp.values.shape == X.shape and np.isfinite(exp.values).all()


def test_integrated_gradients_completeness(cnn, X) -> None:
    exp = gb.IntegratedGradients(cnn, n_steps=256)(X, baselines=0.0, target=2)
    gap = keras_outputs(cnn, X)[:, 2] - keras_outputs(cnn, np.zeros_like(X))[:, 2]
    np.testing.assert_allclose(exp.values.reshape(4, -1).sum(axis=1), gap, atol=2e-3)


def test_channels_first_data_gets_a_hint(cnn, X) -> None:
    with pytest.raises(ValueError, match=r"looks channels-first.*X\.transpose\(0, 2, 3, 1\)"):
        gb.Saliency(cnn)(X.transpose(0, 3, 1, 2), target=0)


@pytest.mark.parametrize("perm", [(2, 0, 1), (1, 2, 0), (0, 2, 1), (1, 0)])
def test_permute_layer_against_numpy(perm) -> None:
    shape = (3, 4, 5)[: len(perm)]
    spec = NetworkSpec(input_shape=shape)
    spec.add("permute", "t", params={"perm": perm})
    spec.add("flatten", "f")
    rng = np.random.default_rng(1)
    spec.add("dense", "fc", weight=rng.normal(size=(2, int(np.prod(shape)))), bias=None)
    X = rng.normal(size=(3, *shape)).astype(np.float32)
    model = gb.build_network(spec)
    expected = (
        X.transpose(0, *[a + 1 for a in perm]).reshape(3, -1) @ spec.layers[2].weights["weight"].T
    )
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(forward(spec, X), expected, rtol=1e-5, atol=1e-5)
    ours = gb.Saliency(model, abs=False)(X, target=1).values
    np.testing.assert_allclose(ours, gradient(spec, X, 1), rtol=1e-5, atol=1e-6)


def test_bad_perm_is_refused() -> None:
    spec = NetworkSpec(input_shape=(2, 3))
    spec.add("permute", "t", params={"perm": (0, 0)})
    with pytest.raises(ValueError, match="permute"):
        gb.build_network(spec)
