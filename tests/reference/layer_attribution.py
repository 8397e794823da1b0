"""Literal NumPy references of the layer and neuron methods (Captum's definitions), on the
reference network of ``tests/reference/network.py``: every path point is one forward pass with
the layer's output replaced and one hand-written backward walk."""

from __future__ import annotations

import numpy as np

from glassbox.models.spec import NetworkSpec
from reference.gradients import broadcast_baselines, ig_alphas_weights
from reference.network import _run_forward, backward, target_rows


def layer_integrated_gradients(
    spec: NetworkSpec,
    X: np.ndarray,
    baselines: float | np.ndarray,
    layer: int,
    target: int | np.ndarray,
    n_steps: int,
    method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """``(a(x) - a(b)) * sum_k w_k d f_t / d a`` at ``a = a(b) + alpha_k (a(x) - a(b))``, with
    every other layer reading ``x``; and the completeness gap along that path."""
    X = np.asarray(X, dtype=np.float64)
    B = broadcast_baselines(X, baselines)
    end, start = _run_forward(spec, X)[layer], _run_forward(spec, B)[layer]
    n = X.shape[0]
    rows = target_rows(target, n, _run_forward(spec, X)[-1].shape[1])
    alphas, weights = ig_alphas_weights(method, n_steps)
    total = np.zeros_like(end)
    for alpha, weight in zip(alphas, weights, strict=True):
        points = start + alpha * (end - start)
        _, _, grads = backward(spec, X, rows, stop=layer, substitute=(layer, points))
        total += weight * grads[layer]
    values = (end - start) * total

    def f(values_at_layer: np.ndarray) -> np.ndarray:
        return _run_forward(spec, X, (layer, values_at_layer))[-1][np.arange(n), rows]

    delta = values.reshape(n, -1).sum(axis=1) - (f(end) - f(start))
    return values, delta


def layer_gradient_x_activation(
    spec: NetworkSpec, X: np.ndarray, layer: int, target: int | np.ndarray
) -> np.ndarray:
    """``a(x) * d f_t / d a`` at x."""
    _, outputs, grads = backward(spec, X, target, stop=layer)
    return outputs[layer] * grads[layer]
