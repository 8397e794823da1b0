"""Looking inside a native network (``glassbox.inspect``): its structure, its weights, its
activations, its features, its convolution kernels and activation maps.

``summary(model)`` lists the layers (shapes, parameters, multiply-adds) and draws the layer
graph; ``weights(model)`` describes each affine layer's weights (statistics, norms, stable rank
and the heavy-tail exponent of their spectrum); ``activations(model, X)`` streams X through the
network and describes every unit (dead and saturated units flagged); ``features``,
``filters`` and ``feature_maps`` return a layer's outputs, kernels and one input's maps. This is
distinct from ``glassbox.inspection`` (model-agnostic global effects: permutation importance,
PDP, ALE).

Examples
--------
>>> import numpy as np, glassbox as gb
>>> spec = gb.NetworkSpec(input_shape=(2,))
>>> _ = spec.add("dense", "fc", weight=np.eye(2), bias=np.zeros(2))
>>> _ = spec.add("relu", "act")
>>> gb.inspect.features(gb.build_network(spec), np.array([[1.0, -1.0]]), "act")
array([[1., 0.]], dtype=float32)
"""

from __future__ import annotations

from glassbox.inspect.activation_stats import ActivationStats, activations
from glassbox.inspect.features import feature_maps, features, filters
from glassbox.inspect.structure import Summary, summary
from glassbox.inspect.weight_stats import WeightStats, weights

__all__ = [
    "ActivationStats",
    "Summary",
    "WeightStats",
    "activations",
    "feature_maps",
    "features",
    "filters",
    "summary",
    "weights",
]
