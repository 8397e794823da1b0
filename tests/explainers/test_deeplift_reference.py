"""DeepLift, DeepLiftShap, GuidedBackprop, Deconvolution, GradCAM and GuidedGradCAM against the
literal NumPy references in ``tests/reference/deeplift.py``, on every MLP of ``ARCHS`` and on a
small network whose early layers keep the (C, H, W) image shape."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import ARCHS, Net, build, make_data, make_net
from glassbox.models.spec import NetworkSpec
from reference import deeplift as ref
from reference.network import forward
from reference.spatial_nets import image_spec

NAMES = [a.name for a in ARCHS]


def per_row_target(n_outputs: int, n: int) -> np.ndarray | None:
    return None if n_outputs == 1 else np.arange(n) % n_outputs


def close(actual: np.ndarray, desired: np.ndarray, rtol: float = 2e-4, atol: float = 2e-5) -> None:
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), desired, rtol=rtol, atol=atol * scale
    )


@pytest.mark.parametrize("name", NAMES)
def test_deeplift_matches_reference(name: str) -> None:
    net = make_net(name)
    X = make_data(net.arch.n_inputs, 6, seed=1)
    B = make_data(net.arch.n_inputs, 6, seed=2)
    target = per_row_target(net.arch.n_outputs, 6)
    exp = gb.DeepLift(net.model)(X, baselines=B, target=target)
    close(exp.values, ref.deeplift(net.spec, X, B, target))
    t = np.zeros(6, int) if target is None else target
    f_x, f_b = forward(net.spec, X)[np.arange(6), t], forward(net.spec, B)[np.arange(6), t]
    close(exp.base_values, f_b)
    close(exp.delta, exp.values.sum(axis=1) - (f_x - f_b), atol=1e-4)


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu", "relu_softmax", "tanh_log_softmax"])
def test_deeplift_shap_matches_reference(name: str) -> None:
    net = make_net(name)
    X = make_data(net.arch.n_inputs, 5, seed=3)
    R = make_data(net.arch.n_inputs, 7, seed=4)
    target = per_row_target(net.arch.n_outputs, 5)
    exp = gb.DeepLiftShap(net.model)(X, baselines=R, target=target)
    close(exp.values, ref.deeplift_shap(net.spec, X, R, target))
    t = np.zeros(5, int) if target is None else target
    f_r = forward(net.spec, R)[:, t].mean(axis=0)
    close(exp.base_values, f_r)


def test_deeplift_shap_with_one_reference_is_deeplift(relu_net: Net) -> None:
    X = make_data(5, 4)
    r = make_data(5, 1, seed=9)
    shap = gb.DeepLiftShap(relu_net.model)(X, baselines=r, target=2)
    single = gb.DeepLift(relu_net.model)(X, baselines=r[0], target=2)
    np.testing.assert_allclose(shap.values, single.values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(shap.delta, single.delta, atol=1e-6)


def test_deeplift_shap_is_independent_of_blocks_and_threads(relu_net: Net) -> None:
    X = make_data(5, 40)
    R = make_data(5, 9, seed=5)
    a = gb.DeepLiftShap(relu_net.model, n_threads=1)(X, baselines=R, target=1)
    b = gb.DeepLiftShap(relu_net.model, n_threads=2, memory_budget=2000)(X, baselines=R, target=1)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-6, atol=1e-7)


def test_deeplift_on_a_linear_network_is_input_minus_baseline_times_weight() -> None:
    from conftest import make_linear_spec

    w = np.array([[1.0, -2.0, 0.5]], np.float32)
    model = build(make_linear_spec(w, np.array([0.3], np.float32)))
    X, B = make_data(3, 4), make_data(3, 4, seed=8)
    exp = gb.DeepLift(model)(X, baselines=B, target=0)
    np.testing.assert_allclose(exp.values, (X - B) * w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["guided", "deconv"])
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh", "relu_softmax"])
def test_modified_relu_matches_reference(name: str, mode: str) -> None:
    net = make_net(name)
    X = make_data(net.arch.n_inputs, 6)
    target = per_row_target(net.arch.n_outputs, 6)
    cls = gb.GuidedBackprop if mode == "guided" else gb.Deconvolution
    close(cls(net.model)(X, target=target).values, ref.modified_relu(net.spec, X, target, mode))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_image_network_methods_match_reference(activation: str) -> None:
    spec = image_spec(activation=activation)
    model = build(spec)
    X, B = make_data((2, 4, 4), 5), make_data((2, 4, 4), 5, seed=6)
    target = np.arange(5) % 3
    close(
        gb.DeepLift(model)(X, baselines=B, target=target).values, ref.deeplift(spec, X, B, target)
    )
    close(
        gb.GuidedBackprop(model)(X, target=target).values,
        ref.modified_relu(spec, X, target, "guided"),
    )
    cam = gb.GradCAM(model, layer="act")(X, target=target)
    assert cam.values.shape == (5, 4, 4)
    close(cam.values, ref.grad_cam(spec, X, target, "act"))


def test_grad_cam_at_a_layer_read_across_a_skip() -> None:
    """The gradient at the layer is complete even when later layers read earlier ones."""
    spec = image_spec()
    model = build(spec)
    X = make_data((2, 4, 4), 3)
    close(
        gb.GradCAM(model, layer="features")(X, target=1).values,
        ref.grad_cam(spec, X, 1, "features"),
    )


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(8, 8), (7, 5), (3, 2), (4, 4)])
def test_resize_matches_reference(mode: str, size: tuple[int, int]) -> None:
    from glassbox.explainers.guided import resize

    maps = make_data((4, 4), 3)
    close(resize(maps, size, mode), ref.resize(maps.astype(np.float64), size, mode), atol=1e-6)


def test_grad_cam_upsample_and_guided_grad_cam_match_reference() -> None:
    spec = NetworkSpec(input_shape=(2, 6, 6))
    rng = np.random.default_rng(0)
    spec.add("relu", "act")
    spec.add("flatten", "flat")
    spec.add("dense", "fc", weight=rng.normal(0, 0.3, (3, 72)), bias=rng.normal(0, 0.3, 3))
    model = build(spec)
    X = make_data((2, 6, 6), 4)
    maps = ref.grad_cam(spec, X, 2, "act")
    up = gb.GradCAM(model, layer="act", upsample=True)(X, target=2)
    close(up.values, ref.resize(maps, (6, 6), "bilinear"))
    guided = ref.modified_relu(spec, X, 2, "guided")
    ggc = gb.GuidedGradCAM(model, layer="act")(X, target=2)
    assert ggc.values.shape == X.shape
    close(ggc.values, guided * ref.resize(maps, (6, 6), "nearest")[:, None])
