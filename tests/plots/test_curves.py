"""plots.partial_dependence / plots.ale: the lines, bars and contours drawn are the result's
numbers (and scikit-learn's, where the semantics match)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.inspection import PartialDependenceDisplay
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.linear_model import LogisticRegression

import glassbox as gb
from glassbox.plots.curves import CONTOUR_LEVELS
from plots.conftest import render


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    model = GradientBoostingRegressor(n_estimators=30, max_depth=2, random_state=0).fit(X, y)
    return X, model


def _by_xlabel(fig, label):
    return next(ax for ax in fig.axes if ax.get_xlabel() == label)


def _contour_levels(result, plot):
    """The levels of the filled contours ``plot`` draws of a pair (x2, x8), checked rendered
    and named on both axes."""
    fig = plot(result)
    render(fig)
    ax = _by_xlabel(fig, "x2")
    assert ax.get_ylabel() == "x8"
    return fig, ax, np.asarray(next(c for c in ax.collections if hasattr(c, "levels")).levels)


def test_pd_and_ice_lines_are_the_result_and_sklearn_s(diabetes):
    X, model = diabetes
    result = gb.partial_dependence(model, X, 2, kind="both", grid_resolution=12)
    fig = gb.plots.partial_dependence(result, max_ice_lines=1000)
    render(fig)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x2" and ax.get_ylabel() == "partial dependence of output 0"
    *ice, pd_line = ax.lines
    assert len(ice) == X.shape[0]
    grid = result.grid_values[0]
    np.testing.assert_allclose(pd_line.get_xydata(), np.c_[grid, result.average[0]])
    for row, line in enumerate(ice):
        np.testing.assert_allclose(line.get_ydata(), result.individual[0, row])
    # the same numbers as scikit-learn's (brute method, same grid)
    theirs = sk_partial_dependence(model, X, [2], kind="both", grid_resolution=12)
    np.testing.assert_allclose(pd_line.get_xdata(), theirs["grid_values"][0], rtol=1e-6)
    np.testing.assert_allclose(pd_line.get_ydata(), theirs["average"][0], rtol=1e-4)
    drawn_ice = np.array([line.get_ydata() for line in ice])
    np.testing.assert_allclose(drawn_ice, theirs["individual"][0], rtol=1e-4, atol=1e-3)
    # the rug: the deciles of the feature's data, as scikit-learn's display draws them
    display = PartialDependenceDisplay.from_estimator(model, X, [2], grid_resolution=12)
    rug = ax.collections[0]
    drawn = [segment[0, 0] for segment in rug.get_segments()]
    np.testing.assert_allclose(drawn, display.deciles[2], rtol=1e-6)


def test_ice_is_a_seeded_sample_above_max_ice_lines(diabetes):
    X, model = diabetes
    result = gb.partial_dependence(model, X, 3, kind="both", grid_resolution=6)
    fig = gb.plots.partial_dependence(result, max_ice_lines=25, seed=3)
    ax = fig.axes[0]
    *ice, _ = ax.lines
    assert len(ice) == 25
    drawn = np.array([line.get_ydata() for line in ice])
    expected = np.sort(np.random.default_rng(3).choice(X.shape[0], 25, replace=False))
    np.testing.assert_allclose(drawn, result.individual[0, expected])
    assert "25 of 442 rows" in ice[0].get_label()
    fig = gb.plots.partial_dependence(result, ice=False)
    assert len(fig.axes[0].lines) == 1


def test_centred_curves_start_at_zero(diabetes):
    X, model = diabetes
    result = gb.partial_dependence(model, X, 8, kind="both", grid_resolution=8)
    fig = gb.plots.partial_dependence(result, centered=True, max_ice_lines=1000)
    ax = fig.axes[0]
    *ice, pd_line = ax.lines
    np.testing.assert_allclose(pd_line.get_ydata(), result.average[0] - result.average[0, 0])
    ice0 = result.individual[0, 0]
    np.testing.assert_allclose(ice[0].get_ydata(), ice0 - ice0[0])
    assert ax.get_ylabel().startswith("centred partial dependence")
    # a result computed centred is drawn as it is
    centred = gb.partial_dependence(model, X, 8, kind="both", grid_resolution=8, centered=True)
    ax = gb.plots.partial_dependence(centred).axes[0]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), centred.average[0], atol=1e-9)
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), pd_line.get_ydata(), atol=1e-3)


def test_pairs_are_filled_contours_spanning_the_values(diabetes):
    X, model = diabetes
    result = gb.partial_dependence(model, X, [2, 8], grid_resolution=10)
    fig, ax, levels = _contour_levels(result, gb.plots.partial_dependence)
    z = result.average[0]
    assert levels.size == CONTOUR_LEVELS + 1
    assert levels[0] == pytest.approx(z.min()) and levels[-1] == pytest.approx(z.max())
    colour_bar = next(a for a in fig.axes if a is not ax)
    assert colour_bar.get_ylabel() == "partial dependence of output 0"


def test_categorical_features_are_bars_with_names(diabetes):
    pd = pytest.importorskip("pandas")
    X, _ = diabetes
    frame = pd.DataFrame({"bmi": X[:, 2], "sex": np.where(X[:, 1] > 0, "male", "female")})

    def f(frame):
        return frame["bmi"].to_numpy() * 100 + (frame["sex"] == "male").to_numpy() * 5.0

    model = gb.wrap(f, n_inputs=2, feature_names=["bmi", "sex"])
    result = gb.partial_dependence(model, frame, "sex", kind="both")
    assert result.categorical == [True] and result.deciles == [None]
    fig = gb.plots.partial_dependence([result], max_ice_lines=10)
    render(fig)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(v) for v in result.grid_values[0]]
    np.testing.assert_allclose([p.get_height() for p in ax.patches], result.average[0])
    assert not ax.collections  # no rug of codes


def test_several_results_and_outputs_make_a_panel_each():
    X, target = load_diabetes(return_X_y=True, as_frame=True)
    X, y = X[:200], np.digitize(target[:200], [100, 200])  # 3 classes
    model = LogisticRegression(max_iter=2000).fit(X, y)
    results = [gb.partial_dependence(model, X, f, grid_resolution=5) for f in ("bmi", "bp")]
    fig = gb.plots.partial_dependence(results)
    assert len(fig.axes) == 6
    fig = gb.plots.partial_dependence(results, features="bp", targets=[2, "0"])
    assert [ax.get_xlabel() for ax in fig.axes] == ["bp", "bp"]
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "partial dependence of 2",
        "partial dependence of 0",
    ]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), results[1].average[2])
    with pytest.raises(ValueError, match="features: 's5' is not a feature"):
        gb.plots.partial_dependence(results, features="s5")
    with pytest.raises(ValueError, match="targets: 7"):
        gb.plots.partial_dependence(results, targets=7)


def test_individual_only_draws_their_mean(diabetes):
    X, model = diabetes
    result = gb.partial_dependence(model, X, 2, kind="individual", grid_resolution=5)
    ax = gb.plots.partial_dependence(result, max_ice_lines=5).axes[0]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), result.individual[0].mean(axis=0))


def test_hand_made_result():
    result = gb.PartialDependence(
        average=np.array([[1.0, 2.0, 4.0]]),
        individual=None,
        grid_values=[np.array([0.0, 1.0, 2.0])],
        features=[0],
        targets=[0],
        kind="average",
        centered=False,
        feature_names=["age"],
        output_names=["risk"],
    )
    fig = gb.plots.partial_dependence(result)
    render(fig)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xydata(), [[0, 1], [1, 2], [2, 4]])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("age", "partial dependence of risk")


def test_bad_input_is_refused(diabetes):
    X, model = diabetes
    result = gb.partial_dependence(model, X, 2, grid_resolution=5)
    with pytest.raises(TypeError, match="PartialDependence"):
        gb.plots.partial_dependence(gb.ale(model, X, 2))
    with pytest.raises(ValueError, match="max_ice_lines"):
        gb.plots.partial_dependence(result, max_ice_lines=0)
    with pytest.raises(TypeError, match="fig"):
        gb.plots.partial_dependence(result, fig="figure")
    with pytest.raises(TypeError, match="ALE"):
        gb.plots.ale(result)


def test_results_plot_themselves(diabetes):
    X, model = diabetes
    pd_result = gb.partial_dependence(model, X, 2, grid_resolution=5)
    assert pd_result.plot().axes[0].get_xlabel() == "x2"
    assert gb.ale(model, X, 3, bins=4).plot().axes[0].get_xlabel() == "x3"


def test_ale_curve_and_counts_are_the_result(diabetes):
    X, model = diabetes
    result = gb.ale(model, X, 2, bins=8)
    fig = gb.plots.ale(result)
    render(fig)
    ax = _by_xlabel(fig, "x2")
    assert ax.get_ylabel() == "ALE of output 0"
    np.testing.assert_allclose(ax.lines[0].get_xydata(), np.c_[result.edges[0], result.values[0]])
    twin = next(a for a in fig.axes if a is not ax)
    bars = twin.patches
    np.testing.assert_array_equal([b.get_height() for b in bars], result.counts)
    np.testing.assert_allclose([b.get_x() for b in bars], result.edges[0][:-1])
    np.testing.assert_allclose([b.get_width() for b in bars], np.diff(result.edges[0]))


def test_ale_pairs_are_contours(diabetes):
    X, model = diabetes
    result = gb.ale(model, X, [2, 8], bins=5)
    _, _, levels = _contour_levels(result, gb.plots.ale)
    assert levels[0] == pytest.approx(result.values[0].min())
    assert levels[-1] == pytest.approx(result.values[0].max())
    # a hand-made flat one still draws
    flat = dataclasses.replace(result, values=np.zeros_like(result.values))
    render(gb.plots.ale(flat))
