"""LRP against the literal NumPy reference (tests/reference/lrp.py), rule by rule, on dense nets."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import Arch, build, make_data, make_spec
from glassbox.explainers import composites as C
from reference import lrp as ref

RELU = Arch("relu", (5, 16, 12, 3), "relu")
TANH = Arch("tanh", (5, 12, 8, 3), "tanh")

# (rule object, reference (name, options)) — each applied to the first dense layer, then to all.
RULE_CASES = {
    "epsilon": (C.Epsilon(0.01), ("epsilon", {"epsilon": 0.01})),
    "epsilon_tiny": (C.Epsilon(1e-9), ("epsilon", {"epsilon": 1e-9})),
    "gamma": (C.Gamma(0.25), ("gamma", {"gamma": 0.25})),
    "gamma_big": (C.Gamma(2.0, 1e-3), ("gamma", {"gamma": 2.0, "stabilizer": 1e-3})),
    "alpha2beta1": (C.AlphaBeta(2, 1), ("alpha_beta", {"alpha": 2.0, "beta": 1.0})),
    "alpha3beta2": (C.AlphaBeta(3, 2), ("alpha_beta", {"alpha": 3.0, "beta": 2.0})),
    "alpha1beta0": (C.AlphaBeta(1, 0), ("alpha_beta", {"alpha": 1.0, "beta": 0.0})),
    "zplus": (C.ZPlus(), ("zplus", {})),
    "flat": (C.Flat(), ("flat", {})),
    "wsquare": (C.WSquare(), ("wsquare", {})),
}


def _check(spec, composite, ref_rules, X, target, rtol=2e-4):
    model = build(spec)
    names = [layer.name for layer in spec.layers]
    exp = gb.LRP(model, composite)(X, target=target, layers=names)
    targets = np.full(len(X), target)
    expected, at_layer = ref.lrp(spec, X, targets, ref_rules)
    scale = np.abs(expected).max() + 1e-12
    np.testing.assert_allclose(exp.values, expected, rtol=rtol, atol=rtol * scale)
    for k, name in enumerate(names):
        s = np.abs(at_layer[k]).max() + 1e-12
        np.testing.assert_allclose(exp.layer_relevance[name], at_layer[k], rtol=rtol, atol=rtol * s)
    # conservation columns: the input, then every layer, as the reference sums them
    np.testing.assert_allclose(
        exp.conservation[:, 0], expected.sum(1), rtol=1e-3, atol=1e-3 * scale
    )
    for k in range(len(names)):
        np.testing.assert_allclose(
            exp.conservation[:, k + 1], at_layer[k].sum(1), rtol=1e-3, atol=1e-3 * scale
        )
    np.testing.assert_allclose(exp.delta, exp.conservation[:, 0] - exp.conservation[:, -1])


@pytest.mark.parametrize("case", sorted(RULE_CASES))
@pytest.mark.parametrize("arch", [RELU, TANH], ids=["relu", "tanh"])
def test_rule_on_first_layer_matches_reference(case: str, arch: Arch) -> None:
    rule, ref_rule = RULE_CASES[case]
    spec = make_spec(arch, seed=3)
    composite = C.Composite(
        layer_map=[(C.ACTIVATIONS, C.Pass()), (C.DENSE, C.Epsilon(0.01))],
        name_map={"fc0": rule},
    )
    ref_rules = [
        ref_rule
        if layer.name == "fc0"
        else ("epsilon", {"epsilon": 0.01})
        if layer.kind == "dense"
        else ("pass", {})
        for layer in spec.layers
    ]
    _check(spec, composite, ref_rules, make_data(5, 9, seed=4), target=1)


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_rule_on_every_layer_matches_reference(case: str) -> None:
    rule, ref_rule = RULE_CASES[case]
    spec = make_spec(RELU, seed=5)
    composite = C.Composite(layer_map=[(C.ACTIVATIONS, C.Pass()), (C.DENSE, rule)])
    ref_rules = [ref_rule if layer.kind == "dense" else ("pass", {}) for layer in spec.layers]
    _check(spec, composite, ref_rules, make_data(5, 9, seed=6), target=2)


@pytest.mark.parametrize("bounds", [(-3.0, 3.0), (np.full(5, -2.5), np.linspace(2.5, 4.0, 5))])
def test_zbox_first_layer_matches_reference(bounds) -> None:
    low, high = bounds
    spec = make_spec(RELU, seed=7)
    X = np.clip(make_data(5, 9, seed=8), -2.5, 2.5)
    composite = C.Composite(
        layer_map=[(C.ACTIVATIONS, C.Pass()), (C.DENSE, C.Epsilon(0.01))],
        first_map=[(C.DENSE, C.ZBox(low, high))],
    )
    full_low = np.broadcast_to(low, (5,)).astype(np.float64)
    full_high = np.broadcast_to(high, (5,)).astype(np.float64)
    ref_rules = [
        ("zbox", {"low": full_low, "high": full_high})
        if layer.name == "fc0"
        else ("epsilon", {"epsilon": 0.01})
        if layer.kind == "dense"
        else ("pass", {})
        for layer in spec.layers
    ]
    _check(spec, composite, ref_rules, X, target=0)


def test_default_is_epsilon_everywhere_with_captum_epsilon() -> None:
    spec = make_spec(RELU, seed=9)
    explainer = gb.LRP(build(spec))
    assert explainer.rules == {
        "fc0": "epsilon",
        "act0": "pass",
        "fc1": "epsilon",
        "act1": "pass",
        "fc2": "epsilon",
    }
    ref_rules = [
        ("epsilon", {"epsilon": 1e-9}) if layer.kind == "dense" else ("pass", {})
        for layer in spec.layers
    ]
    X = make_data(5, 6, seed=10)
    expected, _ = ref.lrp(spec, X, np.full(6, 2), ref_rules)
    np.testing.assert_allclose(explainer(X, target=2).values, expected, rtol=1e-3, atol=1e-4)


def test_per_row_targets_and_threads_agree() -> None:
    spec = make_spec(RELU, seed=11)
    model = build(spec)
    X = make_data(5, 40, seed=12)
    targets = np.arange(40) % 3
    one = gb.LRP(model, "EpsilonPlusFlat", n_threads=1)(X, target=targets)
    two = gb.LRP(model, "EpsilonPlusFlat", n_threads=2)(X, target=targets)
    np.testing.assert_array_equal(one.values, two.values)
    small = gb.LRP(model, "EpsilonPlusFlat", n_threads=2, memory_budget=4096)(X, target=targets)
    np.testing.assert_allclose(one.values, small.values, rtol=1e-5, atol=1e-7)
    for t in range(3):
        rows = targets == t
        single = gb.LRP(model, "EpsilonPlusFlat")(X[rows], target=t)
        np.testing.assert_allclose(one.values[rows], single.values, rtol=1e-6, atol=1e-7)


def test_explanation_slices_layer_relevance() -> None:
    spec = make_spec(RELU, seed=13)
    exp = gb.LRP(build(spec))(make_data(5, 4), target=0, layers=["fc1", "act0"])
    assert exp.layer_relevance["fc1"].shape == (4, 12)
    assert exp.layer_relevance["act0"].shape == (4, 16)
    part = exp[1:3]
    assert part.layer_relevance["fc1"].shape == (2, 12)
    assert part.conservation.shape == (2, 1 + len(spec.layers))
    np.testing.assert_array_equal(exp[2].layer_relevance["fc1"], exp.layer_relevance["fc1"][2])
    assert exp.conservation_layers == ["<input>", *[layer.name for layer in spec.layers]]
