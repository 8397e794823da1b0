"""A slow, literal NumPy evaluation of a ``NetworkSpec`` and of Integrated Gradients.

It exists so that ``glassbox demo`` and ``bench/`` can time glassbox against plain NumPy doing the
same job and check that both agree. It is written straight from the definitions, one layer at a
time, with no tricks: a forward pass that keeps every layer's output, a backward pass that applies
each layer's derivative, and the Integrated Gradients sum over quadrature points. It is not used by
any explainer. (The test suite keeps its own, more complete, references in ``tests/reference/``.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassbox.models.spec import NetworkSpec

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _activation(kind: str, p: dict[str, Any], z: np.ndarray) -> np.ndarray:
    """The activation ``kind`` applied to ``z``."""
    if kind == "relu":
        return np.maximum(z, 0)
    if kind == "leaky_relu":
        return np.where(z > 0, z, p.get("negative_slope", 0.01) * z)
    if kind == "elu":
        return np.where(z > 0, z, p.get("alpha", 1.0) * np.expm1(np.minimum(z, 0)))
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if kind == "tanh":
        return np.tanh(z)
    if kind == "softplus":
        beta, threshold = p.get("beta", 1.0), p.get("threshold", 20.0)
        soft = np.log1p(np.exp(np.minimum(beta * z, threshold))) / beta
        return np.where(beta * z > threshold, z, soft)
    if kind == "gelu":
        if p.get("approximate", "none") == "tanh":
            return 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
        return 0.5 * z * (1 + _erf(z / math.sqrt(2)))
    if kind == "silu":
        return z / (1 + np.exp(-z))
    if kind == "softmax":
        return _softmax(z)
    if kind == "log_softmax":
        return np.log(_softmax(z))
    raise NotImplementedError(f"the NumPy reference has no layer kind {kind!r}")


def _activation_backward(
    kind: str, p: dict[str, Any], z: np.ndarray, y: np.ndarray, g: np.ndarray
) -> np.ndarray:
    """Given the layer input ``z``, its output ``y`` and ``g = dL/dy``, return ``dL/dz``."""
    if kind == "softmax":
        return y * (g - (g * y).sum(axis=1, keepdims=True))
    if kind == "log_softmax":
        return g - np.exp(y) * g.sum(axis=1, keepdims=True)
    if kind == "relu":
        d = (z > 0).astype(z.dtype)
    elif kind == "leaky_relu":
        d = np.where(z > 0, 1.0, p.get("negative_slope", 0.01))
    elif kind == "elu":
        d = np.where(z > 0, 1.0, p.get("alpha", 1.0) * np.exp(np.minimum(z, 0)))
    elif kind == "sigmoid":
        d = y * (1 - y)
    elif kind == "tanh":
        d = 1 - y**2
    elif kind == "softplus":
        beta, threshold = p.get("beta", 1.0), p.get("threshold", 20.0)
        d = np.where(beta * z > threshold, 1.0, 1 / (1 + np.exp(-beta * z)))
    elif kind == "gelu":
        if p.get("approximate", "none") == "tanh":
            c = math.sqrt(2 / math.pi)
            t = np.tanh(c * (z + 0.044715 * z**3))
            d = 0.5 * (1 + t) + 0.5 * z * (1 - t**2) * c * (1 + 3 * 0.044715 * z**2)
        else:
            pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
            d = 0.5 * (1 + _erf(z / math.sqrt(2))) + z * pdf
    elif kind == "silu":
        s = 1 / (1 + np.exp(-z))
        d = s * (1 + z * (1 - s))
    else:
        raise NotImplementedError(f"the NumPy reference has no layer kind {kind!r}")
    return g * d.astype(g.dtype)


def _check_sequential(spec: NetworkSpec) -> None:
    for i, layer in enumerate(spec.layers):
        if layer.inputs != [i - 1]:
            raise NotImplementedError("the NumPy reference evaluates sequential networks only")


def forward(spec: NetworkSpec, X: np.ndarray, dtype: type = np.float32) -> list[np.ndarray]:
    """Evaluate ``spec`` on the batch ``X`` and return every layer's output, input first.

    Examples
    --------
    >>> spec = NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.eye(2), bias=np.zeros(2))
    >>> forward(spec, np.ones((1, 2)))[-1]
    array([[1., 1.]], dtype=float32)
    """
    _check_sequential(spec)
    outs = [np.asarray(X, dtype=dtype).reshape(len(X), -1)]
    for layer in spec.layers:
        z = outs[-1]
        if layer.kind == "dense":
            y = z @ layer.weights["weight"].astype(dtype).T
            if layer.weights.get("bias") is not None:
                y = y + layer.weights["bias"].astype(dtype)
        elif layer.kind in ("flatten", "dropout", "identity"):
            y = z
        else:
            y = _activation(layer.kind, layer.params, z).astype(dtype)
        outs.append(y)
    return outs


def gradient(
    spec: NetworkSpec, X: np.ndarray, target: np.ndarray, dtype: type = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(f(X), d f_t / d X)``: the outputs and the gradient of output ``target[i]`` per row.

    Examples
    --------
    >>> spec = NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 2.0]]), bias=None)
    >>> gradient(spec, np.ones((1, 2)), np.array([0]))[1]
    array([[1., 2.]], dtype=float32)
    """
    outs = forward(spec, X, dtype)
    n = len(X)
    g = np.zeros_like(outs[-1])
    g[np.arange(n), target] = 1
    for i in range(len(spec.layers) - 1, -1, -1):
        layer = spec.layers[i]
        if layer.kind == "dense":
            g = g @ layer.weights["weight"].astype(dtype)
        elif layer.kind not in ("flatten", "dropout", "identity"):
            g = _activation_backward(layer.kind, layer.params, outs[i], outs[i + 1], g)
    return outs[-1], g.reshape(np.shape(X))


def quadrature(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Points ``alpha_k`` in [0, 1] and weights ``w_k`` of the Integrated Gradients rule ``method``.

    Examples
    --------
    >>> quadrature("riemann_trapezoid", 3)
    (array([0. , 0.5, 1. ]), array([0.25, 0.5 , 0.25]))
    """
    k = np.arange(n_steps, dtype=np.float64)
    if method == "riemann_left":
        return k / n_steps, np.full(n_steps, 1 / n_steps)
    if method == "riemann_right":
        return (k + 1) / n_steps, np.full(n_steps, 1 / n_steps)
    if method == "riemann_middle":
        return (k + 0.5) / n_steps, np.full(n_steps, 1 / n_steps)
    if method == "riemann_trapezoid":
        w = np.full(n_steps, 1 / (n_steps - 1))
        w[[0, -1]] /= 2
        return np.linspace(0, 1, n_steps), w
    if method == "gausslegendre":
        x, w = np.polynomial.legendre.leggauss(n_steps)
        return (x + 1) / 2, w / 2
    raise ValueError(f"method: unknown integration method {method!r}")


def integrated_gradients(
    spec: NetworkSpec,
    X: np.ndarray,
    baselines: np.ndarray | float,
    target: np.ndarray,
    n_steps: int = 50,
    method: str = "gausslegendre",
    dtype: type = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrated Gradients of output ``target[i]`` per row, and the completeness gap ``delta``.

    ``values = (X - B) * sum_k w_k grad f_t(B + alpha_k (X - B))`` and
    ``delta = sum(values) - (f_t(X) - f_t(B))``; one batched pass over the rows per step.

    Examples
    --------
    >>> spec = NetworkSpec(input_shape=(2,))
    >>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 2.0]]), bias=None)
    >>> values, delta = integrated_gradients(spec, np.ones((1, 2)), 0.0, np.array([0]))
    >>> values.round(5).tolist()
    [[1.0, 2.0]]
    """
    X = np.asarray(X, dtype=dtype)
    B = np.broadcast_to(np.asarray(baselines, dtype=dtype), X.shape)
    target = np.broadcast_to(np.asarray(target, dtype=np.int64), (len(X),))
    alphas, weights = quadrature(method, n_steps)
    total = np.zeros(X.shape, dtype=np.float64)
    for alpha, weight in zip(alphas, weights, strict=True):
        _, g = gradient(spec, B + dtype(alpha) * (X - B), target, dtype)
        total += weight * g
    values = (X - B) * total
    rows = np.arange(len(X))
    f_x = forward(spec, X, dtype)[-1][rows, target]
    f_b = forward(spec, B, dtype)[-1][rows, target]
    delta = values.reshape(len(X), -1).sum(axis=1) - (f_x.astype(np.float64) - f_b)
    return values.astype(dtype), delta
