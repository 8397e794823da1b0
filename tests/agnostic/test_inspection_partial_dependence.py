"""Partial dependence and ICE: scikit-learn's brute method and grids, the literal reference,
centered curves, categorical features, custom grids, determinism and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.inspection import partial_dependence as sk_partial_dependence

import glassbox as gb
from reference import inspection as ref


@pytest.fixture(scope="module")
def regression() -> tuple[object, np.ndarray, np.ndarray]:
    model, X, y = ref.problem("regression")
    X = X.copy()
    X[:, 3] = np.round(X[:, 3])  # a feature with few levels: its grid is its unique values
    return model, X, y


@pytest.mark.parametrize("features", [0, 3, (1, 2), (0, 3)])
@pytest.mark.parametrize("native", [False, True])
def test_matches_scikit_learn_brute_average_and_ice(regression, features, native: bool) -> None:
    estimator, X, _ = regression
    model = gb.from_sklearn(estimator) if native else estimator
    ours = gb.partial_dependence(model, X, features, kind="both", grid_resolution=15)
    theirs = sk_partial_dependence(
        estimator,
        X,
        [features] if isinstance(features, int) else list(features),
        kind="both",
        method="brute",
        grid_resolution=15,
    )
    assert len(ours.grid_values) == len(theirs["grid_values"])
    for a, b in zip(ours.grid_values, theirs["grid_values"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    tolerance = 1e-5 if native else 1e-6
    np.testing.assert_allclose(ours.average, theirs["average"], atol=tolerance)
    np.testing.assert_allclose(ours.individual, theirs["individual"], atol=tolerance)


def test_classifier_outputs_percentiles_and_custom_grid_match_scikit_learn() -> None:
    estimator, X, _ = ref.problem("multiclass")
    ours = gb.partial_dependence(estimator, X, 1, percentiles=(0.1, 0.8), grid_resolution=9)
    theirs = sk_partial_dependence(
        estimator, X, [1], percentiles=(0.1, 0.8), grid_resolution=9, method="brute"
    )
    np.testing.assert_allclose(ours.grid_values[0], theirs["grid_values"][0], rtol=1e-12)
    np.testing.assert_allclose(ours.average, theirs["average"], atol=1e-6)
    grid = np.linspace(X[:, 2].min(), X[:, 2].max(), 7)
    ours = gb.partial_dependence(estimator, X, 2, grid=grid, kind="individual", target=[2, 0])
    theirs = sk_partial_dependence(
        estimator, X, [2], custom_values={2: grid}, kind="individual", method="brute"
    )
    np.testing.assert_allclose(ours.individual, theirs["individual"][[2, 0]], atol=1e-6)
    assert ours.average is None


def test_categorical_grid_is_the_levels_and_matches_scikit_learn() -> None:
    estimator, X, _ = ref.problem("binary")
    X = X.copy()
    X[:, 0] = np.round(X[:, 0] * 3)
    ours = gb.partial_dependence(estimator, X, 0, categorical_features=[0], grid_resolution=3)
    theirs = sk_partial_dependence(
        estimator, X, [0], categorical_features=[0], grid_resolution=3, method="brute"
    )
    np.testing.assert_array_equal(ours.grid_values[0], np.unique(X[:, 0]))
    np.testing.assert_allclose(ours.average[1], theirs["average"][0], atol=1e-6)


@pytest.mark.parametrize("features", [2, (0, 1)])
def test_native_network_matches_the_literal_reference(regression, features) -> None:
    estimator, X, _ = regression
    native = gb.from_sklearn(estimator)
    ours = gb.partial_dependence(native, X, features, kind="both", grid_resolution=6)
    feats = [features] if isinstance(features, int) else list(features)
    average, individual = ref.partial_dependence(
        lambda Z: native.predict(Z.astype(np.float32)),
        X.astype(np.float32),
        feats,
        [axis.astype(np.float32) for axis in ours.grid_values],
    )
    np.testing.assert_allclose(ours.average, average, atol=1e-6)
    np.testing.assert_allclose(ours.individual, individual, atol=1e-6)


def test_centered_curves_start_at_zero(regression) -> None:
    estimator, X, _ = regression
    plain = gb.partial_dependence(estimator, X, (0, 1), kind="both", grid_resolution=5)
    centered = gb.partial_dependence(
        estimator, X, (0, 1), kind="both", grid_resolution=5, centered=True
    )
    np.testing.assert_array_equal(centered.individual[:, :, 0, 0], 0)
    np.testing.assert_allclose(
        centered.individual, plain.individual - plain.individual[:, :, :1, :1], atol=1e-6
    )
    np.testing.assert_allclose(centered.average, plain.average - plain.average[:, :1, :1])


def test_threads_and_memory_budget_do_not_change_results(regression) -> None:
    estimator, X, _ = regression
    native = gb.from_sklearn(estimator)
    one = gb.partial_dependence(native, X, (0, 2), kind="both", grid_resolution=20, n_threads=1)
    two = gb.partial_dependence(native, X, (0, 2), kind="both", grid_resolution=20, n_threads=2)
    np.testing.assert_array_equal(one.individual, two.individual)
    np.testing.assert_array_equal(one.average, two.average)
    a = gb.partial_dependence(native, X, 1, n_threads=1, memory_budget=2048)
    b = gb.partial_dependence(native, X, 1, n_threads=2, memory_budget=2048)
    np.testing.assert_array_equal(a.average, b.average)
    np.testing.assert_allclose(a.average, gb.partial_dependence(estimator, X, 1).average, atol=1e-5)


def test_bad_input(regression) -> None:
    estimator, X, _ = regression
    before = X.copy()
    with pytest.raises(ValueError, match="outside the data"):
        gb.partial_dependence(estimator, X, 0, grid=[X[:, 0].max() + 1.0])
    outside = gb.partial_dependence(estimator, X, 0, grid=[X[:, 0].max() + 1], extrapolate=True)
    assert outside.average.shape == (1, 1)
    constant = X.copy()
    constant[:, 1] = 2.0
    with pytest.raises(ValueError, match="single level"):
        gb.partial_dependence(estimator, constant, 1, categorical_features=[1])
    with pytest.raises(ValueError, match="percentiles"):
        gb.partial_dependence(estimator, X, 0, percentiles=(0.9, 0.1))
    with pytest.raises(ValueError, match="grid_resolution"):
        gb.partial_dependence(estimator, X, 0, grid_resolution=1)
    with pytest.raises(ValueError, match="one feature or a pair"):
        gb.partial_dependence(estimator, X, [0, 1, 2])
    with pytest.raises(ValueError, match="features"):
        gb.partial_dependence(estimator, X, 9)
    with pytest.raises(ValueError, match="kind"):
        gb.partial_dependence(estimator, X, 0, kind="mean")
    with pytest.raises(ValueError, match="target"):
        gb.partial_dependence(estimator, X, 0, target=3)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("budget", [None, 4096])
def test_a_python_model_is_called_on_chunks_of_thousands_of_rows(budget) -> None:
    sizes: list[int] = []

    def fn(Z: np.ndarray) -> np.ndarray:
        sizes.append(len(Z))
        return Z[:, 0] * Z[:, 1]

    X = np.random.default_rng(0).normal(size=(300, 4))
    model = gb.wrap(fn, n_inputs=4, n_outputs=1)  # given: no probing call
    gb.partial_dependence(model, X, (0, 1), grid_resolution=10, memory_budget=budget)
    assert sum(sizes) == 100 * 300
    assert all(size >= 1024 for size in sizes[:-1])
    sizes.clear()
    gb.permutation_importance(model, X, X[:, 0] * X[:, 1], metric="r2", memory_budget=budget)
    assert sum(sizes) == 300 + 4 * 5 * 300
    assert all(size >= 1024 for size in sizes[1:-1])


def test_jobs_spanning_several_chunks_sum_like_the_reference() -> None:
    # 2500 rows per grid point with 1024-row chunks: every job is split across chunks
    X = np.random.default_rng(3).normal(size=(2500, 3))
    model = gb.wrap(lambda Z: np.c_[Z[:, 0] * Z[:, 1], np.tanh(Z[:, 2] + Z[:, 0])], n_inputs=3)
    result = gb.partial_dependence(model, X, 0, grid=[-0.5, 0.0, 0.7], memory_budget=1)
    average, _ = ref.partial_dependence(model.predict, X, [0], [np.array([-0.5, 0.0, 0.7])])
    np.testing.assert_allclose(result.average, average, atol=1e-6)


@pytest.mark.parametrize("kind", ["average", "both"])
def test_sample_weight_weights_the_average_like_scikit_learn(regression, kind: str) -> None:
    estimator, X, _ = regression
    weights = np.random.default_rng(2).uniform(0, 3, size=X.shape[0])
    ours = gb.partial_dependence(
        gb.from_sklearn(estimator),
        X,
        (0, 2),
        kind=kind,
        grid_resolution=6,
        sample_weight=weights,
    )
    theirs = sk_partial_dependence(
        estimator,
        X,
        [0, 2],
        kind="average",
        grid_resolution=6,
        method="brute",
        sample_weight=weights,
    )
    np.testing.assert_allclose(ours.average, theirs["average"], atol=1e-5)
    with pytest.raises(ValueError, match="sample_weight"):
        gb.partial_dependence(estimator, X, 0, sample_weight=weights[:-1])
