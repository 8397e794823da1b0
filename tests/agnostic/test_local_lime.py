"""LIME tabular: training statistics vs lime's discretizer and scaler, sampling vs the reference
replay of the exposed draws, fits vs the reference and vs lime's own LimeBase on the same data,
statistical agreement with lime's LimeTabularExplainer, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import make_data, make_net
from glassbox import _core
from reference import local as ref

lime_tabular = pytest.importorskip("lime.lime_tabular")
lime_base = pytest.importorskip("lime.lime_base")


def training(n: int = 300, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    X[:, 3] = rng.integers(0, 3, n)  # a categorical column
    X[:, 4] = np.round(X[:, 4], 1)  # ties at the quantiles
    return X


def replayed(
    X: np.ndarray,
    rows: np.ndarray,
    categorical: list[int],
    discretizer: str | None,
    seed: int,
    num_samples: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The reference's samples (inputs, interpretable) from the core's exposed draws."""
    n, d = rows.shape
    draws = (
        _core.uniform_draws(
            seed, stream=ref.LIME_VALUE_STREAM, n_rows=n, n_draws=num_samples, n_features=d
        ),
        _core.uniform_draws(
            seed, stream=ref.LIME_WITHIN_BIN_STREAM, n_rows=n, n_draws=num_samples, n_features=d
        ),
        _core.normal_draws(
            seed, stream=ref.LIME_NORMAL_STREAM, n_rows=n, n_draws=num_samples, n_features=d
        ).astype(np.float64),
    )
    return ref.lime_samples(ref.lime_stats(X, categorical, discretizer), rows, num_samples, *draws)


@pytest.mark.parametrize("discretizer", ["quartile", "decile", None])
def test_stats_match_lime(discretizer: str | None) -> None:
    X = training()
    explainer = lime_tabular.LimeTabularExplainer(
        X.astype(np.float64),
        categorical_features=[3],
        discretize_continuous=discretizer is not None,
        discretizer=discretizer or "quartile",
        random_state=0,
    )
    ours = gb.Lime(lambda A: A.sum(1), X, categorical_features=[3], discretizer=discretizer).stats
    for j in range(5):
        np.testing.assert_array_equal(
            ours.values[j] if ours.sampled[j] else [], explainer.feature_values.get(j, [])
        )
        if ours.sampled[j]:
            np.testing.assert_allclose(
                np.diff(ours.cumulative[j], prepend=0.0),
                explainer.feature_frequencies[j],
                rtol=1e-12,
            )
    if discretizer is None:
        np.testing.assert_allclose(ours.mean, explainer.scaler.mean_, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.scale, explainer.scaler.scale_, rtol=1e-12)
        return
    disc = explainer.discretizer
    for j in (0, 1, 2, 4):
        np.testing.assert_array_equal(ours.edges[j], np.unique(disc.mins[j][1:]))
        np.testing.assert_allclose(ours.bin_mean[j], disc.means[j], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ours.bin_std[j], disc.stds[j], rtol=1e-10, atol=1e-15)
        np.testing.assert_array_equal(ours.bin_min[j], disc.mins[j])
        np.testing.assert_array_equal(ours.bin_max[j], disc.maxs[j])


@pytest.mark.parametrize("discretizer", ["quartile", "decile", None])
def test_samples_replay_the_draws(discretizer: str | None) -> None:
    X = training()
    lime = gb.Lime(
        lambda A: A.sum(1),
        X,
        categorical_features=[3],
        discretizer=discretizer,
        num_samples=40,
        seed=7,
    )
    rows = X[:3]
    inputs, interpretable = lime.samples(rows)
    want_inputs, want_interpretable = replayed(X, rows, [3], discretizer, 7, 40)
    np.testing.assert_array_equal(interpretable[..., [3]], want_interpretable[..., [3]])
    np.testing.assert_allclose(interpretable, want_interpretable, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(inputs, want_inputs.astype(np.float32), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(inputs[:, 0], rows)  # the first sample is the row


@pytest.mark.parametrize("selection", ["auto", "forward", "highest_weights", "none"])
@pytest.mark.parametrize("discretizer", ["quartile", None])
def test_fit_matches_reference_and_lime_base(selection: str, discretizer: str | None) -> None:
    net = make_net("relu_softmax")
    X = make_data(5, n_rows=200, seed=2)
    num_features = 3 if selection == "auto" else 4
    lime = gb.Lime(
        net.model,
        X,
        num_samples=300,
        num_features=num_features,
        feature_selection=selection,
        discretizer=discretizer,
        seed=1,
    )
    rows, targets = X[:4], np.array([0, 1, 2, 1])
    exp = lime(rows, target=targets)
    inputs, Z = lime.samples(rows)
    width = 0.75 * np.sqrt(5)
    lime_selection = {"forward": "forward_selection"}.get(selection, selection)
    base = lime_base.LimeBase(lambda d: np.sqrt(np.exp(-(d**2) / width**2)), random_state=0)
    for r in range(4):
        y = net.model.predict(inputs[r]).astype(np.float64)[:, targets[r]]
        values, b0, score, local = ref.lime_fit(Z[r], y, width, num_features, selection)
        np.testing.assert_allclose(exp.values[r], values, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(
            [exp.base_values[r], exp.score[r], exp.local_prediction[r]],
            [b0, score, local],
            rtol=1e-6,
            atol=1e-8,
        )
        distances = np.sqrt(((Z[r] - Z[r][0]) ** 2).sum(axis=1))
        labels = np.zeros((Z.shape[1], 3))
        labels[:, targets[r]] = y
        intercept, weights, lime_score, lime_local = base.explain_instance_with_data(
            Z[r], labels, distances, targets[r], num_features, feature_selection=lime_selection
        )
        theirs = np.zeros(5)
        for j, w in weights:
            theirs[j] = w
        np.testing.assert_allclose(exp.values[r], theirs, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(exp.base_values[r], intercept, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(exp.score[r], lime_score, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(exp.local_prediction[r], lime_local[0], rtol=1e-6, atol=1e-8)


def _ranking_agreement(ours: np.ndarray, theirs: np.ndarray, k: int) -> float:
    top_ours = set(np.argsort(-np.abs(ours))[:k])
    top_theirs = set(np.argsort(-np.abs(theirs))[:k])
    return len(top_ours & top_theirs) / k


@pytest.mark.parametrize("discretizer", ["quartile", None])
def test_rankings_agree_with_lime(discretizer: str | None) -> None:
    rng = np.random.default_rng(0)
    d = 8
    weights = np.array([3.0, -2.0, 1.2, 0.0, 0.6, -0.3, 0.0, 0.1])
    X = rng.normal(size=(500, d)).astype(np.float32)

    def model(A: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-(np.asarray(A, np.float64) @ weights) / 2))
        return np.stack([1 - p, p], axis=1)

    lime = gb.Lime(model, X, num_samples=5000, num_features=d, discretizer=discretizer, seed=0)
    explainer = lime_tabular.LimeTabularExplainer(
        X.astype(np.float64),
        discretize_continuous=discretizer is not None,
        discretizer=discretizer or "quartile",
        random_state=0,
    )
    rows = X[:6]
    exp = lime(rows, target=1)
    overlaps = []
    for r in range(rows.shape[0]):
        result = explainer.explain_instance(
            rows[r].astype(np.float64), model, labels=(1,), num_features=d, num_samples=5000
        )
        theirs = np.zeros(d)
        for j, w in result.local_exp[1]:
            theirs[j] = w
        overlaps.append(_ranking_agreement(exp.values[r], theirs, 3))
        # the same signs where the effect is clear
        strong = np.abs(theirs) > 0.05
        assert np.all(np.sign(exp.values[r][strong]) == np.sign(theirs[strong]))
    assert np.mean(overlaps) >= 0.9


def test_threads_seed_and_callable() -> None:
    net = make_net("tanh")
    X = make_data(5, n_rows=150, seed=4)
    rows = X[:9]
    one = gb.Lime(net.model, X, num_samples=700, seed=3, n_threads=1)(rows, target=2)
    two = gb.Lime(net.model, X, num_samples=700, seed=3, n_threads=2)(rows, target=2)
    small = gb.Lime(net.model, X, num_samples=700, seed=3, memory_budget=1)(rows, target=2)
    for field in ("values", "base_values", "score", "local_prediction"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))
        # other chunk sizes give the same samples; the network's float32 outputs may differ in
        # the last bits with the batch size
        np.testing.assert_allclose(getattr(one, field), getattr(small, field), rtol=1e-4, atol=1e-6)
    wrapped = gb.wrap(lambda A: net.model.predict(A), n_inputs=5)
    other = gb.Lime(wrapped, X, num_samples=700, seed=3)(rows, target=2)
    np.testing.assert_allclose(other.values, one.values, rtol=1e-4, atol=1e-6)
    reseeded = gb.Lime(net.model, X, num_samples=700, seed=4)(rows, target=2)
    assert not np.array_equal(reseeded.values, one.values)
    assert exp_shape_ok(one, rows)


def exp_shape_ok(exp: gb.Explanation, rows: np.ndarray) -> bool:
    return exp.values.shape == rows.shape and exp[2].score.shape == ()


def test_inputs_not_modified() -> None:
    X = training()
    rows = X[:3].copy()
    X_before, rows_before = X.copy(), rows.copy()
    gb.Lime(lambda A: A.sum(1), X, categorical_features=[3], num_samples=50)(rows)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(rows, rows_before)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_samples": 0}, ValueError, "num_samples"),
        ({"num_features": 0}, ValueError, "num_features"),
        ({"discretizer": "entropy"}, ValueError, "discretizer"),
        ({"feature_selection": "lasso_path"}, ValueError, "feature_selection"),
        ({"kernel_width": -1.0}, ValueError, "kernel_width"),
        ({"categorical_features": [7]}, ValueError, "categorical_features"),
        ({"categorical_features": [1, 1]}, ValueError, "categorical_features"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_configuration(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gb.Lime(make_net("relu").model, make_data(5, 50), **kwargs)


def test_bad_data() -> None:
    model = make_net("relu").model
    X = make_data(5, 50)
    with pytest.raises(ValueError, match=r"training_data: expected shape \(n, 5\)"):
        gb.Lime(model, make_data(4, 50))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="training_data"):
        gb.Lime(model, bad)
    lime = gb.Lime(model, X, num_samples=20)
    with pytest.raises(ValueError, match="X"):
        lime(make_data(4, 2), target=0)
    with pytest.raises(ValueError, match="target"):
        lime(X[:2], target=3)
    with pytest.raises(ValueError, match="target"):
        lime(X[:2])  # three outputs need a target


def test_heavy_tailed_bins_replay_the_draws() -> None:
    """Skewed columns put draws in the normal's far tails (the quantile's second rational
    function, redone one by one after the vectorised pass): all equal scipy's truncnorm."""
    rng = np.random.default_rng(11)
    X = np.exp(rng.normal(scale=2.0, size=(500, 3))).astype(np.float32)
    X[:, 2] = -X[:, 2]
    lime = gb.Lime(lambda A: A.sum(1), X, discretizer="decile", num_samples=1000, seed=4)
    inputs, _ = lime.samples(X[:2])
    want_inputs, _ = replayed(X, X[:2], [], "decile", 4, 1000)
    np.testing.assert_allclose(inputs, want_inputs, rtol=1e-5, atol=1e-6)


def test_tied_column_with_empty_bins() -> None:
    """A 0/1 column: its quartile bins include empty ones; samples stay 0 or ~1."""
    rng = np.random.default_rng(8)
    X = np.stack([rng.normal(size=400), rng.integers(0, 2, 400)], axis=1).astype(np.float32)
    lime = gb.Lime(lambda A: A[:, 0] + 2 * A[:, 1], X, num_samples=300, seed=2)
    edges, observed = lime.stats.edges[1], lime.stats.values[1]
    assert len(observed) == 2 and len(edges) + 1 > 2  # some bin holds no training value
    inputs, interpretable = lime.samples(X[:3])
    np.testing.assert_allclose(np.unique(np.round(inputs[:, :, 1], 4)), [0.0, 1.0])
    want_inputs, want_interpretable = replayed(X, X[:3], [], "quartile", 2, 300)
    np.testing.assert_array_equal(interpretable, want_interpretable)
    np.testing.assert_allclose(inputs, want_inputs, rtol=1e-5, atol=1e-6)
    exp = lime(X[:3])
    assert np.all(np.abs(exp.values[:, 1]) > np.abs(exp.values[:, 0]))


def test_model_errors_surface() -> None:
    X = make_data(3, n_rows=50)

    def fails(A: np.ndarray) -> np.ndarray:
        raise RuntimeError("model failed")

    with pytest.raises(RuntimeError, match="model failed"):
        gb.Lime(gb.wrap(fails, n_inputs=3, n_outputs=1), X, num_samples=20)(X[:2])
    with pytest.raises(ValueError, match="NaN"):
        gb.Lime(gb.wrap(lambda A: A[:, :1] * np.nan, n_inputs=3, n_outputs=1), X)(X[:2])
