"""Shapley axioms (hypothesis) and the honesty of the sampled estimators' standard errors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassbox as gb
from reference import shapley as ref

D = 6
SAMPLED = {
    "kernel": lambda f, B, seed: gb.KernelShap(f, background=B, n_samples=40, seed=seed),
    "permutation": lambda f, B, seed: gb.PermutationShapley(
        f, background=B, n_samples=60, seed=seed
    ),
}
EXPLAINERS: dict[str, Callable[..., object]] = {
    "exact": lambda f, B, seed: gb.ExactShapley(f, background=B),
    **SAMPLED,
}


def _model(seed: int, dummy: int | None = None) -> gb.CallableModel:
    """A random smooth model with pairwise interactions; feature ``dummy`` is ignored."""
    rng = np.random.default_rng(seed)
    W, V = rng.normal(size=(D, 2)), rng.normal(size=(D, D)) / D
    if dummy is not None:
        W[dummy], V[dummy], V[:, dummy] = 0.0, 0.0, 0.0

    def f(Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, np.float64)
        return np.tanh(Z @ W) + np.einsum("ri,ij,rj->r", Z, V, Z)[:, None]

    return gb.wrap(f, n_inputs=D)


seeds = st.integers(0, 10_000)
names = st.sampled_from(sorted(EXPLAINERS))


@given(seed=seeds, name=names)
def test_efficiency(seed: int, name: str) -> None:
    X, B = ref.make_problem(D, n_rows=2, n_background=4, seed=seed)
    exp = EXPLAINERS[name](_model(seed), B, seed)(X)
    fx = _model(seed).predict(X).astype(np.float64)
    assert np.abs(exp.delta).max() < 1e-5 * (1 + np.abs(fx).max())
    np.testing.assert_allclose(exp.values.sum(axis=1), fx - exp.base_values, atol=1e-4)


@given(seed=seeds, dummy=st.integers(0, D - 1), name=st.sampled_from(["exact", "permutation"]))
def test_dummy(seed: int, dummy: int, name: str) -> None:
    X, B = ref.make_problem(D, n_rows=2, n_background=4, seed=seed)
    exp = EXPLAINERS[name](_model(seed, dummy), B, seed)(X)
    assert np.abs(exp.values[:, dummy]).max() < 1e-6


@given(seed=seeds)
def test_symmetry(seed: int) -> None:
    """f symmetric in features 0 and 1, x0 = x1 and b0 = b1 in every background row."""
    X, B = ref.make_problem(D, n_rows=2, n_background=4, seed=seed)
    X[:, 1], B[:, 1] = X[:, 0], B[:, 0]
    w = np.random.default_rng(seed).normal(size=D)
    w[1] = w[0]
    f = gb.wrap(lambda Z: np.sin(Z @ w) + Z[:, 0] * Z[:, 1] * Z[:, 2], n_inputs=D)
    exact = gb.ExactShapley(f, background=B)(X).values
    np.testing.assert_allclose(exact[:, 0], exact[:, 1], rtol=1e-6, atol=1e-7)
    full = gb.KernelShap(f, background=B, n_samples=2**D - 2)(X).values
    np.testing.assert_allclose(full[:, 0], full[:, 1], rtol=1e-5, atol=1e-6)


@given(seed=seeds, a=st.floats(-3, 3), b=st.floats(-3, 3), name=names)
def test_linearity_in_the_model(seed: int, a: float, b: float, name: str) -> None:
    X, B = ref.make_problem(D, n_rows=2, n_background=4, seed=seed)
    f, g = _model(seed), _model(seed + 1)
    mix = gb.wrap(lambda Z: a * f.predict(Z) + b * g.predict(Z), n_inputs=D)
    values = [EXPLAINERS[name](m, B, seed)(X).values for m in (f, g, mix)]
    np.testing.assert_allclose(values[2], a * values[0] + b * values[1], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", sorted(SAMPLED))
def test_standard_errors_are_honest(name: str) -> None:
    """The true error lies within 3 standard errors for >= 95% of the values over 40 seeds."""
    d = 10
    rng = np.random.default_rng(11)
    W, V = rng.normal(size=(d, 3)), rng.normal(size=(d, d)) / d
    f = gb.wrap(
        lambda Z: np.tanh(Z @ W).sum(axis=1) + np.einsum("ri,ij,rj->r", Z, V, Z), n_inputs=d
    )
    X, B = ref.make_problem(d, n_rows=3, n_background=5, seed=12)
    exact = gb.ExactShapley(f, background=B)(X).values
    budget = 300 if name == "kernel" else 360
    covered, total = 0, 0
    for seed in range(40):
        make = gb.KernelShap if name == "kernel" else gb.PermutationShapley
        exp = make(f, background=B, n_samples=budget, seed=seed)(X)
        assert np.all(exp.stderr > 0)
        covered += int((np.abs(exp.values - exact) <= 3 * exp.stderr).sum())
        total += exact.size
    assert covered / total >= 0.95


@given(seed=seeds, labels=st.lists(st.integers(0, 3), min_size=D, max_size=D))
def test_random_groups_match_the_reference(seed: int, labels: list[int]) -> None:
    """Any partition of the features (given as a dict, in label order) gives the Shapley values
    of the grouped game."""
    present = sorted(set(labels))
    groups = {f"g{g}": [j for j in range(D) if labels[j] == g] for g in present}
    X, B = ref.make_problem(D, n_rows=1, n_background=3, seed=seed)
    model = _model(seed)
    exp = gb.ExactShapley(model, background=B, groups=groups)(X)
    want = ref.shapley_values(model.predict, X, B, list(groups.values()))
    np.testing.assert_allclose(exp.values, want, rtol=1e-5, atol=1e-6)
    assert exp.feature_names == list(groups)
