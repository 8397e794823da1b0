"""Literal NumPy references for the inspection methods, written from their definitions with
plain loops (slow on purpose): permutation importance, partial dependence / ICE, ALE and
Friedman's H-statistic. ``predict`` is any function of a float batch returning (n, n_outputs).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]


def fit_quietly(estimator: object, X: np.ndarray, y: np.ndarray) -> object:
    """Fits a scikit-learn estimator, ignoring convergence warnings of short test fits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)  # type: ignore[attr-defined]


# --- metrics, from their definitions (higher is better; losses negated) ---


def _labels(P: np.ndarray) -> np.ndarray:
    return (P[:, 0] > 0.5).astype(int) if P.shape[1] == 1 else np.argmax(P, axis=1)


def score(metric: str, P: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    P = np.asarray(P, dtype=np.float64)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    if metric == "accuracy":
        return float(
            sum(wi for wi, yi, li in zip(w, y, _labels(P), strict=True) if yi == li) / w.sum()
        )
    if metric == "balanced_accuracy":
        recalls = []
        for c in np.unique(y):
            members = y == c
            recalls.append((w[members] * (_labels(P)[members] == c)).sum() / w[members].sum())
        return float(np.mean(recalls))
    if metric == "log_loss":
        probs = np.c_[1 - P[:, 0], P[:, 0]] if P.shape[1] == 1 else P
        eps = np.finfo(np.float64).eps
        picked = np.clip(probs[np.arange(len(y)), y.astype(int)], eps, 1 - eps)
        return float(-(w * -np.log(picked)).sum() / w.sum())
    if metric == "roc_auc":
        s = P[:, 0] if P.shape[1] == 1 else P[:, 1]
        pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        total = 0.0
        for i in pos:  # Mann-Whitney: a positive ranked above a negative, ties count half
            for j in neg:
                total += w[i] * w[j] * (1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0)
        return float(total / (w[pos].sum() * w[neg].sum()))
    residual = y - P[:, 0]
    if metric == "r2":
        mean = (w * y).sum() / w.sum()
        return float(1 - (w * residual**2).sum() / (w * (y - mean) ** 2).sum())
    if metric == "mse":
        return float(-(w * residual**2).sum() / w.sum())
    if metric == "mae":
        return float(-(w * np.abs(residual)).sum() / w.sum())
    raise ValueError(metric)


def permutation_importance(
    predict: Predict,
    X: np.ndarray,
    y: np.ndarray,
    metric: str,
    groups: list[list[int]],
    rows: np.ndarray,
    sources: np.ndarray,
    w: np.ndarray | None = None,
) -> np.ndarray:
    """Importances (groups, repeats) given the subsample rows and permutation indices."""
    baseline = score(metric, predict(X), y, w)
    out = np.zeros(sources.shape[:2])
    for g, group in enumerate(groups):
        for r in range(sources.shape[1]):
            data = X[rows[g]].copy()
            for c in group:
                for i in range(len(rows[g])):
                    data[i, c] = X[rows[g][sources[g, r, i]], c]
            out[g, r] = baseline - score(
                metric, predict(data), y[rows[g]], None if w is None else w[rows[g]]
            )
    return out


# --- partial dependence and ICE ---


def partial_dependence(
    predict: Predict, X: np.ndarray, features: list[int], axes: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(average (n_outputs, *grid), individual (n_outputs, n_rows, *grid)) on the given grid."""
    shape = tuple(len(a) for a in axes)
    n_outputs = np.asarray(predict(X[:1])).shape[1]
    individual = np.zeros((n_outputs, X.shape[0], *shape))
    for point in itertools.product(*(range(s) for s in shape)):
        data = X.copy()
        for feature, axis, index in zip(features, axes, point, strict=True):
            data[:, feature] = axis[index]
        individual[(slice(None), slice(None), *point)] = np.asarray(predict(data)).T
    return individual.mean(axis=1), individual


# --- accumulated local effects ---


def _bin_of(value: float, edges: np.ndarray) -> int:
    for k in range(len(edges) - 1):
        if value <= edges[k + 1]:
            return k
    return len(edges) - 2


def ale_1d(predict: Predict, X: np.ndarray, feature: int, edges: np.ndarray) -> np.ndarray:
    """Centered first-order ALE at the bin edges (n_outputs, n_bins + 1)."""
    n_bins = len(edges) - 1
    n_outputs = np.asarray(predict(X[:1])).shape[1]
    effect, counts = np.zeros((n_outputs, n_bins)), np.zeros(n_bins)
    for i in range(X.shape[0]):
        k = _bin_of(X[i, feature], edges)
        low, high = X[i : i + 1].copy(), X[i : i + 1].copy()
        low[0, feature], high[0, feature] = edges[k], edges[k + 1]
        effect[:, k] += np.asarray(predict(high))[0] - np.asarray(predict(low))[0]
        counts[k] += 1
    accumulated = np.zeros((n_outputs, n_bins + 1))
    for k in range(n_bins):
        accumulated[:, k + 1] = accumulated[:, k] + effect[:, k] / counts[k]
    centre = sum(counts[k] * (accumulated[:, k] + accumulated[:, k + 1]) / 2 for k in range(n_bins))
    return accumulated - (centre / counts.sum())[:, None]


def ale_2d(
    predict: Predict, X: np.ndarray, features: tuple[int, int], edges: list[np.ndarray]
) -> np.ndarray:
    """Centered pure second-order ALE at the grid of edges (n_outputs, K1 + 1, K2 + 1)."""
    a, b = features
    K1, K2 = len(edges[0]) - 1, len(edges[1]) - 1
    n_outputs = np.asarray(predict(X[:1])).shape[1]
    delta, counts = np.zeros((n_outputs, K1, K2)), np.zeros((K1, K2))
    for i in range(X.shape[0]):
        k, m = _bin_of(X[i, a], edges[0]), _bin_of(X[i, b], edges[1])
        total = np.zeros(n_outputs)
        for ua, ub, sign in ((1, 1, 1), (0, 1, -1), (1, 0, -1), (0, 0, 1)):
            row = X[i : i + 1].copy()
            row[0, a], row[0, b] = edges[0][k + ua], edges[1][m + ub]
            total += sign * np.asarray(predict(row))[0]
        delta[:, k, m] += total
        counts[k, m] += 1
    delta = np.where(counts > 0, delta / np.maximum(counts, 1), 0.0)
    F = np.zeros((n_outputs, K1 + 1, K2 + 1))
    for k in range(K1):
        for m in range(K2):
            F[:, k + 1, m + 1] = F[:, k, m + 1] + F[:, k + 1, m] - F[:, k, m] + delta[:, k, m]
    # first-order parts: mean step across each bin, cells at the mean of their two edges
    main_a, main_b = np.zeros((n_outputs, K1 + 1)), np.zeros((n_outputs, K2 + 1))
    for k in range(K1):
        step = sum(
            counts[k, m]
            * ((F[:, k + 1, m] - F[:, k, m]) + (F[:, k + 1, m + 1] - F[:, k, m + 1]))
            / 2
            for m in range(K2)
        )
        main_a[:, k + 1] = main_a[:, k] + step / max(counts[k].sum(), 1)
    for m in range(K2):
        step = sum(
            counts[k, m]
            * ((F[:, k, m + 1] - F[:, k, m]) + (F[:, k + 1, m + 1] - F[:, k + 1, m]))
            / 2
            for k in range(K1)
        )
        main_b[:, m + 1] = main_b[:, m] + step / max(counts[:, m].sum(), 1)
    F = F - main_a[:, :, None] - main_b[:, None, :]
    centre = sum(
        counts[k, m] * (F[:, k, m] + F[:, k + 1, m] + F[:, k, m + 1] + F[:, k + 1, m + 1]) / 4
        for k in range(K1)
        for m in range(K2)
    )
    return F - (centre / counts.sum())[:, None, None]


# --- Friedman's H-statistic ---


def _pd_at_rows(predict: Predict, X: np.ndarray, columns: list[int]) -> np.ndarray:
    """PD_S(x_i) for every row i, averaged over the rows of X, centered (n, n_outputs)."""
    values = []
    for i in range(X.shape[0]):
        data = X.copy()
        data[:, columns] = X[i, columns]
        values.append(np.asarray(predict(data)).mean(axis=0))
    out = np.array(values)
    return out - out.mean(axis=0)


def h_squared_pair(predict: Predict, X: np.ndarray, j: int, k: int) -> np.ndarray:
    joint = _pd_at_rows(predict, X, [j, k])
    rest = joint - _pd_at_rows(predict, X, [j]) - _pd_at_rows(predict, X, [k])
    return (rest**2).sum(axis=0) / (joint**2).sum(axis=0)


def h_squared_overall(predict: Predict, X: np.ndarray, j: int) -> np.ndarray:
    f = np.asarray(predict(X), dtype=np.float64)
    f = f - f.mean(axis=0)
    others = [c for c in range(X.shape[1]) if c != j]
    rest = f - _pd_at_rows(predict, X, [j]) - _pd_at_rows(predict, X, others)
    return (rest**2).sum(axis=0) / (f**2).sum(axis=0)


# --- small fitted problems shared by the inspection tests ---


def problem(task: str, n_rows: int = 120, seed: int = 0) -> tuple[object, np.ndarray, np.ndarray]:
    """(fitted scikit-learn MLP, X float64, y) for "binary", "multiclass" or "regression"."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 4))
    signal = X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3]
    if task == "regression":
        y = signal + 0.1 * rng.normal(size=n_rows)
        model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
    else:
        cuts = [0.0] if task == "binary" else [-0.5, 0.5]
        y = np.digitize(signal + 0.3 * rng.normal(size=n_rows), cuts)
        model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0)
    return fit_quietly(model, X, y), X, y
