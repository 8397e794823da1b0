"""Literal NumPy Shapley values, written from the definitions (slow; for d <= 10).

The game of an explained row x: v(S) = mean over background rows b of f(z) with z = x on the
features of the groups in S and z = b elsewhere. ``f`` maps a float32 batch (r, p) to (r, k).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from math import factorial

import numpy as np

Model = Callable[[np.ndarray], np.ndarray]


def outputs(f: Model, Z: np.ndarray) -> np.ndarray:
    """f on a batch as float64 (r, k)."""
    out = np.asarray(f(np.asarray(Z, dtype=np.float32)), dtype=np.float64)
    return out[:, None] if out.ndim == 1 else out


def coalition_value(
    f: Model, x: np.ndarray, B: np.ndarray, groups: Sequence[Sequence[int]], S: Sequence[int]
) -> np.ndarray:
    """v(S) for one row x: the mean over background rows of f(x on S's features, b elsewhere)."""
    Z = np.array(B, dtype=np.float32, copy=True)
    for g in S:
        for j in groups[g]:
            Z[:, j] = x[j]
    return outputs(f, Z).mean(axis=0)


def all_values(
    f: Model, x: np.ndarray, B: np.ndarray, groups: Sequence[Sequence[int]]
) -> dict[frozenset[int], np.ndarray]:
    """v(S) for every subset S of the groups."""
    d = len(groups)
    return {
        frozenset(S): coalition_value(f, x, B, groups, S)
        for size in range(d + 1)
        for S in itertools.combinations(range(d), size)
    }


def shapley_values(
    f: Model, X: np.ndarray, B: np.ndarray, groups: Sequence[Sequence[int]] | None = None
) -> np.ndarray:
    """phi (n, d, k): sum over S without g of |S|! (d-|S|-1)! / d! (v(S + g) - v(S))."""
    groups = [[j] for j in range(X.shape[1])] if groups is None else groups
    d = len(groups)
    result = []
    for x in X:
        v = all_values(f, x, B, groups)
        phi = []
        for g in range(d):
            others = [h for h in range(d) if h != g]
            total = 0.0
            for size in range(d):
                weight = factorial(size) * factorial(d - size - 1) / factorial(d)
                for S in itertools.combinations(others, size):
                    total = total + weight * (v[frozenset(S) | {g}] - v[frozenset(S)])
            phi.append(total)
        result.append(np.array(phi))
    return np.array(result)


def interaction_index(
    f: Model, X: np.ndarray, B: np.ndarray, groups: Sequence[Sequence[int]] | None = None
) -> np.ndarray:
    """The raw pairwise Shapley interaction index I (n, d, d, k), zero diagonal:
    I_gh = sum over S without g, h of |S|! (d-|S|-2)! / (d-1)! (v(S+g+h) - v(S+g) - v(S+h) + v(S)).
    """
    groups = [[j] for j in range(X.shape[1])] if groups is None else groups
    d = len(groups)
    result = []
    for x in X:
        v = all_values(f, x, B, groups)
        k = len(v[frozenset()])
        index = np.zeros((d, d, k))
        for g, h in itertools.permutations(range(d), 2):
            others = [t for t in range(d) if t not in (g, h)]
            for size in range(d - 1):
                weight = factorial(size) * factorial(d - size - 2) / factorial(d - 1)
                for S in itertools.combinations(others, size):
                    s = frozenset(S)
                    index[g, h] += weight * (v[s | {g, h}] - v[s | {g}] - v[s | {h}] + v[s])
        result.append(index)
    return np.array(result)


def tree_convention(index: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """shap TreeExplainer's interaction values: off-diagonal I/2, diagonal phi - its row's rest."""
    values = index / 2.0
    d = index.shape[1]
    for g in range(d):
        values[:, g, g] = phi[:, g] - values[:, g].sum(axis=1) + values[:, g, g]
    return values


def design_targets(
    f: Model, x: np.ndarray, B: np.ndarray, masks: np.ndarray
) -> tuple[np.ndarray, float]:
    """The regression's targets for one row x and coalitions (C, d) 0/1 of single features:
    v(S) - v(empty) per coalition and v(full) - v(empty), first output."""
    groups = [[j] for j in range(masks.shape[1])]
    v0 = coalition_value(f, x, B, groups, [])[0]
    vN = outputs(f, x[None])[0, 0]
    y = np.array([coalition_value(f, x, B, groups, np.flatnonzero(m))[0] for m in masks])
    return y - v0, vN - v0


def constrained_wls(
    masks: np.ndarray, weights: np.ndarray, y: np.ndarray, delta: float
) -> np.ndarray:
    """argmin sum_c w_c (masks_c . phi - y_c)^2 subject to sum(phi) = delta, via the KKT system."""
    d = masks.shape[1]
    Z = masks.astype(np.float64)
    A = Z.T @ (weights[:, None] * Z)
    kkt = np.zeros((d + 1, d + 1))
    kkt[:d, :d], kkt[:d, d], kkt[d, :d] = A, 1.0, 1.0
    rhs = np.concatenate([Z.T @ (weights * y), [delta]])
    return np.linalg.solve(kkt, rhs)[:d]


def permutation_estimate(
    f: Model,
    x: np.ndarray,
    B: np.ndarray,
    groups: Sequence[Sequence[int]],
    permutations: np.ndarray,
) -> np.ndarray:
    """Antithetic permutation sampling for one row: per pair, the mean of the marginal
    contributions along the permutation and along its reverse; averaged over pairs (d, k)."""
    estimates = []
    for perm in permutations:
        pair = 0.0
        for order in (list(perm), list(perm[::-1])):
            contrib = np.zeros((len(groups), outputs(f, B[:1]).shape[1]))
            prev = coalition_value(f, x, B, groups, [])
            for t in range(len(order)):
                cur = coalition_value(f, x, B, groups, order[: t + 1])
                contrib[order[t]] = cur - prev
                prev = cur
            pair = pair + contrib / 2.0
        estimates.append(pair)
    return np.mean(estimates, axis=0)


def make_problem(
    n_inputs: int = 5, n_rows: int = 3, n_background: int = 6, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Explained rows X and background rows B (float32) for the Shapley tests."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_inputs)).astype(np.float32)
    B = rng.normal(size=(n_background, n_inputs)).astype(np.float32)
    return X, B
