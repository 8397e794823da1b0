"""Names end to end: features= / target= / groups= by name give the same results as by index,
results carry the data's and the model's names, bad names list close matches, and string (or
pandas Series / Categorical) labels y map through the model's output names."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox._names import feature_labels, output_labels, position_labels, resolve

sklearn_linear = pytest.importorskip("sklearn.linear_model")

NAMES = ["mean radius", "mean texture", "mean area", "mean smoothness"]
CLASSES = ["malignant", "benign"]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + 0.3 * rng.normal(size=200) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def native(data: tuple[np.ndarray, np.ndarray]) -> gb.NativeModel:
    X, y = data
    estimator = sklearn_linear.LogisticRegression().fit(X, y)
    return gb.from_sklearn(estimator, feature_names=NAMES, output_names=CLASSES)


def test_defaults_and_resolution() -> None:
    assert feature_labels(None, 2) == ["x0", "x1"] and output_labels(None, 1) == ["output 0"]
    assert position_labels(None, (1, 2, 2))[-1] == "x0_1_1"
    assert resolve("mean area", NAMES, 4, "features") == 2 == resolve(-2, NAMES, 4, "features")
    assert resolve("x3", None, 4, "features") == 3  # unnamed: the default names
    with pytest.raises(ValueError, match=r"did you mean 'mean area'\? \(available: 'mean radius'"):
        resolve("mean aera", NAMES, 4, "features")
    with pytest.raises(ValueError, match=r"no output named 'x'.*available: 'output 0'"):
        resolve("x", None, 2, "target", what="output")
    many = [f"f{i}" for i in range(30)]
    with pytest.raises(ValueError, match=r"\.\.\. \(30 in all\)"):
        resolve("zzz", many, 30, "features")
    with pytest.raises(TypeError, match="features: expected feature names or indices"):
        resolve(1.5, NAMES, 4, "features")


def test_inspection_by_name_equals_by_index(native: gb.NativeModel, data: tuple) -> None:
    X, _ = data
    by_name = gb.partial_dependence(
        native, X, ["mean radius", "mean area"], target="benign", grid_resolution=4
    )
    by_index = gb.partial_dependence(native, X, [0, 2], target=1, grid_resolution=4)
    np.testing.assert_array_equal(by_name.average, by_index.average)
    assert by_name.features == [0, 2] and by_name.targets == [1]
    custom = gb.partial_dependence(
        native, X, "mean area", grid={"mean area": [0.0, 0.5]}, categorical_features=None
    )
    np.testing.assert_array_equal(custom.grid_values[0], [0.0, 0.5])
    effect = gb.ale(native, X, "mean texture", bins=4, target=["benign"])
    np.testing.assert_array_equal(effect.values, gb.ale(native, X, 1, bins=4, target=1).values)
    h = gb.h_statistic(native, X, [("mean texture", "mean area")], n_samples=40)
    assert h.pairs == [(1, 2)]
    h3 = gb.h_statistic(native, X, ["mean radius", "mean area", "mean texture"], n_samples=40)
    assert h3.features == [0, 2, 1] and h3.overall is not None
    for result in (by_name, effect, h):
        assert result.feature_names == NAMES and result.output_names == CLASSES


def test_categorical_features_by_name(native: gb.NativeModel, data: tuple) -> None:
    X, _ = data
    Xc = X.copy()
    Xc[:, 3] = np.round(Xc[:, 3] > 0)
    pd_name = gb.partial_dependence(
        native, Xc, "mean smoothness", categorical_features=["mean smoothness"]
    )
    pd_index = gb.partial_dependence(native, Xc, 3, categorical_features=[3])
    np.testing.assert_array_equal(pd_name.grid_values[0], [0.0, 1.0])
    np.testing.assert_array_equal(pd_name.average, pd_index.average)
    pandas = pytest.importorskip("pandas")
    columns = pandas.Index(NAMES)
    from_index = gb.partial_dependence(
        native, Xc, columns[[0, 3]], categorical_features=columns[[3]], grid_resolution=3
    )
    mixed = gb.partial_dependence(
        native, Xc, [0, "mean smoothness"], categorical_features=[1, "mean smoothness"]
    )
    assert from_index.features == [0, 3] and from_index.grid_values[1].tolist() == [0.0, 1.0]
    assert mixed.features == [0, 3] and mixed.grid_values[1].tolist() == [0.0, 1.0]


def test_permutation_groups_by_name(native: gb.NativeModel, data: tuple) -> None:
    X, y = data
    by_name = gb.permutation_importance(
        native, X, y, groups={"size": ["mean radius", "mean area"], "rest": [1, 3]}, n_repeats=2
    )
    by_index = gb.permutation_importance(native, X, y, groups=[[0, 2], [1, 3]], n_repeats=2)
    np.testing.assert_array_equal(by_name.importances, by_index.importances)
    assert by_name.group_names == ["size", "rest"]
    assert by_index.group_names == ["mean radius+mean area", "mean texture+mean smoothness"]
    assert by_name.feature_names == NAMES and by_name.output_names == CLASSES


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m, X: gb.partial_dependence(m, X, "mean radiu"), "did you mean 'mean radius'"),
        (lambda m, X: gb.ale(m, X, 0, target="benin"), "target: no output named 'benin'"),
        (lambda m, X: gb.h_statistic(m, X, ["radius", 1]), "features: no feature named"),
        (lambda m, X: gb.permutation_importance(m, X, X[:, 0] > 0, groups=[["nope"]]), "groups"),
        (lambda m, X: gb.partial_dependence(m, X, 0, grid={"nope": [0.0]}), "grid: no feature"),
        (lambda m, X: gb.surrogate_tree(m, X, task="regression", target="nope"), "target"),
    ],
)
def test_bad_names(native: gb.NativeModel, data: tuple, call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(native, data[0])  # type: ignore[operator]


def test_explainer_target_by_name(native: gb.NativeModel, data: tuple) -> None:
    X, _ = data
    for explainer in (
        gb.KernelShap(native, background=X[:20], n_samples=64),
        gb.FeatureAblation(native),
        gb.Lime(native, training_data=X, num_samples=100),
        gb.IntegratedGradients(native, n_steps=8),
    ):
        by_name = explainer(X[:3], target="malignant")
        by_index = explainer(X[:3], target=0)
        np.testing.assert_array_equal(by_name.values, by_index.values)
        np.testing.assert_array_equal(by_name.target, [0, 0, 0])
        assert by_name.feature_names == NAMES and by_name.output_names == CLASSES
        per_row = explainer(X[:3], target=["benign", "malignant", 1])
        np.testing.assert_array_equal(per_row.target, [1, 0, 1])
        array = explainer(X[:3], target=np.array(CLASSES)[[1, 1, 0]])
        np.testing.assert_array_equal(array.target, [1, 1, 0])
    with pytest.raises(ValueError, match=r"target: no output named 'Malignant'; did you mean"):
        gb.FeatureAblation(native)(X[:3], target="Malignant")
    with pytest.raises(ValueError, match="3 targets"):
        gb.FeatureAblation(native)(X[:3], target=["benign"])


def test_unnamed_outputs_take_default_names(data: tuple) -> None:
    X, _ = data
    model = gb.wrap(lambda A: np.stack([A[:, 0], -A[:, 1]], 1), n_inputs=4)
    exp = gb.FeatureAblation(model)(X[:2], target="output 1")
    np.testing.assert_array_equal(exp.target, [1, 1])
    result = gb.partial_dependence(model, X, "x1", target="output 1", grid=[0.0, 1.0])
    np.testing.assert_allclose(result.average, [[0.0, -1.0]], atol=1e-6)
    assert result.feature_names is None and result.output_names is None


def test_surrogate_names(native: gb.NativeModel, data: tuple) -> None:
    X, _ = data
    tree = gb.surrogate_tree(native, X, task="regression", target="benign", max_depth=2)
    same = gb.surrogate_tree(native, X, task="regression", target=1, max_depth=2)
    assert tree.rules == same.rules and tree.target == 1
    assert tree.feature_names == NAMES and tree.output_names == CLASSES
    assert tree.rules.split("\n")[0].startswith("|--- mean ")


def test_frame_fitted_estimator_keeps_names() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    labels = np.where(frame["a"] > 0, "yes", "no")
    model = gb.from_sklearn(sklearn_linear.LogisticRegression().fit(frame, labels))
    assert model.feature_names == ["a", "b", "c"] and model.output_names == ["no", "yes"]
    result = gb.partial_dependence(model, frame.to_numpy(), "a", target="yes", grid=[0.0, 1.0])
    assert result.feature_names == ["a", "b", "c"] and result.targets == [1]
    assert np.diff(result.average[0])[0] > 0  # "yes" grows with a


# ---- string labels y ---------------------------------------------------------------------------


def polars_series(strings: np.ndarray) -> list:
    """``strings`` as polars Series of str and of categories (none without polars)."""
    try:
        import polars
    except ImportError:
        return []
    return [polars.Series(strings), polars.Series(strings, dtype=polars.Categorical)]


def test_string_labels_map_through_output_names(native: gb.NativeModel, data: tuple) -> None:
    pd = pytest.importorskip("pandas")
    X, y = data
    strings = np.array(CLASSES)[y]
    want = gb.permutation_importance(native, X, y, n_repeats=3).importances
    for labels in (
        strings,
        strings.tolist(),
        strings.astype(object),
        pd.Series(strings),
        pd.Series(strings, dtype="category"),
        pd.Categorical(strings),
        *polars_series(strings),
    ):
        got = gb.permutation_importance(native, X, labels, n_repeats=3)
        np.testing.assert_array_equal(got.importances, want)
    for metric in ("balanced_accuracy", "log_loss", "roc_auc"):
        np.testing.assert_array_equal(
            gb.permutation_importance(native, X, strings, metric=metric, n_repeats=2).importances,
            gb.permutation_importance(native, X, y, metric=metric, n_repeats=2).importances,
        )


def test_string_labels_on_a_callable_with_output_names(data: tuple) -> None:
    X, y = data
    weights = np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    model = gb.wrap(lambda A: 1 / (1 + np.exp(-(A @ weights))), n_inputs=4)
    model.output_names = ["cat", "dog"]
    strings = np.array(["cat", "dog"])[1 - y]  # "cat" (output 0) where feature 0 is high
    result = gb.permutation_importance(model, X, strings, n_repeats=2)
    np.testing.assert_array_equal(
        result.importances, gb.permutation_importance(model, X, 1 - y, n_repeats=2).importances
    )
    with pytest.raises(ValueError, match=r"labels \['bird'\] are not among .*\['cat', 'dog'\]"):
        gb.permutation_importance(model, X, np.where(y == 1, "bird", strings))
    model.output_names = None
    with pytest.raises(ValueError, match="string labels need the model's output names"):
        gb.permutation_importance(model, X, strings)


def test_string_labels_on_a_single_output_model(data: tuple) -> None:
    X, y = data
    estimator = sklearn_linear.LogisticRegression().fit(X, y)
    logits = gb.from_sklearn(estimator, output="logits", output_names=["benign"])
    assert logits.n_outputs == 1
    strings = np.array(CLASSES)[y]  # "benign" is class 1, the one scored
    np.testing.assert_array_equal(
        gb.permutation_importance(logits, X, strings, metric="roc_auc", n_repeats=2).importances,
        gb.permutation_importance(logits, X, y, metric="roc_auc", n_repeats=2).importances,
    )
    with pytest.raises(ValueError, match="2 other labels"):
        three = np.where(y == 1, "benign", np.where(X[:, 1] > 0, "a", "b"))
        gb.permutation_importance(logits, X, three)


def test_string_labels_through_classes_and_bad_y(data: tuple) -> None:
    X, y = data
    strings = np.array(["no", "yes"])[y]
    estimator = sklearn_linear.LogisticRegression().fit(X, strings)
    function = gb.wrap(estimator.predict_proba, n_inputs=4)  # the same outputs, unnamed
    np.testing.assert_array_equal(
        gb.permutation_importance(estimator, X, strings, n_repeats=2).importances,
        gb.permutation_importance(function, X, y, n_repeats=2).importances,
    )
    with pytest.raises(TypeError, match="y: metric 'r2' needs numbers"):
        gb.permutation_importance(estimator, X, strings, metric="r2")
    with pytest.raises(TypeError, match=r"y: expected class labels .* NoneType"):
        gb.permutation_importance(estimator, X, [None, *strings[1:].tolist()])


def test_integer_classes_map_through_their_names(data: tuple) -> None:
    X, _ = data
    classes = np.array([2, 5, 9])
    index = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    native = gb.from_sklearn(sklearn_linear.LogisticRegression().fit(X, classes[index]))
    assert native.output_names == ["2", "5", "9"]  # str(class)
    np.testing.assert_array_equal(
        gb.permutation_importance(native, X, classes[index], n_repeats=2).importances,
        gb.permutation_importance(native, X, index, n_repeats=2).importances,
    )
    with pytest.raises(ValueError, match=r"labels 0..2 \(one per model output\) or among"):
        gb.permutation_importance(native, X, np.where(index == 0, 3, classes[index]))


def test_dataframe_pipeline_names_on_every_result(data: tuple) -> None:
    """A pipeline fitted on a frame with string classes, called as an estimator: the frame's
    columns and the classes name every result, and names work as arguments."""
    pd = pytest.importorskip("pandas")
    pipeline = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X, y = data
    frame = pd.DataFrame(X, columns=NAMES)
    labels = np.array(CLASSES)[y]
    model = pipeline.make_pipeline(
        preprocessing.StandardScaler(), sklearn_linear.LogisticRegression()
    ).fit(frame, labels)
    classes = sorted(CLASSES)  # scikit-learn sorts classes_: ["benign", "malignant"]
    results = [
        gb.permutation_importance(model, frame, labels, n_repeats=2),
        gb.partial_dependence(model, frame, "mean area", target="malignant", grid_resolution=3),
        gb.ale(model, frame, "mean texture", bins=3, target="malignant"),
        gb.h_statistic(model, frame, ["mean radius", "mean texture"], n_samples=30),
        gb.surrogate_tree(model, frame, max_depth=2),
        gb.KernelShap(model, background=frame.iloc[:10], n_samples=64)(
            frame.iloc[:3], target="malignant"
        ),
        gb.Lime(model, training_data=frame, num_samples=100)(frame.iloc[:2], target="benign"),
    ]
    for result in results:
        assert result.feature_names == NAMES, type(result).__name__
        assert result.output_names == classes, type(result).__name__
        assert result.to_frame().shape[0] > 0
    assert results[1].targets == [1] and results[0].to_frame()["feature"].tolist() == NAMES
    np.testing.assert_array_equal(results[5].target, [1, 1, 1])
    assert results[5].to_frame("long")["output"].unique().tolist() == ["malignant"]
