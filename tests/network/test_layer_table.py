"""The layer table: the element-wise activations added as one table entry each (mish, clamp,
hardsigmoid, hardswish, selu), scale_shift and reduce_mean against the NumPy reference and torch,
DeepLIFT completeness through the new activations, bad parameters, and the traits the core
reports for every registered kind."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import glassbox as gb
from conftest import Arch, build, make_data, make_spec
from glassbox import _core
from glassbox.models.layers import ACTIVATION_KINDS, LAYERS
from glassbox.models.shapes import layer_shapes
from glassbox.models.spec import NetworkSpec
from reference.deeplift import RESCALED
from reference.deeplift import deeplift as deeplift_reference
from reference.network import forward, gradient

NEW_ACTIVATIONS: dict[str, dict[str, Any]] = {
    "mish": {},
    "clamp": {"min": -0.5, "max": 1.25},
    "clamp_min_only": {"min": 0.0},
    "clamp_max_only": {"max": 0.75},
    "clamp_unbounded": {},
    "hardsigmoid": {},
    "hardswish": {},
    "selu": {},
}


def _kind(case: str) -> str:
    return "clamp" if case.startswith("clamp") else case


def _inputs(d: int, n_rows: int = 8, seed: int = 5) -> np.ndarray:
    """Rows spread over [-6, 6] plus each new activation's breakpoints, exactly."""
    X = make_data(d, n_rows=n_rows, seed=seed) * 3.0
    X[0, :6] = [-3.0, 3.0, -0.5, 1.25, 0.0, 0.75]
    X[1, :3] = [-7.5, 7.5, 25.0]
    return X


def _activation_spec(case: str, d: int = 6, k: int = 3, seed: int = 0) -> NetworkSpec:
    """The activation straight on the input (so inputs hit its breakpoints), then a dense."""
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(d,))
    spec.add(_kind(case), "act", inputs=[-1], params=dict(NEW_ACTIVATIONS[case]))
    spec.add("dense", "fc", weight=rng.normal(0.0, 1.0, (k, d)), bias=rng.normal(0.0, 0.3, k))
    return spec


def _check_against_reference(spec: NetworkSpec, X: np.ndarray, rtol: float = 1e-5) -> None:
    model = build(spec)
    ref = forward(spec, X)
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(model.predict(X), ref, rtol=rtol, atol=rtol * scale)
    targets = np.arange(len(X)) % model.n_outputs
    grad = gb.Saliency(model, abs=False)(X, target=targets).values
    ref_grad = gradient(spec, X, targets)
    gscale = max(1.0, float(np.abs(ref_grad).max()))
    np.testing.assert_allclose(grad, ref_grad, rtol=10 * rtol, atol=rtol * gscale)


# ---------------------------------------------------------------------------------------------
# Element-wise activations


@pytest.mark.parametrize("case", sorted(NEW_ACTIVATIONS))
def test_new_activation_matches_reference(case: str) -> None:
    _check_against_reference(_activation_spec(case), _inputs(6))


@pytest.mark.parametrize("case", sorted(NEW_ACTIVATIONS))
def test_new_activation_in_an_mlp_matches_reference(case: str) -> None:
    arch = Arch(case, (5, 12, 8, 3), _kind(case), dict(NEW_ACTIVATIONS[case]))
    _check_against_reference(make_spec(arch, seed=7), make_data(5, n_rows=9, seed=2) * 2.0)


def _torch_cases() -> dict[str, tuple[str, dict[str, float], Callable[[Any], Any], bool]]:
    """case -> (kind, params, torch function, whether inputs may sit on breakpoints)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return {
        "mish": ("mish", {}, torch.nn.Mish(), True),
        "selu": ("selu", {}, torch.nn.SELU(), True),
        "hardsigmoid": ("hardsigmoid", {}, torch.nn.Hardsigmoid(), True),
        "hardswish": ("hardswish", {}, torch.nn.Hardswish(), True),
        "clamp": ("clamp", {"min": -0.5, "max": 1.25}, lambda t: torch.clamp(t, -0.5, 1.25), True),
        "clamp_min": ("clamp", {"min": 0.0}, lambda t: torch.clamp(t, min=0.0), True),
        "clamp_inf": ("clamp", {}, lambda t: torch.clamp(t, -math.inf, math.inf), True),
        # Hardtanh / ReLU6 as clamp: torch gives them derivative 0 on the bounds, clamp 1
        "hardtanh": ("clamp", {"min": -1.0, "max": 1.0}, F.hardtanh, False),
        "relu6": ("clamp", {"min": 0.0, "max": 6.0}, F.relu6, False),
    }


@pytest.mark.parametrize(
    "case",
    ["mish", "selu", "hardsigmoid", "hardswish", "clamp", "clamp_min", "clamp_inf", "hardtanh",
     "relu6"],
)  # fmt: skip
def test_new_activation_matches_torch_float32(case: str) -> None:
    torch = pytest.importorskip("torch")
    kind, params, fn, on_breakpoints = _torch_cases()[case]
    d = 8
    X = make_data(d, n_rows=64, seed=11) * 4.0
    # row r's gradient is checked at its target r % d: put the special points there
    if on_breakpoints:
        for j, value in enumerate([-3.0, 3.0, -0.5, 1.25, 0.0, -1.0, 1.0, 6.0]):
            X[j, j] = value
    else:  # keep clear of the bounds -1, 0, 1, 6 where the conventions differ
        X[np.isin(X, [-1.0, 0.0, 1.0, 6.0])] += 0.125
    for j, value in enumerate([-30.0, -10.0, 10.0, 30.0]):
        X[d + j, j] = value
    spec = NetworkSpec(input_shape=(d,))
    spec.add(kind, "act", params=params)
    model = build(spec)
    xt = torch.tensor(X, requires_grad=True)
    out = fn(xt)
    np.testing.assert_allclose(model.predict(X), out.detach().numpy(), rtol=1e-6, atol=1e-6)
    targets = np.arange(len(X)) % d
    out[torch.arange(len(X)), torch.tensor(targets)].sum().backward()
    grad = gb.Saliency(model, abs=False)(X, target=targets).values
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ["mish", "selu", "hardsigmoid", "hardswish", "clamp", "clamp_min"])
def test_reference_matches_torch_float64(case: str) -> None:
    torch = pytest.importorskip("torch")
    kind, params, fn, _ = _torch_cases()[case]
    X = make_data(6, n_rows=6, seed=12).astype(np.float64) * 4.0
    for j, value in enumerate([-3.0, 3.0, -0.5, 1.25, 0.0, 25.0]):
        X[j, j] = value
    spec = NetworkSpec(input_shape=(6,))
    spec.add(kind, "act", params=params)
    xt = torch.tensor(X, requires_grad=True)
    out = fn(xt)
    np.testing.assert_allclose(forward(spec, X), out.detach().numpy(), rtol=1e-12, atol=1e-14)
    targets = np.arange(6)
    out[torch.arange(6), torch.tensor(targets)].sum().backward()
    # torch's hardsigmoid backward multiplies by the float32 constant 1.0f / 6
    rtol = 1e-7 if kind == "hardsigmoid" else 1e-12
    np.testing.assert_allclose(gradient(spec, X, targets), xt.grad.numpy(), rtol=rtol, atol=1e-14)


def test_hardswish_and_hardsigmoid_breakpoints_follow_torch() -> None:
    spec = NetworkSpec(input_shape=(4,))
    spec.add("hardswish", "hs")
    X = np.array([[-3.0, -2.999, 2.999, 3.0]], np.float32)
    grads = [gb.Saliency(build(spec), abs=False)(X, target=j).values[0, j] for j in range(4)]
    np.testing.assert_allclose(grads, [0.0, -0.4996667, 1.4996667, 1.0], rtol=1e-5)
    spec = NetworkSpec(input_shape=(4,))
    spec.add("hardsigmoid", "hsig")
    grads = [gb.Saliency(build(spec), abs=False)(X, target=j).values[0, j] for j in range(4)]
    np.testing.assert_allclose(grads, [0.0, 1 / 6, 1 / 6, 0.0], rtol=1e-6)


@pytest.mark.parametrize("case", sorted(NEW_ACTIVATIONS))
def test_deeplift_completeness_through_new_activation(case: str) -> None:
    arch = Arch(case, (5, 12, 8, 3), _kind(case), dict(NEW_ACTIVATIONS[case]))
    spec = make_spec(arch, seed=3)
    X = make_data(5, n_rows=6, seed=8) * 2.0
    B = make_data(5, n_rows=1, seed=9)[0]
    exp = gb.DeepLift(build(spec))(X, baselines=B, target=1)
    out = forward(spec, X)[:, 1] - forward(spec, B[None])[0, 1]
    values = exp.values.astype(np.float64)
    tol = 1e-4 * (1.0 + np.abs(out) + np.abs(values).sum(axis=1))
    assert np.all(np.abs(values.sum(axis=1) - out) <= tol)
    assert np.all(np.abs(exp.delta) <= tol)
    ref = deeplift_reference(spec, X, B[None], 1)
    np.testing.assert_allclose(values, ref, rtol=1e-3, atol=1e-4 * max(1.0, np.abs(ref).max()))


def test_linear_path_shortcut_only_for_relu_like_activations() -> None:
    for kind, params, expected in [
        ("relu", {}, True),
        ("leaky_relu", {"negative_slope": 0.2}, True),
        ("clamp", {"min": 0.0}, False),  # ReLU's values, but not declared ReLU-like
        ("hardswish", {}, False),
    ]:
        spec = make_spec(Arch(kind, (4, 6, 2), kind, params), seed=1)
        assert _core.linear_path_applies(build(spec).network) is expected, kind


# ---------------------------------------------------------------------------------------------
# scale_shift


def _sizes(shape: tuple[int, ...]) -> dict[str, int]:
    return {"scalar": 1, "channel": shape[0], "full": int(np.prod(shape))}


SCALE_SHIFT_CASES = [
    ("scalar", "scalar"),
    ("channel", "scalar"),
    ("scalar", "channel"),
    ("channel", "channel"),
    ("full", "channel"),
    ("scalar", "full"),
    ("full", "full"),
    ("scalar", None),
    (None, "full"),
]


@pytest.mark.parametrize("shape", [(6,), (3, 4, 5)], ids=["vector", "image"])
@pytest.mark.parametrize(("scale", "shift"), SCALE_SHIFT_CASES)
def test_scale_shift_matches_reference(
    shape: tuple[int, ...], scale: str | None, shift: str | None
) -> None:
    rng = np.random.default_rng(4)
    sizes = _sizes(shape)
    weights = {}
    if scale is not None:
        # a per-element constant keeps the sample's shape, a per-channel one is (C,) or (C, 1, 1)
        size = sizes[scale]
        weights["scale"] = rng.normal(0.0, 1.5, shape if scale == "full" else size)
    if shift is not None:
        size = sizes[shift]
        value = rng.normal(0.0, 1.0, size)
        if shift == "channel" and len(shape) == 3:
            value = value.reshape(-1, 1, 1)
        weights["shift"] = value
    spec = NetworkSpec(input_shape=shape)
    spec.add("scale_shift", "norm", inputs=[-1], **weights)
    if len(shape) > 1:
        spec.add("flatten", "flat")
    n = int(np.prod(shape))
    spec.add("dense", "fc", weight=rng.normal(0.0, 1.0, (3, n)), bias=None)
    X = make_data(shape, n_rows=5, seed=6)
    _check_against_reference(spec, X)
    # the layer itself is y = x * scale + shift, literally
    alone = NetworkSpec(input_shape=shape)
    alone.add("scale_shift", "norm", inputs=[-1], **weights)
    expected = X.astype(np.float64) * _broadcast(weights.get("scale"), shape, 1.0)
    expected = expected + _broadcast(weights.get("shift"), shape, 0.0)
    np.testing.assert_allclose(
        build(alone).predict(X).reshape(X.shape), expected, rtol=1e-6, atol=1e-6
    )


def _broadcast(value: np.ndarray | None, shape: tuple[int, ...], default: float) -> np.ndarray:
    if value is None:
        return np.array(default)
    v = np.asarray(value, np.float64).ravel()
    if v.size in (1, int(np.prod(shape))):
        return v.reshape(shape) if v.size > 1 else v.reshape(())
    return v.reshape((-1,) + (1,) * (len(shape) - 1))


def test_scale_shift_is_the_constant_arithmetic_of_a_model() -> None:
    # x / 255 - 0.5 on an image, then 1 - x
    spec = NetworkSpec(input_shape=(1, 2, 2))
    spec.add("scale_shift", "div_sub", scale=np.array([1 / 255]), shift=np.array([-0.5]))
    spec.add("scale_shift", "one_minus", scale=np.array([-1.0]), shift=np.array([1.0]))
    X = np.array([[[[0.0, 51.0], [127.5, 255.0]]]], np.float32)
    out = build(spec).predict(X).reshape(X.shape)
    np.testing.assert_allclose(out, 1.0 - (X / 255.0 - 0.5), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# reduce_mean


REDUCE_CASES: list[tuple[tuple[int, ...], Any]] = [
    ((3, 4, 5), (0,)),
    ((3, 4, 5), (1, 2)),
    ((3, 4, 5), (-1,)),
    ((3, 4, 5), (0, 2)),
    ((3, 4, 5), (2, 0)),
    ((3, 4, 5), 1),
    ((3, 4, 5), None),
    ((3, 4, 5), (0, 1, 2)),
    ((7,), (0,)),
    ((7,), None),
    ((2, 6), (-1,)),
]


@pytest.mark.parametrize("keepdims", [False, True], ids=["dropped", "keepdims"])
@pytest.mark.parametrize(("shape", "axes"), REDUCE_CASES)
def test_reduce_mean_matches_reference(shape: tuple[int, ...], axes: Any, keepdims: bool) -> None:
    rng = np.random.default_rng(2)
    params: dict[str, Any] = {"keepdims": keepdims}
    if axes is not None:
        params["axes"] = axes
    spec = NetworkSpec(input_shape=shape)
    spec.add("reduce_mean", "mean", inputs=[-1], params=params)
    model = build(spec)
    X = make_data(shape, n_rows=4, seed=3)
    # the output shape, the same from the core and from models/shapes.py
    reduced = tuple(range(len(shape))) if axes is None else np.atleast_1d(axes) % len(shape)
    expected = X.astype(np.float64).mean(axis=tuple(int(a) + 1 for a in reduced), keepdims=keepdims)
    expected_shape = expected.shape[1:] or (1,)
    assert tuple(model.network.layer_shapes[-1]) == expected_shape
    assert layer_shapes(spec)[-1] == expected_shape
    np.testing.assert_allclose(model.predict(X), expected.reshape(len(X), -1), rtol=1e-6, atol=1e-6)
    # then a dense head for the gradient
    size = int(np.prod(expected_shape))
    if len(expected_shape) > 1:
        spec.add("flatten", "flat")
    spec.add("dense", "fc", weight=rng.normal(0.0, 1.0, (2, size)), bias=rng.normal(0.0, 0.3, 2))
    _check_against_reference(spec, X)


def test_reduce_mean_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    spec = NetworkSpec(input_shape=(3, 4, 5))
    spec.add("reduce_mean", "mean", params={"axes": (1, -1), "keepdims": True})
    model = build(spec)
    X = make_data((3, 4, 5), n_rows=4, seed=1)
    xt = torch.tensor(X, requires_grad=True)
    out = xt.mean(dim=(2, 3), keepdim=True).reshape(4, -1)
    np.testing.assert_allclose(model.predict(X), out.detach().numpy(), rtol=1e-6, atol=1e-7)
    out[:, 1].sum().backward()
    grad = gb.Saliency(model, abs=False)(X, target=1).values
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# Bad parameters name the layer and the parameter


def _one_layer(kind: str, shape: tuple[int, ...], name: str, **kwargs: Any) -> NetworkSpec:
    spec = NetworkSpec(input_shape=shape)
    spec.add(kind, name, **kwargs)
    return spec


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (
            _one_layer("clamp", (4,), "clip", params={"min": 2.0, "max": 1.0}),
            r"layer 'clip': clamp: 'min' must be <= 'max' \(got min=2, max=1\)",
        ),
        (
            _one_layer("clamp", (4,), "clip", params={"min": math.nan}),
            r"layer 'clip': clamp: 'min' must be a finite float or its default, got nan",
        ),
        (
            _one_layer("softplus", (4,), "sp", params={"beta": 0.0}),
            r"layer 'sp': softplus: 'beta' must be non-zero",
        ),
        (
            _one_layer("scale_shift", (3, 4, 4), "norm", scale=np.ones(5)),
            r"layer 'norm': scale_shift: 'scale' has 5 values; expected 1, 3 \(one per channel "
            r"of \(3, 4, 4\)\) or 48 \(one per element\)",
        ),
        (
            _one_layer("scale_shift", (6,), "norm", scale=np.ones(1), shift=np.zeros(4)),
            r"layer 'norm': scale_shift: 'shift' has 4 values; expected 1, 6",
        ),
        (
            _one_layer("reduce_mean", (3, 4, 5), "mean", params={"axes": (0, 3)}),
            r"layer 'mean': reduce_mean: 'axes' entry 3 is out of range for per-sample shape "
            r"\(3, 4, 5\)",
        ),
        (
            _one_layer("reduce_mean", (3, 4, 5), "mean", params={"axes": (-4,)}),
            r"layer 'mean': reduce_mean: 'axes' entry -4 is out of range",
        ),
        (
            _one_layer("reduce_mean", (3, 4, 5), "mean", params={"axes": (1, -2)}),
            r"layer 'mean': reduce_mean: 'axes' names axis 1 twice",
        ),
        (
            _one_layer("reduce_mean", (3, 4, 5), "mean", params={"axes": ()}),
            r"layer 'mean': reduce_mean: 'axes' is empty",
        ),
        (
            _one_layer("reduce_mean", (3, 4, 5), "mean", params={"axes": (0.5,)}),
            r"layer 'mean': reduce_mean: 'axes' must be an integer in \[-9007199254740992, "
            r"9007199254740992\], got 0.5",
        ),
        (
            _one_layer("mish", (2,), "act", inputs=[-1, -1]),
            r"layer 'act': mish: expects exactly one input",
        ),
    ],
)
def test_bad_parameters_raise_value_error(spec: NetworkSpec, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build(spec)


# ---------------------------------------------------------------------------------------------
# Traits


CATEGORIES = {"affine", "activation", "pooling", "normalization", "shape", "graph", "recurrent"}
DEEPLIFT = {"rescale", "softmax", "max_pool", "gradient"}


def test_layer_kind_traits_cover_every_registered_kind() -> None:
    traits = _core.layer_kind_traits()
    kinds = _core.registered_layer_kinds()
    assert sorted(traits) == sorted(kinds)
    for kind, entry in traits.items():
        assert set(entry) == {"category", "deeplift", "params"}, kind
        assert entry["category"] in CATEGORIES, kind
        assert entry["deeplift"] in DEEPLIFT, kind
        assert all(isinstance(v, float) for v in entry["params"].values()), kind


def test_layer_kind_traits_values() -> None:
    traits = _core.layer_kind_traits()
    by_category: dict[str, set[str]] = {}
    for kind, entry in traits.items():
        by_category.setdefault(entry["category"], set()).add(kind)
    assert by_category["affine"] == {"dense", "conv2d"}
    assert by_category["pooling"] == {
        "max_pool2d",
        "avg_pool2d",
        "adaptive_avg_pool2d",
        "reduce_mean",
        "reduce_sum",
        "reduce_max",
    }
    assert by_category["normalization"] == {"batch_norm", "scale_shift", "layer_norm", "rms_norm"}
    compares = {f"compare_{op}" for op in ("eq", "ne", "lt", "le", "gt", "ge")}
    assert by_category["shape"] == {
        "flatten",
        "reshape",
        "permute",
        "dropout",
        "identity",
        "input",
        "embedding",
        "take",
        "constant",
        *compares,
    }
    assert by_category["graph"] == {"add", "concat", "matmul", "sub", "mul", "div", "where"}
    assert by_category["recurrent"] == {"lstm", "gru"}
    # every element-wise activation gets DeepLIFT's rescale rule; softmax its own
    elementwise = by_category["activation"] - {"softmax", "log_softmax"}
    assert {kind for kind in traits if traits[kind]["deeplift"] == "rescale"} == elementwise
    assert traits["softmax"]["deeplift"] == "softmax"
    assert traits["log_softmax"]["deeplift"] == "gradient"
    assert traits["max_pool2d"]["deeplift"] == "max_pool"
    # the NumPy DeepLIFT reference rescales the same kinds (gelu_tanh is gelu there)
    assert elementwise - {"gelu_tanh"} == RESCALED
    assert traits["clamp"]["params"] == {"min": -math.inf, "max": math.inf}
    assert traits["softplus"]["params"] == {"beta": 1.0, "threshold": 20.0}
    assert traits["leaky_relu"]["params"] == {"negative_slope": 0.01}
    assert traits["mish"]["params"] == {}


def test_spec_kinds_are_registered() -> None:
    registered = set(_core.registered_layer_kinds())
    assert {native for kind in LAYERS.values() for native in kind.native_kinds} <= registered
    traits = _core.layer_kind_traits()
    assert set(ACTIVATION_KINDS) <= {
        kind for kind, entry in traits.items() if entry["category"] == "activation"
    }


def test_the_python_layer_table_and_the_core_agree_both_ways() -> None:
    """Every Python kind compiles to registered core kinds with the same category, DeepLIFT
    trait and scalar defaults, and every core kind is described by one Python entry."""
    traits = _core.layer_kind_traits()
    native_of = {native: kind for kind in LAYERS.values() for native in kind.native_kinds}
    assert set(native_of) == set(traits) == set(_core.registered_layer_kinds())
    for native, kind in native_of.items():
        assert traits[native]["category"] == kind.category, native
        assert traits[native]["deeplift"] == kind.deeplift, native
        for key, default in traits[native]["params"].items():
            assert kind.params.get(key) == default, (native, key)
        if kind.category == "activation" and kind.deeplift == "rescale":
            assert set(traits[native]["params"]) == set(kind.params) - {"approximate"}, native


def test_every_kind_has_a_reference_implementation() -> None:
    from reference.network import _LAYERS, _MULTI_INPUT

    assert set(LAYERS) == set(_LAYERS) | set(_MULTI_INPUT)
