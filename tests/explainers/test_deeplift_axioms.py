"""Property tests (hypothesis) for DeepLIFT: summation-to-delta (completeness) on networks of
element-wise activations, for one reference (DeepLift) and a reference distribution
(DeepLiftShap), and the exact linear case."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassbox as gb
from conftest import Arch, build, make_spec
from reference.network import forward

ACTIVATIONS = {
    "relu": {},
    "leaky_relu": {"negative_slope": 0.2},
    "elu": {"alpha": 0.7},
    "tanh": {},
    "sigmoid": {},
    "softplus": {"beta": 1.0, "threshold": 20.0},
    "gelu": {"approximate": "none"},
    "silu": {},
}


def rows(n: int, d: int, bound: float = 3.0) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float32, (n, d), elements=st.floats(-bound, bound, width=32))


@st.composite
def case(draw: st.DrawFn, m_max: int = 1) -> tuple[Arch, int, np.ndarray, np.ndarray, int]:
    kind = draw(st.sampled_from(sorted(ACTIVATIONS)))
    d, hidden, k = draw(st.integers(1, 6)), draw(st.integers(1, 12)), draw(st.integers(1, 3))
    depth = draw(st.integers(1, 3))
    arch = Arch("dl", (d, *([hidden] * depth), k), kind, dict(ACTIVATIONS[kind]))
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, m_max))
    target = draw(st.integers(0, k - 1))
    return arch, draw(st.integers(0, 2**31 - 1)), draw(rows(n, d)), draw(rows(m, d)), target


def tolerance(out: np.ndarray, values: np.ndarray) -> np.ndarray:
    # float32 rounding of the multipliers and of the two forward passes
    return 1e-4 * (1.0 + np.abs(out) + np.abs(values).sum(axis=1))


@given(case())
def test_deeplift_sums_to_the_output_difference(args) -> None:
    arch, seed, X, B, target = args
    spec = make_spec(arch, seed)
    exp = gb.DeepLift(build(spec))(X, baselines=B[0], target=target)
    out = forward(spec, X)[:, target] - forward(spec, B)[0, target]
    gap = exp.values.astype(np.float64).sum(axis=1) - out
    assert np.all(np.abs(gap) <= tolerance(out, exp.values)), (gap, out)
    assert np.all(np.abs(exp.delta) <= tolerance(out, exp.values)), exp.delta


@given(case(m_max=5))
def test_deeplift_shap_sums_to_the_mean_output_difference(args) -> None:
    arch, seed, X, R, target = args
    spec = make_spec(arch, seed)
    exp = gb.DeepLiftShap(build(spec))(X, baselines=R, target=target)
    out = forward(spec, X)[:, target] - forward(spec, R)[:, target].mean()
    gap = exp.values.astype(np.float64).sum(axis=1) - out
    assert np.all(np.abs(gap) <= tolerance(out, exp.values)), (gap, out)


@given(st.integers(1, 6), st.integers(0, 2**31 - 1), st.data())
def test_deeplift_on_linear_networks_is_exact(d: int, seed: int, data) -> None:
    arch = Arch("lin", (d, 2), None)
    spec = make_spec(arch, seed)
    X, B = data.draw(rows(3, d)), data.draw(rows(3, d))
    exp = gb.DeepLift(build(spec))(X, baselines=B, target=1)
    w = np.asarray(spec.layers[0].weights["weight"], np.float64)[1]
    np.testing.assert_allclose(exp.values, (X.astype(np.float64) - B) * w, rtol=1e-5, atol=1e-5)
