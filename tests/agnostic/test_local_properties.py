"""Properties of the local methods on models with known answers (hypothesis): ablation and
occlusion of a linear model are exact, LIME without binning recovers a linear model's slopes."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import glassbox as gb
from conftest import build, make_linear_spec

seeds = st.integers(0, 2**16)


@given(seed=seeds, d=st.integers(2, 7))
def test_ablation_of_a_linear_model_is_weight_times_difference(seed: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(1, d))
    model = build(make_linear_spec(w, rng.normal(size=1)))
    X = rng.normal(size=(4, d)).astype(np.float32)
    base = rng.normal(size=d).astype(np.float32)
    exp = gb.FeatureAblation(model, baselines=base)(X)
    np.testing.assert_allclose(exp.values, w[0] * (X - base), rtol=1e-4, atol=1e-4)
    # a group gets the sum of its members' effects, shared by every member
    groups = [list(range(0, d, 2)), list(range(1, d, 2))]
    grouped = gb.FeatureAblation(model, feature_mask=groups, baselines=base)(X).values
    for members in groups:
        total = (w[0, members] * (X - base)[:, members]).sum(axis=1)
        np.testing.assert_allclose(
            grouped[:, members], np.repeat(total[:, None], len(members), 1), rtol=1e-4, atol=1e-4
        )


@given(seed=seeds, d=st.integers(3, 8), window=st.integers(1, 3))
def test_occlusion_of_a_linear_model_averages_window_sums(seed: int, d: int, window: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(1, d))
    model = build(make_linear_spec(w))
    X = rng.normal(size=(3, d)).astype(np.float32)
    exp = gb.Occlusion(model, (window,), strides=1)(X)
    effect = w[0] * X
    starts = range(0, d - window + 1)
    want = np.zeros_like(effect)
    for i in range(d):  # mean over the windows covering i of the window's total effect
        cover = [s for s in starts if s <= i < s + window]
        want[:, i] = np.mean([effect[:, s : s + window].sum(axis=1) for s in cover], axis=0)
    np.testing.assert_allclose(exp.values, want, rtol=1e-4, atol=1e-4)
    if window == 1:
        np.testing.assert_allclose(exp.values, effect, rtol=1e-4, atol=1e-4)


@given(seed=seeds, d=st.integers(2, 5))
def test_lime_without_bins_recovers_linear_slopes(seed: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(1, d))
    model = build(make_linear_spec(w, np.array([0.5])))
    train = (rng.normal(size=(300, d)) * rng.uniform(0.5, 2.0, d)).astype(np.float32)
    lime = gb.Lime(
        model, train, discretizer=None, feature_selection="none", num_samples=2000, seed=seed
    )
    # rows near the training mean keep most samples' kernel weights, so the ridge shrinkage
    # (about alpha / sum of weighted squares) stays far below the tolerance
    rows = train.mean(axis=0) + 0.2 * train.std(axis=0) * rng.normal(size=(3, d))
    exp = lime(rows.astype(np.float32))
    # the interpretable data are standardised, so the slopes are w * std
    np.testing.assert_allclose(
        exp.values, np.repeat(w * train.std(axis=0), 3, 0), rtol=2e-2, atol=2e-3
    )
    assert np.all(exp.score > 0.99)
