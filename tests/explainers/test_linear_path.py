"""The exact straight-path shortcut of Integrated Gradients (core/methods/linear_path.cpp).

It must give what evaluating every path point through the whole network gives, for every
quadrature rule, however the points are split into blocks, and apply only where it is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox import _core
from glassbox.models.spec import NetworkSpec
from reference import gradients as reference

METHODS = ["riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"]


def _mlp(
    widths: list[int], activations: list[str], seed: int, final: str | None = None
) -> NetworkSpec:
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(widths[0],))
    for i in range(len(widths) - 1):
        weight = rng.normal(0, 1 / np.sqrt(widths[i]), (widths[i + 1], widths[i]))
        spec.add("dense", f"fc{i}", weight=weight, bias=rng.normal(0, 0.3, widths[i + 1]))
        if i < len(activations):
            spec.add(activations[i], f"act{i}", params={"negative_slope": 0.05})
    if final:
        spec.add(final, "head")
    return spec


SHORTCUT_NETS = {
    "relu-relu": _mlp([6, 16, 12, 3], ["relu", "relu"], 0),
    "leaky-tanh": _mlp([5, 10, 8, 2], ["leaky_relu", "tanh"], 1),
    "one-hidden": _mlp([4, 9, 3], ["relu"], 2),
    "softmax-head": _mlp([6, 12, 10, 4], ["relu", "gelu"], 3, final="softmax"),
    "deep": _mlp([5, 8, 8, 8, 2], ["relu", "relu", "relu"], 4),
}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=(9, 6)), rng.normal(scale=0.5, size=(9, 6))


def _inputs(
    spec: NetworkSpec, data: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    width = spec.input_shape[0]
    return data[0][:, :width].astype(np.float32), data[1][:, :width].astype(np.float32)


@pytest.mark.parametrize("name", sorted(SHORTCUT_NETS))
def test_shortcut_applies_to_nets_opening_with_dense_pwl_dense(name: str) -> None:
    assert _core.linear_path_applies(gb.build_network(SHORTCUT_NETS[name]).network)


@pytest.mark.parametrize(
    "spec",
    [_mlp([4, 6, 2], ["gelu"], 5), _mlp([4, 6, 2], [], 6), _mlp([4, 6], ["relu"], 7)],
    ids=["smooth-first-activation", "no-activation", "too-short"],
)
def test_shortcut_does_not_apply_elsewhere(spec: NetworkSpec) -> None:
    assert not _core.linear_path_applies(gb.build_network(spec).network)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(SHORTCUT_NETS))
def test_shortcut_matches_reference_and_full_evaluation(name: str, method: str, data) -> None:
    spec = SHORTCUT_NETS[name]
    model = gb.build_network(spec)
    X, B = _inputs(spec, data)
    target = np.arange(X.shape[0]) % model.n_outputs
    fast = gb.IntegratedGradients(model, n_steps=16, method=method)(X, B, target)
    full = gb.IntegratedGradients(model, n_steps=16, method=method, fast_path=False)(X, B, target)
    expected, delta = reference.integrated_gradients(spec, X, B, target, 16, method)
    np.testing.assert_allclose(fast.values, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fast.values, full.values, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fast.delta, delta, rtol=1e-3, atol=1e-5)


def test_rows_split_across_blocks_give_the_same_result(data) -> None:
    # A budget of one byte makes every block a single point, so each row's path is streamed
    # through many blocks and the per-row state must carry over between them.
    spec = SHORTCUT_NETS["relu-relu"]
    model = gb.build_network(spec)
    X, B = _inputs(spec, data)
    whole = gb.IntegratedGradients(model, n_steps=20)(X, B, 1)
    streamed = gb.IntegratedGradients(model, n_steps=20, memory_budget=1)(X, B, 1)
    np.testing.assert_allclose(streamed.values, whole.values, rtol=1e-6, atol=1e-8)


def test_shortcut_is_bit_identical_across_thread_counts(data) -> None:
    spec = SHORTCUT_NETS["deep"]
    model = gb.build_network(spec)
    X = np.repeat(_inputs(spec, data)[0], 40, axis=0)
    one = gb.IntegratedGradients(model, n_steps=30, n_threads=1)(X, 0.0, 0)
    two = gb.IntegratedGradients(model, n_steps=30, n_threads=2)(X, 0.0, 0)
    np.testing.assert_array_equal(one.values, two.values)
