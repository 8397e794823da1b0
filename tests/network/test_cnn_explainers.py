"""The gradient explainers on convolutional networks: images in, images out."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from cnn_nets import inception_spec, lenet_spec, resnet_spec
from conftest import build, make_data
from reference.network import forward, gradient


@pytest.fixture(scope="module")
def resnet():  # type: ignore[no-untyped-def]
    spec = resnet_spec(seed=3)
    return spec, build(spec)


def test_explainers_return_image_shaped_values(resnet) -> None:  # type: ignore[no-untyped-def]
    spec, model = resnet
    X = make_data(spec.input_shape, n_rows=3, seed=2)
    R = make_data(spec.input_shape, n_rows=4, seed=5) * 0.1
    explanations = [
        gb.Saliency(model)(X, target=1),
        gb.InputXGradient(model)(X, target=1),
        gb.IntegratedGradients(model, n_steps=8)(X, target=1),
        gb.SmoothGrad(model, n_samples=4, stdev=0.1)(X, target=1),
        gb.GradientShap(model, n_samples=4)(X, baselines=R, target=1),
    ]
    for exp in explanations:
        assert exp.values.shape == X.shape
        assert np.isfinite(exp.values).all()
    np.testing.assert_allclose(
        explanations[0].values, np.abs(gradient(spec, X, 1)), rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize(
    "builder", [lenet_spec, resnet_spec, inception_spec], ids=["lenet", "resnet", "inception"]
)
def test_integrated_gradients_completeness_on_cnns(builder) -> None:  # type: ignore[no-untyped-def]
    spec = builder(seed=4)
    model = build(spec)
    X = make_data(spec.input_shape, n_rows=3, seed=6)
    baseline = 0.25 * make_data(spec.input_shape, n_rows=1, seed=7)[0]
    exp = gb.IntegratedGradients(model, n_steps=200)(X, baselines=baseline, target=2)
    gap = forward(spec, X)[:, 2] - forward(spec, baseline[None])[0, 2]
    # piecewise-linear nets: the quadrature error shrinks with n_steps; 2% of the output gap
    np.testing.assert_allclose(exp.values.reshape(3, -1).sum(axis=1), gap, rtol=0.02, atol=0.02)
    np.testing.assert_allclose(exp.delta, exp.values.reshape(3, -1).sum(axis=1) - gap, atol=1e-3)


@pytest.mark.parametrize(
    "bad_shape",
    [(2, 3, 12, 11), (2, 12, 12, 3), (2, 3 * 12 * 12), (3, 12, 12)],
    ids=["wrong_width", "channels_last", "flat", "no_batch_axis"],
)
def test_wrong_image_shape_is_a_clear_error(resnet, bad_shape) -> None:  # type: ignore[no-untyped-def]
    _, model = resnet
    X = np.zeros(bad_shape, np.float32)
    for call in (
        lambda: model.predict(X),
        lambda: gb.Saliency(model)(X, target=0),
        lambda: gb.IntegratedGradients(model, n_steps=4)(X, target=0),
    ):
        with pytest.raises(ValueError, match=r"X: .*\(n, 3, 12, 12\)"):
            call()
