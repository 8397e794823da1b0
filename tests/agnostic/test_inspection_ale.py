"""Accumulated local effects: closed-form effects of additive and linear models, the literal
reference (first and second order), determinism and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassbox as gb
from reference import inspection as ref


def _centre(edges: np.ndarray, counts: np.ndarray, values: np.ndarray) -> float:
    """The count-weighted mean of a function known at the edges, bins at their edges' mean."""
    return float((counts * (values[:-1] + values[1:]) / 2).sum() / counts.sum())


@given(
    slope=st.floats(-5, 5),
    curvature=st.floats(-2, 2),
    bins=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_first_order_ale_of_an_additive_model_is_its_centered_component(
    slope: float, curvature: float, bins: int, seed: int
) -> None:
    X = np.random.default_rng(seed).uniform(-2, 2, size=(150, 3))
    model = gb.wrap(
        lambda Z: slope * Z[:, 0] + curvature * Z[:, 0] ** 2 + np.sin(3 * Z[:, 1]) * Z[:, 2],
        n_inputs=3,
    )
    result = gb.ale(model, X, 0, bins=bins)
    edges = result.edges[0].astype(np.float32).astype(np.float64)
    component = slope * edges + curvature * edges**2
    expected = component - _centre(edges, result.counts, component)
    np.testing.assert_allclose(result.values[0], expected, atol=1e-4 * (1 + abs(slope)))
    assert result.counts.sum() == 150 and np.all(result.counts > 0)


def test_second_order_ale_is_zero_without_interaction_and_bilinear_with_one() -> None:
    levels = np.arange(6, dtype=np.float64)
    grid = np.array([(a, b, c) for a in levels for b in levels for c in (0.0, 1.0)])
    additive = gb.wrap(lambda Z: 2 * Z[:, 0] ** 2 - Z[:, 1] + Z[:, 2] * Z[:, 0], n_inputs=3)
    assert np.abs(gb.ale(additive, grid, (0, 1), bins=4).values).max() < 1e-4
    product = gb.wrap(lambda Z: 1.5 * Z[:, 0] * Z[:, 1] + Z[:, 2], n_inputs=3)
    result = gb.ale(product, grid, (0, 1), bins=4)
    z, w = result.edges
    counts = result.counts
    z_bar = _centre(z, counts.sum(axis=1), z)
    w_bar = _centre(w, counts.sum(axis=0), w)
    expected = 1.5 * np.outer(z - z_bar, w - w_bar)
    np.testing.assert_allclose(result.values[0], expected, atol=1e-4)


@pytest.mark.parametrize("features", [1, (0, 2)])
def test_native_network_matches_the_literal_reference(features) -> None:
    estimator, X, _ = ref.problem("multiclass", n_rows=80)
    native = gb.from_sklearn(estimator)
    result = gb.ale(native, X, features, bins=5)
    predict = lambda Z: native.predict(Z.astype(np.float32))  # noqa: E731
    data = X.astype(np.float32)
    edges = [e.astype(np.float32) for e in result.edges]
    if isinstance(features, int):
        expected = ref.ale_1d(predict, data, features, edges[0])
    else:
        expected = ref.ale_2d(predict, data, features, edges)
    np.testing.assert_allclose(result.values, expected, atol=1e-5)


def test_threads_do_not_change_results_and_callable_agrees() -> None:
    estimator, X, _ = ref.problem("regression", n_rows=300)
    native = gb.from_sklearn(estimator)
    one = gb.ale(native, X, (1, 3), bins=6, n_threads=1)
    two = gb.ale(native, X, (1, 3), bins=6, n_threads=2)
    np.testing.assert_array_equal(one.values, two.values)
    np.testing.assert_allclose(gb.ale(estimator, X, (1, 3), bins=6).values, one.values, atol=1e-4)


def test_bad_input() -> None:
    estimator, X, _ = ref.problem("regression", n_rows=40)
    before = X.copy()
    constant = X.copy()
    constant[:, 0] = 1.0
    with pytest.raises(ValueError, match="constant"):
        gb.ale(estimator, constant, 0)
    with pytest.raises(ValueError, match="bins"):
        gb.ale(estimator, X, 0, bins=0)
    with pytest.raises(ValueError, match="one feature or a pair"):
        gb.ale(estimator, X, [0, 1, 2])
    with pytest.raises(ValueError, match="repeat"):
        gb.ale(estimator, X, [1, 1])
    np.testing.assert_array_equal(X, before)


def test_the_list_form_equals_one_call_per_item_and_the_reference() -> None:
    # an odd row count: a pair's corners after a single's could straddle a chunk of 256 rows
    estimator, X, _ = ref.problem("multiclass", n_rows=91)
    native = gb.from_sklearn(estimator)
    jobs = [[2], (0, 3), [1], ["x3"], (3, 1)]
    for model in (native, estimator):
        many = gb.ale(model, X, jobs, bins=6, target=[0, 2])
        assert isinstance(many, list) and len(many) == len(jobs)
        for job, result in zip(jobs, many, strict=True):
            one = gb.ale(model, X, job if len(job) == 2 else job[0], bins=6, target=[0, 2])
            assert result.features == one.features
            # (a native network's float32 rows may round differently at another batch position)
            np.testing.assert_allclose(result.values, one.values, rtol=0, atol=1e-6)
            np.testing.assert_array_equal(result.counts, one.counts)
            for a, b in zip(result.edges, one.edges, strict=True):
                np.testing.assert_array_equal(a, b)
    predict = lambda Z: native.predict(Z.astype(np.float32))[:, [0, 2]]  # noqa: E731
    data = X.astype(np.float32)
    many = gb.ale(native, X, jobs, bins=6, target=[0, 2])
    expected = ref.ale_1d(predict, data, 1, many[2].edges[0].astype(np.float32))
    np.testing.assert_allclose(many[2].values, expected, atol=1e-5)
    edges = [e.astype(np.float32) for e in many[1].edges]
    np.testing.assert_allclose(many[1].values, ref.ale_2d(predict, data, (0, 3), edges), atol=1e-5)


def test_the_list_form_is_bit_identical_across_threads() -> None:
    estimator, X, _ = ref.problem("regression", n_rows=700)  # several chunks per feature
    native = gb.from_sklearn(estimator)
    jobs = [[f] for f in range(X.shape[1])] + [(0, 1)]
    one = gb.ale(native, X, jobs, n_threads=1)
    two = gb.ale(native, X, jobs, n_threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.values, b.values)


def test_the_list_form_rejects_bad_items() -> None:
    estimator, X, _ = ref.problem("regression", n_rows=40)
    with pytest.raises(ValueError, match=r"one feature or a pair.*list of them"):
        gb.ale(estimator, X, [[0], [0, 1, 2]])
    with pytest.raises(TypeError, match="non-empty sequence"):
        gb.ale(estimator, X, [[0], []])
    with pytest.raises(ValueError, match="repeat"):
        gb.ale(estimator, X, [[0], (2, 2)])
    constant = X.copy()
    constant[:, 3] = 1.0
    with pytest.raises(ValueError, match="feature 3 is constant"):
        gb.ale(estimator, constant, [[0], [3]])
    with pytest.raises(ValueError, match="features"):
        gb.ale(estimator, X, [[0], [X.shape[1]]])


def test_quantile_edges_are_numpys_inverted_cdf_quantiles() -> None:
    from glassbox.inspection.ale import quantile_edges

    rng = np.random.default_rng(0)
    for n in (*range(1, 60), 569, 1000):
        column = rng.normal(size=(n, 1)).round(1)  # ties too
        for bins in range(1, 25):
            levels = np.linspace(0, 1, min(bins, n) + 1)
            q = np.quantile(column[:, 0], levels, method="inverted_cdf")
            try:
                edges = quantile_edges(column, bins, [0])[0]
            except ValueError:  # constant
                assert np.unique(q).size < 2
                continue
            np.testing.assert_array_equal(edges, np.unique(q))


def test_bin_indices_of_several_columns() -> None:
    from glassbox.inspection.ale import bin_indices, quantile_edges

    columns = np.random.default_rng(1).normal(size=(300, 3)).round(1)  # ties on the edges
    columns[:, 2] = np.repeat([0.0, 1.0, 2.0], 100)  # fewer edges than the others
    edges = quantile_edges(columns, 8, [0, 1, 2])
    index = bin_indices(columns, edges)
    for c, e in enumerate(edges):
        expected = np.clip(np.searchsorted(e, columns[:, c], side="left") - 1, 0, e.size - 2)
        np.testing.assert_array_equal(index[c], expected)
