"""glassbox.inspect.weights: every statistic equals the literal NumPy reference, the spectral norm
equals np.linalg.norm(W, 2), alpha equals the brute-force WeightWatcher fit and recovers the
exponent of a planted heavy tail; plots.weights draws the result's histograms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import glassbox as gb
from cnn_nets import lenet_spec, resnet_spec
from glassbox.inspect.weight_stats import COLUMNS, fit_power_law
from plots.conftest import render
from reference.weight_stats import power_law_fit, weight_stats


def _check_against_reference(spec: gb.NetworkSpec, stats: gb.inspect.WeightStats) -> None:
    affine = [layer for layer in spec.layers if layer.kind in ("dense", "conv2d")]
    assert stats.layers == [layer.name for layer in affine]
    for i, layer in enumerate(affine):
        expected = weight_stats(layer.weights["weight"])
        for column in COLUMNS:
            got = stats.stats[column][i]
            np.testing.assert_allclose(got, expected[column], rtol=1e-9, err_msg=column)


@pytest.mark.parametrize("build", [lenet_spec, resnet_spec])
def test_stats_equal_the_numpy_reference(build):
    spec = build()
    _check_against_reference(spec, gb.inspect.weights(gb.build_network(spec)))


def test_wide_layers_with_zeros_and_small_weights_equal_the_reference():
    rng = np.random.default_rng(1)
    w = rng.standard_t(3, size=(40, 70))
    w[rng.random(w.shape) < 0.2] = 0.0
    w[0, :5] = 1e-6  # small but not zero
    spec = gb.NetworkSpec(input_shape=(70,))
    spec.add("dense", "wide", weight=w, bias=np.ones(40))
    spec.add("dense", "tall", weight=rng.normal(size=(90, 40)), bias=None)
    stats = gb.inspect.weights(gb.build_network(spec))
    _check_against_reference(spec, stats)
    assert stats.stats["zero_fraction"][0] > 0.15
    assert stats.stats["small_fraction"][0] >= stats.stats["zero_fraction"][0] + 5 / w.size
    frame = stats.to_frame()
    assert list(frame.columns[:3]) == ["layer", "kind", "shape"]
    assert {"spectral_norm", "stable_rank", "alpha", "alpha_ks"} <= set(frame.columns)
    assert frame["shape"].tolist() == [(40, 70), (90, 40)]


def test_torch_cnn_spectral_norm_is_that_of_the_reshaped_kernel():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 12, 3, groups=3), nn.ReLU(), nn.Flatten(), nn.Linear(12 * 16, 4)
    )
    stats = gb.inspect.weights(net, input_shape=(3, 6, 6))
    kernel = net[0].weight.detach().double().numpy()
    assert stats.shapes[0] == (12, 1, 3, 3)
    np.testing.assert_allclose(
        stats.spectral_norm[0], np.linalg.norm(kernel.reshape(12, -1), 2), rtol=1e-10
    )
    dense = net[3].weight.detach().double().numpy()
    np.testing.assert_allclose(stats.spectral_norm[1], np.linalg.norm(dense, 2), rtol=1e-10)
    np.testing.assert_allclose(
        stats.stable_rank[1], np.sum(dense**2) / np.linalg.norm(dense, 2) ** 2, rtol=1e-10
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(10, 60),
    shape=st.sampled_from(["pareto", "uniform", "ties"]),
)
def test_power_law_fit_equals_the_brute_force_reference(seed, n, shape):
    rng = np.random.default_rng(seed)
    values = {
        "pareto": rng.pareto(2.5, n) + 0.1,
        "uniform": rng.uniform(0.0, 3.0, n),
        "ties": rng.integers(1, 4, n).astype(np.float64),
    }[shape]
    fit = fit_power_law(values)
    expected = power_law_fit(values)
    np.testing.assert_allclose(
        [fit.alpha, fit.ks, fit.xmin, fit.tail], expected, rtol=1e-9, equal_nan=True
    )
    assert (fit.reason == "") == np.isfinite(expected[0])


@pytest.mark.parametrize("exponent", [2.5, 4.0])
def test_alpha_recovers_a_planted_heavy_tail(exponent):
    """W = U diag(sqrt(lambda)) V^T with Pareto eigenvalues lambda of density ~ lambda^-exponent:
    the eigenvalues of W^T W are lambda, and alpha estimates the exponent."""
    rng = np.random.default_rng(7)
    n = 600
    eigenvalues = rng.pareto(exponent - 1.0, n) + 1.0
    u, _ = np.linalg.qr(rng.normal(size=(n, n)))
    v, _ = np.linalg.qr(rng.normal(size=(n + 100, n)))
    w = (u * np.sqrt(eigenvalues)) @ v.T
    spec = gb.NetworkSpec(input_shape=(n + 100,))
    spec.add("dense", "heavy", weight=w, bias=None)
    stats = gb.inspect.weights(gb.build_network(spec))
    # float32 weights: the eigenvalues agree to ~1e-6, the fit to its sampling error
    assert abs(stats.alpha[0] - exponent) < 0.25
    expected = power_law_fit(eigenvalues)
    np.testing.assert_allclose(stats.alpha[0], expected[0], rtol=0.02)
    assert 0 < stats.alpha_ks[0] < 0.1 and stats.alpha_tail[0] > 50


def test_too_small_or_zero_layers_get_nan_alpha_with_a_reason():
    spec = gb.NetworkSpec(input_shape=(12,))
    spec.add("dense", "small", weight=np.ones((9, 12)), bias=None)
    spec.add("dense", "zero", weight=np.zeros((12, 9)), bias=None)
    stats = gb.inspect.weights(gb.build_network(spec))
    assert np.isnan(stats.alpha).all() and np.isnan(stats.alpha_ks).all()
    assert stats.alpha_reasons == ["9 eigenvalues, fewer than 10", "9 eigenvalues, fewer than 10"]
    assert np.isnan(stats.stable_rank[1]) and stats.spectral_norm[1] == 0
    assert stats.stats["zero_fraction"][1] == 1.0 and stats.stats["small_fraction"][1] == 0.0
    assert fit_power_law(np.zeros(20)).reason == "0 eigenvalues above 1e-05"
    assert fit_power_law(np.full(20, 2.0)).reason == "no tail fits a power law with alpha > 1"


def test_histograms_are_numpy_histograms_of_the_weights():
    spec = lenet_spec()
    stats = gb.inspect.weights(gb.build_network(spec), bins=17)
    affine = [layer for layer in spec.layers if layer.kind in ("dense", "conv2d")]
    for layer, edges, counts in zip(affine, stats.bin_edges, stats.counts, strict=True):
        want_counts, want_edges = np.histogram(layer.weights["weight"].astype(np.float64), 17)
        np.testing.assert_array_equal(counts, want_counts)
        np.testing.assert_array_equal(edges, want_edges)


def test_plot_draws_the_histograms_of_the_result():
    stats = gb.inspect.weights(gb.build_network(lenet_spec()), bins=12)
    fig = gb.plots.weights(stats, ncols=2)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(stats.layers) == 5
    for ax, name, edges, counts in zip(
        shown, stats.layers, stats.bin_edges, stats.counts, strict=True
    ):
        bars = ax.patches
        np.testing.assert_allclose([p.get_height() for p in bars], counts)
        np.testing.assert_allclose([p.get_x() for p in bars], edges[:-1])
        np.testing.assert_allclose([p.get_x() + p.get_width() for p in bars], edges[1:])
        assert ax.get_title().startswith(f"{name} (")
    assert "alpha = " in shown[1].get_title() and "alpha" not in shown[0].get_title()
    assert gb.plots.plot(stats).axes  # the usual plot of a WeightStats
    render(fig)
    fig = gb.plots.weights(stats, layers=["fc2", "conv1"])
    assert [ax.get_title().split()[0] for ax in fig.axes] == ["fc2", "conv1"]


def test_bad_input():
    stats = gb.inspect.weights(gb.build_network(lenet_spec()))
    with pytest.raises(ValueError, match="unknown layer"):
        gb.plots.weights(stats, layers=["nope"])
    with pytest.raises(TypeError, match="WeightStats"):
        gb.plots.weights(gb.inspect.summary(gb.build_network(lenet_spec())))
    with pytest.raises(ValueError, match="bins"):
        gb.inspect.weights(gb.build_network(lenet_spec()), bins=0)
    with pytest.raises(TypeError, match="weights needs a network"):
        gb.inspect.weights(gb.wrap(lambda X: X, n_inputs=2))
    with pytest.raises(ValueError, match="kind"):
        stats.to_frame("long")


def test_alpha_equals_weightwatchers_where_installed():
    """The weightwatcher package (not a dependency: this runs where it is installed) fits the
    same alpha and KS distance to the same dense layers (its default single-precision SVD: 1e-3)."""
    ww = pytest.importorskip("weightwatcher")
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(60, 40), nn.ReLU(), nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 5)
    )
    with warnings.catch_warnings():  # its pandas calls warn under pandas 3 (not ours)
        warnings.simplefilter("ignore")
        details = ww.WeightWatcher(model=net).analyze()
    ours = gb.inspect.weights(net)
    fitted = np.isfinite(ours.alpha)
    assert fitted.tolist() == [True, True, False]
    np.testing.assert_allclose(details["alpha"].to_numpy()[:2], ours.alpha[fitted], rtol=1e-3)
    np.testing.assert_allclose(details["D"].to_numpy()[:2], ours.alpha_ks[fitted], rtol=1e-3)
