"""How long after Ctrl-C (SIGINT) a long native job raises KeyboardInterrupt, per method.

Each job is sized to run for minutes; one second in, the process sends itself SIGINT and the
time until the job has raised KeyboardInterrupt is recorded. Each method runs in its own child
process (a fresh interpreter, as a user's would be) ``--repeats`` times; the median is printed.

Usage (from the repository root, glassbox installed)::

    python bench/interrupt_latency.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
from pathlib import Path


def _job_script() -> str:
    """The child script of tests/test_progress.py: the jobs are defined once, there (a Tanh MLP
    16-256-2 on 4000 rows; each job sized to run for minutes; SIGINT one second in)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "test_progress.py"
    spec = importlib.util.spec_from_file_location("_interrupted_jobs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SIGINT_SCRIPT


CHILD = _job_script()
METHODS = ("ig", "kernelshap", "lime", "permutation", "pdp")


def latency(method: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, method], capture_output=True, text=True, timeout=600
    )
    first = out.stdout.strip().split("\n")[0]
    if out.returncode != 0 or not first.startswith("interrupted"):
        raise RuntimeError(f"{method}: {out.stdout} {out.stderr}")
    return float(first.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'method':12s} {'median s':>9s} {'max s':>7s}  (SIGINT -> KeyboardInterrupt)")
    for method in METHODS:
        times = [latency(method) for _ in range(args.repeats)]
        print(f"{method:12s} {statistics.median(times):9.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
