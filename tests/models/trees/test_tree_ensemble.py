"""The compiled TreeEnsemble: validation of untrusted arrays (never a crash), the walk rule
against the literal reference, thread bit-identity, and the model-agnostic methods on it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import ensemble

import glassbox as gb
from glassbox import _core
from glassbox.models.trees.model import TreeModel
from glassbox.models.trees.spec import TreeEnsembleSpec
from reference.trees import margin
from tree_specs import chain_spec

RNG = np.random.default_rng(3)
X = RNG.normal(size=(300, 4)).astype(np.float32)
Y = X[:, 0] - 2 * X[:, 1] * (X[:, 2] > 0)


def small_spec() -> TreeEnsembleSpec:
    """Two trees, 2 outputs: a numeric stump into output 0 and a categorical split (categories
    {1, 3, 33} left, NaN right) into both outputs (width 2)."""
    return TreeEnsembleSpec(
        n_features=3,
        n_outputs=2,
        tree_offsets=np.array([0, 3, 6], np.int64),
        tree_outputs=np.array([0, 0], np.int32),
        tree_widths=np.array([1, 2], np.int32),
        children_left=np.array([1, -1, -1, 4, -1, -1], np.int32),
        children_right=np.array([2, -1, -1, 5, -1, -1], np.int32),
        features=np.array([0, -1, -1, 2, -1, -1], np.int32),
        thresholds=np.array([0.5, 0, 0, 0, 0, 0], np.float32),
        default_left=np.array([1, 0, 0, 0, 0, 0], bool),
        cat_starts=np.array([-1, -1, -1, 0, -1, -1], np.int64),
        cat_counts=np.array([0, 0, 0, 2, 0, 0], np.int32),
        cat_bitsets=np.array([0b1010, 0b10], np.uint32),
        covers=np.array([10, 4, 6, 10, 7, 3], np.float64),
        value_offsets=np.array([-1, 0, 1, -1, 2, 4], np.int64),
        values=np.array([1.0, -1.0, 0.25, 0.5, -0.75, 2.0]),
        base_scores=np.array([0.1, -0.2]),
        link="softmax",
    )


def test_the_walk_rule_matches_the_reference():
    spec = small_spec()
    rows = np.array(
        [
            [0.5, 0, 1],  # <= threshold: left; category 1: left
            [0.50001, 0, 3],
            [np.nan, 0, 33],  # NaN: default left; category 33 (second word): left
            [-1, 0, 2],  # category 2: right
            [2, 0, np.nan],  # NaN at the categorical node: right
            [2, 0, 1.5],  # not a whole number: right
            [2, 0, -1],  # negative: right
            [2, 0, 64],  # outside the bitset: right
        ],
        np.float32,
    )
    model = TreeModel(spec)
    np.testing.assert_allclose(model.predict(rows), margin(spec, rows), rtol=1e-7)
    assert model.ensemble.n_trees == 2 and model.ensemble.max_depth == 1
    probs = TreeModel(spec, "probabilities").predict(rows)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert TreeModel(spec, "probabilities").ensemble.apply_link


def _corrupt(name: str, change) -> TreeEnsembleSpec:
    spec = small_spec()
    array = np.array(getattr(spec, name), copy=True)
    change(array)
    return replace(spec, **{name: array})


def _set(index, value):
    def change(array):
        array[index] = value

    return change


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("children_left", _set(0, 0), "reached twice"),  # a cycle through the root
        ("children_left", _set(0, 4), "outside its tree"),
        ("children_right", _set(0, 1), "reached twice"),  # a shared child
        ("children_left", _set(1, 2), "leaf node 1 has children"),
        ("features", _set(0, 3), "feature 3 >= n_features"),
        ("features", _set(1, -2), "leaves use -1"),
        ("thresholds", _set(0, np.nan), "non-finite threshold"),
        ("cat_starts", _set(3, 1), "outside the 2 cat_bitsets"),
        ("cat_counts", _set(3, 0), "cat_counts"),
        ("value_offsets", _set(5, 5), "value_offsets"),
        ("value_offsets", _set(1, -1), "value_offsets"),
        ("values", _set(2, np.inf), "non-finite value"),
        ("covers", _set(0, 0.0), "root cover"),
        ("covers", _set(4, np.nan), "cover"),
        ("tree_offsets", _set(1, 6), "strictly increasing"),
        ("tree_offsets", _set(2, 5), "tree_offsets"),
        ("tree_outputs", _set(1, 1), "outside 0..1"),
        ("tree_widths", _set(0, 0), "tree_widths"),
        ("base_scores", _set(0, np.nan), "base_scores"),
    ],
)
def test_corrupted_arrays_are_rejected(name, change, message):
    with pytest.raises(ValueError, match=message):
        TreeModel(_corrupt(name, change))


def test_orphans_sizes_and_dtypes_are_rejected():
    spec = small_spec()
    # node 2 of tree 0 made unreachable: node 0 -> 1 and a new leaf... simplest: a 4-node tree
    orphan = replace(
        spec,
        tree_offsets=np.array([0, 4, 7], np.int64),
        children_left=np.array([1, -1, -1, -1, 5, -1, -1], np.int32),
        children_right=np.array([2, -1, -1, -1, 6, -1, -1], np.int32),
        features=np.array([0, -1, -1, -1, 2, -1, -1], np.int32),
        thresholds=np.zeros(7, np.float32),
        default_left=np.zeros(7, bool),
        cat_starts=np.array([-1, -1, -1, -1, 0, -1, -1], np.int64),
        cat_counts=np.array([0, 0, 0, 0, 2, 0, 0], np.int32),
        covers=np.ones(7),
        value_offsets=np.array([-1, 0, 1, 0, -1, 2, 4], np.int64),
    )
    with pytest.raises(ValueError, match="1 nodes not reachable"):
        TreeModel(orphan)
    with pytest.raises(ValueError, match="covers must have n_nodes"):
        TreeModel(replace(spec, covers=np.ones(5)))
    with pytest.raises(TypeError, match="thresholds must be a float32"):
        TreeModel(replace(spec, thresholds=spec.thresholds.astype(np.float64)))
    with pytest.raises(TypeError, match="default_left must be a bool_"):
        TreeModel(replace(spec, default_left=spec.default_left.astype(np.int32)))
    with pytest.raises(ValueError, match="link"):
        TreeModel(replace(spec, link="probit"))
    with pytest.raises(ValueError, match="n_features must be >= 1"):
        TreeModel(replace(spec, n_features=0))


def test_a_tree_model_pickles_and_is_validated_again():
    import pickle

    model = TreeModel(small_spec(), "probabilities")
    copy = pickle.loads(pickle.dumps(model))
    rows = np.array([[0.2, 0, 1], [1, 0, 33]], np.float32)
    np.testing.assert_array_equal(copy.predict(rows), model.predict(rows))
    assert copy.output == "probabilities"
    bad = TreeModel.__new__(TreeModel)
    with pytest.raises(ValueError, match="reached twice"):
        bad.__setstate__({"spec": _corrupt("children_left", _set(0, 0)), "output": "raw"})


def test_depth_is_bounded():
    assert TreeModel(chain_spec(4096)).ensemble.max_depth == 4096
    with pytest.raises(ValueError, match="deeper than 4096"):
        TreeModel(chain_spec(4097))


_INT_FIELDS = ("children_left", "children_right", "features", "value_offsets", "cat_starts")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(
        (*_INT_FIELDS, "tree_offsets", "tree_outputs", "tree_widths", "cat_counts", "cat_bitsets")
    ),
    index=st.integers(0, 6),
    value=st.integers(-(2**31), 2**31 - 1) | st.integers(-3, 8),
)
def test_fuzzed_arrays_give_value_error_or_the_reference(name, index, value):
    spec = small_spec()
    array = np.array(getattr(spec, name), copy=True)
    if array.size == 0:
        return
    info = np.iinfo(array.dtype)
    array[index % array.size] = min(max(value, info.min), info.max)
    mutated = replace(spec, **{name: array})
    try:
        model = TreeModel(mutated)
    except ValueError:
        return
    rows = np.array([[0.2, 0, 1], [1, 0, 33], [np.nan, 0, np.nan], [3, 0, 7]], np.float32)
    np.testing.assert_allclose(model.predict(rows), margin(mutated, rows), rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(("thresholds", "covers", "values", "base_scores")),
    index=st.integers(0, 6),
    value=st.floats(allow_nan=True, allow_infinity=True, width=32),
)
def test_fuzzed_floats_give_value_error_or_the_reference(name, index, value):
    spec = small_spec()
    array = np.array(getattr(spec, name), copy=True)
    array[index % array.size] = value
    mutated = replace(spec, **{name: array})
    try:
        model = TreeModel(mutated)
    except ValueError:
        return
    rows = np.array([[0.2, 0, 1], [1, 0, 33], [np.nan, 0, np.nan]], np.float32)
    np.testing.assert_allclose(model.predict(rows), margin(mutated, rows), rtol=1e-6, atol=1e-30)


def test_predict_is_bit_identical_across_threads():
    model = gb.from_trees(ensemble.RandomForestRegressor(20, random_state=0).fit(X, Y))
    rows = np.tile(X, (20, 1))
    one = model.predict(rows, n_threads=1)
    two = model.predict(rows, n_threads=2)
    small = model.predict(rows, n_threads=2, memory_budget=1 << 16)  # many chunks
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, small)


def test_the_model_bridge_takes_a_tree_ensemble_natively():
    model = gb.from_trees(ensemble.GradientBoostingRegressor(n_estimators=5).fit(X, Y))
    out = _core.evaluate_model(model.ensemble, X=X, n_outputs=1)
    np.testing.assert_array_equal(out, model.predict(X))
    with pytest.raises(ValueError, match="tree ensemble has 4 inputs"):
        _core.evaluate_model(model.ensemble, X=X[:, :3], n_outputs=1)


def _callable(estimator):
    fn = estimator.predict_proba if hasattr(estimator, "predict_proba") else estimator.predict
    return gb.wrap(fn, n_inputs=X.shape[1])


@pytest.mark.parametrize("task", ["regression", "binary"])
def test_kernel_shap_on_trees_equals_the_callable_estimator(task):
    if task == "regression":
        estimator = ensemble.GradientBoostingRegressor(n_estimators=10, random_state=0).fit(X, Y)
    else:
        estimator = ensemble.GradientBoostingClassifier(n_estimators=10, random_state=0)
        estimator.fit(X, Y > 0)
    native = gb.as_model(estimator)
    assert isinstance(native, TreeModel)
    run = dict(background=X[:20], n_samples=64, seed=1)
    ours = gb.KernelShap(native, **run)(X[:6], target=None)
    theirs = gb.KernelShap(_callable(estimator), **run)(X[:6], target=None)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-4, atol=1e-5)
    again = gb.KernelShap(estimator, **run, n_threads=1)(X[:6], target=None)
    np.testing.assert_array_equal(again.values, ours.values)  # same seed, any thread count


def test_permutation_importance_on_trees_equals_the_callable_estimator():
    estimator = ensemble.RandomForestRegressor(10, max_depth=5, random_state=0).fit(X, Y)
    run = dict(metric="r2", n_repeats=3, seed=0)
    ours = gb.permutation_importance(gb.from_trees(estimator), X, Y, **run)
    theirs = gb.permutation_importance(_callable(estimator), X, Y, **run)
    np.testing.assert_allclose(ours.importances, theirs.importances, rtol=1e-4, atol=1e-6)


def test_missing_values_reach_a_tree_model_that_routes_them():
    data = np.where(RNG.random(X.shape) < 0.1, np.nan, X)
    estimator = ensemble.HistGradientBoostingRegressor(max_iter=5).fit(data, Y)
    values = gb.KernelShap(gb.from_trees(estimator), background=X[:10], n_samples=32, seed=0)(
        data[:4]
    ).values
    assert np.isfinite(values).all()
    boosted = gb.from_trees(ensemble.GradientBoostingRegressor(n_estimators=3).fit(X, Y))
    with pytest.raises(ValueError, match="NaN"):
        gb.KernelShap(boosted, background=X[:10], n_samples=32, seed=0)(data[:4])


def test_an_estimator_fitted_on_a_dataframe_is_explained_natively_on_its_values():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    estimator = ensemble.RandomForestRegressor(5, max_depth=4, random_state=0).fit(frame, Y)
    exp = gb.KernelShap(estimator, background=frame.iloc[:20], n_samples=64, seed=0)(frame[:5])
    total = exp.base_values + exp.values.sum(axis=1)
    np.testing.assert_allclose(total, estimator.predict(frame[:5]), rtol=1e-5)
    assert exp.feature_names == ["a", "b", "c", "d"]


def test_probabilities_refused_when_the_link_is_not_the_librarys_output():
    """A spec whose adapter says its link does not give the library's probabilities
    (``meta["probabilities"] is False``: a log link, one sigmoid per class, a ranking score)."""
    estimator = ensemble.GradientBoostingClassifier(n_estimators=3).fit(X, Y > 0)
    spec = gb.from_trees(estimator).spec
    margin_only = replace(
        spec, meta={**spec.meta, "objective": "rank:ndcg", "probabilities": False}
    )
    with pytest.raises(ValueError, match=r"output='probabilities'.*'rank:ndcg'.*output='raw'"):
        TreeModel(margin_only, "probabilities")
    with pytest.raises(ValueError, match=r"output='probabilities'.*output='raw'"):
        gb.from_trees(margin_only, output="probabilities")
    np.testing.assert_array_equal(
        TreeModel(margin_only).predict(X[:4]), gb.from_trees(spec).predict(X[:4])
    )
    assert TreeModel(spec, "probabilities").output == "probabilities"  # no meta key: allowed
