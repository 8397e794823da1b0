"""Native Conv2d forward throughput vs a same-run float32 SGEMM, on a LeNet-like CNN.

Run ``python bench/bench_conv.py [--threads N] [--rows N]`` from the repository root. Reports, for
256 rows of 1x28x28 inputs: the GFLOP/s of each conv layer's forward pass alone (a network holding
just that layer), of the two conv layers together, and of the whole LeNet forward pass, next to a
NumPy SGEMM (2048^3) measured in the same run with the same number of threads (set
``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` to match ``--threads``). GFLOP/s = 2 x
multiply-adds / time, medians of repeated runs. On a shared machine pass ``--cpu-time`` (single
thread only): every figure, SGEMM included, then uses the process's CPU time, which other jobs
competing for the cores do not inflate.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common import MIN_REPEATS, Row

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _conv_only(spec: Any, index: int, input_shape: tuple[int, ...]) -> Any:
    from glassbox.models.spec import NetworkSpec

    layer = spec.layers[index]
    single = NetworkSpec(input_shape=input_shape)
    single.add("conv2d", layer.name, params=dict(layer.params), **layer.weights)
    return single


def measure(
    n_rows: int, threads: int, repeats: int, clock: Callable[[], float] = time.perf_counter
) -> list[tuple[str, float, float]]:
    """(name, flops, median seconds) of each conv layer alone, the convs together, whole LeNet."""
    rng = np.random.default_rng(0)

    def median_seconds(fn: Callable[[], Any]) -> float:
        fn()
        times = []
        for _ in range(max(repeats, MIN_REPEATS)):
            start = clock()
            fn()
            times.append(clock() - start)
        return statistics.median(times)

    from cnn_nets import lenet_spec
    from glassbox.models.native import build_network

    spec = lenet_spec(seed=0)
    X = rng.standard_normal((n_rows, 1, 28, 28), dtype=np.float32)
    model = build_network(spec)
    shapes = [tuple(spec.input_shape), *(tuple(s) for s in model.network.layer_shapes)]
    convs = [i for i, layer in enumerate(spec.layers) if layer.kind == "conv2d"]
    rows = []
    conv_flops = conv_seconds = 0.0
    for i in convs:
        net = build_network(_conv_only(spec, i, shapes[i]))
        inputs = rng.standard_normal((n_rows, *shapes[i]), dtype=np.float32)
        seconds = median_seconds(lambda n=net, x=inputs: n.predict(x, n_threads=threads))
        flops = 2.0 * net.network.macs_per_sample * n_rows
        conv_flops += flops
        conv_seconds += seconds
        rows.append((f"{spec.layers[i].name} {shapes[i]} -> {shapes[i + 1]}", flops, seconds))
    rows.append(("conv layers together", conv_flops, conv_seconds))
    whole = median_seconds(lambda: model.predict(X, n_threads=threads))
    rows.append(("whole LeNet forward", 2.0 * model.network.macs_per_sample * n_rows, whole))
    return rows


def run(quick: bool = False) -> list[Row]:
    """Rows for bench/run.py: the conv layers and the whole LeNet forward, all cores."""
    import os

    n_rows = 64 if quick else 256
    threads = os.cpu_count() or 1
    measured = measure(n_rows, threads, MIN_REPEATS if quick else 15)
    picked = {name: (flops, seconds) for name, flops, seconds in measured}
    out = []
    for name, label in (
        ("conv layers together", "Conv2d forward (LeNet's two conv layers)"),
        ("whole LeNet forward", "LeNet forward (predict)"),
    ):
        flops, seconds = picked[name]
        out.append(Row(label, f"{n_rows} rows, 1x28x28", seconds, gflops=flops / seconds / 1e9))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--cpu-time", action="store_true", help="time with process CPU time")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    if args.cpu_time and args.threads != 1:
        parser.error("--cpu-time needs --threads 1")
    clock = time.process_time if args.cpu_time else time.perf_counter

    def sgemm(n: int = 2048) -> float:
        a = rng.standard_normal((n, n), dtype=np.float32)
        times = []
        for _ in range(max(args.repeats, MIN_REPEATS)):
            start = clock()
            a @ a
            times.append(clock() - start)
        return 2.0 * n**3 / statistics.median(times) / 1e9

    sgemm_before = sgemm()
    rows = measure(args.rows, args.threads, args.repeats, clock)
    best = max(sgemm_before, sgemm())

    print(
        f"numpy SGEMM 2048^3: {best:.1f} GFLOP/s (best of before/after), threads={args.threads}, "
        + ("CPU time" if args.cpu_time else "wall time")
    )
    for name, flops, seconds in rows:
        gflops = flops / seconds / 1e9
        print(
            f"{name:45s} {seconds * 1e3:8.2f} ms {gflops:7.1f} GFLOP/s {100 * gflops / best:5.0f}%"
        )


if __name__ == "__main__":
    main()
