"""glassbox.dask: seeded KernelShap in process vs a dask LocalCluster of 1 and 2 processes.

Run ``python bench/bench_dask.py [--rows N] [--partitions P]`` from the repository root. The
model: a torch MLP 32 -> 64 -> 128 -> 128 -> 2 (ReLU, random weights, ``gb.from_torch``);
KernelShap with 50 background rows, ``n_samples=512``, seed 0, target 1, one thread per call
(``n_threads=1``). Three timings, each the median of 3 runs after one warm-up:

- in-process: one call on every row (one thread);
- LocalCluster(n_workers=1, threads_per_worker=1, processes=True): ``glassbox.dask.explain`` on
  a dask array of P row chunks, then ``.values.compute()``;
- LocalCluster(n_workers=2, threads_per_worker=1, processes=True): the same.

It also prints the per-partition cost (in-process time / P), and the scheduler's overhead: an
empty ``map_blocks`` over the same P chunks on the 2-worker cluster. The expected time on w
workers is about overhead + ceil(P / w) x per-partition cost; the speed-up of 2 workers over 1
is then close to 2 when the per-partition cost dwarfs the overhead. Every cluster run checks
its values equal the in-process ones (bit for bit: asserted on the 1-worker run's chunks
against the same chunks in process).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one run of ``fn`` took, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_of(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """The median time of ``repeats`` runs of ``fn`` after one warm-up, and the last result."""
    fn()
    runs = [timed(fn) for _ in range(repeats)]
    return statistics.median(seconds for seconds, _ in runs), runs[-1][1]


def build(rows: int) -> tuple[Any, np.ndarray]:
    import torch

    import glassbox as gb

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(32, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 2),
    ).eval()
    X = np.random.default_rng(0).normal(size=(rows, 32)).astype(np.float32)
    explainer = gb.KernelShap(
        gb.from_torch(net), background=X[:50], n_samples=512, seed=0, n_threads=1
    )
    return explainer, X


def on_cluster(explainer: Any, data: Any, workers: int) -> tuple[float, float, np.ndarray]:
    """Median time of explain + compute on a LocalCluster of ``workers`` processes, the median
    time of an empty map over the same chunks, and the values."""
    import dask.array as da
    from distributed import Client, LocalCluster

    import glassbox.dask

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster),
    ):
        seconds, values = median_of(
            lambda: glassbox.dask.explain(explainer, data, target=1).values.compute()
        )
        empty = data.map_blocks(lambda block: block[:, :1] * 0, chunks=(data.chunks[0], (1,)))
        overhead, _ = median_of(lambda: empty.compute())
        assert isinstance(empty, da.Array)
    return seconds, overhead, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=16)
    args = parser.parse_args()

    import dask.array as da

    explainer, X = build(args.rows)
    chunk = -(-args.rows // args.partitions)
    data = da.from_array(X, chunks=(chunk, 32))
    parts = len(data.chunks[0])

    local, expected = median_of(lambda: explainer(X, target=1).values)
    one, _, values_1 = on_cluster(explainer, data, 1)
    two, overhead, values_2 = on_cluster(explainer, data, 2)
    np.testing.assert_array_equal(values_1, values_2)
    np.testing.assert_allclose(values_1, expected, rtol=0, atol=1e-6)
    first = data.chunks[0][0]
    np.testing.assert_array_equal(values_1[:first], explainer(X[:first], target=1).values)

    per_part = local / parts
    print(
        f"KernelShap, MLP 32-64-128-128-2, background 50, n_samples 512, {args.rows} rows, "
        f"{parts} partitions of {chunk} rows; medians of 3 (the machine may be shared)"
    )
    print(f"{'run':<38}{'seconds':>10}{'speed-up':>10}")
    for name, seconds in (
        ("in-process, 1 thread", local),
        ("LocalCluster, 1 worker x 1 thread", one),
        ("LocalCluster, 2 workers x 1 thread", two),
    ):
        print(f"{name:<38}{seconds:>10.2f}{local / seconds:>9.2f}x")
    print(f"2 workers vs 1 worker: {one / two:.2f}x")
    print(
        f"per-partition cost: {per_part * 1e3:.0f} ms; scheduler overhead (empty map over the "
        f"same {parts} partitions, 2 workers): {overhead * 1e3:.0f} ms"
    )
    for w in (1, 2, 4, 8):
        estimate = overhead + -(-parts // w) * per_part
        print(f"  expected on {w} worker(s): {estimate:.2f} s ({local / estimate:.2f}x in-process)")


if __name__ == "__main__":
    main()
