"""Literal NumPy (float64) LRP: each rule for one dense layer from its definition, written with the
contributions z_ji = x_i w_ji (Montavon et al. 2019, "Layer-wise relevance propagation: an
overview"; bias and stabiliser handled as Zennit's rules do), and a network walk that applies one
rule per layer of a sequential ``NetworkSpec``.

stab(z) = z + s for z >= 0, z - s for z < 0.

Example
-------
>>> import numpy as np
>>> x, w, r = np.array([[1.0, 2.0]]), np.array([[1.0, 1.0]]), np.array([[3.0]])
>>> epsilon(x, w, np.zeros(1), r, 0.0)
array([[1., 2.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from glassbox.models.spec import NetworkSpec
from reference.network import _run_forward  # the literal forward pass of every layer


def stab(z: np.ndarray, s: float) -> np.ndarray:
    return np.where(z >= 0, z + s, z - s)


def _contributions(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """z[n, j, i] = x[n, i] * w[j, i]."""
    return x[:, None, :] * w[None, :, :]


def _share(z: np.ndarray, denom: np.ndarray, r: np.ndarray) -> np.ndarray:
    """R_i = sum_j z_ji / denom_j * R_j."""
    return np.einsum("nji,nj->ni", z, r / denom)


def epsilon(x, w, b, r, eps):
    z = _contributions(x, w)
    return _share(z, stab(z.sum(2) + b, eps), r)


def alpha_beta(x, w, b, r, alpha, beta, s=1e-6):
    z = _contributions(x, w)
    zp, zn = np.maximum(z, 0), np.minimum(z, 0)
    pos = _share(zp, stab(zp.sum(2) + np.maximum(b, 0), s), r)
    neg = _share(zn, stab(zn.sum(2) + np.minimum(b, 0), s), r)
    return alpha * pos - beta * neg


def zplus(x, w, b, r, s=1e-6):
    return alpha_beta(x, w, b, r, 1.0, 0.0, s)


def gamma(x, w, b, r, g, s=1e-6):
    """Generalised gamma: z_ji + g (z_ji)+ for outputs z_j > 0, z_ji + g (z_ji)- for z_j < 0."""
    z = _contributions(x, w)
    out = z.sum(2) + b
    up = z + g * np.maximum(z, 0)
    down = z + g * np.minimum(z, 0)
    r_up = np.where(out > 0, r, 0.0)
    r_down = np.where(out < 0, r, 0.0)
    return _share(up, stab(up.sum(2) + b + g * np.maximum(b, 0), s), r_up) + _share(
        down, stab(down.sum(2) + b + g * np.minimum(b, 0), s), r_down
    )


def zbox(x, w, b, r, low, high, s=1e-6):
    z = (
        _contributions(x, w)
        - low[None, None, :] * np.maximum(w, 0)
        - high[None, None, :] * np.minimum(w, 0)
    )
    return _share(z, stab(z.sum(2), s), r)


def wsquare(x, w, b, r, s=1e-6):
    z = np.broadcast_to(w**2, (x.shape[0], *w.shape))
    return _share(z, stab(z.sum(2) + b**2, s), r)


def flat(x, w, b, r, s=1e-6, mask=None):
    """``mask``: which (output, input) pairs are connected (a convolution's receptive fields)."""
    ones = np.ones(w.shape) if mask is None else mask.astype(np.float64)
    z = np.broadcast_to(ones, (x.shape[0], *w.shape))
    return _share(z, stab(z.sum(2), s), r)


DENSE_RULES = {
    "epsilon": lambda x, w, b, r, o: epsilon(x, w, b, r, o.get("epsilon", 1e-6)),
    "gamma": lambda x, w, b, r, o: gamma(
        x, w, b, r, o.get("gamma", 0.25), o.get("stabilizer", 1e-6)
    ),
    "alpha_beta": lambda x, w, b, r, o: alpha_beta(
        x, w, b, r, o["alpha"], o["beta"], o.get("stabilizer", 1e-6)
    ),
    "zplus": lambda x, w, b, r, o: zplus(x, w, b, r, o.get("stabilizer", 1e-6)),
    "zbox": lambda x, w, b, r, o: zbox(x, w, b, r, o["low"], o["high"], o.get("stabilizer", 1e-6)),
    "wsquare": lambda x, w, b, r, o: wsquare(x, w, b, r, o.get("stabilizer", 1e-6)),
    "flat": lambda x, w, b, r, o: flat(x, w, b, r, o.get("stabilizer", 1e-6)),
}


def lrp(
    spec: NetworkSpec,
    X: np.ndarray,
    targets: Sequence[int],
    rules: Sequence[tuple[str, dict[str, Any]] | None],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Input relevance and the relevance at every layer's output for a sequential dense spec.

    ``rules[k]`` is (name, options) or None (gradient) for layer k. Relevance starts at the target
    output as its value.
    """
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    outs = _run_forward(spec, X.reshape((len(X), *spec.input_shape)))
    outs = [o.reshape(len(X), -1) for o in outs]
    n = len(X)
    r = np.zeros_like(outs[-1])
    r[np.arange(n), targets] = outs[-1][np.arange(n), targets]
    at_layer: list[np.ndarray] = [None] * len(spec.layers)  # type: ignore[list-item]
    for k in range(len(spec.layers) - 1, -1, -1):
        layer = spec.layers[k]
        at_layer[k] = r
        x = X if layer.inputs[0] == -1 else outs[layer.inputs[0]]
        rule = rules[k]
        if layer.kind == "dense":
            w = np.asarray(layer.weights["weight"], dtype=np.float64)
            bias = layer.weights.get("bias")
            b = np.zeros(w.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
            name, options = rule if rule is not None else ("gradient", {})
            if name == "gradient":
                r = r @ w
            else:
                r = DENSE_RULES[name](x, w, b, r, options)
        elif layer.kind in ("flatten", "identity", "dropout") or (rule and rule[0] == "pass"):
            pass  # relevance crosses unchanged
        elif rule is not None and rule[0] == "norm":
            r = x * r / stab(outs[k], rule[1].get("stabilizer", 1e-6))
        else:
            raise NotImplementedError(f"reference lrp: {layer.kind} with {rule}")
    return r, at_layer


# ------------------------------------------------------------------------------------------------
# Graphs with convolutions, pooling, batch norm, add and concat
# ------------------------------------------------------------------------------------------------


def conv_as_dense(
    layer: Any, in_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A conv2d layer as the affine map it is: (W (out, in), b (out,), connected (out, in)),
    read off the reference convolution applied to the unit basis of its input."""
    from reference.network import _LAYERS

    forward = _LAYERS["conv2d"][0]
    d = int(np.prod(in_shape))
    basis = np.eye(d).reshape((d, *in_shape))
    no_bias = replace(layer, weights={"weight": layer.weights["weight"], "bias": None})
    w = forward(no_bias, basis).reshape(d, -1).T
    b = forward(layer, np.zeros((1, *in_shape))).reshape(-1)
    ones = replace(layer, weights={"weight": np.ones_like(layer.weights["weight"]), "bias": None})
    connected = forward(ones, basis).reshape(d, -1).T > 0
    return w, b, connected


def lrp_graph(
    spec: NetworkSpec,
    X: np.ndarray,
    targets: Sequence[int],
    rules: Sequence[tuple[str, dict[str, Any]] | None],
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``lrp`` for any spec: relevance at the input (shape of X) and at every layer's output.

    Affine layers take their rule (None: gradient); other layers: "pass", "norm" (x * J^T(R /
    stab(z)), the layer's own Jacobian), or None (the gradient: max pooling, concat, reshapes).
    """
    from reference.network import _LAYERS, _MULTI_INPUT

    X = np.asarray(X, dtype=np.float64)
    outs = _run_forward(spec, X)
    n = len(X)
    last = outs[-1].reshape(n, -1)
    seed = np.zeros_like(last)
    seed[np.arange(n), targets] = last[np.arange(n), targets]
    pending: dict[int, np.ndarray] = {len(spec.layers) - 1: seed.reshape(outs[-1].shape)}
    at_layer: list[np.ndarray] = [np.zeros_like(o) for o in outs]
    for k in range(len(spec.layers) - 1, -1, -1):
        layer = spec.layers[k]
        r = pending.pop(k, np.zeros_like(outs[k]))
        at_layer[k] = r
        xs = [X if i == -1 else outs[i] for i in layer.inputs]
        rule = rules[k]
        name, options = rule if rule is not None else ("gradient", {})
        if layer.kind in ("dense", "conv2d"):
            x = xs[0].reshape(n, -1)
            if layer.kind == "dense":
                w = np.asarray(layer.weights["weight"], dtype=np.float64)
                bias = layer.weights.get("bias")
                b = np.zeros(w.shape[0]) if bias is None else np.asarray(bias, np.float64)
                mask = None
            else:
                w, b, mask = conv_as_dense(layer, xs[0].shape[1:])
            r2 = r.reshape(n, -1)
            if name == "gradient":
                got = r2 @ w
            elif name == "flat":
                got = flat(x, w, b, r2, options.get("stabilizer", 1e-6), mask)
            else:
                got = DENSE_RULES[name](x, w, b, r2, options)
            r_in = [got.reshape(xs[0].shape)]
        elif name == "pass":
            r_in = [r.reshape(xs[0].shape)]
        elif layer.kind in _MULTI_INPUT:
            backward = _MULTI_INPUT[layer.kind][1]
            if name == "norm":
                g = r / stab(outs[k], options.get("stabilizer", 1e-6))
                r_in = [x * gx for x, gx in zip(xs, backward(layer, xs, g), strict=True)]
            else:
                r_in = backward(layer, xs, r)
        else:
            backward = _LAYERS[layer.kind][1]
            if name == "norm":
                g = r / stab(outs[k], options.get("stabilizer", 1e-6))
                r_in = [xs[0] * backward(layer, xs[0], g)]
            else:
                r_in = [backward(layer, xs[0], r)]
        for source, value in zip(layer.inputs, r_in, strict=True):
            if source == -1:
                pending[-1] = pending.get(-1, 0) + value
            else:
                pending[source] = pending.get(source, 0) + value
    return pending.get(-1, np.zeros_like(X)), at_layer
