"""Every gradient explainer against the literal NumPy reference (``tests/reference``).

The native network computes in float32 and the reference in float64 from the same float32 weights
and inputs, so the comparisons use float32 tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import Net, build, make_data, make_image_spec, make_net
from glassbox import _core
from reference import gradients as ref
from reference.network import forward, target_rows

METHODS = ref.IG_METHODS


def assert_close(actual: np.ndarray, desired: np.ndarray, rtol: float = 1e-4, atol: float = 1e-5):
    """float32 tolerances; the absolute one scales with the size of the reference values."""
    desired = np.asarray(desired, dtype=np.float64)
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    assert np.shape(actual) == desired.shape
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), desired, rtol=rtol, atol=atol * scale
    )


def default_target(net: Net, n: int) -> np.ndarray | None:
    """One target per row cycling over the outputs, or None for a single-output network."""
    return None if net.arch.n_outputs == 1 else np.arange(n) % net.arch.n_outputs


def check_common(exp, X: np.ndarray, rows: np.ndarray) -> None:
    assert exp.values.shape == X.shape
    assert exp.data.dtype == np.float32
    np.testing.assert_array_equal(exp.data, X.astype(np.float32))
    assert exp.target.dtype == np.int64
    np.testing.assert_array_equal(exp.target, rows)
    assert isinstance(exp.method, str) and exp.method
    assert isinstance(exp.options, dict)


def f_target(net: Net, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = forward(net.spec, X)
    return out[np.arange(len(X)), rows]


@pytest.mark.parametrize("take_abs", [True, False])
def test_saliency(net: Net, take_abs: bool) -> None:
    X = make_data(net.arch.n_inputs)
    target = default_target(net, len(X))
    exp = gb.Saliency(net.model, abs=take_abs)(X, target=target)
    assert_close(exp.values, ref.saliency(net.spec, X, target, abs=take_abs))
    check_common(exp, X, target_rows(target, len(X), net.arch.n_outputs))
    if take_abs:
        assert np.all(exp.values >= 0)


def test_saliency_default_is_abs(relu_net: Net, X5: np.ndarray) -> None:
    exp = gb.Saliency(relu_net.model)(X5, target=2)
    assert_close(exp.values, ref.saliency(relu_net.spec, X5, 2, abs=True))


def test_input_x_gradient(net: Net) -> None:
    X = make_data(net.arch.n_inputs)
    target = default_target(net, len(X))
    exp = gb.InputXGradient(net.model)(X, target=target)
    values, delta = ref.input_x_gradient(net.spec, X, target)
    assert_close(exp.values, values)
    assert_close(exp.delta, delta, atol=5e-5)
    check_common(exp, X, target_rows(target, len(X), net.arch.n_outputs))


@pytest.mark.parametrize("method", METHODS)
def test_integrated_gradients(net: Net, method: str) -> None:
    X = make_data(net.arch.n_inputs)
    target = default_target(net, len(X))
    baselines = np.random.default_rng(9).normal(0, 0.5, X.shape).astype(np.float32)
    exp = gb.IntegratedGradients(net.model, n_steps=8, method=method)(X, baselines, target=target)
    values, delta = ref.integrated_gradients(net.spec, X, baselines, target, 8, method)
    rows = target_rows(target, len(X), net.arch.n_outputs)
    assert_close(exp.values, values)
    assert_close(exp.delta, delta, atol=5e-5)
    assert_close(exp.base_values, f_target(net, baselines, rows))
    check_common(exp, X, rows)


@pytest.mark.parametrize(
    ("method", "n_steps"),
    # the trapezoid rule needs two points (one is rejected: see test_bad_input)
    [(m, n) for m in METHODS for n in (1, 2, 3) if not (m == "riemann_trapezoid" and n < 2)],
)
def test_integrated_gradients_few_steps(method: str, n_steps: int) -> None:
    net = make_net("gelu")
    X = make_data(5)
    exp = gb.IntegratedGradients(net.model, n_steps=n_steps, method=method)(X, target=1)
    values, delta = ref.integrated_gradients(net.spec, X, 0.0, 1, n_steps, method)
    assert_close(exp.values, values)
    assert_close(exp.delta, delta, atol=5e-5)


def test_integrated_gradients_defaults(tanh_net: Net, X5: np.ndarray) -> None:
    """Defaults: 50 Gauss-Legendre steps from a zero baseline."""
    exp = gb.IntegratedGradients(tanh_net.model)(X5, target=0)
    values, delta = ref.integrated_gradients(tanh_net.spec, X5, 0.0, 0, 50, "gausslegendre")
    assert_close(exp.values, values)
    assert_close(exp.delta, delta, atol=5e-5)


BASELINE_KINDS = ["zero", "scalar", "row", "per_row"]


def make_baselines(kind: str, X: np.ndarray) -> float | np.ndarray:
    rng = np.random.default_rng(11)
    if kind == "zero":
        return 0.0
    if kind == "scalar":
        return 0.7
    if kind == "row":
        return rng.normal(size=X.shape[1:]).astype(np.float32)
    return rng.normal(size=X.shape).astype(np.float32)


@pytest.mark.parametrize("kind", BASELINE_KINDS)
@pytest.mark.parametrize("name", ["relu", "softplus", "gelu_softmax"])
def test_integrated_gradients_baselines(name: str, kind: str) -> None:
    net = make_net(name)
    X = make_data(5)
    baselines = make_baselines(kind, X)
    exp = gb.IntegratedGradients(net.model, n_steps=6, method="riemann_middle")(
        X, baselines=baselines, target=1
    )
    values, delta = ref.integrated_gradients(net.spec, X, baselines, 1, 6, "riemann_middle")
    assert_close(exp.values, values)
    assert_close(exp.delta, delta, atol=5e-5)


@pytest.mark.parametrize(
    "target",
    [
        0,
        2,
        np.int64(1),
        [2, 1, 0, 0, 1, 2, 2],
        (0, 0, 1, 1, 2, 2, 0),
        np.array([1, 0, 2, 2, 0, 1, 1]),
    ],
    ids=["int0", "int2", "np_int", "list", "tuple", "array"],
)
@pytest.mark.parametrize("explainer", ["saliency", "input_x_gradient", "ig"])
def test_targets_multi_output(relu_net: Net, X5: np.ndarray, target, explainer: str) -> None:
    spec = relu_net.spec
    if explainer == "saliency":
        exp = gb.Saliency(relu_net.model, abs=False)(X5, target=target)
        expected = ref.saliency(spec, X5, target, abs=False)
    elif explainer == "input_x_gradient":
        exp = gb.InputXGradient(relu_net.model)(X5, target=target)
        expected = ref.input_x_gradient(spec, X5, target)[0]
    else:
        exp = gb.IntegratedGradients(relu_net.model, n_steps=5)(X5, target=target)
        expected = ref.integrated_gradients(spec, X5, 0.0, target, 5, "gausslegendre")[0]
    assert_close(exp.values, expected)
    np.testing.assert_array_equal(exp.target, target_rows(target, len(X5), 3))


@pytest.mark.parametrize("target", [None, 0, [0] * 7], ids=["none", "int", "list"])
def test_targets_single_output(regression_net: Net, target) -> None:
    X = make_data(4)
    exp = gb.IntegratedGradients(regression_net.model, n_steps=7)(X, 0.2, target=target)
    values, delta = ref.integrated_gradients(regression_net.spec, X, 0.2, 0, 7, "gausslegendre")
    assert_close(exp.values, values)
    assert_close(exp.delta, delta, atol=5e-5)
    np.testing.assert_array_equal(exp.target, np.zeros(len(X), np.int64))


def test_float64_and_int_inputs_are_converted(relu_net: Net) -> None:
    X64 = make_data(5).astype(np.float64) * 3
    Xint = np.round(X64).astype(np.int32)
    for X in (X64, Xint):
        exp = gb.Saliency(relu_net.model, abs=False)(X, target=1)
        X32 = X.astype(np.float32)
        assert_close(exp.values, ref.saliency(relu_net.spec, X32, 1, abs=False))
        np.testing.assert_array_equal(exp.data, X32)


@pytest.mark.parametrize("nt_type", ["smoothgrad", "smoothgrad_sq", "vargrad"])
@pytest.mark.parametrize("base", ["gradient", "saliency", "input_x_gradient"])
@pytest.mark.parametrize("name", ["relu", "gelu_tanh", "tanh_log_softmax"])
def test_smoothgrad(name: str, nt_type: str, base: str) -> None:
    net = make_net(name)
    X = make_data(5, n_rows=5)
    n_samples, stdev, seed = 6, 0.4, 123
    exp = gb.SmoothGrad(
        net.model, n_samples=n_samples, stdev=stdev, nt_type=nt_type, base=base, seed=seed
    )(X, target=[0, 1, 2, 1, 0])
    noise = _core.normal_draws(seed, stream=0, n_rows=len(X), n_draws=n_samples, n_features=5)
    assert noise.shape == (len(X), n_samples, 5) and noise.dtype == np.float32
    values, stderr = ref.smoothgrad(net.spec, X, [0, 1, 2, 1, 0], noise, stdev, nt_type, base)
    assert_close(exp.values, values)
    if stderr is None:
        assert exp.stderr is None
    else:
        assert_close(exp.stderr, stderr, atol=2e-5)


def test_smoothgrad_defaults(regression_net: Net) -> None:
    """Defaults: 50 samples, stdev 1, plain gradient, seed 0, single output."""
    X = make_data(4, n_rows=3)
    exp = gb.SmoothGrad(regression_net.model)(X)
    noise = _core.normal_draws(0, stream=0, n_rows=3, n_draws=50, n_features=4)
    values, _ = ref.smoothgrad(regression_net.spec, X, None, noise, 1.0)
    assert_close(exp.values, values)


def shap_draws(seed: int, n: int, n_samples: int, d: int, m: int):
    noise = _core.normal_draws(seed, stream=1, n_rows=n, n_draws=n_samples, n_features=d)
    alphas = _core.uniform_draws(seed, stream=2, n_rows=n, n_draws=n_samples)
    indices = _core.index_draws(seed, stream=3, n_rows=n, n_draws=n_samples, n=m)
    assert alphas.dtype == np.float64 and np.all((alphas >= 0) & (alphas < 1))
    assert indices.dtype == np.int64 and np.all((indices >= 0) & (indices < m))
    return indices, alphas.astype(np.float32), noise


@pytest.mark.parametrize("stdev", [0.0, 0.3])
@pytest.mark.parametrize("m", [1, 4])
def test_gradient_shap(net: Net, stdev: float, m: int) -> None:
    X = make_data(net.arch.n_inputs, n_rows=5)
    R = np.random.default_rng(21).normal(0, 0.7, (m, net.arch.n_inputs)).astype(np.float32)
    target = default_target(net, len(X))
    n_samples, seed = 6, 77
    exp = gb.GradientShap(net.model, n_samples=n_samples, stdev=stdev, seed=seed)(
        X, baselines=R, target=target
    )
    indices, alphas, noise = shap_draws(seed, len(X), n_samples, net.arch.n_inputs, m)
    expected = ref.gradient_shap(net.spec, X, R, target, indices, alphas, noise, stdev)
    assert_close(exp.values, expected["values"])
    assert_close(exp.stderr, expected["stderr"], atol=2e-5)
    assert_close(exp.base_values, expected["base_values"])
    assert_close(exp.delta, expected["delta"], atol=5e-5)
    check_common(exp, X, target_rows(target, len(X), net.arch.n_outputs))


def test_gradient_shap_defaults(relu_net: Net, X5: np.ndarray) -> None:
    """Defaults: 5 samples, no noise, seed 0; a distribution of one baseline row."""
    R = np.full((1, 5), 0.25, np.float32)
    exp = gb.GradientShap(relu_net.model)(X5, baselines=R, target=2)
    indices, alphas, noise = shap_draws(0, len(X5), 5, 5, 1)
    expected = ref.gradient_shap(relu_net.spec, X5, R, 2, indices, alphas, noise, 0.0)
    assert_close(exp.values, expected["values"])


def test_multidimensional_input() -> None:
    """Input shape (2, 3) with a flatten layer: values keep the shape of X."""
    spec = make_image_spec(seed=4)
    model = build(spec)
    X = make_data((2, 3), n_rows=6, seed=8)
    rows = np.array([0, 1, 0, 1, 1, 0])
    B = np.full((2, 3), -0.2, np.float32)

    sal = gb.Saliency(model, abs=False)(X, target=rows)
    assert_close(sal.values, ref.saliency(spec, X, rows, abs=False))
    ixg = gb.InputXGradient(model)(X, target=rows)
    assert_close(ixg.values, ref.input_x_gradient(spec, X, rows)[0])
    ig = gb.IntegratedGradients(model, n_steps=9, method="riemann_trapezoid")(X, B, target=rows)
    values, delta = ref.integrated_gradients(spec, X, B, rows, 9, "riemann_trapezoid")
    assert_close(ig.values, values)
    assert_close(ig.delta, delta, atol=5e-5)

    sg = gb.SmoothGrad(model, n_samples=4, stdev=0.3, seed=5)(X, target=rows)
    noise = _core.normal_draws(5, stream=0, n_rows=6, n_draws=4, n_features=6)
    assert_close(sg.values, ref.smoothgrad(spec, X, rows, noise, 0.3)[0])

    R = np.random.default_rng(3).normal(size=(3, 2, 3)).astype(np.float32)
    gs = gb.GradientShap(model, n_samples=4, stdev=0.1, seed=5)(X, baselines=R, target=rows)
    indices, alphas, noise = shap_draws(5, 6, 4, 6, 3)
    expected = ref.gradient_shap(spec, X, R, rows, indices, alphas, noise, 0.1)
    assert_close(gs.values, expected["values"])
    assert_close(gs.delta, expected["delta"], atol=5e-5)
    for exp in (sal, ixg, ig, sg, gs):
        assert exp.values.shape == (6, 2, 3)
