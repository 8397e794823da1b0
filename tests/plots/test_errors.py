"""plots.errors: the confusion matrix, slice bars and contrast bars drawn are the Diagnosis'
numbers, in its order, and the figure renders."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba

import glassbox as gb
from glassbox.plots._figure import NEGATIVE, POSITIVE
from plots.conftest import render
from plots.test_bars import bars_top_down

pytest.importorskip("sklearn")


def _diagnosis(explainer=None, n: int = 400):
    X = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)

    def fn(A):
        return np.eye(2)[((A[:, 0] > 0) ^ (A[:, 2] > 0.8)).astype(int)]

    return gb.diagnose(gb.wrap(fn, n_inputs=4), X, y, explainer=explainer, n_permutations=100)


def _bars(ax):
    """(tick label, width, colour) of each bar, top to bottom."""
    return [(label, width, colour) for label, _, width, colour in bars_top_down(ax)]


def test_errors_draws_the_confusion_slices_and_contrast():
    d = _diagnosis()
    fig = gb.plots.errors(d, max_display=5)
    confusion, slices, contrast = fig.axes[:3]
    np.testing.assert_array_equal(confusion.images[0].get_array(), d.confusion.matrix)
    written = [int(t.get_text()) for t in confusion.texts]
    assert written == d.confusion.matrix.ravel().tolist()
    assert [t.get_text() for t in confusion.get_xticklabels()] == ["0", "1"]
    assert confusion.get_xlabel() == "predicted" and confusion.get_ylabel() == "true"
    drawn = _bars(slices)
    assert [b[0] for b in drawn] == d.slices.descriptions[:5]
    np.testing.assert_allclose([b[1] for b in drawn], d.slices.error[:5])
    (overall,) = [line for line in slices.lines if line.get_gid() == "overall"]
    assert overall.get_xdata()[0] == pytest.approx(d.slices.overall)
    c = d.contrast
    order = np.argsort(-np.abs(c.difference), kind="stable")
    drawn = _bars(contrast)
    names = [c.features[j] + (" *" if c.p_value[j] < 0.05 else "") for j in order]
    assert [b[0] for b in drawn] == names
    np.testing.assert_allclose([b[1] for b in drawn], c.difference[order])
    for _, width, colour in drawn:
        assert colour == to_rgba(POSITIVE if width >= 0 else NEGATIVE)
    assert "kernel_shap" in contrast.get_xlabel()
    render(fig)
    assert gb.plots.plot(d).axes[1].get_title() == slices.get_title()


def test_errors_of_a_regression_and_of_an_empty_contrast():
    X = np.random.default_rng(1).normal(size=(300, 3))
    y = X[:, 0] + 3.0 * (X[:, 1] > 0.7)
    d = gb.diagnose(gb.wrap(lambda A: A[:, :1], n_inputs=3), X, y, explainer=False)
    fig = gb.plots.errors(d)
    residuals = fig.axes[0]
    heights = [p.get_height() for p in residuals.patches]
    want, _ = np.histogram(d.confusion.residuals, bins=30)
    np.testing.assert_array_equal(heights, want)
    assert fig.axes[1].get_xlabel() == "mean |residual|"
    assert d.contrast.note in [t.get_text() for t in fig.axes[2].texts]
    render(fig)


def test_errors_rejects_other_results():
    with pytest.raises(TypeError, match="Diagnosis"):
        gb.plots.errors(gb.Explanation(values=np.zeros((2, 2)), data=np.zeros((2, 2))))
    with pytest.raises(ValueError, match="max_display"):
        gb.plots.errors(_diagnosis(explainer=False), max_display=0)


def test_each_part_plots_alone():
    d = _diagnosis()
    ax = d.slices.plot(max_display=3)
    assert [b[0] for b in _bars(ax)] == d.slices.descriptions[:3]
    ax = d.contrast.plot()
    assert len(ax.patches) == 4
    ax = d.confusion.plot()
    np.testing.assert_array_equal(ax.images[0].get_array(), d.confusion.matrix)
    ax = d.errors.plot(max_display=4)
    drawn = _bars(ax)
    np.testing.assert_allclose([b[1] for b in drawn], d.errors.confidence[:4])
    row = d.errors.rows[0]
    assert drawn[0][0] == f"{row}: {d.errors.true[0]} -> {d.errors.predicted[0]}"
    ax = d.error_tree.plot()
    assert ax.texts[0].get_text().startswith(f"{d.error_tree.feature} <= ")
    render(ax)
    with pytest.raises(ValueError, match="fig"):
        gb.plots.errors(d.slices, fig=ax.figure)
    with pytest.raises(ValueError, match="ax"):
        gb.plots.errors(d, ax=ax)
