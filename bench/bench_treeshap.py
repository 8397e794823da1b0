"""TreeSHAP: glassbox's TreeShap / TreeShapInteractions vs shap.TreeExplainer, same models, rows.

Run ``python bench/bench_treeshap.py [--quick]`` from the repository root. Models (seed 0, 20
standard-normal features, a nonlinear target): an XGBoost regressor of 500 trees of depth 6 and
a scikit-learn random forest of 200 trees (depth 12), both converted with ``gb.from_trees``.

- path-dependent: 10,000 rows (``shap_values`` with the default feature_perturbation);
- interventional: 1,000 rows against 100 background rows;
- interactions: 200 rows (path-dependent, ``shap_interaction_values``).

glassbox runs on 2 threads; shap's C++ TreeSHAP runs on one (it has no thread option for
these calls). Each result is checked against shap's before timing; times are the medians of
interleaved rounds; the notes give the per-row time and rows per second of both.
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
    return X, y


def _models(quick: bool) -> dict[str, Any]:
    import xgboost
    from sklearn.ensemble import RandomForestRegressor

    X, y = _data(5_000)
    trees = 50 if quick else 500
    booster = xgboost.XGBRegressor(n_estimators=trees, max_depth=6, n_jobs=N_THREADS)
    forest = RandomForestRegressor(20 if quick else 200, max_depth=12, n_jobs=N_THREADS)
    return {
        f"XGBoost {trees} trees depth 6": booster.fit(X, y),
        f"sklearn RF {forest.n_estimators} trees depth 12": forest.set_params(random_state=0).fit(
            X, y
        ),
    }


def _check(ours: np.ndarray, theirs: Any, what: str) -> None:
    theirs = np.asarray(theirs, dtype=np.float64).reshape(ours.shape)
    scale = max(1.0, float(np.abs(theirs).max()))
    if not np.allclose(ours, theirs, rtol=1e-5, atol=1e-5 * scale):
        raise AssertionError(f"{what}: glassbox and shap differ by {np.abs(ours - theirs).max()}")


def _jobs(name: str, estimator: Any, quick: bool) -> dict[str, tuple[int, Callable, Callable]]:
    """(rows, glassbox job, shap job) per mode; each checked once against shap."""
    import shap

    import glassbox as gb

    X, _ = _data(12_000)
    n_path, n_interventional, n_interactions = (1_000, 100, 20) if quick else (10_000, 1_000, 200)
    rows, background = X[2_000 : 2_000 + n_path], X[:100]
    model = gb.from_trees(estimator)
    path, path_shap = gb.TreeShap(model, n_threads=N_THREADS), shap.TreeExplainer(estimator)
    interventional = gb.TreeShap(model, background, n_threads=N_THREADS)
    interventional_shap = shap.TreeExplainer(
        estimator, background, feature_perturbation="interventional"
    )
    pairs = gb.TreeShapInteractions(model, n_threads=N_THREADS)
    few, some = rows[:n_interactions], rows[:n_interventional]
    _check(path(rows[:50]).values, path_shap.shap_values(rows[:50]), f"{name} path")
    _check(
        interventional(rows[:20]).values,
        interventional_shap.shap_values(rows[:20], check_additivity=False),
        f"{name} interventional",
    )
    _check(pairs(few[:5]).values, path_shap.shap_interaction_values(few[:5]), f"{name} pairs")
    return {
        "TreeShap path-dependent": (
            n_path,
            lambda: path(rows),
            lambda: path_shap.shap_values(rows, check_additivity=False),
        ),
        "TreeShap interventional (100 background)": (
            n_interventional,
            lambda: interventional(some),
            lambda: interventional_shap.shap_values(some, check_additivity=False),
        ),
        "TreeShapInteractions": (
            n_interactions,
            lambda: pairs(few),
            lambda: path_shap.shap_interaction_values(few),
        ),
    }


def run(quick: bool = False) -> list[Row]:
    """One row per (model, mode): glassbox vs shap.TreeExplainer, same run."""
    repeats = 3  # shap takes minutes per call on the forest at full size
    table = []
    for name, estimator in _models(quick).items():
        jobs = _jobs(name, estimator, quick)
        timed: dict[str, Callable[[], Any]] = {}
        for mode, (_, mine, theirs) in jobs.items():
            timed[f"{mode}|glassbox"], timed[f"{mode}|shap"] = mine, theirs
        medians = interleaved_medians(timed, repeats)
        for mode, (n, _, _) in jobs.items():
            ours, theirs = medians[f"{mode}|glassbox"], medians[f"{mode}|shap"]
            table.append(
                Row(
                    mode,
                    f"{name}, {n:,} rows",
                    ours,
                    peer=theirs,
                    peer_name="shap.TreeExplainer",
                    notes=[
                        f"per row {1e6 * ours / n:.1f} us vs {1e6 * theirs / n:.1f} us; "
                        f"{n / ours:,.0f} vs {n / theirs:,.0f} rows/s; "
                        f"median of {repeats} interleaved rounds, {N_THREADS} threads"
                    ],
                )
            )
    return table


def main() -> None:
    bench_main(run, __doc__, "smaller models and fewer rows, for a smoke run")


if __name__ == "__main__":
    main()
