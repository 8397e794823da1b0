"""plots.beeswarm and plots.heatmap: the dots, colours, rows and clustering drawn are the
numbers computed (from exp.values with NumPy and scipy in the test)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering

import glassbox as gb
from glassbox.plots.summary import RASTER_ABOVE, heatmap_rows, swarm_offsets
from plots import _tabular
from plots.conftest import render


def order_by_mean_abs(values):
    return np.argsort(-np.abs(values).mean(axis=0), kind="stable")


def ticks_top_down(ax):
    """The y tick labels, top to bottom (by tick position)."""
    pairs = sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda t: -t[0])
    return [label.get_text() for _, label in pairs]


def dots_by_row(ax):
    """{row height: (x, colour value) of its dots} from the beeswarm's one scatter."""
    (dots,) = ax.collections
    offsets = dots.get_offsets()
    colours = np.ma.filled(np.ma.asarray(dots.get_array(), dtype=float), np.nan)
    rows = np.rint(offsets[:, 1]).astype(int)
    return {int(r): (offsets[rows == r, 0], colours[rows == r]) for r in np.unique(rows)}


def scaled(column):
    """A feature's colour values, computed here: clip to the 5th-95th percentile, scale."""
    low, high = np.percentile(column, [5, 95])
    return (np.clip(column, low, high) - low) / (high - low)


def test_beeswarm_rows_are_features_by_mean_abs_value_with_the_rest_summed():
    _, X, exp = _tabular.diabetes()
    ax = gb.plots.beeswarm(exp, max_display=6)
    values = exp.values
    order = order_by_mean_abs(values)
    names = list(X.columns)
    assert ticks_top_down(ax) == [names[j] for j in order[:5]] + ["5 other features"]
    rows = dots_by_row(ax)
    assert sorted(rows) == [0, 1, 2, 3, 4, 5]  # max_display rows exactly
    for position, j in enumerate(order[:5]):
        x, colour = rows[5 - position]
        np.testing.assert_array_equal(x, values[:, j])  # one dot per row, in data order
        np.testing.assert_allclose(colour, scaled(X.iloc[:120, j].to_numpy()), atol=1e-12)
    x, colour = rows[0]
    np.testing.assert_allclose(x, values[:, order[5:]].sum(axis=1))
    assert np.isnan(colour).all()  # the summed row has no feature value: grey
    assert "kernel_shap" in ax.get_xlabel()
    render(ax)


def test_beeswarm_of_integrated_gradients_colours_follow_the_feature_values():
    net, X, names = _tabular.cancer_net()
    model = gb.from_torch(net)
    exp = gb.IntegratedGradients(model, n_steps=16)(X[:200], baselines=0.0, target=1)
    exp = gb.Explanation(**{**exp.__dict__, "feature_names": names})
    ax = gb.plots.beeswarm(exp, max_display=30)
    order = order_by_mean_abs(exp.values)
    assert ticks_top_down(ax) == [names[j] for j in order]
    rows = dots_by_row(ax)
    for position, j in enumerate(order):
        x, colour = rows[29 - position]
        np.testing.assert_array_equal(x, exp.values[:, j].astype(np.float64))
        inside = (colour > 0) & (colour < 1)  # not clipped: ranks agree exactly
        data = X[:200, j][inside]
        assert (np.argsort(np.argsort(colour[inside])) == np.argsort(np.argsort(data))).all()
    assert "integrated_gradients" in ax.get_xlabel() and "output 1" in ax.get_xlabel()
    (dots,) = ax.collections
    assert dots.get_rasterized() == (dots.get_offsets().shape[0] > RASTER_ABOVE)
    render(ax)


def test_beeswarm_greys_strings_and_missing_values_of_a_dataframe():
    frame, exp = _tabular.mixed_frame()
    assert exp.data.dtype == object
    ax = gb.plots.beeswarm(exp)
    order = order_by_mean_abs(exp.values)
    rows = dots_by_row(ax)
    for position, j in enumerate(order):
        x, colour = rows[2 - position]
        np.testing.assert_array_equal(x, exp.values[:, j])
        name = exp.feature_names[j]
        if name == "colour":
            assert np.isnan(colour).all()
        else:
            column = frame[name].to_numpy(np.float64)
            assert (np.isnan(colour) == np.isnan(column)).all()
            np.testing.assert_allclose(
                colour[~np.isnan(column)], scaled(column[~np.isnan(column)]), atol=1e-12
            )
    render(ax)


def test_beeswarm_of_several_outputs_needs_output():
    exp = _tabular.two_outputs()
    with pytest.raises(ValueError, match=r"output: .*'price', 'risk'"):
        gb.plots.beeswarm(exp)
    ax = gb.plots.beeswarm(exp, output="risk")
    rows = dots_by_row(ax)
    j = order_by_mean_abs(exp.values[:, :, 1])[0]
    np.testing.assert_array_equal(rows[2][0], exp.values[:, j, 1])
    assert "risk" in ax.get_xlabel()
    same = gb.plots.beeswarm(exp, output=1)
    np.testing.assert_array_equal(
        same.collections[0].get_offsets(), ax.collections[0].get_offsets()
    )


def test_beeswarm_rejects_bad_input_before_drawing():
    exp = _tabular.product()
    with pytest.raises(ValueError, match="max_display"):
        gb.plots.beeswarm(exp, max_display=0)
    with pytest.raises(ValueError, match=r"exp\[i\]|single row"):
        gb.plots.beeswarm(exp[0])
    with pytest.raises(TypeError, match="exp: expected a glassbox Explanation"):
        gb.plots.beeswarm(exp.values)
    with pytest.raises(TypeError, match="ax"):
        gb.plots.beeswarm(exp, ax="not axes")
    with pytest.raises(ValueError, match="output"):
        gb.plots.beeswarm(exp, output=3)


def test_swarm_offsets_stack_dots_of_a_bin_and_stay_in_their_row():
    rng = np.random.default_rng(0)
    columns = np.column_stack([rng.normal(size=5000), np.zeros(5000), rng.exponential(size=5000)])
    offsets = swarm_offsets(columns, width=0.4)
    assert offsets.shape == columns.shape
    assert np.abs(offsets).max() <= 0.4 + 1e-12
    # a constant column is one bin: every dot its own layer, 0, +1, -1, +2, ... (scaled)
    layers = np.sort(offsets[:, 1])
    np.testing.assert_allclose(layers, np.arange(-2499, 2501) * 0.4 / 2500)
    np.testing.assert_array_equal(offsets, swarm_offsets(columns, width=0.4))  # seeded


def expected_order(values):
    tree = linkage(values, method="complete")
    return leaves_list(optimal_leaf_ordering(tree, values))


def test_heatmap_rows_follow_scipy_leaves_and_the_scale_is_symmetric():
    _, X, exp = _tabular.diabetes()
    ax = gb.plots.heatmap(exp, max_display=6)
    values = exp.values
    order = expected_order(values)
    features = order_by_mean_abs(values)
    shown = np.column_stack([values[:, features[:5]], values[:, features[5:]].sum(axis=1)])
    image = ax.images[0]
    np.testing.assert_allclose(image.get_array(), shown[order].T)
    limit = np.abs(shown).max()
    assert image.norm.vmin == -limit and image.norm.vmax == limit
    names = list(X.columns)
    labels = [t.get_text() for t in ax.get_yticklabels()]  # image row 0 is on top
    assert labels == [names[j] for j in features[:5]] + ["5 other features"]
    (inset,) = ax.child_axes
    fx = exp.base_values + values.sum(axis=1) - exp.delta
    np.testing.assert_allclose(inset.lines[0].get_ydata(), fx[order])
    render(ax)


def test_heatmap_of_many_rows_clusters_a_seeded_sample():
    _, _, exp = _tabular.diabetes()
    ax = gb.plots.heatmap(exp, max_rows=50, fx=False)
    rows = np.sort(np.random.default_rng(0).choice(120, 50, replace=False))
    np.testing.assert_array_equal(heatmap_rows(120, 50, 0), rows)
    order = rows[expected_order(exp.values[rows])]
    features = order_by_mean_abs(exp.values)
    np.testing.assert_allclose(ax.images[0].get_array(), exp.values[order][:, features].T)
    assert "50 of 120" in ax.get_xlabel() and not ax.child_axes
    render(ax)


def test_heatmap_without_base_values_draws_no_fx_and_checks_its_input():
    exp = gb.Explanation(values=np.arange(12.0).reshape(4, 3) - 5, data=np.zeros((4, 3)))
    ax = gb.plots.heatmap(exp)
    assert not ax.child_axes and ax.images[0].norm.vmax == 6.0
    with pytest.raises(ValueError, match="max_rows"):
        gb.plots.heatmap(exp, max_rows=0)
    with pytest.raises(ValueError, match="single row"):
        gb.plots.heatmap(exp[1])
    render(ax)


def test_the_dots_drawn_one_colour_at_a_time_look_like_a_plain_scatter():
    from matplotlib.collections import PathCollection

    _, _, exp = _tabular.diabetes()
    ax = gb.plots.beeswarm(exp, max_display=8)
    fast = render(ax)
    ax.collections[0].__class__ = PathCollection  # matplotlib's own drawing of the same dots
    plain = render(ax)
    differs = np.abs(fast - plain).sum(axis=-1) > 0.3
    assert differs.mean() < 0.05  # the same picture up to pixel snapping and overlap order


def test_many_dots_are_rasterised_in_svg():
    import io

    values = np.random.default_rng(0).normal(size=(3000, 4))
    exp = gb.Explanation(values=values, data=values, method="demo")
    ax = gb.plots.beeswarm(exp)
    buffer = io.StringIO()
    ax.get_figure().savefig(buffer, format="svg")
    svg = buffer.getvalue()
    assert "<image" in svg and len(svg) < 1_000_000  # one picture, not 12,000 markers
