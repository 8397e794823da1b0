"""plots.activations / filters / feature_maps: what is drawn equals what was computed, and it
renders."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from glassbox.models.spec import NetworkSpec
from plots.conftest import render


def _model():
    rng = np.random.default_rng(0)
    spec = NetworkSpec(input_shape=(1, 6, 6))
    spec.add(
        "conv2d", "conv", weight=rng.normal(size=(3, 1, 3, 3)), bias=np.array([0.0, 0.1, -9.0])
    )
    spec.add("relu", "relu")
    spec.add("flatten", "flat")
    spec.add("dense", "fc", weight=rng.normal(size=(4, 48)), bias=np.zeros(4))
    spec.add("tanh", "tanh")
    return gb.build_network(spec), rng.normal(size=(50, 1, 6, 6))


def test_activations_draws_the_histograms():
    model, X = _model()
    stats = gb.inspect.activations(model, X, bins=8)
    figure = gb.plots.activations(stats)
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == [
        "relu (3 units, 1 dead)",
        "tanh (4 units, 0 dead, 0 saturated)",
    ]
    for i, ax in enumerate(axes):
        bars = ax.patches
        np.testing.assert_array_equal([b.get_height() for b in bars], stats.counts[i])
        np.testing.assert_allclose([b.get_x() for b in bars], stats.edges[i][:-1])
        np.testing.assert_allclose([b.get_width() for b in bars], np.diff(stats.edges[i]))
    assert gb.plots.plot(stats).axes[0].get_title() == axes[0].get_title()
    render(figure)


def test_filters_and_feature_maps_draw_the_arrays():
    model, X = _model()
    kernels = gb.inspect.filters(model, "conv")
    figure = gb.plots.filters(kernels)
    images = [ax.get_images()[0] for ax in figure.axes if ax.get_images()]
    assert len(images) == 3
    for image, kernel in zip(images, kernels, strict=True):
        np.testing.assert_allclose(image.get_array(), kernel.mean(axis=0))
    low, high = images[0].get_clim()
    assert low == -high == -np.abs(kernels.mean(axis=1)).max()
    render(figure)

    maps = gb.inspect.feature_maps(model, X[0], "relu")
    figure = gb.plots.feature_maps(maps)
    images = [ax.get_images()[0] for ax in figure.axes if ax.get_images()]
    assert [ax.get_title() for ax in figure.axes[:3]] == ["channel 0", "channel 1", "channel 2"]
    for image, channel in zip(images, maps, strict=True):
        np.testing.assert_allclose(image.get_array(), channel)
    assert images[0].get_clim() == (float(maps.min()), float(maps.max()))
    render(figure)


def test_bad_arrays():
    with pytest.raises(ValueError, match="kernels"):
        gb.plots.filters(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="maps"):
        gb.plots.feature_maps(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="ActivationStats"):
        gb.plots.activations(np.zeros(3))
