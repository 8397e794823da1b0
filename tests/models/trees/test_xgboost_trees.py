"""spec_from_xgboost: the literal walk of the spec (tests/reference/trees.py) equals XGBoost's own
margin and probabilities for every model type and objective, on rows with NaN, categories and
values exactly on the thresholds; malformed JSON models get a ValueError naming the problem."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")

from booster_models import (  # noqa: E402
    assert_margin_close,
    assert_probabilities_close,
    categorical_frame,
    classes,
    codes,
    like,
    numeric_data,
    threshold_rows,
)

from glassbox.models.trees.xgboost_trees import spec_from_xgboost  # noqa: E402
from reference.trees import margin, probabilities  # noqa: E402

SMALL = {"n_estimators": 6, "max_depth": 3, "learning_rate": 0.4}


def _regression(**kw):
    X, y = numeric_data()
    return xgb.XGBRegressor(**SMALL, **kw).fit(X, y), X


def _binary(**kw):
    X, y = numeric_data(1)
    return xgb.XGBClassifier(**SMALL, **kw).fit(X, y > np.median(y)), X


def _multiclass(**kw):
    X, y = numeric_data(2)
    return xgb.XGBClassifier(**SMALL, **kw).fit(X, classes(y, 3)), X


def _categorical(classifier: bool, **kw):
    frame, y = categorical_frame()
    cls = xgb.XGBClassifier if classifier else xgb.XGBRegressor
    target = classes(y, 3) if classifier else y
    params = {"tree_method": "hist", "enable_categorical": True, **SMALL, **kw}
    return cls(**params).fit(frame, target), frame


def _objective(objective: str, target, **kw):
    X, y = numeric_data(3)
    return xgb.XGBRegressor(objective=objective, **SMALL, **kw).fit(X, target(y)), X


MODELS = {
    "regressor": lambda: _regression(),
    "regressor_approx": lambda: _regression(tree_method="approx", max_bin=16),
    "binary": lambda: _binary(),
    "multiclass": lambda: _multiclass(),
    "multiclass_softmax": lambda: _multiclass(objective="multi:softmax"),
    "multi_output_tree": lambda: _multiclass(
        tree_method="hist", multi_strategy="multi_output_tree"
    ),
    "multi_target": lambda: (
        xgb.XGBRegressor(**SMALL).fit(
            numeric_data()[0], np.c_[numeric_data()[1], -numeric_data()[1]]
        ),
        numeric_data()[0],
    ),
    "rf_classifier": lambda: (
        xgb.XGBRFClassifier(n_estimators=5, max_depth=3).fit(*_xy_classes()),
        numeric_data(4)[0],
    ),
    "rf_regressor": lambda: (
        xgb.XGBRFRegressor(n_estimators=5, max_depth=3).fit(*numeric_data(4)),
        numeric_data(4)[0],
    ),
    "dart": lambda: _regression(booster="dart", rate_drop=0.3, one_drop=1),
    "categorical_partition": lambda: _categorical(False, max_cat_to_onehot=1),
    "categorical_onehot": lambda: _categorical(False, max_cat_to_onehot=64),
    "categorical_multiclass": lambda: _categorical(True, max_cat_to_onehot=1),
    "absoluteerror": lambda: _objective("reg:absoluteerror", lambda y: y),
    "pseudohuber": lambda: _objective("reg:pseudohubererror", lambda y: y),
    "logistic_regression": lambda: _objective("reg:logistic", lambda y: y > 0),
    "logitraw": lambda: _objective("binary:logitraw", lambda y: y > 0),
    "poisson": lambda: _objective("count:poisson", lambda y: np.round(np.abs(y))),
    "gamma": lambda: _objective("reg:gamma", lambda y: np.abs(y) + 0.1),
    "tweedie": lambda: _objective("reg:tweedie", lambda y: np.abs(y)),
    "cox": lambda: _objective("survival:cox", lambda y: np.abs(y) + 0.1),
}


def _xy_classes():
    X, y = numeric_data(4)
    return X, classes(y, 3)


def _library_margin(model, X):
    return np.asarray(model.predict(X, output_margin=True), dtype=np.float64)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_margin_equals_xgboost(name: str) -> None:
    model, X = MODELS[name]()
    spec = spec_from_xgboost(model)
    rows = codes(X)[:120]
    rows = np.vstack([rows, threshold_rows(spec, rows)])
    got = margin(spec, rows)
    assert_margin_close(got, _library_margin(model, like(X, rows)))
    assert np.all(spec.covers > 0)
    assert spec.n_features == rows.shape[1]


@pytest.mark.parametrize(
    "name", ["binary", "multiclass", "multi_output_tree", "rf_classifier", "categorical_multiclass"]
)
def test_probabilities_equal_predict_proba(name: str) -> None:
    model, X = MODELS[name]()
    spec = spec_from_xgboost(model)
    rows = codes(X)[:60]
    got = probabilities(spec, rows)
    assert_probabilities_close(got, model.predict_proba(like(X, rows)))
    assert spec.meta["probabilities"]


def test_booster_and_json_give_the_same_spec() -> None:
    model, X = _binary()
    booster = model.get_booster()
    raw = bytes(booster.save_raw("json"))
    specs = [spec_from_xgboost(m) for m in (model, booster, raw, raw.decode(), json.loads(raw))]
    rows = codes(X)
    for spec in specs[1:]:
        np.testing.assert_array_equal(margin(spec, rows), margin(specs[0], rows))


def test_base_score_is_a_margin() -> None:
    """binary:logistic stores base_score as a probability: the spec's base is its logit."""
    X, y = numeric_data()
    model = xgb.XGBClassifier(n_estimators=1, max_depth=1, base_score=0.3).fit(X, y > 0)
    spec = spec_from_xgboost(model)
    np.testing.assert_allclose(spec.base_scores, [np.log(0.3 / 0.7)], rtol=1e-6)
    assert_margin_close(margin(spec, X), _library_margin(model, X))


def test_categorical_set_goes_right_in_xgboost() -> None:
    """One split on the category column: the spec's left child holds XGBoost's right leaf."""
    frame, y = categorical_frame()
    model = xgb.XGBRegressor(
        n_estimators=1,
        max_depth=1,
        tree_method="hist",
        enable_categorical=True,
        max_cat_to_onehot=1,
    ).fit(frame[["c"]], y)
    tree = json.loads(bytes(model.get_booster().save_raw("json")))["learner"]["gradient_booster"]
    tree = tree["model"]["trees"][0]
    in_set = tree["categories"][0]
    spec = spec_from_xgboost(model)
    xgb_right = tree["split_conditions"][tree["right_children"][0]]
    row = np.array([[in_set]], dtype=np.float32)
    leaf_value = margin(spec, row)[0, 0] - spec.base_scores[0]
    np.testing.assert_allclose(leaf_value, xgb_right, rtol=1e-6)


def test_codes_outside_the_set_go_xgboosts_left() -> None:
    """Negative, NaN, unseen and large codes (a numpy Booster with a categorical column)."""
    frame, y = categorical_frame()
    X = codes(frame)
    types = ["q", "q", "q", "q", "c"]
    params = {"max_depth": 3, "tree_method": "hist", "max_cat_to_onehot": 1}
    train = xgb.DMatrix(X, y, feature_types=types, enable_categorical=True)
    booster = xgb.train(params, train, num_boost_round=4)
    rows = np.repeat(X[:8], 4, axis=0)
    rows[:, 4] = np.tile([-3.0, np.nan, 100.0, 31.0], 8)
    expected = booster.predict(
        xgb.DMatrix(rows, feature_types=types, enable_categorical=True), output_margin=True
    )
    assert_margin_close(margin(spec_from_xgboost(booster), rows), expected)


def test_early_stopping_keeps_the_best_iteration() -> None:
    """An estimator keeps the trees its predict uses; its Booster keeps all, as Booster.predict."""
    X, y = numeric_data()
    noisy = y + np.random.default_rng(0).normal(scale=4, size=len(y))
    model = xgb.XGBRegressor(n_estimators=40, max_depth=3, early_stopping_rounds=2)
    model.fit(X[:160], y[:160], eval_set=[(X[160:], noisy[160:])], verbose=False)
    assert model.best_iteration + 1 < model.get_booster().num_boosted_rounds()
    spec = spec_from_xgboost(model)
    assert spec.n_trees == model.best_iteration + 1
    assert_margin_close(margin(spec, X), _library_margin(model, X))
    full = spec_from_xgboost(model.get_booster())
    assert full.n_trees == model.get_booster().num_boosted_rounds()
    booster_margin = model.get_booster().predict(xgb.DMatrix(X), output_margin=True)
    assert_margin_close(margin(full, X), booster_margin)


def test_margin_only_objectives_say_so() -> None:
    for name in ("poisson", "gamma", "logitraw", "cox"):
        spec = spec_from_xgboost(MODELS[name]()[0])
        assert spec.link == "identity" and not spec.meta["probabilities"]
    ranker = xgb.XGBRanker(n_estimators=2, max_depth=2).fit(
        *numeric_data()[:1], classes(numeric_data()[1], 3), qid=np.repeat(np.arange(4), 60)
    )
    assert spec_from_xgboost(ranker).meta["probabilities"] is False


# ---------------------------------------------------------------- bad input


def test_unfitted_and_wrong_types() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        spec_from_xgboost(xgb.XGBClassifier())
    with pytest.raises(TypeError, match="xgboost Booster"):
        spec_from_xgboost(np.zeros(3))
    with pytest.raises(ValueError, match="not an XGBoost JSON model"):
        spec_from_xgboost(b"\xff not json")


def test_gblinear_is_rejected() -> None:
    X, y = numeric_data()
    model = xgb.XGBRegressor(booster="gblinear", n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="gblinear"):
        spec_from_xgboost(model)


@functools.cache
def _model_json() -> bytes:
    model, _ = _categorical(False, max_cat_to_onehot=1)
    return bytes(model.get_booster().save_raw("json"))


def _document():
    return json.loads(_model_json())


def _tree(doc):
    return doc["learner"]["gradient_booster"]["model"]["trees"][0]


CORRUPTIONS = {
    "no learner": (lambda d: d.pop("learner"), "learner"),
    "objective": (lambda d: d["learner"]["objective"].update(name="reg:unknown"), "reg:unknown"),
    "base_score": (
        lambda d: d["learner"]["learner_model_param"].update(base_score="[x"),
        "base_score",
    ),
    "trees not a list": (
        lambda d: d["learner"]["gradient_booster"]["model"].update(trees=3),
        "trees",
    ),
    "tree_info length": (
        lambda d: d["learner"]["gradient_booster"]["model"]["tree_info"].pop(),
        "tree_info",
    ),
    "child out of range": (lambda d: _tree(d)["left_children"].__setitem__(0, 99), "child index"),
    "cycle": (lambda d: _tree(d)["left_children"].__setitem__(0, 0), "child index"),
    "two parents": (
        lambda d: _tree(d).update(
            right_children=[_tree(d)["left_children"][0], *_tree(d)["right_children"][1:]]
        ),
        "not a tree",
    ),
    "feature out of range": (lambda d: _tree(d)["split_indices"].__setitem__(0, 50), "feature"),
    "short array": (lambda d: _tree(d)["sum_hessian"].pop(), "sum_hessian"),
    "string in array": (
        lambda d: _tree(d)["split_conditions"].__setitem__(0, "a"),
        "split_conditions",
    ),
    "fractional child": (lambda d: _tree(d)["left_children"].__setitem__(0, 1.5), "whole numbers"),
    "category segment": (
        lambda d: _tree(d)["categories_sizes"].__setitem__(0, 10**6),
        "category segment",
    ),
    "negative category": (lambda d: _tree(d)["categories"].__setitem__(0, -3), "category"),
    "no tree_param": (lambda d: _tree(d).pop("tree_param"), "tree_param"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_json_names_the_problem(name: str) -> None:
    doc = _document()
    corrupt, message = CORRUPTIONS[name]
    corrupt(doc)
    with pytest.raises(ValueError, match=message):
        spec_from_xgboost(doc)


def test_random_corruption_gives_value_error_only() -> None:
    """Any field of a tree replaced by junk: a ValueError (or a valid spec), never KeyError."""
    rng = np.random.default_rng(0)
    junk = [None, "x", -1, 10**9, [], [1.5], {}, float("nan"), [None]]
    for _ in range(200):
        doc = _document()
        tree = _tree(doc)
        key = list(tree)[rng.integers(len(tree))]
        if isinstance(tree[key], list) and tree[key] and rng.random() < 0.5:
            tree[key][rng.integers(len(tree[key]))] = junk[rng.integers(len(junk))]
        else:
            tree[key] = junk[rng.integers(len(junk))]
        try:
            spec_from_xgboost(doc)
        except ValueError:
            pass


@pytest.mark.parametrize("name", sorted(MODELS))
def test_from_trees_predicts_the_margin(name: str) -> None:
    """The native model (gb.from_trees) walks as XGBoost does, threshold rows included."""
    import glassbox as gb

    model, X = MODELS[name]()
    rows = codes(X)
    rows = np.vstack([rows, threshold_rows(spec_from_xgboost(model), rows)])
    native = gb.from_trees(model)
    assert_margin_close(
        native.predict(rows).astype(np.float64), _library_margin(model, like(X, rows))
    )
    if hasattr(model, "predict_proba") and spec_from_xgboost(model).meta["probabilities"]:
        proba = gb.from_trees(model, output="probabilities").predict(rows[:50])
        assert_probabilities_close(proba, model.predict_proba(like(X, rows[:50])))
