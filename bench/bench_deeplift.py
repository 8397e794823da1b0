"""DeepLiftShap and Grad-CAM: glassbox vs Captum on a LeNet-like CNN (1x28x28 inputs).

Run ``python bench/bench_deeplift.py [--quick]`` from the repository root (or ``bench/run.py`` for
the whole table). The network is a torch ``nn.Sequential`` LeNet (conv 6@5x5, ReLU, max-pool 2,
conv 16@5x5, ReLU, max-pool 2, fc 120, ReLU, fc 84, ReLU, fc 10; torch's default init with a fixed
seed; a no-op ``x * 1.0`` module before each pool works around a Captum hook bug), copied by hand
into a glassbox ``NetworkSpec`` so that both libraries run the same float32 weights. Target 3.

- DeepLiftShap, 256 rows x 50 references: Captum's ``DeepLiftShap`` expands every (row, reference)
  pair into one batch; it is fed 32 rows (1,600 pairs) at a time to keep its memory near a
  gigabyte. glassbox computes the
  references' activations once and caches them.
- Grad-CAM at ``conv2`` (16 x 8 x 8), 256 rows: Captum's ``LayerGradCam`` with
  ``relu_attributions=True``.

No NumPy reference column: a literal NumPy CNN would dominate the run; instead the notes give the
largest difference from Captum, relative to the largest attribution.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import Any

import numpy as np

from common import Row, bench_main, time_it

TARGET = 3
CAPTUM_ROWS = 32


def lenet(seed: int = 0) -> Any:
    import torch
    from torch import nn

    class NoOp(nn.Module):
        """x * 1.0 before each max-pool: with a ReLU feeding a MaxPool directly, Captum's
        DeepLift hooks produce wrong multipliers (convergence delta far from zero)."""

        def forward(self, x: Any) -> Any:
            return x * 1.0

    torch.manual_seed(seed)
    layers = [
        ("conv1", nn.Conv2d(1, 6, 5)),
        ("relu1", nn.ReLU()),
        ("pool1_in", NoOp()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(6, 16, 5)),
        ("relu2", nn.ReLU()),
        ("pool2_in", NoOp()),
        ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(256, 120)),
        ("relu3", nn.ReLU()),
        ("fc2", nn.Linear(120, 84)),
        ("relu4", nn.ReLU()),
        ("fc3", nn.Linear(84, 10)),
    ]
    return nn.Sequential(OrderedDict(layers)).eval()


def to_spec(net: Any) -> Any:
    """The same network as a glassbox ``NetworkSpec`` (weights copied, layer names as torch's)."""
    from torch import nn

    from glassbox.models.spec import NetworkSpec

    spec = NetworkSpec(input_shape=(1, 28, 28))
    for name, module in net.named_children():
        if isinstance(module, nn.Conv2d):
            spec.add(
                "conv2d",
                name,
                params={"stride": (1, 1), "padding": (0, 0, 0, 0), "dilation": (1, 1), "groups": 1},
                weight=module.weight.detach().numpy(),
                bias=module.bias.detach().numpy(),
            )
        elif isinstance(module, nn.MaxPool2d):
            spec.add("max_pool2d", name, params={"kernel": (2, 2), "stride": (2, 2)})
        elif isinstance(module, nn.Linear):
            spec.add(
                "dense",
                name,
                weight=module.weight.detach().numpy(),
                bias=module.bias.detach().numpy(),
            )
        elif isinstance(module, nn.ReLU):
            spec.add("relu", name)
        elif isinstance(module, nn.Flatten):
            spec.add("flatten", name)
    return spec


def _diff(mine: np.ndarray, other: Any) -> str:
    other = np.asarray(other.detach().numpy() if hasattr(other, "detach") else other)
    scale = max(float(np.abs(other).max()), 1e-30)
    return (
        f"max |diff| vs Captum {np.abs(mine - other.reshape(mine.shape)).max() / scale:.1e} (rel)"
    )


def run(quick: bool) -> list[Row]:
    import captum.attr
    import torch

    import glassbox as gb
    from glassbox import _core

    if "conv2d" not in _core.registered_layer_kinds():
        print("bench_deeplift: the core has no conv2d layer yet; skipped", file=sys.stderr)
        return []
    torch.set_num_threads(max(1, torch.get_num_threads()))
    n, m = (32, 10) if quick else (256, 50)
    net = lenet()
    model = gb.build_network(to_spec(net))
    rng = np.random.default_rng(0)
    X = rng.random((n, 1, 28, 28), dtype=np.float32)
    R = rng.random((m, 1, 28, 28), dtype=np.float32)
    xt, rt = torch.from_numpy(X), torch.from_numpy(R)
    macs = model.network.macs_per_sample
    rows: list[Row] = []

    def captum_shap() -> np.ndarray:
        dls = captum.attr.DeepLiftShap(net)
        parts = [
            dls.attribute(xt[i : i + CAPTUM_ROWS], rt, target=TARGET).detach().numpy()
            for i in range(0, n, CAPTUM_ROWS)
        ]
        return np.concatenate(parts)

    explainer = gb.DeepLiftShap(model)
    mine = time_it(lambda: explainer(X, baselines=R, target=TARGET), repeats=5)
    peer = time_it(captum_shap, repeats=5)
    rows.append(
        Row(
            "DeepLiftShap",
            f"LeNet {n} rows x {m} refs",
            mine.median,
            None,
            peer.median,
            "Captum",
            # forward + backward-to-input of every (row, reference) pair
            2 * 2 * macs * n * m / mine.median / 1e9,
            [_diff(mine.result.values, peer.result)],
        )
    )

    cam = gb.GradCAM(model, layer="conv2")
    layer = net.conv2
    mine = time_it(lambda: cam(X, target=TARGET))
    peer = time_it(
        lambda: captum.attr.LayerGradCam(net, layer).attribute(
            xt, target=TARGET, relu_attributions=True
        )
    )
    rows.append(
        Row(
            "GradCAM (conv2)",
            f"LeNet {n} rows",
            mine.median,
            None,
            peer.median,
            "Captum",
            None,
            [_diff(mine.result.values, peer.result[:, 0])],
        )
    )
    return rows


if __name__ == "__main__":
    bench_main(run, __doc__, "small sizes, for a smoke run")
