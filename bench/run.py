"""Run every ``bench/bench_*.py`` script, print one table and write ``bench/results.md``.

Usage (from the repository root, with glassbox and the ``bench`` extra installed)::

    python bench/run.py            # the full run (a few minutes on 2 cores)
    python bench/run.py --quick    # small sizes, a smoke run
    python bench/run.py --wheel W  # wheel W against the source build (bench/wheel_compare.py)

Each ``bench_<family>.py`` module exposes ``run(quick) -> list[Row]``. The runner measures the
machine's float32 GEMM throughput (NumPy and torch) before and after the benchmarks, in the same
run, and reports every network GFLOP/s figure as a fraction of the best SGEMM figure.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
import time
from pathlib import Path

from common import Row, format_markdown, format_text, machine_info, sgemm_gflops

BENCH_DIR = Path(__file__).resolve().parent
FOOTNOTE = (
    "GFLOP/s = 2 x (forward + backward-to-input multiply-adds) per evaluated point / time; "
    "* = nominal: the method skips part of that work (IG's exact straight-path shortcut), so the "
    "figure is not compared with SGEMM."
)


def run_all(quick: bool) -> tuple[list[Row], dict[str, float], float]:
    """Run every bench module; return the rows, the best SGEMM GFLOP/s per library, the seconds."""
    start = time.perf_counter()
    sgemm = sgemm_gflops()
    rows: list[Row] = []
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        rows += importlib.import_module(path.stem).run(quick)
    for lib, value in sgemm_gflops().items():
        sgemm[lib] = max(sgemm[lib], value)
    best = max(sgemm.values())
    for row in rows:
        if row.gflops is not None and not row.effective:
            row.notes.append(f"{100 * row.gflops / best:.0f}% of SGEMM")
    return rows, sgemm, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the glassbox benchmarks.")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH_DIR / "results.md",
        help="where to write the Markdown table (default: bench/results.md)",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        help="only compare this built wheel with the source build on IG and LeNet LRP "
        "(bench/wheel_compare.py; --output is not written)",
    )
    args = parser.parse_args()
    if args.wheel:
        import wheel_compare

        print(wheel_compare.compare(args.wheel, args.quick))
        return
    rows, sgemm, seconds = run_all(args.quick)
    sgemm_line = "Same-run SGEMM (float32 GEMM, best of before/after): " + ", ".join(
        f"{lib} {value:.1f} GFLOP/s" for lib, value in sgemm.items()
    )
    info = machine_info()
    print(format_text(rows))
    print()
    print("\n".join([*info, sgemm_line, FOOTNOTE]))
    command = "python bench/run.py" + (" --quick" if args.quick else "")
    today = datetime.date.today().isoformat()
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"`{command}` on {today}, {seconds:.0f} s. Medians of >= 5 repeats after a warm-up; "
            "ratios are the other time divided by the glassbox time (higher = glassbox faster).",
            "",
            *(f"- {line}" for line in [*info, sgemm_line]),
            "",
            format_markdown(rows),
            "",
            FOOTNOTE,
            "",
        ]
    )
    args.output.write_text(text)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
