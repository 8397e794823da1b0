"""Literal NumPy Leverage SHAP (Musco & Witter, ICLR 2025), written from the paper (slow).

Shapley values solve min ||W^1/2 (Z phi - y)|| subject to sum(phi) = delta (y = v(S) - v(empty),
delta = v(full) - v(empty), W the Shapley kernel). Leverage SHAP writes phi = P beta + delta / d 1
with P = I - 1 1' / d (the constraint removed by projection), samples coalitions in proportion to
the leverage scores of W^1/2 Z P (equal for every coalition size), and solves the unconstrained
least squares of the sampled rows, each reweighted by 1 / its inclusion probability.
"""

from __future__ import annotations

from math import comb

import numpy as np


def kernel_weight(d: int, s: int) -> float:
    """The Shapley kernel weight of one coalition of size s, normalised over sizes 1..d-1."""
    total = sum((d - 1) / (t * (d - t)) for t in range(1, d))
    return (d - 1) / (s * (d - s)) / total / comb(d, s)


def inclusion_probabilities(d: int, n_samples: int) -> dict[int, float]:
    """Per size s in 1..d-1: the probability that a coalition of size s is in the design.

    Units are pairs (a coalition, its complement), n_samples // 2 of them. Each size gets the
    same expected number of coalitions (leverage), except that a size pair all of whose units
    the share covers is taken whole, the share then recomputed over the rest (outside in).
    """
    pairs = min(n_samples // 2, 2 ** (d - 1) - 1)
    strata = list(range(1, d // 2 + 1))  # size pairs {s, d - s}
    units = {s: comb(d, s) / (2 if 2 * s == d else 1) for s in strata}
    share = {s: 0.5 if 2 * s == d else 1.0 for s in strata}
    taken: list[int] = []
    left = float(pairs)
    for s in strata:
        rest = sum(share[t] for t in strata if t not in taken)
        if left * share[s] / rest < units[s] - 1e-9:
            break
        taken.append(s)
        left -= units[s]
    rest = sum(share[t] for t in strata if t not in taken)
    probability = {}
    for s in strata:
        p = 1.0 if s in taken else left * share[s] / rest / units[s]
        probability[s] = probability[d - s] = p
    return probability


def leverage_weights(masks: np.ndarray, n_samples: int) -> np.ndarray:
    """The regression weight of each coalition of a Leverage SHAP design: kernel / inclusion."""
    d = masks.shape[1]
    probability = inclusion_probabilities(d, n_samples)
    sizes = masks.sum(axis=1).astype(int)
    return np.array([kernel_weight(d, s) / probability[s] for s in sizes])


def projected_regression(
    masks: np.ndarray, weights: np.ndarray, y: np.ndarray, delta: float
) -> np.ndarray:
    """phi = P beta + delta / d, beta the weighted least squares of y - |S| delta / d on Z P."""
    d = masks.shape[1]
    Z = masks.astype(np.float64)
    P = np.eye(d) - np.ones((d, d)) / d
    target = y - Z.sum(axis=1) * delta / d
    root = np.sqrt(weights)[:, None]
    beta = np.linalg.lstsq(root * (Z @ P), root[:, 0] * target, rcond=None)[0]
    return P @ beta + delta / d
