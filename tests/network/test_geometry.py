"""Checked geometry: absurd or invalid layer geometry, sizes above the ceiling, non-integer and
non-finite parameters and weights are rejected when the network is built, with a ValueError
naming the layer (never an overflow, a crash or a huge allocation); and a built network is
frozen while in use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassbox
from conftest import build
from glassbox import _core
from glassbox.models.layers import MAX_ACTIVATION_SIZE, check_size, conv_out, pool_out
from glassbox.models.native import _compile
from glassbox.models.shapes import layer_shapes
from glassbox.models.spec import NetworkSpec

BIG = 3689348814741910325  # x 5 overflows int64


def test_the_ceiling_is_one_constant_on_both_sides() -> None:
    assert _core.max_activation_size() == MAX_ACTIVATION_SIZE == 2**28


def _conv(input_shape: tuple[int, ...], weight_shape=(2, 1, 3, 3), **params) -> NetworkSpec:  # type: ignore[no-untyped-def]
    spec = NetworkSpec(input_shape=input_shape)
    spec.add("conv2d", "features.0", params=params, weight=np.ones(weight_shape), bias=None)
    spec.add("flatten", "flat")
    return spec


def _pool(kind: str, input_shape: tuple[int, ...] = (1, 8, 8), **params) -> NetworkSpec:  # type: ignore[no-untyped-def]
    spec = NetworkSpec(input_shape=input_shape)
    spec.add(kind, "pool", params=params)
    return spec


@pytest.mark.parametrize(
    ("make", "match"),
    [
        # the probe's file: input dims whose product overflows int64
        (lambda: _conv((1, BIG, 5)), r"input_shape: shape .* more than the ceiling of 268435456"),
        (lambda: _conv((1, 2**15, 2**14)), r"input_shape: .* more than the ceiling of 268435456"),
        (lambda: _conv((1, 0, 5)), r"input_shape: shape \(1, 0, 5\) has an extent below 1"),
        (lambda: _conv((1, 8, 8), stride=(0, 1)), r"layer 'features\.0': conv2d: stride must be"),
        (lambda: _conv((1, 8, 8), dilation=(1, 0)), r"'features\.0': conv2d: dilation must be"),
        (lambda: _conv((1, 8, 8), padding=(-1, 0, 0, 0)), r"conv2d: padding must be non-negative"),
        # pads whose output, padded copy or im2col columns exceed the ceiling
        (lambda: _conv((1, 8, 8), padding=2**30), r"'features\.0': conv2d: output: .* more than"),
        (
            lambda: _conv((1, 8, 8), padding=2**40, dilation=2**40),
            r"'features\.0': conv2d: zero-padded input: .* more than",
        ),
        (
            lambda: _conv((64, 1024, 1024), (64, 64, 3, 3), padding=1),
            r"conv2d: im2col columns: shape \(64, 3, 3, 1024, 1024\) .* more than",
        ),
        (lambda: _conv((1, 8, 8), padding=2.0**60), r"conv2d: 'padding' must be an integer in"),
        (lambda: _conv((1, 8, 8), stride=float("nan")), r"conv2d: 'stride' must be an integer"),
        (lambda: _conv((1, 8, 8), groups=2**70), r"conv2d: 'groups' must be an integer in"),
        (
            lambda: _pool("max_pool2d", kernel=2, padding=2),
            r"'pool': max_pool2d: padding 2 must be smaller than the kernel height 2 "
            r"\(allowed: 0 to 1\)",
        ),
        # pads < kernel, but with dilation the first window holds only padding (-inf before)
        (
            lambda: _pool("max_pool2d", (1, 2, 8), kernel=(2, 1), padding=(1, 0), dilation=(3, 1)),
            r"'pool': max_pool2d: window 0 along the height lies wholly in the padding",
        ),
        (
            lambda: _pool("avg_pool2d", kernel=3, padding=2**20),
            r"avg_pool2d: padding 1048576 must be smaller",
        ),
        (lambda: _pool("max_pool2d", kernel=2, padding=2**40), r"must be smaller than the kernel"),
        (lambda: _pool("max_pool2d", kernel=2, stride=(0, 1)), r"max_pool2d: stride must be"),
        (lambda: _pool("max_pool2d", kernel=(2, 0)), r"max_pool2d: kernel must be positive"),
        (lambda: _pool("max_pool2d", (1, BIG, 5), kernel=2), r"input_shape: .* more than"),
        (
            lambda: _pool("adaptive_avg_pool2d", output_size=(2**15, 2**15)),
            r"'pool': adaptive_avg_pool2d: output: .* more than",
        ),
    ],
)
def test_absurd_geometry_is_rejected_naming_the_layer(make, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        build(make())


def test_reshape_concat_and_dense_outputs_are_checked() -> None:
    spec = NetworkSpec(input_shape=(4,))
    spec.add("reshape", "r", params={"shape": (2**20, 2**20)})
    with pytest.raises(ValueError, match=r"layer 'r': reshape: cannot reshape"):
        build(spec)
    spec = NetworkSpec(input_shape=(4,))
    spec.add("reshape", "r", params={"shape": (2**50, 2**50, -1)})
    with pytest.raises(ValueError, match=r"layer 'r': reshape: target size: .* overflows"):
        build(spec)
    spec = NetworkSpec(input_shape=(2**27,))
    spec.add("concat", "cat", inputs=[-1, -1, -1], params={"axis": 0})
    with pytest.raises(ValueError, match=r"layer 'cat': concat: output: .* more than"):
        build(spec)


def test_the_network_input_and_indices_are_checked_at_the_core() -> None:
    for shape in ([1, BIG, 5], [2**20, 2**20], [0], [], [-3]):
        with pytest.raises(ValueError, match=r"network: input_shape"):
            _core.Network(shape)
    net = _core.Network([3])
    with pytest.raises(ValueError, match=r"input index 5 must be -1"):
        net.add_layer("relu", "act", [5], {}, {})


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_rejected_naming_the_layer(bad: float) -> None:
    weight = np.ones((2, 3), np.float32)
    weight[1, 2] = bad
    spec = NetworkSpec(input_shape=(3,))
    spec.add("dense", "fc", weight=weight, bias=None)
    with pytest.raises(ValueError, match=r"layer 'fc': dense: weight 'weight' holds NaN or inf"):
        build(spec)


def test_non_finite_activation_params_are_rejected() -> None:
    for kind, params in (
        ("leaky_relu", {"negative_slope": float("nan")}),
        ("elu", {"alpha": float("inf")}),
        ("clamp", {"min": float("inf")}),
        ("leaky_relu", {"negative_slope": 1e300}),
    ):
        spec = NetworkSpec(input_shape=(3,))
        spec.add(kind, "act", params=params)
        with pytest.raises(ValueError, match=rf"layer 'act': {kind}: '.*' must be a finite float"):
            build(spec)
    spec = NetworkSpec(input_shape=(3,))
    spec.add("clamp", "act", params={"min": -np.inf, "max": 6.0})  # no lower bound: fine
    out = build(spec).predict(np.full((1, 3), -1e30, np.float32))
    np.testing.assert_array_equal(out, np.full((1, 3), -1e30, np.float32))


def test_python_shape_algebra_checks_the_same_geometry() -> None:
    with pytest.raises(ValueError, match="stride must be positive"):
        conv_out(8, kernel=3, stride=0, pad_begin=0, pad_end=0, dilation=1)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        pool_out(8, kernel=3, stride=1, pad_begin=-1, pad_end=0, dilation=1, ceil_mode=False)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_out(2, kernel=5, stride=1, pad_begin=0, pad_end=0, dilation=1)
    with pytest.raises(ValueError, match="more than the ceiling"):
        check_size((1, BIG, 5), "x")
    with pytest.raises(TypeError, match=r"x: shape \(3, 1.5\) must hold integers"):
        check_size((3, 1.5), "x")
    assert check_size((np.int64(3), 4), "x") == (3, 4)
    with pytest.raises(ValueError, match=r"padding 3 must be smaller than the kernel 2"):
        layer_shapes(_pool("max_pool2d", kernel=2, padding=3))
    with pytest.raises(ValueError, match=r"conv2d: im2col columns"):
        layer_shapes(_conv((64, 1024, 1024), (64, 64, 3, 3), padding=1))


def test_geometry_at_the_limits_still_builds_and_matches_torch_rules() -> None:
    # pads up to kernel - 1 (ONNX's rule) give windows that all touch the input: finite outputs
    for kind in ("max_pool2d", "avg_pool2d"):
        spec = _pool(kind, (1, 4, 4), kernel=3, stride=1, padding=2)
        out = build(spec).predict(np.full((2, 1, 4, 4), -5.0))
        assert out.shape == (2, 36) and np.isfinite(out).all() and (out < 0).all()
    # padding of half the kernel (torch's limit); ceil_mode windows too
    spec = _pool("max_pool2d", (1, 5, 5), kernel=3, stride=2, padding=1, ceil_mode=True)
    model = build(spec)
    assert model.network.layer_shapes == [[1, 3, 3]]
    assert np.isfinite(model.predict(np.zeros((2, 1, 5, 5)))).all()
    spec = _pool("avg_pool2d", (1, 5, 5), kernel=(2, 3), padding=(1, 1), count_include_pad=False)
    out = build(spec).predict(np.ones((1, 1, 5, 5)))
    np.testing.assert_allclose(out, 1.0)


LOAD_AT_THE_CEILING = r"""
import resource
from glassbox.models.native import build_network
from glassbox.models.spec import NetworkSpec

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for kind, params in (
    ("avg_pool2d", {"kernel": 1}),
    ("avg_pool2d", {"kernel": (1, 3), "stride": 1, "padding": (0, 1), "count_include_pad": False}),
    ("max_pool2d", {"kernel": 1}),
    ("reduce_mean", {"axes": (2,), "keepdims": True}),
):
    spec = NetworkSpec(input_shape=(1, 2**23, 2**5))  # 2^28 elements per sample: the ceiling
    spec.add(kind, "layer", params=params)
    model = build_network(spec)
    assert model.n_outputs == 2**28 or kind == "reduce_mean", (kind, model.n_outputs)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_building_layers_at_the_ceiling_allocates_nothing_of_their_size() -> None:
    """A load checks declared sizes and keeps no table of an activation's size (a 2 KB file
    declaring a 2^28-element sample built 1 GiB tables before): measured in a subprocess."""
    grown_mib = int(_run_python(LOAD_AT_THE_CEILING).split()[-1])
    assert grown_mib < 64


def _run_python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(Path(glassbox.__file__).parents[1]))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    return result.stdout


# --------------------------------------------------------------------------------------------
# Frozen networks
# --------------------------------------------------------------------------------------------


def _mlp(width: int = 64) -> NetworkSpec:
    rng = np.random.default_rng(0)
    spec = NetworkSpec(input_shape=(width,))
    for i in range(4):
        spec.add("dense", f"fc{i}", weight=rng.normal(size=(width, width)) / 8, bias=None)
        spec.add("tanh", f"act{i}")
    return spec


def test_a_compiled_network_is_frozen() -> None:
    model = build(_mlp())
    assert model.network.frozen
    with pytest.raises(ValueError, match=r"layer 'extra': the network is frozen .* build a new"):
        model.network.add_layer("relu", "extra", [7], {}, {})
    assert model.network.n_layers == 8
    raw = _core.Network([2])
    raw.add_layer("relu", "act", [-1], {}, {})
    assert not raw.frozen
    raw.predict(np.ones((1, 2), np.float32))  # a network that has run is frozen
    assert raw.frozen
    with pytest.raises(ValueError, match="frozen"):
        raw.add_layer("relu", "act2", [0], {}, {})
    assert _compile(_mlp()).frozen


MUTATE_WHILE_COMPUTING = r"""
import threading
import numpy as np
import glassbox as gb
from glassbox.models.native import build_network
from glassbox.models.spec import NetworkSpec

rng = np.random.default_rng(0)
spec = NetworkSpec(input_shape=(256,))
for i in range(4):
    spec.add("dense", f"fc{i}", weight=rng.normal(size=(256, 256)) / 8, bias=None)
    spec.add("tanh", f"act{i}")
model = build_network(spec)
X = rng.normal(size=(4000, 256)).astype(np.float32)
errors, done = [], threading.Event()

def compute():
    try:
        for _ in range(3):
            gb.IntegratedGradients(model, n_steps=8, n_threads=2)(X[:400], target=0)
            model.predict(X, n_threads=2)
    finally:
        done.set()

def mutate():
    while not done.is_set():
        try:
            model.network.add_layer("relu", "extra", [7], {}, {})
        except ValueError as error:
            errors.append(str(error))
        else:
            errors.append("add_layer succeeded on a network in use")
            return

threads = [threading.Thread(target=compute), threading.Thread(target=mutate)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert errors and all("the network is frozen" in e for e in errors), errors[:3]
assert model.network.n_layers == 8
print("ok", len(errors))
"""


def test_mutating_the_network_while_it_computes_is_a_clean_error() -> None:
    """add_layer from another thread during a computation (a segfault before): in a subprocess,
    so that a crash fails the test instead of the test run."""
    assert _run_python(MUTATE_WHILE_COMPUTING).startswith("ok ")
