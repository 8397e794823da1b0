"""LRP: Captum oracles, conservation, preset rule assignment, the BatchNorm canonizer, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from conftest import Arch, build, make_data, make_spec, torch_from_spec
from glassbox.explainers import composites as C
from glassbox.explainers.lrp import fold_batch_norms
from glassbox.models.spec import LayerSpec, NetworkSpec

RELU = Arch("relu", (6, 16, 12, 3), "relu")
RELU_NO_BIAS = Arch("relu_nobias", (6, 16, 12, 3), "relu", bias=False)


# ------------------------------------------------------------------------------------------------
# Captum oracles (captum.attr.LRP seeds f_t(x) at the target, as glassbox does)
# ------------------------------------------------------------------------------------------------


def _captum_lrp(spec: NetworkSpec, X: np.ndarray, target: int, rules: dict[int, object]):
    torch = pytest.importorskip("torch")
    attr = pytest.importorskip("captum.attr")
    module = torch_from_spec(spec).double()
    for index, rule in rules.items():
        module[index].rule = rule
    x = torch.tensor(np.asarray(X, dtype=np.float64), requires_grad=True)
    return attr.LRP(module).attribute(x, target=target).detach().numpy()


def test_default_matches_captum_epsilon() -> None:
    from captum.attr._utils.lrp_rules import EpsilonRule

    spec = make_spec(RELU, seed=0)
    X = make_data(6, 10, seed=1)
    expected = _captum_lrp(spec, X, 1, {i: EpsilonRule() for i in (0, 2, 4)})
    got = gb.LRP(build(spec))(X, target=1).values
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_epsilon_value_matches_captum() -> None:
    from captum.attr._utils.lrp_rules import EpsilonRule

    spec = make_spec(RELU, seed=2)
    X = make_data(6, 10, seed=3)
    expected = _captum_lrp(spec, X, 0, {i: EpsilonRule(epsilon=0.1) for i in (0, 2, 4)})
    got = gb.LRP(build(spec), epsilon=0.1)(X, target=0).values
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("which", ["gamma", "alpha1_beta0"])
def test_gamma_and_alpha1_beta0_match_captum(which: str) -> None:
    """Captum's GammaRule (w + g w+) and Alpha1_Beta0_Rule (w+) keep x and b as they are; on
    non-negative inputs, bias-free hidden layers followed by ReLU they equal the generalised
    gamma and z+ rules (Zennit's definitions) used here."""
    from captum.attr._utils.lrp_rules import Alpha1_Beta0_Rule, EpsilonRule, GammaRule

    spec = make_spec(RELU, seed=4)
    for layer in spec.layers:
        if layer.name in ("fc0", "fc1"):
            layer.weights["bias"] = None
    X = np.abs(make_data(6, 10, seed=5))
    if which == "gamma":
        captum_rule, ours = GammaRule, C.Gamma(0.25, stabilizer=1e-9)
    else:
        captum_rule, ours = Alpha1_Beta0_Rule, C.ZPlus(stabilizer=1e-9)
    expected = _captum_lrp(spec, X, 2, {0: captum_rule(), 2: captum_rule(), 4: EpsilonRule()})
    composite = C.Composite(
        layer_map=[(C.ACTIVATIONS, C.Pass()), (C.DENSE, ours)],
        last_map=[(C.DENSE, C.Epsilon(1e-9))],
    )
    got = gb.LRP(build(spec), composite)(X, target=2).values
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


# ------------------------------------------------------------------------------------------------
# Conservation
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_epsilon_without_bias_equals_input_x_gradient(seed: int) -> None:
    spec = make_spec(RELU_NO_BIAS, seed=seed)
    model = build(spec)
    X = make_data(6, 12, seed=seed + 10)
    lrp = gb.LRP(model, epsilon=1e-12)(X, target=1)
    ixg = gb.InputXGradient(model)(X, target=1)
    np.testing.assert_allclose(lrp.values, ixg.values, rtol=1e-4, atol=1e-6)
    # and relevance is conserved at every layer: each column equals f_t(x)
    output = model.predict(X)[:, 1]
    for column in range(lrp.conservation.shape[1]):
        np.testing.assert_allclose(lrp.conservation[:, column], output, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lrp.delta, 0.0, atol=1e-4)


def test_conservation_last_column_is_the_target_output() -> None:
    spec = make_spec(RELU, seed=6)
    model = build(spec)
    X = make_data(6, 5, seed=7)
    exp = gb.LRP(model, "EpsilonPlusFlat")(X, target=[0, 1, 2, 0, 1])
    np.testing.assert_allclose(
        exp.conservation[:, -1], model.predict(X)[np.arange(5), [0, 1, 2, 0, 1]], rtol=1e-6
    )


# ------------------------------------------------------------------------------------------------
# Presets (Zennit's definitions)
# ------------------------------------------------------------------------------------------------

CNN_KINDS = [
    "conv2d",
    "relu",
    "max_pool2d",
    "conv2d",
    "batch_norm",
    "relu",
    "conv2d",
    "add",
    "relu",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "flatten",
    "dense",
    "relu",
    "dropout",
    "dense",
    "concat",
]
CNN_NAMES = [f"l{i}" for i in range(len(CNN_KINDS))]


def _rule_names(composite: C.Composite, kinds=CNN_KINDS, names=CNN_NAMES) -> list[str | None]:
    return [None if r is None else r.name for r in composite.rules_for(kinds, names)]


BASE = {
    "relu": "pass",
    "add": "norm",
    "avg_pool2d": "norm",
    "adaptive_avg_pool2d": "norm",
    "batch_norm": "norm",
    "max_pool2d": None,
    "flatten": None,
    "dropout": None,
    "concat": None,
}


@pytest.mark.parametrize(
    ("preset", "conv", "first"),
    [
        ("EpsilonPlus", "zplus", "zplus"),
        ("EpsilonPlusFlat", "zplus", "flat"),
        ("EpsilonAlpha2Beta1", "alpha_beta", "alpha_beta"),
        ("EpsilonAlpha2Beta1Flat", "alpha_beta", "flat"),
        ("EpsilonGammaBox", "gamma", "zbox"),
    ],
)
def test_preset_rule_assignment_on_a_cnn(preset: str, conv: str, first: str) -> None:
    options = {"low": -1.0, "high": 1.0} if preset == "EpsilonGammaBox" else {}
    got = _rule_names(C.make_composite(preset, **options))
    expected = []
    for i, kind in enumerate(CNN_KINDS):
        if kind == "conv2d":
            expected.append(first if i == 0 else conv)
        elif kind == "dense":
            expected.append("epsilon")
        else:
            expected.append(BASE[kind])
    assert got == expected


def test_flat_presets_take_the_first_dense_layer_of_an_mlp() -> None:
    kinds = ["dense", "relu", "dense", "relu", "dense"]
    names = ["a", "b", "c", "d", "e"]
    assert _rule_names(C.make_composite("EpsilonPlusFlat"), kinds, names) == [
        "flat",
        "pass",
        "epsilon",
        "pass",
        "epsilon",
    ]
    # EpsilonGammaBox's zB goes to the first convolution only: an MLP gets epsilon everywhere
    box = C.make_composite("epsilon_gamma_box", low=0.0, high=1.0)
    assert _rule_names(box, kinds, names) == ["epsilon", "pass", "epsilon", "pass", "epsilon"]


def test_preset_options_and_names() -> None:
    comp = C.make_composite("EpsilonAlpha2Beta1", epsilon=0.5)
    rules = comp.rules_for(["conv2d", "dense"], ["a", "b"])
    assert (rules[0].alpha, rules[0].beta) == (2.0, 1.0)
    assert rules[1].epsilon == 0.5
    assert C.make_composite("epsilon-plus-flat").name == "EpsilonPlusFlat"


def test_composite_by_name_wins_over_position_and_kind() -> None:
    comp = C.Composite(
        layer_map=[(C.DENSE, C.Epsilon(0.1)), (C.ACTIVATIONS, C.Pass())],
        name_map={"c": C.Gamma(0.5)},
        first_map=[(C.DENSE, C.WSquare())],
        last_map=[(C.DENSE, C.Epsilon(0.0))],
    )
    rules = comp.rules_for(["dense", "relu", "dense", "relu", "dense"], list("abcde"))
    assert [r.name for r in rules] == ["wsquare", "pass", "gamma", "pass", "epsilon"]
    assert rules[-1].epsilon == 0.0 and rules[0].name == "wsquare"


# ------------------------------------------------------------------------------------------------
# BatchNorm canonizer
# ------------------------------------------------------------------------------------------------


def _bn_spec(seed: int = 0) -> tuple[NetworkSpec, dict]:
    rng = np.random.default_rng(seed)
    spec = make_spec(RELU, seed=seed)
    parts = {
        "after": (rng.uniform(0.5, 2.0, 16), rng.normal(0, 0.5, 16)),
        "before": (rng.uniform(0.5, 2.0, 16), rng.normal(0, 0.5, 16)),
    }
    layers = spec.layers
    # fc0 -> bn_after -> act0 -> bn_before -> fc1 -> act1 -> fc2
    new = [
        layers[0],
        LayerSpec(
            "batch_norm",
            "bn_after",
            [0],
            {},
            dict(zip(("scale", "shift"), parts["after"], strict=True)),
        ),
        LayerSpec("relu", "act0", [1]),
        LayerSpec(
            "batch_norm",
            "bn_before",
            [2],
            {},
            dict(zip(("scale", "shift"), parts["before"], strict=True)),
        ),
        LayerSpec("dense", "fc1", [3], {}, layers[2].weights),
        LayerSpec("relu", "act1", [4]),
        LayerSpec("dense", "fc2", [5], {}, layers[4].weights),
    ]
    return NetworkSpec(spec.input_shape, new), parts


def _bn_forward(spec: NetworkSpec, X: np.ndarray) -> np.ndarray:
    outs: list[np.ndarray] = []
    for layer in spec.layers:
        x = X if layer.inputs[0] == -1 else outs[layer.inputs[0]]
        if layer.kind == "dense":
            b = layer.weights.get("bias")
            y = x @ np.asarray(layer.weights["weight"], np.float64).T + (0 if b is None else b)
        elif layer.kind == "batch_norm":
            y = x * layer.weights["scale"] + layer.weights["shift"]
        elif layer.kind == "relu":
            y = np.maximum(x, 0)
        else:
            y = x
        outs.append(y)
    return outs[-1]


def test_batch_norm_folding_leaves_predictions_unchanged() -> None:
    spec, _ = _bn_spec()
    folded = fold_batch_norms(spec)
    assert [layer.kind for layer in folded.layers] == [
        "dense",
        "identity",
        "relu",
        "identity",
        "dense",
        "relu",
        "dense",
    ]
    assert [layer.name for layer in folded.layers] == [layer.name for layer in spec.layers]
    X = make_data(6, 20, seed=3).astype(np.float64)
    np.testing.assert_allclose(build(folded).predict(X), _bn_forward(spec, X), rtol=1e-5, atol=1e-5)
    assert spec.layers[1].kind == "batch_norm"  # the caller's spec is not modified


def test_folding_leaves_shared_or_unfoldable_batch_norms() -> None:
    spec = NetworkSpec((3,))
    spec.layers = [
        LayerSpec("relu", "act", [-1]),
        LayerSpec("batch_norm", "bn", [0], {}, {"scale": np.ones(3), "shift": np.zeros(3)}),
        LayerSpec("relu", "act2", [1]),
    ]
    assert fold_batch_norms(spec).layers[1].kind == "batch_norm"
    plain = make_spec(RELU)
    assert fold_batch_norms(plain) is plain


# ------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def model():
    return build(make_spec(RELU, seed=0))


def test_zbox_without_bounds(model) -> None:
    with pytest.raises(ValueError, match="bounds"):
        C.ZBox()
    with pytest.raises(ValueError, match="bounds"):
        gb.LRP(model, "EpsilonGammaBox")
    with pytest.raises(ValueError, match="low"):
        gb.LRP(model, C.Composite(name_map={"fc0": C.ZBox(np.zeros(4), 1.0)}))


def test_unsupported_rule_for_a_layer(model) -> None:
    with pytest.raises(ValueError, match=r"'act0'.*affine"):
        gb.LRP(model, C.Composite(name_map={"act0": C.Epsilon()}))
    with pytest.raises(ValueError, match=r"'fc1'.*element-wise"):
        gb.LRP(model, C.Composite(name_map={"fc1": C.Pass()}))


def test_unknown_names(model) -> None:
    with pytest.raises(ValueError, match=r"unknown layer name.*nope"):
        gb.LRP(model, C.Composite(name_map={"nope": C.Epsilon()}))
    with pytest.raises(ValueError, match=r"layers: unknown layer name.*fc9"):
        gb.LRP(model)(make_data(6, 2), target=0, layers=["fc9"])
    with pytest.raises(ValueError, match="unknown preset 'EpsilonMinus'"):
        gb.LRP(model, "EpsilonMinus")
    with pytest.raises(TypeError, match="composite"):
        gb.LRP(model, 3)


def test_bad_rule_options(model) -> None:
    with pytest.raises(ValueError, match="alpha - beta"):
        C.AlphaBeta(2.0, 2.0)
    with pytest.raises(ValueError, match="epsilon"):
        gb.LRP(model, epsilon=-1.0)
    with pytest.raises(TypeError, match="need a composite"):
        gb.LRP(model, gamma=0.5)
    with pytest.raises(TypeError):
        gb.LRP(model, "EpsilonPlus", gamma=0.5)


def test_bad_data(model) -> None:
    lrp = gb.LRP(model)
    with pytest.raises(ValueError, match="X"):
        lrp(make_data(5, 3), target=0)
    with pytest.raises(ValueError, match="target"):
        lrp(make_data(6, 3), target=7)
    with pytest.raises(ValueError, match="NaN"):
        lrp(np.full((2, 6), np.nan), target=0)
    with pytest.raises(TypeError, match="native network"):
        gb.LRP(gb.wrap(lambda X: X[:, :1], 6))


def test_input_is_not_modified(model) -> None:
    X = make_data(6, 4)
    before = X.copy()
    gb.LRP(model, "EpsilonAlpha2Beta1Flat")(X, target=0)
    np.testing.assert_array_equal(X, before)
