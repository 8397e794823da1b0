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
from collections.abc import Callable, Sequence
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


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    # scale * (x if x > 0 else alpha * (exp(x) - 1))
    return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def _selu_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * _SELU_SCALE * np.where(x > 0, 1.0, _SELU_ALPHA * np.exp(np.minimum(x, 0.0)))


def _tanh_softplus(x: np.ndarray) -> np.ndarray:
    return np.tanh(np.logaddexp(0.0, x))  # tanh(log(1 + e^x))


def _mish_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    # x * tanh(softplus(x))
    return x * _tanh_softplus(x)


def _mish_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # d/dx = tanh(sp(x)) + x * (1 - tanh^2(sp(x))) * sp'(x), sp'(x) = sigmoid(x)
    t = _tanh_softplus(x)
    return g * (t + x * (1.0 - t * t) * _sigmoid(x))


def _clamp_bounds(layer: LayerSpec) -> tuple[float, float]:
    return float(layer.params.get("min", -np.inf)), float(layer.params.get("max", np.inf))


def _clamp_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    lo, hi = _clamp_bounds(layer)
    return np.minimum(np.maximum(x, lo), hi)


def _clamp_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # torch.clamp: derivative 1 on the closed interval [min, max], 0 outside
    lo, hi = _clamp_bounds(layer)
    return g * np.where((x >= lo) & (x <= hi), 1.0, 0.0)


def _fake_quant_levels(layer: LayerSpec, x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """torch.fake_quantize_per_tensor_affine, zero point 0: rint(x * (1 / scale)) in float32,
    and the signed range of ``bits`` bits."""
    scale = np.float32(layer.params.get("scale", 1.0))
    bits = int(layer.params.get("bits", 8))
    q = np.rint(x.astype(np.float32) * (np.float32(1.0) / scale)).astype(np.float64)
    return q, -(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1


def _fake_quant_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    q, low, high = _fake_quant_levels(layer, x)
    return np.clip(q, low, high) * float(np.float32(layer.params.get("scale", 1.0)))


def _fake_quant_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # torch's straight-through estimator: the gradient passes where the level is in range
    q, low, high = _fake_quant_levels(layer, x)
    return g * np.where((q >= low) & (q <= high), 1.0, 0.0)


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, 0.0), 6.0)


def _hardsigmoid_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return _relu6(x + 3.0) / 6.0


def _hardsigmoid_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # 1/6 on the open interval (-3, 3), 0 outside (torch)
    return g * np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0)


def _hardswish_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return x * _relu6(x + 3.0) / 6.0


def _hardswish_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # (relu6(x + 3) + x * [-3 < x < 3]) / 6 = x / 3 + 1/2 inside; torch takes 0 at x = -3 and 1 at
    # x = 3
    return g * np.where(x <= -3.0, 0.0, np.where(x < 3.0, x / 3.0 + 0.5, 1.0))


def _softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _by_last_axis(function: Any) -> Any:
    """A reference written for rows (n, L) applied to every group along the last axis of
    (n, ..., L): softmax and log-softmax over the last per-sample axis."""

    def on_groups(layer: LayerSpec, x: np.ndarray, *g: np.ndarray) -> np.ndarray:
        rows = [a.reshape(-1, x.shape[-1]) for a in (x, *g)]
        return function(layer, *rows).reshape(x.shape)

    return on_groups


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


# --------------------------------------------------------------------------------------------
# Spatial layers on NCHW batches (n, C, H, W), written from their definitions: each output is a
# sum / max / mean over a window of the (padded) input; each backward scatters the output
# gradient back over the same windows.
# --------------------------------------------------------------------------------------------


def _pair(value: Any, default: tuple[int, int]) -> tuple[int, int]:
    if value is None:
        return default
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    a, b = (int(v) for v in value)
    return a, b


def _padding4(value: Any) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from an int, (ph, pw) or the full 4-tuple."""
    if value is None:
        return 0, 0, 0, 0
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 4  # type: ignore[return-value]
    items = [int(v) for v in value]
    if len(items) == 2:
        return items[0], items[1], items[0], items[1]
    top, left, bottom, right = items
    return top, left, bottom, right


def _out_size(size: int, before: int, after: int, k: int, s: int, d: int, ceil: bool) -> int:
    """torch's pooling_output_shape with padding (before, after)."""
    span = d * (k - 1) + 1
    numer = size + before + after - span + (s - 1 if ceil else 0)
    out = numer // s + 1
    if ceil and (out - 1) * s >= size + before:
        out -= 1
    return out


def _conv2d_geometry(layer: LayerSpec, x: np.ndarray) -> dict[str, Any]:
    weight = np.asarray(layer.weights["weight"], dtype=np.float64)  # (Cout, Cin/g, kh, kw)
    p = layer.params
    sh, sw = _pair(p.get("stride"), (1, 1))
    dh, dw = _pair(p.get("dilation"), (1, 1))
    top, left, bottom, right = _padding4(p.get("padding"))
    groups = int(p.get("groups", 1))
    _, _, h, w = x.shape
    kh, kw = weight.shape[2:]
    oh = _out_size(h, top, bottom, kh, sh, dh, False)
    ow = _out_size(w, left, right, kw, sw, dw, False)
    return dict(
        weight=weight,
        sh=sh,
        sw=sw,
        dh=dh,
        dw=dw,
        pad=(top, left, bottom, right),
        groups=groups,
        oh=oh,
        ow=ow,
    )


def _conv2d_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    # y[n, o, i, j] = b[o] + sum_{c in group(o), a, b} W[o, c, a, b] *
    #                 xpad[n, c, i*sh + a*dh, j*sw + b*dw]
    g = _conv2d_geometry(layer, x)
    weight, groups, oh, ow = g["weight"], g["groups"], g["oh"], g["ow"]
    top, left, bottom, right = g["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n = x.shape[0]
    cout, cin_g, kh, kw = weight.shape
    cout_g = cout // groups
    y = np.zeros((n, cout, oh, ow))
    for grp in range(groups):
        outs = slice(grp * cout_g, (grp + 1) * cout_g)
        ins = slice(grp * cin_g, (grp + 1) * cin_g)
        for a in range(kh):
            for b in range(kw):
                r0, c0 = a * g["dh"], b * g["dw"]
                patch = xp[
                    :,
                    ins,
                    r0 : r0 + g["sh"] * (oh - 1) + 1 : g["sh"],
                    c0 : c0 + g["sw"] * (ow - 1) + 1 : g["sw"],
                ]
                y[:, outs] += np.einsum("oc,nchw->nohw", weight[outs, :, a, b], patch)
    bias = layer.weights.get("bias")
    if bias is not None:
        y += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return y


def _conv2d_backward(layer: LayerSpec, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
    # dL/dxpad[n, c, i*sh + a*dh, j*sw + b*dw] += sum_o W[o, c, a, b] * gy[n, o, i, j]
    g = _conv2d_geometry(layer, x)
    weight, groups, oh, ow = g["weight"], g["groups"], g["oh"], g["ow"]
    top, left, bottom, right = g["pad"]
    n, _, h, w = x.shape
    cout, cin_g, kh, kw = weight.shape
    cout_g = cout // groups
    gp = np.zeros((n, x.shape[1], h + top + bottom, w + left + right))
    for grp in range(groups):
        outs = slice(grp * cout_g, (grp + 1) * cout_g)
        ins = slice(grp * cin_g, (grp + 1) * cin_g)
        for a in range(kh):
            for b in range(kw):
                r0, c0 = a * g["dh"], b * g["dw"]
                gp[
                    :,
                    ins,
                    r0 : r0 + g["sh"] * (oh - 1) + 1 : g["sh"],
                    c0 : c0 + g["sw"] * (ow - 1) + 1 : g["sw"],
                ] += np.einsum("oc,nohw->nchw", weight[outs, :, a, b], gy[:, outs])
    return gp[:, :, top : top + h, left : left + w]


def _pool_params(layer: LayerSpec) -> dict[str, Any]:
    p = layer.params
    kh, kw = _pair(p["kernel"], (1, 1))
    sh, sw = _pair(p.get("stride"), (kh, kw))  # torch: stride defaults to the kernel
    dh, dw = _pair(p.get("dilation"), (1, 1))
    return dict(
        kh=kh,
        kw=kw,
        sh=sh,
        sw=sw,
        dh=dh,
        dw=dw,
        pad=_padding4(p.get("padding")),
        ceil=bool(p.get("ceil_mode", False)),
        include_pad=bool(p.get("count_include_pad", True)),
    )


def _max_pool_windows(layer: LayerSpec, x: np.ndarray):  # type: ignore[no-untyped-def]
    """Yield (i, j, flat input indices of the window's valid taps in window order)."""
    q = _pool_params(layer)
    _, _, h, w = x.shape
    top, left, bottom, right = q["pad"]
    oh = _out_size(h, top, bottom, q["kh"], q["sh"], q["dh"], q["ceil"])
    ow = _out_size(w, left, right, q["kw"], q["sw"], q["dw"], q["ceil"])
    for i in range(oh):
        for j in range(ow):
            taps = []
            for a in range(q["kh"]):
                for b in range(q["kw"]):
                    r = i * q["sh"] - top + a * q["dh"]
                    c = j * q["sw"] - left + b * q["dw"]
                    if 0 <= r < h and 0 <= c < w:  # padding is -inf: never the max
                        taps.append(r * w + c)
            yield i, j, oh, ow, np.array(taps, dtype=np.int64)


def _max_pool2d_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    n, ch, h, w = x.shape
    flat = x.reshape(n, ch, h * w)
    y = None
    for i, j, oh, ow, taps in _max_pool_windows(layer, x):
        if y is None:
            y = np.full((n, ch, oh, ow), -np.inf)
        if taps.size:
            y[:, :, i, j] = flat[:, :, taps].max(axis=2)
    assert y is not None
    return y


def _max_pool2d_backward(layer: LayerSpec, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
    # the whole gradient of each window goes to its (first) maximum
    n, ch, h, w = x.shape
    flat = x.reshape(n, ch, h * w)
    gx = np.zeros((n, ch, h * w))
    rows, chans = np.meshgrid(np.arange(n), np.arange(ch), indexing="ij")
    for i, j, _, _, taps in _max_pool_windows(layer, x):
        if taps.size:
            winner = taps[flat[:, :, taps].argmax(axis=2)]
            np.add.at(gx, (rows, chans, winner), gy[:, :, i, j])
    return gx.reshape(x.shape)


def _avg_pool_windows(layer: LayerSpec, x: np.ndarray):  # type: ignore[no-untyped-def]
    """Yield (i, j, rows slice, cols slice, divisor) following torch's avg_pool2d."""
    q = _pool_params(layer)
    _, _, h, w = x.shape
    top, left, bottom, right = q["pad"]
    oh = _out_size(h, top, bottom, q["kh"], q["sh"], 1, q["ceil"])
    ow = _out_size(w, left, right, q["kw"], q["sw"], 1, q["ceil"])
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * q["sh"] - top, j * q["sw"] - left
            # the window is clipped to input + padding; the divisor counts padding only when
            # count_include_pad
            r1, c1 = min(r0 + q["kh"], h + bottom), min(c0 + q["kw"], w + right)
            pool_size = (r1 - r0) * (c1 - c0)
            r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h), min(c1, w)
            divisor = pool_size if q["include_pad"] else (r1 - r0) * (c1 - c0)
            yield i, j, oh, ow, slice(r0, r1), slice(c0, c1), divisor


def _avg_pool2d_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    y = None
    for i, j, oh, ow, rows, cols, divisor in _avg_pool_windows(layer, x):
        if y is None:
            y = np.zeros((x.shape[0], x.shape[1], oh, ow))
        window = x[:, :, rows, cols]
        if window.size:
            y[:, :, i, j] = window.sum(axis=(2, 3)) / divisor
    assert y is not None
    return y


def _avg_pool2d_backward(layer: LayerSpec, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
    gx = np.zeros_like(x)
    for i, j, _, _, rows, cols, divisor in _avg_pool_windows(layer, x):
        if x[:, :, rows, cols].size:
            gx[:, :, rows, cols] += (gy[:, :, i, j] / divisor)[:, :, None, None]
    return gx


def _adaptive_windows(layer: LayerSpec, x: np.ndarray):  # type: ignore[no-untyped-def]
    oh, ow = _pair(layer.params["output_size"], (1, 1))
    _, _, h, w = x.shape
    for i in range(oh):
        # torch: start = floor(i * H / oh), end = ceil((i + 1) * H / oh)
        r0, r1 = (i * h) // oh, -((-(i + 1) * h) // oh)
        for j in range(ow):
            c0, c1 = (j * w) // ow, -((-(j + 1) * w) // ow)
            yield i, j, oh, ow, slice(r0, r1), slice(c0, c1), (r1 - r0) * (c1 - c0)


def _adaptive_avg_pool2d_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    y = None
    for i, j, oh, ow, rows, cols, count in _adaptive_windows(layer, x):
        if y is None:
            y = np.zeros((x.shape[0], x.shape[1], oh, ow))
        y[:, :, i, j] = x[:, :, rows, cols].sum(axis=(2, 3)) / count
    assert y is not None
    return y


def _adaptive_avg_pool2d_backward(layer: LayerSpec, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
    gx = np.zeros_like(x)
    for i, j, _, _, rows, cols, count in _adaptive_windows(layer, x):
        gx[:, :, rows, cols] += (gy[:, :, i, j] / count)[:, :, None, None]
    return gx


def _channel_view(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A per-channel vector shaped to broadcast over the per-sample axis 0 of ``x``."""
    return np.asarray(v, dtype=np.float64).reshape((1, -1) + (1,) * (x.ndim - 2))


def _batch_norm_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    # y = x * scale[c] + shift[c]
    scale, shift = layer.weights["scale"], layer.weights["shift"]
    return x * _channel_view(scale, x) + _channel_view(shift, x)


def _batch_norm_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * _channel_view(layer.weights["scale"], x)


def _constant_view(layer: LayerSpec, key: str, default: float, x: np.ndarray) -> np.ndarray:
    """scale_shift's ``key`` shaped to broadcast over a batch ``x``: one value, one per channel
    (per-sample axis 0) or one per element of the sample."""
    value = layer.weights.get(key)
    if value is None:
        return np.array(default)
    v = np.asarray(value, dtype=np.float64).ravel()
    sample = x.shape[1:]
    if v.size == 1:
        return v.reshape(())
    if v.size == int(np.prod(sample)):
        return v.reshape(sample)
    if v.size == sample[0]:
        return _channel_view(v, x)
    raise ValueError(f"reference: scale_shift {key} has {v.size} values for samples {sample}")


def _scale_shift_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    # y = x * scale + shift, each broadcast over the sample
    return x * _constant_view(layer, "scale", 1.0, x) + _constant_view(layer, "shift", 0.0, x)


def _scale_shift_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * _constant_view(layer, "scale", 1.0, x)


def _reduce_axes(layer: LayerSpec, x: np.ndarray) -> tuple[int, ...]:
    """The batch axes of ``x`` that reduce_mean averages over."""
    rank = x.ndim - 1
    axes = layer.params.get("axes")
    if axes is None:
        return tuple(range(1, rank + 1))
    items = [axes] if np.ndim(axes) == 0 else list(axes)
    return tuple(int(a) % rank + 1 for a in items)


def _reduce_mean_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    axes = _reduce_axes(layer, x)
    y = x.mean(axis=axes, keepdims=bool(layer.params.get("keepdims", False)))
    return y.reshape(x.shape[0], -1) if y.ndim == 1 else y  # every axis reduced: shape (1,)


def _reduce_mean_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # every input element feeds its output with weight 1 / count
    axes = _reduce_axes(layer, x)
    count = int(np.prod([x.shape[a] for a in axes]))
    kept = g.reshape(x.mean(axis=axes, keepdims=True).shape)
    return np.broadcast_to(kept / count, x.shape).copy()


def _reduce_sum_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return _reduce_mean_forward(layer, x) * _reduced_count(layer, x)


def _reduce_sum_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return _reduce_mean_backward(layer, x, g) * _reduced_count(layer, x)


def _reduced_count(layer: LayerSpec, x: np.ndarray) -> int:
    return int(np.prod([x.shape[a] for a in _reduce_axes(layer, x)]))


def _reduce_max_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    axes = _reduce_axes(layer, x)
    y = x.max(axis=axes, keepdims=bool(layer.params.get("keepdims", False)))
    return y.reshape(x.shape[0], -1) if y.ndim == 1 else y


def _reduce_max_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # the gradient of each maximum goes to the first element (row-major) holding it
    axes = _reduce_axes(layer, x)
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.moveaxis(x, kept + list(axes), range(x.ndim))
    flat = moved.reshape(*[x.shape[a] for a in kept], -1)
    first = flat.argmax(axis=-1)
    out = np.zeros_like(flat)
    np.put_along_axis(out, first[..., None], g.reshape(first.shape)[..., None], axis=-1)
    out = out.reshape(moved.shape)
    return np.moveaxis(out, range(x.ndim), kept + list(axes))


def _input_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    shape = tuple(int(d) for d in layer.params["shape"])
    offset = int(layer.params["offset"])
    return x[:, offset : offset + int(np.prod(shape))].reshape(x.shape[0], *shape)


def _input_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    offset = int(layer.params["offset"])
    out[:, offset : offset + g[0].size] = g.reshape(g.shape[0], -1)
    return out


def _embedding_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    weight = np.asarray(layer.weights["weight"], dtype=np.float64)
    ids = x.astype(np.int64)
    if (ids != x).any() or (ids < 0).any() or (ids >= weight.shape[0]).any():
        raise ValueError(f"reference: embedding {layer.name!r} got ids outside the table")
    return weight[ids]


def _no_gradient(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return np.zeros_like(x)  # ids, masks and constants take no gradient


def _take_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    indices = np.asarray(layer.params["indices"], dtype=np.int64).ravel()
    return np.take(x, indices, axis=int(layer.params["axis"]) % (x.ndim - 1) + 1)


def _take_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    axis = int(layer.params["axis"]) % (x.ndim - 1) + 1
    indices = np.asarray(layer.params["indices"], dtype=np.int64).ravel() % x.shape[axis]
    out = np.zeros_like(x)
    for k, i in enumerate(indices):  # repeated indices add up
        target = [slice(None)] * x.ndim
        source = [slice(None)] * x.ndim
        target[axis], source[axis] = i, k
        out[tuple(target)] += g[tuple(source)]
    return out


def _constant_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    shape = tuple(int(d) for d in layer.params["shape"])
    value = np.asarray(layer.weights["value"], dtype=np.float64).reshape(shape)
    return np.broadcast_to(value, (x.shape[0], *shape)).copy()


def _normalize(layer: LayerSpec, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x_hat, 1 / sqrt(var + eps)) over the last axis (no centring for rms_norm)."""
    rms = layer.kind == "rms_norm"
    eps = float(layer.params.get("eps", 1e-6 if rms else 1e-5))
    centred = x if rms else x - x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + eps)
    return centred * inv_std, inv_std


def _norm_weights(layer: LayerSpec, dim: int) -> tuple[np.ndarray, np.ndarray]:
    weight, bias = layer.weights.get("weight"), layer.weights.get("bias")
    w = np.ones(dim) if weight is None else np.asarray(weight, dtype=np.float64)
    b = np.zeros(dim) if bias is None else np.asarray(bias, dtype=np.float64)
    return w, b


def _norm_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    w, b = _norm_weights(layer, x.shape[-1])
    return _normalize(layer, x)[0] * w + b


def _norm_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # the Jacobian of each position, built from the definition and applied: d y_i / d x_j
    w, _ = _norm_weights(layer, x.shape[-1])
    d = x.shape[-1]
    out = np.empty_like(x)
    rows, grads = x.reshape(-1, d), g.reshape(-1, d)
    flat = out.reshape(-1, d)
    for p in range(rows.shape[0]):
        xp = rows[p]
        centre = np.eye(d) if layer.kind == "rms_norm" else np.eye(d) - 1.0 / d
        c = centre @ xp  # the centred values
        eps = float(layer.params.get("eps", 1e-6 if layer.kind == "rms_norm" else 1e-5))
        s = np.sqrt((c**2).mean() + eps)
        # y = w * c / s: dy/dx = diag(w) (C / s - c (c^T C) / (d s^3))
        jac = np.diag(w) @ (centre / s - np.outer(c, c @ centre) / (d * s**3))
        flat[p] = grads[p] @ jac
    return out


def _compare_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    ops = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal}
    ops |= {"gt": np.greater, "ge": np.greater_equal}
    return ops[layer.params["op"]](x, float(layer.params["value"])).astype(np.float64)


def _recurrent_direction(layer: LayerSpec, x: np.ndarray, suffix: str) -> np.ndarray:
    """torch's LSTM / GRU equations, step by step, for one direction ("" or "_reverse")."""
    w_ih = np.asarray(layer.weights["weight_ih" + suffix], np.float64)
    w_hh = np.asarray(layer.weights["weight_hh" + suffix], np.float64)
    b_ih = layer.weights.get("bias_ih" + suffix)
    b_hh = layer.weights.get("bias_hh" + suffix)
    b_ih = np.zeros(w_ih.shape[0]) if b_ih is None else np.asarray(b_ih, np.float64)
    b_hh = np.zeros(w_hh.shape[0]) if b_hh is None else np.asarray(b_hh, np.float64)
    n, steps, _ = x.shape
    hidden = w_hh.shape[1]
    h, c = np.zeros((n, hidden)), np.zeros((n, hidden))
    out = np.zeros((n, steps, hidden))
    order = range(steps - 1, -1, -1) if suffix else range(steps)
    for t in order:
        xi, hh = x[:, t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if layer.kind == "lstm":
            i, f, g, o = np.split(xi + hh, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:
            xr, xz, xn = np.split(xi, 3, axis=1)
            hr, hz, hn = np.split(hh, 3, axis=1)
            r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
            h = (1 - z) * np.tanh(xn + r * hn) + z * h
        out[:, t] = h
    return out


def _recurrent_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    parts = [_recurrent_direction(layer, x, "")]
    if layer.weights.get("weight_ih_reverse") is not None:
        parts.append(_recurrent_direction(layer, x, "_reverse"))
    return np.concatenate(parts, axis=2)


def _recurrent_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    # the vector-Jacobian product by central differences of the literal forward pass: exact up
    # to O(h^2) (float64, h = 1e-6), independent of any hand-derived BPTT
    out = np.zeros_like(x)
    step = 1e-6
    for index in np.ndindex(*x.shape[1:]):
        bump = np.zeros_like(x)
        bump[(slice(None), *index)] = step
        up, down = _recurrent_forward(layer, x + bump), _recurrent_forward(layer, x - bump)
        out[(slice(None), *index)] = ((up - down) * g).reshape(x.shape[0], -1).sum(1) / (2 * step)
    return out


def _reshape_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], *[int(v) for v in layer.params["shape"]])


def _reshape_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g.reshape(x.shape)


def _permute_forward(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    return x.transpose(0, *[int(a) + 1 for a in layer.params["perm"]])


def _permute_backward(layer: LayerSpec, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    perm = [0, *[int(a) + 1 for a in layer.params["perm"]]]
    return g.transpose(np.argsort(perm))


# Multi-input layers: forward(layer, xs) -> y, backward(layer, xs, g) -> one gradient per input.


def _add_forward(layer: LayerSpec, xs: list[np.ndarray]) -> np.ndarray:
    if any(x.shape != xs[0].shape for x in xs):
        raise ValueError(f"reference: add {layer.name!r} got shapes {[x.shape for x in xs]}")
    return np.sum(xs, axis=0)


def _add_backward(layer: LayerSpec, xs: list[np.ndarray], g: np.ndarray) -> list[np.ndarray]:
    return [g.copy() for _ in xs]  # d(sum)/d(each input) = identity


def _concat_axis(layer: LayerSpec, x: np.ndarray) -> int:
    axis = int(layer.params.get("axis", 0))
    return (axis % (x.ndim - 1)) + 1  # per-sample axis -> batch axis


def _concat_forward(layer: LayerSpec, xs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(xs, axis=_concat_axis(layer, xs[0]))


def _concat_backward(layer: LayerSpec, xs: list[np.ndarray], g: np.ndarray) -> list[np.ndarray]:
    axis = _concat_axis(layer, xs[0])
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return list(np.split(g, bounds, axis=axis))


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The gradient of an input broadcast to g's shape: summed over its repeated axes."""
    while g.ndim > len(shape):
        g = g.sum(axis=1)  # a missing leading per-sample axis (the batch axis stays)
    axes = tuple(a for a in range(1, g.ndim) if shape[a] == 1 and g.shape[a] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _pad_rank(xs: list[np.ndarray]) -> list[np.ndarray]:
    """Per-sample shapes aligned on the right: missing leading axes of extent 1."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[0], *([1] * (rank - x.ndim)), *x.shape[1:]) for x in xs]


def _binary(op: str) -> tuple[Any, Any]:
    def forward(layer: LayerSpec, xs: list[np.ndarray]) -> np.ndarray:
        a, b = _pad_rank(xs)
        if op == "div":
            return a / b
        return {"add": np.add, "sub": np.subtract, "mul": np.multiply}[op](a, b)

    def backward(layer: LayerSpec, xs: list[np.ndarray], g: np.ndarray) -> list[np.ndarray]:
        a, b = _pad_rank(xs)
        # d(a op b)/da and d(a op b)/db, evaluated for this op only
        da, db = {
            "add": lambda: (g, g),
            "sub": lambda: (g, -g),
            "mul": lambda: (g * b, g * a),
            "div": lambda: (g / b, -g * a / b**2),
        }[op]()
        return [
            _unbroadcast(da, a.shape).reshape(xs[0].shape),
            _unbroadcast(db, b.shape).reshape(xs[1].shape),
        ]

    return forward, backward


def _add_any_forward(layer: LayerSpec, xs: list[np.ndarray]) -> np.ndarray:
    return _add_forward(layer, xs) if len(xs) != 2 else _binary("add")[0](layer, xs)


def _add_any_backward(layer: LayerSpec, xs: list[np.ndarray], g: np.ndarray) -> list:
    return _add_backward(layer, xs, g) if len(xs) != 2 else _binary("add")[1](layer, xs, g)


def _matmul_forward(layer: LayerSpec, xs: list[np.ndarray]) -> np.ndarray:
    return xs[0] @ xs[1]


def _matmul_backward(layer: LayerSpec, xs: list[np.ndarray], g: np.ndarray) -> list[np.ndarray]:
    a, b = xs
    return [g @ np.swapaxes(b, -1, -2), np.swapaxes(a, -1, -2) @ g]


def _where_forward(layer: LayerSpec, xs: list[np.ndarray]) -> np.ndarray:
    c, a, b = _pad_rank(xs)
    return np.where(c != 0, a, b)


def _where_backward(layer: LayerSpec, xs: list[np.ndarray], g: np.ndarray) -> list[np.ndarray]:
    c, a, b = _pad_rank(xs)
    chosen = np.broadcast_to(c != 0, g.shape)
    return [
        np.zeros_like(xs[0]),
        _unbroadcast(np.where(chosen, g, 0.0), a.shape).reshape(xs[1].shape),
        _unbroadcast(np.where(chosen, 0.0, g), b.shape).reshape(xs[2].shape),
    ]


_MULTI_INPUT: dict[str, tuple[Any, Any]] = {
    "add": (_add_any_forward, _add_any_backward),
    "concat": (_concat_forward, _concat_backward),
    "sub": _binary("sub"),
    "mul": _binary("mul"),
    "div": _binary("div"),
    "matmul": (_matmul_forward, _matmul_backward),
    "where": (_where_forward, _where_backward),
}


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
    "selu": (_selu_forward, _selu_backward),
    "mish": (_mish_forward, _mish_backward),
    "clamp": (_clamp_forward, _clamp_backward),
    "fake_quant": (_fake_quant_forward, _fake_quant_backward),
    "hardsigmoid": (_hardsigmoid_forward, _hardsigmoid_backward),
    "hardswish": (_hardswish_forward, _hardswish_backward),
    "softmax": (_by_last_axis(_softmax_forward), _by_last_axis(_softmax_backward)),
    "log_softmax": (_by_last_axis(_log_softmax_forward), _by_last_axis(_log_softmax_backward)),
    "flatten": (_flatten_forward, _flatten_backward),
    "dropout": (_identity_forward, _identity_backward),
    "identity": (_identity_forward, _identity_backward),
    "conv2d": (_conv2d_forward, _conv2d_backward),
    "max_pool2d": (_max_pool2d_forward, _max_pool2d_backward),
    "avg_pool2d": (_avg_pool2d_forward, _avg_pool2d_backward),
    "adaptive_avg_pool2d": (_adaptive_avg_pool2d_forward, _adaptive_avg_pool2d_backward),
    "reduce_mean": (_reduce_mean_forward, _reduce_mean_backward),
    "reduce_sum": (_reduce_sum_forward, _reduce_sum_backward),
    "reduce_max": (_reduce_max_forward, _reduce_max_backward),
    "input": (_input_forward, _input_backward),
    "embedding": (_embedding_forward, _no_gradient),
    "take": (_take_forward, _take_backward),
    "constant": (_constant_forward, _no_gradient),
    "layer_norm": (_norm_forward, _norm_backward),
    "rms_norm": (_norm_forward, _norm_backward),
    "compare": (_compare_forward, _no_gradient),
    "lstm": (_recurrent_forward, _recurrent_backward),
    "gru": (_recurrent_forward, _recurrent_backward),
    "batch_norm": (_batch_norm_forward, _batch_norm_backward),
    "scale_shift": (_scale_shift_forward, _scale_shift_backward),
    "reshape": (_reshape_forward, _reshape_backward),
    "permute": (_permute_forward, _permute_backward),
}


def _inputs(spec_input: np.ndarray, outputs: list[np.ndarray], layer: LayerSpec) -> list:
    return [spec_input if src == -1 else outputs[src] for src in layer.inputs]


def _run_forward(
    spec: NetworkSpec, X: np.ndarray, substitute: tuple[int, np.ndarray] | None = None
) -> list[np.ndarray]:
    """Return the output of every layer (the network output is the last one); ``substitute``
    = (index, values): that layer outputs ``values`` instead (layer attribution's points)."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1:] != tuple(spec.input_shape):
        raise ValueError(f"reference: X has shape {X.shape}, spec wants (n, *{spec.input_shape})")
    outputs: list[np.ndarray] = []
    for index, layer in enumerate(spec.layers):
        if substitute is not None and index == substitute[0]:
            outputs.append(np.asarray(substitute[1], dtype=np.float64))
            continue
        xs = _inputs(X, outputs, layer)
        if layer.kind in _MULTI_INPUT:
            outputs.append(_MULTI_INPUT[layer.kind][0](layer, xs))
        elif layer.kind in _LAYERS:
            if len(xs) != 1:
                raise NotImplementedError(f"reference: layer {layer.name!r} reads {layer.inputs}")
            outputs.append(_LAYERS[layer.kind][0](layer, xs[0]))
        else:
            raise NotImplementedError(f"reference: layer kind {layer.kind!r}")
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


# override(index, layer, x, y, g) -> gradient for the layer's input, or None for the plain rule
Override = Callable[[int, LayerSpec, np.ndarray, np.ndarray, np.ndarray], "np.ndarray | None"]


def backward(
    spec: NetworkSpec,
    X: np.ndarray,
    target: int | Sequence[int] | np.ndarray | None,
    override: Override | None = None,
    stop: int | None = None,
    substitute: tuple[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray | None]]:
    """The backward walk: (input gradient, every layer's output, gradient w.r.t. each output).

    Backpropagation by hand: seed the output with a one-hot row per sample, then walk the layers
    in reverse, each layer turning the gradient of its output into the gradient of its input and
    adding it to whichever layer (or the network input) it read from. ``override`` may replace a
    single-input layer's backward (DeepLIFT, guided backprop); layers at or before ``stop`` are
    not walked. ``substitute`` as for the forward pass (walk with ``stop`` at that layer).
    """
    X = np.asarray(X, dtype=np.float64)
    outputs = _run_forward(spec, X, substitute)
    n, k = outputs[-1].shape[0], outputs[-1][0].size  # outputs of any shape, flat targets
    rows = target_rows(target, n, k)
    grads: list[np.ndarray | None] = [None] * len(spec.layers)
    seed = np.zeros((n, k))
    seed[np.arange(n), rows] = 1.0
    grads[-1] = seed.reshape(outputs[-1].shape)
    grad_input = np.zeros_like(X)
    for index in range(len(spec.layers) - 1, -1, -1):
        g = grads[index]
        if g is None or (stop is not None and index <= stop):
            continue  # this layer does not reach the output, or lies before the stop
        layer = spec.layers[index]
        xs = _inputs(X, outputs, layer)
        if layer.kind in _MULTI_INPUT:  # add, concat: linear, always the gradient
            gxs = _MULTI_INPUT[layer.kind][1](layer, xs, g)
        else:
            gx = override(index, layer, xs[0], outputs[index], g) if override else None
            gxs = [_LAYERS[layer.kind][1](layer, xs[0], g) if gx is None else gx]
        # a node read by several consumers (or twice by one) gets the sum of their gradients
        for src, gx in zip(layer.inputs, gxs, strict=True):
            if src == -1:
                grad_input = grad_input + gx
            else:
                grads[src] = gx if grads[src] is None else grads[src] + gx
    return grad_input, outputs, grads


def gradient(
    spec: NetworkSpec, X: np.ndarray, target: int | Sequence[int] | np.ndarray | None
) -> np.ndarray:
    """``d output[row, target[row]] / d X[row]`` for every row, float64 of the shape of ``X``."""
    return backward(spec, X, target)[0]
