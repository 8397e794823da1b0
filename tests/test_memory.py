"""Peak memory: every method honours ``memory_budget`` on a job of about 10^6 evaluated samples.

Each case runs in a fresh Python process (``python tests/test_memory.py CASE``): it imports
glassbox, builds a small native model and the data, calls the method once on a tiny job (so
OpenMP's threads, each thread's scratch and lazily imported modules exist before the baseline),
resets the process's RSS high-water mark, runs the job, and prints the peak RSS increase over
the RSS at the reset, with the bytes of the result arrays, as JSON.

The bound. ``memory_budget`` is "bytes one worker's chunk may use" (``Explainer``,
``run_options``), so with ``THREADS`` workers a method may hold ``THREADS x memory_budget`` of
chunks; the tests allow twice that, plus a constant that does not grow with the samples per row:

- ``2 x`` the bytes of the arrays the job returns (those not sharing memory with the input):
  the result, and one intermediate copy of it (a double accumulator before its cast to float32,
  a reshape to the input's shape);
- ``4 x`` the bytes of the data (rows x inputs float32): per-row state that is O(rows x
  features) by design, such as the core's per-row sums in double precision (twice the float32
  data each; DeepLIFT keeps the sum and its mean) and baselines broadcast to one per row;
- ``SLACK`` = 16 MiB: the allocator (one glibc arena per worker thread, freed pages it keeps),
  the Python objects the call creates, NumPy's small temporaries.

A method that ignores the budget needs every evaluated sample's activations at once: about
2 KB per sample for the MLP here, 2 GB for 10^6 samples, against bounds of 50 to 400 MiB. Jobs
with one point per row (Saliency, DeepLIFT, LRP, Grad-CAM, predict) explain 2 x 10^5 to 10^6
rows, so their result and data terms are the largest.

Measured with ``VmHWM`` / ``VmRSS`` from ``/proc/self/status``, the high-water mark reset by
writing 5 to ``/proc/self/clear_refs``. Not ``resource.getrusage(RUSAGE_SELF).ru_maxrss``:
CPython >= 3.10 starts subprocesses with vfork, and the kernel carries the parent's peak (here
pytest's, several hundred MB once torch is imported) into the child's ``ru_maxrss`` at exec, so
it would hide any job smaller than the parent. Linux only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

MiB = 1 << 20
BUDGET = 8 * MiB  # memory_budget of every case (bytes per worker)
THREADS = 2  # n_threads of every case
SLACK = 16 * MiB
DATA_COPIES = 4  # float32 copies of the data the per-row state may take (see the docstring)

# ----------------------------------------------------------------------------------------------
# the child: models, data and jobs
# ----------------------------------------------------------------------------------------------


def mlp(width: int = 8, hidden: int = 64, outputs: int = 4, activation: str = "tanh") -> Any:
    """A seeded native MLP ``width -> hidden -> hidden -> outputs``."""
    import glassbox as gb

    rng = np.random.default_rng(0)
    spec = gb.NetworkSpec(input_shape=(width,))
    sizes = (width, hidden, hidden, outputs)
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        weight = rng.normal(0.0, 1.2 / np.sqrt(fan_in), (fan_out, fan_in))
        spec.add("dense", f"fc{i}", weight=weight, bias=rng.normal(0.0, 0.2, fan_out))
        if i < len(sizes) - 2:
            spec.add(activation, f"act{i}")
    return gb.build_network(spec)


def cnn() -> Any:
    """A seeded native CNN on (1, 8, 8) images: conv 4x3x3, relu, maxpool 2, dense 36 -> 4."""
    import glassbox as gb

    rng = np.random.default_rng(0)
    spec = gb.NetworkSpec(input_shape=(1, 8, 8))
    spec.add("conv2d", "conv", weight=rng.normal(0, 0.4, (4, 1, 3, 3)), bias=np.zeros(4))
    spec.add("relu", "relu")
    spec.add("max_pool2d", "pool", params={"kernel": (2, 2), "stride": (2, 2)})
    spec.add("flatten", "flat")
    spec.add("dense", "fc", weight=rng.normal(0, 0.2, (4, 36)), bias=np.zeros(4))
    return gb.build_network(spec)


def data(rows: int, shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """Seeded float32 C-contiguous data (what the explainers take without a copy)."""
    out = np.empty((rows, *shape), dtype=np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, rows, 1 << 16):  # in pieces: no float64 copy of the whole array
        stop = min(rows, start + (1 << 16))
        out[start:stop] = rng.standard_normal((stop - start, *shape), dtype=np.float32)
    return out


# A job: (samples evaluated, rows, n_inputs, setup) where setup() -> (warm-up, job, X); both
# callables return the method's result. Every case uses memory_budget=BUDGET, n_threads=THREADS.
Job = tuple[int, int, int, Callable[[], tuple[Callable[[], Any], Callable[[], Any], np.ndarray]]]
OPTIONS = {"memory_budget": BUDGET, "n_threads": THREADS}


def _explainer(
    make: Callable[[Any], Any],
    model: Callable[[], Any],
    rows: int,
    shape: tuple[int, ...],
    warm: Callable[[Any], Any] | None,
    **kw: Any,
) -> Callable[[], tuple[Callable[[], Any], Callable[[], Any], np.ndarray]]:
    """setup for ``make(model)(X, **kw)`` on ``rows`` rows of ``shape``; the warm-up explains
    two rows with the same explainer, or one row with ``warm(model)`` (a smaller job per row)."""

    def setup() -> tuple[Callable[[], Any], Callable[[], Any], np.ndarray]:
        native = model()
        explainer = make(native)
        X = data(rows, shape)
        small = explainer if warm is None else warm(native)
        return (lambda: small(X[:2], **kw)), (lambda: explainer(X, **kw)), X

    return setup


def _gb() -> Any:
    import glassbox as gb

    return gb


def jobs() -> dict[str, Job]:
    """Every case by name: about 10^6 evaluated samples each (rows x points per row)."""
    gb = _gb()
    background = data(10, (16,), seed=2)
    references = data(100, (8,), seed=2)

    def explain(
        make: Callable[[Any], Any],
        rows: int,
        points: int,
        model: Callable[[], Any] = mlp,
        shape: tuple[int, ...] = (8,),
        warm: Callable[[Any], Any] | None = None,
        **kw: Any,
    ) -> Job:
        setup = _explainer(make, model, rows, shape, warm, **kw)
        return (rows * points, rows, int(np.prod(shape)), setup)

    cases: dict[str, Job] = {
        "Saliency": explain(lambda m: gb.Saliency(m, **OPTIONS), 10**6, 1, target=0),
        "InputXGradient": explain(lambda m: gb.InputXGradient(m, **OPTIONS), 10**6, 1, target=0),
        "IntegratedGradients": explain(
            lambda m: gb.IntegratedGradients(m, n_steps=500, **OPTIONS), 2000, 500, target=0
        ),
        "IntegratedGradients-relu-shortcut": explain(
            lambda m: gb.IntegratedGradients(m, n_steps=500, **OPTIONS),
            2000,
            500,
            model=lambda: mlp(activation="relu"),
            target=0,
        ),
        "SmoothGrad": explain(
            lambda m: gb.SmoothGrad(m, n_samples=500, stdev=0.3, **OPTIONS), 2000, 500, target=0
        ),
        "GradientShap": explain(
            lambda m: gb.GradientShap(m, n_samples=500, stdev=0.1, **OPTIONS),
            2000,
            500,
            baselines=references,
            target=0,
        ),
        "DeepLift": explain(lambda m: gb.DeepLift(m, **OPTIONS), 10**6, 1, target=0),
        "DeepLiftShap": explain(
            lambda m: gb.DeepLiftShap(m, **OPTIONS), 10**4, 100, baselines=references, target=0
        ),
        "LRP": explain(lambda m: gb.LRP(m, **OPTIONS), 10**6, 1, target=0),
        "LRP-cnn-EpsilonPlus": explain(
            lambda m: gb.LRP(m, composite="EpsilonPlus", **OPTIONS),
            2 * 10**5,
            1,
            model=cnn,
            shape=(1, 8, 8),
            target=0,
        ),
        "GradCAM": explain(
            lambda m: gb.GradCAM(m, layer="conv", **OPTIONS),
            2 * 10**5,
            1,
            model=cnn,
            shape=(1, 8, 8),
            target=0,
        ),
        "Occlusion": explain(
            lambda m: gb.Occlusion(m, (1, 2, 2), **OPTIONS),
            20408,
            49,
            model=cnn,
            shape=(1, 8, 8),
            target=0,
        ),
        "FeatureAblation": explain(
            lambda m: gb.FeatureAblation(m, **OPTIONS), 125_000, 8, target=0
        ),
        "Lime": explain(
            lambda m: gb.Lime(m, training_data=references, num_samples=10**6, **OPTIONS),
            1,
            10**6,
            warm=lambda m: gb.Lime(m, training_data=references, num_samples=100, **OPTIONS),
            target=0,
        ),
        "ExactShapley": explain(
            lambda m: gb.ExactShapley(m, background=background[:, :8], **OPTIONS),
            400,
            2**8 * 10,
            target=0,
        ),
        "ShapleyInteractions": explain(
            lambda m: gb.ShapleyInteractions(m, background=background[:, :8], **OPTIONS),
            400,
            2**8 * 10,
            target=0,
        ),
        "KernelShap": explain(
            lambda m: gb.KernelShap(m, background=background, n_samples=1000, **OPTIONS),
            100,
            1000 * 10,
            model=lambda: mlp(width=16),
            shape=(16,),
            target=0,
        ),
        "PermutationShapley": explain(
            lambda m: gb.PermutationShapley(m, background=background, n_samples=1000, **OPTIONS),
            100,
            1000 * 10,
            model=lambda: mlp(width=16),
            shape=(16,),
            target=0,
        ),
    }

    def inspection(function: Callable[..., Any], rows: int, points: int, **kw) -> Job:
        def setup() -> tuple[Callable[[], Any], Callable[[], Any], np.ndarray]:
            model = mlp()
            X = data(rows, (8,))
            extra = {}
            if function is gb.permutation_importance:
                extra["y"] = np.arange(rows) % 4

                def call(x: np.ndarray) -> Any:
                    return function(model, x, extra["y"][: len(x)], **kw, **OPTIONS)
            else:

                def call(x: np.ndarray) -> Any:
                    return function(model, x, **kw, **OPTIONS)

            return (lambda: call(X[:64])), (lambda: call(X)), X

        return (rows * points, rows, 8, setup)

    cases["permutation_importance"] = inspection(
        gb.permutation_importance, 12_500, 8 * 10, metric="accuracy", n_repeats=10
    )
    cases["partial_dependence-ICE"] = inspection(
        gb.partial_dependence, 10**4, 100, features=0, kind="both", grid_resolution=100, target=0
    )
    cases["ale"] = inspection(gb.ale, 5 * 10**5, 2, features=0, bins=20, target=0)
    cases["h_statistic"] = inspection(
        gb.h_statistic, 580, 3 * 580, features=[(0, 1)], n_samples=580, target=0
    )

    def predict() -> tuple[Callable[[], Any], Callable[[], Any], np.ndarray]:
        model = mlp()
        X = data(10**6, (8,))
        return (lambda: model.predict(X[:2], n_threads=THREADS)), (
            lambda: model.predict(X, n_threads=THREADS)
        ), X

    cases["predict"] = (10**6, 10**6, 8, predict)
    return cases


def _status(key: str) -> int:
    """A ``/proc/self/status`` figure (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def _result_bytes(result: Any, inputs: np.ndarray) -> int:
    """Bytes of the arrays in ``result`` (its attributes, dict values, tuple items) that are not
    views of the inputs."""
    seen: set[int] = set()
    total = 0

    def visit(value: Any, depth: int) -> None:
        nonlocal total
        if id(value) in seen or depth > 3:
            return
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            if not np.may_share_memory(value, inputs):
                total += value.nbytes
        elif isinstance(value, dict):
            for item in value.values():
                visit(item, depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item, depth + 1)
        elif hasattr(value, "__dict__"):
            for item in vars(value).values():
                visit(item, depth + 1)

    visit(result, 0)
    return total


def child(case: str) -> None:
    """Run ``case`` and print its measurements as JSON (the parent asserts)."""
    samples, rows, width, setup = jobs()[case]
    warm_up, job, X = setup()
    warm_up()
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # VmHWM := VmRSS
    except OSError:
        pass  # then the baseline below is the peak so far: the increase is a lower bound
    baseline = max(_status("VmRSS"), _status("VmHWM"))
    start = time.perf_counter()
    result = job()
    seconds = time.perf_counter() - start
    peak = _status("VmHWM")
    report = {
        "case": case,
        "samples": samples,
        "rows": rows,
        "width": width,
        "budget": BUDGET,
        "threads": THREADS,
        "baseline": baseline,
        "increase": peak - baseline,
        "result_bytes": _result_bytes(result, X),
        "seconds": seconds,
    }
    print(json.dumps(report))


# ----------------------------------------------------------------------------------------------
# the tests
# ----------------------------------------------------------------------------------------------

KNOWN = {
    "Lime": "issue 11: Lime ignores memory_budget (its neighbourhoods are not chunked across "
    "rows; 1 MiB budget, num_samples=10**6: +1.25 GB); fix in progress (issue11 robust)",
}
CASES = (
    "Saliency",
    "InputXGradient",
    "IntegratedGradients",
    "IntegratedGradients-relu-shortcut",
    "SmoothGrad",
    "GradientShap",
    "DeepLift",
    "DeepLiftShap",
    "LRP",
    "LRP-cnn-EpsilonPlus",
    "GradCAM",
    "Occlusion",
    "FeatureAblation",
    "Lime",
    "ExactShapley",
    "ShapleyInteractions",
    "KernelShap",
    "PermutationShapley",
    "permutation_importance",
    "partial_dependence-ICE",
    "ale",
    "h_statistic",
    "predict",
)


def _bound(report: dict[str, Any]) -> int:
    budget = report["budget"]
    if report["case"] == "predict":  # predict takes no budget: the core's default per worker
        from glassbox import _core

        budget = _core.RunOptions().memory_budget
    per_row = DATA_COPIES * report["rows"] * report["width"] * 4
    return 2 * budget * report["threads"] + 2 * report["result_bytes"] + per_row + SLACK


def run_case(case: str) -> dict[str, Any]:
    """Run ``case`` in a fresh interpreter that imports this glassbox; its JSON report."""
    import glassbox

    package_root = str(Path(glassbox.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, __file__, case],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{case} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _params() -> list[Any]:
    return [
        pytest.param(
            case,
            marks=pytest.mark.xfail(strict=False, reason=KNOWN[case]) if case in KNOWN else (),
        )
        for case in CASES
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc/self/status"
)
@pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="RSS under AddressSanitizer (shadow memory, quarantine) says nothing of the budget",
)
@pytest.mark.parametrize("case", _params())
def test_peak_rss_within_budget(case: str, record_property: Any) -> None:
    report = run_case(case)
    bound = _bound(report)
    record_property("peak_rss_increase", report["increase"])
    record_property("bound", bound)
    assert report["increase"] <= bound, (
        f"{case}: {report['samples']:.3g} samples ({report['rows']} rows), budget "
        f"{report['budget'] / MiB:g} MiB x {report['threads']} threads: peak RSS +"
        f"{report['increase'] / MiB:.1f} MiB > bound {bound / MiB:.1f} MiB "
        f"(result arrays {report['result_bytes'] / MiB:.1f} MiB)"
    )


def test_cases_cover_every_job() -> None:
    assert set(CASES) == set(jobs())
    assert all(1e5 <= samples <= 4e6 for samples, *_ in jobs().values())


if __name__ == "__main__":
    child(sys.argv[1])
