"""glassbox.inspect.activations against its NumPy reference on torch forward hooks and on the
layers' own outputs; planted dead and saturated units; determinism; bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_nets import hooked, lenet, mlp, residual

import glassbox as gb
from reference.activations import layer_stats

RNG = np.random.default_rng(0)
X_MLP = RNG.normal(size=(300, 5)).astype(np.float32)
X_LENET = RNG.normal(size=(120, 1, 28, 28)).astype(np.float32)
X_RES = RNG.normal(size=(150, 2, 8, 8)).astype(np.float32)
BOUNDS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def _check_layer(stats, i, values, bounds, exact):
    """Layer i of ``stats`` against the reference on ``values``; ``exact``: values are the
    layer's own float32 outputs, so counts and histograms agree exactly."""
    ref = layer_stats(values, bounds, stats.counts.shape[1])
    unit = stats.unit_layer == i
    np.testing.assert_allclose(stats.mean[unit], ref["mean"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats.std[unit], ref["std"], rtol=1e-5, atol=1e-6)
    tolerance = 0 if exact else 2 / len(values)
    np.testing.assert_allclose(stats.zero_fraction[unit], ref["zero_fraction"], atol=tolerance)
    np.testing.assert_allclose(
        stats.saturated_fraction[unit], ref["saturated_fraction"], atol=tolerance
    )
    if exact:
        np.testing.assert_array_equal(stats.edges[i], ref["edges"])
        np.testing.assert_array_equal(stats.counts[i], ref["counts"])
        assert (stats.below[i], stats.above[i]) == (ref["below"], ref["above"])
        assert (stats.min[i], stats.max[i]) == (ref["min"], ref["max"])


@pytest.mark.parametrize(
    ("make", "X", "names"),
    [
        (mlp, X_MLP, ["1", "3", "5", "6"]),
        (lenet, X_LENET, ["relu1", "relu2", "relu3", "relu4", "fc3"]),
        (residual, X_RES, ["relu", "act2", "fc"]),
    ],
)
def test_matches_reference_on_torch_hooks(make, X, names):
    net = make()
    model = gb.from_torch(net, input_shape=X.shape[1:])
    stats = gb.inspect.activations(model, X, bins=20)
    assert stats.layers == names  # the default: activation layers and the output layer
    hooks = hooked(net, X, names)
    for i, name in enumerate(names):
        bounds = BOUNDS.get(stats.kinds[i])
        _check_layer(stats, i, hooks[name], bounds, exact=False)
        own = gb.inspect.features(model, X, name)
        _check_layer(stats, i, own, bounds, exact=True)
    assert stats.n_rows == len(X)
    assert (
        stats.counts.sum(axis=1) + stats.below + stats.above
        == stats.units * 0 + [np.prod(hooks[n].shape) for n in names]
    ).all()


def test_named_layers_any_kind():
    model = gb.from_torch(residual(), input_shape=(2, 8, 8))
    stats = gb.inspect.activations(model, X_RES, layers=["conv2", "add", "pool"], bins=7)
    assert stats.layers == ["conv2", "add", "pool"]
    np.testing.assert_array_equal(stats.units, [4, 4, 4])
    for i, name in enumerate(stats.layers):
        _check_layer(stats, i, gb.inspect.features(model, X_RES, name), None, exact=True)


def test_planted_dead_and_saturated_units():
    net = mlp()
    with torch.no_grad():
        net[2].bias[4] = -1e3  # ReLU unit 4 of layer "3": never positive
        net[0].bias[2] = 1e3  # Tanh unit 2 of layer "1": always +1
    stats = gb.inspect.activations(gb.from_torch(net), X_MLP)
    frame = stats.to_frame()
    assert list(frame.columns) == list(gb.inspect.activation_stats.COLUMNS)
    dead = frame[frame.dead]
    assert list(zip(dead.layer, dead.unit, strict=True)) == [("3", 4)]
    assert dead.zero_fraction.tolist() == [1.0]
    saturated = frame[frame.saturated]
    assert list(zip(saturated.layer, saturated.unit, strict=True)) == [("1", 2)]
    assert frame[frame.layer == "3"].saturated_fraction.isna().all()  # ReLU: no range


def test_planted_dead_channel():
    net = lenet()
    with torch.no_grad():
        net.conv2.bias[5] = -1e3
    stats = gb.inspect.activations(gb.from_torch(net, input_shape=(1, 28, 28)), X_LENET)
    frame = stats.to_frame()
    channels = frame[frame.layer == "relu2"]
    assert channels[channels.dead].unit.tolist() == [5]
    assert channels.zero_fraction.tolist()[5] == 1.0


def _arrays(stats):
    return [stats.mean, stats.std, stats.zero_fraction, stats.counts, stats.edges, stats.min]


def test_identical_for_any_thread_count_and_close_for_any_chunk():
    model = gb.from_torch(lenet(), input_shape=(1, 28, 28))
    X = np.concatenate([X_LENET] * 20)
    runs = [gb.inspect.activations(model, X, n_threads=t) for t in (1, 2, 3)]
    for other in runs[1:]:
        for a, b in zip(_arrays(runs[0]), _arrays(other), strict=True):
            np.testing.assert_array_equal(a, b)
    small = gb.inspect.activations(model, X, memory_budget=1 << 16, n_threads=2)
    for a, b in zip(_arrays(runs[0]), _arrays(small), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # float32 forward, other blocks
    np.testing.assert_array_equal(runs[0].counts, small.counts)


def test_several_windows_of_chunks():
    # a tiny budget: chunks of 64 rows, 469 chunks, so the partial sums are added in 2 windows
    model = gb.from_torch(mlp())
    X = np.concatenate([X_MLP] * 100)
    runs = [gb.inspect.activations(model, X, memory_budget=1 << 10, n_threads=t) for t in (1, 3)]
    for a, b in zip(_arrays(runs[0]), _arrays(runs[1]), strict=True):
        np.testing.assert_array_equal(a, b)
    whole = gb.inspect.activations(model, X)
    for a, b in zip(_arrays(runs[0]), _arrays(whole), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)  # float32 GEMM blocks differ
    np.testing.assert_array_equal(runs[0].zero_fraction, whole.zero_fraction)
    np.testing.assert_array_equal(runs[0].counts, whole.counts)


def test_progress_reports_every_row():
    seen = []
    model = gb.from_torch(mlp())
    gb.inspect.activations(model, X_MLP, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(X_MLP), len(X_MLP))


def test_histogram_accessor():
    stats = gb.inspect.activations(gb.from_torch(mlp()), X_MLP, layers="5", bins=4)
    counts, edges = stats.histogram("5")
    np.testing.assert_array_equal(edges, [0.0, 0.25, 0.5, 0.75, 1.0])  # sigmoid's range
    assert counts.sum() == X_MLP.shape[0] * 6
    with pytest.raises(ValueError, match="was not inspected"):
        stats.histogram("1")


def test_bad_input():
    model = gb.from_torch(mlp())
    with pytest.raises(ValueError, match=r"layers: 'nope' is not a layer.*0, 1, 2"):
        gb.inspect.activations(model, X_MLP, layers=["nope"])
    with pytest.raises(ValueError, match="bins"):
        gb.inspect.activations(model, X_MLP, bins=0)
    with pytest.raises(ValueError, match="distinct"):
        gb.inspect.activations(model, X_MLP, layers=["1", "1"])
    with pytest.raises(ValueError, match="X"):
        gb.inspect.activations(model, X_MLP[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        gb.inspect.activations(model, np.full((2, 5), np.nan))
    with pytest.raises(TypeError, match="needs a network it can look inside"):
        gb.inspect.activations(gb.wrap(lambda X: X, n_inputs=5), X_MLP)
