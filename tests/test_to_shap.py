"""Explanation.to_shap(): names (the defaults when unnamed) and, for every output at once, output
names, so shap's indexing by name, cohorts and plots work (rendered with matplotlib's Agg)."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.explanation import Explanation

shap = pytest.importorskip("shap")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

NAMES = ["mean radius", "mean texture", "mean area", "mean smoothness"]
OUTPUTS = ["malignant", "benign"]


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(40, 4))


@pytest.fixture(scope="module")
def model(X: np.ndarray) -> gb.NativeModel:
    """A native logistic regression named through the adapter."""
    linear = pytest.importorskip("sklearn.linear_model")
    y = (X[:, 0] - 0.5 * X[:, 1] > 0).astype(int)
    estimator = linear.LogisticRegression().fit(X, y)
    return gb.from_sklearn(estimator, feature_names=NAMES, output_names=OUTPUTS)


@pytest.fixture(scope="module")
def exp(model: gb.NativeModel, X: np.ndarray) -> Explanation:
    return gb.ExactShapley(model, background=X[:10])(X[:30], target="malignant")


def test_names_select_columns_and_cohorts(exp: Explanation) -> None:
    converted = exp.to_shap()
    assert converted.feature_names == NAMES and converted.values.shape == (30, 4)
    column = converted[:, "mean radius"]
    np.testing.assert_array_equal(column.values, exp.values[:, 0])
    np.testing.assert_array_equal(column.data, exp.data[:, 0])
    cohorts = converted.cohorts(2)
    sizes = [c.values.shape[0] for c in cohorts.cohorts.values()]
    assert len(sizes) == 2 and sum(sizes) == 30
    # each cohort's rows are the rows whose values it holds
    for cohort in cohorts.cohorts.values():
        rows = [int(np.flatnonzero((exp.values == v).all(axis=1))[0]) for v in cohort.values]
        np.testing.assert_array_equal(cohort.data, exp.data[rows])


def test_every_output_gets_output_names(model: gb.NativeModel, X: np.ndarray) -> None:
    every = gb.ExactShapley(model, background=X[:10])(X[:5])
    converted = every.to_shap()
    assert converted.output_names == OUTPUTS and converted.values.shape == (5, 4, 2)
    np.testing.assert_array_equal(converted[:, "mean area", "benign"].values, every.values[:, 2, 1])
    assert converted[:, :, "malignant"].values.shape == (5, 4)


def test_unnamed_defaults() -> None:
    exp = Explanation(values=np.ones((2, 1, 2, 2, 3)), data=np.zeros((2, 1, 2, 2)))
    converted = exp.to_shap()
    assert converted.values.shape == (2, 4, 3)
    assert converted.feature_names == ["x0_0_0", "x0_0_1", "x0_1_0", "x0_1_1"]
    assert converted.output_names == ["output 0", "output 1", "output 2"]
    flat = Explanation(values=np.ones((2, 3)), data=np.zeros((2, 3))).to_shap()
    assert flat.feature_names == ["x0", "x1", "x2"] and flat[:, "x2"].values.shape == (2,)


def test_groups_carry_no_data(model: gb.NativeModel, X: np.ndarray) -> None:
    groups = {"size": [0, 2], "shape": [1, 3]}
    grouped = gb.ExactShapley(model, background=X[:10], groups=groups)(X[:3], target=1)
    converted = grouped.to_shap()
    assert converted.feature_names == ["size", "shape"] and converted.data is None
    np.testing.assert_array_equal(converted[:, "shape"].values, grouped.values[:, 1])


def test_interactions_keep_their_pair_axes(model: gb.NativeModel, X: np.ndarray) -> None:
    exp = gb.ShapleyInteractions(model, background=X[:5])(X[:3], target=0)
    converted = exp.to_shap()
    assert converted.values.shape == (3, 4, 4) and converted.feature_names == NAMES
    np.testing.assert_array_equal(converted.data, exp.data)
    np.testing.assert_array_equal(converted[:, "mean area"].values, exp.values[:, 2])


def axis_text(figure: object) -> str:
    """Every tick label and axis label of a figure, as one string."""
    parts = []
    for axes in figure.axes:  # type: ignore[attr-defined]
        parts += [t.get_text() for t in axes.get_yticklabels() + axes.get_xticklabels()]
        parts += [axes.get_xlabel(), axes.get_ylabel()]
    return " ".join(parts)


@pytest.mark.parametrize("plot", ["bar", "beeswarm", "waterfall", "scatter"])
def test_shap_plots_show_the_names(exp: Explanation, plot: str) -> None:
    converted = exp.to_shap()
    plt.figure(figsize=(3, 2), dpi=40)
    if plot == "bar":
        shap.plots.bar(converted, show=False)
    elif plot == "beeswarm":
        shap.plots.beeswarm(converted, show=False)
    elif plot == "waterfall":
        shap.plots.waterfall(converted[0], show=False)
    else:
        shap.plots.scatter(converted[:, "mean texture"], show=False)
    text = axis_text(plt.gcf())
    plt.close("all")
    assert "mean texture" in text
