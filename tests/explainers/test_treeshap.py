"""TreeShap / TreeShapInteractions: the brute-force definitions on random small trees
(categorical nodes, NaN default directions, several outputs), efficiency, thread bit-identity,
shap's TreeExplainer on scikit-learn models, and bad input."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassbox as gb
from glassbox.explainers.treeshap import TreeTarget
from glassbox.models.trees.model import TreeModel, compile_spec
from glassbox.models.trees.sklearn_trees import two_class
from glassbox.models.trees.spec import TreeEnsembleSpec
from reference import treeshap as ref
from tree_specs import chain_spec


def target_of(spec: TreeEnsembleSpec) -> TreeTarget:
    """The core ensemble of a spec, as TreeShap takes it."""
    return TreeTarget(compile_spec(spec), spec.link)


def random_spec(
    rng: np.random.Generator, d: int, n_trees: int, depth: int, k: int = 1, wide: bool = False
) -> TreeEnsembleSpec:
    """Random trees: numeric and categorical nodes, random default directions and covers; a
    forest-style ensemble of k-wide leaves with ``wide``, else width-1 trees cycling outputs."""
    nodes: dict[str, list] = {n: [] for n in ("cl", "cr", "f", "t", "dl", "cs", "cc", "cov", "vo")}
    bitsets: list[int] = []
    values: list[float] = []
    width = k if wide else 1

    def grow(level: int, cover: float) -> int:
        i = len(nodes["f"])
        for name, value in zip(nodes, (-1, -1, -1, 0.0, False, -1, 0, cover, -1), strict=True):
            nodes[name].append(value)
        if level < depth and (level == 0 or rng.random() < 0.75):
            nodes["f"][i] = int(rng.integers(d))
            nodes["dl"][i] = bool(rng.random() < 0.5)
            if rng.random() < 0.3:
                nodes["cs"][i], nodes["cc"][i] = len(bitsets), 1
                bitsets.append(int(rng.integers(1, 2**8)))
            else:
                nodes["t"][i] = float(np.float32(rng.normal()))
            share = rng.uniform(0.1, 0.9)
            nodes["cl"][i] = grow(level + 1, cover * share)
            nodes["cr"][i] = grow(level + 1, cover * (1 - share))
        else:
            nodes["vo"][i] = len(values)
            values.extend(rng.normal(size=width).tolist())
        return i

    offsets = [0]
    for _ in range(n_trees):
        grow(0, float(rng.integers(10, 100)))
        offsets.append(len(nodes["f"]))
    return TreeEnsembleSpec(
        n_features=d,
        n_outputs=k,
        tree_offsets=np.array(offsets, np.int64),
        tree_outputs=np.array([0 if wide else t % k for t in range(n_trees)], np.int32),
        tree_widths=np.full(n_trees, width, np.int32),
        children_left=np.array(nodes["cl"], np.int32),
        children_right=np.array(nodes["cr"], np.int32),
        features=np.array(nodes["f"], np.int32),
        thresholds=np.array(nodes["t"], np.float32),
        default_left=np.array(nodes["dl"], bool),
        cat_starts=np.array(nodes["cs"], np.int64),
        cat_counts=np.array(nodes["cc"], np.int32),
        cat_bitsets=np.array(bitsets, np.uint32),
        covers=np.array(nodes["cov"], np.float64),
        value_offsets=np.array(nodes["vo"], np.int64),
        values=np.array(values, np.float64),
        base_scores=rng.normal(size=k),
        link="logistic" if k == 1 and rng.random() < 0.5 else "identity",
    )


def random_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Normal values, small whole numbers (categories) and NaN."""
    X = rng.normal(size=(n, d)).astype(np.float32)
    whole = rng.random((n, d)) < 0.3
    X[whole] = rng.integers(0, 9, size=(n, d)).astype(np.float32)[whole]
    X[rng.random((n, d)) < 0.15] = np.nan
    return X


def full(exp: gb.Explanation, k: int) -> np.ndarray:
    """Values with the outputs axis restored for a one-output model."""
    return exp.values[..., None] if k == 1 else exp.values


specs = st.builds(
    lambda seed, d, trees, depth, k, wide: (np.random.default_rng(seed), d, trees, depth, k, wide),
    st.integers(0, 2**32 - 1),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(1, 4),
    st.sampled_from([1, 1, 3]),
    st.booleans(),
)


def tabled(explainer: gb.TreeShap, tables: str) -> gb.TreeShap:
    """``explainer`` computing with leaf tables on every tree that can have them ("always"), or
    with the per-row walks only ("never"): the two computations tests compare."""
    explainer._tables = tables
    return explainer


TABLES = ("always", "never")


@settings(max_examples=25, deadline=None)
@given(specs, st.sampled_from(TABLES))
def test_equals_the_definitions(case, tables):
    rng, d, n_trees, depth, k, wide = case
    spec = random_spec(rng, d, n_trees, depth, k, wide)
    model = target_of(spec)
    X, Z = random_rows(rng, 3, d), random_rows(rng, 4, d)

    exp = tabled(gb.TreeShap(model), tables)(X)
    np.testing.assert_allclose(full(exp, k), ref.path_dependent_values(spec, X), atol=1e-12)
    np.testing.assert_allclose(
        np.broadcast_to(exp.base_values.reshape(3, -1), (3, k))[0], ref.expected_value(spec)
    )

    inter = tabled(gb.TreeShapInteractions(model), tables)(X)
    np.testing.assert_allclose(full(inter, k), ref.path_dependent_interactions(spec, X), atol=1e-12)

    want, base = ref.interventional_values(spec, X, Z)
    exp = tabled(gb.TreeShap(model, Z, feature_perturbation="interventional"), tables)(X)
    np.testing.assert_allclose(full(exp, k), want, atol=1e-12)
    np.testing.assert_allclose(exp.base_values.reshape(3, -1)[0], base, atol=1e-12)
    if spec.link == "logistic":
        want, base = ref.interventional_values(spec, X, Z, probabilities=True)
        exp = gb.TreeShap(model, Z, output="probabilities")(X)
        np.testing.assert_allclose(exp.values, want[..., 0], atol=1e-12)
        np.testing.assert_allclose(exp.base_values[0], base[0], atol=1e-12)
        np.testing.assert_allclose(exp.delta, 0, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(specs, st.sampled_from(TABLES))
def test_efficiency(case, tables):
    rng, d, n_trees, depth, k, wide = case
    model = target_of(random_spec(rng, d, 2 * n_trees, depth + 2, k, wide))
    X = random_rows(rng, 20, d)
    for explainer in (
        gb.TreeShap(model),
        gb.TreeShap(model, random_rows(rng, 7, d)),
        gb.TreeShapInteractions(model),
    ):
        exp = tabled(explainer, tables)(X)
        assert np.abs(exp.delta).max() < 1e-9


@pytest.mark.parametrize("tables", [*TABLES, "auto"])
def test_threads_bit_identical(tables):
    rng = np.random.default_rng(3)
    model = target_of(random_spec(rng, 6, 20, 6, k=3))
    X, Z = random_rows(rng, 200, 6), random_rows(rng, 30, 6)
    for make in (
        lambda n: gb.TreeShap(model, n_threads=n),
        lambda n: gb.TreeShap(model, Z, n_threads=n),
        lambda n: gb.TreeShapInteractions(model, n_threads=n),
    ):
        one, two = tabled(make(1), tables)(X).values, tabled(make(2), tables)(X).values
        assert np.array_equal(one, two)


def test_tables_agree_with_the_walks_in_blocks():
    """Deep trees, wide leaves, several blocks of tables (a small memory budget): leaf tables
    and the per-row walks give the same values, and "auto" picks whichever it likes."""
    rng = np.random.default_rng(8)
    model = target_of(random_spec(rng, 9, 40, 8, k=3, wide=True))
    X, Z = random_rows(rng, 300, 9), random_rows(rng, 25, 9)
    for make in (
        lambda budget: gb.TreeShap(model, memory_budget=budget),
        lambda budget: gb.TreeShap(model, Z, memory_budget=budget),
        lambda budget: gb.TreeShapInteractions(model, memory_budget=budget),
    ):
        walks = tabled(make(None), "never")(X).values
        scale = np.abs(walks).max()
        for tables, budget in (("always", 200_000), ("always", None), ("auto", None)):
            values = tabled(make(budget), tables)(X).values
            np.testing.assert_allclose(values, walks, rtol=0, atol=1e-12 * scale)


def test_trees_too_deep_for_tables_keep_the_walks():
    """A leaf with 20 path features: "always" computes that tree with the walks, as "never"."""
    rng = np.random.default_rng(10)
    model = target_of(chain_spec(20, n_features=20))
    X, Z = rng.normal(size=(40, 20)).astype(np.float32), rng.normal(size=(9, 20)).astype(np.float32)
    for make in (
        lambda: gb.TreeShap(model),
        lambda: gb.TreeShap(model, Z),
        lambda: gb.TreeShapInteractions(model),
    ):
        always, never = tabled(make(), "always")(X), tabled(make(), "never")(X)
        assert np.array_equal(always.values, never.values)
        assert np.abs(always.delta).max() < 1e-9
        assert np.abs(always.values).max() > 0


def test_tables_switch_is_checked():
    rng = np.random.default_rng(9)
    explainer = tabled(gb.TreeShap(target_of(random_spec(rng, 3, 2, 2))), "sometimes")
    with pytest.raises(ValueError, match="tables: expected 'auto', 'always' or 'never'"):
        explainer(random_rows(rng, 2, 3))


def test_target_picks_an_output():
    rng = np.random.default_rng(4)
    model = target_of(random_spec(rng, 4, 6, 3, k=3))
    X = random_rows(rng, 5, 4)
    every = gb.TreeShap(model)(X)
    picked = gb.TreeShap(model)(X, target=[0, 2, 1, 1, 0])
    assert every.values.shape == (5, 4, 3)
    np.testing.assert_array_equal(picked.values, every.values[np.arange(5), :, [0, 2, 1, 1, 0]])


def test_bad_input():
    rng = np.random.default_rng(5)
    spec = random_spec(rng, 3, 2, 2)
    model = target_of(spec)
    with pytest.raises(ValueError, match="X"):
        gb.TreeShap(model)(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="background"):
        gb.TreeShap(model, np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="background"):
        gb.TreeShap(model, np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match="background"):
        gb.TreeShap(model, feature_perturbation="interventional")
    with pytest.raises(ValueError, match="background"):
        gb.TreeShap(model, np.zeros((2, 3)), feature_perturbation="tree_path_dependent")
    with pytest.raises(ValueError, match="feature_perturbation"):
        gb.TreeShap(model, feature_perturbation="observational")
    with pytest.raises(ValueError, match="output"):
        gb.TreeShap(model, output="log_odds")
    logistic = TreeTarget(model.ensemble, "logistic")
    with pytest.raises(ValueError, match="interventional"):
        gb.TreeShap(logistic, output="probabilities")
    softmax = TreeTarget(target_of(random_spec(rng, 3, 3, 2, k=3)).ensemble, "softmax")
    with pytest.raises(ValueError, match="softmax"):
        gb.TreeShap(softmax, np.zeros((2, 3)), output="probabilities")
    with pytest.raises(TypeError, match="model"):
        gb.TreeShap(lambda X: X)
    strict = TreeTarget(model.ensemble, allow_nan=False)  # a library that rejects NaN
    nan = np.array([[0.0, np.nan, 1.0]], np.float32)
    with pytest.raises(ValueError, match="X"):
        gb.TreeShap(strict)(nan)
    with pytest.raises(ValueError, match="background"):
        gb.TreeShap(strict, nan)


def test_output_follows_the_model():
    """A TreeModel predicting probabilities is explained as probabilities by default
    (interventional; path-dependent then says what to do); anything else as the margin."""
    rng = np.random.default_rng(11)
    spec = replace(random_spec(rng, 3, 4, 3), link="logistic")
    rows, background = random_rows(rng, 5, 3), random_rows(rng, 6, 3)
    probabilities = TreeModel(spec, "probabilities")
    with pytest.raises(ValueError, match=r"output='raw'.*background"):
        gb.TreeShap(probabilities)
    exp = gb.TreeShap(probabilities, background)(rows)
    chosen = gb.TreeShap(probabilities, background, output="probabilities")(rows)
    np.testing.assert_array_equal(exp.values, chosen.values)
    total = exp.base_values + exp.values.sum(axis=1)
    np.testing.assert_allclose(total, probabilities.predict(rows).ravel(), atol=1e-6)
    raw = gb.TreeShap(probabilities, output="raw")(rows)  # the margin, on request
    np.testing.assert_array_equal(raw.values, gb.TreeShap(TreeModel(spec))(rows).values)
    margin_model = TreeModel(spec)  # made for the margin: explained as the margin
    np.testing.assert_array_equal(
        gb.TreeShap(margin_model, background)(rows).values,
        gb.TreeShap(margin_model, background, output="raw")(rows).values,
    )
    with pytest.raises(ValueError, match="output"):
        gb.TreeShap(probabilities, background, output="log_odds")


def test_two_class_probabilities_are_the_logistic_values():
    """A binary model as two softmax outputs (0, m) (what as_model makes of a classifier):
    class 1's values are the logistic model's probability values, class 0's their negation."""
    rng = np.random.default_rng(12)
    spec = replace(random_spec(rng, 3, 4, 3), link="logistic")
    rows, background = random_rows(rng, 5, 3), random_rows(rng, 6, 3)
    model = TreeModel(two_class(spec), "probabilities")
    exp = gb.TreeShap(model, background)(rows, target=None)
    one = gb.TreeShap(TreeModel(spec, "probabilities"), background)(rows)
    np.testing.assert_allclose(exp.values[..., 1], one.values, atol=1e-12)
    np.testing.assert_allclose(exp.values[..., 0], -one.values, atol=1e-12)
    np.testing.assert_allclose(exp.base_values, np.c_[1 - one.base_values, one.base_values])
    total = exp.base_values + exp.values.sum(axis=1)
    np.testing.assert_allclose(total, model.predict(rows), atol=1e-6)
    first = gb.TreeShap(model, background)(rows, target=0)
    np.testing.assert_allclose(first.values, -one.values, atol=1e-12)
    with pytest.raises(ValueError, match="interventional"):
        gb.TreeShap(model)
    softmax = TreeModel(_softmax(rng), "probabilities")
    with pytest.raises(ValueError, match="softmax"):
        gb.TreeShap(softmax, background)


def _softmax(rng: np.random.Generator) -> TreeEnsembleSpec:
    return replace(random_spec(rng, 3, 6, 2, k=3), link="softmax")


def test_unfitted_model():
    ensemble = pytest.importorskip("sklearn.ensemble")
    with pytest.raises((TypeError, ValueError), match="not fitted"):
        gb.TreeShap(ensemble.RandomForestRegressor())


# ---- shap's TreeExplainer, the oracle on fitted models -------------------------------------


def native(estimator: object) -> object:
    """``gb.from_trees(estimator)``."""
    return gb.from_trees(estimator)


@functools.cache
def sklearn_models() -> list[tuple[str, object, np.ndarray]]:
    ensemble = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = X[:, 0] * X[:, 1] + X[:, 2] + 0.1 * rng.normal(size=300)
    three = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    missing = X.copy()
    missing[rng.random(X.shape) < 0.1] = np.nan
    return [
        ("rf", ensemble.RandomForestRegressor(20, max_depth=5, random_state=0).fit(X, y), X),
        ("rf3", ensemble.RandomForestClassifier(10, max_depth=4, random_state=0).fit(X, three), X),
        ("et", ensemble.ExtraTreesRegressor(10, max_depth=5, random_state=0).fit(X, y), X),
        ("gbc", ensemble.GradientBoostingClassifier(n_estimators=20).fit(X, y > 0), X),
        ("hgb", ensemble.HistGradientBoostingRegressor(max_iter=20).fit(missing, y), missing),
    ]


def close(ours: np.ndarray, theirs: object) -> None:
    theirs = np.asarray(theirs, dtype=np.float64).reshape(ours.shape)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(theirs).max()))


def equals_shap(estimator: object, X: np.ndarray) -> None:
    """Both modes and the interaction values equal shap's TreeExplainer on ``estimator``."""
    shap = pytest.importorskip("shap")
    model, rows, background = native(estimator), X[:20], X[100:130]
    explainer = shap.TreeExplainer(estimator)
    close(gb.TreeShap(model)(rows).values, explainer.shap_values(rows))
    close(
        gb.TreeShapInteractions(model)(rows[:5]).values,
        explainer.shap_interaction_values(rows[:5]),
    )
    interventional = shap.TreeExplainer(
        estimator, background, feature_perturbation="interventional"
    )
    exp = gb.TreeShap(model, background)(rows)
    close(exp.values, interventional.shap_values(rows, check_additivity=False))
    close(exp.base_values[0], interventional.expected_value)


def test_equals_shap_on_sklearn():
    for _, estimator, X in sklearn_models():
        equals_shap(estimator, X)


def test_multiclass_boosting_equals_the_definitions():
    """shap rejects a multi-class GradientBoostingClassifier: the brute force is the oracle."""
    ensemble = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = np.digitize(X[:, 0] + X[:, 1] * X[:, 2], [-0.5, 0.5])
    estimator = ensemble.GradientBoostingClassifier(n_estimators=5, max_depth=2).fit(X, y)
    model = native(estimator)
    rows, background = X[:2], X[100:104]
    np.testing.assert_allclose(
        gb.TreeShap(model)(rows).values, ref.path_dependent_values(model.spec, rows), atol=1e-12
    )
    want, _ = ref.interventional_values(model.spec, rows, background)
    np.testing.assert_allclose(gb.TreeShap(model, background)(rows).values, want, atol=1e-12)
    shap = pytest.importorskip("shap")
    with pytest.raises(Exception, match="GradientBoostingClassifier is only supported for binary"):
        shap.TreeExplainer(estimator)  # the difference from shap the docs state


def test_probabilities_equal_shap():
    shap = pytest.importorskip("shap")
    _, estimator, X = sklearn_models()[3]  # binary gradient boosting: a logistic link
    model, rows, background = native(estimator), X[:5], X[100:110]  # shap is slow here
    theirs = shap.TreeExplainer(
        estimator, background, feature_perturbation="interventional", model_output="probability"
    )
    exp = gb.TreeShap(model, background, output="probabilities")(rows)
    close(exp.values, theirs.shap_values(rows))
    close(exp.base_values[0], theirs.expected_value)
    np.testing.assert_allclose(exp.delta, 0, atol=1e-9)


@functools.cache
def booster_models() -> list[tuple[str, object, np.ndarray]]:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = X[:, 0] * X[:, 1] + X[:, 2] + 0.1 * rng.normal(size=300)
    three = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    X[rng.random(X.shape) < 0.1] = np.nan
    models = []
    xgboost = pytest.importorskip("xgboost")
    models += [
        ("xgb", xgboost.XGBRegressor(n_estimators=15, max_depth=4).fit(X, y), X),
        ("xgb2", xgboost.XGBClassifier(n_estimators=10, max_depth=3).fit(X, y > 0), X),
        ("xgb3", xgboost.XGBClassifier(n_estimators=5, max_depth=3).fit(X, three), X),
    ]
    lightgbm = pytest.importorskip("lightgbm")
    quiet = {"n_estimators": 10, "num_leaves": 8, "verbose": -1}
    models += [
        ("lgb", lightgbm.LGBMRegressor(**quiet).fit(X, y), X),
        ("lgb3", lightgbm.LGBMClassifier(**quiet).fit(X, three), X),
    ]
    return models


def test_equals_shap_on_boosters():
    for _, estimator, X in booster_models():
        equals_shap(estimator, X)
