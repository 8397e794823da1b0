"""from_sklearn: the native network computes predict_proba / predict / decision_function."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from sklearn.svm import LinearSVC

import glassbox as gb
from glassbox.models.sklearn_adapter import from_sklearn

RTOL, ATOL = 1e-5, 1e-5
CONVERGENCE = "ignore::sklearn.exceptions.ConvergenceWarning"


def _classification(n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_samples=150,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return X, y


def _regression(n_targets: int = 1) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=150, n_features=5, n_targets=n_targets, random_state=0)
    return X, y / 50.0


def _as_2d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    return values[:, None] if values.ndim == 1 else values


def _check(est: Any, X: np.ndarray, output: str, expected: np.ndarray) -> Any:
    model = from_sklearn(est, output=output)
    np.testing.assert_allclose(model.predict(X), _as_2d(expected), rtol=RTOL, atol=ATOL)
    return model


# -- MLPs -----------------------------------------------------------------------------------


@pytest.mark.filterwarnings(CONVERGENCE)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_mlp_classifier(activation: str, n_classes: int) -> None:
    X, y = _classification(n_classes)
    est = MLPClassifier(
        hidden_layer_sizes=(7, 5), activation=activation, max_iter=60, random_state=0
    ).fit(X, y)
    proba = est.predict_proba(X)
    model = _check(est, X, "model", proba)
    assert model.n_outputs == n_classes
    assert model.output_names == [str(c) for c in est.classes_]
    _check(est, X, "probabilities", proba)
    logits = from_sklearn(est, output="logits")
    if n_classes == 2:
        assert logits.n_outputs == 1
        assert logits.output_names == ["1"]
        p = 1.0 / (1.0 + np.exp(-logits.predict(X).astype(np.float64)))
        np.testing.assert_allclose(p[:, 0], proba[:, 1], rtol=RTOL, atol=ATOL)
    else:
        z = logits.predict(X).astype(np.float64)
        softmax = np.exp(z - z.max(1, keepdims=True))
        np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), proba, atol=ATOL)
    hidden = "" if activation == "identity" else f"mlpclassifier.0/{activation}"
    assert model.layer_names[0] == "mlpclassifier.0"
    assert (hidden in model.layer_names) == (activation != "identity")


@pytest.mark.filterwarnings(CONVERGENCE)
def test_mlp_classifier_multilabel() -> None:
    X, _ = _classification(2)
    Y = (X[:, :3] > 0).astype(int)
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0).fit(X, Y)
    assert est.out_activation_ == "logistic"
    _check(est, X, "model", est.predict_proba(X))
    _check(est, X, "probabilities", est.predict_proba(X))


@pytest.mark.filterwarnings(CONVERGENCE)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_mlp_regressor(activation: str, n_targets: int) -> None:
    X, y = _regression(n_targets)
    est = MLPRegressor(
        hidden_layer_sizes=(8,), activation=activation, max_iter=80, random_state=0
    ).fit(X, y)
    model = _check(est, X, "model", est.predict(X))
    assert model.output_names is None
    _check(est, X, "logits", est.predict(X))
    with pytest.raises(ValueError, match="probabilities"):
        from_sklearn(est, output="probabilities")


# -- linear models --------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize(
    "make",
    [
        lambda: LogisticRegression(max_iter=500),
        lambda: LogisticRegression(C=0.05, solver="newton-cg"),
        lambda: SGDClassifier(loss="log_loss", random_state=0),
    ],
    ids=["lbfgs", "newton-cg", "sgd-log"],
)
def test_probabilistic_linear_classifiers(make: Any, n_classes: int) -> None:
    X, y = _classification(n_classes)
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    est = make().fit(X, labels)
    proba = est.predict_proba(X)
    model = _check(est, X, "model", proba)
    assert model.output_names == list(est.classes_)
    _check(est, X, "probabilities", proba)
    logits = _check(est, X, "logits", est.decision_function(X))
    assert logits.output_names == (["bee"] if n_classes == 2 else list(est.classes_))


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "make",
    [lambda: LinearSVC(), lambda: RidgeClassifier(), lambda: SGDClassifier(random_state=0)],
    ids=["LinearSVC", "RidgeClassifier", "SGD-hinge"],
)
def test_score_only_classifiers(make: Any, n_classes: int) -> None:
    X, y = _classification(n_classes)
    est = make().fit(X, y)
    scores = est.decision_function(X)
    _check(est, X, "model", scores)
    model = _check(est, X, "logits", scores)
    assert model.n_outputs == (1 if n_classes == 2 else n_classes)
    with pytest.raises(ValueError, match="output: 'probabilities' is not available"):
        from_sklearn(est, output="probabilities")


def test_modified_huber_probabilities_are_unsupported() -> None:
    X, y = _classification(3)
    est = SGDClassifier(loss="modified_huber", random_state=0).fit(X, y)
    with pytest.raises(gb.UnsupportedLayerError, match="modified_huber"):
        from_sklearn(est)
    _check(est, X, "logits", est.decision_function(X))


@pytest.mark.parametrize(
    "make",
    [
        LinearRegression,
        lambda: Ridge(alpha=0.5),
        lambda: Lasso(alpha=0.01),
        lambda: ElasticNet(alpha=0.01),
        lambda: SGDRegressor(random_state=0),
    ],
    ids=["LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor"],
)
def test_linear_regressors(make: Any) -> None:
    X, y = _regression()
    est = make().fit(X, y)
    model = _check(est, X, "model", est.predict(X))
    assert model.n_outputs == 1
    _check(est, X, "logits", est.predict(X))
    with pytest.raises(ValueError, match="probabilities"):
        from_sklearn(est, output="probabilities")


def test_multi_output_linear_regression() -> None:
    X, y = _regression(n_targets=3)
    est = LinearRegression().fit(X, y)
    assert _check(est, X, "model", est.predict(X)).n_outputs == 3


# -- pipelines ------------------------------------------------------------------------------


@pytest.mark.filterwarnings(CONVERGENCE)
@pytest.mark.parametrize(
    "scalers",
    [
        [StandardScaler()],
        [StandardScaler(with_mean=False)],
        [StandardScaler(with_std=False)],
        [MinMaxScaler(feature_range=(-1, 2))],
        [MaxAbsScaler()],
        [RobustScaler()],
        [RobustScaler(with_centering=False, quantile_range=(10.0, 90.0))],
        [StandardScaler(), MinMaxScaler()],
    ],
    ids=[
        "standard",
        "no-mean",
        "no-std",
        "minmax",
        "maxabs",
        "robust",
        "robust-no-center",
        "standard+minmax",
    ],
)
@pytest.mark.parametrize(
    "make",
    [
        lambda: LogisticRegression(max_iter=500),
        lambda: MLPClassifier(hidden_layer_sizes=(5,), max_iter=40, random_state=0),
    ],
    ids=["logreg", "mlp"],
)
def test_scaler_pipelines_become_a_scaling_layer(scalers: list[Any], make: Any) -> None:
    X, y = _classification(3)
    X = X * np.array([1.0, 10.0, 0.1, 5.0, 1.0, 2.0]) + 3.0
    pipe = make_pipeline(*scalers, make()).fit(X, y)
    model = _check(pipe, X, "model", pipe.predict_proba(X))
    final_name = pipe.steps[-1][0]
    scaler_names = "+".join(name for name, _ in pipe.steps[:-1])
    assert model.layer_names[0] == scaler_names
    assert model.spec.layers[0].kind == "batch_norm"
    assert model.layer_names[1].startswith(final_name)
    # the dense layers hold the estimator's own coefficients, not ones folded with the scaling
    final = pipe.steps[-1][1]
    first = final.coefs_[0].T if hasattr(final, "coefs_") else final.coef_
    np.testing.assert_allclose(model.spec.layers[1].weights["weight"], first, rtol=1e-6)
    # and the scaling layer is the scalers' transform
    scaled = pipe[:-1].transform(X)
    layer = model.spec.layers[0]
    np.testing.assert_allclose(
        X * layer.weights["scale"] + layer.weights["shift"], scaled, rtol=1e-5, atol=1e-5
    )


def test_pipeline_with_passthrough_and_regressor() -> None:
    X, y = _regression()
    pipe = Pipeline([("skip", "passthrough"), ("scale", StandardScaler()), ("reg", Ridge())])
    pipe.fit(X * 4.0 - 1.0, y)
    model = _check(pipe, X * 4.0 - 1.0, "model", pipe.predict(X * 4.0 - 1.0))
    assert model.layer_names == ["scale", "reg"]


def test_unsupported_pipeline_steps_and_estimators() -> None:
    X, y = _classification(2)
    pipe = make_pipeline(PCA(3), LogisticRegression()).fit(X, y)
    with pytest.raises(gb.UnsupportedLayerError, match=r"'pca' \(PCA\)") as info:
        from_sklearn(pipe)
    assert "StandardScaler" in str(info.value)
    clipped = make_pipeline(MinMaxScaler(clip=True), LogisticRegression()).fit(X, y)
    with pytest.raises(gb.UnsupportedLayerError, match="clip"):
        from_sklearn(clipped)
    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)
    with pytest.raises(gb.UnsupportedLayerError, match="RandomForestClassifier") as info:
        from_sklearn(forest)
    assert "MLPClassifier" in str(info.value) and "LogisticRegression" in str(info.value)


# -- errors, names, the caller's estimator, pickling ------------------------------------------


@pytest.mark.parametrize(
    "est",
    [
        LogisticRegression(),
        MLPRegressor(),
        make_pipeline(StandardScaler(), LogisticRegression()),
    ],
    ids=["logreg", "mlp", "pipeline"],
)
def test_unfitted_estimators(est: Any) -> None:
    with pytest.raises(ValueError, match="not fitted"):
        from_sklearn(est)


def test_invalid_output() -> None:
    X, y = _classification(2)
    with pytest.raises(ValueError, match="output"):
        from_sklearn(LogisticRegression().fit(X, y), output="proba")


def test_feature_names_from_a_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    X, y = _classification(2)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y)
    model = from_sklearn(est)
    assert model.feature_names == list(frame.columns)
    assert from_sklearn(est, feature_names=list("abcdef")).feature_names == list("abcdef")
    np.testing.assert_allclose(model.predict(X), est.predict_proba(frame), rtol=RTOL, atol=ATOL)


@pytest.mark.filterwarnings(CONVERGENCE)
def test_estimator_is_unchanged_and_pickle_round_trips() -> None:
    X, y = _classification(3)
    est = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0)
    ).fit(X, y)
    snapshot = copy.deepcopy(est)
    model = from_sklearn(est, output_names=["a", "b", "c"])
    mlp, saved = est[-1], snapshot[-1]
    pairs = zip(mlp.coefs_ + mlp.intercepts_, saved.coefs_ + saved.intercepts_, strict=True)
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(est[0].mean_, snapshot[0].mean_)
    assert est.get_params(deep=False).keys() == snapshot.get_params(deep=False).keys()
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    assert clone.output_names == ["a", "b", "c"]
    np.testing.assert_allclose(clone.predict(X), est.predict_proba(X), rtol=RTOL, atol=ATOL)


@pytest.mark.filterwarnings(CONVERGENCE)
@pytest.mark.parametrize("composite", [None, "EpsilonPlus", "EpsilonAlpha2Beta1"])
def test_lrp_on_a_pipeline_equals_lrp_with_the_scaling_folded(composite: str | None) -> None:
    """The scaling layer changes no relevance: LRP's canonizer folds it into the first dense
    layer, which gives the network the adapter used to build (scalers folded in)."""
    X, y = _classification(3)
    X = X * np.array([1.0, 10.0, 0.1, 5.0, 1.0, 2.0]) + 3.0
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(5,), max_iter=40, random_state=0)
    ).fit(X, y)
    model = from_sklearn(pipe, output="logits")
    folded = copy.deepcopy(model.spec)
    scaling, first = folded.layers[0], folded.layers[1]
    weight = first.weights["weight"].astype(np.float64)
    first.weights["bias"] = (first.weights["bias"] + weight @ scaling.weights["shift"]).astype(
        np.float32
    )
    first.weights["weight"] = (weight * scaling.weights["scale"][None, :]).astype(np.float32)
    folded.layers[0] = gb.models.spec.LayerSpec("identity", scaling.name, list(scaling.inputs))
    reference = gb.models.native.build_network(folded)
    got = gb.LRP(model, composite=composite)(X[:20], target=1).values
    want = gb.LRP(reference, composite=composite)(X[:20], target=1).values
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert np.abs(got).max() > 0
