"""scikit-learn tree models as native TreeModels: the margin and probabilities equal the
estimators' own outputs and the literal reference walk, for every supported estimator type."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import ensemble, tree
from sklearn.linear_model import LinearRegression

import glassbox as gb
from glassbox.models.trees._build import float32_floor
from glassbox.models.trees.model import TreeModel
from glassbox.models.trees.sklearn_trees import spec_from_sklearn
from reference.trees import margin, probabilities

RNG = np.random.default_rng(0)
# float32-representable rows: the estimators and the native model see the same numbers
X = RNG.normal(size=(240, 5)).astype(np.float32).astype(np.float64)
X_NAN = np.where(RNG.random(X.shape) < 0.1, np.nan, X)
Y_REG = X[:, 0] + X[:, 1] ** 2 - X[:, 2]
Y_BIN = (Y_REG > 0.5).astype(int)
Y_MULTI = np.digitize(Y_REG, [-0.5, 0.5, 1.5])


def _categorical(data: np.ndarray) -> np.ndarray:
    """Column 3 as categories 0..6 (with missing values), which the target depends on."""
    out = data.copy()
    out[:, 3] = np.random.default_rng(1).integers(0, 7, len(out))
    out[np.random.default_rng(2).random(len(out)) < 0.1, 3] = np.nan
    return out


X_CAT = _categorical(X_NAN)
Y_CAT = Y_REG + np.isin(np.nan_to_num(X_CAT[:, 3], nan=-1), [1, 4, 5])


def _raw(model, rows):
    """The estimator's own raw margin: what shap's TreeExplainer explains."""
    if hasattr(model, "decision_function") and not isinstance(model, ensemble.IsolationForest):
        return model.decision_function(rows)
    if hasattr(model, "predict_proba"):
        return model.predict_proba(rows)
    return model.predict(rows)


HGB = ensemble.HistGradientBoostingClassifier
CASES = {
    "tree-reg": (lambda: tree.DecisionTreeRegressor(max_depth=6), X_NAN, Y_REG),
    "tree-multi": (lambda: tree.DecisionTreeClassifier(max_depth=6), X_NAN, Y_MULTI),
    "extra-tree-bin": (lambda: tree.ExtraTreeClassifier(max_depth=6), X, Y_BIN),
    "rf-reg": (lambda: ensemble.RandomForestRegressor(8, max_depth=6), X_NAN, Y_REG),
    "rf-2out": (
        lambda: ensemble.RandomForestRegressor(4, max_depth=4),
        X,
        np.c_[Y_REG, Y_BIN],
    ),
    "rf-bin": (lambda: ensemble.RandomForestClassifier(8, max_depth=6), X_NAN, Y_BIN),
    "rf-multi": (lambda: ensemble.RandomForestClassifier(8, max_depth=6), X_NAN, Y_MULTI),
    "et-reg": (lambda: ensemble.ExtraTreesRegressor(8, max_depth=6), X_NAN, Y_REG),
    "et-multi": (lambda: ensemble.ExtraTreesClassifier(8, max_depth=6), X_NAN, Y_MULTI),
    "gb-reg": (lambda: ensemble.GradientBoostingRegressor(n_estimators=15), X, Y_REG),
    "gb-huber": (
        lambda: ensemble.GradientBoostingRegressor(n_estimators=10, loss="huber"),
        X,
        Y_REG,
    ),
    "gb-bin": (lambda: ensemble.GradientBoostingClassifier(n_estimators=15), X, Y_BIN),
    "gb-multi": (lambda: ensemble.GradientBoostingClassifier(n_estimators=8), X, Y_MULTI),
    "gb-zero": (
        lambda: ensemble.GradientBoostingClassifier(n_estimators=8, init="zero"),
        X,
        Y_BIN,
    ),
    "hgb-reg": (lambda: ensemble.HistGradientBoostingRegressor(max_iter=15), X_NAN, Y_REG),
    "hgb-bin": (lambda: HGB(max_iter=15), X_NAN, Y_BIN),
    "hgb-multi": (lambda: HGB(max_iter=8), X_NAN, Y_MULTI),
    "hgb-cat-reg": (
        lambda: ensemble.HistGradientBoostingRegressor(max_iter=15, categorical_features=[3]),
        X_CAT,
        Y_CAT,
    ),
    "hgb-cat-multi": (
        lambda: HGB(max_iter=8, categorical_features=[1, 3]),
        np.c_[X_CAT[:, :1], RNG.integers(0, 40, (len(X), 1)), X_CAT[:, 2:]],
        Y_MULTI,
    ),
    "iforest": (
        lambda: ensemble.IsolationForest(n_estimators=8, max_features=3, random_state=0),
        X,
        None,
    ),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request):
    make, data, target = CASES[request.param]
    model = make()
    model.set_params(random_state=0)
    model.fit(data, target)
    return model, data


def test_raw_output_equals_the_estimator_and_the_reference(fitted):
    model, data = fitted
    native = gb.from_trees(model)
    got = native.predict(data)
    assert got.dtype == np.float32 and got.shape == (len(data), native.n_outputs)
    np.testing.assert_allclose(got, margin(native.spec, data), rtol=1e-6, atol=1e-6)
    if isinstance(model, ensemble.IsolationForest):  # shap's margin: the average path length
        from sklearn.ensemble._iforest import _average_path_length

        scale = _average_path_length(np.array([model.max_samples_]))[0]
        expected = -(2.0 ** (-got.ravel().astype(np.float64) / scale))
        np.testing.assert_allclose(expected, model.score_samples(data), rtol=1e-5)
        return
    want = np.asarray(_raw(model, data), np.float64).reshape(len(data), -1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_probabilities_equal_predict_proba(fitted):
    model, data = fitted
    if not hasattr(model, "predict_proba"):
        with pytest.raises(ValueError, match="output='raw'"):
            gb.from_trees(model, output="probabilities")
        return
    native = gb.from_trees(model, output="probabilities")
    want = model.predict_proba(data)
    if native.n_outputs == 1:
        want = want[:, 1:]
    np.testing.assert_allclose(native.predict(data), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(native.predict(data), probabilities(native.spec, data), atol=1e-6)


def test_as_model_goes_native_with_the_estimators_outputs(fitted):
    model, data = fitted
    converted = gb.as_model(model)
    if isinstance(model, ensemble.IsolationForest):
        assert not isinstance(converted, TreeModel)  # its predict is a label
        return
    if np.any(gb.from_trees(model).spec.cat_starts >= 0):
        # categorical splits read the estimator's category codes, which a DataFrame's coded
        # columns are not: the estimator keeps its own predict (from_trees still converts it)
        assert not isinstance(converted, TreeModel)
        return
    assert isinstance(converted, TreeModel)
    fn = model.predict_proba if hasattr(model, "predict_proba") else model.predict
    want = np.asarray(fn(data), np.float64).reshape(len(data), -1)
    np.testing.assert_allclose(converted.predict(data), want, rtol=1e-5, atol=1e-6)
    if hasattr(model, "classes_"):
        assert converted.output_names == [str(c) for c in model.classes_]


def test_isolation_forest_matches_shap():
    shap = pytest.importorskip("shap")
    model = ensemble.IsolationForest(n_estimators=6, max_features=3, random_state=0).fit(X)
    explainer = shap.TreeExplainer(model)
    total = explainer.expected_value + explainer.shap_values(X[:30]).sum(axis=1)
    np.testing.assert_allclose(gb.from_trees(model).predict(X[:30]).ravel(), total, rtol=1e-5)


def test_float32_floor_walks_as_float64_thresholds():
    t = np.array([0.1, -0.1, 1 / 3, 2.0, 1e30, np.inf])
    floor = float32_floor(t)
    assert floor.dtype == np.float32
    assert np.all(floor.astype(np.float64) <= t)
    above = np.nextafter(floor[:-1], np.float32(np.inf)).astype(np.float64)
    assert np.all(above > t[:-1])  # the largest float32 not above t
    assert floor[-1] == np.finfo(np.float32).max  # every finite row goes left


def test_feature_and_class_names_come_from_the_estimator():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    labels = np.array(["no", "yes"])[Y_BIN]
    model = ensemble.RandomForestClassifier(3, max_depth=3, random_state=0).fit(frame, labels)
    native = gb.from_trees(model)
    assert native.feature_names == ["a", "b", "c"]
    assert native.output_names == ["no", "yes"]
    np.testing.assert_allclose(native.predict(frame), model.predict_proba(frame), atol=1e-6)


# ---- bad input --------------------------------------------------------------------------------


def test_unfitted_unsupported_and_multi_output_classifiers_are_rejected():
    with pytest.raises(ValueError, match="not fitted"):
        gb.from_trees(ensemble.RandomForestRegressor())
    with pytest.raises(ValueError, match="not fitted"):
        gb.from_trees(ensemble.HistGradientBoostingClassifier())
    with pytest.raises(TypeError, match="not a supported scikit-learn tree model"):
        gb.from_trees(LinearRegression().fit(X, Y_REG))
    with pytest.raises(TypeError, match="expected a fitted tree model"):
        gb.from_trees(object())
    multi = tree.DecisionTreeClassifier(max_depth=2).fit(X, np.c_[Y_BIN, Y_MULTI])
    with pytest.raises(ValueError, match="multi-output"):
        gb.from_trees(multi)
    with pytest.raises(ValueError, match="output: expected 'raw' or 'probabilities'"):
        gb.from_trees(tree.DecisionTreeRegressor(max_depth=2).fit(X, Y_REG), output="proba")


def test_custom_init_and_string_categories_are_rejected():
    custom = ensemble.GradientBoostingRegressor(n_estimators=2, init=LinearRegression())
    with pytest.raises(ValueError, match="custom init estimator"):
        gb.from_trees(custom.fit(X, Y_REG))
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": X[:, 0], "b": pd.Categorical(np.array(["x", "y"])[Y_BIN])})
    hgb = ensemble.HistGradientBoostingRegressor(max_iter=3, categorical_features="from_dtype")
    with pytest.raises(ValueError, match="whole numbers"):
        gb.from_trees(hgb.fit(frame, Y_REG))


def test_wrong_width_and_missing_values_mirror_the_estimator():
    boosted = ensemble.GradientBoostingRegressor(n_estimators=3).fit(X, Y_REG)
    native = gb.from_trees(boosted)
    with pytest.raises(ValueError, match="X"):
        native.predict(X[:, :4])
    with pytest.raises(ValueError):  # the estimator rejects NaN: so does its native model
        boosted.predict(X_NAN[:5])
    with pytest.raises(ValueError, match="NaN"):
        native.predict(X_NAN[:5])
    forest = gb.from_trees(ensemble.RandomForestRegressor(3, max_depth=3).fit(X_NAN, Y_REG))
    assert np.isfinite(forest.predict(X_NAN)).all()  # routed by missing_go_to_left


def test_spec_records_covers_and_source():
    model = ensemble.RandomForestRegressor(2, max_depth=3, random_state=0).fit(X, Y_REG)
    spec = spec_from_sklearn(model)
    roots = spec.covers[spec.tree_offsets[:-1]]
    weighted = [e.tree_.weighted_n_node_samples[0] for e in model.estimators_]
    np.testing.assert_array_equal(roots, weighted)
    assert spec.source == "sklearn.RandomForestRegressor"
