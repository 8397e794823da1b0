"""NoiseTunnel over any gradient explainer: the mean (and the square mean, the variance) of the
wrapped explainer over exactly the noisy copies it draws, per-row arguments repeated per copy,
seeded results independent of chunking, and Captum's NoiseTunnel in expectation."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import ARCH_BY_NAME, build, make_data, make_spec


def noisy_copies(X: np.ndarray, samples: int, stdev: float, seed: int) -> np.ndarray:
    """The copies NoiseTunnel draws: per row, N(0, stdev) from the stream (seed, row)."""
    out = np.repeat(X.astype(np.float32), samples, axis=0)
    for row in range(X.shape[0]):
        draws = np.random.default_rng([seed, row]).normal(0.0, stdev, size=(samples, X.shape[1]))
        out[row * samples : (row + 1) * samples] += draws.astype(np.float32)
    return out


@pytest.mark.parametrize("nt_type", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_moments_over_the_drawn_copies(nt_type: str) -> None:
    arch = ARCH_BY_NAME["tanh"]
    model = build(make_spec(arch, seed=1))
    X = make_data(arch.n_inputs, 4, seed=2)
    target = [0, 1, 2, 0]
    ig = gb.IntegratedGradients(model, n_steps=8)
    exp = gb.NoiseTunnel(ig, nt_type=nt_type, nt_samples=6, stdevs=0.2, seed=5)(X, target=target)
    copies = noisy_copies(X, 6, 0.2, 5)
    per_copy = ig(copies, target=np.repeat(target, 6)).values.astype(np.float64).reshape(4, 6, -1)
    q = per_copy**2 if nt_type == "smoothgrad_sq" else per_copy
    expected = q.var(axis=1) if nt_type == "vargrad" else q.mean(axis=1)
    np.testing.assert_allclose(exp.values, expected, rtol=1e-5, atol=1e-6)
    assert exp.method == "noise_tunnel(integrated_gradients)"
    assert (exp.stderr is None) == (nt_type == "vargrad")


def test_seeded_and_independent_of_chunking(monkeypatch) -> None:
    from glassbox.explainers import noise_tunnel

    arch = ARCH_BY_NAME["gelu"]
    model = build(make_spec(arch, seed=3))
    X = make_data(arch.n_inputs, 9, seed=4)
    tunnel = gb.NoiseTunnel(gb.Saliency(model), nt_samples=4, stdevs=0.3, seed=7)
    whole = tunnel(X, target=1).values
    monkeypatch.setattr(noise_tunnel, "_STACK_VALUES", 3 * 4 * arch.n_inputs)  # chunks of 3 rows
    assert np.array_equal(tunnel(X, target=1).values, whole)
    other = gb.NoiseTunnel(gb.Saliency(model), nt_samples=4, stdevs=0.3, seed=8)
    assert not np.array_equal(other(X, target=1).values, whole)


def test_layer_method_and_per_row_baselines() -> None:
    arch = ARCH_BY_NAME["relu"]
    model = build(make_spec(arch, seed=5))
    X = make_data(arch.n_inputs, 3, seed=6)
    B = make_data(arch.n_inputs, 3, seed=7) * 0.1
    layer = gb.LayerIntegratedGradients(model, "fc1", n_steps=6)
    exp = gb.NoiseTunnel(layer, nt_samples=3, stdevs=0.1, seed=1)(X, baselines=B, target=2)
    copies = noisy_copies(X, 3, 0.1, 1)
    expected = layer(copies, baselines=np.repeat(B, 3, axis=0), target=2).values
    np.testing.assert_allclose(exp.values, expected.reshape(3, 3, -1).mean(axis=1), rtol=1e-5)


def test_bad_arguments() -> None:
    arch = ARCH_BY_NAME["relu"]
    model = build(make_spec(arch, seed=5))
    with pytest.raises(TypeError, match="NoiseTunnel wraps a gradient explainer"):
        gb.NoiseTunnel(gb.FeatureAblation(model))
    with pytest.raises(ValueError, match="nt_type"):
        gb.NoiseTunnel(gb.Saliency(model), nt_type="mean")
    with pytest.raises(ValueError, match="nt_samples"):
        gb.NoiseTunnel(gb.Saliency(model), nt_samples=0)


def test_captum_in_expectation() -> None:
    """Different random numbers: on a linear model the SmoothGrad of Input x Gradient is
    (x + noise) * w, whose mean is x * w within a few standard errors for both."""
    torch = pytest.importorskip("torch")
    captum_attr = pytest.importorskip("captum.attr")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 2)).eval()
    model = gb.from_torch(net)
    X = make_data(5, 3, seed=9)
    exp = gb.NoiseTunnel(gb.InputXGradient(model), nt_samples=400, stdevs=0.5)(X, target=1)
    theirs = captum_attr.NoiseTunnel(captum_attr.InputXGradient(net)).attribute(
        torch.tensor(X), nt_type="smoothgrad", nt_samples=400, stdevs=0.5, target=1
    )
    w = net[0].weight.detach().numpy()[1]
    expected = X * w
    assert np.all(np.abs(exp.values - expected) <= 5 * exp.stderr + 1e-6)
    bound = 5 * 0.5 * np.abs(w) / np.sqrt(400)
    assert np.all(np.abs(theirs.detach().numpy() - expected) <= bound + 1e-6)
