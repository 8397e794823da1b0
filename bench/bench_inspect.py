"""glassbox.inspect.activations against one native predict over the same rows, and its memory.

Run ``python bench/bench_inspect.py [--quick]`` from the repository root. The network is the
torch LeNet of the inspect tests (conv 6 5x5, ReLU, max pool, conv 16 5x5, ReLU, max pool, dense
120, ReLU, dense 84, ReLU, dense 10; seed 0) converted with ``gb.from_torch``; the rows are
standard normal 1 x 28 x 28 images (float32), 2 threads, default layers (the four ReLUs and the
output) and 50 bins.

- time: median seconds of ``activations`` and of ``model.predict`` over the same 100,000 rows
  (10,000 with ``--quick``), measured in interleaved rounds in the same run; the issue's bar is
  a ratio <= 1.5.
- memory: the growth of the RSS during one ``activations`` call (the largest RSS sampled every
  2 ms during the call minus the RSS before it, X already allocated; the process's lifetime
  peak would hide it under torch's import), each row count in a fresh process; it must not
  grow with the rows (predict's growth, which holds its (rows, 10) output, is shown beside it).
  Row counts 10,000 and 100,000 (20,000 with ``--quick``): below ~10,000 rows a job is split
  into 16 chunks smaller than the budget allows, so smaller jobs use less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from common import interleaved_medians

HERE = Path(__file__).resolve().parent
N_THREADS = 2


def _model():
    sys.path.insert(0, str(HERE.parent / "tests" / "inspect"))
    from torch_nets import lenet

    import glassbox as gb

    return gb.from_torch(lenet(), input_shape=(1, 28, 28))


def _rows(n: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, 1, 28, 28), dtype=np.float32)


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:  # Linux: pages
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_child(n: int, job: str) -> None:
    """In a fresh process: the RSS growth (MiB) during one call of ``job`` on n rows."""
    import glassbox as gb

    model = _model()
    X = _rows(n)
    small = X[:2000]
    model.predict(small, n_threads=N_THREADS)  # warm: buffers and pages of a small call
    gb.inspect.activations(model, small, n_threads=N_THREADS, progress=False)
    before, peak, done = _rss_mib(), [0.0], threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], _rss_mib())

    sampler = threading.Thread(target=sample)
    sampler.start()
    if job == "activations":
        gb.inspect.activations(model, X, n_threads=N_THREADS, progress=False)
    else:
        model.predict(X, n_threads=N_THREADS)
    done.set()
    sampler.join()
    print(json.dumps({"growth_mib": max(peak[0], _rss_mib()) - before}))


def _growth(n: int, job: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(n), job],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["growth_mib"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows, 3 rounds")
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(int(args.memory_child[0]), args.memory_child[1])
        return
    import glassbox as gb

    n = 10_000 if args.quick else 100_000
    model, X = _model(), _rows(n)
    medians = interleaved_medians(
        {
            "predict": lambda: model.predict(X, n_threads=N_THREADS),
            "activations": lambda: gb.inspect.activations(
                model, X, n_threads=N_THREADS, progress=False
            ),
        },
        3 if args.quick else 5,
    )
    ratio = medians["activations"] / medians["predict"]
    print(f"LeNet, {n} rows, {N_THREADS} threads")
    print(f"  predict      {medians['predict']:.3f} s")
    print(f"  activations  {medians['activations']:.3f} s   ratio {ratio:.2f} (bar: <= 1.5)")
    # from ~10,000 rows on, a chunk is as large as the memory budget allows: growth stops there
    counts = (10_000, n) if not args.quick else (10_000, 2 * n)
    for job in ("activations", "predict"):
        growth = [_growth(rows, job) for rows in counts]
        cells = ", ".join(
            f"{rows} rows: {g:.1f} MiB" for rows, g in zip(counts, growth, strict=True)
        )
        print(f"  peak RSS growth of {job:<11}  {cells}")


if __name__ == "__main__":
    main()
