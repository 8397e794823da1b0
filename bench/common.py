"""Shared helpers of the benchmarks: timing, the same-run SGEMM probe, the result rows and table.

Every timing is the median of ``repeats`` (>= 5) runs after one warm-up run, measured in the same
process and the same run as the numbers it is compared with, after a short idle pause.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MIN_REPEATS = 5
# Idle time before each measurement. Thread pools keep spinning for a while after their last job
# (OpenBLAS for ~0.1 s, OpenMP runtimes, torch's pool); on 2 cores a spinning pool from the
# previous measurement halves the next one's speed, whichever library runs next.
SETTLE_SECONDS = 0.25


@dataclass
class Timing:
    """Median and spread (seconds) of repeated runs, and the last run's result."""

    median: float
    low: float
    high: float
    result: Any = None


def time_it(fn: Callable[[], Any], repeats: int = MIN_REPEATS, warmup: int = 1) -> Timing:
    """Run ``fn`` ``warmup`` times, then ``repeats`` times; return the median time.

    Examples
    --------
    >>> t = time_it(lambda: sum(range(100)))
    >>> t.result, t.median > 0
    (4950, True)
    """
    repeats = max(repeats, MIN_REPEATS)
    time.sleep(SETTLE_SECONDS)
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), min(times), max(times), result)


def bench_main(run: Callable[[bool], Sequence[Row]], doc: str | None, quick_help: str) -> None:
    """The command line of a ``bench_<family>.py`` script: ``[--quick]``, then its table."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    print(format_text(run(parser.parse_args().quick)))


def interleaved_medians(jobs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of every job, measured in ``repeats`` rounds that run each job once.

    On a noisy 2-core machine a slow moment then hits every job of a round alike, so same-run
    ratios stay fair. Every job runs once first as a warm-up.

    Examples
    --------
    >>> medians = interleaved_medians({"a": lambda: sum(range(10)), "b": lambda: 0}, 3)
    >>> sorted(medians), medians["a"] > 0
    (['a', 'b'], True)
    """
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for job in jobs.values():
        job()
    for _ in range(repeats):
        for name, job in jobs.items():
            time.sleep(SETTLE_SECONDS / 5)
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


@dataclass
class Row:
    """One line of the benchmark table (times in seconds; ``None`` where not measured)."""

    method: str
    size: str
    glassbox: float | None
    reference: float | None = None
    peer: float | None = None
    peer_name: str = ""
    gflops: float | None = None
    notes: list[str] = field(default_factory=list)
    effective: bool = False  # GFLOP/s is nominal work / time, the method did less work


def sgemm_gflops(n: int = 2048, repeats: int = MIN_REPEATS) -> dict[str, float]:
    """Achieved float32 GEMM GFLOP/s of ``n x n @ n x n`` with NumPy and, if installed, torch."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2.0 * n**3
    out = {"numpy": flops / time_it(lambda: a @ b, repeats).median / 1e9}
    try:
        import torch
    except ImportError:
        return out
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    with torch.no_grad():
        out["torch"] = flops / time_it(lambda: ta @ tb, repeats).median / 1e9
    return out


def machine_info() -> list[str]:
    """A few lines describing the machine and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        f"CPU: {cpu}, {os.cpu_count()} logical cores; Python {sys.version.split()[0]}; "
        f"NumPy {np.__version__}"
    ]
    versions = []
    for name in ("glassbox", "torch", "captum"):
        try:
            versions.append(f"{name} {__import__(name).__version__}")
        except (ImportError, AttributeError):
            versions.append(f"{name} (not installed)")
    lines.append(", ".join(versions))
    return lines


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:,.1f}"


def _ratio(other: float | None, mine: float | None) -> str:
    return "—" if other is None or mine is None else f"{other / mine:,.1f}×"


HEADER = (
    "method",
    "problem size",
    "glassbox ms",
    "NumPy ref ms",
    "peer ms",
    "ref / glassbox",
    "peer / glassbox",
    "GFLOP/s",
    "notes",
)


def table_cells(rows: Sequence[Row]) -> list[tuple[str, ...]]:
    """The table's cells, one tuple per row, header first."""
    cells = [HEADER]
    for r in rows:
        peer = _ms(r.peer) + (f" ({r.peer_name})" if r.peer_name and r.peer is not None else "")
        cells.append(
            (
                r.method,
                r.size,
                _ms(r.glassbox),
                _ms(r.reference),
                peer,
                _ratio(r.reference, r.glassbox),
                _ratio(r.peer, r.glassbox),
                "—" if r.gflops is None else f"{r.gflops:.1f}" + ("*" if r.effective else ""),
                "; ".join(r.notes),
            )
        )
    return cells


def format_text(rows: Sequence[Row]) -> str:
    """The table as aligned plain text."""
    cells = table_cells(rows)
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER) - 1)]
    lines = []
    for k, c in enumerate(cells):
        lines.append(
            "  ".join(x.ljust(w) for x, w in zip(c[:-1], widths, strict=True)) + "  " + c[-1]
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 5)
    return "\n".join(lines)


def format_markdown(rows: Sequence[Row]) -> str:
    """The table as GitHub-flavoured Markdown."""
    cells = table_cells(rows)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(x.replace("|", "\\|") for x in c) + " |" for c in cells[1:]]
    return "\n".join(lines)
