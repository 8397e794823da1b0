"""The NumPy reference itself, checked against torch autograd in float64 and finite differences.

If the reference were wrong, every comparison against it would be meaningless, so it is checked
on every layer kind before anything is compared with it.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnn_nets import LAYER_CASES, layer_case_spec, multi_input_specs, torch_forward
from conftest import ARCHS, make_data, make_image_spec, make_spec, torch_from_spec
from glassbox.models.spec import NetworkSpec
from reference.gradients import ig_alphas_weights
from reference.network import forward, gradient


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: a.name)
def test_reference_matches_torch_float64(arch) -> None:
    torch = pytest.importorskip("torch")
    spec = make_spec(arch, seed=3)
    module = torch_from_spec(spec).double()
    X = make_data(arch.n_inputs, n_rows=9, seed=4).astype(np.float64) * 1.5
    xt = torch.tensor(X, requires_grad=True)
    out = module(xt)
    np.testing.assert_allclose(forward(spec, X), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    targets = np.arange(9) % arch.n_outputs
    out[torch.arange(9), torch.tensor(targets)].sum().backward()
    np.testing.assert_allclose(gradient(spec, X, targets), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_reference_gradient_matches_finite_differences() -> None:
    spec = make_image_spec(seed=2)
    X = make_data((2, 3), n_rows=4, seed=5).astype(np.float64)
    g = gradient(spec, X, 1)
    h = 1e-6
    fd = np.zeros_like(X)
    for idx in np.ndindex(*X.shape[1:]):
        step = np.zeros_like(X)
        step[(slice(None), *idx)] = h
        fd[(slice(None), *idx)] = (
            forward(spec, X + step)[:, 1] - forward(spec, X - step)[:, 1]
        ) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_reference_softplus_threshold_is_torch_rule() -> None:
    spec = NetworkSpec(input_shape=(3,))
    spec.add("softplus", "sp", params={"beta": 2.0, "threshold": 1.0})
    X = np.array([[0.4, 0.6, -3.0]])
    expected = [np.log1p(np.exp(0.8)) / 2, 0.6, np.log1p(np.exp(-6.0)) / 2]
    np.testing.assert_allclose(forward(spec, X)[0], expected, rtol=1e-14)
    s = 1 / (1 + np.exp(-0.8))
    np.testing.assert_allclose(gradient(spec, X, 0)[0], [s, 0.0, 0.0], rtol=1e-14)


@pytest.mark.parametrize("n", [2, 3, 7])
def test_reference_ig_weights(n: int) -> None:
    for method in ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"):
        alphas, weights = ig_alphas_weights(method, n)
        assert weights.sum() == pytest.approx(1.0, abs=1e-15)
        assert np.all((alphas >= 0) & (alphas <= 1))
    alphas, weights = ig_alphas_weights("riemann_trapezoid", n)
    np.testing.assert_allclose(alphas, np.linspace(0, 1, n))
    np.testing.assert_allclose(weights[[0, -1]], 0.5 / (n - 1))
    alphas, weights = ig_alphas_weights("gausslegendre", n)
    # Gauss-Legendre with n points integrates polynomials of degree 2n-1 exactly on [0, 1].
    assert np.dot(weights, alphas ** (2 * n - 1)) == pytest.approx(1 / (2 * n), rel=1e-12)


# --------------------------------------------------------------------------------------------
# Convolutional layers, pooling, batch norm, reshape and the multi-input layers (add, concat)
# --------------------------------------------------------------------------------------------


def _check_against_torch(spec: NetworkSpec, n_rows: int = 3, seed: int = 4) -> None:
    torch = pytest.importorskip("torch")
    X = make_data(tuple(spec.input_shape), n_rows=n_rows, seed=seed).astype(np.float64)
    xt = torch.tensor(X, requires_grad=True)
    out = torch_forward(spec, xt)
    np.testing.assert_allclose(forward(spec, X), out.detach().numpy(), rtol=1e-11, atol=1e-12)
    targets = np.arange(n_rows) % out.shape[1]
    out[torch.arange(n_rows), torch.tensor(targets)].sum().backward()
    np.testing.assert_allclose(gradient(spec, X, targets), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_reference_layer_matches_torch_float64(case: str) -> None:
    _check_against_torch(layer_case_spec(case, seed=7))


@pytest.mark.parametrize("name", sorted(multi_input_specs()))
def test_reference_multi_input_matches_torch_float64(name: str) -> None:
    _check_against_torch(multi_input_specs(seed=2)[name])


@pytest.mark.parametrize("builder", ["lenet_spec", "resnet_spec", "inception_spec"])
def test_reference_cnn_matches_torch_float64(builder: str) -> None:
    import cnn_nets

    _check_against_torch(getattr(cnn_nets, builder)(seed=5), n_rows=2)
