"""DataFrames end to end: pandas and polars frames are read by value, Python models are called
with frames of X's columns and dtypes, and names come from the columns (glassbox/data.py)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import glassbox as gb
from glassbox.data import Schema, read_table

pd = pytest.importorskip("pandas")
sklearn = pytest.importorskip("sklearn")

from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402


def mixed_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Strings, a categorical, float64 values float32 cannot hold, ints, and missing values."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], n).astype(object),
            "size": rng.normal(size=n) * 1.000000123,
            "count": rng.integers(0, 5, n),
            "kind": pd.Categorical(rng.choice(["a", "b"], n)),
        }
    )
    frame.loc[::7, "size"] = np.nan
    return frame


def mixed_pipeline(frame: pd.DataFrame):
    labels = (frame["colour"] == "red").astype(int) + (frame["size"].fillna(0) > 0)
    encode = make_column_transformer(
        (OneHotEncoder(), ["colour", "kind"]),
        (SimpleImputer(), ["size"]),
        remainder="passthrough",
    )
    return make_pipeline(encode, LogisticRegression(max_iter=500)).fit(frame, labels), labels


class Recorder:
    """A model that records what it was called with, and checks every value it gets is one the
    user gave (replacement by value) before predicting with ``predict``."""

    def __init__(self, predict, allowed: pd.DataFrame | None = None):
        self.fn = predict
        self.allowed = allowed
        self.frames: list[pd.DataFrame] = []

    def __call__(self, frame):
        self.frames.append(frame)
        if self.allowed is not None:
            for name in ("colour", "size", "kind"):
                given = set(self.allowed[name].dropna().tolist())
                got = set(frame[name].dropna().tolist())
                assert got <= given, f"{name}: values not in the data: {got - given}"
        return self.fn(frame)


def test_pipeline_on_a_frame_gets_frames_of_the_columns_and_dtypes():
    frame = mixed_frame()
    model, _ = mixed_pipeline(frame)
    record = Recorder(model.predict_proba, allowed=frame)
    exp = gb.KernelShap(record, background=frame.iloc[:25], n_samples=40)(frame.iloc[:4], target=1)
    assert record.frames, "the model was never called"
    for seen in record.frames:
        assert isinstance(seen, pd.DataFrame)
        assert list(seen.columns) == list(frame.columns)
        assert dict(seen.dtypes) == dict(frame.dtypes)
    assert exp.feature_names == ["colour", "size", "count", "kind"]
    # efficiency against the model's own outputs on the user's rows: values passed exactly
    fx = model.predict_proba(frame.iloc[:4])[:, 1]
    base = model.predict_proba(frame.iloc[:25])[:, 1].mean()
    np.testing.assert_allclose(exp.values.sum(axis=1), fx - base, atol=2e-6)
    # data holds the user's values (strings, categories, NaN)
    assert exp.data[0, 0] == frame.iloc[0, 0] and exp.data[0, 3] == frame.iloc[0, 3]
    assert math.isnan(exp.data[0, 1])


def test_an_estimator_fitted_on_a_frame_raises_no_feature_name_warning():
    # pytest turns warnings into errors: scikit-learn's "X does not have valid feature names"
    # would fail every one of these calls
    data = sklearn.datasets.load_breast_cancer(as_frame=True)
    X = data.frame.drop(columns="target").iloc[:, :6]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, data.target)
    exp = gb.KernelShap(pipe, background=X.iloc[:20], n_samples=32)(X.iloc[:3], target=1)
    assert exp.feature_names == list(X.columns)
    exp2 = gb.KernelShap(pipe.predict_proba, background=X.iloc[:20], n_samples=32)(X.iloc[:3], 1)
    np.testing.assert_array_equal(exp.values, exp2.values)
    # arrays too: the estimator is called with a frame of the columns it was fitted on
    exp3 = gb.KernelShap(pipe, background=X.iloc[:20].to_numpy(), n_samples=32)(
        X.iloc[:3].to_numpy(), target=1
    )
    np.testing.assert_allclose(exp3.values, exp.values, atol=1e-6)
    assert exp3.feature_names == list(X.columns) and exp3.output_names == ["0", "1"]
    result = gb.permutation_importance(pipe, X, data.target, n_repeats=2, seed=0)
    assert result.importances_mean.shape == (6,)


def literal_shapley(model, frame: pd.DataFrame, row: int, background: pd.DataFrame) -> np.ndarray:
    """Exact interventional Shapley values, literally: every coalition built as a DataFrame."""
    d = frame.shape[1]

    def value(coalition: tuple[int, ...]) -> float:
        rows = background.copy()
        for j in coalition:
            rows.iloc[:, j] = frame.iloc[row, j]
        return float(model(rows)[:, 1].mean())

    phi = np.zeros(d)
    for j in range(d):
        others = [k for k in range(d) if k != j]
        for size in range(d):
            weight = math.factorial(size) * math.factorial(d - size - 1) / math.factorial(d)
            for coalition in itertools.combinations(others, size):
                phi[j] += weight * (value((*coalition, j)) - value(coalition))
    return phi


def test_exact_shapley_on_mixed_data_equals_the_literal_definition():
    frame = mixed_frame(60)
    model, _ = mixed_pipeline(frame)
    background = frame.iloc[:8]
    exp = gb.ExactShapley(model.predict_proba, background=background)(frame.iloc[10:12], target=1)
    for i, row in enumerate((10, 11)):
        expected = literal_shapley(model.predict_proba, frame, row, background)
        np.testing.assert_allclose(exp.values[i], expected, atol=2e-6)


@pytest.mark.parametrize("method", ["permutation", "kernel"])
def test_sampled_shapley_and_permutation_importance_on_mixed_data(method):
    frame = mixed_frame()
    model, labels = mixed_pipeline(frame)
    cls = gb.PermutationShapley if method == "permutation" else gb.KernelShap
    exp = cls(model, background=frame.iloc[:20], n_samples=60)(frame.iloc[:3], target=2)
    fx = model.predict_proba(frame.iloc[:3])[:, 2]
    np.testing.assert_allclose(
        exp.values.sum(axis=1), fx - model.predict_proba(frame.iloc[:20])[:, 2].mean(), atol=2e-6
    )
    result = gb.permutation_importance(model, frame, labels, n_repeats=3, seed=0)
    assert result.importances_mean.shape == (4,)
    assert result.importances_mean[0] > 0.05  # colour drives the label


def test_partial_dependence_of_a_string_column_is_over_its_values():
    frame = mixed_frame()
    model, _ = mixed_pipeline(frame)
    result = gb.partial_dependence(model, frame, [0], kind="both")
    assert sorted(result.grid_values[0].tolist()) == ["blue", "green", "red"]
    # each grid point: the model on every row with the column set to that value (the literal PD)
    for k, value in enumerate(result.grid_values[0]):
        rows = frame.copy()
        rows["colour"] = value
        np.testing.assert_allclose(
            result.average[:, k], model.predict_proba(rows).mean(axis=0), atol=1e-6
        )
    numeric = gb.partial_dependence(model, frame, [1], grid_resolution=5)  # NaN rows kept
    assert np.isfinite(numeric.average).all() and numeric.grid_values[0].size == 5


def test_methods_that_compute_on_values_refuse_missing_values_by_name():
    frame = mixed_frame()
    model, _ = mixed_pipeline(frame)
    with pytest.raises(ValueError, match=r"ale .*intervals.*'size' has missing values"):
        gb.ale(model, frame, [1])
    assert gb.ale(model, frame, [2]).values.shape[-1] >= 1  # the int column: fine
    with pytest.raises(TypeError, match=r"needs numbers.*\['colour'\]"):
        gb.ale(model, frame, [0])
    with pytest.raises(ValueError, match=r"Lime computes on the values.*'size'"):
        gb.Lime(model, training_data=frame.dropna(), num_samples=50)(frame.iloc[:2], target=1)


def test_lime_samples_string_columns_as_categories():
    frame = mixed_frame().dropna()
    model, _ = mixed_pipeline(frame)
    record = Recorder(model.predict_proba)  # numeric columns are sampled: new values
    exp = gb.Lime(record, training_data=frame, num_samples=200, num_features=4)(
        frame.iloc[:2], target=1
    )
    assert exp.values.shape == (2, 4) and np.isfinite(exp.values).all()
    assert all(set(seen["colour"]) <= {"red", "green", "blue"} for seen in record.frames)


def test_native_models_take_numeric_frames_and_name_what_they_refuse():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    model = gb.from_torch(net)
    frame = pd.DataFrame({"a": [0.1, 0.2], "b": [1, 2], "c": [0.5, -0.5]})
    exp = gb.IntegratedGradients(model)(frame, target=1)
    expected = gb.IntegratedGradients(model)(frame.to_numpy(np.float32), target=1)
    np.testing.assert_array_equal(exp.values, expected.values)
    assert exp.feature_names == ["a", "b", "c"]
    missing = frame.assign(a=[np.nan, 0.2])
    with pytest.raises(ValueError, match=r"IntegratedGradients computes on the values.*'a'"):
        gb.IntegratedGradients(model)(missing, target=1)
    with pytest.raises(ValueError, match=r"partial_dependence computes on the values.*'a'"):
        gb.partial_dependence(model, missing, [1])
    strings = frame.assign(b=["x", "y"])
    with pytest.raises(TypeError, match=r"\['b'\] are not numeric.*native network"):
        gb.KernelShap(model, background=strings)(strings, target=0)


def test_later_frames_must_have_the_same_columns():
    frame = mixed_frame()
    model, _ = mixed_pipeline(frame)
    explainer = gb.KernelShap(model, background=frame.iloc[:10], n_samples=40)
    with pytest.raises(ValueError, match=r"columns differ.*missing \['kind'\]"):
        explainer(frame.drop(columns="kind").iloc[:2], target=1)
    with pytest.raises(ValueError, match="same columns in another order"):
        explainer(frame[["size", "colour", "count", "kind"]].iloc[:2], target=1)
    with pytest.raises(TypeError, match=r"given a DataFrame .* not an array"):
        explainer(np.zeros((2, 4)), target=1)


def test_polars_frames():
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(1)
    frame = pl.DataFrame(
        {"a": rng.normal(size=40), "b": rng.integers(0, 3, 40), "c": rng.choice(["x", "y"], 40)}
    )
    seen = []

    def model(rows):
        seen.append((type(rows).__name__, rows.schema))
        c = (rows["c"] == "x").to_numpy()
        return rows["a"].to_numpy() * 2 + rows["b"].to_numpy() + c

    exp = gb.ExactShapley(model, background=frame[:10])(frame[:3])
    assert {name for name, _ in seen} == {"DataFrame"}
    assert all(schema == frame.schema for _, schema in seen)
    assert exp.feature_names == ["a", "b", "c"]
    fx, base = model(frame[:3]), model(frame[:10]).mean()
    np.testing.assert_allclose(exp.values.sum(axis=1), fx - base, atol=1e-5)
    result = gb.permutation_importance(model, frame, model(frame), metric="r2", seed=0)
    assert result.importances_mean[0] > result.importances_mean[2] > 0


class NoArrayFunction:
    """An array-like whose ``__array_function__`` must never be called (np.shape would)."""

    def __init__(self, array):
        self.array = array

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)

    def __array_function__(self, *args, **kwargs):
        raise AssertionError("__array_function__ was called")


def test_array_likes_are_read_through_array_only():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    model = gb.wrap(lambda rows: rows @ np.arange(1.0, 4.0), n_inputs=3)
    exp = gb.KernelShap(model, background=NoArrayFunction(X[:10]))(NoArrayFunction(X[:2]))
    np.testing.assert_allclose(
        exp.values, (X[:2] - X[:10].mean(axis=0)) * np.arange(1.0, 4.0), atol=1e-5
    )
    y = X @ np.arange(1.0, 4.0)
    assert (
        gb.permutation_importance(model, NoArrayFunction(X), y, metric="r2").importances_mean[2] > 0
    )
    assert gb.partial_dependence(model, NoArrayFunction(X), [0], grid_resolution=4).average.size


def test_schema_round_trips_values_float32_cannot_hold():
    frame = pd.DataFrame(
        {"x": [0.1, 1e-9 + 1.0, 123456789.123], "n": [2**40 + 1, 3, 4], "s": ["a", None, "b"]}
    )
    schema = Schema.of(frame)
    rows = read_table(frame, schema).rows
    assert rows.dtype == np.float32
    back = schema.decode(rows)
    pd.testing.assert_frame_equal(back, frame)
    assert schema.coded == ["s"]


def test_missing_values_in_an_array_reach_a_model_that_imputes():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    X[::5, 1] = np.nan
    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X, y)
    exp = gb.KernelShap(model, background=X[:20], n_samples=6)(X[:5], target=1)
    fx = model.predict_proba(X[:5])[:, 1]
    np.testing.assert_allclose(
        exp.values.sum(axis=1), fx - model.predict_proba(X[:20])[:, 1].mean(), atol=2e-6
    )
    assert np.isnan(exp.data[0, 1])  # row 0 is explained with its missing value
    result = gb.permutation_importance(model, X, y, n_repeats=2, seed=0)
    assert result.importances_mean[0] > result.importances_mean[2]
    # a model that does not impute returns NaN: named, not silently averaged
    plain = gb.wrap(lambda rows: rows.sum(axis=1), n_inputs=3)
    with pytest.raises(ValueError, match=r"not finite for rows \[0"):
        gb.KernelShap(plain, background=X[1:4], n_samples=6)(X[:2])


def test_surrogate_tree_refuses_string_columns_and_takes_numeric_frames():
    frame = mixed_frame()
    model, _ = mixed_pipeline(frame)
    with pytest.raises(TypeError, match=r"surrogate_tree needs numbers.*\['colour', 'kind'\]"):
        gb.surrogate_tree(model, frame)
    numeric = frame[["size", "count"]]
    tree = gb.surrogate_tree(lambda rows: rows["size"].fillna(0) + rows["count"], numeric)
    assert tree.feature_names == ["size", "count"]


def test_explanation_data_holds_the_values_given():
    frame = pd.DataFrame({"a": [122.8, 0.1], "b": [1.0, 2.0]})
    model = gb.wrap(lambda rows: rows["a"] + rows["b"], n_inputs=2)
    exp = gb.KernelShap(model, background=frame)(frame)
    assert exp.data.dtype == np.float64 and exp.data[0, 0] == 122.8 and exp.data[1, 0] == 0.1
    floats = frame.astype(np.float32)
    assert gb.KernelShap(model, background=floats)(floats).data.dtype == np.float32


def test_object_columns_code_every_missing_marker_as_one_value():
    frame = pd.DataFrame({"s": pd.Series(["a", None, np.nan, "b", "a", pd.NA], dtype=object)})
    schema = Schema.of(frame)
    rows = schema.encode(frame)
    np.testing.assert_array_equal(rows[:, 0], [0, 1, 1, 2, 0, 1])  # codes by first appearance
    assert schema.columns[0].table == ["a", None, "b"]
    assert schema.decode(rows)["s"].isna().tolist() == [False, True, True, False, False, True]
