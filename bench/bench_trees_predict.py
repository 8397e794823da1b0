"""Tree ensembles: the native TreeModel's predict vs the estimator's own, on the same rows.

Run ``python bench/bench_trees_predict.py [--quick]`` from the repository root (or
``bench/run.py`` for the whole table). Models (scikit-learn, seed 0, fitted on 2,000 rows of 10
standard-normal features, a nonlinear target): RandomForestRegressor (200 trees, depth 12),
GradientBoostingClassifier (500 trees, depth 3), HistGradientBoostingClassifier (200 iterations).
Rows: 20,000 standard-normal (float32); 2 threads for both (``n_jobs=2`` for the forest, OpenMP
for the histogram model; scikit-learn's gradient boosting predicts on one thread).

glassbox: ``gb.from_trees(model).predict(X)`` (the margin; the same numbers as the estimator's
``predict`` / ``decision_function``, checked before timing). Medians of interleaved rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from common import Row, bench_main, interleaved_medians

N_THREADS = 2
N_FEATURES = 10


def _models(quick: bool) -> dict[str, tuple[Any, Callable[[np.ndarray], Any]]]:
    """name -> (fitted estimator, its raw output on rows)."""
    from sklearn import ensemble

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2_000, N_FEATURES)).astype(np.float32)
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + 0.1 * rng.standard_normal(len(X))
    scale = 10 if quick else 1
    forest = ensemble.RandomForestRegressor(
        200 // scale, max_depth=12, n_jobs=N_THREADS, random_state=0
    ).fit(X, y)
    boosted = ensemble.GradientBoostingClassifier(n_estimators=500 // scale, random_state=0)
    boosted.fit(X, y > 0)
    hist = ensemble.HistGradientBoostingClassifier(max_iter=200 // scale, random_state=0)
    hist.fit(X, y > 0)
    return {
        "RandomForestRegressor": (forest, forest.predict),
        "GradientBoostingClassifier": (boosted, boosted.decision_function),
        "HistGradientBoostingClassifier": (hist, hist.decision_function),
    }


def run(quick: bool = False) -> list[Row]:
    """One row per model: TreeModel.predict vs the estimator's raw output, same run."""
    import os

    import glassbox as gb

    os.environ.setdefault("OMP_NUM_THREADS", str(N_THREADS))
    n_rows = 2_000 if quick else 20_000
    repeats = 3 if quick else 7
    X = np.random.default_rng(1).standard_normal((n_rows, N_FEATURES)).astype(np.float32)
    jobs: dict[str, Callable[[], Any]] = {}
    sizes: dict[str, str] = {}
    for name, (estimator, raw) in _models(quick).items():
        native = gb.from_trees(estimator)
        want = np.asarray(raw(X), np.float64).reshape(n_rows, -1)
        np.testing.assert_allclose(native.predict(X), want, rtol=1e-5, atol=1e-5)
        jobs[f"{name}|glassbox"] = lambda m=native: m.predict(X, n_threads=N_THREADS)
        jobs[f"{name}|sklearn"] = lambda f=raw: f(X)
        sizes[name] = f"{native.spec.n_trees} trees, {n_rows:,} rows, {N_THREADS} threads"
    medians = interleaved_medians(jobs, repeats)
    return [
        Row(
            f"tree predict ({name})",
            size,
            medians[f"{name}|glassbox"],
            peer=medians[f"{name}|sklearn"],
            peer_name="scikit-learn",
            notes=[f"median of {repeats} interleaved rounds"],
        )
        for name, size in sizes.items()
    ]


def main() -> None:
    bench_main(run, __doc__, "small models and rows, for a smoke run")


if __name__ == "__main__":
    main()
