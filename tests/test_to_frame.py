"""to_frame() / to_pandas() on every result type: the tables hold exactly the result's arrays,
under the data's and the model's names (or the defaults), in the documented wide and long
layouts; pandas is imported only when a table is built."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import glassbox as gb
from glassbox.explanation import Explanation

pd = pytest.importorskip("pandas")

NAMES = ["a", "b", "c"]
OUTPUTS = ["lo", "hi"]


def two_outputs(X: np.ndarray) -> np.ndarray:
    return np.stack([X[:, 0] * X[:, 1] + X[:, 2], np.tanh(X[:, 0] - X[:, 2])], axis=1)


@pytest.fixture(scope="module")
def model() -> gb.CallableModel:
    wrapped = gb.wrap(two_outputs, n_inputs=3)
    wrapped.feature_names, wrapped.output_names = list(NAMES), list(OUTPUTS)
    return wrapped


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.round(np.random.default_rng(3).normal(size=(60, 3)), 1)


def test_explanation_wide_and_long_with_a_target(model: gb.CallableModel, X: np.ndarray) -> None:
    exp = gb.KernelShap(model, background=X[:10], n_samples=32)(X[:4], target=[0, 1, 1, 0])
    wide = exp.to_frame()
    assert list(wide.columns) == NAMES and wide.index.name == "row"
    np.testing.assert_array_equal(wide.to_numpy(), exp.values)
    long = exp.to_pandas("long")
    assert list(long.columns) == ["row", "feature", "output", "value", "data", "stderr"]
    assert len(long) == 12 and long["feature"].tolist()[:3] == NAMES
    assert long["output"].tolist()[::3] == ["lo", "hi", "hi", "lo"]
    np.testing.assert_array_equal(long["value"], exp.values.ravel())
    np.testing.assert_array_equal(long["data"], exp.data.ravel())
    np.testing.assert_array_equal(long["stderr"], exp.stderr.ravel())
    back = long.pivot(index="row", columns="feature", values="value")[NAMES]
    np.testing.assert_array_equal(back.to_numpy(), exp.values)


def test_explanation_every_output(model: gb.CallableModel, X: np.ndarray) -> None:
    exp = gb.ExactShapley(model, background=X[:10])(X[:3])  # values (rows, features, outputs)
    assert exp.values.shape == (3, 3, 2)
    wide = exp.to_frame()
    assert wide.columns.names == ["feature", "output"]
    np.testing.assert_array_equal(wide[("b", "hi")], exp.values[:, 1, 1])
    np.testing.assert_array_equal(wide["c"].to_numpy(), exp.values[:, 2, :])
    long = exp.to_frame("long")
    assert len(long) == 18 and "stderr" not in long
    row = long[(long["row"] == 2) & (long["feature"] == "a") & (long["output"] == "lo")]
    assert row["value"].item() == exp.values[2, 0, 0] and row["data"].item() == exp.data[2, 0]


def test_explanation_groups_single_row_and_defaults(X: np.ndarray) -> None:
    unnamed = gb.wrap(two_outputs, n_inputs=3)
    explainer = gb.ExactShapley(unnamed, background=X[:5], groups={"ab": [0, 1], "c": [2]})
    exp = explainer(X[:2], target=1)
    long = exp.to_frame("long")
    assert long["feature"].tolist() == ["ab", "c", "ab", "c"] and "data" not in long
    assert set(long["output"]) == {"output 1"}  # unnamed outputs: the default names
    one = gb.FeatureAblation(unnamed)(X[:2], target=0)[1]
    assert one.single_row
    assert one.to_frame().columns.tolist() == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(one.to_frame().to_numpy()[0], one.values)


def test_interaction_values_have_two_feature_axes(model: gb.CallableModel, X: np.ndarray) -> None:
    exp = gb.ShapleyInteractions(model, background=X[:5])(X[:2], target="lo")
    wide = exp.to_frame()
    assert wide.columns.names == ["feature_1", "feature_2"]
    np.testing.assert_array_equal(wide[("a", "b")], exp.values[:, 0, 1])
    long = exp.to_frame("long")
    assert long.columns.tolist() == ["row", "feature_1", "feature_2", "output", "value"]
    pair = long[(long["row"] == 1) & (long["feature_1"] == "c") & (long["feature_2"] == "a")]
    assert pair["value"].item() == exp.values[1, 2, 0] and set(long["output"]) == {"lo"}
    every = gb.ShapleyInteractions(model, background=X[:5])(X[:2]).to_frame("long")
    assert len(every) == 2 * 3 * 3 * 2 and set(every["output"]) == {"lo", "hi"}


def test_explanation_images_name_positions() -> None:
    exp = Explanation(
        values=np.arange(2 * 2 * 1 * 3, dtype=float).reshape(2, 2, 1, 3),
        data=np.ones((2, 2, 1, 3)),
    )
    wide = exp.to_frame()
    assert wide.columns[:4].tolist() == ["x0_0_0", "x0_0_1", "x0_0_2", "x1_0_0"]
    np.testing.assert_array_equal(wide.loc[1, "x1_0_2"], exp.values[1, 1, 0, 2])
    assert len(exp.to_frame("long")) == 12


def test_permutation_importance(model: gb.CallableModel, X: np.ndarray) -> None:
    y = two_outputs(X)[:, 0]
    single = gb.wrap(lambda A: two_outputs(A)[:, 0], n_inputs=3)
    single.feature_names = list(NAMES)
    result = gb.permutation_importance(single, X, y, metric="r2", n_repeats=4)
    wide = result.to_frame()
    assert wide.columns.tolist() == ["feature", "importances_mean", "importances_std"]
    assert wide["feature"].tolist() == NAMES
    np.testing.assert_array_equal(wide["importances_mean"], result.importances_mean)
    long = result.to_frame("long")
    assert long.columns.tolist() == ["feature", "repeat", "importance"] and len(long) == 12
    np.testing.assert_array_equal(long["importance"], result.importances.ravel())
    np.testing.assert_allclose(
        long.groupby("feature", sort=False)["importance"].std(ddof=0), result.importances_std
    )


def test_partial_dependence(model: gb.CallableModel, X: np.ndarray) -> None:
    result = gb.partial_dependence(model, X, ["a", "c"], grid_resolution=3, kind="both")
    wide = result.to_frame()
    assert wide.columns.tolist() == ["a", "c", "lo", "hi"] and len(wide) == 9
    np.testing.assert_array_equal(wide["hi"], result.average[1].ravel())
    np.testing.assert_array_equal(wide["c"].to_numpy()[:3], result.grid_values[1])
    long = result.to_frame("long")
    assert long.columns.tolist() == ["output", "row", "a", "c", "average", "individual"]
    assert len(long) == 2 * 60 * 9
    np.testing.assert_array_equal(long["individual"], result.individual.ravel())
    mean = long.groupby(["output", "a", "c"], sort=False)["individual"].mean()
    np.testing.assert_allclose(mean.to_numpy(), result.average.ravel(), rtol=1e-6)
    average = gb.partial_dependence(model, X, "b", target="hi", grid=[0.0, 1.0])
    assert average.to_frame("long").columns.tolist() == ["output", "b", "average"]
    individual = gb.partial_dependence(model, X, "b", grid=[0.0, 1.0], kind="individual")
    with pytest.raises(ValueError, match="to_frame\\('long'\\)"):
        individual.to_frame()


def test_ale(model: gb.CallableModel, X: np.ndarray) -> None:
    effect = gb.ale(model, X, "b", bins=4, target="lo")
    wide = effect.to_frame()
    assert wide.columns.tolist() == ["b", "lo"]
    np.testing.assert_array_equal(wide["b"], effect.edges[0])
    np.testing.assert_array_equal(wide["lo"], effect.values[0])
    pair = gb.ale(model, X, ["a", "b"], bins=3).to_frame("long")
    assert pair.columns.tolist() == ["output", "a", "b", "value"]


def test_h_statistic(model: gb.CallableModel, X: np.ndarray) -> None:
    h = gb.h_statistic(model, X, n_samples=30)
    wide = h.to_frame()
    assert wide.columns.tolist() == ["feature_1", "feature_2", "lo", "hi"]
    assert list(zip(wide["feature_1"], wide["feature_2"], strict=True)) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
    np.testing.assert_array_equal(wide[["lo", "hi"]].to_numpy(), h.pairwise)
    overall = h.to_pandas("long", which="overall")
    assert overall.columns.tolist() == ["feature", "output", "h2"]
    np.testing.assert_array_equal(overall["h2"], h.overall.ravel())
    with pytest.raises(ValueError, match="which"):
        gb.h_statistic(model, X, [("a", "b")], n_samples=30).to_frame(which="overall")


def test_surrogate_rules_select_their_rows(model: gb.CallableModel, X: np.ndarray) -> None:
    pytest.importorskip("sklearn")
    unnamed = gb.wrap(two_outputs, n_inputs=3)
    result = gb.surrogate_tree(unnamed, X, max_depth=3, X_test=X)
    rules = result.to_frame()
    assert rules.columns.tolist() == ["rule", "n_samples", "prediction"]
    assert len(rules) == result.tree.get_n_leaves() and rules["n_samples"].sum() == 60
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    predicted = result.tree.predict(X)
    for rule, count, label in rules.itertuples(index=False):
        rows = frame.query(rule).index.to_numpy()  # data on a 0.1 grid: thresholds are exact
        assert len(rows) == count
        assert {f"output {k}" for k in predicted[rows]} == {label}
    importances = result.to_frame("importances")
    np.testing.assert_array_equal(importances["importance"], result.tree.feature_importances_)
    regression = gb.surrogate_tree(model, X, max_depth=2, task="regression").to_frame()
    assert regression.columns.tolist() == ["rule", "n_samples", "lo", "hi"]
    assert regression["rule"].str.contains("a |b |c ", regex=True).all()


def test_kind_is_checked_and_pandas_is_optional(
    model: gb.CallableModel, X: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = gb.FeatureAblation(model)(X[:2], target="hi")
    with pytest.raises(ValueError, match="kind"):
        exp.to_frame("tall")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        exp.to_frame()
