"""Honest numbers: a model whose outputs are NaN / Inf on the rows given is an error naming the
rows; a result that overflows although the model's outputs are finite warns (NonFiniteWarning)
naming the rows. docs/methods.md, "Input limits and non-finite results", has the policy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassbox as gb
from glassbox.errors import NonFiniteWarning

D = 4
RNG = np.random.default_rng(0)
TRAIN = RNG.normal(size=(50, D)).astype(np.float32)
BACKGROUND = RNG.normal(size=(5, D)).astype(np.float32)
INF_ROWS = r"model output is not finite for rows \[1, 3\] \(2 rows\)"


def _rows_with_inf() -> np.ndarray:
    """Five rows; rows 1 and 3 are where the models below give Inf."""
    rows = np.zeros((5, D), np.float32)
    rows[[1, 3]] = 1.0
    rows[4] = -1.0
    return rows


X = _rows_with_inf()


def _python_inf(rows: np.ndarray) -> np.ndarray:
    return np.where(rows.sum(axis=1) > 2, np.inf, rows.sum(axis=1))


PY_INF = gb.wrap(_python_inf, n_inputs=D)


def _two_layers(scale_in: float, activation: str, scale_out: float) -> gb.NativeModel:
    spec = gb.NetworkSpec(input_shape=(D,))
    spec.add("dense", "fc0", weight=scale_in * np.eye(D), bias=np.zeros(D))
    spec.add(activation, "act")
    spec.add("dense", "fc1", weight=scale_out * np.ones((1, D)), bias=np.zeros(1))
    return gb.build_network(spec)


# 1e20 * relu(1e20 x) overflows float32 wherever a feature is positive: rows 1 and 3
NATIVE_INF = _two_layers(1e20, "relu", 1e20)
# 1e10 * tanh(1e30 x) is finite everywhere; its gradient at 0 (1e40) is not
STEEP_TANH = _two_layers(1e30, "tanh", 1e10)

PYTHON_CASES = {
    "KernelShap": lambda: gb.KernelShap(PY_INF, background=BACKGROUND)(X),
    "ExactShapley": lambda: gb.ExactShapley(PY_INF, background=BACKGROUND)(X),
    "Lime": lambda: gb.Lime(PY_INF, TRAIN, num_samples=50)(X),
    "FeatureAblation": lambda: gb.FeatureAblation(PY_INF)(X),
    "permutation_importance": lambda: gb.permutation_importance(
        PY_INF, X, np.zeros(5), metric="r2"
    ),
    "permutation_importance (callable metric)": lambda: gb.permutation_importance(
        PY_INF, X, np.zeros(5), metric=lambda y, p: float(np.mean(p))
    ),
    "partial_dependence": lambda: gb.partial_dependence(PY_INF, X, 0, grid=[0.0, 1.0]),
    "ale": lambda: gb.ale(PY_INF, X, 0),
    "h_statistic": lambda: gb.h_statistic(PY_INF, X),
    "surrogate_tree": lambda: gb.surrogate_tree(PY_INF, X),
}

NATIVE_CASES = {
    "Saliency": lambda: gb.Saliency(NATIVE_INF)(X),
    "IntegratedGradients": lambda: gb.IntegratedGradients(NATIVE_INF, n_steps=8)(X),
    "SmoothGrad": lambda: gb.SmoothGrad(NATIVE_INF, n_samples=4, stdev=0.01)(X),
    "LRP": lambda: gb.LRP(NATIVE_INF)(X),
    "KernelShap": lambda: gb.KernelShap(NATIVE_INF, background=np.zeros(D))(X),
    "Lime": lambda: gb.Lime(NATIVE_INF, TRAIN, num_samples=50)(X),
    "Occlusion": lambda: gb.Occlusion(NATIVE_INF, (2,), strides=2)(X),
    "permutation_importance": lambda: gb.permutation_importance(
        NATIVE_INF, X, np.arange(5.0), metric="r2"
    ),
    "partial_dependence": lambda: gb.partial_dependence(NATIVE_INF, X, 0, grid=[0.0, 1.0]),
    "ale": lambda: gb.ale(NATIVE_INF, X, 0),
}


@pytest.mark.parametrize("name", sorted(PYTHON_CASES))
def test_python_model_with_inf_outputs_names_the_rows(name):
    with pytest.raises(ValueError, match=INF_ROWS):
        PYTHON_CASES[name]()


@pytest.mark.parametrize("name", sorted(NATIVE_CASES))
def test_native_network_overflowing_names_the_rows(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own, on the inf values
        with pytest.raises(ValueError, match=INF_ROWS):
            NATIVE_CASES[name]()


def test_inf_only_at_perturbed_points_is_an_error_saying_so():
    rows = np.full((2, D), 0.4, np.float32)  # finite here; the ablation baseline 1.0 is not
    with pytest.raises(ValueError, match="not finite at points the method evaluated"):
        gb.FeatureAblation(PY_INF, baselines=1.0)(rows)


def test_overflow_in_the_method_warns_naming_the_rows():
    rows = np.zeros((3, D), np.float32)
    rows[1] = 1.0  # tanh saturated: gradient 0; rows 0 and 2 sit on the 1e40 slope
    assert np.isfinite(STEEP_TANH.predict(rows)).all()
    with pytest.warns(NonFiniteWarning, match=r"Saliency: .*\(values\).* rows \[0, 2\] \(2 rows\)"):
        exp = gb.Saliency(STEEP_TANH)(rows)
    assert np.isinf(exp.values[[0, 2]]).all() and np.isfinite(exp.values[1]).all()


def test_inspection_overflow_beyond_the_data_warns():
    model = _two_layers(1e20, "relu", 1e20)
    rows = -np.abs(RNG.normal(size=(20, D))).astype(np.float32)  # outputs 0: finite
    with pytest.warns(NonFiniteWarning, match=r"partial_dependence: the result \(average\)"):
        gb.partial_dependence(model, rows, 0, grid=[-1.0, 1.0], extrapolate=True)


def test_finite_results_cost_no_extra_model_call(monkeypatch):
    import glassbox.explainers.base as base

    def forbidden(*args, **kwargs):
        raise AssertionError("the model was evaluated again")

    monkeypatch.setattr(base, "evaluate", forbidden)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gb.Saliency(STEEP_TANH)(np.ones((3, D), np.float32))
        gb.KernelShap(gb.wrap(lambda r: r.sum(axis=1), n_inputs=D), background=BACKGROUND)(X)


def test_describe_rows_lists_the_first_ten():
    from glassbox._validation import describe_rows

    assert describe_rows([5]) == "rows [5] (1 row)"
    assert describe_rows(np.arange(3, 30)).endswith("12, ...] (27 rows)")
