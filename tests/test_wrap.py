"""glassbox.wrap: any batch function as a model; gradient explainers refuse it."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import make_data

W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]], np.float32)


def linear(X: np.ndarray) -> np.ndarray:
    return X @ W.T


def test_predict_matches_fn() -> None:
    model = gb.wrap(linear, n_inputs=3)
    X = make_data(3, n_rows=5)
    out = model.predict(X)
    assert out.dtype == np.float32 and out.shape == (5, 2)
    np.testing.assert_allclose(out, X @ W.T, rtol=1e-6)
    assert model.n_inputs == 3
    assert model.n_outputs == 2


def test_one_dimensional_output_is_one_column() -> None:
    model = gb.wrap(lambda X: X.sum(axis=1), n_inputs=3)
    X = make_data(3, n_rows=4).astype(np.float64)
    np.testing.assert_allclose(model.predict(X), X.sum(axis=1, keepdims=True), rtol=1e-6)
    assert model.n_outputs == 1


def test_declared_n_outputs() -> None:
    assert gb.wrap(linear, n_inputs=3, n_outputs=2).n_outputs == 2
    with pytest.raises(ValueError, match="fn"):
        gb.wrap(linear, n_inputs=3, n_outputs=3).predict(make_data(3, n_rows=2))


@pytest.mark.parametrize(
    "fn",
    [
        lambda X: np.zeros((len(X) + 1, 2)),
        lambda X: np.zeros((len(X), 2, 2)),
        lambda X: np.zeros(len(X) - 1),
        lambda X: 1.0,
    ],
    ids=["extra_row", "rank3", "short", "scalar"],
)
def test_bad_fn_output_shape(fn) -> None:
    with pytest.raises(ValueError, match="fn"):
        gb.wrap(fn, n_inputs=3).predict(make_data(3, n_rows=4))


def test_non_numeric_fn_output() -> None:
    with pytest.raises(TypeError, match="fn"):
        gb.wrap(lambda X: np.array([["a"]] * len(X)), n_inputs=3).predict(make_data(3, n_rows=2))


def test_fn_cannot_modify_callers_X() -> None:
    def scribble(X: np.ndarray) -> np.ndarray:
        X[...] = 0.0
        return X[:, :1]

    X = make_data(3, n_rows=4)
    before = X.copy()
    gb.wrap(scribble, n_inputs=3).predict(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("X", [np.ones((2, 4)), np.ones(3), np.zeros((0, 3))], ids=str)
def test_predict_validates_X(X) -> None:
    with pytest.raises(ValueError, match=r"\bX\b"):
        gb.wrap(linear, n_inputs=3).predict(X)


def test_predict_passes_nan_to_the_function_and_names_nonfinite_outputs() -> None:
    X = make_data(3, n_rows=3)
    X[1, 1] = np.nan
    imputed = gb.wrap(lambda Z: np.nan_to_num(Z).sum(axis=1), n_inputs=3).predict(X)
    np.testing.assert_allclose(imputed[:, 0], np.nan_to_num(X).sum(axis=1), rtol=1e-6)
    with pytest.raises(ValueError, match=r"predict: model output is not finite for rows \[1\]"):
        gb.wrap(linear, n_inputs=3).predict(X)
    with pytest.raises(ValueError, match=r"X: contains Inf"):
        gb.wrap(linear, n_inputs=3).predict(np.where(np.isnan(X), np.inf, X))


def test_wrap_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="fn"):
        gb.wrap(np.ones(3), n_inputs=3)
    with pytest.raises(ValueError, match="n_inputs"):
        gb.wrap(linear, n_inputs=0)
    with pytest.raises(TypeError, match="n_inputs"):
        gb.wrap(linear, n_inputs=2.5)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: gb.Saliency(m),
        lambda m: gb.InputXGradient(m),
        lambda m: gb.IntegratedGradients(m),
        lambda m: gb.SmoothGrad(m),
        lambda m: gb.GradientShap(m),
    ],
    ids=["saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "gradient_shap"],
)
def test_gradient_explainers_reject_callable_models(make) -> None:
    model = gb.wrap(linear, n_inputs=3)
    with pytest.raises(TypeError, match="native"):
        make(model)
