"""Small seeded networks the compression tests share: torch modules (for the torch.nn.utils.prune
and fake-quantisation oracles) and their native copies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import glassbox as gb


def torch_mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 3)
    )


def torch_cnn(seed: int = 0) -> nn.Module:
    """LeNet-like on 1 x 12 x 12 inputs."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 6, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 5 * 5, 10),
        nn.ReLU(),
        nn.Linear(10, 4),
    )


def affine_modules(net: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in net.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def weights_of(model: gb.NativeModel) -> dict[str, np.ndarray]:
    """Every weight array of ``model``, copied, by (layer, key)."""
    return {
        f"{layer.name}/{key}": np.array(value)
        for layer in model.spec.layers
        for key, value in layer.weights.items()
        if value is not None
    }


@pytest.fixture(params=["mlp", "cnn"])
def torch_net(request) -> tuple[nn.Module, np.ndarray]:
    """A torch network and rows for it."""
    rng = np.random.default_rng(1)
    if request.param == "mlp":
        return torch_mlp(), rng.normal(size=(40, 6)).astype(np.float32)
    return torch_cnn(), rng.normal(size=(20, 1, 12, 12)).astype(np.float32)
