"""A literal NumPy (float64) evaluator of a ``NetworkSpec``: forward pass and input gradient.

Every layer kind has two plain functions: ``forward`` (the definition of the layer) and
``backward`` (the vector-Jacobian product, i.e. the chain rule written by hand from the
derivative of that definition). Softmax and log-softmax build their full Jacobian matrix row by
row. Weights are float32 in the spec; all arithmetic here is float64.

Example
-------
>>> import numpy as np
>>> from glassbox.models.spec import NetworkSpec
>>> spec = NetworkSpec(input_shape=(2,))
>>> _ = spec.add("dense", "fc", weight=np.array([[1.0, -2.0]]), bias=np.array([0.5]))
>>> forward(spec, np.array([[3.0, 1.0]]))
array([[1.5]])
>>> gradient(spec, np.array([[3.0, 1.0]]), 0)
array([[ 1., -2.]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from glassbox.models.spec import LayerSpec, NetworkSpec

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------------------------
# One forward and one backward function per layer kind. ``x`` is the layer input (float64),
# ``g`` the gradient of the scalar output with respect to the layer output.
# ---------------------------------------------------------------------------------------------


def _dense_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    weight = np.asarray(layer.weights["weight"], dtype=np.float64)  # (out, in)
    y = x @ weight.T
    bias = layer.weights.get("bias")
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)
    return y


def _dense_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    weight = np.asarray(layer.weights["weight"], dtype=np.float64)
    # y_o = sum_i W[o, i] x_i + b_o  =>  dL/dx_i = sum_o g_o W[o, i]
    return g @ weight


def _relu_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.0)


def _relu_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # torch convention: derivative 0 at x == 0
    return g * np.where(x > 0, 1.0, 0.0)


def _leaky_relu_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    slope = float(layer.params.get("negative_slope", 0.01))
    return np.where(x > 0, x, slope * x)


def _leaky_relu_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    slope = float(layer.params.get("negative_slope", 0.01))
    return g * np.where(x > 0, 1.0, slope)


def _elu_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    alpha = float(layer.params.get("alpha", 1.0))
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0.0)) - 1.0))


def _elu_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    alpha = float(layer.params.get("alpha", 1.0))
    return g * np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def _sigmoid_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return _sigmoid(x)


def _sigmoid_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    s = _sigmoid(x)
    return g * s * (1.0 - s)


def _tanh_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def _tanh_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return g * (1.0 - t * t)


def _softplus_params(layer: LayerSpec) -> tuple[float, float]:
    return float(layer.params.get("beta", 1.0)), float(layer.params.get("threshold", 20.0))


def _softplus_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    # torch.nn.Softplus: x if beta * x > threshold else log(1 + exp(beta * x)) / beta
    beta, threshold = _softplus_params(layer)
    linear = beta * x > threshold
    smooth = np.log1p(np.exp(np.where(linear, 0.0, beta * x))) / beta
    return np.where(linear, x, smooth)


def _softplus_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    beta, threshold = _softplus_params(layer)
    linear = beta * x > threshold
    return g * np.where(linear, 1.0, _sigmoid(beta * x))


_GELU_C = math.sqrt(2.0 / math.pi)


def _gelu_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    if layer.params.get("approximate", "none") == "tanh":
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + 0.044715 * x**3)))
    # x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    if layer.params.get("approximate", "none") == "tanh":
        u = _GELU_C * (x + 0.044715 * x**3)
        du = _GELU_C * (1.0 + 3.0 * 0.044715 * x**2)
        t = np.tanh(u)
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
    cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return g * (cdf + x * pdf)


def _silu_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return x * _sigmoid(x)


def _silu_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    s = _sigmoid(x)
    return g * (s + x * s * (1.0 - s))


def _softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return _softmax_rows(x)


def _softmax_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    s = _softmax_rows(x)
    out = np.empty_like(g)
    for r in range(x.shape[0]):
        # J[i, j] = d s_i / d x_j = s_i (delta_ij - s_j)
        jac = np.diag(s[r]) - np.outer(s[r], s[r])
        out[r] = g[r] @ jac
    return out


def _log_softmax_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def _log_softmax_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    s = _softmax_rows(x)
    out = np.empty_like(g)
    k = x.shape[1]
    for r in range(x.shape[0]):
        # J[i, j] = d (x_i - logsumexp(x)) / d x_j = delta_ij - s_j
        jac = np.eye(k) - np.outer(np.ones(k), s[r])
        out[r] = g[r] @ jac
    return out


def _flatten_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], -1)


def _flatten_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g.reshape(x.shape)


def _identity_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return x


def _identity_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g


_LAYERS: dict[str, tuple[Any, Any]] = {
    "dense": (_dense_forward, _dense_backward),
    "relu": (_relu_forward, _relu_backward),
    "leaky_relu": (_leaky_relu_forward, _leaky_relu_backward),
    "elu": (_elu_forward, _elu_backward),
    "sigmoid": (_sigmoid_forward, _sigmoid_backward),
    "tanh": (_tanh_forward, _tanh_backward),
    "softplus": (_softplus_forward, _softplus_backward),
    "gelu": (_gelu_forward, _gelu_backward),
    "silu": (_silu_forward, _silu_backward),
    "softmax": (_softmax_forward, _softmax_backward),
    "log_softmax": (_log_softmax_forward, _log_softmax_backward),
    "flatten": (_flatten_forward, _flatten_backward),
    "dropout": (_identity_forward, _identity_backward),
    "identity": (_identity_forward, _identity_backward),
}


def _single_input(layer: LayerSpec) -> int:
    if len(layer.inputs) != 1:
        raise NotImplementedError(f"reference: layer {layer.name!r} reads {layer.inputs}")
    return layer.inputs[0]


def _run_forward(spec: NetworkSpec, X: np.ndarray) -> list[np.ndarray]:
    """Return the output of every layer (the network output is the last one)."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1:] != tuple(spec.input_shape):
        raise ValueError(f"reference: X has shape {X.shape}, spec wants (n, *{spec.input_shape})")
    outputs: list[np.ndarray] = []
    for layer in spec.layers:
        if layer.kind not in _LAYERS:
            raise NotImplementedError(f"reference: layer kind {layer.kind!r}")
        src = _single_input(layer)
        x = X if src == -1 else outputs[src]
        outputs.append(_LAYERS[layer.kind][0](layer, x))
    return outputs


def target_rows(target: int | Sequence[int] | np.ndarray | None, n: int, k: int) -> np.ndarray:
    """One output index per row; ``None`` is allowed for a single-output network only."""
    if target is None:
        if k != 1:
            raise ValueError("reference: target=None needs a single-output network")
        return np.zeros(n, dtype=np.int64)
    t = np.asarray(target, dtype=np.int64)
    if t.ndim == 0:
        return np.full(n, int(t), dtype=np.int64)
    if t.shape != (n,):
        raise ValueError(f"reference: target has shape {t.shape}, expected ({n},)")
    return t


def forward(spec: NetworkSpec, X: np.ndarray) -> np.ndarray:
    """Network outputs, float64 of shape ``(n, n_outputs)``."""
    return _run_forward(spec, X)[-1]


def gradient(
    spec: NetworkSpec, X: np.ndarray, target: int | Sequence[int] | np.ndarray | None
) -> np.ndarray:
    """``d output[row, target[row]] / d X[row]`` for every row, float64 of the shape of ``X``.

    Backpropagation by hand: seed the output with a one-hot row per sample, then walk the layers
    in reverse, each layer turning the gradient of its output into the gradient of its input and
    adding it to whichever layer (or the network input) it read from.
    """
    X = np.asarray(X, dtype=np.float64)
    outputs = _run_forward(spec, X)
    n, k = outputs[-1].shape
    rows = target_rows(target, n, k)
    grads: list[np.ndarray | None] = [None] * len(spec.layers)
    seed = np.zeros((n, k))
    seed[np.arange(n), rows] = 1.0
    grads[-1] = seed
    grad_input = np.zeros_like(X)
    for index in range(len(spec.layers) - 1, -1, -1):
        g = grads[index]
        if g is None:
            continue  # this layer does not reach the output
        layer = spec.layers[index]
        src = _single_input(layer)
        x = X if src == -1 else outputs[src]
        gx = _LAYERS[layer.kind][1](layer, x, g)
        if src == -1:
            grad_input = grad_input + gx
        else:
            grads[src] = gx if grads[src] is None else grads[src] + gx
    return grad_input
