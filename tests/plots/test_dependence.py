"""plots.scatter: the dots drawn are (the feature's data, its values), coloured by the feature
asked for or by the planted interacting one with color="auto"."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.plots._figure import attributions
from glassbox.plots.dependence import interaction_scores
from plots import _tabular
from plots.conftest import render


def colour_bar_label(ax):
    return ax.get_figure().axes[-1].get_ylabel()


def test_scatter_draws_the_features_data_against_its_values():
    _, X, exp = _tabular.diabetes()
    ax = gb.plots.scatter(exp, "bmi")
    (dots,) = ax.collections
    j = list(X.columns).index("bmi")
    np.testing.assert_array_equal(dots.get_offsets()[:, 0], X.iloc[:120, j].to_numpy())
    np.testing.assert_array_equal(dots.get_offsets()[:, 1], exp.values[:, j])
    assert ax.get_xlabel() == "bmi" and "kernel_shap value of bmi" in ax.get_ylabel()
    same = gb.plots.scatter(exp, j)
    np.testing.assert_array_equal(same.collections[0].get_offsets(), dots.get_offsets())
    render(ax)


def test_auto_colour_finds_the_planted_interaction():
    exp = _tabular.product()  # f = x0 * x1 + x2
    for feature, partner in ((0, "x1"), (1, "x0")):
        ax = gb.plots.scatter(exp, feature, color="auto")
        assert colour_bar_label(ax) == partner
    scores = interaction_scores(attributions(exp), 0)
    assert np.isnan(scores[0]) and scores[1] > 0.5 and max(abs(scores[2]), abs(scores[3])) < 0.1
    scores = interaction_scores(attributions(exp), 2)  # x2 is additive: nothing stands out
    assert np.nanmax(scores) < 0.1
    render(ax)


def test_colour_by_a_feature_is_its_clipped_value():
    _, X, exp = _tabular.diabetes()
    ax = gb.plots.scatter(exp, "bmi", color="s5")
    (dots,) = ax.collections
    column = X["s5"].to_numpy()[:120]
    low, high = np.percentile(column, [5, 95])
    np.testing.assert_allclose(dots.get_array(), np.clip(column, low, high))
    assert dots.get_clim() == pytest.approx((low, high))
    assert colour_bar_label(ax) == "s5"
    render(ax)


def test_categories_are_named_on_the_x_axis_and_on_the_colour_bar():
    frame, exp = _tabular.mixed_frame()
    ax = gb.plots.scatter(exp, "colour", color="auto")
    (dots,) = ax.collections
    names = sorted(set(frame["colour"]))
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    codes = np.array([names.index(v) for v in frame["colour"]])
    np.testing.assert_array_equal(dots.get_offsets()[:, 0], codes)
    np.testing.assert_array_equal(dots.get_offsets()[:, 1], exp.values[:, 0])
    assert colour_bar_label(ax) == "size"  # red x size: size changes colour's effect
    ax = gb.plots.scatter(exp, "size", color="colour")
    bar = ax.get_figure().axes[-1]
    assert [t.get_text() for t in bar.get_yticklabels()] == names
    np.testing.assert_array_equal(ax.collections[0].get_array(), codes)
    render(ax)


def test_scatter_checks_its_input():
    exp = _tabular.product()
    with pytest.raises(ValueError, match="feature: no feature named 'x9'"):
        gb.plots.scatter(exp, "x9")
    with pytest.raises(ValueError, match="feature: feature 7 is out of range"):
        gb.plots.scatter(exp, 7)
    with pytest.raises(ValueError, match="color: no feature named 'nope'"):
        gb.plots.scatter(exp, 0, color="nope")
    with pytest.raises(ValueError, match="single row"):
        gb.plots.scatter(exp[0], 0)
    with pytest.raises(ValueError, match="output"):
        gb.plots.scatter(_tabular.two_outputs(), 0)
    ax = gb.plots.scatter(_tabular.two_outputs(), 0, output="risk")
    assert "risk" in ax.get_ylabel()
