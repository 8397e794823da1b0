"""Every public gradient explainer rejects every bad input of the contract with a clear
ValueError/TypeError that names the argument, and never modifies the caller's arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from conftest import make_data, make_net

D, N, K = 5, 6, 3  # width, rows and outputs of the test network


@pytest.fixture(scope="module")
def model() -> Any:
    return make_net("relu").model


def _R() -> np.ndarray:
    return make_data(D, n_rows=4, seed=3)


# name -> (explainer factory, does its call take baselines, default baselines)
EXPLAINERS: dict[str, tuple[Callable[..., Any], bool, Any]] = {
    "saliency": (lambda m, **kw: gb.Saliency(m, **kw), False, None),
    "input_x_gradient": (lambda m, **kw: gb.InputXGradient(m, **kw), False, None),
    "integrated_gradients": (
        lambda m, **kw: gb.IntegratedGradients(m, **{"n_steps": 4, **kw}),
        True,
        0.0,
    ),
    "smoothgrad": (lambda m, **kw: gb.SmoothGrad(m, **{"n_samples": 3, **kw}), False, None),
    "gradient_shap": (lambda m, **kw: gb.GradientShap(m, **{"n_samples": 3, **kw}), True, "R"),
}
ALL = list(EXPLAINERS)
WITH_BASELINES = [name for name in ALL if EXPLAINERS[name][1]]


def run(name: str, model: Any, X: Any, target: Any = 0, baselines: Any = "default", **ctor: Any):
    factory, takes_baselines, default = EXPLAINERS[name]
    explainer = factory(model, **ctor)
    if not takes_baselines:
        return explainer(X, target=target)
    if isinstance(baselines, str):
        baselines = _R() if default == "R" else default
    return explainer(X, baselines=baselines, target=target)


X_NAME = r"\bX\b"


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_X(model, name: str, bad: float, dtype) -> None:
    X = make_data(D, N).astype(dtype)
    X[2, 3] = bad
    with pytest.raises(ValueError, match=X_NAME):
        run(name, model, X)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", [(N, D + 1), (N, D - 1), (D,), (N, D, 1), (1, N, D), ()], ids=str)
def test_X_wrong_width_or_rank(model, name: str, shape: tuple[int, ...]) -> None:
    X = np.ones(shape, np.float32)
    with pytest.raises(ValueError, match=X_NAME):
        run(name, model, X)


@pytest.mark.parametrize("name", ALL)
def test_empty_X(model, name: str) -> None:
    with pytest.raises(ValueError, match=X_NAME):
        run(name, model, np.zeros((0, D), np.float32))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "target",
    [K, 100, -1, [0, 1, 2, 3, 0, 1], np.array([0, 0, 0, 0, 0, -2])],
    ids=["K", "100", "minus1", "row_K", "row_negative"],
)
def test_target_out_of_range(model, name: str, target: Any) -> None:
    with pytest.raises(ValueError, match="target"):
        run(name, model, make_data(D, N), target=target)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "target", [[0] * (N - 1), np.zeros(N + 1, np.int64)], ids=["short", "long"]
)
def test_target_wrong_length(model, name: str, target: Any) -> None:
    with pytest.raises(ValueError, match="target"):
        run(name, model, make_data(D, N), target=target)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("target", [np.zeros((N, 1), np.int64), []], ids=["2d", "empty"])
def test_target_wrong_shape(model, name: str, target: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="target"):
        run(name, model, make_data(D, N), target=target)


@pytest.mark.parametrize("name", ALL)
def test_target_none_needs_single_output(model, name: str) -> None:
    with pytest.raises(ValueError, match="target"):
        run(name, model, make_data(D, N), target=None)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "target", [1.5, "first", np.array([0.5] * N)], ids=["float", "str", "floats"]
)
def test_target_not_integer(model, name: str, target: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="target"):
        run(name, model, make_data(D, N), target=target)


@pytest.mark.parametrize(
    "baselines",
    [
        np.zeros(D + 1, np.float32),
        np.zeros((N + 1, D), np.float32),
        np.zeros((N, D + 1), np.float32),
        np.zeros((2, N, D), np.float32),
        np.zeros((0, D), np.float32),
    ],
    ids=["row_width", "rows", "width", "rank3", "empty"],
)
def test_ig_baselines_wrong_shape(model, baselines: np.ndarray) -> None:
    with pytest.raises(ValueError, match="baselines"):
        run("integrated_gradients", model, make_data(D, N), baselines=baselines)


@pytest.mark.parametrize(
    "baselines",
    [
        np.zeros((4, D + 1), np.float32),
        np.zeros((0, D), np.float32),
        np.zeros((2, 4, D), np.float32),
    ],
    ids=["width", "empty", "rank3"],
)
def test_gradient_shap_baselines_wrong_shape(model, baselines: np.ndarray) -> None:
    with pytest.raises(ValueError, match="baselines"):
        run("gradient_shap", model, make_data(D, N), baselines=baselines)


@pytest.mark.parametrize("name", WITH_BASELINES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_baselines(model, name: str, bad: float) -> None:
    R = _R()
    R[1, 2] = bad
    with pytest.raises(ValueError, match="baselines"):
        run(name, model, make_data(D, N), baselines=R)
    if name == "integrated_gradients":
        with pytest.raises(ValueError, match="baselines"):
            run(name, model, make_data(D, N), baselines=bad)


@pytest.mark.parametrize("n_steps", [0, -1])
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_left", "riemann_trapezoid"])
def test_n_steps_too_small(model, n_steps: int, method: str) -> None:
    with pytest.raises(ValueError, match="n_steps"):
        run("integrated_gradients", model, make_data(D, N), n_steps=n_steps, method=method)


def test_trapezoid_needs_two_steps(model) -> None:
    with pytest.raises(ValueError, match="n_steps"):
        run("integrated_gradients", model, make_data(D, N), n_steps=1, method="riemann_trapezoid")
    # one step is fine for the other rules
    run("integrated_gradients", model, make_data(D, N), n_steps=1, method="riemann_middle")


@pytest.mark.parametrize("method", ["riemann", "trapezoid", "gauss_legendre", ""])
def test_unknown_ig_method(model, method: str) -> None:
    with pytest.raises(ValueError, match="method"):
        run("integrated_gradients", model, make_data(D, N), method=method)


@pytest.mark.parametrize("name", ["smoothgrad", "gradient_shap"])
@pytest.mark.parametrize("n_samples", [0, -5])
def test_n_samples_too_small(model, name: str, n_samples: int) -> None:
    with pytest.raises(ValueError, match="n_samples"):
        run(name, model, make_data(D, N), n_samples=n_samples)


@pytest.mark.parametrize(("option", "value"), [("nt_type", "smooth"), ("base", "grad")])
def test_unknown_smoothgrad_option(model, option: str, value: str) -> None:
    with pytest.raises(ValueError, match=option):
        run("smoothgrad", model, make_data(D, N), **{option: value})


# ----------------------------------------------------------------------------------------------
# caller arrays are never modified
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_caller_arrays_not_modified(model, name: str, dtype) -> None:
    """float32 C-contiguous X reaches the core without a conversion copy, so any in-place
    change would show; the explanation must not alias the caller's arrays either."""
    X = make_data(D, N).astype(dtype)
    assert X.flags.c_contiguous
    target = np.arange(N) % K
    baselines: Any = "default"
    if name == "integrated_gradients":
        baselines = make_data(D, N, seed=5).astype(dtype)
    elif name == "gradient_shap":
        baselines = _R().astype(dtype)
    copies = [a.copy() for a in (X, target)]
    base_copy = None if isinstance(baselines, str) else baselines.copy()

    exp = run(name, model, X, target=target, baselines=baselines)

    np.testing.assert_array_equal(X, copies[0], strict=True)
    np.testing.assert_array_equal(target, copies[1], strict=True)
    if base_copy is not None:
        np.testing.assert_array_equal(baselines, base_copy, strict=True)
    # writing into the explanation (where it is writeable) must not write into the caller's data
    for field in (exp.data, exp.values):
        if field.flags.writeable:
            field[...] = 123.0
    np.testing.assert_array_equal(X, copies[0], strict=True)


@pytest.mark.parametrize("name", ALL)
def test_caller_arrays_not_modified_on_error(model, name: str) -> None:
    X = make_data(D, N)
    X[0, 0] = np.nan
    before = X.copy()
    with pytest.raises(ValueError):
        run(name, model, X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("name", ALL)
def test_read_only_input_is_accepted(model, name: str) -> None:
    X = make_data(D, N)
    X.setflags(write=False)
    exp = run(name, model, X, target=1)
    assert exp.values.shape == X.shape
