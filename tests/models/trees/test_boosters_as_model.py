"""as_model on XGBoost and LightGBM models: native (a TreeModel) when the spec's link gives what
the estimator's predict_proba / predict computes, with the numbers of the callable estimator in
the model-agnostic methods; anything else (an objective the adapter refuses, a transform the
links do not give) is called as before."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.models.callable import CallableModel
from glassbox.models.trees.model import TreeModel

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

from booster_models import categorical_frame, classes, numeric_data  # noqa: E402

SMALL_XGB = {"n_estimators": 6, "max_depth": 3, "learning_rate": 0.4}
SMALL_LGB = {"n_estimators": 6, "num_leaves": 7, "min_child_samples": 5, "verbose": -1}


def _binary(y: np.ndarray) -> np.ndarray:
    return y > np.median(y)


#: name -> (estimator, how its target is made from the continuous one)
ESTIMATORS = {
    "xgb_binary": (lambda: xgb.XGBClassifier(**SMALL_XGB), _binary),
    "xgb_multiclass": (lambda: xgb.XGBClassifier(**SMALL_XGB), lambda y: classes(y, 3)),
    "xgb_regressor": (lambda: xgb.XGBRegressor(**SMALL_XGB), lambda y: y),
    "lgb_binary": (lambda: lgb.LGBMClassifier(**SMALL_LGB), _binary),
    "lgb_multiclass": (lambda: lgb.LGBMClassifier(**SMALL_LGB), lambda y: classes(y, 3)),
    "lgb_regressor": (lambda: lgb.LGBMRegressor(**SMALL_LGB), lambda y: y),
}


def _fitted(name: str):
    X, y = numeric_data(4)
    make, target = ESTIMATORS[name]
    return make().fit(X, target(y)), X


def _callable(estimator):
    fn = estimator.predict_proba if hasattr(estimator, "predict_proba") else estimator.predict
    return gb.wrap(fn, n_inputs=estimator.n_features_in_)


def _close(ours, theirs) -> None:
    """Equal to float32 precision: the libraries sum their trees in float32, the core in
    double (differences of a few float32 ulps of the outputs' scale)."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-6 * scale)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_as_model_is_native_with_the_estimators_outputs(name: str) -> None:
    estimator, X = _fitted(name)
    model = gb.as_model(estimator)
    assert isinstance(model, TreeModel)
    fn = estimator.predict_proba if hasattr(estimator, "predict_proba") else estimator.predict
    want = np.asarray(fn(X), np.float64).reshape(len(X), -1)
    assert model.n_outputs == want.shape[1]  # binary: two columns, as predict_proba
    _close(model.predict(X), want)
    if hasattr(estimator, "classes_"):
        assert model.output == "probabilities"
        assert model.output_names == [str(c) for c in estimator.classes_]  # as when called
    else:
        assert model.output == "raw"


@pytest.mark.parametrize("name", ["xgb_binary", "lgb_regressor"])
def test_kernel_shap_pi_and_pdp_native_equal_the_callable_estimator(name: str) -> None:
    estimator, X = _fitted(name)
    native, called = gb.as_model(estimator), _callable(estimator)
    assert isinstance(native, TreeModel) and isinstance(called, CallableModel)

    run = dict(background=X[:20], n_samples=64, seed=1)
    ours = gb.KernelShap(native, **run)(X[:6], target=None)
    theirs = gb.KernelShap(called, **run)(X[:6], target=None)
    _close(ours.values, theirs.values)
    _close(ours.base_values, theirs.base_values)
    direct = gb.KernelShap(estimator, **run)(X[:6], target=None)  # the estimator itself
    np.testing.assert_array_equal(direct.values, ours.values)

    y = estimator.predict(X)  # a target the model fits: importances away from zero
    fit = dict(metric="log_loss" if hasattr(estimator, "classes_") else "r2", n_repeats=3, seed=0)
    ours_pi = gb.permutation_importance(native, X, y, **fit)
    theirs_pi = gb.permutation_importance(called, X, y, **fit)
    _close(ours_pi.importances, theirs_pi.importances)

    ours_pd = gb.partial_dependence(native, X, 0, grid_resolution=12)
    theirs_pd = gb.partial_dependence(called, X, 0, grid_resolution=12)
    _close(ours_pd.average, theirs_pd.average)


def test_boosters_go_native_with_their_predict() -> None:
    X, y = numeric_data(5)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, y > 0), 5)
    model = gb.as_model(booster)
    assert isinstance(model, TreeModel) and model.n_outputs == 1  # Booster.predict: p only
    _close(model.predict(X).ravel(), booster.predict(xgb.DMatrix(X)))
    lgb_booster = lgb.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1}, lgb.Dataset(X, classes(y, 3)), 4
    )
    model = gb.as_model(lgb_booster)
    assert isinstance(model, TreeModel) and model.output == "probabilities"
    _close(model.predict(X), lgb_booster.predict(X))


def test_objectives_the_adapter_refuses_are_called() -> None:
    X, y = numeric_data(6)
    counts = np.floor(np.exp(y / 4))
    booster = lgb.train(
        {"objective": "poisson", "verbose": -1, "num_leaves": 7}, lgb.Dataset(X, counts), 5
    )
    model = gb.as_model(booster, n_inputs=X.shape[1])  # predict is exp(margin): called
    assert isinstance(model, CallableModel)
    exp = gb.KernelShap(booster, background=X[:10], n_samples=32, seed=0)(X[:3])
    total = exp.base_values + exp.values.sum(axis=1)
    np.testing.assert_allclose(total, booster.predict(X[:3]), rtol=1e-4)

    regressor = xgb.XGBRegressor(objective="count:poisson", **SMALL_XGB).fit(X, counts)
    model = gb.as_model(regressor)
    assert isinstance(model, CallableModel)
    np.testing.assert_allclose(model.predict(X[:5]).ravel(), regressor.predict(X[:5]), rtol=1e-6)
    # its native margin stays available, and says it has no probabilities
    with pytest.raises(ValueError, match="output='raw'"):
        gb.from_trees(regressor, output="probabilities")
    softmax = xgb.XGBClassifier(objective="multi:softmax", **SMALL_XGB).fit(X, classes(y, 3))
    assert isinstance(gb.as_model(softmax), TreeModel)  # predict_proba: softmax of the margin


@pytest.mark.parametrize(
    "make",
    [
        lambda: xgb.XGBClassifier(**SMALL_XGB, enable_categorical=True, tree_method="hist"),
        lambda: lgb.LGBMClassifier(**SMALL_LGB, min_data_per_group=5, cat_smooth=1.0, cat_l2=1.0),
    ],
)
def test_categorical_splits_keep_the_estimators_predict(make) -> None:
    """A DataFrame's categories reach the core as codes of glassbox's own (order of
    appearance), not the library's category codes: a model with categorical splits is called
    through its own predict_proba, and explaining the frame gives the estimator's numbers."""
    frame, y = categorical_frame(5)
    estimator = make().fit(frame, _binary(y))
    assert np.any(gb.from_trees(estimator).spec.cat_starts >= 0)
    model = gb.as_model(estimator)
    assert isinstance(model, CallableModel)
    rows, background = frame.iloc[:4], frame.iloc[10:20]
    ours = gb.KernelShap(estimator, background=background, n_samples=64)(rows, target=1)
    theirs = gb.KernelShap(
        lambda X: estimator.predict_proba(X), background=background, n_samples=64
    )(rows, target=1)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-6, atol=1e-7)
    total = ours.values.sum(axis=1) + ours.base_values
    np.testing.assert_allclose(total, estimator.predict_proba(rows)[:, 1], atol=1e-5)
