"""Small seeded networks whose early layers keep the (C, H, W) image shape, built only from layer
kinds every branch has (identity, activations, flatten, dense), for Grad-CAM and image-shaped
attributions."""

from __future__ import annotations

import numpy as np

from glassbox.models.spec import NetworkSpec


def image_spec(seed: int = 0, activation: str = "relu") -> NetworkSpec:
    """(2, 4, 4) -> identity -> activation (spatial) -> flatten -> dense 10 -> relu -> dense 3."""
    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(2, 4, 4))
    spec.add("identity", "features")
    spec.add(activation, "act")
    spec.add("flatten", "flat")
    spec.add("dense", "fc0", weight=rng.normal(0, 0.4, (10, 32)), bias=rng.normal(0, 0.3, 10))
    spec.add("relu", "act1")
    spec.add("dense", "fc1", weight=rng.normal(0, 0.5, (3, 10)), bias=rng.normal(0, 0.3, 3))
    return spec
