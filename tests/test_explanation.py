"""Explanation: fields, len, row slicing, and conversion to shap.Explanation."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import glassbox as gb
from conftest import ARCH_BY_NAME, make_data, make_spec
from glassbox.explanation import Explanation
from glassbox.models.native import build_network

FEATURES = ["a", "b", "c", "d", "e"]
OUTPUTS = ["x", "y", "z"]
ROW_FIELDS = ("values", "data", "base_values", "target", "delta", "stderr")


@pytest.fixture(scope="module")
def named_model():
    spec = make_spec(ARCH_BY_NAME["tanh"])
    return build_network(spec, feature_names=FEATURES, output_names=OUTPUTS)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return make_data(5, n_rows=6)


@pytest.fixture(scope="module")
def shap_exp(named_model, X) -> Explanation:
    """An explanation with every optional field set (GradientShap has delta and stderr)."""
    R = make_data(5, n_rows=3, seed=9)
    return gb.GradientShap(named_model, n_samples=4, stdev=0.1, seed=2)(
        X, baselines=R, target=[0, 1, 2, 0, 1, 2]
    )


def test_fields(shap_exp: Explanation, X: np.ndarray) -> None:
    exp = shap_exp
    assert exp.values.shape == X.shape
    np.testing.assert_array_equal(exp.data, X)
    assert exp.data.dtype == np.float32
    assert exp.base_values.shape == (6,)
    assert exp.delta.shape == (6,)
    assert exp.stderr.shape == X.shape
    assert exp.target.dtype == np.int64
    np.testing.assert_array_equal(exp.target, [0, 1, 2, 0, 1, 2])
    assert exp.feature_names == FEATURES
    assert exp.output_names == OUTPUTS
    assert isinstance(exp.method, str) and exp.method
    assert exp.options.get("n_samples") == 4
    assert exp.options.get("seed") == 2


def test_options_record_the_configuration(named_model, X) -> None:
    exp = gb.IntegratedGradients(named_model, n_steps=7, method="riemann_middle")(X, target=1)
    assert exp.options.get("n_steps") == 7
    assert exp.options.get("method") == "riemann_middle"
    other = gb.Saliency(named_model, abs=False)(X, target=1)
    assert other.method != exp.method


def test_unnamed_model_has_no_names(X) -> None:
    exp = gb.Saliency(build_network(make_spec(ARCH_BY_NAME["relu"])))(X, target=0)
    assert exp.feature_names is None and exp.output_names is None


def test_len(shap_exp: Explanation) -> None:
    assert len(shap_exp) == 6
    assert len(shap_exp[1:4]) == 3
    assert len(shap_exp[np.array([0, 5])]) == 2


@pytest.mark.parametrize("i", [0, 3, -1, np.int64(2)])
def test_int_gives_one_row(shap_exp: Explanation, i) -> None:
    row = shap_exp[i]
    for name in ROW_FIELDS:
        np.testing.assert_array_equal(getattr(row, name), getattr(shap_exp, name)[i])
    assert row.values.shape == (5,)
    assert row.feature_names == FEATURES and row.output_names == OUTPUTS
    assert row.method == shap_exp.method and row.options == shap_exp.options


@pytest.mark.parametrize(
    "rows",
    [
        slice(1, 4),
        slice(None, None, 2),
        slice(4, None),
        np.array([5, 0, 2]),
        [1, 1, 3],
        np.array([True, False, True, False, False, True]),
    ],
    ids=["slice", "step", "tail", "index_array", "list", "mask"],
)
def test_slicing_selects_rows_of_every_row_field(shap_exp: Explanation, rows) -> None:
    part = shap_exp[rows]
    expected_n = len(np.arange(6)[rows])
    assert len(part) == expected_n
    for name in ROW_FIELDS:
        np.testing.assert_array_equal(getattr(part, name), getattr(shap_exp, name)[rows])
    assert part.values.shape == (expected_n, 5)
    assert part.feature_names == FEATURES


def test_none_fields_stay_none(named_model, X) -> None:
    exp = gb.Saliency(named_model)(X, target=0)
    assert exp.stderr is None
    assert exp[1:3].stderr is None and exp[2].stderr is None


def test_to_shap(shap_exp: Explanation) -> None:
    shap = pytest.importorskip("shap")
    converted = shap_exp.to_shap()
    assert isinstance(converted, shap.Explanation)
    np.testing.assert_array_equal(converted.values, shap_exp.values)
    np.testing.assert_array_equal(converted.base_values, shap_exp.base_values)
    np.testing.assert_array_equal(converted.data, shap_exp.data)
    assert list(converted.feature_names) == FEATURES
    one = shap_exp[2].to_shap()
    np.testing.assert_array_equal(one.values, shap_exp.values[2])


def test_to_shap_flattens_image_shaped_values() -> None:
    pytest.importorskip("shap")
    exp = Explanation(values=np.ones((3, 2, 2)), data=np.zeros((3, 2, 2), np.float32), method="t")
    assert exp.to_shap().values.shape == (3, 4)


def test_to_shap_without_shap_says_how_to_install(shap_exp: Explanation, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)  # makes `import shap` raise ImportError
    with pytest.raises(ImportError, match="pip install shap"):
        shap_exp.to_shap()


def test_to_shap_keeps_the_output_axis_of_multi_output_shapley_values() -> None:
    pytest.importorskip("shap")
    model = gb.wrap(lambda X: np.stack([X.sum(axis=1), X[:, 0] * 2.0], axis=1), n_inputs=3)
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    exp = gb.ExactShapley(model, background=np.zeros((1, 3), np.float32))(X)
    assert exp.values.shape == (4, 3, 2)
    converted = exp.to_shap()
    assert converted.values.shape == (4, 3, 2) and converted.data.shape == (4, 3)
    np.testing.assert_allclose(converted.values[:, :, 1], np.c_[2 * X[:, 0], np.zeros((4, 2))])
    one = exp[1].to_shap()
    assert one.values.shape == (3, 2) and np.shape(one.base_values) == (2,)
