"""DeepLift, DeepLiftShap, GuidedBackprop, Deconvolution, GradCAM and GuidedGradCAM reject bad
input with a clear ValueError/TypeError naming the argument, and never modify caller arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from conftest import build, make_data, make_net
from reference.spatial_nets import image_spec

D, N, K = 5, 6, 3


@pytest.fixture(scope="module")
def model() -> Any:
    return make_net("relu").model


@pytest.fixture(scope="module")
def image_model() -> Any:
    return build(image_spec())


def _R() -> np.ndarray:
    return make_data(D, 4, seed=3)


CALLS: dict[str, Callable[..., Any]] = {
    "deeplift": lambda m, X, target=0: gb.DeepLift(m)(X, baselines=0.0, target=target),
    "deeplift_shap": lambda m, X, target=0: gb.DeepLiftShap(m)(X, baselines=_R(), target=target),
    "guided_backprop": lambda m, X, target=0: gb.GuidedBackprop(m)(X, target=target),
    "deconvolution": lambda m, X, target=0: gb.Deconvolution(m)(X, target=target),
}
ALL = list(CALLS)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X(model, name: str, bad: float) -> None:
    X = make_data(D, N)
    X[1, 2] = bad
    with pytest.raises(ValueError, match=r"\bX\b"):
        CALLS[name](model, X)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", [(N, D + 1), (D,), (N, D, 1), (0, D)], ids=str)
def test_X_wrong_shape_or_empty(model, name: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"\bX\b"):
        CALLS[name](model, np.ones(shape, np.float32))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("target", [K, -1, [0] * (N - 1), None], ids=str)
def test_bad_target(model, name: str, target: Any) -> None:
    with pytest.raises(ValueError, match="target"):
        CALLS[name](model, make_data(D, N), target=target)


@pytest.mark.parametrize(
    "baselines",
    [np.zeros(D + 1), np.zeros((N + 1, D)), np.zeros((N, D + 1)), np.zeros((2, N, D)), np.nan],
    ids=["row_width", "rows", "width", "rank3", "nan"],
)
def test_deeplift_baselines_wrong_shape_or_value(model, baselines: Any) -> None:
    with pytest.raises(ValueError, match="baselines"):
        gb.DeepLift(model)(make_data(D, N), baselines=baselines, target=0)


@pytest.mark.parametrize(
    "baselines",
    [np.zeros((4, D + 1)), np.zeros((0, D)), np.zeros((2, 4, D)), np.full((3, D), np.inf)],
    ids=["width", "empty", "rank3", "inf"],
)
def test_deeplift_shap_baselines_wrong_shape_or_value(model, baselines: Any) -> None:
    with pytest.raises(ValueError, match="baselines"):
        gb.DeepLiftShap(model)(make_data(D, N), baselines=baselines, target=0)


@pytest.mark.parametrize("cls", [gb.GradCAM, gb.GuidedGradCAM])
def test_unknown_layer_name_lists_the_layers(image_model, cls) -> None:
    with pytest.raises(ValueError, match=r"layer: no layer named 'conv9'.*'act'.*'fc1'"):
        cls(image_model, layer="conv9")


@pytest.mark.parametrize("cls", [gb.GradCAM, gb.GuidedGradCAM])
def test_grad_cam_on_a_non_spatial_layer(image_model, cls) -> None:
    with pytest.raises(ValueError, match=r"spatial \(C, H, W\).*'fc0'.*Spatial layers: 'features'"):
        cls(image_model, layer="fc0")


def test_grad_cam_layer_must_be_a_name(image_model) -> None:
    with pytest.raises(TypeError, match="layer"):
        gb.GradCAM(image_model, layer=1)


def test_guided_grad_cam_unknown_interpolation(image_model) -> None:
    with pytest.raises(ValueError, match="interpolate_mode"):
        gb.GuidedGradCAM(image_model, layer="act", interpolate_mode="bicubic")


def test_grad_cam_on_a_vector_network(model) -> None:
    with pytest.raises(ValueError, match="layer"):
        gb.GradCAM(model, layer="act0")


@pytest.mark.parametrize(
    "factory",
    [
        gb.DeepLift,
        gb.DeepLiftShap,
        gb.GuidedBackprop,
        gb.Deconvolution,
        lambda m: gb.GradCAM(m, layer="x"),
    ],
)
def test_callable_models_are_rejected(factory) -> None:
    wrapped = gb.wrap(lambda X: X[:, :1], n_inputs=D)
    with pytest.raises(TypeError, match="native network"):
        factory(wrapped)


def test_caller_arrays_are_not_modified(model, image_model) -> None:
    X, R = make_data(D, N), _R()
    X0, R0 = X.copy(), R.copy()
    gb.DeepLift(model)(X, baselines=R[0], target=1)
    gb.DeepLiftShap(model)(X, baselines=R, target=1)
    gb.GuidedBackprop(model)(X, target=1)
    Xi = make_data((2, 4, 4), 3)
    Xi0 = Xi.copy()
    gb.GuidedGradCAM(image_model, layer="act")(Xi, target=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(R, R0)
    np.testing.assert_array_equal(Xi, Xi0)
