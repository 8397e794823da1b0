"""Shapley values: accuracy versus time, glassbox against shap and Captum, on one MLP per dataset.

Run ``python bench/bench_shapley.py [--quick]`` from the repository root (or ``bench/run.py``).

Problems (scikit-learn data, a ``StandardScaler + MLP`` pipeline with one hidden layer of 64 ReLU
units trained in about a second, 100 background rows, interventional Shapley values of class 1 /
the regression output):

- diabetes (d = 10): the reference is ``gb.ExactShapley``; at this size shap's KernelExplainer
  enumerates every coalition at nsamples >= 1022, so it is compared for exactness only;
- breast cancer (d = 30): the reference is ``gb.PermutationShapley`` with a very large budget (its
  own largest standard error is printed).

Every method gets a budget of b coalitions per explained row, each evaluated on the 100 background
rows (100 b model rows per row): glassbox KernelShap / PermutationShapley (``n_samples=b``), with
the native network (``gb.from_sklearn``) and with the same scikit-learn model as a Python callable
(``gb.wrap(mlp.predict_proba)``); shap KernelExplainer (``nsamples=b``; with its default
``l1_reg="num_features(10)"``, which keeps 10 features and so is biased at d = 30, and with
``l1_reg=False``, the plain KernelSHAP estimator) and PermutationExplainer (``max_evals=b``) on
``predict_proba``; Captum KernelShap (``n_samples=b``) and
ShapleyValueSampling (b / d permutations) on the same function. Captum takes one baseline per
input, so it explains the row once per background row (the row repeated, the background as
baselines) and averages: the Shapley value is linear in the game, so this is the same
interventional value at the same number of model rows.

Error: RMSE over the explained rows and features against the reference (glassbox: mean over 3
seeds). Time: median of repeated runs per explained row. The summary reports, on breast cancer and
for both shap settings, how much faster glassbox reaches the error shap KernelExplainer reaches at
nsamples=2048 (the smallest glassbox budget in the ladder whose error is at most shap's) and the
error ratio at equal budget (2048).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from common import Row, format_text, time_it

N_BACKGROUND = 100
SHAP_BUDGET = 2048
#: shap's KernelExplainer with its default l1_reg="num_features(10)" (keeps 10 features, so it
#: is biased when d > 10) and as the plain KernelSHAP estimator (l1_reg=False).
SHAP_KERNELS = {
    "shap KernelExplainer": "num_features(10)",
    "shap KernelExplainer l1_reg=False": False,
}
GB_SEEDS = (0, 1, 2)


@dataclass
class Problem:
    """One dataset: the fitted pipeline, its native twin, the rows and the reference values."""

    name: str
    d: int
    sklearn: Any
    fn: Callable[[np.ndarray], np.ndarray]
    target: int
    background: np.ndarray
    X: np.ndarray
    reference: np.ndarray
    reference_note: str


@dataclass
class Point:
    """One method at one budget: seconds per explained row and RMSE against the reference."""

    method: str
    budget: int
    seconds: float
    error: float


def make_problem(name: str, n_rows: int, quick: bool) -> Problem:
    """Train the MLP, pick background and explained rows, compute the reference values."""
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import glassbox as gb

    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        mlp = MLPRegressor(hidden_layer_sizes=(64,), max_iter=300, random_state=0)
        target = 0
    else:
        X, y = load_breast_cancer(return_X_y=True)
        mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=0)
        target = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a second of training is enough
        model = make_pipeline(StandardScaler(), mlp).fit(X, y)
    fn = model.predict_proba if hasattr(model, "predict_proba") else model.predict
    order = np.random.default_rng(0).permutation(len(X))
    background = X[order[:N_BACKGROUND]].astype(np.float32)
    rows = X[order[N_BACKGROUND : N_BACKGROUND + n_rows]].astype(np.float32)
    native = gb.from_sklearn(model)
    if X.shape[1] <= 10:
        reference = gb.ExactShapley(native, background=background)(rows, target=target).values
        note = "reference: ExactShapley"
    else:
        budget = 100_000 if quick else 400_000
        exp = gb.PermutationShapley(native, background=background, n_samples=budget, seed=99)(
            rows, target=target
        )
        reference = exp.values
        note = (
            f"reference: PermutationShapley n_samples={budget:,}, max stderr {exp.stderr.max():.1e}"
        )
    return Problem(name, X.shape[1], model, fn, target, background, rows, reference, note)


def rmse(values: np.ndarray, reference: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(values, np.float64) - reference) ** 2)))


def _timed(fn: Callable[[], np.ndarray], n_rows: int, slow: bool) -> tuple[float, np.ndarray]:
    """Median seconds per explained row and the last result (slow peers: no warm-up run)."""
    timing = time_it(fn, warmup=0 if slow else 1)
    return timing.median / n_rows, timing.result


def glassbox_points(
    problem: Problem, budgets: tuple[int, ...], seeds: tuple[int, ...]
) -> list[Point]:
    """glassbox KernelShap and PermutationShapley, native and callable, over the budgets."""
    import glassbox as gb

    models = {
        "native": gb.from_sklearn(problem.sklearn),
        "callable": gb.wrap(problem.fn, n_inputs=problem.d),
    }
    points = []
    for kind, model in models.items():
        for label, explainer in (("KernelShap", gb.KernelShap), ("Permutation", None)):
            make = explainer or gb.PermutationShapley
            for b in budgets:
                if label == "Permutation" and b < 4 * (problem.d - 1):
                    continue
                errors, seconds = [], 0.0
                for seed in seeds:
                    run = make(model, background=problem.background, n_samples=b, seed=seed)
                    call = lambda run=run: run(problem.X, target=problem.target).values  # noqa: E731
                    if seed == seeds[0]:
                        seconds, values = _timed(call, len(problem.X), kind == "callable")
                    else:
                        values = call()
                    errors.append(rmse(values, problem.reference))
                name = f"glassbox {label} ({kind})"
                points.append(Point(name, b, seconds, float(np.mean(errors))))
    return points


def shap_points(
    problem: Problem, kernel_budgets: tuple[int, ...], permutation_budgets: tuple[int, ...]
) -> list[Point]:
    """shap KernelExplainer and PermutationExplainer on the scikit-learn model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap

    points = []
    B64, X64 = problem.background.astype(np.float64), problem.X.astype(np.float64)
    kernel = shap.KernelExplainer(problem.fn, B64)
    masker = shap.maskers.Independent(B64, max_samples=N_BACKGROUND)
    permutation = shap.PermutationExplainer(problem.fn, masker, seed=0)

    def pick(values: Any) -> np.ndarray:
        values = np.asarray(values)
        return values[..., problem.target] if values.ndim == 3 else values

    for (label, l1_reg), b in itertools.product(SHAP_KERNELS.items(), kernel_budgets):
        np.random.seed(0)  # noqa: NPY002 - shap's KernelExplainer samples with the global generator
        seconds, values = _timed(
            lambda b=b, l1=l1_reg: pick(
                kernel.shap_values(X64, nsamples=b, silent=True, l1_reg=l1)
            ),
            len(X64),
            True,
        )
        points.append(Point(label, b, seconds, rmse(values, problem.reference)))
    for b in permutation_budgets:
        seconds, values = _timed(
            lambda b=b: pick(permutation(X64, max_evals=b, silent=True).values), len(X64), True
        )
        points.append(
            Point("shap PermutationExplainer", b, seconds, rmse(values, problem.reference))
        )
    return points


def captum_points(
    problem: Problem,
    kernel_budgets: tuple[int, ...],
    sampling_budgets: tuple[int, ...],
    kernel_rows: int,
) -> list[Point]:
    """Captum KernelShap (on the first ``kernel_rows`` rows: it perturbs in a Python loop, one
    background row at a time) and ShapleyValueSampling, each row explained against every
    background row as its baseline and averaged (the interventional value at the same rows)."""
    import torch
    from captum.attr import KernelShap, ShapleyValueSampling

    def forward(batch: torch.Tensor) -> torch.Tensor:
        out = np.asarray(problem.fn(batch.double().numpy()), np.float32)
        return torch.from_numpy(out.reshape(len(out), -1))

    baselines = torch.from_numpy(problem.background)

    def explain(method: Any, n_rows: int, **kwargs: Any) -> np.ndarray:
        torch.manual_seed(0)
        out = []
        for x in problem.X[:n_rows]:
            inputs = torch.from_numpy(np.repeat(x[None], N_BACKGROUND, axis=0))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Captum warns about its own defaults
                attr = method.attribute(
                    inputs, baselines=baselines, target=problem.target, **kwargs
                )
            out.append(attr.detach().numpy().mean(axis=0))
        return np.array(out)

    points: list[Point] = []
    kernel, sampling = KernelShap(forward), ShapleyValueSampling(forward)
    for b in kernel_budgets:
        seconds, values = _timed(
            lambda b=b: explain(kernel, n_rows=kernel_rows, n_samples=b, perturbations_per_eval=b),
            kernel_rows,
            True,
        )
        error = rmse(values, problem.reference[:kernel_rows])
        points.append(Point("Captum KernelShap", b, seconds, error))
    n_rows = len(problem.X)
    for b in sampling_budgets:
        n_perm = max(1, b // problem.d)
        seconds, values = _timed(
            lambda n=n_perm: explain(
                sampling, n_rows=n_rows, n_samples=n, perturbations_per_eval=problem.d
            ),
            n_rows,
            True,
        )
        points.append(
            Point("Captum ShapleyValueSampling", b, seconds, rmse(values, problem.reference))
        )
    return points


def summary(problem: Problem, points: list[Point]) -> tuple[list[str], list[Row]]:
    """Speed-up to shap KernelExplainer's error at nsamples=2048, and error at equal budget,
    against shap's default (L1 selection of 10 features) and against l1_reg=False."""
    lines, rows = [], []
    size = f"{problem.name} d={problem.d}, {N_BACKGROUND} bg, {len(problem.X)} rows"
    for peer in SHAP_KERNELS:
        shap_point = next((p for p in points if p.method == peer and p.budget == SHAP_BUDGET), None)
        if shap_point is None:
            continue
        short = peer.removeprefix("shap KernelExplainer").strip() or "(default)"
        for kind in ("native", "callable"):
            method = f"glassbox KernelShap ({kind})"
            ladder = sorted((p for p in points if p.method == method), key=lambda p: p.budget)
            reached = next((p for p in ladder if p.error <= shap_point.error), None)
            equal = next((p for p in ladder if p.budget == SHAP_BUDGET), None)
            notes = []
            if equal is not None:
                notes.append(
                    f"error at equal budget {SHAP_BUDGET}: {equal.error:.2e} vs "
                    f"{shap_point.error:.2e} ({equal.error / shap_point.error:.2f}x)"
                )
            if reached is None:
                lines.append(f"{problem.name}: {method} did not reach {peer}@{SHAP_BUDGET}'s error")
                continue
            notes.insert(
                0, f"reaches its b={SHAP_BUDGET} error {shap_point.error:.2e} at b={reached.budget}"
            )
            lines.append(
                f"{problem.name}: {method} vs {peer}: " + "; ".join(notes) + f"; "
                f"{reached.seconds * 1e3:.1f} vs {shap_point.seconds * 1e3:.1f} ms/row = "
                f"{shap_point.seconds / reached.seconds:.1f}x faster"
            )
            rows.append(
                Row(
                    f"KernelShap ({kind}) to shap {short} b={SHAP_BUDGET} error",
                    size,
                    reached.seconds,
                    peer=shap_point.seconds,
                    peer_name=peer,
                    notes=notes,
                )
            )
    return lines, rows


def format_points(problem: Problem, points: list[Point]) -> str:
    """The accuracy-versus-time table of one problem."""
    lines = [
        f"{problem.name} (d={problem.d}, {N_BACKGROUND} background rows, {len(problem.X)} "
        f"explained rows; {problem.reference_note})",
        f"{'method':36s} {'budget':>7s} {'ms/row':>10s} {'RMSE':>10s}",
    ]
    for p in sorted(points, key=lambda p: (p.method, p.budget)):
        lines.append(f"{p.method:36s} {p.budget:7d} {p.seconds * 1e3:10.1f} {p.error:10.2e}")
    return "\n".join(lines)


def run_all(quick: bool) -> tuple[list[str], list[Row]]:
    """Every problem: the accuracy-versus-time tables, the summaries and the table rows."""
    texts, rows = [], []
    for name in ("diabetes", "breast-cancer"):
        wide = name == "breast-cancer"
        n_rows = 2 if quick else 4
        problem = make_problem(name, n_rows, quick)
        if quick:  # a smoke run: the budgets the summary needs, Captum on one row
            gb_budgets = (128, 256, 512, 2048) if wide else (256, 1022)
            kernel_budgets = (SHAP_BUDGET,) if wide else (1022,)
            permutation_budgets = (512,) if wide else ()
            captum_kernel, captum_sampling, captum_rows = (
                ((64,), (128,), 1) if wide else ((), (), 1)
            )
        else:
            gb_budgets = (64, 128, 256, 512, 1024, 2048, 4096) if wide else (64, 256, 1022)
            kernel_budgets = (256, 512, 1024, 2048, 4096) if wide else (256, 1022)
            permutation_budgets = kernel_budgets
            captum_kernel, captum_sampling = (
                ((64, 256), (256, 1024)) if wide else ((256,), (256, 1022))
            )
            captum_rows = 1
        seeds = GB_SEEDS[:1] if quick else GB_SEEDS
        start = time.perf_counter()
        points = glassbox_points(problem, gb_budgets, seeds)
        print(f"  {name}: glassbox {time.perf_counter() - start:.0f} s", file=sys.stderr)
        start = time.perf_counter()
        points += shap_points(problem, kernel_budgets, permutation_budgets)
        print(f"  {name}: shap {time.perf_counter() - start:.0f} s", file=sys.stderr)
        start = time.perf_counter()
        points += captum_points(problem, captum_kernel, captum_sampling, captum_rows)
        print(f"  {name}: Captum {time.perf_counter() - start:.0f} s", file=sys.stderr)
        lines, summary_rows = summary(problem, points) if wide else ([], [])
        texts.append(format_points(problem, points) + "\n" + "\n".join(lines))
        rows += summary_rows
        at = max(kernel_budgets)
        pairs = {
            "glassbox KernelShap (native)": "shap KernelExplainer l1_reg=False",
            "glassbox Permutation (native)": "shap PermutationExplainer",
        }
        for method, peer_method in pairs.items():
            mine = next((p for p in points if p.method == method and p.budget == at), None)
            peer = next((p for p in points if p.method == peer_method and p.budget == at), None)
            if mine is None or peer is None:
                continue
            rows.append(
                Row(
                    f"{method.removeprefix('glassbox ')} b={at}",
                    f"{name} d={problem.d}, {N_BACKGROUND} bg, {len(problem.X)} rows (per row)",
                    mine.seconds,
                    peer=peer.seconds,
                    peer_name=peer_method,
                    notes=[f"RMSE {mine.error:.1e} vs {peer.error:.1e}"],
                )
            )
    return texts, rows


def run(quick: bool = False) -> list[Row]:
    """The benchmark rows for bench/run.py."""
    return run_all(quick)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    texts, rows = run_all(args.quick)
    print("\n\n".join(texts))
    print()
    print(format_text(rows))


if __name__ == "__main__":
    main()
