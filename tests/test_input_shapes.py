"""One input shape per model: every explainer takes X in the model's sample shape (images for an
image model) and returns values of that shape; feature masks and superpixels; flat rows still
accepted; shape errors that say what to do."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

import glassbox as gb

SHAPE = (3, 8, 8)


@pytest.fixture(scope="module")
def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3)
    ).eval()


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).random((3, *SHAPE), dtype=np.float32)


def torch_outputs(cnn: nn.Module, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return cnn(torch.as_tensor(X)).numpy()


def test_superpixels() -> None:
    mask = gb.superpixels((2, 5, 5), 2)
    assert mask.shape == (2, 5, 5) and mask.dtype == np.int64
    assert mask.max() == 17  # 3 x 3 blocks per plane, 2 planes, ids 0..17
    assert mask[0, 0, 0] == mask[0, 1, 1] == 0 and mask[0, 4, 4] == 8  # an edge block of 1 pixel
    assert (mask[1] == mask[0] + 9).all()  # channel-major
    last = gb.superpixels((5, 5, 2), 2, channels_last=True)
    np.testing.assert_array_equal(last, mask.transpose(1, 2, 0))
    np.testing.assert_array_equal(
        gb.superpixels((4, 6), (2, 3)), [[0, 0, 0, 1, 1, 1]] * 2 + [[2] * 3 + [3] * 3] * 2
    )
    with pytest.raises(ValueError, match="size: a block of 9 x 9"):
        gb.superpixels((1, 8, 8), 9)
    with pytest.raises(ValueError, match="size: expected an integer"):
        gb.superpixels((1, 8, 8), 0)
    with pytest.raises(ValueError, match="shape: expected"):
        gb.superpixels((8,), 2)


EXPLAINERS = {
    "KernelShap": lambda m, X: gb.KernelShap(m, background=X[:2], n_samples=400),
    "PermutationShapley": lambda m, X: gb.PermutationShapley(m, background=X[:1], n_samples=800),
    "Lime": lambda m, X: gb.Lime(m, X, num_samples=50),
    "FeatureAblation": lambda m, X: gb.FeatureAblation(m),
    "Occlusion": lambda m, X: gb.Occlusion(m, (1, 4, 4), strides=(1, 4, 4)),
    "IntegratedGradients": lambda m, X: gb.IntegratedGradients(m, n_steps=8),
    "Saliency": lambda m, X: gb.Saliency(m),
}


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("form", ["raw", "native"])
def test_every_explainer_takes_images(cnn, images, name, form) -> None:
    model = cnn if form == "raw" else gb.from_torch(cnn, input_shape=SHAPE)
    exp = EXPLAINERS[name](model, images)(images, target=1)
    assert exp.values.shape == images.shape
    assert np.isfinite(exp.values).all()


@pytest.mark.parametrize("name", ["KernelShap", "Lime", "FeatureAblation"])
def test_flat_rows_still_work(cnn, images, name) -> None:
    """Flat (n, n_inputs) rows for an image model: values come back flat and equal."""
    model = gb.from_torch(cnn, input_shape=SHAPE)
    flat = images.reshape(len(images), -1)
    on_images = EXPLAINERS[name](model, images)(images, target=1)
    on_rows = EXPLAINERS[name](model, flat)(flat, target=1)
    assert on_rows.values.shape == flat.shape
    np.testing.assert_allclose(on_rows.values, on_images.values.reshape(flat.shape), atol=1e-6)


def brute_force_shapley(f, x: np.ndarray, baseline: np.ndarray, group_of: np.ndarray) -> np.ndarray:
    """Shapley values of the groups by enumerating every coalition (the definition)."""
    g = int(group_of.max()) + 1
    values = np.zeros(g)
    for player in range(g):
        others = [q for q in range(g) if q != player]
        for size in range(g):
            for coalition in itertools.combinations(others, size):
                weight = math.factorial(size) * math.factorial(g - size - 1) / math.factorial(g)
                on = np.isin(group_of, coalition)
                without = np.where(on, x.ravel(), baseline.ravel())
                with_player = np.where(on | (group_of == player), x.ravel(), baseline.ravel())
                values[player] += weight * (f(with_player) - f(without))
    return values


@pytest.mark.parametrize("explainer", [gb.ExactShapley, gb.KernelShap])
def test_feature_mask_matches_brute_force(cnn, images, explainer) -> None:
    mask = gb.superpixels((1, 8, 8), 4)  # 4 groups shared by the 3 channels
    baseline = np.full((1, *SHAPE), 0.5, np.float32)
    exp = explainer(cnn, background=baseline, feature_mask=mask)(images, target=2)
    assert exp.values.shape == images.shape
    group_of = np.broadcast_to(mask, SHAPE).ravel()
    for row in range(len(images)):

        def f(z: np.ndarray) -> float:
            return float(torch_outputs(cnn, z.reshape(1, *SHAPE).astype(np.float32))[0, 2])

        expected = brute_force_shapley(f, images[row], baseline[0], group_of)
        np.testing.assert_allclose(exp.options["group_values"][row], expected, atol=2e-5)
        np.testing.assert_allclose(exp.values[row].ravel(), expected[group_of], atol=2e-5)
    assert exp.options["group_names"] == ["0", "1", "2", "3"]


def test_feature_mask_matches_captum(cnn, images) -> None:
    captum = pytest.importorskip("captum.attr")
    mask = gb.superpixels((1, 8, 8), 4)
    ours = gb.FeatureAblation(cnn, feature_mask=mask)(images, target=1)
    theirs = captum.FeatureAblation(cnn).attribute(
        torch.as_tensor(images), target=1, feature_mask=torch.as_tensor(mask)
    )
    np.testing.assert_allclose(ours.values, theirs.numpy(), atol=1e-6)
    assert ours.options["group_values"].shape == (3, 4)
    np.testing.assert_allclose(ours.options["group_values"][:, 3], ours.values[:, 0, 7, 7])
    # KernelShap on 4 groups enumerates every coalition: Captum's KernelShap converges to it
    ks = gb.KernelShap(cnn, background=np.zeros((1, *SHAPE), np.float32), feature_mask=mask)
    exact = ks(images[:1], target=1).values
    sampled = captum.KernelShap(cnn).attribute(
        torch.as_tensor(images[:1]), target=1, feature_mask=torch.as_tensor(mask), n_samples=400
    )
    np.testing.assert_allclose(exact, sampled.numpy(), atol=0.02 * np.abs(exact).max())


def test_groups_on_images_spread_and_on_rows_stay_per_group(cnn, images) -> None:
    model = gb.from_torch(cnn, input_shape=SHAPE)
    d = math.prod(SHAPE)
    groups = [list(range(d // 2)), list(range(d // 2, d))]
    on_images = gb.ExactShapley(model, background=images[:1], groups=groups)(images, target=0)
    assert on_images.values.shape == images.shape
    flat = images.reshape(len(images), -1)
    on_rows = gb.ExactShapley(model, background=flat[:1], groups=groups)(flat, target=0)
    assert on_rows.values.shape == (3, 2)  # shap's convention on flat rows: one per group
    np.testing.assert_allclose(on_images.options["group_values"], on_rows.values, atol=1e-6)
    with pytest.raises(ValueError, match="feature_mask, groups: pass one of them"):
        gb.ExactShapley(
            model, background=images[:1], groups=groups, feature_mask=np.zeros(SHAPE, int)
        )


def test_bad_feature_mask(cnn, images) -> None:
    with pytest.raises(ValueError, match=r"feature_mask: has shape \(2, 8\).*superpixels"):
        gb.KernelShap(cnn, background=images[:1], feature_mask=np.zeros((2, 8), int))
    with pytest.raises(TypeError, match="feature_mask: expected an int array"):
        gb.KernelShap(cnn, background=images[:1], feature_mask=np.zeros(SHAPE))


def test_plain_function_of_images(images) -> None:
    """A plain function gets batches in the shape of the data: n_inputs inferred."""
    seen = []

    def f(batch: np.ndarray) -> np.ndarray:
        seen.append(batch.shape[1:])
        return batch[:, 0].sum(axis=(1, 2)) + 2 * batch[:, 1, 0, 0]

    ablation = gb.FeatureAblation(f)(images)
    assert ablation.values.shape == images.shape and set(seen) == {SHAPE}
    np.testing.assert_allclose(ablation.values[:, 0], images[:, 0], atol=1e-5)
    np.testing.assert_allclose(ablation.values[:, 1, 0, 0], 2 * images[:, 1, 0, 0], atol=1e-5)
    assert gb.Occlusion(f, (1, 2, 2), strides=(1, 2, 2))(images).values.shape == images.shape
    shap = gb.KernelShap(f, background=np.zeros((1, *SHAPE)))(images[:1])
    np.testing.assert_allclose(shap.values[0, 0], images[0, 0], atol=1e-4)


def test_plain_function_of_rows() -> None:
    X = np.random.default_rng(1).normal(size=(40, 3))

    def f(A: np.ndarray) -> np.ndarray:
        return A @ np.array([1.0, -2.0, 0.5])

    np.testing.assert_allclose(gb.FeatureAblation(f)(X[:2]).values, X[:2] * [1, -2, 0.5], rtol=1e-5)
    y = f(X)
    importance = gb.permutation_importance(f, X, y, metric="r2", n_repeats=3)
    assert importance.importances_mean.argmax() == 1


def test_shape_errors_teach(cnn, images) -> None:
    native = gb.from_torch(cnn, input_shape=SHAPE)
    last = images.transpose(0, 2, 3, 1)
    with pytest.raises(
        ValueError,
        match=r"looks channels-last; this model takes \(n, 3, 8, 8\): "
        r"use X\.transpose\(0, 3, 1, 2\)",
    ):
        gb.IntegratedGradients(native)(last, target=0)
    with pytest.raises(ValueError, match=r"looks channels-last"):
        gb.KernelShap(native, background=images[:1])(last, target=0)
    with pytest.raises(ValueError, match=r"look channels-last.*X\.transpose\(0, 3, 1, 2\)"):
        gb.Saliency(cnn)(last, target=0)  # a raw CNN built from its first batch
    with pytest.raises(ValueError, match=r"background: samples of shape \(8, 8, 3\) look"):
        gb.KernelShap(cnn, background=last[:1])  # the raw CNN is converted from the background
    with pytest.raises(ValueError, match=r"use X\.reshape\(-1, 3, 8, 8\)"):
        gb.Saliency(native)(images.reshape(3, -1), target=0)
    with pytest.raises(ValueError, match=r"use X\[None\]"):
        gb.Saliency(native)(images[0], target=0)
    gray = gb.from_torch(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()), input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match=r"without a channel axis.*use X\[:, None\]"):
        gb.Saliency(gray)(images[:, 0], target=0)


def test_lime_feature_mask_recovers_a_linear_model() -> None:
    """On a linear model, LIME over superpixels (baseline 0) recovers each group's contribution
    sum_{i in g} w_i x_i, repeated over the group's pixels."""
    torch.manual_seed(0)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(2 * 6 * 6, 2))
    X = np.random.default_rng(0).random((2, 2, 6, 6), dtype=np.float32)
    mask = gb.superpixels((1, 6, 6), 3)
    exp = gb.Lime(linear, X, feature_mask=mask, num_samples=500)(X, target=1)
    weight = linear[1].weight.detach().numpy()[1].reshape(2, 6, 6)
    groups = np.broadcast_to(mask, (2, 6, 6))
    exact = np.array([[(weight * x)[groups == g].sum() for g in range(4)] for x in X])
    np.testing.assert_allclose(exp.options["group_values"], exact, atol=0.02 * np.abs(exact).max())
    np.testing.assert_allclose(exp.values[:, 0, 5, 5], exp.options["group_values"][:, 3])
    assert exp.values.shape == X.shape and (exp.score > 0.99).all()
    np.testing.assert_allclose(exp.local_prediction, torch_outputs(linear, X)[:, 1], atol=1e-3)
