"""Occlusion and feature ablation: brute-force NumPy references, Captum's Occlusion and
FeatureAblation on the same torch twin, determinism, native vs callable, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from cnn_nets import lenet_spec, torch_forward
from conftest import build, make_data, make_net
from reference import local as ref


def lenet() -> tuple[object, object]:
    spec = lenet_spec(seed=1, input_hw=16, n_outputs=4)
    return spec, build(spec)


def images(n: int = 3, seed: int = 5) -> np.ndarray:
    return make_data((1, 16, 16), n_rows=n, seed=seed)


@pytest.mark.parametrize(
    ("window", "strides"),
    [((1, 3, 3), (1, 2, 2)), ((1, 4, 5), 1), ((1, 16, 2), (1, 1, 2)), ((1, 5, 5), (1, 4, 3))],
)
def test_occlusion_matches_reference(window: tuple, strides: object) -> None:
    _, model = lenet()
    X = images()
    targets = np.array([0, 3, 1])
    exp = gb.Occlusion(model, window, strides=strides, baselines=0.25)(X, target=targets)
    full = strides if isinstance(strides, tuple) else (strides,) * 3
    want = ref.occlusion(
        model.predict,
        X.astype(np.float32),
        np.full(X.shape, 0.25, np.float32),
        window,
        full,
        targets,
    )
    np.testing.assert_allclose(exp.values, want, rtol=1e-5, atol=1e-6)
    assert exp.values.shape == X.shape and exp.method == "occlusion"


@pytest.mark.parametrize(
    ("window", "strides", "baselines"),
    [((1, 3, 3), (1, 2, 2), 0.0), ((1, 4, 4), (1, 3, 1), "row"), ((1, 2, 6), 2, "sample")],
)
def test_occlusion_matches_captum(window: tuple, strides: object, baselines: str | float) -> None:
    torch = pytest.importorskip("torch")
    captum_attr = pytest.importorskip("captum.attr")
    spec, model = lenet()
    X = images()
    rng = np.random.default_rng(0)
    if baselines == "row":
        base = rng.normal(size=X.shape).astype(np.float32)
    elif baselines == "sample":
        base = rng.normal(size=X.shape[1:]).astype(np.float32)
    else:
        base = baselines
    exp = gb.Occlusion(model, window, strides=strides, baselines=base)(X, target=[1, 2, 0])
    torch_base = base if isinstance(base, float) else torch.tensor(np.broadcast_to(base, X.shape))
    theirs = captum_attr.Occlusion(lambda t: torch_forward(spec, t)).attribute(
        torch.tensor(X),
        sliding_window_shapes=window,
        strides=strides,
        baselines=torch_base,
        target=[1, 2, 0],
    )
    np.testing.assert_allclose(exp.values, theirs.numpy(), rtol=1e-4, atol=1e-5)


def _mask_cases(d: int) -> list:
    return [None, np.array([0, 0, 1, 2, 2]), np.array([[4, 1, 4, 1, 9]])]


@pytest.mark.parametrize("case", range(3))
def test_feature_ablation_matches_reference_and_captum(case: int) -> None:
    torch = pytest.importorskip("torch")
    captum_attr = pytest.importorskip("captum.attr")
    from conftest import torch_from_spec

    net = make_net("relu")
    module = torch_from_spec(net.spec)
    X = make_data(5, n_rows=6)
    mask = _mask_cases(5)[case]
    base = np.linspace(-1, 1, 5).astype(np.float32)
    exp = gb.FeatureAblation(net.model, feature_mask=mask, baselines=base)(X, target=2)
    group_of = np.arange(5) if mask is None else np.unique(mask, return_inverse=True)[1].ravel()
    want = ref.feature_ablation(
        net.model.predict, X, np.broadcast_to(base, X.shape), group_of, np.full(6, 2)
    )
    np.testing.assert_allclose(exp.values, want, rtol=1e-5, atol=1e-6)
    theirs = captum_attr.FeatureAblation(module).attribute(
        torch.tensor(X),
        baselines=torch.tensor(base)[None],
        target=2,
        feature_mask=None if mask is None else torch.tensor(mask).reshape(1, 5),
    )
    np.testing.assert_allclose(exp.values, theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_feature_ablation_groups_list_and_images() -> None:
    net = make_net("tanh")
    X = make_data(5, n_rows=4)
    exp = gb.FeatureAblation(net.model, feature_mask=[[0, 3], [4]])(X, target=1)
    group_of = np.array([0, -1, -1, 0, 1])
    want = ref.feature_ablation(net.model.predict, X, np.zeros_like(X), group_of, np.ones(4, int))
    np.testing.assert_allclose(exp.values, want, rtol=1e-5, atol=1e-6)
    assert np.all(exp.values[:, [1, 2]] == 0)
    _, model = lenet()
    imgs = images(2)
    mask = np.repeat(np.arange(4), 64).reshape(1, 16, 16)  # horizontal bands
    exp = gb.FeatureAblation(model, feature_mask=mask)(imgs, target=0)
    want = ref.feature_ablation(
        model.predict, imgs, np.zeros_like(imgs), mask.ravel(), np.zeros(2, int)
    )
    np.testing.assert_allclose(exp.values, want, rtol=1e-5, atol=1e-6)


def test_threads_and_callable_agree() -> None:
    _, model = lenet()
    X = images(5)
    occ = dict(sliding_window_shapes=(1, 3, 3), strides=(1, 2, 2))
    one = gb.Occlusion(model, **occ, n_threads=1)(X, target=1)
    two = gb.Occlusion(model, **occ, n_threads=2)(X, target=1)
    np.testing.assert_array_equal(one.values, two.values)
    small = gb.Occlusion(model, **occ, n_threads=2, memory_budget=1)(X, target=1)
    np.testing.assert_allclose(small.values, one.values, rtol=1e-4, atol=1e-6)
    flat = gb.wrap(lambda A: model.predict(A.reshape(-1, 1, 16, 16)), n_inputs=256)
    other = gb.Occlusion(flat, **occ)(X, target=1)  # a callable of flattened rows takes images
    np.testing.assert_allclose(other.values, one.values, rtol=1e-5, atol=1e-6)
    net = make_net("relu")
    Xt = make_data(5, n_rows=8)
    a = gb.FeatureAblation(net.model, n_threads=1)(Xt, target=0)
    b = gb.FeatureAblation(net.model, n_threads=2)(Xt, target=0)
    plain = gb.FeatureAblation(lambda A: net.model.predict(A), n_threads=2)  # width from Xt
    np.testing.assert_allclose(plain(Xt, target=0).values, a.values, rtol=1e-6)
    np.testing.assert_array_equal(a.values, b.values)


def test_inputs_not_modified() -> None:
    _, model = lenet()
    X = images()
    base = np.full(X.shape[1:], 0.5, np.float32)
    X0, base0 = X.copy(), base.copy()
    gb.Occlusion(model, (1, 3, 3), baselines=base)(X, target=0)
    gb.FeatureAblation(model, baselines=base)(X, target=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(base, base0)


@pytest.mark.parametrize(
    ("window", "strides", "match"),
    [
        ((1, 17, 3), 1, "larger than the sample"),
        ((1, 3), 1, "sliding_window_shapes"),
        ((1, 3, 3), (1, 4, 1), "strides"),
        ((1, 3, 3), 0, "strides"),
        ((0, 3, 3), 1, "sliding_window_shapes"),
        ((1, 3, 3), (1, 1), "strides"),
    ],
)
def test_occlusion_bad_windows(window: tuple, strides: object, match: str) -> None:
    _, model = lenet()
    with pytest.raises(ValueError, match=match):
        gb.Occlusion(model, window, strides=strides)(images(), target=0)


def test_bad_baselines_masks_and_targets() -> None:
    _, model = lenet()
    X = images()
    with pytest.raises(ValueError, match="baselines"):
        gb.Occlusion(model, (1, 3, 3), baselines=np.zeros((2, 16, 16)))(X, target=0)
    with pytest.raises(ValueError, match="baselines"):
        gb.FeatureAblation(model, baselines=np.zeros(7))(X, target=0)
    with pytest.raises(ValueError, match="target"):
        gb.Occlusion(model, (1, 3, 3))(X, target=4)
    net = make_net("relu")
    Xt = make_data(5, n_rows=3)
    with pytest.raises(ValueError, match="overlap"):
        gb.FeatureAblation(net.model, feature_mask=[[0, 1], [1, 2]])(Xt, target=0)
    with pytest.raises(ValueError, match="feature_mask"):
        gb.FeatureAblation(net.model, feature_mask=[[0, 5]])(Xt, target=0)
    with pytest.raises(TypeError, match="feature_mask"):
        gb.FeatureAblation(net.model, feature_mask=np.zeros(5))(Xt, target=0)
    with pytest.raises(ValueError, match="X"):
        gb.FeatureAblation(net.model)(make_data(4, n_rows=2), target=0)
    with pytest.raises(TypeError, match="X"):
        gb.FeatureAblation(net.model)([[1.0, 2.0], [3.0]], target=0)
    bad = Xt.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="X"):
        gb.FeatureAblation(net.model)(bad, target=0)
