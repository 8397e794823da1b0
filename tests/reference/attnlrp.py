"""A literal NumPy (float64) AttnLRP / CP-LRP walk over a ``NetworkSpec`` DAG, written from the
papers' definitions with explicit contributions (Achtibat et al., ICML 2024: epsilon rule on
linear layers, identity rule on element-wise activations and on LayerNorm's scale, uniform rule
on products, the softmax rule; Ali et al., ICML 2022: attention weights and LayerNorm's scale
held fixed). The relevance of a token is the sum over its embedding vector.

Only the definitions live here: a dense layer's R_i = sum_j x_i w_ji R_j / stab(z_j), a
product's contributions c_ikj = A_ik B_kj, and so on; layers that only move values (reshape,
permute, take, input) route relevance as they route values (their transpose).

Example
-------
>>> import numpy as np
>>> from glassbox.models.spec import NetworkSpec
>>> spec = NetworkSpec(input_shape=(2,))
>>> _ = spec.add("dense", "fc", weight=np.array([[1.0, 3.0]]), bias=None)
>>> relevance(spec, np.array([[1.0, 1.0]]), 0).round(4)  # epsilon = 1e-6 in the denominators
array([[1., 3.]])
"""

from __future__ import annotations

import numpy as np

from glassbox.models.spec import NetworkSpec
from reference.network import _LAYERS, _norm_weights, _normalize, _pad_rank, _run_forward

EPS = 1e-6
ROUTING = ("reshape", "permute", "take", "input", "flatten", "identity", "dropout")


def stab(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, z + EPS, z - EPS)


def _sum_to(r: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Relevance of a broadcast input: summed over the axes it was repeated along."""
    while r.ndim > len(shape):
        r = r.sum(axis=1)
    axes = tuple(a for a in range(1, r.ndim) if shape[a] == 1 and r.shape[a] != 1)
    return r.sum(axis=axes, keepdims=True) if axes else r


def _signal(spec: NetworkSpec, index: int) -> bool:
    """Does layer ``index`` depend on an embedding or a real-valued input (not only masks)?"""
    if index < 0:
        return True
    layer = spec.layers[index]
    if layer.kind in ("compare", "constant"):
        return False
    if layer.kind == "embedding":
        return True
    if layer.kind == "input":
        return spec.inputs[index].dtype == "float"
    sources = layer.inputs[1:] if layer.kind == "where" else layer.inputs
    return any(_signal(spec, s) for s in sources)


def _from_softmax(spec: NetworkSpec, index: int) -> bool:
    while index >= 0 and spec.layers[index].kind in ("reshape", "permute", "take", "identity"):
        index = spec.layers[index].inputs[0]
    return index >= 0 and spec.layers[index].kind == "softmax"


def _layer_relevance(spec, index, xs, y, r, cp):
    layer = spec.layers[index]
    kind = layer.kind
    if kind == "dense":
        w = np.asarray(layer.weights["weight"], np.float64)
        b = layer.weights.get("bias")
        z = xs[0] @ w.T + (0.0 if b is None else np.asarray(b, np.float64))
        return [xs[0] * ((r / stab(z)) @ w)]  # sum_j x_i w_ji R_j / stab(z_j)
    if kind in ("layer_norm", "rms_norm"):
        x = xs[0]
        d = x.shape[-1]
        w, _ = _norm_weights(layer, d)
        _, inv_std = _normalize(layer, x)
        centre = np.eye(d) if kind == "rms_norm" else np.eye(d) - 1.0 / d
        # y = A x + b with the scale held fixed: A = diag(w * inv_std) C; contributions A_ji x_i
        ratio = r / stab(y)
        return [x * ((ratio * w * inv_std) @ centre)]
    if kind == "softmax":
        return [xs[0] * (r - y * r.sum(axis=-1, keepdims=True))]
    if kind in ("matmul", "mul", "div"):
        signal = [_signal(spec, s) for s in layer.inputs]
        if cp:
            pairs = zip(signal, layer.inputs, strict=True)
            signal = [s and not _from_softmax(spec, src) for s, src in pairs]
        if kind == "div":
            signal = [signal[0], False]
        count = sum(signal) or len(signal)
        shares = [(1.0 / count if (s or not any(signal)) else 0.0) for s in signal]
        ratio = r / stab(y)
        if kind == "matmul":
            a, b = xs
            # contributions c_ikj = A_ik B_kj of Z_ij
            ra = np.einsum("...ik,...kj,...ij->...ik", a, b, ratio)
            rb = np.einsum("...ik,...kj,...ij->...kj", a, b, ratio)
            return [shares[0] * ra, shares[1] * rb]
        a, b = _pad_rank(xs)
        if kind == "div":
            return [shares[0] * _sum_to(a / b * ratio, a.shape).reshape(xs[0].shape), 0 * xs[1]]
        product = a * b * ratio  # each factor's contribution is the whole product
        return [
            shares[k] * _sum_to(product, v.shape).reshape(xs[k].shape) for k, v in enumerate((a, b))
        ]
    if kind in ("add", "sub"):
        padded = _pad_rank(xs)
        sign = [1.0, -1.0] if kind == "sub" else [1.0] * len(xs)
        ratio = r / stab(y)
        return [
            _sum_to(s * v * ratio, v.shape).reshape(x.shape)
            for s, v, x in zip(sign, padded, xs, strict=True)
        ]
    if kind in ("reduce_sum", "reduce_mean"):
        ratio = r / stab(y)
        grad = _LAYERS[kind][1](layer, xs[0], ratio)  # routes each output's ratio to its inputs
        return [xs[0] * grad]
    if kind in ("batch_norm", "scale_shift"):
        forward = _LAYERS[kind][0]
        contribution = forward(layer, xs[0]) - forward(layer, np.zeros_like(xs[0]))  # x * scale
        return [contribution * (r / stab(y))]
    if kind == "embedding":
        return [r.sum(axis=-1)]
    if kind in ("compare", "constant"):
        return [np.zeros_like(x) for x in xs]
    if kind in ROUTING:
        return [_LAYERS[kind][1](layer, xs[0], r)]  # the transpose of the copy
    if kind == "where":
        cond = np.broadcast_to(_pad_rank(xs)[0] != 0, r.shape)
        return [
            np.zeros_like(xs[0]),
            _sum_to(np.where(cond, r, 0.0), _pad_rank(xs)[1].shape).reshape(xs[1].shape),
            _sum_to(np.where(cond, 0.0, r), _pad_rank(xs)[2].shape).reshape(xs[2].shape),
        ]
    return [r]  # element-wise activations: the identity rule


def relevance(spec: NetworkSpec, X: np.ndarray, target: int, cp: bool = False) -> np.ndarray:
    """Relevance at the network input (token relevance for a token model) of output ``target``,
    seeded with the output's value."""
    X = np.asarray(X, np.float64)
    outputs = _run_forward(spec, X)
    n = X.shape[0]
    rel: list[np.ndarray | None] = [None] * len(spec.layers)
    seed = np.zeros_like(outputs[-1]).reshape(n, -1)
    seed[:, target] = outputs[-1].reshape(n, -1)[:, target]
    rel[-1] = seed.reshape(outputs[-1].shape)
    at_input = np.zeros_like(X)
    for index in range(len(spec.layers) - 1, -1, -1):
        r = rel[index]
        if r is None:
            continue
        layer = spec.layers[index]
        xs = [X if s == -1 else outputs[s] for s in layer.inputs]
        for src, part in zip(
            layer.inputs, _layer_relevance(spec, index, xs, outputs[index], r, cp), strict=True
        ):
            if src == -1:
                at_input = at_input + part
            else:
                rel[src] = part if rel[src] is None else rel[src] + part
    return at_input
