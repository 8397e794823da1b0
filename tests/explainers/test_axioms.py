"""Property tests (hypothesis) for the axioms the gradient explainers must satisfy.

- IG completeness: on smooth networks the gap ``delta`` vanishes as Gauss-Legendre steps grow; on
  a one-hidden-layer ReLU network the Riemann rules' gap is bounded by the kinks the path crosses.
- Linearity: on a purely linear network IG is exactly ``(x - b) * w`` for every rule.
- GradientSHAP efficiency holds in expectation on a linear network.
- Input x gradient equals IG on linear networks with a zero baseline and no bias.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassbox as gb
from conftest import Arch, build, make_spec
from glassbox.models.spec import NetworkSpec
from reference.network import forward

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")
SMOOTH = {
    "tanh": ("tanh", {}),
    "sigmoid": ("sigmoid", {}),
    "gelu": ("gelu", {"approximate": "none"}),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}),
    "silu": ("silu", {}),
    "softplus": ("softplus", {"beta": 1.0, "threshold": 20.0}),
}

seeds = st.integers(0, 2**31 - 1)
widths = st.integers(1, 6)


def rows(n: int, d: int, bound: float = 2.0) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float32, (n, d), elements=st.floats(-bound, bound, width=32))


@st.composite
def smooth_case(draw: st.DrawFn) -> tuple[Arch, int, np.ndarray, np.ndarray]:
    kind, params = SMOOTH[draw(st.sampled_from(sorted(SMOOTH)))]
    d, hidden, k = draw(widths), draw(st.integers(1, 12)), draw(st.integers(1, 3))
    arch = Arch(
        "smooth",
        (d, hidden, hidden, k),
        kind,
        params,
        final=draw(st.sampled_from([None, "softmax"])),
    )
    n = draw(st.integers(1, 4))
    return arch, draw(seeds), draw(rows(n, d)), draw(rows(n, d))


@given(smooth_case(), st.data())
def test_ig_completeness_on_smooth_nets(case, data) -> None:
    arch, seed, X, B = case
    spec = make_spec(arch, seed)
    model = build(spec)
    target = data.draw(st.integers(0, arch.n_outputs - 1))
    out = forward(spec, X)[:, target] - forward(spec, B)[:, target]
    coarse = gb.IntegratedGradients(model, n_steps=2)(X, B, target=target).delta
    fine = gb.IntegratedGradients(model, n_steps=64)(X, B, target=target).delta
    floor = 2e-5 * (1.0 + np.abs(out))
    # 64 Gauss-Legendre points integrate these analytic paths to float32 precision ...
    assert np.all(np.abs(fine) <= floor + 1e-4 * np.abs(out)), (fine, out)
    # ... and refining never makes the gap larger than float32 noise
    assert np.all(np.abs(fine) <= np.abs(coarse) + floor)


@st.composite
def relu_case(draw: st.DrawFn) -> tuple[Arch, int, np.ndarray, np.ndarray]:
    d, hidden, k = draw(widths), draw(st.integers(1, 16)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 4))
    arch = Arch("relu1", (d, hidden, k), "relu")
    return arch, draw(seeds), draw(rows(n, d, 3.0)), draw(rows(n, d, 3.0))


@given(
    relu_case(),
    st.sampled_from(["riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"]),
    st.integers(2, 40),
    st.data(),
)
def test_ig_gap_on_relu_net_is_bounded_by_the_kinks(case, method, n_steps, data) -> None:
    """f = W2 relu(W1 x + b1) + b2 is piecewise linear along the path. Each hidden unit switches
    at most once, changing the integrand by |W2[t, j] * W1[j] . (x - b)|; a Riemann rule with
    cells of width h misjudges at most one cell per switch, so |delta| <= h * sum of the jumps."""
    arch, seed, X, B = case
    spec = make_spec(arch, seed)
    target = data.draw(st.integers(0, arch.n_outputs - 1))
    exp = gb.IntegratedGradients(build(spec), n_steps=n_steps, method=method)(X, B, target=target)
    W1 = spec.layers[0].weights["weight"].astype(np.float64)
    W2 = spec.layers[2].weights["weight"].astype(np.float64)
    jumps = np.abs(W2[target])[None, :] * np.abs((X.astype(np.float64) - B) @ W1.T)
    width = 1.0 / (n_steps - 1 if method == "riemann_trapezoid" else n_steps)
    out = forward(spec, X)[:, target]
    bound = width * jumps.sum(axis=1) + 2e-5 * (1.0 + np.abs(out) + jumps.sum(axis=1))
    assert np.all(np.abs(exp.delta) <= bound), (exp.delta, bound)


@st.composite
def linear_case(draw: st.DrawFn):
    """A purely linear net: dense -> identity -> dropout -> dense (no activation)."""
    d, hidden, k, n = (
        draw(widths),
        draw(st.integers(1, 5)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 5)),
    )
    rng = np.random.default_rng(draw(seeds))
    W1, W2 = rng.normal(size=(hidden, d)), rng.normal(size=(k, hidden))
    b1, b2 = rng.normal(size=hidden), rng.normal(size=k)
    return (W1, b1, W2, b2), draw(rows(n, d)), draw(rows(n, d))


def linear_net(W1, b1, W2, b2) -> tuple[NetworkSpec, object, np.ndarray]:
    """The spec, its native model, and the effective weight matrix ``W2 @ W1`` (float64)."""
    spec = NetworkSpec(input_shape=(W1.shape[1],))
    spec.add("dense", "fc0", weight=W1, bias=b1)
    spec.add("identity", "id")
    spec.add("dropout", "drop", params={"p": 0.3})
    spec.add("dense", "fc1", weight=W2, bias=b2)
    w1, w2 = (spec.layers[i].weights["weight"].astype(np.float64) for i in (0, 3))
    return spec, build(spec), w2 @ w1


@given(linear_case(), st.sampled_from(METHODS), st.integers(1, 20), st.data())
def test_ig_is_exact_on_linear_nets(case, method, n_steps, data) -> None:
    weights, X, B = case
    if method == "riemann_trapezoid":
        n_steps = max(n_steps, 2)
    _, model, w = linear_net(*weights)
    target = data.draw(st.integers(0, w.shape[0] - 1))
    exp = gb.IntegratedGradients(model, n_steps=n_steps, method=method)(X, B, target=target)
    expected = (X.astype(np.float64) - B) * w[target]
    scale = 1.0 + np.abs(expected).max()
    np.testing.assert_allclose(exp.values, expected, rtol=1e-4, atol=2e-5 * scale)
    assert np.all(np.abs(exp.delta) <= 5e-5 * (scale + np.abs(expected).sum(axis=1)))


@given(linear_case(), st.integers(1, 6), st.floats(0.0, 1.0), seeds)
def test_gradient_shap_efficiency_in_expectation_on_linear_nets(case, m, stdev, seed) -> None:
    """On a linear net each draw sums to f(x + stdev e) - f(R_j), so sum(values) - (f(x) -
    mean f(R)) is a mean of zero-mean draws with sd sqrt(var_j f(R_j) + stdev^2 |w|^2)."""
    weights, X, _ = case
    spec, model, w = linear_net(*weights)
    R = np.random.default_rng(seed).normal(size=(m, X.shape[1])).astype(np.float32)
    n = 400
    exp = gb.GradientShap(model, n_samples=n, stdev=stdev, seed=seed)(X, baselines=R, target=0)
    f_R, f_X = forward(spec, R)[:, 0], forward(spec, X)[:, 0]
    sd = np.sqrt(f_R.var() + stdev**2 * np.sum(w[0] ** 2))
    size = 1.0 + np.abs(f_X).max() + np.abs(f_R).max() + np.abs(exp.values).sum(axis=1)
    assert np.all(np.abs(exp.delta) <= 6.0 * sd / np.sqrt(n) + 5e-5 * size)
    np.testing.assert_allclose(exp.base_values, np.full(len(X), f_R.mean()), atol=2e-5 * size.max())
    if m == 1 and stdev == 0.0:  # no randomness left: efficiency holds exactly
        assert np.all(np.abs(exp.delta) <= 5e-5 * size)


@given(linear_case(), st.sampled_from(METHODS), st.integers(2, 10), st.data())
def test_input_x_gradient_equals_ig_on_unbiased_linear_nets(case, method, n_steps, data) -> None:
    (W1, _, W2, _), X, _ = case
    _, model, w = linear_net(W1, None, W2, None)
    target = data.draw(st.integers(0, w.shape[0] - 1))
    ixg = gb.InputXGradient(model)(X, target=target)
    ig = gb.IntegratedGradients(model, n_steps=n_steps, method=method)(X, 0.0, target=target)
    scale = 1.0 + np.abs(ixg.values).max()
    np.testing.assert_allclose(ig.values, ixg.values, rtol=1e-4, atol=2e-5 * scale)
    np.testing.assert_allclose(ixg.values, X * w[target], rtol=1e-4, atol=2e-5 * scale)
