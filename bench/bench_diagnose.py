"""``glassbox.diagnose`` on the breast-cancer MLP with its Integrated Gradients contrast.

Run ``python bench/bench_diagnose.py [--quick]`` from the repository root (or ``bench/run.py``
for the whole table). Breast cancer (569 x 30, standardised, float32); the network is an MLP
30-64-64-2 (Tanh, seed 0, torch default initialisation, 200 full-batch Adam steps so that it
errs on a few rows as a trained model does) converted with ``gb.from_torch``; ``diagnose`` runs
at its defaults (IG from the mean row, 50 steps, on every row; 1000 permutations) with 2
threads. The issue's bar: under 2 s. "NumPy ref" is one native predict of the same rows; the
breakdown note times the contrast's IG call alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common import Row, bench_main, time_it

N_THREADS = 2


def _data() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), y


def _trained(X: np.ndarray, y: np.ndarray) -> Any:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 2),
    )
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y).long()
    for _ in range(200):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(inputs), labels).backward()
        optimiser.step()
    return net.eval()


def run(quick: bool = False) -> list[Row]:
    import torch

    import glassbox as gb

    torch.set_num_threads(N_THREADS)
    X, y = _data()
    model = gb.from_torch(_trained(X, y), input_shape=(X.shape[1],))
    repeats = 5 if quick else 7
    mine = time_it(lambda: gb.diagnose(model, X, y, n_threads=N_THREADS), repeats)
    floor = time_it(lambda: model.predict(X, n_threads=N_THREADS), repeats)
    predicted = model.predict(X).argmax(axis=1)
    ig = gb.IntegratedGradients(model, n_threads=N_THREADS)
    contrast = time_it(lambda: ig(X, baselines=X.mean(axis=0), target=predicted), repeats)
    diagnosis = mine.result
    return [
        Row(
            "diagnose (IG contrast)",
            f"breast cancer 569 x 30, MLP 30-64-64-2 Tanh, {diagnosis.n_errors} errors",
            mine.median,
            reference=floor.median,
            notes=[
                f"bar: < 2 s ({'met' if mine.median < 2.0 else 'NOT met'}); its IG call alone "
                f"{contrast.median * 1e3:.1f} ms; 'NumPy ref' = one native predict of the rows"
            ],
        )
    ]


def main() -> None:
    bench_main(run, __doc__, "fewer repeats")


if __name__ == "__main__":
    main()
