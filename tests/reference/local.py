"""Literal NumPy references for the local model-agnostic methods: LIME tabular (training
statistics, sampling from given uniforms, the kernel-weighted fits), occlusion and feature
ablation by brute force. Slow and plain on purpose: loops over rows, samples and windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as scipy_stats

LIME_VALUE_STREAM, LIME_WITHIN_BIN_STREAM, LIME_NORMAL_STREAM = 30, 31, 32


@dataclass
class LimeStatsRef:
    """lime's training statistics, per feature (lists indexed by feature)."""

    binned: list[bool]
    sampled: list[bool]
    edges: list[np.ndarray] = field(default_factory=list)
    bin_mean: list[np.ndarray] = field(default_factory=list)
    bin_std: list[np.ndarray] = field(default_factory=list)
    bin_min: list[np.ndarray] = field(default_factory=list)
    bin_max: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    frequencies: list[np.ndarray] = field(default_factory=list)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None


def lime_stats(
    training: np.ndarray, categorical: list[int], discretizer: str | None
) -> LimeStatsRef:
    """Quantile edges (np.unique of the percentiles), per-bin moments and bounds, value
    frequencies, and the scaler (population std, 1 where 0; mean 0 / scale 1 when sampled)."""
    X = np.asarray(training, dtype=np.float64)
    d = X.shape[1]
    q = {"quartile": [25, 50, 75], "decile": list(range(10, 100, 10)), None: None}[discretizer]
    ref = LimeStatsRef(binned=[False] * d, sampled=[False] * d)
    ref.mean, ref.scale = np.zeros(d), np.ones(d)
    for j in range(d):
        column = X[:, j]
        edges = np.array([])
        if j in categorical:
            ref.sampled[j] = True
            values, counts = np.unique(column, return_counts=True)
        elif q is None:
            ref.mean[j] = column.mean()
            std = column.std()
            ref.scale[j] = std if std >= 10 * np.finfo(float).eps else 1.0
            values, counts = np.array([]), np.array([])
        else:
            ref.binned[j] = ref.sampled[j] = True
            edges = np.unique(np.percentile(column, q))
            bins = np.searchsorted(edges, column)
            n_bins = edges.size + 1
            means, stds = np.zeros(n_bins), np.zeros(n_bins)
            for b in range(n_bins):
                members = column[bins == b]
                means[b] = members.mean() if members.size else 0.0
                stds[b] = (members.std() if members.size else 0.0) + 1e-11
            ref.bin_mean.append(means)
            ref.bin_std.append(stds)
            ref.bin_min.append(np.concatenate([[column.min()], edges]))
            ref.bin_max.append(np.concatenate([edges, [column.max()]]))
            values, counts = np.unique(bins, return_counts=True)
        if not ref.binned[j]:
            for lst in (ref.bin_mean, ref.bin_std, ref.bin_min, ref.bin_max):
                lst.append(np.array([]))
        ref.edges.append(edges)
        ref.values.append(values.astype(np.float64))
        ref.frequencies.append(counts / max(counts.sum(), 1))
    return ref


def lime_samples(
    ref: LimeStatsRef,
    X: np.ndarray,
    num_samples: int,
    value_u: np.ndarray,
    bin_u: np.ndarray,
    normals: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and interpretable data (n, num_samples, d) from the given draws
    (u[r, s, j] for the value / in-bin quantile, normals[r, s, j]); sample 0 is the row."""
    n, d = X.shape
    inputs = np.zeros((n, num_samples, d))
    interpretable = np.zeros((n, num_samples, d))
    for r in range(n):
        row = X[r].astype(np.float64)
        for s in range(num_samples):
            for j in range(d):
                if s == 0:
                    inputs[r, s, j] = row[j]
                    interpretable[r, s, j] = (
                        1.0 if ref.sampled[j] else (row[j] - ref.mean[j]) / ref.scale[j]
                    )
                    continue
                if not ref.sampled[j]:
                    x = normals[r, s, j] * ref.scale[j] + ref.mean[j]
                    inputs[r, s, j] = x
                    interpretable[r, s, j] = (x - ref.mean[j]) / ref.scale[j]
                    continue
                cdf = np.cumsum(ref.frequencies[j])
                cdf = cdf / cdf[-1]
                k = min(int(np.searchsorted(cdf, value_u[r, s, j], side="right")), cdf.size - 1)
                value = ref.values[j][k]
                if not ref.binned[j]:
                    inputs[r, s, j] = value
                    interpretable[r, s, j] = float(value == row[j])
                    continue
                b = int(value)
                interpretable[r, s, j] = float(b == np.searchsorted(ref.edges[j], row[j]))
                mean, sd = ref.bin_mean[j][b], ref.bin_std[j][b]
                lo, hi = (ref.bin_min[j][b] - mean) / sd, (ref.bin_max[j][b] - mean) / sd
                if lo == hi:
                    inputs[r, s, j] = ref.bin_min[j][b]
                else:
                    inputs[r, s, j] = scipy_stats.truncnorm.ppf(
                        bin_u[r, s, j], lo, hi, loc=mean, scale=sd
                    )
    return inputs, interpretable


def _weighted_ridge(
    Z: np.ndarray, y: np.ndarray, w: np.ndarray, used: list[int], alpha: float
) -> tuple[np.ndarray, float]:
    """argmin sum w (y - b0 - Z_used b)^2 + alpha |b|^2 (intercept not penalised)."""
    A = Z[:, used]
    xm = np.average(A, axis=0, weights=w)
    ym = np.average(y, weights=w)
    Ac, yc = A - xm, y - ym
    G = (Ac * w[:, None]).T @ Ac + alpha * np.eye(len(used))
    rhs = (Ac * w[:, None]).T @ yc
    beta = np.linalg.lstsq(G, rhs, rcond=None)[0]
    return beta, float(ym - xm @ beta)


def _weighted_r2(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    total = np.sum(w * (y - np.average(y, weights=w)) ** 2)
    residual = np.sum(w * (y - pred) ** 2)
    return 1.0 - residual / total if total > 0 else float(residual == 0)


def lime_fit(
    Z: np.ndarray, y: np.ndarray, kernel_width: float, num_features: int, selection: str
) -> tuple[np.ndarray, float, float, float]:
    """(weights over all features, intercept, weighted R^2, local prediction) for one row."""
    d = Z.shape[1]
    distances = np.sqrt(np.sum((Z - Z[0]) ** 2, axis=1))
    w = np.sqrt(np.exp(-(distances**2) / kernel_width**2))
    if selection == "auto":
        selection = "forward" if num_features <= 6 else "highest_weights"
    if selection == "none":
        used = list(range(d))
    elif selection == "highest_weights":
        beta, _ = _weighted_ridge(Z, y, w, list(range(d)), 0.01)
        key = np.abs(beta * Z[0])
        used = sorted(range(d), key=lambda j: -key[j])[:num_features]
    else:
        used = []
        for _ in range(min(num_features, d)):
            best, best_score = None, -np.inf
            for j in range(d):
                if j in used:
                    continue
                beta, b0 = _weighted_ridge(Z, y, w, [*used, j], 0.0)
                score = _weighted_r2(y, b0 + Z[:, [*used, j]] @ beta, w)
                if score > best_score:
                    best, best_score = j, score
            used.append(best)
    beta, b0 = _weighted_ridge(Z, y, w, used, 1.0)
    values = np.zeros(d)
    values[used] = beta
    pred = b0 + Z[:, used] @ beta
    return values, b0, _weighted_r2(y, pred, w), float(pred[0])


def occlusion(
    f: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    baselines: np.ndarray,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    targets: np.ndarray,
) -> np.ndarray:
    """Captum's occlusion from its definition: windows start at multiples of the stride until
    the axis is covered; each feature gets the mean of f(x) - f(x occluded) over its windows."""
    n, shape = X.shape[0], X.shape[1:]
    counts = [int(np.ceil((e - w) / s)) + 1 for e, w, s in zip(shape, window, strides, strict=True)]
    out = np.zeros(X.shape)
    for r in range(n):
        base = f(X[r : r + 1])[0, targets[r]]
        total, hits = np.zeros(shape), np.zeros(shape)
        for position in np.ndindex(*counts):
            box = tuple(
                slice(p * s, p * s + w) for p, s, w in zip(position, strides, window, strict=True)
            )
            occluded = X[r].copy()
            occluded[box] = baselines[r][box]
            drop = base - f(occluded[None])[0, targets[r]]
            total[box] += drop
            hits[box] += 1
        out[r] = total / hits
    return out


def feature_ablation(
    f: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    baselines: np.ndarray,
    group_of: np.ndarray,
    targets: np.ndarray,
) -> np.ndarray:
    """Each group replaced by the baseline in turn; its features get f(x) - f(x ablated);
    features in group -1 get 0."""
    n = X.shape[0]
    flat, base_flat = X.reshape(n, -1), baselines.reshape(n, -1)
    out = np.zeros(flat.shape)
    for r in range(n):
        base = f(X[r : r + 1])[0, targets[r]]
        for g in np.unique(group_of[group_of >= 0]):
            members = group_of == g
            ablated = flat[r].copy()
            ablated[members] = base_flat[r][members]
            out[r, members] = base - f(ablated.reshape(1, *X.shape[1:]))[0, targets[r]]
    return out.reshape(X.shape)
