"""A built wheel (say the repaired portable one) against the source build, in one run.

Usage (from the repository root, where ``python`` imports the source build)::

    python bench/run.py --wheel wheelhouse/glassbox-...-manylinux_...whl [--quick]

Installs the wheel and the NumPy this interpreter has into a temporary virtual environment, then
times the same jobs in child processes, alternately with the wheel's glassbox and with this
interpreter's (wheel, source, source, wheel): Integrated Gradients on bench_gradients' MLP
(with and without the straight-path shortcut) and LRP EpsilonPlus on bench_lrp's LeNet. Each
child reports medians of >= 5 repeats (``common.time_it``); the table gives the median over the
rounds per side and the ratio wheel / source (the portable wheel's target: <= 1.10).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ORDER = ("wheel", "source", "source", "wheel")  # ABBA: drift over the run cancels out


def job(quick: bool) -> dict:
    """Time the jobs with the glassbox this interpreter imports; its level and medians (s)."""
    import numpy as np

    import bench_gradients
    import bench_lrp
    import glassbox as gb
    from common import time_it

    timings = {}
    mlp = gb.build_network(bench_gradients.make_spec())
    X = np.random.default_rng(0).standard_normal((100 if quick else 500, 30)).astype(np.float32)
    for fast_path in (True, False):
        ig = gb.IntegratedGradients(mlp, n_steps=50, method="gausslegendre", fast_path=fast_path)
        name = f"IG MLP 30-256-256-2, {len(X)} rows x 50 steps, fast_path={fast_path}"
        timings[name] = time_it(lambda ig=ig: ig(X, baselines=0.0, target=1)).median
    lenet = gb.build_network(bench_lrp.make_spec())
    images = np.random.default_rng(1).random((64 if quick else 256, 1, 28, 28), dtype=np.float32)
    lrp = gb.LRP(lenet, "EpsilonPlus")
    name = f"LRP EpsilonPlus LeNet, {len(images)} rows"
    timings[name] = time_it(lambda: lrp(images, target=bench_lrp.TARGET)).median
    return {"glassbox": gb.__file__, "level": gb.cpu_level(), "timings": timings}


def _install(wheel: Path, where: Path) -> Path:
    """A fresh virtual environment with ``wheel`` and this interpreter's NumPy; its python."""
    import numpy as np

    venv.create(where, with_pip=True)
    python = where / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", str(wheel), f"numpy=={np.__version__}"], check=True
    )
    return python


def _run_child(python: Path, env: dict[str, str], cwd: Path, quick: bool, out: Path) -> dict:
    command = [python, str(Path(__file__).resolve()), "--job", str(out)]
    subprocess.run([*command, *(["--quick"] if quick else [])], env=env, cwd=cwd, check=True)
    return json.loads(out.read_text())


def compare(wheel: Path, quick: bool) -> str:
    """Install ``wheel``, time both sides alternately and return the table as text."""
    with tempfile.TemporaryDirectory(prefix="glassbox-wheel-bench.") as tmp:
        tmp_dir = Path(tmp)
        wheel_python = _install(wheel.resolve(), tmp_dir / "venv")
        # The wheel's child runs away from the source tree and without its PYTHONPATH (the
        # script's own directory, bench/, is on its path: the jobs import bench_*.py and common).
        wheel_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        sides = {
            "wheel": (wheel_python, wheel_env, tmp_dir),
            "source": (Path(sys.executable), dict(os.environ), Path.cwd()),
        }
        results: dict[str, list[dict]] = {"wheel": [], "source": []}
        for k, side in enumerate(ORDER):
            print(f"round {k + 1}/{len(ORDER)}: {side} ...", file=sys.stderr, flush=True)
            results[side].append(_run_child(*sides[side], quick, tmp_dir / f"{k}.json"))
        wheel_file = results["wheel"][0]["glassbox"]
        if not Path(wheel_file).resolve().is_relative_to(tmp_dir.resolve()):
            raise RuntimeError(f"the wheel's child imported glassbox from {wheel_file}")
    lines = [
        f"wheel:  {wheel.name}, CPU level {results['wheel'][0]['level']}",
        f"source: {results['source'][0]['glassbox']}, CPU level {results['source'][0]['level']}",
        "",
        f"{'job':<58} {'source ms':>10} {'wheel ms':>10} {'wheel/source':>13}",
    ]
    for name in results["source"][0]["timings"]:
        source, built = (
            statistics.median(r["timings"][name] for r in results[side])
            for side in ("source", "wheel")
        )
        lines.append(
            f"{name:<58} {source * 1e3:>10.1f} {built * 1e3:>10.1f} {built / source:>13.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="the wheel to compare")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)  # a child: time, write JSON
    args = parser.parse_args()
    if args.job:
        args.job.write_text(json.dumps(job(args.quick)))
    elif args.wheel:
        print(compare(args.wheel, args.quick))
    else:
        parser.error("give the wheel to compare")


if __name__ == "__main__":
    main()
