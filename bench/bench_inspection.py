"""Inspection: permutation importance and partial dependence, glassbox vs scikit-learn.

Run ``python bench/bench_inspection.py [--quick]`` from the repository root (or ``bench/run.py``
for the whole table). Two problems, each with a scikit-learn MLP trained in the same run:
breast-cancer (classification, MLP 30-64-32-2, metric accuracy) and diabetes (regression,
MLP 10-64-32-1, metric r2), features standardised.

- Permutation importance, 5 repeats (2 with ``--quick``): scikit-learn's
  ``permutation_importance`` (n_jobs=None) against ``gb.permutation_importance`` with the
  native network (``gb.from_sklearn``) and with the estimator itself as a Python callable.
  The permutations differ (each library draws its own), so the notes give the largest
  difference of the mean importances next to their spread.
- Partial dependence of every feature (10 with ``--quick``), one at a time, grid_resolution 100
  (20 with ``--quick``): scikit-learn's ``partial_dependence(method="brute")`` against
  ``gb.partial_dependence`` (native and callable) on the same grids; the notes give the largest
  difference of the averages.

Timings are medians of repeated runs (bench/common.py). The peer column is scikit-learn.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from common import Row, bench_main, time_it


def _problems() -> list[tuple[str, Any, np.ndarray, np.ndarray, str]]:
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import StandardScaler

    out = []
    for name, loader, estimator, metric in (
        ("breast-cancer", load_breast_cancer, MLPClassifier, "accuracy"),
        ("diabetes", load_diabetes, MLPRegressor, "r2"),
    ):
        X, y = loader(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        if metric == "r2":
            y = (y - y.mean()) / y.std()
        model = estimator(hidden_layer_sizes=(64, 32), max_iter=300, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        out.append((name, model, X, y, metric))
    return out


def _permutation_rows(
    name: str, est: Any, X: np.ndarray, y: np.ndarray, metric: str, quick: bool
) -> list[Row]:
    from sklearn.inspection import permutation_importance

    import glassbox as gb

    repeats = 2 if quick else 5
    native = gb.from_sklearn(est)
    peer = time_it(
        lambda: permutation_importance(est, X, y, scoring=metric, n_repeats=repeats, random_state=0)
    )
    rows = []
    for kind, model in (("native", native), ("callable", est)):
        mine = time_it(
            lambda m=model: gb.permutation_importance(
                m, X, y, metric=metric, n_repeats=repeats, seed=0
            )
        )
        gap = np.abs(mine.result.importances_mean - peer.result.importances_mean).max()
        spread = np.abs(peer.result.importances_mean).max()
        rows.append(
            Row(
                f"permutation importance ({kind})",
                f"{name} {X.shape[0]}x{X.shape[1]}, {repeats} repeats",
                mine.median,
                None,
                peer.median,
                "scikit-learn",
                None,
                [
                    f"{kind}: {peer.median / mine.median:.1f}x vs scikit-learn; max |mean diff| "
                    f"{gap:.3g} (largest importance {spread:.3g}; different permutations)"
                ],
            )
        )
    return rows


def _pd_rows(name: str, est: Any, X: np.ndarray, quick: bool) -> list[Row]:
    from sklearn.inspection import partial_dependence

    import glassbox as gb

    features = range(10 if quick else X.shape[1])
    resolution = 20 if quick else 100
    native = gb.from_sklearn(est)
    target = 1 if hasattr(est, "predict_proba") else None

    def peer_all() -> list[np.ndarray]:
        return [
            partial_dependence(est, X, [f], grid_resolution=resolution, method="brute")["average"]
            for f in features
        ]

    def mine_all(model: Any) -> list[np.ndarray]:
        return [
            gb.partial_dependence(model, X, f, grid_resolution=resolution, target=target).average
            for f in features
        ]

    peer = time_it(peer_all)
    rows = []
    for kind, model in (("native", native), ("callable", est)):
        mine = time_it(lambda m=model: mine_all(m))
        gap = max(np.abs(a - b).max() for a, b in zip(mine.result, peer.result, strict=True))
        rows.append(
            Row(
                f"partial dependence ({kind})",
                f"{name}, {len(features)} features x {resolution} grid",
                mine.median,
                None,
                peer.median,
                "scikit-learn",
                None,
                [
                    f"{kind}: {peer.median / mine.median:.1f}x vs scikit-learn brute; max |average "
                    f"diff| {gap:.2g}"
                ],
            )
        )
    return rows


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    for name, est, X, y, metric in _problems():
        rows += _permutation_rows(name, est, X, y, metric, quick)
        rows += _pd_rows(name, est, X, quick)
    return rows


if __name__ == "__main__":
    bench_main(run, __doc__, "small sizes, for a smoke run")
