"""Gradient attributions: glassbox vs the NumPy reference vs Captum on an MLP 30-256-256-2.

Run ``python bench/bench_gradients.py [--quick]`` from the repository root (or ``bench/run.py`` for
the whole table). Every method explains the same rows of the same network, target class 1:

- Integrated Gradients, Gauss-Legendre, 50 steps, zero baseline; Captum's ``internal_batch_size``
  is tuned over a few values and the best is reported;
- the same IG with ``fast_path=False`` on the MLP built in torch with GELU, Tanh and SiLU (not
  only ReLU), glassbox and Captum measured in interleaved rounds;
- Saliency, Input x Gradient, SmoothGrad (50 samples) and GradientShap (20 samples, 100 baselines),
  Captum at its defaults;
- Integrated Gradients over 10,000 rows x 200 steps in a child process that does only that job,
  reporting the child's peak resident memory.

Integrated Gradients runs twice: with glassbox's default exact straight-path shortcut for networks
that open with Dense -> ReLU -> Dense (``fast_path=True``), whose nominal GFLOP/s is marked ``*``
because it does less work than it is credited with, and with ``fast_path=False``, which evaluates
every path point through the whole network and so measures the engine's achieved GFLOP/s.

The NumPy reference is ``glassbox._numpy_reference`` (a literal layer-by-layer forward/backward);
the sampled methods reuse glassbox's exposed random draws so that reference and glassbox agree
exactly, except that an isolated row can differ where a path point lies within float32 rounding of
a ReLU kink (the notes then count the agreeing rows). GFLOP/s counts 2 x (multiply-adds of the
forward pass + those of the backward pass to the input) per evaluated point.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common import Row, format_text, interleaved_medians, time_it

SIZES = (30, 256, 256, 2)
TARGET = 1
RTOL, ATOL = 1e-4, 1e-5


def make_spec(sizes: tuple[int, ...] = SIZES, seed: int = 0) -> Any:
    """A ReLU MLP as a ``NetworkSpec`` with torch-style uniform initialisation."""
    from glassbox.models.spec import NetworkSpec

    rng = np.random.default_rng(seed)
    spec = NetworkSpec(input_shape=(sizes[0],))
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        bound = 1 / np.sqrt(n_in)
        weight = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, n_out).astype(np.float32)
        spec.add("dense", f"fc{i}", weight=weight, bias=bias)
        if i < len(sizes) - 2:
            spec.add("relu", f"relu{i}")
    return spec


def to_torch(spec: Any) -> Any:
    """The same network as a ``torch.nn.Sequential``."""
    import torch

    layers: list[torch.nn.Module] = []
    for layer in spec.layers:
        if layer.kind == "dense":
            weight = torch.from_numpy(layer.weights["weight"].copy())
            linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                linear.weight.copy_(weight)
                linear.bias.copy_(torch.from_numpy(layer.weights["bias"].copy()))
            layers.append(linear)
        else:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).eval()


def flops_per_point(spec: Any) -> float:
    """2 x (forward + backward-to-input multiply-adds) of one evaluated point."""
    macs = sum(layer.weights["weight"].size for layer in spec.layers if layer.kind == "dense")
    return 2.0 * 2 * macs


def _compare(name: str, mine: np.ndarray, other: np.ndarray) -> str:
    """'= name' if every row agrees within RTOL/ATOL, else how many rows do; and the max |diff|."""
    other = np.asarray(other)
    diff = float(np.abs(mine - other).max())
    close = np.isclose(mine, other, rtol=RTOL, atol=ATOL).reshape(len(mine), -1).all(axis=1)
    agree = "=" if close.all() else f"= on {close.sum()}/{len(close)} rows of"
    return f"{agree} {name} (max |Δ| {diff:.1e})"


def _ref_sampled(spec: Any, points: np.ndarray, scale: np.ndarray, n: int) -> np.ndarray:
    """Mean over draws of ``scale * grad f_t(points)``; ``points``/``scale`` are (n, S, d)."""
    from glassbox import _numpy_reference as ref

    flat = points.reshape(-1, points.shape[-1])
    _, g = ref.gradient(spec, flat, np.full(len(flat), TARGET))
    return (scale * g.reshape(points.shape)).reshape(n, -1, points.shape[-1]).mean(axis=1)


def _captum_ig(net: Any, X: np.ndarray, steps: int, quick: bool) -> tuple[float, str, np.ndarray]:
    """Captum's IG time with the best ``internal_batch_size`` of a few; its name and values."""
    import captum.attr
    import torch

    xt = torch.from_numpy(X)
    cig = captum.attr.IntegratedGradients(net)
    best: tuple[float, str, np.ndarray] | None = None
    for batch in [None, 2048] if quick else [None, 8192, 4096, 2048, 1024, 512]:

        def call(batch: int | None = batch) -> Any:
            return cig.attribute(
                xt, target=TARGET, n_steps=steps, method="gausslegendre", internal_batch_size=batch
            )

        t = time_it(call)
        if best is None or t.median < best[0]:
            best = (t.median, f"Captum, internal_batch_size={batch or 'all'}", t.result.numpy())
    assert best is not None
    return best


def _bench_ig(model: Any, spec: Any, net: Any, X: np.ndarray, quick: bool) -> list[Row]:
    """IG with the straight-path shortcut (the default) and without it, vs the ref and Captum."""
    import glassbox as gb
    from glassbox import _numpy_reference as ref

    n, steps = len(X), 50
    reference = time_it(
        lambda: ref.integrated_gradients(spec, X, 0.0, TARGET, steps, "gausslegendre")
    )
    peer_s, peer_name, peer_values = _captum_ig(net, X, steps, quick)
    rows = []
    for fast_path in (True, False):
        ig = gb.IntegratedGradients(
            model, n_steps=steps, method="gausslegendre", fast_path=fast_path
        )
        mine = time_it(lambda ig=ig: ig(X, baselines=0.0, target=TARGET))
        values = mine.result.values
        rows.append(
            Row(
                f"IntegratedGradients (gausslegendre, {steps} steps"
                + ("" if fast_path else ", fast_path=False")
                + ")",
                f"{n} rows",
                mine.median,
                reference.median,
                peer_s,
                peer_name,
                flops_per_point(spec) * n * steps / mine.median / 1e9,
                [
                    _compare("Captum", values, peer_values),
                    _compare("ref", values, reference.result[0]),
                    f"mean |delta| {np.abs(mine.result.delta).mean():.1e}",
                ],
                effective=fast_path and _shortcut_applies(model),
            )
        )
    return rows


IG_ACTIVATIONS = ("GELU", "Tanh", "SiLU")


def _bench_ig_activations(X: np.ndarray, quick: bool) -> list[Row]:
    """IG with ``fast_path=False`` on the same MLP with smooth activations vs Captum, interleaved.

    The torch MLP (default initialisation, seed 0) is converted with ``gb.from_torch``; Captum's
    ``internal_batch_size`` is the best of a few in a first pass, then both run in interleaved
    rounds (the machine is noisy) and the medians are compared.
    """
    import captum.attr
    import torch

    import glassbox as gb
    from bench_activations import make_module

    steps, repeats = 50, 3 if quick else 9
    flops = 2.0 * 2 * sum(a * b for a, b in itertools.pairwise(SIZES)) * len(X) * steps
    xt = torch.from_numpy(X)
    rows = []
    for activation in IG_ACTIVATIONS:
        net = make_module(activation, SIZES)
        ig = gb.IntegratedGradients(
            gb.from_torch(net), n_steps=steps, method="gausslegendre", fast_path=False
        )
        captum_ig = captum.attr.IntegratedGradients(net)

        def peer(batch: int | None, captum_ig: Any = captum_ig) -> Any:
            return captum_ig.attribute(
                xt, target=TARGET, n_steps=steps, method="gausslegendre", internal_batch_size=batch
            )

        batches = [None, 2048] if quick else [None, 4096, 2048, 1024]
        batch = min(batches, key=lambda b: time_it(lambda b=b: peer(b)).median)
        mine = ig(X, baselines=0.0, target=TARGET).values
        np.testing.assert_allclose(mine, peer(batch).numpy(), rtol=1e-3, atol=1e-5)
        medians = interleaved_medians(
            {
                "glassbox": lambda ig=ig: ig(X, baselines=0.0, target=TARGET),
                "Captum": lambda batch=batch, peer=peer: peer(batch),
            },
            repeats,
        )
        rows.append(
            Row(
                f"IntegratedGradients ({activation} MLP, {steps} steps, fast_path=False)",
                f"{len(X)} rows",
                medians["glassbox"],
                peer=medians["Captum"],
                peer_name=f"Captum, internal_batch_size={batch or 'all'}",
                gflops=flops / medians["glassbox"] / 1e9,
                notes=[f"median of {repeats} interleaved rounds"],
            )
        )
    return rows


def _shortcut_applies(model: Any) -> bool:
    from glassbox import _core

    return bool(_core.linear_path_applies(model.network))


def _bench_simple(
    name: str,
    explain: Callable[[], Any],
    reference: Callable[[], np.ndarray],
    peer: Callable[[], Any],
    points: int,
    spec: Any,
    size: str,
) -> Row:
    mine, ref_t, peer_t = time_it(explain), time_it(reference), time_it(peer)
    values = mine.result.values
    notes = [_compare("ref", values, ref_t.result)]
    return Row(
        name,
        size,
        mine.median,
        ref_t.median,
        peer_t.median,
        "Captum",
        flops_per_point(spec) * points / mine.median / 1e9,
        notes,
    )


def _bench_gradient_methods(model: Any, spec: Any, net: Any, X: np.ndarray) -> list[Row]:
    import captum.attr
    import torch

    import glassbox as gb
    from glassbox import _core
    from glassbox import _numpy_reference as ref

    n, d = X.shape
    xt = torch.from_numpy(X)
    target = np.full(n, TARGET)
    rows = [
        _bench_simple(
            "Saliency (abs)",
            lambda: gb.Saliency(model)(X, target=TARGET),
            lambda: np.abs(ref.gradient(spec, X, target)[1]),
            lambda: captum.attr.Saliency(net).attribute(xt, target=TARGET),
            n,
            spec,
            f"{n} rows",
        ),
        _bench_simple(
            "InputXGradient",
            lambda: gb.InputXGradient(model)(X, target=TARGET),
            lambda: X * ref.gradient(spec, X, target)[1],
            lambda: captum.attr.InputXGradient(net).attribute(xt, target=TARGET),
            n,
            spec,
            f"{n} rows",
        ),
    ]

    samples, stdev = 50, 0.5
    noise = _core.normal_draws(0, stream=0, n_rows=n, n_draws=samples, n_features=d)
    noisy = X[:, None, :] + np.float32(stdev) * noise
    rows.append(
        _bench_simple(
            "SmoothGrad (gradient)",
            lambda: gb.SmoothGrad(model, n_samples=samples, stdev=stdev, seed=0)(X, target=TARGET),
            lambda: _ref_sampled(spec, noisy, np.float32(1), n),
            lambda: captum.attr.NoiseTunnel(captum.attr.Saliency(net)).attribute(
                xt, nt_type="smoothgrad", nt_samples=samples, stdevs=stdev, abs=False, target=TARGET
            ),
            n * samples,
            spec,
            f"{n} rows x {samples} samples",
        )
    )

    samples, m = 20, 100
    R = np.random.default_rng(1).standard_normal((m, d)).astype(np.float32)
    base = R[_core.index_draws(0, stream=3, n_rows=n, n_draws=samples, n=m)]
    alpha = _core.uniform_draws(0, stream=2, n_rows=n, n_draws=samples).astype(np.float32)[
        ..., None
    ]
    xn = np.broadcast_to(X[:, None, :], base.shape)
    rt = torch.from_numpy(R)
    gs = gb.GradientShap(model, n_samples=samples, seed=0)
    rows.append(
        _bench_simple(
            "GradientShap",
            lambda: gs(X, baselines=R, target=TARGET),
            lambda: _ref_sampled(spec, base + alpha * (xn - base), xn - base, n),
            lambda: captum.attr.GradientShap(net).attribute(
                xt, baselines=rt, n_samples=samples, stdevs=0.0, target=TARGET
            ),
            n * samples,
            spec,
            f"{n} rows x {samples} samples, {m} baselines",
        )
    )
    return rows


# The child reports its peak resident memory. On Linux, ``ru_maxrss`` survives ``exec``: a child
# forked from this (torch-laden) process starts with the parent's high-water mark, so the child
# reads the high-water mark of its own address space (``VmHWM``) where /proc exists and falls back
# to ``ru_maxrss`` elsewhere.
_PEAK_JOB = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {bench!r})
import glassbox as gb
from glassbox.models.native import build_network
from bench_gradients import make_spec

def rss_kib(field):
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

spec = make_spec()
model = build_network(spec)
X = np.random.default_rng(0).standard_normal(({rows}, spec.input_shape[0])).astype(np.float32)
ig = gb.IntegratedGradients(model, n_steps={steps}, method="gausslegendre", fast_path={fast_path})
before = rss_kib("VmRSS")
start = time.perf_counter()
exp = ig(X, baselines=0.0, target=1)
seconds = time.perf_counter() - start
print(json.dumps(dict(seconds=seconds, before_kib=before, peak_kib=rss_kib("VmHWM"),
                      delta=float(np.abs(exp.delta).mean()))))
"""


def bench_peak_memory(rows: int, steps: int, fast_path: bool = True) -> Row:
    """IG over ``rows`` x ``steps`` in a child process; report its time and peak RSS."""
    from glassbox.models.native import build_network

    here = str(Path(__file__).resolve().parent)
    code = _PEAK_JOB.format(bench=here, rows=rows, steps=steps, fast_path=fast_path)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the peak-memory child failed:\n{done.stderr}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    spec = make_spec()
    peak_mib, before_mib = out["peak_kib"] / 1024, out["before_kib"] / 1024
    return Row(
        f"IntegratedGradients (gausslegendre, {steps} steps"
        + ("" if fast_path else ", fast_path=False")
        + "), own process",
        f"{rows:,} rows",
        out["seconds"],
        gflops=flops_per_point(spec) * rows * steps / out["seconds"] / 1e9,
        notes=[
            f"peak RSS {peak_mib:,.0f} MiB ({before_mib:,.0f} MiB before IG); one run",
            f"mean |delta| {out['delta']:.1e}",
        ],
        effective=fast_path and _shortcut_applies(build_network(spec)),
    )


def run(quick: bool = False) -> list[Row]:
    """Run every gradient benchmark and return the table rows."""
    import glassbox as gb

    # Captum's Saliency and InputXGradient say so when they switch on requires_grad themselves.
    warnings.filterwarnings("ignore", message="Input Tensor .* did not already require gradients")

    spec = make_spec()
    net = to_torch(spec)
    model = gb.from_torch(net)
    n = 100 if quick else 500
    X = np.random.default_rng(0).standard_normal((n, SIZES[0])).astype(np.float32)
    rows = _bench_ig(model, spec, net, X, quick)
    rows += _bench_ig_activations(X, quick)
    rows += _bench_gradient_methods(model, spec, net, X)
    size = (2_000, 50) if quick else (10_000, 200)
    rows += [bench_peak_memory(*size, fast_path=fast) for fast in (True, False)]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    print(format_text(run(args.quick)))


if __name__ == "__main__":
    main()
