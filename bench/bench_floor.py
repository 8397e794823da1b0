"""The model-agnostic methods against their evaluation floor, on a native network.

Run ``python bench/bench_floor.py [--quick]`` from the repository root (or ``bench/run.py`` for
the whole table). Breast cancer (569 x 30, standardised, float32); the network is an MLP
30-64-64-2 (Tanh, seed 0, torch default initialisation) converted with ``gb.from_torch``; every
method runs at its default settings (the arguments it requires: 50 background rows, 10 explained
rows, the labels) with 2 threads.

The floor of a method is one native ``predict`` over as many rows as the method evaluates: the
rows are counted by running the method once on the same network called as a Python function
(``gb.wrap``) that counts what it is given, and the floor is timed on the data tiled to that many
rows, in the same run. "peer" is the same method on that callable (torch under
``inference_mode``): the native path's gain over a model the core must call back.
A ratio near 1 means the method's own work (sampling, bookkeeping, solving, writing results) is
small next to evaluating the model; the issue's bar is <= 2x.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from common import Row, bench_main, time_it

N_THREADS = 2
N_BACKGROUND = 50
N_EXPLAINED = 10


def _data() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), y


def _module(d: int) -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(d, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 2),
    ).eval()


def _methods(X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[Any], Any]]:
    """``{name: run(model)}``: every model-agnostic method at its defaults."""
    import glassbox as gb

    background, rows = X[:N_BACKGROUND], X[N_BACKGROUND : N_BACKGROUND + N_EXPLAINED]
    threads = {"n_threads": N_THREADS}
    groups = [[3 * g, 3 * g + 1, 3 * g + 2] for g in range(10)]  # 2^10 coalitions
    return {
        "KernelShap": lambda m: gb.KernelShap(m, background=background, **threads)(rows, target=1),
        "PermutationShapley": lambda m: gb.PermutationShapley(m, background=background, **threads)(
            rows, target=1
        ),
        "ExactShapley (10 groups)": lambda m: gb.ExactShapley(
            m, background=background, groups=groups, **threads
        )(rows, target=1),
        "ShapleyInteractions (10 groups)": lambda m: gb.ShapleyInteractions(
            m, background=background, groups=groups, **threads
        )(rows, target=1),
        "Lime": lambda m: gb.Lime(m, X, **threads)(rows, target=1),
        "FeatureAblation": lambda m: gb.FeatureAblation(m, **threads)(X, target=1),
        "Occlusion (window 3)": lambda m: gb.Occlusion(m, (3,), **threads)(X, target=1),
        "permutation_importance": lambda m: gb.permutation_importance(m, X, y, **threads),
        "partial_dependence (30 features, one call each)": lambda m: [
            gb.partial_dependence(m, X, f, target=1, **threads) for f in range(X.shape[1])
        ],
        "ale (30 features, one call each)": lambda m: [
            gb.ale(m, X, f, target=1, **threads) for f in range(X.shape[1])
        ],
        "ale (30 features, one call: a list of them)": lambda m: gb.ale(
            m, X, [[f] for f in range(X.shape[1])], target=1, **threads
        ),
        "h_statistic (5 features)": lambda m: gb.h_statistic(
            m, X, list(range(5)), target=1, **threads
        ),
        "surrogate_tree": lambda m: gb.surrogate_tree(m, X, **threads),
    }


def run(quick: bool = False) -> list[Row]:
    """One row per method: native time, the floor (native predict of as many rows), callable."""
    import torch

    import glassbox as gb

    torch.set_num_threads(N_THREADS)
    X, y = _data()
    module = _module(X.shape[1])
    native = gb.from_torch(module, input_shape=(X.shape[1],))
    counted = [0]

    def forward(batch: np.ndarray) -> np.ndarray:
        counted[0] += batch.shape[0]
        with torch.inference_mode():
            return module(torch.from_numpy(np.ascontiguousarray(batch, np.float32))).numpy()

    callable_model = gb.wrap(forward, n_inputs=X.shape[1], n_outputs=2)
    methods = _methods(X, y)
    if quick:
        methods = dict(list(methods.items())[:3])
    repeats = 5 if quick else 7
    rows = []
    for name, method in methods.items():
        counted[0] = 0
        method(callable_model)
        n_rows = counted[0]
        tiled = np.resize(X, (n_rows, X.shape[1]))
        floor = time_it(lambda tiled=tiled: native.predict(tiled, n_threads=N_THREADS), repeats)
        mine = time_it(lambda method=method: method(native), repeats)
        theirs = time_it(lambda method=method: method(callable_model), repeats)
        rows.append(
            Row(
                name,
                f"breast cancer, MLP 30-64-64-2 Tanh, {n_rows:,} rows evaluated",
                mine.median,
                reference=floor.median,
                peer=theirs.median,
                peer_name="torch callable",
                notes=[
                    f"{mine.median / floor.median:.2f}x its floor (the 'NumPy ref' column: one "
                    "native predict of those rows)"
                ],
            )
        )
    return rows


def main() -> None:
    bench_main(run, __doc__, "fewer methods, for a smoke run")


if __name__ == "__main__":
    main()
