"""KernelShap's error at equal budget: glassbox's samplers against shap's KernelExplainer.

Run ``python bench/bench_shapley_error.py [--quick] [--models mlp,gbm] [--datasets ...]`` from
the repository root.

Data (scikit-learn bundled, 20 background rows, 20 explained rows, interventional Shapley values):

- digits 4x4 (d = 16): the 8x8 digits averaged over 2x2 blocks, "is it a 3";
- breast cancer (d = 30);
- digits 8x8 (d = 64): "is it a 3".

Models and ground truth:

- mlp: a ``StandardScaler + MLP`` (one hidden layer of 32 ReLU units, class-1 probability, the
  native network); truth ``gb.ExactShapley`` for d = 16 (all 2^16 coalitions), for d = 30 and 64
  ``gb.PermutationShapley`` with a large budget (an unbiased estimator independent of both
  regression samplers; its largest standard error relative to the values' norm is printed);
- gbm: gradient boosting (60 trees of depth 3, log-odds, a Python callable); truth shap's
  TreeExplainer, interventional on the same background rows (exact).

Every estimator gets b coalitions per explained row, b = 8d and 32d (each on the 20 background
rows): glassbox ``KernelShap(n_samples=b, sampler=...)`` for "leverage" and "kernel", and shap's
``KernelExplainer(...).shap_values(x, nsamples=b, l1_reg=False)`` (plain KernelSHAP) on the same
output. Error: relative L2 per row, ||phi - truth|| / ||truth||, median over the explained rows,
mean over seeds (glassbox shares one design across the rows, so it is averaged over more seeds
than shap, which draws a design per row). The ratios are leverage / shap and kernel / shap (the
issue asks leverage <= 0.5x shap).
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass

import numpy as np

N_BACKGROUND = 20
DATASETS = ["digits_4x4", "breast_cancer", "digits_8x8"]
MODELS = ["mlp", "gbm"]


@dataclass
class Problem:
    name: str
    kind: str  # "mlp" or "gbm"
    model: object  # what glassbox explains
    target: int | None  # the explained output of ``model``
    f: object  # the same output as a NumPy function, for shap
    background: np.ndarray
    rows: np.ndarray
    truth: np.ndarray  # (rows, d)
    note: str


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer, load_digits

    if name == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    X, y = load_digits(return_X_y=True)
    if name == "digits_4x4":
        X = X.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16)
    return X, (y == 3).astype(int)


def make_problem(name: str, kind: str, n_rows: int, quick: bool) -> Problem:
    X, y = load(name)
    order = np.random.default_rng(0).permutation(len(X))
    background = X[order[:N_BACKGROUND]].astype(np.float32)
    rows = X[order[N_BACKGROUND : N_BACKGROUND + n_rows]].astype(np.float32)
    make = gbm_problem if kind == "gbm" else mlp_problem
    return make(name, X, y, background, rows, quick)


def mlp_problem(name, X, y, background, rows, quick) -> Problem:
    """Class-1 probability of an MLP; truth ExactShapley (d <= 16) or a large PermutationShapley."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import glassbox as gb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a second of training is enough
        mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
        pipe = make_pipeline(StandardScaler(), mlp).fit(X, y)
    model = gb.from_sklearn(pipe)
    f = lambda Z: model.predict(np.asarray(Z, np.float32))[:, 1]  # noqa: E731
    d = X.shape[1]
    if d <= 16:
        truth = gb.ExactShapley(model, background=background)(rows, target=1).values
        note = "truth: ExactShapley"
    else:
        budget = (50_000 if quick else 400_000) * (2 if d > 32 else 1)
        exp = gb.PermutationShapley(model, background=background, n_samples=budget, seed=99)(
            rows, target=1
        )
        truth = exp.values
        worst = (np.linalg.norm(exp.stderr, axis=1) / np.linalg.norm(truth, axis=1)).max()
        note = f"truth: PermutationShapley n_samples={budget:,}, relative stderr <= {worst:.1e}"
    return Problem(name, "mlp", model, 1, f, background, rows, truth, note)


def gbm_problem(name, X, y, background, rows, quick) -> Problem:
    """Log-odds of gradient boosting (60 trees of depth 3), a Python callable for glassbox;
    truth: shap's TreeExplainer, interventional on the same background (exact)."""
    import shap
    from sklearn.ensemble import GradientBoostingClassifier

    import glassbox as gb

    gbm = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0).fit(X, y)
    f = lambda Z: gbm.decision_function(np.asarray(Z, np.float64))  # noqa: E731
    model = gb.wrap(f, n_inputs=X.shape[1])
    tree = shap.TreeExplainer(
        gbm, data=background.astype(np.float64), feature_perturbation="interventional"
    )
    truth = np.asarray(tree.shap_values(rows.astype(np.float64)))
    note = "truth: shap TreeExplainer (interventional, exact)"
    return Problem(name, "gbm", model, None, f, background, rows, truth, note)


def relative_error(values: np.ndarray, truth: np.ndarray) -> float:
    """Median over rows of ||phi - truth|| / ||truth||."""
    errors = np.linalg.norm(values - truth, axis=1) / np.linalg.norm(truth, axis=1)
    return float(np.median(errors))


def glassbox_values(problem: Problem, budget: int, sampler: str, seed: int) -> np.ndarray:
    import glassbox as gb

    explainer = gb.KernelShap(
        problem.model, background=problem.background, n_samples=budget, sampler=sampler, seed=seed
    )
    return explainer(problem.rows, target=problem.target).values


def shap_values(problem: Problem, budget: int, seed: int) -> np.ndarray:
    import shap

    explainer = shap.KernelExplainer(problem.f, problem.background.astype(np.float64))
    np.random.seed(seed)  # noqa: NPY002 (shap samples with NumPy's global generator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array(
            [
                explainer.shap_values(
                    row[None].astype(np.float64), nsamples=budget, l1_reg=False, silent=True
                )[0]
                for row in problem.rows
            ]
        )


def errors(problem: Problem, budget: int, seeds: int, shap_seeds: int) -> dict[str, float]:
    """Mean over seeds of the median relative error, per estimator."""
    out = {
        sampler: float(
            np.mean(
                [
                    relative_error(glassbox_values(problem, budget, sampler, s), problem.truth)
                    for s in range(seeds)
                ]
            )
        )
        for sampler in ("leverage", "kernel")
    }
    shap_runs = [shap_values(problem, budget, s) for s in range(shap_seeds)]
    out["shap"] = float(np.mean([relative_error(v, problem.truth) for v in shap_runs]))
    return out


def table(
    quick: bool, datasets: list[str], kinds: list[str], show: bool = True
) -> list[tuple[str, int, dict]]:
    """(model and data set, budget, errors) per line, printed as a markdown table when ``show``."""
    n_rows, seeds, shap_seeds = (8, 6, 1) if quick else (20, 12, 2)
    if show:
        print(
            "| model | data | d | budget | leverage | kernel | shap | leverage/shap | kernel/shap |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
    lines, notes = [], []
    for kind, name in [(kind, name) for kind in kinds for name in datasets]:
        problem = make_problem(name, kind, n_rows, quick)
        d = problem.truth.shape[1]
        notes.append(f"{kind} {name}: {problem.note}")
        for budget in (8 * d, 32 * d):
            error = errors(problem, budget, seeds, shap_seeds)
            lines.append((f"{kind} {name}", budget, error))
            if show:
                print(
                    f"| {kind} | {name} | {d} | {budget} | {error['leverage']:.4f} | "
                    f"{error['kernel']:.4f} | {error['shap']:.4f} | "
                    f"{error['leverage'] / error['shap']:.2f} | "
                    f"{error['kernel'] / error['shap']:.2f} |",
                    flush=True,
                )
    if show:
        print("\n".join(notes))
    return lines


def run(quick: bool = False) -> list:
    """The rows for bench/run.py: errors, not times (the ratios in the notes)."""
    from common import Row

    datasets = ["breast_cancer"] if quick else DATASETS
    return [
        Row(
            "KernelShap error vs shap",
            f"{name} b={budget}",
            None,
            notes=[
                f"relative error leverage {e['leverage']:.3f} kernel {e['kernel']:.3f} "
                f"shap {e['shap']:.3f}; leverage/shap {e['leverage'] / e['shap']:.2f}"
            ],
        )
        for name, budget, e in table(quick, datasets, MODELS, show=False)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows and seeds")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    table(args.quick, args.datasets.split(","), args.models.split(","))


if __name__ == "__main__":
    main()
