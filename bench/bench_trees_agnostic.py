"""Model-agnostic methods on tree ensembles: the native TreeModel vs the model's own predict.

Run ``python bench/bench_trees_agnostic.py [--quick]`` from the repository root. Models (seed
0, 20 standard-normal features, the target of bench_treeshap.py): an XGBoost regressor of 500
trees of depth 6 and a scikit-learn random forest of 200 trees (depth 12).

The same glassbox explainer runs twice on the same rows: once on ``gb.from_trees(model)`` (the
compiled ensemble, evaluated in the core's chunk loop on 2 threads, GIL released) and once on
``gb.wrap(model.predict)`` (the estimator's own predict, called from the chunk loop once per
chunk; XGBoost and the forest predict on 2 threads). Jobs: KernelShap on 20 rows against 50
background rows (n_samples 512: 512 x 50 model rows per explained row) and permutation
importance over 5,000 rows (5 repeats, r2). The notes give each job's time in units of one
native predict over the rows the job evaluates (the ceiling: an agnostic method costs at least
the model evaluations it makes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from common import Row, bench_main, interleaved_medians

N_THREADS = 2
N_FEATURES = 20


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, N_FEATURES), dtype=np.float32)
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + X[:, 3] ** 2 + 0.1 * rng.standard_normal(n)
    return X, y.astype(np.float32)


def _models(quick: bool) -> dict[str, Any]:
    import xgboost
    from sklearn.ensemble import RandomForestRegressor

    X, y = _data(5_000)
    scale = 10 if quick else 1
    booster = xgboost.XGBRegressor(n_estimators=500 // scale, max_depth=6, n_jobs=N_THREADS)
    forest = RandomForestRegressor(200 // scale, max_depth=12, n_jobs=N_THREADS, random_state=0)
    return {
        f"XGBoost {500 // scale} trees depth 6": booster.fit(X, y),
        f"sklearn RF {200 // scale} trees depth 12": forest.fit(X, y),
    }


def run(quick: bool = False) -> list[Row]:
    """One row per (model, method): native TreeModel vs the estimator's predict, same run."""
    import glassbox as gb

    repeats = 3 if quick else 5
    X, y = _data(20_000)
    rows, background = X[5_000:5_020], X[:50]
    n_samples = 128 if quick else 512
    n_perm = 1_000 if quick else 5_000
    perm_X, perm_y = X[6_000 : 6_000 + n_perm], y[6_000 : 6_000 + n_perm]
    table = []
    for name, estimator in _models(quick).items():
        native = gb.from_trees(estimator)
        wrapped = gb.wrap(estimator.predict, n_inputs=N_FEATURES)
        np.testing.assert_allclose(
            native.predict(rows).ravel(), estimator.predict(rows), rtol=1e-5, atol=1e-5
        )

        def kernel(model: Any) -> Callable[[], Any]:
            explainer = gb.KernelShap(
                model, background=background, n_samples=n_samples, n_threads=N_THREADS
            )
            return lambda: explainer(rows)

        def permutation(model: Any) -> Callable[[], Any]:
            return lambda: gb.permutation_importance(
                model, perm_X, perm_y, metric="r2", n_repeats=5, n_threads=N_THREADS
            )

        ours, theirs = kernel(native)().values, kernel(wrapped)().values
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())
        evaluated = {
            "KernelShap": len(rows) * (n_samples + 2) * len(background),
            "permutation importance": n_perm * (1 + 5 * N_FEATURES),
        }
        probe = X[: min(evaluated.values())]
        jobs = {
            "KernelShap|native": kernel(native),
            "KernelShap|predict": kernel(wrapped),
            "permutation importance|native": permutation(native),
            "permutation importance|predict": permutation(wrapped),
            "predict|native": lambda m=native, p=probe: m.predict(p, n_threads=N_THREADS),
        }
        medians = interleaved_medians(jobs, repeats)
        per_row = medians["predict|native"] / len(probe)
        for method, n_eval in evaluated.items():
            ours, theirs = medians[f"{method}|native"], medians[f"{method}|predict"]
            table.append(
                Row(
                    f"{method} on a tree ensemble",
                    f"{name}, {n_eval:,} model rows",
                    ours,
                    peer=theirs,
                    peer_name="glassbox on estimator.predict",
                    notes=[
                        f"{ours / (per_row * n_eval):.2f}x one native predict over the "
                        f"{n_eval:,} rows it evaluates; median of {repeats} interleaved rounds, "
                        f"{N_THREADS} threads"
                    ],
                )
            )
    return table


def main() -> None:
    bench_main(run, __doc__, "smaller models and budgets, for a smoke run")


if __name__ == "__main__":
    main()
