"""spec_from_lightgbm: the literal walk of the spec (tests/reference/trees.py) equals LightGBM's
own raw score and probabilities for every model type and objective, on rows with NaN, zeros,
categories and values exactly on the thresholds; malformed dumps get a ValueError naming the
problem."""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")

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

from glassbox.models.trees.lightgbm_trees import spec_from_lightgbm  # noqa: E402
from reference.trees import margin, probabilities  # noqa: E402

SMALL = {"n_estimators": 6, "num_leaves": 7, "min_child_samples": 5, "verbose": -1}


def _data(seed: int = 0, zeros: bool = True):
    X, y = numeric_data(seed)
    if zeros:  # exact zeros: where "None" missing sends NaN
        X[::6, 2] = 0.0
    return X, y


def _regressor(objective: str = "regression", target=lambda y: y, **kw):
    X, y = _data()
    return lgb.LGBMRegressor(objective=objective, **SMALL, **kw).fit(X, target(y)), X


def _classifier(k: int, **kw):
    X, y = _data(1)
    return lgb.LGBMClassifier(**SMALL, **kw).fit(X, classes(y, k)), X


def _categorical(k: int, **kw):
    frame, y = categorical_frame()
    params = {"min_data_per_group": 2, "cat_smooth": 1.0, "cat_l2": 1.0, **SMALL, **kw}
    if k:
        return lgb.LGBMClassifier(**params).fit(frame, classes(y, k)), frame
    return lgb.LGBMRegressor(**params).fit(frame, y), frame


def _categorical_numpy():
    frame, y = categorical_frame()
    X = codes(frame)
    params = {"min_data_per_group": 2, "cat_smooth": 1.0, **SMALL}
    return lgb.LGBMRegressor(**params).fit(X, y, categorical_feature=[4]), X


def _booster():
    X, y = _data(2)
    params = {"objective": "binary", "num_leaves": 5, "verbose": -1}
    return lgb.train(params, lgb.Dataset(X, y > 0), num_boost_round=5), X


RF = {"boosting_type": "rf", "subsample": 0.7, "subsample_freq": 1}
MODELS = {
    "regression": lambda: _regressor(),
    "no_missing_values": lambda: _regressor(use_missing=False),
    "regression_l1": lambda: _regressor("regression_l1"),
    "huber": lambda: _regressor("huber"),
    "quantile": lambda: _regressor("quantile", alpha=0.7),
    "poisson": lambda: _regressor("poisson", lambda y: np.abs(y)),
    "gamma": lambda: _regressor("gamma", lambda y: np.abs(y) + 0.1),
    "tweedie": lambda: _regressor("tweedie", lambda y: np.abs(y)),
    "xentropy": lambda: _regressor("cross_entropy", lambda y: y > 0),
    "binary": lambda: _classifier(2),
    "binary_sigmoid": lambda: _classifier(2, sigmoid=0.5),
    "multiclass": lambda: _classifier(3),
    "multiclassova": lambda: _classifier(3, objective="multiclassova"),
    "rf_regressor": lambda: _regressor(**RF),
    "rf_multiclass": lambda: _classifier(3, **RF),
    "categorical": lambda: _categorical(0),
    "categorical_multiclass": lambda: _categorical(3),
    "categorical_numpy": _categorical_numpy,
    "booster": _booster,
}


def _library_margin(model, X, spec):
    """LightGBM's raw score in the spec's margin convention (sigmoid-scaled; rf averaged)."""
    raw = np.asarray(model.predict(X, raw_score=True), dtype=np.float64)
    if spec.meta["objective"] == "binary":
        raw = raw * spec.meta["margin_scale"]
    booster = model if isinstance(model, lgb.Booster) else model.booster_
    if booster.dump_model().get("average_output"):
        raw = raw / booster.current_iteration()
    return raw


@pytest.mark.parametrize("name", sorted(MODELS))
def test_margin_equals_lightgbm(name: str) -> None:
    model, X = MODELS[name]()
    spec = spec_from_lightgbm(model)
    rows = codes(X)[:120]
    rows = np.vstack([rows, threshold_rows(spec, rows)])
    assert_margin_close(margin(spec, rows), _library_margin(model, like(X, rows), spec))
    assert np.all(spec.covers > 0)
    assert spec.n_features == rows.shape[1]


@pytest.mark.parametrize(
    "name", ["binary", "binary_sigmoid", "multiclass", "rf_multiclass", "categorical_multiclass"]
)
def test_probabilities_equal_predict_proba(name: str) -> None:
    model, X = MODELS[name]()
    spec = spec_from_lightgbm(model)
    rows = codes(X)[:60]
    got = probabilities(spec, rows)
    assert_probabilities_close(got, model.predict_proba(like(X, rows)))
    assert spec.meta["probabilities"]


def test_rf_margin_is_the_average_predict_returns() -> None:
    model, X = MODELS["rf_regressor"]()
    assert_margin_close(margin(spec_from_lightgbm(model), X), model.predict(X))


def test_categories_outside_the_set_go_right() -> None:
    """Negative, unseen, NaN and fractional-free large codes: as LightGBM walks them."""
    model, X = _categorical_numpy()
    spec = spec_from_lightgbm(model)
    rows = np.repeat(X[:8], 4, axis=0)
    rows[:, 4] = np.tile([-3.0, np.nan, 100.0, 31.0], 8)
    assert_margin_close(margin(spec, rows), _library_margin(model, rows, spec))


def test_none_missing_reads_nan_as_zero() -> None:
    """Without NaN in training (missing_type "None"), NaN walks as 0 does."""
    X, y = _data(3)
    X = np.nan_to_num(X, nan=0.5)
    model = lgb.LGBMRegressor(**SMALL).fit(X, y)
    spec = spec_from_lightgbm(model)
    rows = X[:40].copy()
    rows[:, :] = np.where(np.arange(40)[:, None] % 2 == 0, np.nan, 0.0)
    assert_margin_close(margin(spec, rows), _library_margin(model, rows, spec))


def test_zero_as_missing_exact_or_rejected() -> None:
    """missing_type "Zero": exact where the zero band lies next to the side it goes to,
    else a ValueError naming zero_as_missing (never a silently different walk)."""
    for seed in range(4):
        X, y = _data(seed)
        model = lgb.LGBMRegressor(zero_as_missing=True, **SMALL).fit(X, y)
        try:
            spec = spec_from_lightgbm(model)
        except ValueError as error:
            assert "zero_as_missing" in str(error)
            continue
        rows = np.vstack([X[:60], np.zeros((2, 4), np.float32), np.full((1, 4), 1e-36, np.float32)])
        assert_margin_close(margin(spec, rows), _library_margin(model, rows, spec))


def test_margin_only_objectives_say_so() -> None:
    for name in ("poisson", "gamma", "tweedie", "multiclassova"):
        spec = spec_from_lightgbm(MODELS[name]()[0])
        assert spec.link == "identity" and not spec.meta["probabilities"]


def test_early_stopping_keeps_the_best_iteration() -> None:
    X, y = _data()
    noisy = y + np.random.default_rng(0).normal(scale=4, size=len(y))
    model = lgb.LGBMRegressor(**{**SMALL, "n_estimators": 40})
    model.fit(
        X[:160],
        y[:160],
        eval_X=(X[160:],),
        eval_y=(noisy[160:],),
        callbacks=[lgb.early_stopping(2, verbose=False)],
    )
    assert model.best_iteration_ < 40
    spec = spec_from_lightgbm(model)
    assert spec.n_trees == model.best_iteration_
    assert_margin_close(margin(spec, X), model.predict(X))


# ---------------------------------------------------------------- bad input


def test_unfitted_wrong_type_and_linear_trees() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        spec_from_lightgbm(lgb.LGBMRegressor())
    with pytest.raises(TypeError, match="lightgbm Booster"):
        spec_from_lightgbm("model.txt")
    X, y = _data()
    linear = lgb.LGBMRegressor(linear_tree=True, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="linear"):
        spec_from_lightgbm(linear)


@functools.cache
def _cached_dump() -> dict:
    return _categorical(0)[0].booster_.dump_model()


def _dump() -> dict:
    return copy.deepcopy(_cached_dump())


def _root(d):
    return d["tree_info"][0]["tree_structure"]


def _first_leaf(d):
    node = _root(d)
    while "leaf_value" not in node:
        node = node["left_child"]
    return node


CORRUPTIONS = {
    "no trees": (lambda d: d.pop("tree_info"), "tree_info"),
    "objective": (lambda d: d.update(objective="unheard_of"), "unheard_of"),
    "objective type": (lambda d: d.update(objective=3), "objective"),
    "tree count": (lambda d: d.update(num_tree_per_iteration=4), "per iteration"),
    "node type": (lambda d: _root(d).update(left_child=[1]), "not an object"),
    "no child": (lambda d: _root(d).pop("right_child"), "right_child"),
    "feature": (lambda d: _root(d).update(split_feature=99), "feature"),
    "decision": (lambda d: _root(d).update(decision_type="<"), "decision_type"),
    "missing type": (lambda d: _root(d).update(missing_type="Sometimes"), "missing_type"),
    "threshold": (lambda d: _root(d).update(threshold="high"), "threshold"),
    "categories": (lambda d: _root(d).update(decision_type="==", threshold="1||x"), "a||b||c"),
    "big category": (
        lambda d: _root(d).update(decision_type="==", threshold="99999999"),
        "category",
    ),
    "leaf value": (lambda d: _first_leaf(d).update(leaf_value=None), "leaf_value"),
    "count": (lambda d: _root(d).update(internal_count="many"), "internal_count"),
    "linear": (lambda d: _first_leaf(d).update(leaf_coeff=[1.0]), "linear"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_dump_names_the_problem(name: str) -> None:
    dump = _dump()
    corrupt, message = CORRUPTIONS[name]
    corrupt(dump)
    with pytest.raises(ValueError, match=message):
        spec_from_lightgbm(dump)


def test_random_corruption_gives_value_error_only() -> None:
    """Any field of any node replaced by junk: a ValueError (or a valid spec), never KeyError."""
    rng = np.random.default_rng(0)
    junk = [None, "x", -1, 10**9, [], {}, float("nan"), True]
    for _ in range(200):
        dump = _dump()
        node = _root(dump)
        while "leaf_value" not in node and rng.random() < 0.6:
            node = node["left_child" if rng.random() < 0.5 else "right_child"]
        key = list(node)[rng.integers(len(node))]
        node[key] = junk[rng.integers(len(junk))]
        try:
            spec_from_lightgbm(dump)
        except ValueError:
            pass


@pytest.mark.parametrize("name", sorted(MODELS))
def test_from_trees_predicts_the_margin(name: str) -> None:
    """The native model (gb.from_trees) walks as LightGBM does, threshold rows included."""
    import glassbox as gb

    model, X = MODELS[name]()
    spec = spec_from_lightgbm(model)
    rows = codes(X)
    rows = np.vstack([rows, threshold_rows(spec, rows)])
    native = gb.from_trees(model).predict(rows).astype(np.float64)
    assert_margin_close(native, _library_margin(model, like(X, rows), spec))
    if hasattr(model, "predict_proba") and spec.meta["probabilities"]:
        proba = gb.from_trees(model, output="probabilities").predict(rows[:50])
        assert_probabilities_close(proba, model.predict_proba(like(X, rows[:50])))
