"""Literal NumPy references for ``glassbox.inspect.weights``: the statistics of one weight array
and WeightWatcher's power-law fit of its eigenvalues, one x_min candidate at a time."""

from __future__ import annotations

import math

import numpy as np

MIN_EVALS, EVALS_THRESH = 10, 1e-5


def power_law_fit(eigenvalues: np.ndarray, min_count: int = MIN_EVALS) -> tuple:
    """(alpha, ks, xmin, tail size) by brute force over every candidate x_min, or NaNs (and 0)
    when there are fewer than ``min_count`` eigenvalues or fewer than 2 above the threshold.

    For candidate x_min = x[i] of the sorted values above the threshold (every value but the
    largest), the tail is x[i:] (n values); alpha = 1 + n / sum(log(x / x_min)); the KS distance
    is the largest |fitted CDF - empirical CDF| over the tail, with the fitted CDF
    1 - (x / x_min)^(1 - alpha) and the empirical one j / n at the j-th tail value. alpha <= 1
    (or infinite) scores 1. The smallest distance wins, the first on ties."""
    values = sorted(float(v) for v in np.ravel(eigenvalues))
    if len(values) < min_count:
        return math.nan, math.nan, math.nan, 0
    values = [v for v in values if v > EVALS_THRESH]
    if len(values) < 2:
        return math.nan, math.nan, math.nan, 0
    best = None
    for i in range(len(values) - 1):
        xmin, tail = values[i], values[i:]
        n = len(tail)
        total = sum(math.log(x / xmin) for x in tail)
        alpha = 1 + n / total if total > 0 else math.inf
        if math.isfinite(alpha) and alpha > 1:
            ks = max(abs(1 - (x / xmin) ** (1 - alpha) - j / n) for j, x in enumerate(tail))
        else:
            ks = 1.0
        if best is None or ks < best[1]:
            best = (alpha, ks, xmin, n)
    if not (math.isfinite(best[0]) and best[0] > 1):
        return math.nan, math.nan, math.nan, 0
    return best


def weight_stats(weight: np.ndarray) -> dict:
    """The statistics of one weight array as ``WeightStats`` columns, straight from NumPy: the
    matrix is (out, everything else) (convolution kernels reshaped so)."""
    w = np.asarray(weight, dtype=np.float64)
    flat = w.ravel()
    matrix = w.reshape(w.shape[0], -1)
    spectral = np.linalg.norm(matrix, 2)
    frobenius = np.linalg.norm(matrix, "fro")
    singular = np.linalg.svd(matrix, compute_uv=False)
    alpha, ks, xmin, tail = power_law_fit(singular**2)
    return {
        "count": flat.size,
        "mean": np.mean(flat),
        "std": np.std(flat),
        "min": np.min(flat),
        "max": np.max(flat),
        "zero_fraction": np.count_nonzero(flat == 0) / flat.size,
        "small_fraction": np.count_nonzero(np.abs(flat) < 1e-3 * np.max(np.abs(flat))) / flat.size,
        "l2_norm": frobenius,
        "spectral_norm": spectral,
        "stable_rank": frobenius**2 / spectral**2,
        "alpha": alpha,
        "alpha_ks": ks,
        "alpha_xmin": xmin,
        "alpha_tail": tail,
    }
