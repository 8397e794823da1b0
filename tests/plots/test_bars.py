"""plots.bar and plots.waterfall: bar lengths, error bars, boxes and waterfall steps drawn are
the numbers computed (NumPy from the results, the models' own predictions)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba

import glassbox as gb
from glassbox.plots._figure import MISSING, NEGATIVE, POSITIVE
from glassbox.plots.bars import GAP_LABEL
from plots import _tabular
from plots.conftest import render


def bars_top_down(ax):
    """(tick label, left, width, colour) of each bar, top to bottom."""
    labels = {
        round(float(y)): t.get_text()
        for y, t in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
    }
    bars = sorted(ax.patches, key=lambda p: -p.get_y())
    return [
        (labels[round(p.get_y() + p.get_height() / 2)], p.get_x(), p.get_width(), p.get_facecolor())
        for p in bars
    ]


def test_bar_of_an_explanation_is_mean_abs_value_with_the_rest_summed():
    _, X, exp = _tabular.diabetes()
    ax = gb.plots.bar(exp, max_display=4)
    means = np.abs(exp.values).mean(axis=0)
    order = np.argsort(-means, kind="stable")
    drawn = bars_top_down(ax)
    assert [d[0] for d in drawn] == [X.columns[j] for j in order[:3]] + ["7 other features"]
    np.testing.assert_allclose([d[2] for d in drawn], [*means[order[:3]], means[order[3:]].sum()])
    assert all(d[1] == 0 for d in drawn)
    printed = [t.get_text() for t in ax.texts]
    assert printed == [f"{w:+.4g}" for w in [*means[order[:3]], means[order[3:]].sum()]]
    assert ax.get_xlabel().startswith("mean |kernel_shap value|")
    render(ax)


def test_bar_of_one_row_is_its_signed_values():
    _, X, exp = _tabular.diabetes()
    row = exp[7]
    ax = gb.plots.bar(row)
    order = np.argsort(-np.abs(row.values), kind="stable")
    drawn = bars_top_down(ax)
    assert [d[0] for d in drawn] == [X.columns[j] for j in order]
    np.testing.assert_allclose([d[2] for d in drawn], row.values[order])
    for _, _, width, colour in drawn:
        assert colour == to_rgba(POSITIVE if width >= 0 else NEGATIVE)
    render(ax)


def test_bar_of_permutation_importance_draws_mean_and_std_of_the_repeats():
    result = _tabular.importance()
    ax = gb.plots.bar(result, max_display=5)
    repeats = result.importances
    order = np.argsort(-result.importances_mean, kind="stable")
    rows = np.vstack([repeats[order[:4]], repeats[order[4:]].sum(axis=0)])
    drawn = bars_top_down(ax)
    assert [d[0] for d in drawn] == [result.group_names[j] for j in order[:4]] + [
        "6 other features"
    ]
    np.testing.assert_allclose([d[2] for d in drawn], rows.mean(axis=1))
    np.testing.assert_allclose(rows.mean(axis=1)[:4], result.importances_mean[order[:4]])
    (errors,) = next(c for c in ax.containers if hasattr(c, "errorbar")).errorbar.lines[2]
    segments = sorted(errors.get_segments(), key=lambda s: -s[0, 1])  # top to bottom
    spans = np.array([[s[0, 0], s[1, 0]] for s in segments])
    np.testing.assert_allclose(spans[:, 1] - spans[:, 0], 2 * rows.std(axis=1))
    np.testing.assert_allclose(spans[:4].mean(axis=1), result.importances_mean[order[:4]])
    assert "mse" in ax.get_xlabel() and "increase" in ax.get_xlabel()
    render(ax)


def test_bar_of_permutation_importance_as_boxes_of_the_repeats():
    result = _tabular.importance()
    ax = gb.plots.bar(result, max_display=3, kind="box")
    order = np.argsort(-result.importances_mean, kind="stable")
    medians = sorted(
        (line for line in ax.lines if line.get_gid() == "median"), key=lambda m: -m.get_ydata()[0]
    )
    expected = [*np.median(result.importances[order[:2]], axis=1)]
    expected.append(np.median(result.importances[order[2:]].sum(axis=0)))
    np.testing.assert_allclose([line.get_xdata()[0] for line in medians], expected)
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]  # listed bottom to top
    assert labels == [result.group_names[j] for j in order[:2]] + ["8 other features"]
    render(ax)


def test_bar_checks_its_input():
    result = _tabular.importance()
    with pytest.raises(ValueError, match="output"):
        gb.plots.bar(result, output=0)
    with pytest.raises(ValueError, match="kind"):
        gb.plots.bar(result, kind="violin")
    with pytest.raises(ValueError, match="kind: 'box'"):
        gb.plots.bar(_tabular.product(), kind="box")
    with pytest.raises(TypeError, match="result: expected a glassbox Explanation or Perm"):
        gb.plots.bar([1.0, 2.0])
    with pytest.raises(ValueError, match="max_display"):
        gb.plots.bar(result, max_display=-1)
    with pytest.raises(ValueError, match="no output named 'prise'; did you mean 'price'"):
        gb.plots.bar(_tabular.two_outputs(), output="prise")


def steps_bottom_up(ax):
    """(label, start, end) of each waterfall step, bottom to top."""
    return [(label, x, x + w, c) for label, x, w, c in bars_top_down(ax)][::-1]


def test_waterfall_steps_go_from_the_base_value_to_the_models_prediction():
    model, X, exp = _tabular.diabetes()
    i = 11
    ax = gb.plots.waterfall(exp[i], max_display=5)
    steps = steps_bottom_up(ax)
    assert steps[0][1] == pytest.approx(exp.base_values[i])
    for below, above in itertools.pairwise(steps):
        assert above[1] == pytest.approx(below[2])  # each starts where the previous ended
    fx = model.predict(X.iloc[[i]])[0]
    assert steps[-1][2] == pytest.approx(fx, rel=1e-5)
    order = np.argsort(-np.abs(exp.values[i]), kind="stable")
    names = [f"{X.columns[j]} = {float(X.iloc[i, j]):.4g}" for j in order[:4]]
    assert [s[0] for s in steps][::-1] == [*names, "6 other features"]
    widths = [s[2] - s[1] for s in steps][::-1]
    np.testing.assert_allclose(widths, [*exp.values[i, order[:4]], exp.values[i, order[4:]].sum()])
    assert GAP_LABEL not in [s[0] for s in steps]  # KernelShap is exact: no gap
    render(ax)


def test_waterfall_draws_the_completeness_gap_and_still_ends_at_fx():
    net, X, names = _tabular.cancer_net()
    model = gb.from_torch(net)
    exp = gb.IntegratedGradients(model, n_steps=2)(X[:3], baselines=0.0, target=1)
    exp = dataclasses.replace(exp, feature_names=names)
    assert np.abs(exp.delta).max() > 1e-3  # two steps: a visible gap
    ax = gb.plots.waterfall(exp[0], max_display=8)
    steps = steps_bottom_up(ax)
    assert steps[0][0] == GAP_LABEL and steps[0][3] == to_rgba(MISSING)
    assert steps[0][2] - steps[0][1] == pytest.approx(-exp.delta[0])
    for below, above in itertools.pairwise(steps):
        assert above[1] == pytest.approx(below[2])
    with torch.no_grad():
        fx = float(net(torch.from_numpy(X[:1]))[0, 1])
    assert steps[-1][2] == pytest.approx(fx, abs=1e-5)
    assert steps[0][1] == pytest.approx(exp.base_values[0])
    render(ax)


def test_waterfall_prints_strings_as_they_are_and_picks_an_output():
    frame, exp = _tabular.mixed_frame()
    ax = gb.plots.waterfall(exp[1])
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert f"colour = {frame['colour'][1]}" in labels
    assert f"count = {frame['count'][1]}" in labels
    two = _tabular.two_outputs()
    ax = gb.plots.waterfall(two[0], output="price")
    steps = steps_bottom_up(ax)
    assert steps[-1][2] == pytest.approx(two.base_values[0, 0] + two.values[0, :, 0].sum())
    assert "price" in ax.get_xlabel()
    render(ax)


def test_waterfall_checks_its_input():
    _, _, exp = _tabular.diabetes()
    with pytest.raises(ValueError, match=r"pass exp\[i\]"):
        gb.plots.waterfall(exp)
    net, X, _ = _tabular.cancer_net()
    saliency = gb.Saliency(gb.from_torch(net))(X[:2], target=0)
    with pytest.raises(ValueError, match=r"base value.*gb.plots.bar\(exp\[i\]\)"):
        gb.plots.waterfall(saliency[0])
    with pytest.raises(ValueError, match="output"):
        gb.plots.waterfall(_tabular.two_outputs()[0])
    with pytest.raises(ValueError, match="max_display"):
        gb.plots.waterfall(exp[0], max_display=0)
