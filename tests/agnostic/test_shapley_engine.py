"""The evaluation plan: thread determinism, native vs callable, chunked calls of a Python
callable, each coalition evaluated once, the memory budget, early stopping, untouched inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import glassbox as gb
from conftest import make_net
from reference import shapley as ref

EXPLAINERS = {
    "exact": lambda m, B, **kw: gb.ExactShapley(m, background=B, **kw),
    "interactions": lambda m, B, **kw: gb.ShapleyInteractions(m, background=B, **kw),
    "kernel": lambda m, B, **kw: gb.KernelShap(m, background=B, n_samples=20, seed=3, **kw),
    "permutation": lambda m, B, **kw: gb.PermutationShapley(
        m, background=B, n_samples=64, seed=3, **kw
    ),
}


class CountingModel:
    """A callable that records the number of rows of every call."""

    def __init__(self, fn: Any) -> None:
        self.fn, self.calls = fn, []

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        self.calls.append(len(Z))
        return self.fn(Z)


@pytest.fixture(scope="module")
def net() -> gb.NativeModel:
    return make_net("relu").model  # 5 inputs, 3 outputs


@pytest.mark.parametrize("name", sorted(EXPLAINERS))
def test_bit_identical_across_thread_counts(net: gb.NativeModel, name: str) -> None:
    X, B = ref.make_problem(n_rows=9, n_background=30)
    one = EXPLAINERS[name](net, B, n_threads=1, memory_budget=1 << 16)(X)
    two = EXPLAINERS[name](net, B, n_threads=2, memory_budget=1 << 16)(X)
    assert np.array_equal(one.values, two.values)
    assert np.array_equal(one.base_values, two.base_values)
    if one.stderr is not None:
        assert np.array_equal(one.stderr, two.stderr)


@pytest.mark.parametrize("name", sorted(EXPLAINERS))
def test_native_network_and_python_callable_agree(net: gb.NativeModel, name: str) -> None:
    X, B = ref.make_problem(n_rows=4, n_background=7)
    native = EXPLAINERS[name](net, B)(X)
    python = EXPLAINERS[name](gb.wrap(net.predict, n_inputs=5), B)(X)
    np.testing.assert_allclose(native.values, python.values, rtol=1e-6, atol=1e-7)
    if native.stderr is not None:
        np.testing.assert_allclose(native.stderr, python.stderr, rtol=1e-5, atol=1e-8)


def test_a_python_callable_gets_thousands_of_rows_per_call(net: gb.NativeModel) -> None:
    X, B = ref.make_problem(n_rows=20, n_background=50)
    model = CountingModel(net.predict)
    exp = gb.KernelShap(gb.wrap(model, n_inputs=5, n_outputs=3), background=B, n_samples=30)(X)
    coalition_rows = exp.options["n_evaluated"] * 20 * 50
    assert sum(model.calls) == coalition_rows + 20 + 50  # + f(x) and f(background)
    assert len(model.calls) <= 3 and max(model.calls) >= 1000


def test_a_small_memory_budget_splits_calls_without_changing_results(net: gb.NativeModel) -> None:
    X, B = ref.make_problem(n_rows=6, n_background=40)
    big = gb.ExactShapley(net, background=B)(X)
    model = CountingModel(net.predict)
    small = gb.ExactShapley(
        gb.wrap(model, n_inputs=5, n_outputs=3), background=B, memory_budget=20_000
    )(X)
    assert len(model.calls) > 5 and all(rows % 40 == 0 for rows in model.calls[1:])
    np.testing.assert_allclose(small.values, big.values, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["kernel", "permutation"])
def test_value_tables_beyond_the_budget_run_in_row_blocks(net: gb.NativeModel, name: str) -> None:
    """20 kB holds the coalition values of about 12 rows: 30 rows run as 3 blocks, same result."""
    X, B = ref.make_problem(n_rows=30, n_background=4)
    whole = EXPLAINERS[name](net, B)(X)
    model = CountingModel(net.predict)
    blocks = EXPLAINERS[name](gb.wrap(model, n_inputs=5, n_outputs=3), B, memory_budget=20_000)(X)
    # blocks of 12, 12 and 6 rows, each opening with one call for f(x) and f(background)
    assert model.calls.count(12 + 4) == 2 and model.calls.count(6 + 4) == 1
    np.testing.assert_allclose(blocks.values, whole.values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(blocks.stderr, whole.stderr, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(blocks.base_values, whole.base_values, rtol=1e-6)


def test_repeated_coalitions_are_evaluated_once(net: gb.NativeModel) -> None:
    X, B = ref.make_problem(n_rows=2, n_background=3)
    model = CountingModel(net.predict)
    exp = gb.PermutationShapley(
        gb.wrap(model, n_inputs=5, n_outputs=3), background=B, n_samples=800
    )(X)
    assert exp.options["n_draws"] == 100
    assert exp.options["n_evaluated"] <= 2**5 - 2  # 800 coalition slots, at most 30 distinct
    assert sum(model.calls) == exp.options["n_evaluated"] * 2 * 3 + 2 + 3


@pytest.mark.parametrize("explainer", [gb.KernelShap, gb.PermutationShapley])
def test_tol_stops_early(explainer: type) -> None:
    d = 16
    W = np.random.default_rng(0).normal(size=(d, 1))
    f = gb.wrap(lambda Z: np.tanh(Z @ W) + 0.1 * Z[:, :1] * Z[:, 1:2], n_inputs=d)
    X, B = ref.make_problem(d, n_rows=2, n_background=5)
    full = explainer(f, background=B, n_samples=20_000)(X)
    early = explainer(f, background=B, n_samples=20_000, tol=0.05)(X)
    assert early.options["n_evaluated"] < full.options["n_evaluated"]
    assert np.all(early.n_samples < full.n_samples)
    # tol is relative to each row's gap f(x) - E f(background), the sum of its values
    gap = np.abs(full.values.sum(axis=1))
    assert np.all(early.stderr.max(axis=1) <= 0.05 * gap)
    assert np.all(full.stderr.max(axis=1) < early.stderr.max(axis=1))


@pytest.mark.parametrize(
    ("explainer", "budget", "tol"),
    [(gb.KernelShap, 3000, 0.01), (gb.PermutationShapley, 20_000, 0.05)],
)
def test_tol_watches_only_the_explained_output(explainer: type, budget: int, tol: float) -> None:
    """Output 0 is additive (exact at once, stderr 0), output 1 is not: explaining output 0
    alone stops at the first round, explaining both does not."""
    d = 16
    rng = np.random.default_rng(1)
    w, W = rng.normal(size=d), rng.normal(size=(d, 1))

    def f(Z: np.ndarray) -> np.ndarray:
        return np.column_stack([Z @ w, np.tanh(Z @ W)[:, 0] + 0.1 * Z[:, 0] * Z[:, 1]])

    X, B = ref.make_problem(d, n_rows=3, n_background=5)
    model = gb.wrap(f, n_inputs=d, n_outputs=2)
    additive = explainer(model, background=B, n_samples=budget, tol=tol)(X, target=0)
    both = explainer(model, background=B, n_samples=budget, tol=tol)(X)
    assert additive.options["n_evaluated"] < both.options["n_evaluated"]
    exact_linear = (X - B.mean(axis=0)) * w
    np.testing.assert_allclose(additive.values, exact_linear, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(EXPLAINERS))
def test_inputs_are_not_modified(net: gb.NativeModel, name: str) -> None:
    X, B = ref.make_problem(n_rows=3, n_background=4)
    X64, B64 = X.astype(np.float64), B.astype(np.float64)
    X_copy, B_copy = X64.copy(), B64.copy()
    exp = EXPLAINERS[name](net, B64)(X64)
    assert np.array_equal(X64, X_copy) and np.array_equal(B64, B_copy)
    exp.data[:] = 0
    assert np.array_equal(X64, X_copy)


def test_multi_output_shapes_and_targets(net: gb.NativeModel) -> None:
    X, B = ref.make_problem(n_rows=4, n_background=5)
    groups = {"a": [0, 1], "b": [2], "c": [3, 4]}
    exp = gb.KernelShap(net, background=B, groups=groups, n_samples=6)(X)
    assert exp.values.shape == (4, 3, 3) and exp.stderr.shape == (4, 3, 3)
    assert exp.base_values.shape == (4, 3) and exp.delta.shape == (4, 3)
    assert exp.feature_names == ["a", "b", "c"] and exp.target is None
    one = gb.KernelShap(net, background=B, groups=groups, n_samples=6)(X, target=2)
    np.testing.assert_array_equal(one.values, exp.values[..., 2])
    np.testing.assert_array_equal(one.base_values, exp.base_values[:, 2])
    assert len(exp[1:3]) == 2
    inter = gb.ShapleyInteractions(net, background=B, groups=groups)(X)
    assert inter.values.shape == (4, 3, 3, 3)


def test_sklearn_estimator_and_single_output(net: gb.NativeModel) -> None:
    from sklearn.linear_model import LinearRegression

    X, B = ref.make_problem(n_rows=30, n_background=5)
    y = X @ np.arange(5.0)
    model = LinearRegression().fit(X, y)
    exp = gb.ExactShapley(model, background=B)(X[:3])
    want = (X[:3] - B.mean(axis=0)) * model.coef_
    np.testing.assert_allclose(exp.values, want, rtol=1e-4, atol=1e-4)
    assert exp.values.shape == (3, 5) and exp.base_values.shape == (3,)
