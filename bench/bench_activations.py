"""Every activation, not only ReLU: native predict and Saliency vs torch on the same MLP.

Run ``python bench/bench_activations.py [--quick]`` from the repository root (or ``bench/run.py``
for the whole table). For each activation, the MLP 32-256-256-4 (torch default initialisation,
seed 0) is built in torch with that activation after both hidden layers and converted with
``gb.from_torch``; 40,000 standard-normal rows (float32); 2 threads for both libraries.

- predict: ``model.predict(X)`` vs ``module(X)`` under ``torch.inference_mode()``;
- Saliency (target 0, ``abs=False``): ``gb.Saliency`` vs torch's forward + backward of the
  target column's sum to the input (what Captum's Saliency runs, without its Python overhead).

The machine is noisy (2 cores): the activations are measured in interleaved rounds (every
activation once per round, ``repeats`` rounds) and the medians over rounds are reported, so a
slow moment hits every activation alike. Each result is checked against torch's before timing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from common import Row, bench_main, interleaved_medians

SIZES = (32, 256, 256, 4)
ACTIVATIONS = (
    "ReLU",
    "Sigmoid",
    "Tanh",
    "ELU",
    "SELU",
    "SiLU",
    "Mish",
    "Softplus",
    "GELU",
    "GELU(tanh)",
)
N_THREADS = 2
TARGET = 0


def make_module(activation: str, sizes: tuple[int, ...] = SIZES) -> Any:
    """The torch MLP with ``activation`` after every hidden layer (seeded default init)."""
    import torch

    torch.manual_seed(0)

    def act() -> torch.nn.Module:
        if activation == "GELU(tanh)":
            return torch.nn.GELU(approximate="tanh")
        return getattr(torch.nn, activation)()

    layers: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers).eval()


def _jobs(activation: str, X: np.ndarray) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """``{measure: (glassbox job, torch job)}`` for one activation, checked against each other."""
    import torch

    import glassbox as gb

    module = make_module(activation)
    model = gb.from_torch(module, input_shape=(X.shape[1],))
    saliency = gb.Saliency(model, abs=False, n_threads=N_THREADS)
    tx = torch.from_numpy(X)

    def torch_forward() -> Any:
        with torch.inference_mode():
            return module(tx)

    def torch_gradient() -> Any:
        x = tx.clone().requires_grad_(True)
        module(x)[:, TARGET].sum().backward()
        return x.grad

    def predict() -> Any:
        return model.predict(X, n_threads=N_THREADS)

    def gradient() -> Any:
        return saliency(X, target=TARGET).values

    np.testing.assert_allclose(predict(), torch_forward().numpy(), rtol=1e-4, atol=1e-5)
    # a row whose pre-activation lies within float rounding of a ReLU kink may differ
    close = np.isclose(gradient(), torch_gradient().numpy(), rtol=1e-3, atol=1e-5).all(axis=1)
    differ = int((~close).sum())
    assert close.mean() > 0.999, f"{activation}: Saliency differs from torch on {differ} rows"
    return {"predict": (predict, torch_forward), "Saliency": (gradient, torch_gradient)}


def run(quick: bool = False) -> list[Row]:
    """One row per (activation, measure): glassbox vs torch, same run."""
    import torch

    torch.set_num_threads(N_THREADS)
    n_rows = 4_000 if quick else 40_000
    repeats = 5 if quick else 9
    X = np.random.default_rng(0).standard_normal((n_rows, SIZES[0]), dtype=np.float32)
    jobs: dict[str, Callable[[], Any]] = {}
    for activation in ACTIVATIONS:
        for measure, (mine, theirs) in _jobs(activation, X).items():
            jobs[f"{activation}|{measure}|glassbox"] = mine
            jobs[f"{activation}|{measure}|torch"] = theirs
    medians = interleaved_medians(jobs, repeats)
    size = f"MLP {'-'.join(map(str, SIZES))}, {n_rows:,} rows, {N_THREADS} threads"
    rows = []
    for activation in ACTIVATIONS:
        for measure, peer in (("predict", "torch forward"), ("Saliency", "torch fwd+bwd")):
            key = f"{activation}|{measure}"
            rows.append(
                Row(
                    f"{measure} ({activation})",
                    size,
                    medians[f"{key}|glassbox"],
                    peer=medians[f"{key}|torch"],
                    peer_name=peer,
                    notes=[f"median of {repeats} interleaved rounds"],
                )
            )
    return rows


def main() -> None:
    bench_main(run, __doc__, "small sizes, for a smoke run")


if __name__ == "__main__":
    main()
