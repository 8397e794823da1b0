"""Captum as a peer oracle for the gradient explainers, on the same weights and data.

Deterministic methods (Saliency, InputXGradient, IntegratedGradients) must agree to float32
tolerance. Captum's ``riemann_trapezoid`` weights the points by ``1/n`` (ends halved) where ours is
the true trapezoid rule (``1/(n-1)``, ends halved), so Captum's result is exactly ours times
``(n-1)/n``. Sampled methods (NoiseTunnel, GradientShap) draw different random numbers, so they are
compared in expectation: exactly on linear models, and within a few standard errors otherwise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest

captum_attr = pytest.importorskip("captum.attr")
torch = pytest.importorskip("torch")

import glassbox as gb  # noqa: E402
from conftest import (  # noqa: E402
    ARCH_BY_NAME,
    ARCHS,
    Arch,
    TorchNet,
    build,
    make_data,
    make_linear_spec,
    make_spec,
    make_torch_net,
    torch_from_spec,
)

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")
NAMES = [a.name for a in ARCHS]
# A few architectures covering piecewise-linear, smooth and softmax heads, for the slower tests.
SOME = ["relu", "gelu", "softplus", "relu_softmax", "tanh_log_softmax"]


def tensor(X: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(X, dtype=np.float32), requires_grad=True)


def per_row_target(arch: Arch, n: int) -> list[int] | None:
    return None if arch.n_outputs == 1 else [i % arch.n_outputs for i in range(n)]


def close(actual, desired, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    desired = desired.detach().numpy() if isinstance(desired, torch.Tensor) else desired
    desired = np.asarray(desired, dtype=np.float64)
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), desired, rtol=rtol, atol=atol * scale
    )


@contextlib.contextmanager
def seeded_captum(seed: int) -> Iterator[None]:
    """Seed torch and numpy's legacy global generator (Captum's GradientShap draws its alphas and
    baseline indices with ``np.random``), restoring numpy's global state afterwards."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


# ----------------------------------------------------------------------------------------------
# deterministic methods: equal to float32 tolerance
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NAMES)
def test_integrated_gradients_vs_captum(name: str, method: str) -> None:
    tn = make_torch_net(name)
    X = make_data(tn.arch.n_inputs)
    B = np.random.default_rng(2).normal(0, 0.5, X.shape).astype(np.float32)
    target = per_row_target(tn.arch, len(X))
    n_steps = 12
    exp = gb.IntegratedGradients(tn.model, n_steps=n_steps, method=method)(X, B, target=target)
    attr, delta = captum_attr.IntegratedGradients(tn.module).attribute(
        tensor(X),
        baselines=torch.tensor(B),
        target=target,
        n_steps=n_steps,
        method=method,
        return_convergence_delta=True,
    )
    if method == "riemann_trapezoid":
        close(exp.values * (n_steps - 1) / n_steps, attr)
    else:
        close(exp.values, attr)
        close(exp.delta, delta, atol=5e-5)


def test_captum_trapezoid_relation_is_exact_on_linear_model() -> None:
    """On a linear net every rule's weights sum to 1 in ours, (n-1)/n in Captum's trapezoid."""
    w = np.array([[0.5, -1.5, 2.0, 0.25]], np.float32)
    spec = make_linear_spec(w, np.array([0.3], np.float32))
    X = make_data(4)
    exp = gb.IntegratedGradients(build(spec), n_steps=4, method="riemann_trapezoid")(X, target=0)
    attr = captum_attr.IntegratedGradients(torch_from_spec(spec)).attribute(
        tensor(X), target=0, n_steps=4, method="riemann_trapezoid"
    )
    close(exp.values, X * w)
    close(attr.detach().numpy(), X * w * 3 / 4)


@pytest.mark.parametrize("take_abs", [True, False])
@pytest.mark.parametrize("name", NAMES)
def test_saliency_vs_captum(name: str, take_abs: bool) -> None:
    tn = make_torch_net(name)
    X = make_data(tn.arch.n_inputs)
    target = per_row_target(tn.arch, len(X))
    exp = gb.Saliency(tn.model, abs=take_abs)(X, target=target)
    close(exp.values, captum_attr.Saliency(tn.module).attribute(tensor(X), target, abs=take_abs))


@pytest.mark.parametrize("name", NAMES)
def test_input_x_gradient_vs_captum(name: str) -> None:
    tn = make_torch_net(name)
    X = make_data(tn.arch.n_inputs)
    target = per_row_target(tn.arch, len(X))
    exp = gb.InputXGradient(tn.model)(X, target=target)
    close(exp.values, captum_attr.InputXGradient(tn.module).attribute(tensor(X), target=target))


def test_integrated_gradients_large_mlp_vs_captum() -> None:
    """MLP 30-256-256-2 (ReLU, torch-style init), 500 rows, Gauss-Legendre with 50 steps."""
    arch = Arch("big", (30, 256, 256, 2), "relu")
    spec = make_spec(arch, seed=5, init="torch")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 30)).astype(np.float32)
    target = (np.arange(500) % 2).tolist()
    exp = gb.IntegratedGradients(build(spec), n_steps=50, method="gausslegendre")(X, target=target)
    attr = captum_attr.IntegratedGradients(torch_from_spec(spec)).attribute(
        tensor(X), target=target, n_steps=50, method="gausslegendre"
    )
    np.testing.assert_allclose(exp.values, attr.detach().numpy(), rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------------------
# NoiseTunnel: exact on a linear model, within a few standard errors otherwise
# ----------------------------------------------------------------------------------------------

NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


def noise_tunnel(module, base: str, X: np.ndarray, target, nt_type: str, n: int, stdev: float):
    if base == "input_x_gradient":
        tunnel, kwargs = captum_attr.NoiseTunnel(captum_attr.InputXGradient(module)), {}
    else:
        tunnel = captum_attr.NoiseTunnel(captum_attr.Saliency(module))
        kwargs = {"abs": base == "saliency"}
    return (
        tunnel.attribute(
            tensor(X), nt_type=nt_type, nt_samples=n, stdevs=stdev, target=target, **kwargs
        )
        .detach()
        .numpy()
    )


@pytest.mark.parametrize("nt_type", NT_TYPES)
@pytest.mark.parametrize("base", ["gradient", "saliency"])
def test_noise_tunnel_exact_on_linear_model(nt_type: str, base: str) -> None:
    """A linear net's gradient ignores noise: smoothgrad = w, smoothgrad_sq = w^2, vargrad = 0."""
    w = np.array([[0.5, -1.5, 2.0], [1.0, 0.0, -0.75]], np.float32)
    spec = make_linear_spec(w, np.array([0.1, -0.2], np.float32))
    X = make_data(3, n_rows=4)
    exp = gb.SmoothGrad(build(spec), n_samples=7, stdev=2.0, nt_type=nt_type, base=base)(
        X, target=1
    )
    with seeded_captum(0):
        theirs = noise_tunnel(torch_from_spec(spec), base, X, 1, nt_type, 7, 2.0)
    a = np.abs(w[1]) if base == "saliency" else w[1]
    expected = {"smoothgrad": a, "smoothgrad_sq": a * a, "vargrad": 0 * a}[nt_type]
    close(exp.values, np.broadcast_to(expected, X.shape))
    close(theirs, np.broadcast_to(expected, X.shape))


def _per_sample_moments(module, base: str, X: np.ndarray, target, stdev: float, n: int = 20000):
    """Mean, variance and 4th central moment over noise of the per-sample attribution (torch)."""
    gen = torch.Generator().manual_seed(1234)
    x = torch.tensor(X).unsqueeze(0)
    noisy = (x + stdev * torch.randn((n, *X.shape), generator=gen)).reshape(-1, X.shape[1])
    noisy.requires_grad_(True)
    rows = torch.tensor(np.broadcast_to(np.asarray(target), (len(X),)).copy()).repeat(n)
    module(noisy)[torch.arange(len(rows)), rows].sum().backward()
    a = noisy.grad
    if base == "saliency":
        a = a.abs()
    elif base == "input_x_gradient":
        a = a * noisy.detach()
    return a.reshape(n, *X.shape).double().numpy()


@pytest.mark.parametrize("nt_type", NT_TYPES)
@pytest.mark.parametrize("base", ["gradient", "saliency", "input_x_gradient"])
@pytest.mark.parametrize("name", ["tanh", "gelu_tanh", "relu_softmax"])
def test_noise_tunnel_vs_captum_in_expectation(name: str, base: str, nt_type: str) -> None:
    tn = make_torch_net(name)
    X = make_data(5, n_rows=4, seed=3)
    target, stdev = [0, 1, 2, 1], 0.5
    n = 8000 if nt_type == "vargrad" else 2000  # a variance needs more draws for the same precision
    exp = gb.SmoothGrad(tn.model, n_samples=n, stdev=stdev, nt_type=nt_type, base=base, seed=3)(
        X, target=target
    )
    with seeded_captum(1):
        theirs = noise_tunnel(tn.module, base, X, target, nt_type, n, stdev)
    a = _per_sample_moments(tn.module, base, X, target, stdev)
    if nt_type == "smoothgrad":
        sd = a.std(axis=0)
    elif nt_type == "smoothgrad_sq":
        sd = (a * a).std(axis=0)
    else:  # the sample variance has variance ~ (mu4 - sigma^4) / n
        centred = a - a.mean(axis=0)
        sd = np.sqrt(np.maximum((centred**4).mean(axis=0) - centred.var(axis=0) ** 2, 0.0))
    # two independent estimates of the same mean: their difference has sd sqrt(2) sd / sqrt(n)
    tol = 5.0 * np.sqrt(2.0) * sd / np.sqrt(n) + 1e-4
    assert np.all(np.abs(exp.values - theirs) <= tol), np.max(np.abs(exp.values - theirs) - tol)
    # the tolerance is small against the values, so a wrong estimator would fail
    assert tol.max() < 0.25 * np.abs(exp.values).max()


# ----------------------------------------------------------------------------------------------
# GradientShap: exact on a linear model with one baseline and no noise, else in expectation
# ----------------------------------------------------------------------------------------------


def test_gradient_shap_exact_on_linear_model_single_baseline() -> None:
    w = np.array([[0.5, -1.5, 2.0, 0.25], [1.0, 0.3, -0.7, 0.0]], np.float32)
    spec = make_linear_spec(w, np.array([0.3, -0.1], np.float32))
    X = make_data(4)
    R = np.array([[0.2, -0.4, 1.0, 0.0]], np.float32)
    exp = gb.GradientShap(build(spec), n_samples=9, seed=4)(X, baselines=R, target=0)
    with seeded_captum(0):
        theirs, delta = captum_attr.GradientShap(torch_from_spec(spec)).attribute(
            tensor(X),
            baselines=torch.tensor(R),
            n_samples=9,
            target=0,
            return_convergence_delta=True,
        )
    close(exp.values, (X - R) * w[0])
    close(theirs, (X - R) * w[0])
    close(exp.delta, np.zeros(len(X)), atol=5e-5)
    close(delta, np.zeros(len(delta)), atol=5e-5)


def test_gradient_shap_linear_model_in_expectation() -> None:
    """Linear net, several baselines, noise: a_s = w (x + stdev e - R_j), mean w (x - mean R)."""
    w = np.array([[0.5, -1.5, 2.0, 0.25]], np.float32)
    spec = make_linear_spec(w, None)
    X = make_data(4)
    R = np.random.default_rng(5).normal(size=(6, 4)).astype(np.float32)
    n, stdev = 3000, 0.5
    exp = gb.GradientShap(build(spec), n_samples=n, stdev=stdev, seed=1)(X, baselines=R, target=0)
    with seeded_captum(2):
        theirs = captum_attr.GradientShap(torch_from_spec(spec)).attribute(
            tensor(X), baselines=torch.tensor(R), n_samples=n, stdevs=stdev, target=0
        )
    expected = (X - R.mean(axis=0)) * w[0]
    sd = np.abs(w[0]) * np.sqrt(stdev**2 + R.var(axis=0))  # per-draw sd of a_s, exactly
    tol = 5.0 * sd / np.sqrt(n) + 1e-5
    assert np.all(np.abs(exp.values - expected) <= tol)
    assert np.all(np.abs(theirs.detach().numpy() - expected) <= tol)
    # the reported standard error estimates the true one
    np.testing.assert_allclose(exp.stderr, np.broadcast_to(sd / np.sqrt(n), X.shape), rtol=0.15)


@pytest.mark.parametrize("name", SOME)
def test_gradient_shap_vs_captum_in_expectation(name: str) -> None:
    tn = make_torch_net(name)
    X = make_data(5, n_rows=4, seed=6)
    R = np.random.default_rng(7).normal(0, 0.5, (5, 5)).astype(np.float32)
    target, n, stdev = [2, 0, 1, 2], 4000, 0.2
    exp = gb.GradientShap(tn.model, n_samples=n, stdev=stdev, seed=2)(X, baselines=R, target=target)
    with seeded_captum(3):
        theirs = captum_attr.GradientShap(tn.module).attribute(
            tensor(X), baselines=torch.tensor(R), n_samples=n, stdevs=stdev, target=target
        )
    # both estimate the same mean with the same per-draw spread (gb reports it as stderr)
    tol = 5.0 * np.sqrt(2.0) * exp.stderr + 1e-4
    diff = np.abs(exp.values - theirs.detach().numpy())
    assert np.all(diff <= tol), np.max(diff - tol)
    assert tol.max() < 0.25 * np.abs(exp.values).max()


# ----------------------------------------------------------------------------------------------
# from_torch end to end: a torch-initialised model converted by the adapter
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "elu", "gelu_tanh", "softplus", "relu_softmax"])
def test_from_torch_model_vs_captum(name: str, torch_mlp_factory) -> None:
    module, model, arch = torch_mlp_factory(ARCH_BY_NAME[name])
    X = make_data(arch.n_inputs, seed=12)
    target = per_row_target(arch, len(X))
    exp = gb.IntegratedGradients(model, n_steps=16)(X, 0.1, target=target)
    attr = captum_attr.IntegratedGradients(module).attribute(
        tensor(X), baselines=0.1, target=target, n_steps=16, method="gausslegendre"
    )
    close(exp.values, attr)
    sal = gb.Saliency(model, abs=False)(X, target=target)
    close(sal.values, captum_attr.Saliency(module).attribute(tensor(X), target, abs=False))


def test_torch_twin_has_the_same_outputs(torch_net: TorchNet) -> None:
    """Guard for every comparison above: the torch twin and the native model agree."""
    X = make_data(torch_net.arch.n_inputs, n_rows=11)
    with torch.no_grad():
        theirs = torch_net.module(torch.tensor(X)).numpy()
    close(torch_net.model.predict(X), theirs)
