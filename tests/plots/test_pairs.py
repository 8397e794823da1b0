"""plots.interactions: the cells of the heat map are the H-statistics / mean |interaction values|
computed, with the features' names on both axes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor

import glassbox as gb
from plots.conftest import render


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0).fit(X, y)
    return X, model


def _drawn(ax):
    """The matrix drawn (masked cells as NaN) and the names on both axes."""
    cells = np.ma.filled(np.ma.asarray(ax.images[0].get_array(), dtype=float), np.nan)
    x = [t.get_text() for t in ax.get_xticklabels()]
    y = [t.get_text() for t in ax.get_yticklabels()]
    return cells, x, y


def _expected_h(h, names):
    """H = sqrt(H²) of every pair among ``names`` (NaN where not computed), overall H on the
    diagonal, computed here from the result's fields."""
    labels = [h.feature_names[f] for f in h.features]
    index = {label: i for i, label in enumerate(labels)}
    full = np.full((len(labels), len(labels)), np.nan)
    for (a, b), h2 in zip(h.pairs, h.pairwise[:, 0], strict=True):
        i, j = index[h.feature_names[a]], index[h.feature_names[b]]
        full[i, j] = full[j, i] = np.sqrt(h2)
    if h.overall is not None:
        full[np.diag_indices(len(labels))] = np.sqrt(h.overall[:, 0])
    order = [index[n] for n in names]
    return full[np.ix_(order, order)]


def test_h_statistic_cells_are_the_pairwise_and_overall_h(diabetes):
    X, model = diabetes
    h = gb.h_statistic(model, X, ["bmi", "s5", "bp", "age", "sex"], n_samples=40)
    ax = gb.plots.interactions(h)
    render(ax)
    cells, x, y = _drawn(ax)
    assert x == y and sorted(x) == sorted(["bmi", "s5", "bp", "age", "sex"])
    expected = _expected_h(h, x)
    np.testing.assert_allclose(cells, expected)
    # strongest first: row sums decrease
    assert np.all(np.diff(np.nansum(expected, axis=1)) <= 1e-12)
    image = ax.images[0]
    assert image.norm.vmin == 0 and image.norm.vmax == pytest.approx(np.nanmax(expected))
    # each cell's value is written in it
    texts = {t.get_text() for t in ax.texts}
    assert f"{expected[0, 1]:.2f}" in texts
    assert "overall H on the diagonal" in ax.get_title()


def test_pairs_not_computed_are_blank(diabetes):
    X, model = diabetes
    h = gb.h_statistic(model, X, [["bmi", "s5"], ["bmi", "bp"]], n_samples=30)
    ax = gb.plots.interactions(h)
    render(ax)
    cells, x, _ = _drawn(ax)
    assert np.ma.is_masked(ax.images[0].get_array())
    np.testing.assert_allclose(cells, _expected_h(h, x))
    assert np.isnan(cells).sum() == 9 - 4  # the diagonal and (s5, bp)
    assert len(ax.texts) == 4


def test_max_display_keeps_the_strongest(diabetes):
    X, model = diabetes
    h = gb.h_statistic(model, X, n_samples=30)
    ax = gb.plots.interactions(h, max_display=4)
    cells, x, _ = _drawn(ax)
    assert cells.shape == (4, 4)
    full = _expected_h(h, [h.feature_names[f] for f in h.features])
    sums = np.nansum(full, axis=1)
    strongest = [h.feature_names[f] for f in np.argsort(-sums, kind="stable")[:4]]
    assert x == strongest


def test_shapley_interactions_are_mean_absolute_values(diabetes):
    X, model = diabetes
    exp = gb.ShapleyInteractions(model, background=X[:20])(X[:15])
    ax = gb.plots.interactions(exp, max_display=10)
    render(ax)
    cells, x, y = _drawn(ax)
    assert x == y
    mean = np.abs(exp.values).mean(axis=0)
    order = [list(X.columns).index(n) for n in x]
    np.testing.assert_allclose(cells, mean[np.ix_(order, order)])
    assert "mean |SHAP interaction value|" in ax.get_title()


def test_output_axis_needs_output():
    model = gb.wrap(lambda X: np.c_[X[:, 0] * X[:, 1], X[:, 1] * X[:, 2]], n_inputs=3)
    X = np.random.default_rng(0).normal(size=(20, 3))
    exp = gb.ShapleyInteractions(model, background=X[:10])(X[:5])
    with pytest.raises(ValueError, match=r"output=.*'output 0', 'output 1'"):
        gb.plots.interactions(exp)
    ax = gb.plots.interactions(exp, output="output 1")
    cells, x, _ = _drawn(ax)
    order = [int(n[1:]) for n in x]
    np.testing.assert_allclose(cells, np.abs(exp.values[..., 1]).mean(0)[np.ix_(order, order)])
    assert "(output 1)" in ax.get_title()
    h = gb.h_statistic(model, X, n_samples=20)
    with pytest.raises(ValueError, match="output="):
        gb.plots.interactions(h)
    ax = gb.plots.interactions(h, output=1)
    cells, x, _ = _drawn(ax)
    i, j = x.index("x1"), x.index("x2")
    assert cells[i, j] == pytest.approx(np.sqrt(h.pairwise[h.pairs.index((1, 2)), 1]))


def test_hand_made_h_statistic_and_bad_input():
    h = gb.HStatistic(
        pairwise=np.array([[0.25], [0.04], [0.0]]),
        pairs=[(0, 1), (0, 2), (1, 2)],
        overall=None,
        features=[0, 1, 2],
        targets=[0],
        rows=np.arange(3),
        feature_names=["a", "b", "c"],
    )
    ax = gb.plots.interactions(h)
    cells, x, _ = _drawn(ax)
    assert x == ["a", "b", "c"]
    assert cells[0, 1] == pytest.approx(0.5) and cells[0, 2] == pytest.approx(0.2)
    with pytest.raises(TypeError, match="HStatistic"):
        gb.plots.interactions(gb.Explanation(values=np.ones((2, 3)), data=np.ones((2, 3))))
    with pytest.raises(ValueError, match="max_display"):
        gb.plots.interactions(h, max_display=0)
    with pytest.raises(ValueError, match="output"):
        gb.plots.interactions(h, output="nope")
