"""Seeded estimators are bit-identical across thread counts and repeated calls; the memory budget
changes only how work is chunked, never the answer."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import Net, make_data
from glassbox import _core

N_ROWS = 64  # enough rows x samples for several chunks and both threads to get work


@pytest.fixture
def X() -> np.ndarray:
    return make_data(5, n_rows=N_ROWS, seed=42)


@pytest.fixture
def R() -> np.ndarray:
    return make_data(5, n_rows=10, seed=43)


def explain(kind: str, model, X: np.ndarray, R: np.ndarray, **options):
    target = np.arange(len(X)) % 3
    if kind == "smoothgrad":
        return gb.SmoothGrad(model, n_samples=20, stdev=0.5, **options)(X, target=target)
    if kind == "smoothgrad_sq":
        return gb.SmoothGrad(model, n_samples=20, nt_type="smoothgrad_sq", **options)(
            X, target=target
        )
    if kind == "vargrad_ixg":
        return gb.SmoothGrad(
            model, n_samples=20, nt_type="vargrad", base="input_x_gradient", **options
        )(X, target=target)
    return gb.GradientShap(model, n_samples=20, stdev=0.3, **options)(X, baselines=R, target=target)


SAMPLED = ["smoothgrad", "smoothgrad_sq", "vargrad_ixg", "gradient_shap"]


def assert_identical(a, b) -> None:
    np.testing.assert_array_equal(a.values, b.values, strict=True)
    for field in ("stderr", "delta", "base_values"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y, strict=True)


@pytest.mark.parametrize("kind", SAMPLED)
def test_sampled_bit_identical_across_threads(relu_net: Net, X, R, kind: str) -> None:
    one = explain(kind, relu_net.model, X, R, seed=7, n_threads=1)
    two = explain(kind, relu_net.model, X, R, seed=7, n_threads=2)
    assert_identical(one, two)


@pytest.mark.parametrize("kind", SAMPLED)
def test_sampled_bit_identical_across_calls(tanh_net: Net, X, R, kind: str) -> None:
    first = explain(kind, tanh_net.model, X, R, seed=3)
    second = explain(kind, tanh_net.model, X, R, seed=3)
    assert_identical(first, second)


@pytest.mark.parametrize("kind", SAMPLED)
def test_different_seeds_differ(tanh_net: Net, X, R, kind: str) -> None:
    a = explain(kind, tanh_net.model, X, R, seed=0)
    b = explain(kind, tanh_net.model, X, R, seed=1)
    assert not np.array_equal(a.values, b.values)
    assert np.mean(a.values != b.values) > 0.9  # essentially every entry moves


@pytest.mark.parametrize("kind", SAMPLED)
def test_rows_do_not_depend_on_the_batch(tanh_net: Net, X, R, kind: str) -> None:
    """Draws are keyed by (seed, row, draw): the first rows of a batch are explained identically
    when they are passed on their own."""
    full = explain(kind, tanh_net.model, X, R, seed=5)
    head = explain(kind, tanh_net.model, X[:9], R, seed=5)
    np.testing.assert_array_equal(head.values, full.values[:9], strict=True)


def test_draws_are_counter_based() -> None:
    np.testing.assert_array_equal(
        _core.normal_draws(4, stream=0, n_rows=3, n_draws=5, n_features=6),
        _core.normal_draws(4, stream=0, n_rows=8, n_draws=5, n_features=6)[:3],
    )
    assert not np.array_equal(
        _core.normal_draws(4, stream=0, n_rows=3, n_draws=5, n_features=6),
        _core.normal_draws(4, stream=1, n_rows=3, n_draws=5, n_features=6),
    )
    np.testing.assert_array_equal(
        _core.uniform_draws(9, stream=2, n_rows=4, n_draws=3),
        _core.uniform_draws(9, stream=2, n_rows=4, n_draws=3),
    )
    np.testing.assert_array_equal(
        _core.index_draws(9, stream=3, n_rows=4, n_draws=3, n=10),
        _core.index_draws(9, stream=3, n_rows=6, n_draws=3, n=10)[:4],
    )


@pytest.mark.parametrize("budget", [1, 4096, 1 << 16, 1 << 30])
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid"])
def test_ig_memory_budget_does_not_change_results(
    relu_net: Net, X, budget: int, method: str
) -> None:
    B = np.linspace(-1, 1, 5, dtype=np.float32)
    target = np.arange(len(X)) % 3
    reference = gb.IntegratedGradients(relu_net.model, n_steps=30, method=method)(
        X, B, target=target
    )
    chunked = gb.IntegratedGradients(
        relu_net.model, n_steps=30, method=method, memory_budget=budget, n_threads=2
    )(X, B, target=target)
    np.testing.assert_allclose(chunked.values, reference.values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(chunked.delta, reference.delta, rtol=1e-5, atol=1e-6)


def test_ig_threads_agree(tanh_net: Net, X) -> None:
    one = gb.IntegratedGradients(tanh_net.model, n_threads=1)(X, target=1)
    two = gb.IntegratedGradients(tanh_net.model, n_threads=2)(X, target=1)
    np.testing.assert_allclose(one.values, two.values, rtol=1e-6, atol=1e-7)
