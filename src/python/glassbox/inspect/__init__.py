"""Looking inside a native network: its structure and its weights.

``summary(model)`` lists the layers (shapes, parameters, multiply-adds) and draws the layer
graph; ``weights(model)`` describes each affine layer's weights (statistics, norms, stable rank
and the heavy-tail exponent of their spectrum). This is ``glassbox.inspect``, distinct from
``glassbox.inspection`` (model-agnostic global effects: permutation importance, PDP, ALE).
"""

from __future__ import annotations

from glassbox.inspect.structure import Summary, summary
from glassbox.inspect.weight_stats import WeightStats, weights

__all__ = ["Summary", "WeightStats", "summary", "weights"]
