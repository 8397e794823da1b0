"""surrogate_tree: a tree fitted to the model's own predictions, fidelity by hand, rules text."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import make_data, make_net

sklearn_tree = pytest.importorskip("sklearn.tree")


def test_classification_fidelity_is_accuracy_on_held_out_labels() -> None:
    net = make_net("relu_softmax")
    X = make_data(5, n_rows=400, seed=2)
    X_test = make_data(5, n_rows=150, seed=3)
    result = gb.surrogate_tree(net.model, X, X_test=X_test, max_depth=4, seed=1)
    assert result.task == "classification" and result.fidelity_metric == "accuracy"
    labels = net.model.predict(X_test).argmax(axis=1)
    assert result.fidelity == pytest.approx(np.mean(result.tree.predict(X_test) == labels))
    want = sklearn_tree.DecisionTreeClassifier(max_depth=4, random_state=1).fit(
        X, net.model.predict(X).argmax(axis=1)
    )
    np.testing.assert_array_equal(result.tree.predict(X_test), want.predict(X_test))
    assert result.n_train == 400 and result.n_test == 150
    root = f"x{result.tree.tree_.feature[0]} <= "
    assert result.rules.startswith(f"|--- {root}") and "class:" in result.rules
    assert "accuracy" in str(result) and result.rules in str(result)


def test_regression_fidelity_is_r2_and_split_is_seeded() -> None:
    net = make_net("regression_tanh")
    X = make_data(4, n_rows=300, seed=5)
    X0 = X.copy()
    a = gb.surrogate_tree(
        net.model, X, max_depth=3, test_size=0.2, seed=4, feature_names=["a", "b", "c", "d"]
    )
    b = gb.surrogate_tree(net.model, X, max_depth=3, test_size=0.2, seed=4)
    np.testing.assert_array_equal(X, X0)
    assert a.task == "regression" and a.fidelity_metric == "r2" and a.n_test == 60
    assert a.fidelity == b.fidelity
    order = np.random.default_rng(4).permutation(300)
    test = X[order[:60]]
    y = net.model.predict(test)[:, 0].astype(np.float64)
    pred = a.tree.predict(test)
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert a.fidelity == pytest.approx(r2, rel=1e-6)
    assert a.rules.startswith(f"|--- {'abcd'[a.tree.tree_.feature[0]]} <= ")
    deeper = gb.surrogate_tree(net.model, X, max_depth=8, test_size=0.2, seed=4)
    assert deeper.train_fidelity > a.train_fidelity


def test_regression_on_one_probability_and_callables() -> None:
    net = make_net("relu_softmax")
    X = make_data(5, n_rows=200, seed=6)
    result = gb.surrogate_tree(
        lambda A: net.model.predict(A), X, task="regression", target=1, max_depth=3
    )
    assert result.task == "regression" and -1.0 < result.fidelity <= 1.0
    native = gb.surrogate_tree(net.model, X, task="regression", target=1, max_depth=3)
    assert native.fidelity == pytest.approx(result.fidelity, rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_depth": 0}, ValueError, "max_depth"),
        ({"test_size": 1.5}, ValueError, "test_size"),
        ({"task": "ranking"}, ValueError, "task"),
        ({"target": 3}, ValueError, "target"),
        ({"task": "classification", "target": 0}, ValueError, "target"),
        ({"X_test": np.zeros((3, 4))}, ValueError, "X_test"),
        ({"feature_names": ["a"]}, ValueError, "feature_names"),
    ],
)
def test_bad_input(kwargs: dict, error: type, match: str) -> None:
    net = make_net("relu_softmax")
    with pytest.raises(error, match=match):
        gb.surrogate_tree(net.model, make_data(5, n_rows=40), **kwargs)


def test_classification_needs_several_outputs() -> None:
    net = make_net("regression_tanh")
    with pytest.raises(ValueError, match="task"):
        gb.surrogate_tree(net.model, make_data(4, n_rows=40), task="classification")
