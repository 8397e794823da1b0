"""Native Conv2d forward throughput vs a same-run float32 SGEMM, on a LeNet-like CNN.

Run ``python bench/bench_conv.py [--threads N] [--rows N]`` from the repository root. Reports, for
256 rows of 1x28x28 inputs: the GFLOP/s of each conv layer's forward pass alone (a network holding
just that layer), of the two conv layers together, and of the whole LeNet forward pass, next to a
NumPy SGEMM (2048^3) measured in the same run with the same number of threads (set
``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` to match ``--threads``). GFLOP/s = 2 x
multiply-adds / time, medians of repeated runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from common import sgemm_gflops, time_it

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _conv_only(spec: Any, index: int, input_shape: tuple[int, ...]) -> Any:
    from glassbox.models.spec import NetworkSpec

    layer = spec.layers[index]
    single = NetworkSpec(input_shape=input_shape)
    single.add("conv2d", layer.name, params=dict(layer.params), **layer.weights)
    return single


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)

    from cnn_nets import lenet_spec

    from glassbox.models.native import build_network

    spec = lenet_spec(seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, 1, 28, 28), dtype=np.float32)
    model = build_network(spec)
    shapes = [tuple(spec.input_shape), *(tuple(s) for s in model.network.layer_shapes)]
    convs = [i for i, layer in enumerate(spec.layers) if layer.kind == "conv2d"]

    sgemm = sgemm_gflops(repeats=args.repeats)["numpy"]
    rows = []
    conv_flops = conv_seconds = 0.0
    for i in convs:
        net = build_network(_conv_only(spec, i, shapes[i]))
        inputs = rng.standard_normal((args.rows, *shapes[i]), dtype=np.float32)
        seconds = time_it(
            lambda n=net, x=inputs: n.predict(x, n_threads=args.threads), args.repeats
        )
        flops = 2.0 * net.network.macs_per_sample * args.rows
        conv_flops += flops
        conv_seconds += seconds.median
        rows.append(
            (f"{spec.layers[i].name} {shapes[i]} -> {shapes[i + 1]}", flops, seconds.median)
        )
    rows.append(("conv layers together", conv_flops, conv_seconds))
    whole = time_it(lambda: model.predict(X, n_threads=args.threads), args.repeats)
    rows.append(
        ("whole LeNet forward", 2.0 * model.network.macs_per_sample * args.rows, whole.median)
    )
    sgemm = max(sgemm, sgemm_gflops(repeats=args.repeats)["numpy"])

    print(f"numpy SGEMM 2048^3: {sgemm:.1f} GFLOP/s (best of before/after), threads={args.threads}")
    for name, flops, seconds in rows:
        gflops = flops / seconds / 1e9
        print(
            f"{name:45s} {seconds * 1e3:8.2f} ms {gflops:7.1f} GFLOP/s {100 * gflops / sgemm:5.0f}%"
        )


if __name__ == "__main__":
    main()
