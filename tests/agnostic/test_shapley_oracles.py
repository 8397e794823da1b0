"""Peer oracles on the same model and background: shap's Exact, Kernel and Permutation explainers,
Captum's ShapleyValues and ShapleyValueSampling (baseline Shapley)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from conftest import make_net, torch_from_spec
from reference import shapley as ref

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _shap() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("shap")


def _problem(n_inputs: int = 6) -> tuple[Any, np.ndarray, np.ndarray]:
    W = np.random.default_rng(5).normal(size=(n_inputs, 3))
    f = lambda Z: np.tanh(np.asarray(Z, np.float32) @ W)[:, 0] * (1 + Z[:, 1])  # noqa: E731
    X, B = ref.make_problem(n_inputs, n_rows=3, n_background=8, seed=2)
    return f, X, B


def test_shap_exact_explainer_equals_exact_shapley() -> None:
    shap = _shap()
    net = make_net("tanh")
    X, B = ref.make_problem(n_rows=3, n_background=8, seed=1)
    masker = shap.maskers.Independent(B, max_samples=len(B))
    theirs = shap.explainers.Exact(net.model.predict, masker)(X)
    ours = gb.ExactShapley(net.model, background=B)(X)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=1e-5, atol=1e-6)


def test_shap_kernel_explainer_converges_to_ours() -> None:
    shap = _shap()
    f, X, B = _problem(8)
    exact = gb.ExactShapley(gb.wrap(f, n_inputs=8), background=B)(X).values
    errors = []
    for nsamples in (40, 254):  # 254 = every coalition but the empty and the full one
        explainer = shap.KernelExplainer(f, B)
        theirs = explainer.shap_values(X, nsamples=nsamples, silent=True)
        errors.append(np.abs(np.asarray(theirs) - exact).max())
    assert errors[1] < 1e-5 < errors[0]
    ours = gb.KernelShap(gb.wrap(f, n_inputs=8), background=B, n_samples=254)(X).values
    np.testing.assert_allclose(ours, exact, atol=1e-6)


def test_shap_permutation_explainer_converges_to_ours() -> None:
    shap = _shap()
    f, X, B = _problem(5)
    exact = gb.ExactShapley(gb.wrap(f, n_inputs=5), background=B)(X).values
    scale = np.abs(exact).max()
    masker = shap.maskers.Independent(B, max_samples=len(B))
    errors = []
    for max_evals in (24, 4000):
        explanation = shap.PermutationExplainer(f, masker, seed=0)(
            X, max_evals=max_evals, silent=True
        )
        errors.append(np.abs(explanation.values - exact).max())
    assert errors[1] < 0.03 * scale and errors[1] < errors[0]
    ours = gb.PermutationShapley(gb.wrap(f, n_inputs=5), background=B, n_samples=4000)(X)
    assert np.abs(ours.values - exact).max() < 0.05 * scale
    assert np.all(np.abs(ours.values - exact) <= 4 * ours.stderr)


@pytest.mark.parametrize("grouped", [False, True])
def test_captum_shapley_values_with_a_baseline(grouped: bool) -> None:
    torch = pytest.importorskip("torch")
    captum = pytest.importorskip("captum.attr")
    net = make_net("tanh")
    module = torch_from_spec(net.spec)
    X, B = ref.make_problem(n_rows=4, seed=3)
    groups = [[0, 3], [1], [2, 4]] if grouped else None
    mask = torch.tensor([[0, 1, 2, 0, 2]]) if grouped else None
    ours = gb.ExactShapley(net.model, background=B[0], groups=groups)(X, target=1)
    theirs = captum.ShapleyValues(module).attribute(
        torch.from_numpy(X), baselines=torch.from_numpy(B[:1]), target=1, feature_mask=mask
    )
    theirs = theirs.detach().numpy()
    if grouped:  # Captum repeats a group's value on each of its features
        theirs = theirs[:, [0, 1, 2]]
    np.testing.assert_allclose(ours.values, theirs, rtol=1e-4, atol=1e-5)


def test_captum_shapley_value_sampling_converges_to_ours() -> None:
    torch = pytest.importorskip("torch")
    captum = pytest.importorskip("captum.attr")
    net = make_net("tanh")
    module = torch_from_spec(net.spec)
    X, B = ref.make_problem(n_rows=3, seed=4)
    exact = gb.ExactShapley(net.model, background=B[0])(X, target=2).values
    torch.manual_seed(0)
    theirs = captum.ShapleyValueSampling(module).attribute(
        torch.from_numpy(X), baselines=torch.from_numpy(B[:1]), target=2, n_samples=400
    )
    scale = np.abs(exact).max()
    assert np.abs(theirs.detach().numpy() - exact).max() < 0.05 * scale
    ours = gb.PermutationShapley(net.model, background=B[0], n_samples=3200)(X, target=2)
    assert np.abs(ours.values - exact).max() < 0.05 * scale
