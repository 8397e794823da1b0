"""Literal NumPy (float64) references for DeepLIFT (rescale rule), DeepLiftSHAP, guided backprop,
deconvnet and Grad-CAM, written from the papers' definitions on top of ``reference.network``.

Each method is the plain backward walk of ``reference.network`` with some layers' backward
replaced, one layer at a time:

- DeepLIFT rescale (Shrikumar et al., 2017): an element-wise non-linearity passes
  ``g * (y - y_ref) / (x - x_ref)``; where ``|x - x_ref| < 1e-10`` it passes the gradient
  (Captum's threshold). Softmax: those element-wise multipliers minus their mean over the row
  (Captum's rule). Max pooling: with ``m = max(y, y_ref)``, ``g * (m - y_ref)`` routed back
  through the input's switches plus ``g * (y - m)`` through the reference's switches, divided by
  ``x - x_ref`` (Captum's rule). Every other layer (linear, reshape, log-softmax) passes the
  gradient. Attribution ``(x - x_ref) * multiplier``.
- Guided backprop: ReLU passes ``g`` where ``x > 0`` and ``g > 0``, else 0.
- Deconvnet: ReLU passes ``max(g, 0)``.
- Grad-CAM: ``ReLU(sum_c mean_hw(dF/dA_c) * A_c)`` at a (C, H, W) layer.

Example
-------
>>> import numpy as np
>>> from glassbox.models.spec import NetworkSpec
>>> spec = NetworkSpec(input_shape=(1,))
>>> _ = spec.add("relu", "act")
>>> deeplift(spec, np.array([[2.0]]), np.array([[-1.0]]), 0)  # (2 - 0) / (2 + 1) * 3
array([[2.]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassbox.models.layers import kinds_where
from glassbox.models.spec import LayerSpec, NetworkSpec
from reference.network import _LAYERS, _run_forward, backward

EPS = 1e-10
RESCALED = set(kinds_where(deeplift="rescale"))  # DeepLIFT's rescale rule, per the layer table


def deeplift(
    spec: NetworkSpec,
    X: np.ndarray,
    B: np.ndarray,
    target: int | Sequence[int] | np.ndarray | None,
) -> np.ndarray:
    """DeepLIFT rescale attributions of each row of X against the same row of B."""
    X = np.asarray(X, dtype=np.float64)
    B = np.broadcast_to(np.asarray(B, dtype=np.float64), X.shape)
    ref_outputs = _run_forward(spec, B)

    def rescale(index: int, layer: LayerSpec, x: np.ndarray, y: np.ndarray, g: np.ndarray):
        if layer.kind not in RESCALED and layer.kind not in ("softmax", "max_pool2d"):
            return None
        src = layer.inputs[0]
        x_ref = B if src == -1 else ref_outputs[src]
        y_ref = ref_outputs[index]
        dx, dy = x - x_ref, y - y_ref
        grad = _LAYERS[layer.kind][1]
        plain = grad(layer, x, g)
        tiny = np.abs(dx) < EPS
        if layer.kind == "max_pool2d":
            y_max = np.maximum(y, y_ref)
            routed = grad(layer, x, g * (y_max - y_ref)) + grad(layer, x_ref, g * (y - y_max))
            return np.where(tiny, plain, routed / np.where(tiny, 1.0, dx))
        m = np.where(tiny, plain, g * dy / np.where(tiny, 1.0, dx))
        if layer.kind == "softmax":
            m = m - m.mean(axis=1, keepdims=True)
        return m

    multipliers, _, _ = backward(spec, X, target, rescale)
    return (X - B) * multipliers


def deeplift_shap(
    spec: NetworkSpec,
    X: np.ndarray,
    R: np.ndarray,
    target: int | Sequence[int] | np.ndarray | None,
) -> np.ndarray:
    """The mean over the rows r of R of deeplift(X, r)."""
    R = np.asarray(R, dtype=np.float64)
    return np.mean([deeplift(spec, X, R[j][None], target) for j in range(len(R))], axis=0)


def modified_relu(
    spec: NetworkSpec, X: np.ndarray, target: int | Sequence[int] | np.ndarray | None, mode: str
) -> np.ndarray:
    """Input gradient with ReLU's backward replaced: mode "guided" or "deconv"."""

    def relu_rule(index: int, layer: LayerSpec, x: np.ndarray, y: np.ndarray, g: np.ndarray):
        if layer.kind != "relu":
            return None
        if mode == "guided":
            return np.where((x > 0) & (g > 0), g, 0.0)
        return np.maximum(g, 0.0)

    return backward(spec, X, target, relu_rule)[0]


def grad_cam(
    spec: NetworkSpec, X: np.ndarray, target: int | Sequence[int] | np.ndarray | None, layer: str
) -> np.ndarray:
    """Grad-CAM maps (n, H, W) at the named (C, H, W) layer."""
    index = [lay.name for lay in spec.layers].index(layer)
    _, outputs, grads = backward(spec, X, target, stop=index)
    n = X.shape[0]
    acts = outputs[index].reshape(n, *outputs[index].shape[1:])
    g = grads[index].reshape(acts.shape)
    maps = np.zeros((n, acts.shape[2], acts.shape[3]))
    for r in range(n):
        for c in range(acts.shape[1]):
            maps[r] += g[r, c].mean() * acts[r, c]
    return np.maximum(maps, 0.0)


def resize(maps: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """(n, h, w) -> (n, *size), pixel by pixel: "nearest" takes source floor(i * h / H);
    "bilinear" (half-pixel centres, align_corners=False) samples at (i + 0.5) * h / H - 0.5,
    clamped at 0, between the two nearest source pixels."""
    n, h, w = maps.shape
    out = np.zeros((n, *size))
    for i in range(size[0]):
        for j in range(size[1]):
            if mode == "nearest":
                out[:, i, j] = maps[
                    :, min(int(i * h / size[0]), h - 1), min(int(j * w / size[1]), w - 1)
                ]
                continue
            sy = max((i + 0.5) * h / size[0] - 0.5, 0.0)
            sx = max((j + 0.5) * w / size[1] - 0.5, 0.0)
            y0, x0 = min(int(sy), h - 1), min(int(sx), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            ly, lx = sy - y0, sx - x0
            out[:, i, j] = (
                (1 - ly) * (1 - lx) * maps[:, y0, x0]
                + (1 - ly) * lx * maps[:, y0, x1]
                + ly * (1 - lx) * maps[:, y1, x0]
                + ly * lx * maps[:, y1, x1]
            )
    return out
