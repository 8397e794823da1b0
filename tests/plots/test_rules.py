"""plots.lime: the bars are the weights of one LIME row, labelled with lime's own rule strings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import glassbox as gb
from glassbox.plots._figure import NEGATIVE, POSITIVE
from glassbox.plots.rules import lime_rules, rule
from plots.conftest import render


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer()
    model = LogisticRegression(max_iter=5000).fit(data.data, data.target)
    return data, model


def _bars(ax):
    """(label, width, colour) of the bars, top to bottom."""
    bars = sorted(ax.patches, key=lambda p: -p.get_y())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ticks = list(ax.get_yticks())
    by_row = {round(y): label for y, label in zip(ticks, labels, strict=True)}
    return [
        (by_row[round(b.get_y() + b.get_height() / 2)], b.get_width(), b.get_facecolor())
        for b in bars
    ]


def test_bars_are_the_weights_largest_on_top_with_signed_colours(cancer):
    data, model = cancer
    explainer = gb.Lime(model, data.data, num_samples=500, num_features=6, seed=1)
    exp = explainer(data.data[:3], target=1)
    row = exp[2]
    ax = gb.plots.lime(row)
    render(ax)
    values = np.asarray(row.values)
    chosen = np.flatnonzero(values)
    expected = chosen[np.argsort(-np.abs(values[chosen]), kind="stable")]
    drawn = _bars(ax)
    assert len(drawn) == len(expected) == 6
    rules = lime_rules(row)
    from matplotlib.colors import to_rgba

    for (label, width, colour), j in zip(drawn, expected, strict=True):
        assert label == rules[j]
        assert width == pytest.approx(values[j])
        assert colour == to_rgba(POSITIVE if values[j] > 0 else NEGATIVE)
    title = ax.get_title()
    assert "LIME of 1" in title and f"{float(row.base_values):.4g}" in title
    # max_display keeps the largest and says how many are left out
    ax = gb.plots.lime(row, max_display=2)
    assert [d[0] for d in _bars(ax)] == [rules[j] for j in expected[:2]]
    assert "4 more weights not shown" in ax.get_title()


@pytest.mark.parametrize("discretizer", ["quartile", "decile"])
def test_rules_and_edges_are_lime_s(cancer, discretizer):
    """Peer oracle: lime's LimeTabularExplainer on the same training data and rows writes the same
    rule for every feature (its discretized_feature_names, and the rules of as_list())."""
    lime_tabular = pytest.importorskip("lime.lime_tabular")
    data, model = cancer
    names = list(data.feature_names)
    explainer = gb.Lime(
        model, data.data, num_samples=300, num_features=5, discretizer=discretizer, seed=0
    )
    rows = data.data[[0, 7, 19, 100]]
    exp = explainer(rows, target=1)
    edges = exp.options["edges"]
    percentiles = [25, 50, 75] if discretizer == "quartile" else list(range(10, 100, 10))
    for j in range(data.data.shape[1]):
        quantiles = np.percentile(data.data[:, j], percentiles)
        np.testing.assert_allclose(edges[j], np.unique(quantiles), rtol=1e-6)
    reference = lime_tabular.LimeTabularExplainer(
        data.data,
        feature_names=names,
        discretize_continuous=True,
        discretizer=discretizer,
        random_state=0,
    )
    for i, row in enumerate(rows):
        theirs = reference.explain_instance(
            row, model.predict_proba, num_features=5, num_samples=300
        )
        ours = lime_rules(dataclasses.replace(exp[i], feature_names=names))
        assert ours == list(theirs.domain_mapper.discretized_feature_names)
        assert {r for r, _ in theirs.as_list()} <= set(ours)


def test_categorical_features_show_their_values():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], size=200)
    size = rng.normal(size=200)
    X = pd.DataFrame({"colour": colour, "size": size})

    def model(frame):
        return (frame["colour"] == "red").to_numpy() * 2.0 + frame["size"].to_numpy()

    model = gb.wrap(model, n_inputs=2, feature_names=["colour", "size"])
    exp = gb.Lime(model, X, num_samples=300, seed=0)(X[:4])
    for i in range(4):
        rules = lime_rules(exp[i])
        assert rules[0] == f"colour = {colour[i]}"
        assert rules[1].count("size") == 1 and ("<" in rules[1] or ">" in rules[1])
    render(gb.plots.lime(exp[0]))


def test_features_not_discretised_are_named():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    model = gb.wrap(lambda X: X[:, 0] - 2 * X[:, 2] + X[:, 1] * (X[:, 1] > 4), n_inputs=3)
    exp = gb.Lime(model, X, num_samples=300, discretize_continuous=False, seed=0)(X[:1])
    assert lime_rules(exp[0]) == ["x0", "x1", "x2"]
    ax = gb.plots.lime(exp[0])
    assert ax.get_yticklabels()[-1].get_text() == "x2"  # ticks bottom to top: x2 on top


def test_rule_bins_are_lime_s():
    edges = [1.0, 2.0, 3.0]
    assert rule("a", 0.5, edges, True, False) == "a <= 1.00"
    assert rule("a", 1.0, edges, True, False) == "a <= 1.00"  # bins are (lower, upper]
    assert rule("a", 1.5, edges, True, False) == "1.00 < a <= 2.00"
    assert rule("a", 3.0, edges, True, False) == "2.00 < a <= 3.00"
    assert rule("a", 3.5, edges, True, False) == "a > 3.00"
    assert rule("c", 2.0, [], False, True) == "c = 2"


def test_saved_explanation_keeps_the_rules(cancer, tmp_path):
    data, model = cancer
    exp = gb.Lime(model, data.data, num_samples=200, seed=0)(data.data[:2], target=0)
    exp.save(tmp_path / "lime.npz")
    back = gb.Explanation.load(tmp_path / "lime.npz")
    assert lime_rules(back[1]) == lime_rules(exp[1])


def test_bad_input_says_what_to_do(cancer):
    data, model = cancer
    exp = gb.Lime(model, data.data, num_samples=200, seed=0)(data.data[:2], target=0)
    with pytest.raises(ValueError, match=r"exp\[i\]"):
        gb.plots.lime(exp)
    other = gb.Explanation(
        values=np.ones(3), data=np.zeros(3), method="kernel_shap", single_row=True
    )
    with pytest.raises(ValueError, match="waterfall"):
        gb.plots.lime(other)
    with pytest.raises(TypeError, match="Explanation"):
        gb.plots.lime(np.ones(3))
    with pytest.raises(ValueError, match="max_display"):
        gb.plots.lime(exp[0], max_display=0)
