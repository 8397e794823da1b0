"""LRP EpsilonPlus against Zennit's EpsilonPlus composite (the LRP reference implementation) on a
LeNet-like CNN: the same rules (z+ on convolutions keeping only the positive bias, epsilon on
dense layers, ReLU passed, max pooling by its gradient), so the relevances agree to float32
rounding."""

from __future__ import annotations

import numpy as np
import pytest

import glassbox as gb
from cnn_nets import lenet_spec
from conftest import build
from reference.torch_graph import captum_lrp_sequential
from reference.zennit_peer import epsilon_plus, import_zennit

pytestmark = pytest.mark.skipif(import_zennit() is None, reason="zennit is not installed")


@pytest.mark.parametrize("signed_input", [False, True])
def test_epsilon_plus_matches_zennit_on_lenet(signed_input: bool) -> None:
    spec = lenet_spec(seed=0, input_hw=20, n_outputs=5)
    rng = np.random.default_rng(1)
    shape = (6, *spec.input_shape)
    # signed inputs: the first conv's z+ then uses x+ w+ + x- w- (Zennit's ZPlus does too)
    X = (rng.normal(size=shape) if signed_input else rng.random(shape)).astype(np.float32)
    target = 2
    mine = gb.LRP(build(spec), "EpsilonPlus")(X, target=target).values
    peer = epsilon_plus(captum_lrp_sequential(spec), X, target)
    scale = np.abs(peer).max()
    np.testing.assert_allclose(mine, peer, rtol=0, atol=2e-5 * scale)


def _torch_net(architecture: str):
    """Other architectures than LeNet: a CNN with 3 input channels, padded and strided convs,
    and a plain MLP (epsilon on every layer)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(3)
    if architecture == "mlp":
        layers = [nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4)]
        return nn.Sequential(*layers).eval(), (12,)
    layers = [
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 12, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(12 * 3 * 3, 10),
        nn.ReLU(),
        nn.Linear(10, 4),
    ]
    return nn.Sequential(*layers).eval(), (3, 12, 12)


@pytest.mark.parametrize("architecture", ["padded_strided_cnn", "mlp"])
def test_epsilon_plus_matches_zennit_on_other_architectures(architecture: str) -> None:
    net, shape = _torch_net(architecture)
    X = np.random.default_rng(2).normal(size=(5, *shape)).astype(np.float32)
    target = 1
    mine = gb.LRP(gb.from_torch(net, input_shape=shape), "EpsilonPlus")(X, target=target).values
    peer = epsilon_plus(net, X, target)
    scale = np.abs(peer).max()
    np.testing.assert_allclose(mine, peer, rtol=0, atol=2e-5 * scale)
