"""Friedman's H-statistic: the literal reference, H = 0 for additive models and > 0 with an
interaction (property-tested), seeded subsamples, determinism and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassbox as gb
from reference import inspection as ref


def test_native_network_matches_the_literal_reference() -> None:
    estimator, X, _ = ref.problem("multiclass", n_rows=40)
    native = gb.from_sklearn(estimator)
    result = gb.h_statistic(native, X, [0, 2, 3], n_samples=40)
    predict = lambda Z: native.predict(Z.astype(np.float32))  # noqa: E731
    data = X.astype(np.float32)
    for i, (j, k) in enumerate(result.pairs):
        np.testing.assert_allclose(
            result.pairwise[i], ref.h_squared_pair(predict, data, j, k), rtol=1e-4, atol=1e-7
        )
    for i, j in enumerate(result.features):
        np.testing.assert_allclose(
            result.overall[i], ref.h_squared_overall(predict, data, j), rtol=1e-4, atol=1e-7
        )
    np.testing.assert_allclose(result.h, np.sqrt(result.pairwise))


@given(
    coefficients=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    strength=st.floats(0.5, 3),
    seed=st.integers(0, 1000),
)
def test_zero_for_additive_models_and_positive_with_an_interaction(
    coefficients: list[float], strength: float, seed: int
) -> None:
    X = np.random.default_rng(seed).uniform(-1, 1, size=(60, 3))
    a, b, c = coefficients

    def additive(Z: np.ndarray) -> np.ndarray:
        return a * Z[:, 0] + b * Z[:, 1] ** 2 + c * np.cos(2 * Z[:, 2])

    flat = gb.h_statistic(gb.wrap(additive, n_inputs=3), X)
    assert np.all(flat.pairwise < 1e-6) and np.all(flat.overall < 1e-6)
    interacting = gb.wrap(lambda Z: additive(Z) + strength * Z[:, 0] * Z[:, 1], n_inputs=3)
    result = gb.h_statistic(interacting, X)
    pair = result.pairs.index((0, 1))
    assert result.pairwise[pair, 0] > 1e-3
    assert np.all(np.delete(result.pairwise[:, 0], pair) < 1e-6)
    assert result.overall[0, 0] > 1e-3 and result.overall[2, 0] < 1e-6


def test_pairs_subsample_threads_and_callable() -> None:
    estimator, X, _ = ref.problem("regression", n_rows=200)
    native = gb.from_sklearn(estimator)
    one = gb.h_statistic(native, X, [(2, 3), (0, 1)], n_samples=50, seed=5, n_threads=1)
    two = gb.h_statistic(native, X, [(2, 3), (0, 1)], n_samples=50, seed=5, n_threads=2)
    np.testing.assert_array_equal(one.pairwise, two.pairwise)
    assert one.overall is None and one.pairs == [(2, 3), (0, 1)]
    assert len(one.rows) == 50 and len(set(one.rows)) == 50
    other = gb.h_statistic(native, X, [(2, 3)], n_samples=50, seed=6)
    assert not np.array_equal(other.rows, one.rows)
    via_callable = gb.h_statistic(estimator, X, [(2, 3), (0, 1)], n_samples=50, seed=5)
    np.testing.assert_allclose(via_callable.pairwise, one.pairwise, rtol=1e-3, atol=1e-6)


def test_bad_input() -> None:
    estimator, X, _ = ref.problem("regression", n_rows=30)
    with pytest.raises(ValueError, match="at least two features"):
        gb.h_statistic(estimator, X, [1])
    with pytest.raises(ValueError, match="n_samples"):
        gb.h_statistic(estimator, X, n_samples=1)
    with pytest.raises(ValueError, match="features"):
        gb.h_statistic(estimator, X, [(0, 9)])
    with pytest.raises(ValueError, match="pairs of two"):
        gb.h_statistic(estimator, X, [(0, 1, 2)])
