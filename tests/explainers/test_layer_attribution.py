"""Layer and neuron attribution: LayerIntegratedGradients, LayerGradientXActivation and
NeuronIntegratedGradients against their literal references and against Captum (same weights,
data, n_steps and method), on MLPs of several activations and on a residual network whose layers
are read again later (the path where the whole pass runs with the points substituted)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassbox as gb
from conftest import ARCH_BY_NAME, build, make_data, make_spec
from reference import layer_attribution as ref

METHODS = ("riemann_left", "riemann_middle", "gausslegendre")
SOME = ["tanh", "gelu", "relu", "softplus", "relu_softmax"]


def close(actual, desired, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    desired = np.asarray(desired, dtype=np.float64)
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), desired, rtol=rtol, atol=atol * scale
    )


def targets_for(n_outputs: int, n: int) -> np.ndarray:
    return np.arange(n) % n_outputs


@pytest.mark.parametrize("name", SOME)
@pytest.mark.parametrize("method", METHODS)
def test_layer_ig_matches_reference(name: str, method: str) -> None:
    arch = ARCH_BY_NAME[name]
    spec = make_spec(arch, seed=3)
    model = build(spec)
    X = make_data(arch.n_inputs, 6, seed=4)
    baselines = make_data(arch.n_inputs, 6, seed=5) * 0.3
    targets = targets_for(arch.n_outputs, 6)
    for layer in range(len(spec.layers) - 1):
        exp = gb.LayerIntegratedGradients(model, layer, n_steps=12, method=method)(
            X, baselines=baselines, target=targets
        )
        values, delta = ref.layer_integrated_gradients(
            spec, X, baselines, layer, targets, 12, method
        )
        close(exp.values, values)
        close(exp.delta, delta, atol=1e-4)


@given(seed=st.integers(0, 10_000), steps=st.integers(1, 20))
@settings(max_examples=25, deadline=None)
def test_layer_ig_completeness_on_smooth_nets(seed: int, steps: int) -> None:
    """With enough Gauss-Legendre points the gap vanishes; the reported delta is the gap."""
    arch = ARCH_BY_NAME["tanh"]
    spec = make_spec(arch, seed=seed)
    model = build(spec)
    X = make_data(arch.n_inputs, 3, seed=seed + 1)
    exp = gb.LayerIntegratedGradients(model, "act0", n_steps=64)(X, target=1)
    outputs = model.predict(X)[:, 1]
    # the path starts at the layer's value at the baseline 0 (every other layer reads X)
    start = exp.base_values
    np.testing.assert_allclose(exp.values.sum(axis=1) - (outputs - start), exp.delta, atol=1e-4)
    assert np.abs(exp.delta).max() < 1e-3
    coarse = gb.LayerIntegratedGradients(model, "act0", n_steps=steps)(X, target=1)
    np.testing.assert_allclose(
        coarse.values.sum(axis=1) - (outputs - coarse.base_values), coarse.delta, atol=1e-4
    )


@pytest.mark.parametrize("name", SOME)
def test_layer_gradient_x_activation_matches_reference(name: str) -> None:
    arch = ARCH_BY_NAME[name]
    spec = make_spec(arch, seed=7)
    model = build(spec)
    X = make_data(arch.n_inputs, 5, seed=8)
    targets = targets_for(arch.n_outputs, 5)
    for layer in range(len(spec.layers)):
        exp = gb.LayerGradientXActivation(model, spec.layers[layer].name)(X, target=targets)
        close(exp.values, ref.layer_gradient_x_activation(spec, X, layer, targets))


def test_results_do_not_depend_on_threads() -> None:
    arch = ARCH_BY_NAME["gelu"]
    model = build(make_spec(arch, seed=1))
    X = make_data(arch.n_inputs, 40, seed=2)
    runs = [
        gb.LayerIntegratedGradients(model, "act0", n_steps=9, n_threads=t, memory_budget=4096)(
            X, target=0
        ).values
        for t in (1, 2, 3)
    ]
    assert all(np.array_equal(runs[0], r) for r in runs[1:])


# ---- Captum as the peer ------------------------------------------------------------------------

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")


class Residual(torch.nn.Module):
    """fc1 -> tanh -> fc2 -> gelu, plus the tanh output again (a skip), -> out: the tanh layer
    is read by two layers, so its consumers do not all follow it."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc1 = torch.nn.Linear(5, 8)
        self.act = torch.nn.Tanh()
        self.fc2 = torch.nn.Linear(8, 8)
        self.gelu = torch.nn.GELU()
        self.out = torch.nn.Linear(8, 3)

    def forward(self, x):
        h = self.act(self.fc1(x))
        return self.out(self.gelu(self.fc2(h)) + h)


@pytest.fixture(scope="module")
def residual():
    module = Residual().eval()
    return module, gb.from_torch(module)


def t(X: np.ndarray):
    return torch.tensor(np.asarray(X, dtype=np.float32))


@pytest.mark.parametrize("layer", ["fc1", "act", "fc2", "gelu"])
@pytest.mark.parametrize("to_input", [False, True])
def test_layer_ig_matches_captum(residual, layer: str, to_input: bool) -> None:
    module, model = residual
    X = make_data(5, 6, seed=11)
    B = make_data(5, 6, seed=12) * 0.5
    target = [0, 1, 2, 0, 1, 2]
    ours = gb.LayerIntegratedGradients(model, layer, n_steps=20, attribute_to_layer_input=to_input)(
        X, baselines=B, target=target
    )
    captum = captum_attr.LayerIntegratedGradients(module, getattr(module, layer))
    theirs, delta = captum.attribute(
        t(X),
        baselines=t(B),
        target=target,
        n_steps=20,
        method="gausslegendre",
        attribute_to_layer_input=to_input,
        return_convergence_delta=True,
    )
    theirs = theirs[0] if isinstance(theirs, tuple) else theirs
    close(ours.values, theirs.detach().numpy())
    # The pinned difference (docs/methods.md): Captum's delta compares with f(baselines), ours
    # with f at the path's start (the layer at its baseline value, the rest reading X); they
    # differ by exactly f(start) - f(baselines), which is not 0 here since the skip reads X.
    f_b = model.predict(B)[np.arange(6), target]
    close(ours.delta - delta.detach().numpy(), ours.base_values - f_b, atol=1e-4)


@pytest.mark.parametrize("name", SOME)
def test_layer_ig_matches_captum_on_mlps(name: str) -> None:
    from conftest import torch_from_spec

    arch = ARCH_BY_NAME[name]
    spec = make_spec(arch, seed=2)
    module, model = torch_from_spec(spec), build(spec)
    X = make_data(arch.n_inputs, 5, seed=3)
    target = [int(i) for i in targets_for(arch.n_outputs, 5)]
    ours = gb.LayerIntegratedGradients(model, "fc1", n_steps=16)(X, target=target)
    theirs = captum_attr.LayerIntegratedGradients(module, module[2]).attribute(
        t(X), baselines=t(np.zeros_like(X)), target=target, n_steps=16
    )
    close(ours.values, theirs.detach().numpy())


@pytest.mark.parametrize("layer", ["fc1", "act", "fc2"])
@pytest.mark.parametrize("multiply", [True, False])
def test_layer_gradient_x_activation_matches_captum(residual, layer: str, multiply: bool) -> None:
    module, model = residual
    X = make_data(5, 6, seed=13)
    ours = gb.LayerGradientXActivation(model, layer, multiply_by_inputs=multiply)(X, target=2)
    theirs = captum_attr.LayerGradientXActivation(
        module, getattr(module, layer), multiply_by_inputs=multiply
    ).attribute(t(X), target=2)
    close(ours.values, theirs.detach().numpy())


@pytest.mark.parametrize("layer", ["fc1", "act", "fc2"])
def test_neuron_ig_matches_captum(residual, layer: str) -> None:
    module, model = residual
    X = make_data(5, 4, seed=14)
    B = make_data(5, 4, seed=15) * 0.2
    ours = gb.NeuronIntegratedGradients(model, layer, n_steps=24)(X, neuron_selector=3, baselines=B)
    theirs = captum_attr.NeuronIntegratedGradients(module, getattr(module, layer)).attribute(
        t(X), neuron_selector=3, baselines=t(B), n_steps=24
    )
    close(ours.values, theirs.detach().numpy())
    assert np.abs(ours.delta).max() < 1e-3


@pytest.mark.parametrize("layer", ["fc1", "act", "fc2", "gelu"])
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid"])
def test_layer_conductance_matches_captum(residual, layer: str, method: str) -> None:
    module, model = residual
    X = make_data(5, 5, seed=16)
    B = make_data(5, 5, seed=17) * 0.3
    target = [2, 1, 0, 1, 2]
    ours = gb.LayerConductance(model, layer, n_steps=15, method=method)(
        X, baselines=B, target=target
    )
    theirs = captum_attr.LayerConductance(module, getattr(module, layer)).attribute(
        t(X), baselines=t(B), target=target, n_steps=15, method=method
    )
    close(ours.values, theirs.detach().numpy())
    f = model.predict(X)[np.arange(5), target] - model.predict(B)[np.arange(5), target]
    close(ours.values.sum(axis=1) - f, ours.delta, atol=1e-4)
    if method == "riemann_trapezoid" and layer in ("fc1", "act"):  # every path goes through it
        # a left Riemann sum of the flow: its gap shrinks as 1 / n_steps
        fine = gb.LayerConductance(model, layer, n_steps=300, method=method)
        gap = np.abs(fine(X, baselines=B, target=target).delta).max()
        assert gap < np.abs(ours.delta).max() / 10


def test_layer_conductance_on_a_path_layer(residual) -> None:
    """With the path in fc1's values, conductance at fc2 equals conductance of a model that
    starts at fc1 (computed by Captum on the tail of the network)."""
    module, model = residual
    X = make_data(5, 4, seed=18)
    ours = gb.LayerConductance(model, "fc2", n_steps=10, path_layer="fc1")(X, target=0)

    class Tail(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = module

        def forward(self, z):
            h = self.m.act(z)
            return self.m.out(self.m.gelu(self.m.fc2(h)) + h)

    tail = Tail().eval()
    z = module.fc1(t(X)).detach()
    z0 = module.fc1(t(np.zeros_like(X))).detach()
    theirs = captum_attr.LayerConductance(tail, module.fc2).attribute(
        z, baselines=z0, target=0, n_steps=10
    )
    close(ours.values, theirs.detach().numpy())
    with pytest.raises(ValueError, match="must come before the layer"):
        gb.LayerConductance(model, "fc1", path_layer="fc2")


# ---- bad input ---------------------------------------------------------------------------------


def test_bad_layers_and_neurons_are_named(residual) -> None:
    _, model = residual
    X = make_data(5, 2, seed=1)
    with pytest.raises(ValueError, match="'nope' is not a layer of this model; pass a name"):
        gb.LayerIntegratedGradients(model, "nope")
    with pytest.raises(ValueError, match="reads 2 inputs"):
        layers = zip(model.layer_names, model.spec.layers, strict=True)
        add = next(n for n, layer in layers if layer.kind == "add")
        gb.LayerIntegratedGradients(model, add, attribute_to_layer_input=True)
    neuron = gb.NeuronIntegratedGradients(model, "fc2")
    with pytest.raises(ValueError, match=r"outside the layer's shape \(8,\)"):
        neuron(X, neuron_selector=8)
    with pytest.raises(TypeError, match="neuron_selector: expected integer indices"):
        neuron(X, neuron_selector=1.5)
    with pytest.raises(ValueError, match="baselines"):
        gb.LayerIntegratedGradients(model, "fc2")(X, baselines=np.zeros((3, 4)), target=0)
