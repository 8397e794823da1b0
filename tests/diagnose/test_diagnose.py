"""glassbox.diagnose: planted error slices found by the slices and the error tree, the confusion
matrix against scikit-learn, the contrast against the literal reference, regression, DataFrames
and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import make_data, make_net
from reference.diagnosis import (
    confusion_matrix,
    mean_difference,
    permutation_p_values,
    quantile_slices,
)

pytest.importorskip("sklearn")


def _one_hot(labels: np.ndarray, k: int = 2) -> np.ndarray:
    return np.eye(k)[labels.astype(int)]


def planted(n: int = 600, feature: int = 3, seed: int = 0):
    """Data, labels and a model right everywhere except where x[feature] > its 75th percentile,
    where it answers the other class."""
    X = make_data(5, n_rows=n, seed=seed)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    q75 = float(np.quantile(X[:, feature].astype(np.float64), 0.75))

    def fn(A: np.ndarray) -> np.ndarray:
        truth = A[:, 0] + A[:, 1] > 0
        wrong = A[:, feature].astype(np.float64) > q75
        return _one_hot(truth ^ wrong) * 0.9 + 0.05

    return X, y, gb.wrap(fn, n_inputs=5, n_outputs=2), q75


@pytest.mark.parametrize("feature", [3, 1])
def test_planted_slice_is_the_worst_slice_and_the_first_split(feature: int) -> None:
    X, y, model, q75 = planted(feature=feature)
    d = gb.diagnose(model, X, y, explainer=False)
    name = f"x{feature}"
    column = X[:, feature].astype(np.float64)
    wrong = column > q75
    assert d.task == "classification" and d.n_errors == int(wrong.sum())
    frame = d.slices.to_frame()
    assert frame.loc[0, "feature"] == name and frame.loc[0, "error_rate"] == 1.0
    assert d.slices.low[0] == pytest.approx(q75) and d.slices.high[0] == np.inf
    assert frame.loc[0, "slice"] == f"{name} > {q75:.4g}"
    assert frame.loc[0, "lift"] == pytest.approx(1 / d.error_rate)
    assert d.error_tree.feature == name
    assert column[~wrong].max() <= d.error_tree.threshold < column[wrong].min()
    tree = d.error_tree.to_frame()
    assert list(tree.columns) == ["rule", "n", "error_rate", "error_share"]
    worst = tree.sort_values("error_rate").iloc[-1]
    assert worst["error_rate"] == 1.0 and worst["error_share"] == pytest.approx(1.0)
    assert worst["rule"] == f"{name} > {d.error_tree.threshold:.6g}"
    assert tree["n"].sum() == len(X) and tree["error_share"].sum() == pytest.approx(1.0)
    text = str(d.error_tree)
    assert f"|--- {name} <= " in text and "error rate 100.0%, 100.0% of errors" in text
    assert f"{name} >" in str(d) and "misclassified" in str(d)


def test_slices_equal_the_literal_quantile_bins() -> None:
    X, y, model, _ = planted()
    d = gb.diagnose(model, X, y, explainer=False, n_bins=5, min_size=1)
    error = (model.predict(X).argmax(axis=1) != y).astype(np.float64)
    for j in range(5):
        want = quantile_slices(X[:, j].astype(np.float64), error, 5)
        got = sorted(
            (lo, hi, n, e)
            for f, lo, hi, n, e in zip(
                d.slices.features,
                d.slices.low,
                d.slices.high,
                d.slices.n,
                d.slices.error,
                strict=True,
            )
            if f == f"x{j}"
        )
        assert len(got) == len(want) == 5
        for (lo, hi, n, e), (wlo, whi, wn, we) in zip(got, sorted(want), strict=True):
            assert (lo, hi, n) == (wlo, whi, wn) and e == pytest.approx(we)
    rates = d.slices.error
    assert np.all(np.diff(rates) <= 0)  # worst first


def test_few_values_get_one_slice_each_and_small_slices_are_left_out() -> None:
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.integers(0, 3, 300), rng.normal(size=300)]).astype(np.float32)
    X[:5, 0] = 7  # a value of 5 rows: below min_size
    y = (X[:, 1] > 0).astype(int)
    model = gb.wrap(lambda A: _one_hot((A[:, 1] > 0) ^ (A[:, 0] == 2)), n_inputs=2, n_outputs=2)
    d = gb.diagnose(model, X, y, explainer=False, min_size=10)
    assert d.slices.descriptions[0] == "x0 = 2" and d.slices.error[0] == 1.0
    x0 = [s for f, s in zip(d.slices.features, d.slices.descriptions, strict=True) if f == "x0"]
    assert sorted(x0) == ["x0 = 0", "x0 = 1", "x0 = 2"]
    assert np.isnan(d.slices.low[0]) and d.slices.values[0] == 2


def test_confusion_matrix_and_errors_against_sklearn_with_string_classes() -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix as sk_confusion

    data = load_iris()
    X = data.data[:, :2]  # two features: some errors
    y = data.target_names[data.target]
    model = LogisticRegression().fit(X, y)
    d = gb.diagnose(model, X, y, explainer=False)
    labels = model.classes_.tolist()
    want = sk_confusion(y, model.predict(X), labels=labels)
    np.testing.assert_array_equal(d.confusion.matrix, want)
    assert d.confusion.labels == labels
    frame = d.confusion.to_frame()
    assert frame["true"].tolist() == labels and list(frame.columns[1:]) == labels
    np.testing.assert_array_equal(frame[labels].to_numpy(), want)
    assert d.confusion.accuracy == pytest.approx(np.mean(model.predict(X) == y))
    errors = d.errors.to_frame()
    assert list(errors.columns) == ["index", "true", "predicted", "confidence"]
    wrong = np.flatnonzero(model.predict(X) != y)
    assert sorted(errors["index"]) == wrong.tolist()
    assert np.all(np.diff(errors["confidence"].to_numpy()) <= 0)  # most confident first
    proba = model.predict_proba(X)
    np.testing.assert_allclose(errors["confidence"], proba[errors["index"]].max(axis=1), rtol=1e-6)
    assert errors["predicted"].tolist() == model.predict(X)[errors["index"]].tolist()
    assert errors["true"].tolist() == y[errors["index"]].tolist()
    assert d.errors.confidence_kind == "probability"


def test_logits_are_read_through_softmax_and_labels_as_indices() -> None:
    net = make_net("relu")  # no softmax: logits
    X = make_data(net.spec.input_shape, n_rows=200, seed=4)
    logits = net.model.predict(X).astype(np.float64)
    k = logits.shape[1]
    y = logits.argmax(axis=1)
    y[::7] = (y[::7] + 1) % k
    d = gb.diagnose(net.model, X, y, explainer=False)
    np.testing.assert_array_equal(d.confusion.matrix, confusion_matrix(y, logits.argmax(1), k))
    soft = np.exp(logits - logits.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    rows = d.errors.rows
    assert d.errors.confidence_kind == "softmax"
    np.testing.assert_allclose(d.errors.confidence, soft[rows].max(axis=1), rtol=1e-5)
    assert set(rows.tolist()) == set(np.flatnonzero(logits.argmax(1) != y).tolist())


def test_contrast_equals_the_reference_on_given_attributions() -> None:
    X, y, model, _ = planted(n=80)
    values = np.random.default_rng(5).normal(size=(80, 5))
    values[:, 2] += 3 * (model.predict(X).argmax(axis=1) != y)  # feature 2 differs on errors
    d = gb.diagnose(model, X, y, explainer=values, n_permutations=300, seed=7)
    c = d.contrast
    is_error = model.predict(X).argmax(axis=1) != y
    np.testing.assert_allclose(c.difference, mean_difference(values, is_error), rtol=1e-10)
    np.testing.assert_allclose(
        c.abs_difference, mean_difference(np.abs(values), is_error), rtol=1e-10
    )
    np.testing.assert_allclose(c.mean_errors, values[is_error].mean(axis=0))
    np.testing.assert_allclose(c.mean_correct, values[~is_error].mean(axis=0))
    np.testing.assert_array_equal(c.p_value, permutation_p_values(values, is_error, 300, 7))
    np.testing.assert_array_equal(
        c.abs_p_value, permutation_p_values(np.abs(values), is_error, 300, 7)
    )
    assert c.p_value[2] == 1 / 301 and c.method == "attribution"
    assert c.n_errors == is_error.sum() and c.n_correct == 80 - is_error.sum()
    assert c.to_frame()["feature"].iloc[0] == "x2"
    again = gb.diagnose(model, X, y, explainer=values, n_permutations=300, seed=7).contrast
    np.testing.assert_array_equal(again.p_value, c.p_value)
    other = gb.diagnose(model, X, y, explainer=values, n_permutations=300, seed=8).contrast
    assert not np.array_equal(other.p_value, c.p_value)


def test_default_contrast_of_a_native_network_is_ig_from_the_mean_row() -> None:
    net = make_net("relu_softmax")
    X = make_data(5, n_rows=150, seed=6)
    predicted = net.model.predict(X).argmax(axis=1)
    y = predicted.copy()
    y[X[:, 4] > 0.8] = (y[X[:, 4] > 0.8] + 1) % 3
    one = gb.diagnose(net.model, X, y, n_permutations=200, n_threads=1)
    two = gb.diagnose(net.model, X, y, n_permutations=200, n_threads=2)
    ig = gb.IntegratedGradients(net.model)(X, baselines=X.mean(axis=0), target=predicted)
    is_error = predicted != y
    c = one.contrast
    assert c.method == "integrated_gradients"
    np.testing.assert_allclose(c.difference, mean_difference(ig.values, is_error), atol=1e-6)
    np.testing.assert_array_equal(c.p_value, two.contrast.p_value)
    np.testing.assert_array_equal(c.difference, two.contrast.difference)


def test_default_contrast_of_a_python_model_is_kernel_shap() -> None:
    X, y, model, _ = planted(n=120)
    c = gb.diagnose(model, X, y, n_permutations=100).contrast
    assert c.method == "kernel_shap" and len(c) == 5
    assert c.to_frame()["feature"].iloc[0] in ("x0", "x1", "x3")


def test_an_explainer_instance_explains_each_rows_predicted_class() -> None:
    net = make_net("relu_softmax")
    X = make_data(5, n_rows=100, seed=7)
    predicted = net.model.predict(X).argmax(axis=1)
    y = np.where(X[:, 0] > 1, (predicted + 1) % 3, predicted)
    saliency = gb.Saliency(net.model)
    c = gb.diagnose(net.model, X, y, explainer=saliency, n_permutations=50).contrast
    want = saliency(X, target=predicted).values
    assert c.method == "saliency"
    np.testing.assert_allclose(c.mean_errors, want[predicted != y].mean(axis=0), rtol=1e-6)


def test_no_errors_or_no_correct_rows_give_an_empty_contrast_with_a_note() -> None:
    X, _, model, _ = planted(n=100)
    right = model.predict(X).argmax(axis=1)
    d = gb.diagnose(model, X, right)
    assert d.n_errors == 0 and len(d.contrast) == 0 and "no error rows" in d.contrast.note
    assert d.contrast.to_frame().empty and len(d.errors) == 0
    assert d.error_tree.feature is None and "no errors" in d.error_tree.note
    assert "no error rows" in str(d)
    wrong = gb.diagnose(model, X, 1 - right)
    assert len(wrong.contrast) == 0 and "no correct rows" in wrong.contrast.note


def test_regression_residuals_errors_and_planted_slice() -> None:
    net = make_net("regression_tanh")
    X = make_data(4, n_rows=400, seed=8)
    f = net.model.predict(X)[:, 0].astype(np.float64)
    noise = np.random.default_rng(1).normal(scale=0.01, size=400)
    big = X[:, 2] > np.quantile(X[:, 2], 0.75)
    y = f + noise + 2.0 * big
    d = gb.diagnose(net.model, X, y, n_permutations=100)
    assert d.task == "regression"
    residual = f - y
    s = d.confusion
    assert s.mae == pytest.approx(np.abs(residual).mean(), rel=1e-5)
    assert s.rmse == pytest.approx(np.sqrt((residual**2).mean()), rel=1e-5)
    assert s.r2 == pytest.approx(1 - (residual**2).sum() / ((y - y.mean()) ** 2).sum(), rel=1e-5)
    assert s.to_frame()["statistic"].tolist()[:3] == ["mae", "rmse", "r2"]
    errors = d.errors.to_frame()
    assert list(errors.columns) == ["index", "true", "predicted", "residual", "abs_residual"]
    assert len(errors) == d.n_errors == 40  # above the 0.9 quantile of |residual|
    assert np.all(np.diff(errors["abs_residual"].to_numpy()) <= 0)
    assert set(errors["index"]) <= set(np.flatnonzero(big).tolist())
    assert d.slices.metric == "mean_abs_residual" and d.slices.features[0] == "x2"
    assert "mean_abs_residual" in d.slices.to_frame().columns
    assert d.error_tree.feature == "x2" and d.contrast.method == "integrated_gradients"
    assert "regression" in str(d) and "mean |residual|" in str(d.error_tree)


def test_dataframe_names_flow_to_rules_slices_and_errors() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    n = 300
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.normal(size=n),
            "city": rng.choice(["A", "B", "C"], n),
        },
        index=np.arange(1000, 1000 + n),
    )
    y = (frame["income"] > 0).astype(int).to_numpy()

    def fn(df):
        truth = df["income"].to_numpy() > 0
        wrong = df["city"].to_numpy() == "B"
        return _one_hot(truth ^ wrong)

    model = gb.wrap(fn, n_inputs=3, n_outputs=2)
    d = gb.diagnose(model, frame, y, n_permutations=50)
    assert d.feature_names == ["age", "income", "city"]
    assert d.slices.descriptions[0] == "city = B" and d.slices.error[0] == 1.0
    assert set(d.slices.features) == {"age", "income", "city"}
    assert any(s.startswith("age <= ") for s in d.slices.descriptions)
    # the error tree splits on the categories too: the planted slice is its root split
    assert d.error_tree.feature == "city = B" and d.error_tree.note == ""
    frame_tree = d.error_tree.to_frame()
    assert frame_tree["error_rate"].max() == 1.0
    assert frame_tree.loc[frame_tree["error_rate"].idxmax(), "rule"] == "city = B"
    assert frame_tree.loc[frame_tree["error_rate"].idxmin(), "rule"].startswith("city != B")
    assert "|--- city = B" in str(d.error_tree)
    wrong = frame.index[frame["city"] == "B"]
    assert sorted(d.errors.to_frame()["index"]) == sorted(wrong.tolist())
    assert set(d.contrast.features) == {"age", "income", "city"}

    numeric = frame[["age", "income"]]
    model2 = gb.wrap(
        lambda df: _one_hot((df["income"].to_numpy() > 0) ^ (df["age"].to_numpy() > 50)),
        n_inputs=2,
        n_outputs=2,
    )
    tree = gb.diagnose(model2, numeric, y, explainer=False).error_tree
    assert tree.feature == "age" and tree.rules[0].startswith("age <= ")


def test_diagnosis_to_frame_parts() -> None:
    X, y, model, _ = planted(n=200)
    d = gb.diagnose(model, X, y, n_permutations=50)
    for kind in ("slices", "errors", "error_tree", "contrast", "confusion"):
        assert d.to_frame(kind).shape[0] > 0
    with pytest.raises(ValueError, match="kind"):
        d.to_frame("nope")


class Counting:
    """A Python model that counts its calls."""

    def __init__(self, n_inputs: int = 5) -> None:
        self.calls = 0
        self.model = gb.wrap(self, n_inputs=n_inputs, n_outputs=2)

    def __call__(self, A: np.ndarray) -> np.ndarray:
        self.calls += 1
        return _one_hot(A[:, 0] > 0)


@pytest.mark.parametrize(
    ("y", "explainer", "error", "match"),
    [
        (np.zeros(99), None, ValueError, r"y: expected shape \(100,\)"),
        (np.where(np.arange(100) == 3, np.nan, 0.0), None, ValueError, "y: contains NaN"),
        (np.zeros(100), "ig", TypeError, "explainer: expected None"),
        (np.zeros(100), np.zeros((100, 4)), ValueError, "explainer: attributions of shape"),
        (np.zeros(100), np.full((100, 5), np.nan), ValueError, "explainer: .* NaN"),
    ],
)
def test_bad_input_is_an_error_before_the_model_runs(y, explainer, error, match) -> None:
    counting = Counting()
    X = make_data(5, n_rows=100)
    with pytest.raises(error, match=match):
        gb.diagnose(counting.model, X, y, explainer)
    assert counting.calls == 0


def test_bad_input_errors() -> None:
    net = make_net("relu_softmax")  # 3 classes
    X = make_data(5, n_rows=50)
    with pytest.raises(ValueError, match=r"y: .*labels 0\.\.2"):
        gb.diagnose(net.model, X, np.full(50, 3))
    with pytest.raises(ValueError, match="takes 5 features, the data has 4"):
        gb.diagnose(net.model, X[:, :4], np.zeros(50))
    with pytest.raises(ValueError, match="task"):
        gb.diagnose(net.model, X, np.zeros(50), task="regression")
    with pytest.raises(ValueError, match="task"):
        gb.diagnose(net.model, X, np.zeros(50), task="bayes")
    with pytest.raises(ValueError, match="error_quantile"):
        gb.diagnose(net.model, X, np.zeros(50), error_quantile=1.0)
    with pytest.raises(ValueError, match="explainer: attributions of shape"):
        gb.diagnose(net.model, X[:, :5], np.ones(50), explainer=np.zeros((50, 4)))
    with pytest.raises(TypeError, match="explainer"):
        gb.diagnose(net.model, X, np.ones(50), explainer="ig")
    with pytest.raises(ValueError, match="min_size"):
        gb.diagnose(net.model, X, np.zeros(50), min_size=0)


def test_feature_names_name_the_parts() -> None:
    X, y, model, _ = planted(n=200)
    names = ["a", "b", "c", "d", "e"]
    d = gb.diagnose(model, X, y, feature_names=names, n_permutations=20)
    assert d.feature_names == names and d.error_tree.feature == "d"
    assert d.slices.features[0] == "d" and d.contrast.features == names
    with pytest.raises(ValueError, match="feature_names: expected 5 names, got 2"):
        gb.diagnose(model, X, y, feature_names=["a", "b"])


def test_contrast_explains_a_seeded_sample_beyond_max_rows() -> None:
    from glassbox.diagnosis.diagnose import sample_rows

    net = make_net("relu_softmax")
    X = make_data(5, n_rows=300, seed=9)
    predicted = net.model.predict(X).argmax(axis=1)
    y = np.where(X[:, 3] > 0.5, (predicted + 1) % 3, predicted)
    is_error = predicted != y
    saliency = gb.Saliency(net.model)
    c = gb.diagnose(net.model, X, y, saliency, max_rows=60, n_permutations=50, seed=3).contrast
    rows = sample_rows(is_error, 60, 3)
    assert rows.size == 60 and c.n_errors == 30 and c.n_correct == 30
    assert "sample of 60 of the 300 rows" in c.note
    values = saliency(X[rows], target=predicted[rows]).values
    np.testing.assert_allclose(c.difference, mean_difference(values, is_error[rows]), atol=1e-6)
    np.testing.assert_array_equal(
        c.p_value, permutation_p_values(values.astype(np.float64), is_error[rows], 50, 3)
    )
    few = sample_rows(np.arange(300) < 5, 60, 3)  # 5 errors: all of them, 55 correct rows
    assert few.size == 60 and np.sum(few < 5) == 5


@pytest.mark.parametrize("flat", [False, True])
def test_images_of_a_cnn_are_diagnosed_by_pixel(flat: bool) -> None:
    from cnn_nets import lenet_spec

    model = gb.build_network(lenet_spec(input_hw=16))
    X = make_data((1, 16, 16), n_rows=200, seed=10)
    predicted = model.predict(X).argmax(axis=1)
    wrong = X[:, 0, 3, 4] > np.quantile(X[:, 0, 3, 4], 0.75)
    y = np.where(wrong, (predicted + 1) % 10, predicted)
    d = gb.diagnose(model, X.reshape(200, -1) if flat else X, y, n_permutations=50)
    assert d.n_errors == wrong.sum() and d.slices.features[0] == "x0_3_4"
    assert d.error_tree.feature == "x0_3_4" and d.slices.error[0] == 1.0
    ig = gb.IntegratedGradients(model)(X, baselines=X.mean(axis=0), target=predicted)
    want = mean_difference(ig.values.reshape(200, -1).astype(np.float64), wrong)
    np.testing.assert_allclose(d.contrast.difference, want, atol=1e-6)
    assert len(d.contrast.features) == 256 and d.contrast.features[1] == "x0_0_1"


def test_the_error_tree_splits_on_the_most_frequent_categories_of_a_wide_column():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    n = 2000
    # 80 values; "v0" is frequent and holds every error, the rest share what is left
    values = np.where(
        rng.random(n) < 0.3, "v0", np.array([f"v{i}" for i in rng.integers(1, 80, n)])
    )
    frame = pd.DataFrame({"x": rng.normal(size=n), "code": values})
    y = (frame["x"] > 0).astype(int).to_numpy()

    def fn(df):
        truth = df["x"].to_numpy() > 0
        return _one_hot(truth ^ (df["code"].to_numpy() == "v0"))

    d = gb.diagnose(gb.wrap(fn, n_inputs=2, n_outputs=2), frame, y, n_permutations=20)
    assert d.error_tree.feature == "code = v0"
    assert "most frequent values of code" in d.error_tree.note
    assert len(d.error_tree.feature_names) == 1 + 50
