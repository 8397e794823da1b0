"""The Shapley engine against the literal NumPy reference (tests/reference/shapley.py)."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import make_net
from glassbox import _core
from glassbox.explainers.shapley import kernel_shap_design, shapley_permutations
from reference import shapley as ref

GROUPS = [[0, 3], [1], [2, 4]]


@pytest.fixture(scope="module")
def tanh() -> gb.NativeModel:
    return make_net("tanh").model  # 5 inputs, 3 outputs


def test_coalition_values_equal_the_definition(tanh: gb.NativeModel) -> None:
    X, B = ref.make_problem()
    rng = np.random.default_rng(3)
    masks = rng.integers(0, 2, size=(9, 3)).astype(np.uint8)
    group_of = np.array([0, 1, 2, 0, 2])
    got = _core.coalition_values(
        tanh.network,
        X=X,
        background=B,
        group_of=group_of,
        n_groups=3,
        n_outputs=3,
        masks=masks,
        options=_core.RunOptions(1, memory_budget=1 << 20),
    )
    got = got.reshape(3, 9, 3)
    for i, x in enumerate(X):
        for c, mask in enumerate(masks):
            S = np.flatnonzero(mask)
            want = ref.coalition_value(tanh.predict, x, B, GROUPS, S)
            np.testing.assert_allclose(got[i, c], want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("groups", [None, GROUPS])
@pytest.mark.parametrize("callable_model", [False, True])
def test_exact_equals_brute_force(
    tanh: gb.NativeModel, groups: object, callable_model: bool
) -> None:
    X, B = ref.make_problem()
    model = gb.wrap(tanh.predict, n_inputs=5) if callable_model else tanh
    exp = gb.ExactShapley(model, background=B, groups=groups)(X)
    want = ref.shapley_values(tanh.predict, X, B, groups)
    assert exp.values.shape == want.shape
    np.testing.assert_allclose(exp.values, want, rtol=1e-6, atol=1e-7)
    base = ref.outputs(tanh.predict, B).mean(axis=0)
    np.testing.assert_allclose(exp.base_values, np.broadcast_to(base, (3, 3)), rtol=1e-6)
    assert np.abs(exp.delta).max() < 1e-6


def test_exact_with_a_baseline_row_and_a_target(tanh: gb.NativeModel) -> None:
    X, B = ref.make_problem()
    exp = gb.ExactShapley(tanh, background=B[0])(X, target=[0, 2, 1])
    want = ref.shapley_values(tanh.predict, X, B[:1])
    np.testing.assert_allclose(exp.values, want[np.arange(3), :, [0, 2, 1]], rtol=1e-6, atol=1e-7)
    assert exp.values.shape == (3, 5) and exp.target.tolist() == [0, 2, 1]


def test_exact_on_ten_features() -> None:
    W = np.random.default_rng(1).normal(size=(10, 2))
    f = lambda Z: np.tanh(Z @ W) * Z[:, :2] + Z[:, 2:3] * Z[:, 5:6]  # noqa: E731
    X, B = ref.make_problem(10, n_rows=1, n_background=4)
    exp = gb.ExactShapley(gb.wrap(f, n_inputs=10), background=B)(X)
    np.testing.assert_allclose(exp.values, ref.shapley_values(f, X, B), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("groups", [None, GROUPS])
def test_interactions_equal_brute_force(tanh: gb.NativeModel, groups: object) -> None:
    X, B = ref.make_problem(n_rows=2)
    exp = gb.ShapleyInteractions(tanh, background=B, groups=groups)(X)
    phi = ref.shapley_values(tanh.predict, X, B, groups)
    index = ref.interaction_index(tanh.predict, X, B, groups)
    want = ref.tree_convention(index, phi)
    np.testing.assert_allclose(exp.values, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(exp.values.sum(axis=2), phi, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(exp.values, np.swapaxes(exp.values, 1, 2), atol=1e-12)


def test_kernel_shap_is_exact_when_the_budget_covers_every_coalition(tanh: gb.NativeModel) -> None:
    X, B = ref.make_problem()
    exp = gb.KernelShap(tanh, background=B, n_samples=30)(X)
    np.testing.assert_allclose(exp.values, ref.shapley_values(tanh.predict, X, B), atol=1e-6)
    assert np.all(exp.stderr == 0) and exp.options["n_evaluated"] == 30


def test_kernel_shap_replays_its_design_in_the_reference_regression() -> None:
    W = np.random.default_rng(2).normal(size=(8, 1))
    f = lambda Z: np.sin(Z @ W) + Z[:, :1] * Z[:, 1:2]  # noqa: E731
    X, B = ref.make_problem(8, n_rows=2, n_background=5)
    model = gb.wrap(f, n_inputs=8)
    exp = gb.KernelShap(model, background=B, n_samples=60, seed=4, sampler="kernel")(X)
    masks, weights, n_pairs = kernel_shap_design(8, 60, seed=4)
    assert len(masks) == exp.options["n_evaluated"] and int(n_pairs) == exp.options["n_draws"]
    assert len({m.tobytes() for m in masks}) == len(masks)  # each coalition evaluated once
    for i, x in enumerate(X):
        want = ref.constrained_wls(masks, weights, *ref.design_targets(f, x, B, masks))
        np.testing.assert_allclose(exp.values[i], want, rtol=1e-5, atol=1e-6)


def test_permutation_shapley_replays_its_permutations() -> None:
    f = lambda Z: np.tanh(Z[:, 0] * Z[:, 1] - Z[:, 2]) + Z[:, 3]  # noqa: E731
    X, B = ref.make_problem(4, n_rows=2, n_background=3)
    exp = gb.PermutationShapley(gb.wrap(f, n_inputs=4), background=B, n_samples=30, seed=7)(X)
    n_pairs = exp.options["n_draws"]
    assert n_pairs == 30 // (2 * 3)
    perms = shapley_permutations(4, n_pairs, seed=7)
    groups = [[j] for j in range(4)]
    for i, x in enumerate(X):
        want = ref.permutation_estimate(f, x, B, groups, perms)[:, 0]
        np.testing.assert_allclose(exp.values[i], want, rtol=1e-5, atol=1e-6)


def KernelSampler(*args: object, **kwargs: object) -> gb.KernelShap:
    """KernelShap with the kernel's sampler."""
    return gb.KernelShap(*args, sampler="kernel", **kwargs)


@pytest.mark.parametrize("explainer", [gb.ExactShapley, gb.KernelShap, gb.PermutationShapley])
def test_a_single_group_takes_the_whole_difference(explainer: type) -> None:
    f = lambda Z: (Z**2).sum(axis=1)  # noqa: E731
    X, B = ref.make_problem(3)
    exp = explainer(gb.wrap(f, n_inputs=3), background=B, groups=[[0, 1, 2]])(X)
    want = f(X.astype(np.float64)) - f(B.astype(np.float64)).mean()
    np.testing.assert_allclose(exp.values[:, 0], want, rtol=1e-5)
    assert exp.feature_names == ["x0+x1+x2"]


@pytest.mark.parametrize("explainer", [gb.KernelShap, KernelSampler, gb.PermutationShapley])
def test_additive_model_with_many_groups_is_exact(explainer: type) -> None:
    """d = 130 groups (three words per coalition): for an additive model every coalition value is
    the sum of its groups' terms, so both estimators are exact whatever they sample."""
    d = 130
    w = np.random.default_rng(6).normal(size=d)
    X, B = ref.make_problem(d, n_rows=2, n_background=3)
    model = gb.wrap(lambda Z: np.asarray(Z, np.float64) @ w, n_inputs=d)
    exp = explainer(model, background=B, n_samples=1100, seed=1)(X)
    want = (X - B.mean(axis=0)) * w
    np.testing.assert_allclose(exp.values, want, rtol=1e-4, atol=1e-4)
    assert exp.stderr.max() < 1e-4
