"""LRP on CNNs: a LeNet-like net, a small ResNet with BatchNorm and residual adds, and an
inception-like net with concat, against the NumPy reference (tests/reference/lrp.py, convolutions
read off as the affine maps they are) and Captum on Conv2d/Linear."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from cnn_nets import inception_spec, lenet_spec, resnet_spec
from conftest import build
from glassbox.explainers import composites as C
from glassbox.explainers.lrp import fold_batch_norms
from glassbox.models.spec import NetworkSpec
from reference import lrp as ref


def _new_kinds_spec() -> NetworkSpec:
    """Per-pixel preprocessing (scale_shift), mish, hardswish and clamp activations and a mean
    over one axis (reduce_mean): the kinds the layer table added, in one small CNN."""
    rng = np.random.default_rng(3)
    spec = NetworkSpec(input_shape=(2, 6, 6))
    spec.add("scale_shift", "pre", scale=rng.uniform(0.5, 2, 72), shift=rng.normal(size=72))
    spec.add(
        "conv2d",
        "conv",
        params={"padding": (1, 1, 1, 1)},
        weight=rng.normal(size=(3, 2, 3, 3)),
        bias=rng.normal(size=3) * 0.1,
    )
    spec.add("mish", "mish")
    spec.add("reduce_mean", "rows", params={"axes": (2,)})
    spec.add("flatten", "flat")
    spec.add("dense", "fc", weight=rng.normal(size=(8, 18)) * 0.5, bias=rng.normal(size=8) * 0.1)
    spec.add("hardswish", "hsw")
    spec.add("clamp", "clip", params={"min": -1.0, "max": 2.0})
    spec.add("dense", "out", weight=rng.normal(size=(3, 8)), bias=None)
    return spec


NETS = {
    "new_kinds": _new_kinds_spec,
    "lenet": lambda: lenet_spec(seed=0, input_hw=16, n_outputs=4),
    "resnet": lambda: resnet_spec(seed=1, input_hw=8, n_outputs=3),
    "inception": lambda: inception_spec(seed=2, input_hw=8, n_outputs=3),
}
PRESETS = {
    "Epsilon": {},
    "EpsilonPlus": {},
    "EpsilonPlusFlat": {},
    "EpsilonAlpha2Beta1": {},
    "EpsilonAlpha2Beta1Flat": {},
    "EpsilonGammaBox": {"low": -2.0, "high": 2.0},
}


def _data(spec, n: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(size=(n, *spec.input_shape)), -2, 2).astype(np.float32)


def _reference_rules(composite, spec, input_shapes):
    rules = composite.rules_for([x.kind for x in spec.layers], [x.name for x in spec.layers])
    out = []
    for rule, shape in zip(rules, input_shapes, strict=True):
        if rule is None:
            out.append(None)
            continue
        options = dict(rule.scalars())
        options.update({k: v.astype(np.float64) for k, v in rule.arrays(shape).items()})
        out.append((rule.name, options))
    return out


def _compare(spec, composite, X, target, canonize):
    model = build(spec)
    names = [layer.name for layer in spec.layers]
    exp = gb.LRP(model, composite, canonize=canonize)(X, target=target, layers=names)
    used = fold_batch_norms(spec) if canonize else spec
    shapes = [tuple(s) for s in build(used).network.layer_shapes]
    input_shapes = [
        tuple(used.input_shape) if layer.inputs[0] < 0 else shapes[layer.inputs[0]]
        for layer in used.layers
    ]
    comp = composite if isinstance(composite, C.Composite) else C.make_composite(composite)
    rules = _reference_rules(comp, used, input_shapes)
    expected, at_layer = ref.lrp_graph(used, X, np.full(len(X), target), rules)
    scale = np.abs(expected).max() + 1e-12
    np.testing.assert_allclose(exp.values, expected, rtol=1e-3, atol=1e-4 * scale)
    for k, name in enumerate(names):
        s = np.abs(at_layer[k]).max() + 1e-12
        np.testing.assert_allclose(
            exp.layer_relevance[name], at_layer[k], rtol=1e-3, atol=1e-4 * s, err_msg=name
        )
    return exp


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("net", sorted(NETS))
def test_presets_match_reference(net: str, preset: str) -> None:
    spec = NETS[net]()
    composite = C.make_composite(preset, **PRESETS[preset])
    _compare(spec, composite, _data(spec), target=1, canonize=net != "resnet")


def test_resnet_canonized_matches_reference_on_the_folded_net() -> None:
    spec = NETS["resnet"]()
    _compare(spec, C.make_composite("EpsilonPlusFlat"), _data(spec), target=2, canonize=True)


def test_batch_norm_folding_keeps_resnet_predictions() -> None:
    spec = NETS["resnet"]()
    folded = fold_batch_norms(spec)
    assert "batch_norm" not in [layer.kind for layer in folded.layers]
    X = _data(spec, 16, seed=3)
    np.testing.assert_allclose(
        build(folded).predict(X), build(spec).predict(X), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("net", sorted(NETS))
def test_every_rule_on_every_conv_matches_reference(net: str) -> None:
    spec = NETS[net]()
    X = _data(spec, seed=4)
    for rule in (C.Epsilon(0.01), C.Gamma(0.5), C.AlphaBeta(3, 2), C.WSquare(), C.Flat()):
        composite = C.Composite(
            layer_map=[
                (C.CONV, rule),
                (C.DENSE, C.Epsilon(0.01)),
                (C.ACTIVATIONS, C.Pass()),
                (C.SUM | C.AVG_POOL | C.BATCH_NORM, C.Norm()),
            ]
        )
        _compare(spec, composite, X, target=0, canonize=False)


def test_residual_add_splits_relevance_by_contribution() -> None:
    from reference.network import _run_forward

    spec = NETS["resnet"]()
    X = _data(spec, seed=5)
    names = [layer.name for layer in spec.layers]
    add = names.index("add")
    branch = spec.layers[add].inputs[0]  # layer1.0.bn2: read by the add only
    exp = gb.LRP(build(spec), "EpsilonPlus", canonize=False)(
        X, target=0, layers=["add", names[branch]]
    )
    outs = _run_forward(spec, X.astype(np.float64))
    r_add = exp.layer_relevance["add"]
    expected = outs[branch] * r_add / ref.stab(outs[add], 1e-6)
    np.testing.assert_allclose(
        exp.layer_relevance[names[branch]], expected, rtol=1e-3, atol=1e-5 * np.abs(r_add).max()
    )


def test_wrong_image_shape_and_unknown_layer() -> None:
    spec = NETS["lenet"]()
    lrp = gb.LRP(build(spec), "EpsilonPlusFlat")
    with pytest.raises(ValueError, match="X"):
        lrp(np.zeros((2, 1, 15, 16), np.float32), target=0)
    with pytest.raises(ValueError, match="X"):
        lrp(np.zeros((2, 16 * 16), np.float32), target=0)
    with pytest.raises(ValueError, match="unknown layer"):
        lrp(_data(spec), target=0, layers=["conv9"])
    with pytest.raises(ValueError, match=r"'pool1'.*affine"):
        gb.LRP(build(spec), C.Composite(name_map={"pool1": C.ZPlus()}))


# ------------------------------------------------------------------------------------------------
# Captum on Conv2d + Linear
# ------------------------------------------------------------------------------------------------


def _torch_lenet(spec):
    pytest.importorskip("torch")
    from reference.torch_graph import captum_lrp_sequential

    return captum_lrp_sequential(spec).double()


@pytest.mark.parametrize("which", ["epsilon", "gamma", "alpha1_beta0"])
def test_conv_rules_match_captum(which: str) -> None:
    torch = pytest.importorskip("torch")
    attr = pytest.importorskip("captum.attr")
    from captum.attr._utils.lrp_rules import Alpha1_Beta0_Rule, EpsilonRule, GammaRule

    spec = NETS["lenet"]()
    if which != "epsilon":  # Captum keeps x and b as they are: compare bias-free, x >= 0
        for layer in spec.layers:
            if layer.kind == "conv2d":
                layer.weights["bias"] = None
    X = np.abs(_data(spec, 4, seed=6))
    net = _torch_lenet(spec)
    captum_rule = {"epsilon": EpsilonRule, "gamma": GammaRule, "alpha1_beta0": Alpha1_Beta0_Rule}
    ours = {
        "epsilon": C.Epsilon(1e-9),
        "gamma": C.Gamma(0.25, stabilizer=1e-9),
        "alpha1_beta0": C.ZPlus(stabilizer=1e-9),
    }[which]
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.rule = captum_rule[which]()
        elif isinstance(module, torch.nn.Linear):
            module.rule = EpsilonRule()
    x = torch.tensor(X.astype(np.float64), requires_grad=True)
    expected = attr.LRP(net).attribute(x, target=2).detach().numpy()
    composite = C.Composite(
        layer_map=[(C.CONV, ours), (C.DENSE, C.Epsilon(1e-9)), (C.ACTIVATIONS, C.Pass())]
    )
    got = gb.LRP(build(spec), composite)(X, target=2).values
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


def test_default_matches_captum_default_on_lenet() -> None:
    torch = pytest.importorskip("torch")
    attr = pytest.importorskip("captum.attr")
    spec = NETS["lenet"]()
    X = _data(spec, 4, seed=7)
    net = _torch_lenet(spec)
    x = torch.tensor(X.astype(np.float64), requires_grad=True)
    expected = attr.LRP(net).attribute(x, target=0).detach().numpy()
    got = gb.LRP(build(spec))(X, target=0).values
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


# ------------------------------------------------------------------------------------------------
# End to end: a torch ResNet-like module through from_torch (fx names, BatchNorm, residual adds)
# ------------------------------------------------------------------------------------------------


def _torch_resnet():
    torch = pytest.importorskip("torch")
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)

        def forward(self, x):  # type: ignore[no-untyped-def]
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(2, 6, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(6)
            self.layer1 = nn.Sequential(Block(6), Block(6))
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(6, 3)

        def forward(self, x):  # type: ignore[no-untyped-def]
            x = torch.relu(self.bn1(self.conv1(x)))
            return self.fc(torch.flatten(self.pool(self.layer1(x)), 1))

    torch.manual_seed(0)
    net = Net()
    gen = torch.Generator().manual_seed(1)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.copy_(torch.randn(module.num_features, generator=gen) * 0.3)
                module.running_var.copy_(torch.rand(module.num_features, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(module.num_features, generator=gen) + 0.5)
                module.bias.copy_(torch.randn(module.num_features, generator=gen) * 0.2)
    return net.eval()


def test_torch_resnet_end_to_end() -> None:
    model = gb.from_torch(_torch_resnet(), (2, 7, 7))
    spec = model.spec
    assert "batch_norm" in [layer.kind for layer in spec.layers]
    X = _data(spec, 3, seed=8)
    explainer = gb.LRP(model, "EpsilonPlusFlat")
    assert "batch_norm" not in [layer.kind for layer in fold_batch_norms(spec).layers]
    exp = explainer(X, target=1, layers=["layer1.0.conv2", "layer1.1.bn2"])
    assert exp.values.shape == X.shape
    assert exp.layer_relevance["layer1.0.conv2"].shape == (3, 6, 7, 7)
    # the folded network inside the explainer predicts what the model predicts
    np.testing.assert_allclose(
        build(fold_batch_norms(spec)).predict(X), model.predict(X), rtol=1e-4, atol=1e-5
    )
    _compare(spec, C.make_composite("EpsilonPlusFlat"), X, target=1, canonize=True)
