"""Inside a native network: activation statistics, layer features, convolution kernels and
activation maps (``glassbox.inspect``).

Examples
--------
>>> import numpy as np, glassbox as gb
>>> spec = gb.NetworkSpec(input_shape=(2,))
>>> _ = spec.add("dense", "fc", weight=np.eye(2), bias=np.zeros(2))
>>> _ = spec.add("relu", "act")
>>> gb.inspect.features(gb.build_network(spec), np.array([[1.0, -1.0]]), "act")
array([[1., 0.]], dtype=float32)
"""

from glassbox.inspect.activation_stats import ActivationStats, activations
from glassbox.inspect.features import feature_maps, features, filters

__all__ = ["ActivationStats", "activations", "feature_maps", "features", "filters"]
