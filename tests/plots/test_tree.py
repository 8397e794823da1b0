"""``plots.tree``: the drawn nodes are the surrogate tree's splits, named; the title gives its
fidelity."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import glassbox as gb
from plots.conftest import render


@pytest.fixture(scope="module")
def iris_surrogate():
    data = load_iris()
    model = LogisticRegression(max_iter=500).fit(data.data, data.target)
    wrapped = gb.wrap(
        model.predict_proba,
        n_inputs=4,
        feature_names=list(data.feature_names),
        output_names=list(data.target_names),
    )
    return gb.surrogate_tree(wrapped, data.data.astype(np.float32), max_depth=2)


def node_texts(ax) -> list[str]:
    """The nodes' boxes (not the True / False arrow labels), in node-id order (plot_tree draws
    depth first, left child first: scikit-learn's node numbering)."""
    return [text.get_text() for text in ax.texts if "samples = " in text.get_text()]


def test_nodes_are_the_splits_by_name_and_leaves_the_class_names(iris_surrogate):
    ax = gb.plots.tree(iris_surrogate)
    fitted = iris_surrogate.tree.tree_
    texts = node_texts(ax)
    assert len(texts) == fitted.node_count
    names = iris_surrogate.feature_names
    for node, text in enumerate(texts):
        lines = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
        assert int(lines["samples"]) == fitted.n_node_samples[node]
        assert lines["class"] == iris_surrogate.output_names[int(np.argmax(fitted.value[node]))]
        if fitted.children_left[node] != -1:  # a split: "name <= threshold"
            name, threshold = text.splitlines()[0].split(" <= ")
            assert name == names[fitted.feature[node]]
            assert float(threshold) == pytest.approx(fitted.threshold[node], abs=5e-4)
    assert f"{iris_surrogate.fidelity:.3f}" in ax.get_title()
    assert "accuracy" in ax.get_title()
    render(ax)


def test_max_depth_limits_the_drawn_levels_and_plot_dispatches(iris_surrogate):
    full = gb.plots.tree(iris_surrogate)
    shallow = gb.plots.tree(iris_surrogate, max_depth=0)
    assert len(node_texts(shallow)) < len(node_texts(full))
    assert iris_surrogate.plot().get_title() == full.get_title()


def test_bad_input_names_the_argument(iris_surrogate):
    with pytest.raises(TypeError, match="result: expected a SurrogateTree"):
        gb.plots.tree(np.zeros(3))
    with pytest.raises(ValueError, match="max_depth: expected None or an integer >= 0"):
        gb.plots.tree(iris_surrogate, max_depth=-1)
    with pytest.raises(TypeError, match="ax: expected a matplotlib Axes"):
        gb.plots.tree(iris_surrogate, ax="left")
