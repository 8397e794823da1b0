"""How long after Ctrl-C (SIGINT) a long native job raises KeyboardInterrupt, per method.

Each job is sized to run for minutes; one second in, the process sends itself SIGINT and the
time until the job has raised KeyboardInterrupt is recorded. Each method runs in its own child
process (a fresh interpreter, as a user's would be) ``--repeats`` times; the median is printed.

Usage (from the repository root, glassbox installed)::

    python bench/interrupt_latency.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import numpy as np, glassbox as gb
    from glassbox.models.native import build_network
    from glassbox.models.spec import NetworkSpec
    rng = np.random.default_rng(0)
    spec = NetworkSpec(input_shape=(16,))
    spec.add("dense", "fc", weight=rng.normal(size=(256, 16)), bias=None)
    spec.add("tanh", "act")
    spec.add("dense", "out", weight=rng.normal(size=(2, 256)), bias=None)
    model = build_network(spec)
    X = rng.normal(size=(4000, 16)).astype(np.float32)
    y = np.argmax(model.predict(X), axis=1)
    wide = np.repeat(X, 5, axis=0) + rng.normal(size=(20000, 16)).astype(np.float32)
    jobs = {
        "IntegratedGradients": lambda: gb.IntegratedGradients(
            model, n_steps=100000, method="riemann_left", fast_path=False)(X, target=0),
        "KernelShap": lambda: gb.KernelShap(model, background=X[:200], n_samples=100000)(X),
        "Lime": lambda: gb.Lime(model, X, num_samples=200000)(X, target=0),
        "permutation_importance": lambda: gb.permutation_importance(model, X, y,
                                                                    n_repeats=100000),
        "partial_dependence": lambda: gb.partial_dependence(model, wide, [0],
                                                            grid_resolution=20000),
    }
    fired = {}
    def fire():
        time.sleep(1.0)
        fired["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=fire).start()
    try:
        jobs[sys.argv[1]]()
        print("finished")
    except KeyboardInterrupt:
        print(time.perf_counter() - fired["t"])
    """
)
METHODS = ("IntegratedGradients", "KernelShap", "Lime", "permutation_importance",
           "partial_dependence")  # fmt: skip


def latency(method: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, method], capture_output=True, text=True, timeout=600
    )
    first = out.stdout.strip().split("\n")[0]
    if out.returncode != 0 or first == "finished":
        raise RuntimeError(f"{method}: {out.stdout} {out.stderr}")
    return float(first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'method':26s} {'median s':>9s} {'max s':>7s}  (SIGINT -> KeyboardInterrupt)")
    for method in METHODS:
        times = [latency(method) for _ in range(args.repeats)]
        print(f"{method:26s} {statistics.median(times):9.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
