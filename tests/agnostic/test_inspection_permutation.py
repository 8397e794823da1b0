"""Permutation importance: the literal reference and scikit-learn's scorers on the exact permuted
rows (exposed by the result), native and callable models, determinism, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from sklearn.metrics import get_scorer

import glassbox as gb
from glassbox import _core
from reference import inspection as ref

SCORERS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "log_loss": "neg_log_loss",
    "roc_auc": "roc_auc",
    "r2": "r2",
    "mse": "neg_mean_squared_error",
    "mae": "neg_mean_absolute_error",
}
TASK = {
    "accuracy": "multiclass",
    "balanced_accuracy": "multiclass",
    "log_loss": "multiclass",
    "roc_auc": "binary",
    "r2": "regression",
    "mse": "regression",
    "mae": "regression",
}


@pytest.fixture(scope="module")
def problems() -> dict[str, tuple[object, np.ndarray, np.ndarray]]:
    return {task: ref.problem(task) for task in ("binary", "multiclass", "regression")}


def _predict(model: object):
    fn = getattr(model, "predict_proba", None) or model.predict  # type: ignore[attr-defined]
    return lambda X: np.asarray(fn(X)).reshape(len(X), -1)


@pytest.mark.parametrize("metric", list(SCORERS))
@pytest.mark.parametrize("max_samples", [None, 70])
def test_matches_scikit_learn_scorers_on_the_exposed_permutations(
    problems, metric: str, max_samples: int | None
) -> None:
    estimator, X, y = problems[TASK[metric]]
    result = gb.permutation_importance(
        estimator, X, y, metric=metric, n_repeats=3, max_samples=max_samples, seed=4
    )
    scorer = get_scorer(SCORERS[metric])
    rows, _ = result.permutation_indices()
    assert result.baseline_score == pytest.approx(scorer(estimator, X, y), abs=1e-6)
    for group in range(X.shape[1]):
        for repeat in range(3):
            data = result.permuted_data(X, group, repeat)
            expected = result.baseline_score - scorer(estimator, data, y[rows[group]])
            assert result.importances[group, repeat] == pytest.approx(expected, abs=1e-6)
    assert result.importances.shape == (4, 3)
    np.testing.assert_allclose(result.importances_mean, result.importances.mean(axis=1))
    np.testing.assert_allclose(result.importances_std, result.importances.std(axis=1))


@pytest.mark.parametrize("metric", list(SCORERS))
def test_native_network_matches_the_literal_reference_with_groups_and_weights(
    problems, metric: str
) -> None:
    estimator, X, y = problems[TASK[metric]]
    native = gb.from_sklearn(estimator)
    groups = [[0], [1, 2], [3, 0]]
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    result = gb.permutation_importance(
        native,
        X,
        y,
        metric=metric,
        n_repeats=2,
        groups=groups,
        max_samples=0.6,
        sample_weight=weights,
        seed=9,
    )
    rows, sources = result.permutation_indices()
    expected = ref.permutation_importance(
        lambda Z: native.predict(Z.astype(np.float32)),
        X.astype(np.float32),
        y,
        metric,
        groups,
        rows,
        sources,
        weights,
    )
    np.testing.assert_allclose(result.importances, expected, atol=1e-9)


def test_exposed_indices_are_permutations_of_a_subsample() -> None:
    result = gb.permutation_importance(
        gb.wrap(lambda X: X.sum(axis=1), n_inputs=3),
        np.arange(60.0).reshape(20, 3),
        np.arange(20.0),
        metric="mse",
        n_repeats=4,
        max_samples=12,
        seed=3,
    )
    rows, sources = result.permutation_indices()
    assert rows.shape == (3, 12) and sources.shape == (3, 4, 12)
    for g in range(3):
        assert len(set(rows[g])) == 12 and rows[g].max() < 20
        for r in range(4):
            np.testing.assert_array_equal(np.sort(sources[g, r]), np.arange(12))
    assert not np.array_equal(sources[0, 0], sources[0, 1])
    assert not np.array_equal(rows[0], rows[1])


@pytest.mark.parametrize("n", [4, 5])
def test_permutations_are_uniform_over_all_orders(n: int) -> None:
    """Every order of n rows is equally likely (chi-square over 60000 seeded shuffles)."""
    sources = _core.permutation_indices(
        1, n_rows=n, max_samples=n, n_groups=1, n_repeats=60000
    ).sources
    orders = {order: k for k, order in enumerate(itertools.permutations(range(n)))}
    counts = np.bincount([orders[tuple(s)] for s in sources[0]], minlength=len(orders))
    assert scipy_stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("n_rows", [6, 200])  # a dense and a sparse (short prefix) shuffle
def test_subsamples_are_uniform_pairs_of_distinct_rows(n_rows: int) -> None:
    rows = _core.permutation_indices(
        2, n_rows=n_rows, max_samples=2, n_groups=40000, n_repeats=1
    ).rows
    assert np.all(rows[:, 0] != rows[:, 1])
    first = np.bincount(rows[:, 0], minlength=n_rows)
    second = np.bincount(rows[:, 1], minlength=n_rows)
    assert scipy_stats.chisquare(first).pvalue > 1e-3
    assert scipy_stats.chisquare(second).pvalue > 1e-3


def test_native_and_callable_agree_and_threads_do_not_change_results(problems) -> None:
    estimator, X, y = problems["multiclass"]
    native = gb.from_sklearn(estimator)
    one = gb.permutation_importance(native, X, y, metric="log_loss", n_threads=1)
    two = gb.permutation_importance(native, X, y, metric="log_loss", n_threads=2)
    np.testing.assert_array_equal(one.importances, two.importances)
    small = gb.permutation_importance(native, X, y, metric="log_loss", memory_budget=4096)
    np.testing.assert_allclose(small.importances, one.importances, atol=1e-6)
    callable_ = gb.permutation_importance(estimator, X, y, metric="log_loss")
    np.testing.assert_allclose(callable_.importances, one.importances, atol=1e-5)


def test_a_callable_metric_is_called_once_per_job_and_matches_the_builtin(problems) -> None:
    estimator, X, y = problems["regression"]
    calls = []

    def neg_mse(y_true, pred, sample_weight=None):
        calls.append(len(y_true))
        return -np.average((y_true - pred) ** 2, weights=sample_weight)

    custom = gb.permutation_importance(estimator, X, y, metric=neg_mse, n_repeats=3, seed=2)
    builtin = gb.permutation_importance(estimator, X, y, metric="mse", n_repeats=3, seed=2)
    np.testing.assert_allclose(custom.importances, builtin.importances, rtol=1e-6, atol=1e-9)
    assert len(calls) == 1 + 4 * 3
    loss = gb.permutation_importance(
        estimator,
        X,
        y,
        metric=lambda a, b: np.mean((a - b) ** 2),
        greater_is_better=False,
        n_repeats=3,
        seed=2,
    )
    np.testing.assert_allclose(loss.importances, builtin.importances, rtol=1e-6, atol=1e-9)


def test_a_permuted_irrelevant_feature_has_zero_importance() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    model = gb.wrap(lambda Z: 3 * Z[:, 0] + Z[:, 1], n_inputs=3)
    result = gb.permutation_importance(model, X, 3 * X[:, 0] + X[:, 1], metric="r2", seed=1)
    assert np.all(result.importances[2] == 0)
    assert result.importances_mean[0] > result.importances_mean[1] > 0.1


def test_bad_input_is_rejected_before_work(problems) -> None:
    classifier, X, y = problems["multiclass"]
    regressor, Xr, yr = problems["regression"]
    X_before = X.copy()
    with pytest.raises(ValueError, match="y: expected shape"):
        gb.permutation_importance(classifier, X, y[:-1])
    with pytest.raises(ValueError, match="n_repeats"):
        gb.permutation_importance(classifier, X, y, n_repeats=0)
    with pytest.raises(ValueError, match="continuous"):
        gb.permutation_importance(gb.from_sklearn(regressor), Xr, yr, metric="accuracy")
    with pytest.raises(ValueError, match="regressor"):
        gb.permutation_importance(regressor, Xr, (yr > 0).astype(int), metric="roc_auc")
    with pytest.raises(ValueError, match="probabilities"):
        gb.permutation_importance(
            gb.wrap(lambda Z: 5 * Z[:, 0], n_inputs=4),
            Xr,
            (yr > 0).astype(int),
            metric="log_loss",
        )
    with pytest.raises(ValueError, match="single-output"):
        gb.permutation_importance(classifier, X, y, metric="r2")
    with pytest.raises(ValueError, match="binary"):
        gb.permutation_importance(classifier, X, y, metric="roc_auc")
    with pytest.raises(ValueError, match="metric"):
        gb.permutation_importance(classifier, X, y, metric="f1")
    with pytest.raises(ValueError, match="max_samples"):
        gb.permutation_importance(classifier, X, y, max_samples=10_000)
    with pytest.raises(ValueError, match="groups"):
        gb.permutation_importance(classifier, X, y, groups=[[0], [7]])
    with pytest.raises(ValueError, match="sample_weight"):
        gb.permutation_importance(classifier, X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="permutation_importance computes on the values"):
        gb.permutation_importance(gb.from_sklearn(classifier), np.where(X > 2, np.nan, X), y)
    np.testing.assert_array_equal(X, X_before)


def test_string_labels_go_through_the_estimators_classes(problems) -> None:
    from sklearn.neural_network import MLPClassifier

    _, X, y = problems["binary"]
    names = np.array(["no", "yes"])[y]
    estimator = ref.fit_quietly(
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0), X, names
    )
    result = gb.permutation_importance(estimator, X, names, metric="roc_auc", n_repeats=2)
    scorer = get_scorer("roc_auc")
    expected = result.baseline_score - scorer(estimator, result.permuted_data(X, 1, 0), names)
    assert result.importances[1, 0] == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match="classes_"):
        gb.permutation_importance(estimator, X, np.where(y, "yes", "maybe"), metric="accuracy")


@given(
    coefficients=st.lists(st.floats(0.5, 3), min_size=2, max_size=2),
    seed=st.integers(0, 2**32 - 1),
    n_repeats=st.integers(1, 4),
)
def test_unused_features_have_zero_importance_and_used_ones_positive(
    coefficients: list[float], seed: int, n_repeats: int
) -> None:
    X = np.random.default_rng(seed % 1000).normal(size=(80, 4))
    a, b = coefficients
    model = gb.wrap(lambda Z: a * Z[:, 0] - b * Z[:, 2], n_inputs=4)
    y = a * X[:, 0] - b * X[:, 2]
    result = gb.permutation_importance(model, X, y, metric="mse", n_repeats=n_repeats, seed=seed)
    np.testing.assert_array_equal(result.importances[[1, 3]], 0)
    assert np.all(result.importances[[0, 2]] > 0)
    assert result.baseline_score == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_core_metrics_match_scikit_learn_and_the_reference(weighted: bool) -> None:
    from sklearn import metrics

    from glassbox import _core

    rng = np.random.default_rng(5)
    n = 200
    w = rng.uniform(0.1, 2, n) if weighted else None
    core_w = np.empty(0) if w is None else w
    probs = rng.dirichlet(np.ones(3), size=n).astype(np.float32)
    y3 = rng.integers(0, 3, n).astype(np.float64)
    exact = probs.astype(np.float64) / probs.sum(axis=1, keepdims=True, dtype=np.float64)
    binary = np.round(rng.uniform(size=(n, 1)), 1).astype(np.float32)  # many tied scores
    y2 = (rng.uniform(size=n) < binary[:, 0]).astype(np.float64)
    values = rng.normal(size=(n, 1)).astype(np.float32)
    target = rng.normal(size=n)
    cases = [
        ("accuracy", probs, y3, 3, metrics.accuracy_score(y3, probs.argmax(1), sample_weight=w)),
        (
            "balanced_accuracy",
            probs,
            y3,
            3,
            metrics.balanced_accuracy_score(y3, probs.argmax(1), sample_weight=w),
        ),
        (
            "log_loss",
            probs,
            y3,
            3,
            -metrics.log_loss(y3, exact, sample_weight=w, labels=[0, 1, 2]),
        ),
        ("roc_auc", binary, y2, 2, metrics.roc_auc_score(y2, binary[:, 0], sample_weight=w)),
        ("r2", values, target, 1, metrics.r2_score(target, values[:, 0], sample_weight=w)),
        (
            "mse",
            values,
            target,
            1,
            -metrics.mean_squared_error(target, values[:, 0], sample_weight=w),
        ),
        (
            "mae",
            values,
            target,
            1,
            -metrics.mean_absolute_error(target, values[:, 0], sample_weight=w),
        ),
    ]
    for metric, P, y, n_classes, expected in cases:
        got = _core.metric_score(
            metric, predictions=P, y=y, sample_weight=core_w, n_classes=n_classes
        )
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-9), metric
        assert got == pytest.approx(ref.score(metric, P, y, w), rel=1e-6, abs=1e-9), metric
