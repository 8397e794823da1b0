"""Literal references for ``glassbox.diagnose``, written from the definitions with plain loops:
the confusion matrix, error rates of quantile slices, and the attribution contrast with its
permutation test (the same draws as the library: ``rng.random(n)`` per permutation, the first
``n_errors`` rows of its argsort form the error group)."""

from __future__ import annotations

import itertools

import numpy as np


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    matrix = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(true, predicted, strict=True):
        matrix[int(t), int(p)] += 1
    return matrix


def quantile_slices(
    column: np.ndarray, error: np.ndarray, n_bins: int
) -> list[tuple[float, float, int, float]]:
    """(low, high, n, mean error) of the right-closed bins between the column's interior
    quantiles (duplicates merged): low < x <= high, -inf / inf at the ends."""
    edges = sorted(set(np.quantile(column, np.linspace(0, 1, n_bins + 1))[1:-1].tolist()))
    bounds = [-np.inf, *edges, np.inf]
    out = []
    for low, high in itertools.pairwise(bounds):
        members = [e for x, e in zip(column, error, strict=True) if low < x <= high]
        if members:
            out.append((low, high, len(members), sum(members) / len(members)))
    return out


def mean_difference(values: np.ndarray, in_group: np.ndarray) -> np.ndarray:
    """Per column: the mean over the group's rows minus the mean over the other rows."""
    n, m = values.shape
    out = np.zeros(m)
    for j in range(m):
        a = [values[i, j] for i in range(n) if in_group[i]]
        b = [values[i, j] for i in range(n) if not in_group[i]]
        out[j] = sum(a) / len(a) - sum(b) / len(b)
    return out


def permutation_p_values(
    values: np.ndarray, is_error: np.ndarray, n_permutations: int, seed: int
) -> np.ndarray:
    """Two-sided permutation p-values (1 + #{|T_perm| >= |T_obs|}) / (1 + P), one permutation
    at a time."""
    n = values.shape[0]
    k = int(np.sum(is_error))
    observed = np.abs(mean_difference(values, is_error))
    rng = np.random.default_rng(seed)
    exceed = np.zeros(values.shape[1])
    for _ in range(n_permutations):
        group = np.zeros(n, dtype=bool)
        group[np.argsort(rng.random(n))[:k]] = True
        permuted = np.abs(mean_difference(values, group))
        exceed += permuted >= observed * (1 - 1e-12) - 1e-15  # ties (up to rounding) count
    return (1 + exceed) / (1 + n_permutations)
