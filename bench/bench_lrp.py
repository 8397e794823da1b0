"""LRP on a LeNet-like CNN (1x28x28, 256 rows): glassbox vs Zennit, Captum, torch forward+backward.

Run ``python bench/bench_lrp.py [--quick]`` from the repository root (or ``bench/run.py`` for the
whole table). All work on the same network (conv 6@5x5, relu, maxpool 2, conv 16@5x5, relu,
maxpool 2, flatten, dense 120, relu, dense 84, relu, dense 10) and the same rows, target class 3:

- glassbox ``LRP(model, "EpsilonPlus")``: z+ on the convolutions, epsilon on the dense layers;
- Zennit's ``EpsilonPlus`` composite (``zennit.attribution.Gradient``), the same rules as glassbox's
  (z+ keeping the positive bias, epsilon = 1e-6, ReLU passed, max pooling by its gradient), the
  output seeded with the target logit; skipped when zennit is not installed;
- Captum ``LRP`` with the closest rules it has: ``Alpha1_Beta0_Rule`` (z+) on the convolutions and
  ``EpsilonRule`` on the linear layers (the notes report how closely the two agree);
- torch: one forward and one backward pass of the same module to the input (the floor any
  hook-based LRP pays).

One row per peer (Zennit, Captum); the torch time is in the notes (ratio = torch time / glassbox
time).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from common import Row, bench_main, time_it

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TARGET = 3


def make_spec(seed: int = 0) -> Any:
    """The LeNet-like spec (weights scaled so activations stay of order one)."""
    from glassbox.models.spec import NetworkSpec

    rng = np.random.default_rng(seed)

    def conv(cout: int, cin: int, k: int) -> dict:
        return {
            "weight": rng.normal(0.0, 1.2 / np.sqrt(cin * k * k), (cout, cin, k, k)),
            "bias": rng.normal(0.0, 0.1, cout),
        }

    def dense(out: int, fan_in: int) -> dict:
        return {
            "weight": rng.normal(0.0, 1.2 / np.sqrt(fan_in), (out, fan_in)),
            "bias": rng.normal(0.0, 0.1, out),
        }

    pool = {"kernel": (2, 2), "stride": (2, 2)}
    spec = NetworkSpec(input_shape=(1, 28, 28))
    spec.add("conv2d", "0", **conv(6, 1, 5))
    spec.add("relu", "1")
    spec.add("max_pool2d", "2", params=pool)
    spec.add("conv2d", "3", **conv(16, 6, 5))
    spec.add("relu", "4")
    spec.add("max_pool2d", "5", params=pool)
    spec.add("flatten", "6")
    spec.add("dense", "7", **dense(120, 256))
    spec.add("relu", "8")
    spec.add("dense", "9", **dense(84, 120))
    spec.add("relu", "10")
    spec.add("dense", "11", **dense(10, 84))
    return spec


def to_torch(spec: Any) -> Any:
    """The same network as a torch ``nn.Sequential`` shaped for Captum's LRP (the tests' twin)."""
    from reference.torch_graph import captum_lrp_sequential

    return captum_lrp_sequential(spec)


def _captum(net: Any, x: Any) -> np.ndarray:
    from captum.attr import LRP
    from captum.attr._utils.lrp_rules import Alpha1_Beta0_Rule, EpsilonRule
    from torch import nn

    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            module.rule = Alpha1_Beta0_Rule()
        elif isinstance(module, nn.Linear):
            module.rule = EpsilonRule(epsilon=1e-6)
    return LRP(net).attribute(x, target=TARGET).detach().numpy()


def _row(mine: Any, n: int, peer: Any, peer_name: str, notes: list[str], gflops: Any = None) -> Row:
    """The table row of glassbox's timing ``mine`` against one peer's."""
    size = f"{n} x 1x28x28"
    return Row("LRP EpsilonPlus (LeNet)", size, mine.median, None, peer, peer_name, gflops, notes)


def _zennit_row(net: Any, X: np.ndarray, mine: Any, n: int) -> list[Row]:
    """The Zennit row (none when zennit is not installed), with how closely the two agree."""
    from reference.zennit_peer import epsilon_plus, import_zennit

    if import_zennit() is None:
        return []
    zennit = time_it(lambda: epsilon_plus(net, X, TARGET), repeats=5)
    values, peer = mine.result.values, zennit.result
    scale = np.abs(peer).max()
    note = f"vs Zennit: max |Δ|/max {np.abs(values - peer).max() / scale:.1e} (same rules)"
    return [_row(mine, n, zennit.median, "Zennit", [note])]


def run(quick: bool = False) -> list[Row]:
    """Time glassbox and its peers on the same rows: one table row per peer."""
    import torch

    import glassbox as gb

    spec = make_spec()
    model = gb.build_network(spec)
    net = to_torch(spec)
    n = 64 if quick else 256
    X = np.random.default_rng(1).random((n, 1, 28, 28), dtype=np.float32)
    explainer = gb.LRP(model, "EpsilonPlus")
    mine = time_it(lambda: explainer(X, target=TARGET))

    x = torch.from_numpy(X)

    def torch_forward_backward() -> Any:
        xi = x.clone().requires_grad_(True)
        out = net(xi)
        (grad,) = torch.autograd.grad(out[:, TARGET].sum(), xi)
        return grad

    plain = time_it(torch_forward_backward)
    captum = time_it(lambda: _captum(net, x.clone().requires_grad_(True)), repeats=5)
    values = mine.result.values
    peer = captum.result
    scale = np.abs(peer).max()
    # z+ in glassbox (Zennit's definition) keeps only the positive bias; Captum's keeps all of it,
    # so the two agree closely but not exactly
    corr = float(np.corrcoef(values.reshape(-1), peer.reshape(-1))[0, 1])
    notes = [
        f"torch fwd+bwd {plain.median * 1e3:.1f} ms (x{plain.median / mine.median:.2f})",
        f"vs Captum: corr {corr:.4f}, max |Δ|/max {np.abs(values - peer).max() / scale:.1e}",
        f"max |conservation gap| {np.abs(mine.result.delta).max():.1e}",
    ]
    gflops = 2.0 * 2 * model.network.macs_per_sample * n / mine.median / 1e9
    return [*_zennit_row(net, X, mine, n), _row(mine, n, captum.median, "Captum", notes, gflops)]


if __name__ == "__main__":
    bench_main(run, __doc__, "small sizes, for a smoke run")
