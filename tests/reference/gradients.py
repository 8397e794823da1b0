"""Literal NumPy references for the gradient explainers, written from their definitions.

Each function takes the ``NetworkSpec`` and evaluates it with ``tests.reference.network`` in
float64. Sampled methods take their random draws as explicit arrays (the tests obtain the exact
draws the core uses from ``glassbox._core.normal_draws`` / ``uniform_draws`` / ``index_draws``), and
every sum over steps or samples is an explicit Python loop.

Example
-------
>>> import numpy as np
>>> from glassbox.models.spec import NetworkSpec
>>> spec = NetworkSpec(input_shape=(2,))
>>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -2.0]]), bias=None)
>>> values, delta = integrated_gradients(spec, np.array([[3.0, 1.0]]), 0.0, 0, 4, "riemann_left")
>>> values
array([[ 3., -2.]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassbox.models.spec import NetworkSpec

from .network import forward, gradient, target_rows

Target = int | Sequence[int] | np.ndarray | None

IG_METHODS = (
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
    "gausslegendre",
)


def _f_target(spec: NetworkSpec, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``f(X)[i, rows[i]]`` for every row ``i``."""
    out = forward(spec, X)
    return out[np.arange(out.shape[0]), rows]


def _rows(spec: NetworkSpec, X: np.ndarray, target: Target) -> np.ndarray:
    n_outputs = forward(spec, X[:1]).shape[1]
    return target_rows(target, X.shape[0], n_outputs)


def _sum_per_row(values: np.ndarray) -> np.ndarray:
    return values.reshape(values.shape[0], -1).sum(axis=1)


def saliency(spec: NetworkSpec, X: np.ndarray, target: Target, abs: bool = True) -> np.ndarray:
    """The gradient of the target output with respect to the input, or its absolute value."""
    g = gradient(spec, np.asarray(X, dtype=np.float64), target)
    return np.abs(g) if abs else g


def input_x_gradient(
    spec: NetworkSpec, X: np.ndarray, target: Target
) -> tuple[np.ndarray, np.ndarray]:
    """``X * grad f_t(X)`` and its completeness gap ``sum(values) - (f_t(X) - f_t(0))``."""
    X = np.asarray(X, dtype=np.float64)
    rows = _rows(spec, X, target)
    values = X * gradient(spec, X, rows)
    delta = _sum_per_row(values) - (_f_target(spec, X, rows) - _f_target(spec, 0 * X, rows))
    return values, delta


def ig_alphas_weights(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Integration points ``alpha_k`` in [0, 1] and weights ``w_k`` (the contract's table)."""
    n = int(n_steps)
    if method == "gausslegendre":
        x, w = np.polynomial.legendre.leggauss(n)
        return (x + 1.0) / 2.0, w / 2.0
    alphas, weights = [], []
    for k in range(n):
        if method == "riemann_left":
            alphas.append(k / n)
            weights.append(1.0 / n)
        elif method == "riemann_right":
            alphas.append((k + 1) / n)
            weights.append(1.0 / n)
        elif method == "riemann_middle":
            alphas.append((k + 0.5) / n)
            weights.append(1.0 / n)
        elif method == "riemann_trapezoid":
            if n < 2:
                raise ValueError("reference: the trapezoid rule needs n_steps >= 2")
            alphas.append(k / (n - 1))
            end = k == 0 or k == n - 1
            weights.append(0.5 / (n - 1) if end else 1.0 / (n - 1))
        else:
            raise ValueError(f"reference: unknown method {method!r}")
    return np.array(alphas), np.array(weights)


def broadcast_baselines(X: np.ndarray, baselines: float | np.ndarray) -> np.ndarray:
    """A scalar, one row, or one row per input row, as an array of the shape of ``X``."""
    return np.broadcast_to(np.asarray(baselines, dtype=np.float64), X.shape).copy()


def integrated_gradients(
    spec: NetworkSpec,
    X: np.ndarray,
    baselines: float | np.ndarray,
    target: Target,
    n_steps: int,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """``(X - B) * sum_k w_k grad f_t(B + alpha_k (X - B))`` and ``sum - (f_t(X) - f_t(B))``."""
    X = np.asarray(X, dtype=np.float64)
    B = broadcast_baselines(X, baselines)
    rows = _rows(spec, X, target)
    alphas, weights = ig_alphas_weights(method, n_steps)
    total = np.zeros_like(X)
    for alpha, weight in zip(alphas, weights, strict=True):
        total += weight * gradient(spec, B + alpha * (X - B), rows)
    values = (X - B) * total
    delta = _sum_per_row(values) - (_f_target(spec, X, rows) - _f_target(spec, B, rows))
    return values, delta


def smoothgrad(
    spec: NetworkSpec,
    X: np.ndarray,
    target: Target,
    noise: np.ndarray,
    stdev: float,
    nt_type: str = "smoothgrad",
    base: str = "gradient",
) -> tuple[np.ndarray, np.ndarray | None]:
    """SmoothGrad / SmoothGrad-squared / VarGrad of ``base`` over explicit standard-normal noise.

    ``noise`` has shape ``(n, n_samples, n_features)``; sample ``s`` of row ``i`` is evaluated at
    ``X[i] + stdev * noise[i, s]``. Returns the values and, for the two mean estimators with more
    than one sample, the standard error of the mean (sample std with ``ddof=1`` over the draws,
    divided by ``sqrt(n_samples)``); otherwise ``None``.
    """
    X = np.asarray(X, dtype=np.float64)
    rows = _rows(spec, X, target)
    n_samples = noise.shape[1]
    draws = np.zeros((n_samples, *X.shape))
    for s in range(n_samples):
        noisy = X + stdev * np.asarray(noise[:, s], dtype=np.float64).reshape(X.shape)
        g = gradient(spec, noisy, rows)
        if base == "gradient":
            draws[s] = g
        elif base == "saliency":
            draws[s] = np.abs(g)
        elif base == "input_x_gradient":
            draws[s] = g * noisy
        else:
            raise ValueError(f"reference: unknown base {base!r}")
    if nt_type == "smoothgrad":
        q = draws
    elif nt_type == "smoothgrad_sq":
        q = draws * draws
    elif nt_type == "vargrad":
        return (draws * draws).mean(axis=0) - draws.mean(axis=0) ** 2, None
    else:
        raise ValueError(f"reference: unknown nt_type {nt_type!r}")
    return q.mean(axis=0), _stderr(q)


def _stderr(draws: np.ndarray) -> np.ndarray | None:
    """Standard error of the mean over axis 0 (``ddof=1``); ``None`` for a single draw."""
    n_samples = draws.shape[0]
    if n_samples < 2:
        return None
    return draws.std(axis=0, ddof=1) / np.sqrt(n_samples)


def gradient_shap(
    spec: NetworkSpec,
    X: np.ndarray,
    baselines: np.ndarray,
    target: Target,
    indices: np.ndarray,
    alphas: np.ndarray,
    noise: np.ndarray,
    stdev: float,
) -> dict[str, np.ndarray | None]:
    """GradientSHAP with explicit draws.

    For row ``i`` and draw ``s``: ``b = baselines[indices[i, s]]``, ``xn = X[i] + stdev *
    noise[i, s]``, ``point = b + alphas[i, s] (xn - b)`` and ``a_s = (xn - b) * grad f_t(point)``.
    Returns ``values`` (mean of ``a_s``), ``stderr`` (sample std of ``a_s`` over draws, ``ddof=1``,
    divided by ``sqrt(n_samples)``; ``None`` for one draw), ``base_values`` (``mean_j f_t(R_j)``)
    and ``delta`` (``sum(values) - (f_t(X) - base_values)``).
    """
    X = np.asarray(X, dtype=np.float64)
    R = np.asarray(baselines, dtype=np.float64)
    rows = _rows(spec, X, target)
    n, n_samples = indices.shape
    draws = np.zeros((n_samples, *X.shape))
    for s in range(n_samples):
        b = R[indices[:, s]]
        xn = X + stdev * np.asarray(noise[:, s], dtype=np.float64).reshape(X.shape)
        alpha = np.asarray(alphas[:, s], dtype=np.float64).reshape((n,) + (1,) * (X.ndim - 1))
        point = b + alpha * (xn - b)
        draws[s] = (xn - b) * gradient(spec, point, rows)
    values = draws.mean(axis=0)
    stderr = _stderr(draws)
    base_values = np.array([_f_target(spec, R, np.full(len(R), t)).mean() for t in rows])
    delta = _sum_per_row(values) - (_f_target(spec, X, rows) - base_values)
    return {"values": values, "stderr": stderr, "base_values": base_values, "delta": delta}
